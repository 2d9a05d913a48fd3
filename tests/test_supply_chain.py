"""The lock files pin every package with its hashes, cover what pyproject.toml asks for, and
are what the two README commands install; the SBOM is written from the runtime lock."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from tests.conftest import REPO

PIN = re.compile(r"^([A-Za-z0-9_.\-]+)==([^\s\\]+) \\$")


def name(text: str) -> str:
    return re.sub(r"[-_.]+", "-", text).lower()


def locked(lock: str) -> dict[str, str]:
    """Package -> version; asserts every pin carries at least one sha256 hash."""
    lines = (REPO / lock).read_text().splitlines()
    pins = {}
    for number, line in enumerate(lines):
        if line and not line.startswith((" ", "#")):
            match = PIN.match(line)
            assert match, f"{lock}: not an exact pin: {line}"
            assert lines[number + 1].strip().startswith("--hash=sha256:"), line
            pins[name(match[1])] = match[2]
    return pins


def required(extra: str | None = None) -> set[str]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    specs = project["optional-dependencies"][extra] if extra else project["dependencies"]
    return {name(re.split(r"[<>=!~\[; ]", spec, maxsplit=1)[0]) for spec in specs}


def test_every_dependency_is_locked_with_hashes() -> None:
    runtime, dev = locked("requirements.lock"), locked("requirements-dev.lock")
    assert required() <= set(runtime)
    assert required() | required("dev") <= set(dev)
    assert {p: v for p, v in dev.items() if p in runtime} == runtime  # the same versions
    assert "setuptools" in runtime  # the editable install builds with the locked one


def test_the_readme_commands_install_from_the_locks() -> None:
    install = (REPO / "scripts" / "install-locked").read_text()
    assert '--require-hashes -r "$lock"' in install and "--no-deps --no-build-isolation -e ." \
        in install
    assert "scripts/install-locked requirements.lock" in (REPO / "scripts/start").read_text()
    test = (REPO / "scripts" / "test").read_text()
    assert "scripts/install-locked requirements-dev.lock" in test
    assert "scripts/audit-deps" in test and "pip install" not in test


TOOL = Path(sys.executable).parent / "cyclonedx-py"  # in the venv, from requirements-dev.lock


@pytest.mark.skipif(not TOOL.exists(), reason="cyclonedx-py is not installed (scripts/test "
                                              "installs it)")
def test_the_sbom_lists_every_locked_package_with_its_hashes(tmp_path: Path) -> None:
    out = tmp_path / "sbom.cdx.json"
    subprocess.run([str(TOOL), "requirements", "--pyproject", str(REPO / "pyproject.toml"),
                    "--of", "JSON", "-o", str(out), str(REPO / "requirements.lock")],
                   check=True, capture_output=True, timeout=120)
    bom = json.loads(out.read_text())
    assert (bom["bomFormat"], bom["metadata"]["component"]["name"]) == ("CycloneDX", "sijcare")
    listed = {name(c["name"]): c for c in bom["components"]}
    assert {p: c["version"] for p, c in listed.items()} == locked("requirements.lock")
    fastapi = listed["fastapi"]["externalReferences"][0]["hashes"]
    assert fastapi and all(h["alg"] == "SHA-256" for h in fastapi)
