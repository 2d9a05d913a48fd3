"""The session secret: from the environment, else generated once and kept private."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from sijcare.web.settings import SECRET_FILE, Settings, secret_key


def test_a_generated_secret_is_kept_private_and_reused(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SIJCARE_SECRET_KEY", raising=False)
    first = secret_key(tmp_path / "data")
    assert len(first) >= 48
    assert stat.S_IMODE((tmp_path / "data" / SECRET_FILE).stat().st_mode) == 0o600
    assert secret_key(tmp_path / "data") == first  # a restart keeps everyone signed in


def test_the_environment_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SIJCARE_SECRET_KEY", "from the environment")
    monkeypatch.setenv("SIJCARE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("SIJCARE_SECURE_COOKIES", "1")
    monkeypatch.setenv("SIJCARE_IDLE_MINUTES", "10")
    settings = Settings.from_env("sqlite://")
    assert settings.secret_key == b"from the environment"
    assert settings.secure_cookies and settings.idle_timeout_seconds == 600
    assert not (tmp_path / SECRET_FILE).exists()
