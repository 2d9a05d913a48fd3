"""The session secret: from the environment, else generated once and kept private."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from sijcare.web.settings import (
    MIN_SECRET_BYTES,
    SECRET_FILE,
    SecretKeyError,
    Settings,
    secret_key,
)


def test_a_generated_secret_is_kept_private_and_reused(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SIJCARE_SECRET_KEY", raising=False)
    first = secret_key(tmp_path / "data")
    assert len(first) >= 48
    assert stat.S_IMODE((tmp_path / "data" / SECRET_FILE).stat().st_mode) == 0o600
    assert secret_key(tmp_path / "data") == first  # a restart keeps everyone signed in


def test_the_environment_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SIJCARE_SECRET_KEY", "from the environment, 32 bytes or more")
    monkeypatch.setenv("SIJCARE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("SIJCARE_SECURE_COOKIES", "1")
    monkeypatch.setenv("SIJCARE_IDLE_MINUTES", "10")
    settings = Settings.from_env("sqlite://")
    assert settings.secret_key == b"from the environment, 32 bytes or more"
    assert settings.secure_cookies and settings.idle_timeout_seconds == 600
    assert not (tmp_path / SECRET_FILE).exists()


@pytest.mark.parametrize("kept", ["", "\n", "short-key"])
def test_an_empty_or_short_secret_file_is_replaced(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch,
                                                   kept: str) -> None:
    monkeypatch.delenv("SIJCARE_SECRET_KEY", raising=False)
    (tmp_path / SECRET_FILE).write_text(kept)
    key = secret_key(tmp_path)
    assert len(key) >= MIN_SECRET_BYTES == 32
    assert (tmp_path / SECRET_FILE).read_text().strip().encode() == key
    assert stat.S_IMODE((tmp_path / SECRET_FILE).stat().st_mode) == 0o600
    assert secret_key(tmp_path) == key
    assert [p.name for p in tmp_path.iterdir()] == [SECRET_FILE]


@pytest.mark.parametrize("configured", ["", "   ", "x" * 31])
def test_a_short_secret_in_the_environment_is_refused(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch,
                                                      configured: str) -> None:
    monkeypatch.setenv("SIJCARE_SECRET_KEY", configured)
    with pytest.raises(SecretKeyError, match="use at least 32 random bytes"):
        secret_key(tmp_path)
    assert not (tmp_path / SECRET_FILE).exists()
    monkeypatch.setenv("SIJCARE_SECRET_KEY", "x" * 32)
    assert secret_key(tmp_path) == b"x" * 32


def test_public_site_settings_come_from_the_environment(monkeypatch) -> None:
    from sijcare.web.settings import public_site_from_env

    monkeypatch.setenv("SIJCARE_CLINIC_NAME", "North Clinic")
    monkeypatch.setenv("SIJCARE_CLINIC_PHONE", "555 0100")
    monkeypatch.setenv("SIJCARE_PUBLIC_URL", "https://clinic.example/")
    monkeypatch.setenv("SIJCARE_SMTP_HOST", "mail.example")
    monkeypatch.setenv("SIJCARE_SMTP_SECURITY", "starttls")
    monkeypatch.setenv("SIJCARE_SMTP_USERNAME", "desk")
    monkeypatch.setenv("SIJCARE_SMTP_PASSWORD", "secret")
    monkeypatch.setenv("SIJCARE_SMTP_FROM", "desk@clinic.example")
    found = public_site_from_env()
    smtp = found["smtp"]
    assert (found["clinic_name"], found["clinic_phone"], found["public_url"]) == (
        "North Clinic", "555 0100", "https://clinic.example")
    assert (smtp.host, smtp.port, smtp.security, smtp.username, smtp.password, smtp.sender) == (
        "mail.example", 587, "starttls", "desk", "secret", "desk@clinic.example")
    monkeypatch.setenv("SIJCARE_SMTP_SECURITY", "tls")
    assert public_site_from_env()["smtp"].port == 465
    monkeypatch.setenv("SIJCARE_SMTP_PORT", "2525")
    assert public_site_from_env()["smtp"].port == 2525


@pytest.mark.parametrize(("name", "value", "message"), [
    ("SIJCARE_SMTP_PORT", "smtp", "SIJCARE_SMTP_PORT must be a port number"),
    ("SIJCARE_SMTP_PORT", "70000", "1-65535"),
    ("SIJCARE_SMTP_SECURITY", "ssl", "must be one of none, starttls, tls"),
])
def test_bad_smtp_settings_are_named(monkeypatch, name: str, value: str, message: str) -> None:
    from sijcare.web.settings import public_site_from_env

    monkeypatch.setenv(name, value)
    with pytest.raises(ValueError, match=message):
        public_site_from_env()
