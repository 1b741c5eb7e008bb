"""A `THREADGATE_API_KEYS` entry no key could ever match stops start-up, on both sides,
with one line naming the user and never the key."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys

import pytest
from pydantic import ValidationError

from agents import identity as auth
from agents.credentials import CredentialSettings, CredentialVerifier, InvalidCredentials
from gateway.main import config_problems
from gateway.settings import Settings

KEY = "alice-key-0123456789"
HEX = hashlib.sha256(KEY.encode()).hexdigest()

UNMATCHABLE = {
    # `printf %s "$KEY" | sha256sum` prints this, and people paste all of it.
    "sha256sum's whole line": ("sha256:" + HEX + "  -", "not 64 hex digits"),
    "63 hex digits": ("sha256:" + HEX[:63], "not 64 hex digits"),
    "not hex": ("sha256:" + "g" * 64, "not 64 hex digits"),
    "nothing after the prefix": ("sha256:", "not 64 hex digits"),
    "an empty key": ("", "is empty"),
}


@pytest.fixture(autouse=True)
def no_threadgate_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [n for n in os.environ if n.startswith("THREADGATE_")]:
        monkeypatch.delenv(name)


@pytest.mark.parametrize(("stored", "reason"), UNMATCHABLE.values(), ids=UNMATCHABLE.keys())
def test_a_key_that_cannot_match_is_refused_naming_the_user(stored: str, reason: str):
    with pytest.raises(ValidationError) as refused:
        CredentialSettings(api_keys={"bob": "bob-key-0123456789", "alice": stored})
    [error] = refused.value.errors()
    assert "user 'alice'" in error["msg"] and reason in error["msg"]
    if secret := stored.removeprefix("sha256:"):
        assert secret not in str(refused.value)
    assert "bob-key-0123456789" not in str(refused.value)  # nor any other user's key


def test_the_refusal_never_prints_a_key():
    # Short enough that pydantic would print the whole input, keys and all.
    with pytest.raises(ValidationError) as refused:
        CredentialSettings(api_keys={"bob": "b0b-key", "alice": ""})
    assert "b0b-key" not in str(refused.value)


def test_the_gateway_refuses_it_in_one_line(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("THREADGATE_SERVICE_KEY", "s" * 16)
    monkeypatch.setenv("THREADGATE_API_KEYS", json.dumps({"alice": "sha256:" + HEX + "  -"}))
    with pytest.raises(ValidationError) as refused:
        Settings(_env_file=None)
    [line] = config_problems(refused.value)
    assert line.startswith("THREADGATE_API_KEYS: the key of user 'alice' is 'sha256:'")
    assert HEX not in line


def test_the_agent_servers_auth_refuses_it(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("THREADGATE_API_KEYS", json.dumps({"alice": "sha256:" + HEX[:63]}))
    auth._verifier.cache_clear()
    try:
        with pytest.raises(ValidationError, match="user 'alice'"):
            auth._verifier()
    finally:
        auth._verifier.cache_clear()


@pytest.mark.parametrize(
    "stored", ["sha256:" + HEX, "sha256:" + HEX.upper(), KEY], ids=["hashed", "HASHED", "plain"]
)
async def test_a_good_key_is_accepted_and_admits_its_user(stored: str):
    verifier = CredentialVerifier(CredentialSettings(api_keys={"alice": stored}))
    assert await verifier.verify(KEY, None) == "alice"
    with pytest.raises(InvalidCredentials):
        await verifier.verify(KEY + "x", None)


def test_the_agent_server_stops_loading_its_auth_on_a_key_that_never_matches():
    """The Agent Server imports `agents.auth` at start-up: the import itself refuses."""
    env = {
        **os.environ,
        "THREADGATE_API_KEYS": json.dumps({"alice": "sha256:" + "a" * 64 + "  -"}),
    }
    loaded = subprocess.run(
        [sys.executable, "-c", "import agents.auth"], env=env, capture_output=True, text=True
    )
    assert loaded.returncode != 0
    assert "Threadgate auth settings: THREADGATE_API_KEYS: the key of user 'alice'" in loaded.stderr
