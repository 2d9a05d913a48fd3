"""`sijcare user add` and what `sijcare serve` prepares before it starts serving."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner, Result

from sijcare.cli import app
from sijcare.store import Clinic, Patient, User, session_factory
from sijcare.web.auth.passwords import verify_password
from sijcare.web.serving import prepare


def sijcare(*args: str, stdin: str = "") -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sijcare.cli", *args], input=stdin,
                          capture_output=True, text=True, check=False)


def test_user_add_reads_the_password_from_stdin(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'users.db'}"
    done = sijcare("user", "add", "Dr.Who", "--role", "clinician", "--clinic", "North Clinic",
                   "--password-stdin", "--url", url, stdin="a long enough password\n")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["created clinic 'North Clinic'",
                                        "added dr.who (clinician)"]
    engine, _ = prepare(url, demo=False)
    with session_factory(engine)() as db:
        user = db.scalar(select(User).where(User.username == "dr.who"))
        assert verify_password(user.password_hash, "a long enough password")
        assert [m.clinic_id for m in user.memberships] == [
            db.scalar(select(Clinic.id).where(Clinic.name == "North Clinic"))]


def test_user_add_refuses_bad_input_in_one_sentence(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'users.db'}"
    role = sijcare("user", "add", "someone", "--role", "doctor", "--password-stdin",
                   "--url", url, stdin="a long enough password\n")
    assert role.returncode == 2
    assert role.stderr.startswith("error: --role: 'doctor' is not a role; choose one of:")
    short = sijcare("user", "add", "someone", "--role", "staff", "--password-stdin",
                    "--url", url, stdin="short\n")
    assert (short.returncode, short.stderr.strip()) == (
        2, "error: password: use at least 12 characters")
    sijcare("user", "add", "taken", "--role", "staff", "--password-stdin", "--url", url,
            stdin="a long enough password\n")
    again = sijcare("user", "add", "taken", "--role", "staff", "--password-stdin",
                    "--url", url, stdin="a long enough password\n")
    assert (again.returncode, again.stderr.strip()) == (2, "error: username: 'taken' is taken")
    assert "Traceback" not in role.stderr + short.stderr + again.stderr


def test_serve_prepares_first_sign_ins_once(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'serve.db'}"
    engine, created = prepare(url, demo=True)
    assert [(name, role) for name, role, _ in created] == [("admin", "admin"),
                                                          ("clinician", "clinician")]
    with session_factory(engine)() as db:
        clinician = db.scalar(select(User).where(User.username == "clinician"))
        assert verify_password(clinician.password_hash, created[1][2])
        demo_patients = db.scalars(select(Patient)).all()
        assert demo_patients and all(p.demo for p in demo_patients)
    _, again = prepare(url, demo=True)
    assert again == []  # passwords are shown once, never reset


def test_serve_rejects_an_unusable_database_url() -> None:
    done = sijcare("serve", "--url", "nosuchdb://nowhere")
    assert done.returncode == 2
    assert done.stderr.startswith("error: nosuchdb://nowhere: NoSuchModuleError")
    assert "Traceback" not in done.stderr


def serve_in_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *args: str,
                     secret: str | None = None) -> tuple[Result, list[dict]]:
    """`sijcare serve` with uvicorn.run replaced: the exit and what uvicorn was asked to do."""
    import uvicorn

    runs: list[dict] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: runs.append({**options,
                                                                            "app": app}))
    monkeypatch.setenv("SIJCARE_DATA_DIR", str(tmp_path / "data"))
    if secret is None:
        monkeypatch.delenv("SIJCARE_SECRET_KEY", raising=False)
    else:
        monkeypatch.setenv("SIJCARE_SECRET_KEY", secret)
    url = f"sqlite:///{tmp_path / 'serve.db'}"
    return CliRunner().invoke(app, ["serve", "--url", url, *args]), runs


def test_serve_believes_no_forwarded_headers_and_logs_no_urls(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    done, runs = serve_in_process(tmp_path, monkeypatch)
    assert done.exit_code == 0, done.output
    [options] = runs
    assert options["proxy_headers"] is False  # X-Forwarded-For would fake client addresses
    assert options["access_log"] is False  # URLs carry searches by patient name
    assert "forwarded_allow_ips" not in options


def test_serve_behind_a_named_proxy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    done, runs = serve_in_process(tmp_path, monkeypatch, "--forwarded-allow-ips", "127.0.0.1")
    assert done.exit_code == 0, done.output
    [options] = runs
    assert options["proxy_headers"] is True
    assert options["forwarded_allow_ips"] == "127.0.0.1"


@pytest.mark.parametrize("secret", ["", "short", "x" * 31])
def test_serve_refuses_a_short_secret_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                          secret: str) -> None:
    done, runs = serve_in_process(tmp_path, monkeypatch, secret=secret)
    assert done.exit_code == 2 and runs == []
    assert done.output.startswith(f"error: SIJCARE_SECRET_KEY is {len(secret)} bytes long; "
                                  "use at least 32")
    assert "first sign-in" not in done.output  # refused before anything was prepared


def test_serve_warns_when_emails_would_link_to_this_computer(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Unset, emails link to the address served, port included; the warning says which."""
    monkeypatch.delenv("SIJCARE_PUBLIC_URL", raising=False)
    done, runs = serve_in_process(tmp_path, monkeypatch, "--port", "9123")
    assert done.exit_code == 0, done.output
    assert ("SIJCARE_PUBLIC_URL is not set, so links in emails to patients point to "
            "http://127.0.0.1:9123;") in done.output
    assert runs[0]["app"].state.settings.public_url == "http://127.0.0.1:9123"
    monkeypatch.setenv("SIJCARE_PUBLIC_URL", "https://clinic.example.org/")
    done, runs = serve_in_process(tmp_path, monkeypatch, "--port", "9123")
    assert "SIJCARE_PUBLIC_URL is not set" not in done.output
    assert runs[0]["app"].state.settings.public_url == "https://clinic.example.org"
