"""The house's floors, checked by import-linter: arrows point down, rooms do not reach into
their siblings, and a new upward import fails the test command (shown here on a copy)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LINT = Path(sys.executable).with_name("lint-imports")
# What every web room shares; anything else at web/ top level belongs in a room.
SHARED_WEB = {"__init__", "app", "serving", "settings", "errors", "templating", "deps",
              "strict", "audit", "as_of", "assessing", "timezones", "forms", "submissions",
              "problems"}


def _lint(tree: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(LINT), "--no-cache", "--config", str(tree / "pyproject.toml")],
                          cwd=tree, env={"PYTHONPATH": str(tree / "src"), "PATH": "/usr/bin"},
                          capture_output=True, text=True, timeout=120)


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "src" / "sijcare", tmp_path / "src" / "sijcare",
                    ignore=shutil.ignore_patterns("__pycache__", "templates", "static",
                                                  "content", "*.yaml"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def test_the_tree_keeps_every_contract(copy: Path) -> None:
    result = _lint(copy)
    assert result.returncode == 0, result.stdout
    assert result.stdout.count("KEPT") >= 4


@pytest.mark.parametrize(("module", "upward", "contract"), [
    ("engine/facts.py", "import sijcare.store.models", "Floors"),
    ("store/cases.py", "import sijcare.web.deps", "Floors"),
    ("model/case.py", "import sijcare.engine", "Floors"),
    ("web/public/page.py", "import sijcare.web.clinic.presenters", "Web rooms"),
    ("web/api/health.py", "import sijcare.web.clinic.episodes", "Web rooms"),
    ("web/templating.py", "import sijcare.web.clinic", "shares never reaches up"),
    ("interop/fhir/base.py", "import httpx", "FHIR mapping is pure"),
])
def test_an_upward_import_breaks_a_contract(copy: Path, module: str, upward: str,
                                            contract: str) -> None:
    path = copy / "src" / "sijcare" / module
    path.write_text(path.read_text() + f"\n{upward}  # noqa\n")
    result = _lint(copy)
    assert result.returncode != 0
    broken = result.stdout.split("Broken contracts", 1)[-1]
    assert contract in broken, result.stdout


def test_web_top_level_holds_only_what_every_room_shares() -> None:
    web = ROOT / "src" / "sijcare" / "web"
    loose = {p.stem for p in web.glob("*.py")} - SHARED_WEB
    assert not loose, f"move into a room: {sorted(loose)}"
    assert not (web / "routers").exists()
    rooms = {p.name for p in web.iterdir() if (p / "__init__.py").exists()}
    assert {"clinic", "admin", "auth", "public", "api", "fhir", "cds_hooks", "smart",
            "middleware"} <= rooms


def test_templates_mirror_the_rooms() -> None:
    templates = ROOT / "src" / "sijcare" / "web" / "templates"
    loose = {p.name for p in templates.glob("*.html")}
    assert loose == {"base.html", "error.html", "macros.html"}, loose
    assert {p.name for p in templates.iterdir() if p.is_dir()} <= {
        "clinic", "admin", "auth", "public", "api"}


def test_the_readme_layout_matches_the_tree() -> None:
    readme = (ROOT / "README.md").read_text()
    block = readme.split("## Layout", 1)[1].split("```", 2)[1]
    listed = {line.split()[0].rstrip("/") for line in block.splitlines()
              if line.startswith(("src/", "benchmarks", "docs"))}
    assert all((ROOT / path).is_dir() for path in listed), sorted(
        p for p in listed if not (ROOT / p).is_dir())
    packages = {f"src/sijcare/{p.parent.relative_to(ROOT / 'src' / 'sijcare')}"
                for p in (ROOT / "src" / "sijcare").glob("*/__init__.py")}
    rooms = {f"src/sijcare/web/{p.parent.name}"
             for p in (ROOT / "src" / "sijcare" / "web").glob("*/__init__.py")}
    unlisted = {p for p in packages | rooms
                if not any(path == p or path.startswith(p + "/") for path in listed)}
    assert not unlisted, sorted(unlisted)
