"""`make up` gives both processes the same settings, from the environment or `.env`."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tools import launcher


@pytest.fixture(autouse=True)
def clean(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    for name in list(os.environ):
        if name.startswith("THREADGATE_"):
            monkeypatch.delenv(name)
    monkeypatch.setattr(launcher, "ROOT", tmp_path)
    return tmp_path


def test_users_in_dot_env_reach_both_processes_and_keep_auth_on(clean: Path):
    (clean / ".env").write_text('THREADGATE_API_KEYS={"alice": "alice-key-0123456789"}\n')
    env = launcher.local_env()
    assert env["THREADGATE_API_KEYS"] == '{"alice": "alice-key-0123456789"}'
    assert "THREADGATE_AUTH_DISABLED" not in env
    assert len(env["THREADGATE_SERVICE_KEY"]) >= 16


def test_the_environment_wins_over_dot_env(clean: Path, monkeypatch: pytest.MonkeyPatch):
    (clean / ".env").write_text("THREADGATE_SERVICE_KEY=from-the-file-0123456789\n")
    monkeypatch.setenv("THREADGATE_SERVICE_KEY", "from-the-shell-0123456789")
    monkeypatch.setenv("THREADGATE_JWT_JWKS_URL", "http://127.0.0.1:1/jwks")
    env = launcher.local_env()
    assert "THREADGATE_SERVICE_KEY" not in env  # the shell's value is inherited as it is
    assert "THREADGATE_AUTH_DISABLED" not in env


def test_no_users_anywhere_means_auth_off_and_said(clean: Path):
    assert launcher.local_env()["THREADGATE_AUTH_DISABLED"] == "true"


def test_an_explicit_auth_disabled_false_is_kept(clean: Path):
    """Said on purpose: not turned into `true` (the gateway then refuses to start
    without users, saying so)."""
    (clean / ".env").write_text("THREADGATE_AUTH_DISABLED=false\n")
    assert launcher.local_env()["THREADGATE_AUTH_DISABLED"] == "false"
