"""Gateway authentication: API keys, JWT (HS256 and RS256/JWKS), WebSocket, fail-closed."""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi.testclient import TestClient
from pydantic import ValidationError
from starlette.websockets import WebSocketDisconnect

from gateway.agent.client import Actor, connect
from gateway.api.app import create_app
from gateway.settings import Settings
from tests.api.conftest import ALICE_KEY, BOB_KEY, SERVICE_KEY, FakeAgent

THREAD = "01a204ae-a289-7477-8bfd-4c37e06457e1"
NOW = "2026-01-01T00:00:00+00:00"
THREAD_BODY = {
    "thread_id": THREAD,
    "created_at": NOW,
    "updated_at": NOW,
    "metadata": {},
    "status": "idle",
    "values": {},
    "interrupts": {},
}


def answer_thread(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, json=THREAD_BODY)


def app_client(settings: Settings, agent: FakeAgent, **headers: str) -> TestClient:
    app = create_app(settings, agent=connect(settings, httpx.MockTransport(agent)))
    return TestClient(app, raise_server_exceptions=False, headers=headers)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/threads"),
        ("GET", f"/api/threads/{THREAD}"),
        ("POST", "/api/workflow/execute"),
        ("POST", f"/api/threads/{THREAD}/pause"),
        ("GET", "/api/threads/failed"),
        ("POST", "/api/threads/prune"),
    ],
)
def test_missing_or_wrong_credentials_are_401_and_reach_nothing(
    settings: Settings, agent: FakeAgent, method: str, path: str
):
    for headers in ({}, {"X-API-Key": "guess"}, {"Authorization": "Bearer guess"}):
        with app_client(settings, agent, **headers) as client:
            response = client.request(method, path, json={})
        assert response.status_code == 401, (headers, response.text)
        assert response.json()["error"] == "unauthorized"
    assert agent.requests == []


def test_probes_need_no_credentials(settings: Settings, agent: FakeAgent):
    agent.handler = lambda _r: httpx.Response(200, json={"ok": True})
    with app_client(settings, agent) as client:
        assert client.get("/healthz").status_code == 200
        assert client.get("/readyz").status_code == 200
    assert "x-threadgate-user" not in agent.requests[0].headers


def test_the_user_is_forwarded_from_the_credential_never_from_the_caller(
    settings: Settings, agent: FakeAgent
):
    agent.handler = answer_thread
    spoof = {"X-API-Key": BOB_KEY, "x-threadgate-user": "alice", "x-threadgate-service-key": "x"}
    with app_client(settings, agent, **spoof) as client:
        assert client.get(f"/api/threads/{THREAD}").status_code == 200
        # A query parameter the operation does not declare is refused, not passed on.
        refused = client.get(f"/api/threads/{THREAD}?owner=alice")
        assert refused.status_code == 422
        assert refused.json()["details"][0]["field"] == "query.owner"
    assert len(agent.requests) == 1
    sent = agent.requests[0].headers
    assert sent["x-threadgate-user"] == "bob"
    assert sent["x-threadgate-service-key"] == SERVICE_KEY


def test_hashed_and_plain_api_keys_both_work(settings: Settings, agent: FakeAgent):
    agent.handler = answer_thread
    for key, user in ((ALICE_KEY, "alice"), (BOB_KEY, "bob")):
        with app_client(settings, agent, **{"X-API-Key": key}) as client:
            assert client.get(f"/api/threads/{THREAD}").status_code == 200
        assert agent.requests[-1].headers["x-threadgate-user"] == user
    with app_client(settings, agent, Authorization=f"Bearer {BOB_KEY}") as client:
        assert client.get(f"/api/threads/{THREAD}").status_code == 200


def hs256(settings: Settings) -> Settings:
    return Settings(
        _env_file=None,
        service_key=SERVICE_KEY,
        jwt_hs256_secret="s" * 32,
        jwt_issuer="https://idp",
        jwt_audience="threadgate",
    )


def token(
    key: Any, alg: str = "HS256", headers: dict[str, str] | None = None, **claims: Any
) -> str:
    body = {
        "sub": "carol",
        "iss": "https://idp",
        "aud": "threadgate",
        "exp": int(time.time()) + 60,
        **claims,
    }
    body = {k: v for k, v in body.items() if v is not None}
    return jwt.encode(body, key, algorithm=alg, headers=headers)


@pytest.mark.parametrize(
    ("claims", "accepted"),
    [
        ({}, True),
        ({"exp": int(time.time()) - 10}, False),
        ({"exp": None}, False),
        ({"aud": "someone-else"}, False),
        ({"iss": "https://evil"}, False),
        ({"sub": None}, False),
    ],
)
def test_hs256_tokens_check_signature_issuer_audience_and_expiry(
    settings: Settings, agent: FakeAgent, claims: dict[str, Any], accepted: bool
):
    agent.handler = answer_thread
    bearer = token("s" * 32, **claims)
    with app_client(hs256(settings), agent, Authorization=f"Bearer {bearer}") as client:
        response = client.get(f"/api/threads/{THREAD}")
    assert (response.status_code == 200) is accepted, response.text
    if accepted:
        assert agent.requests[-1].headers["x-threadgate-user"] == "carol"
    else:
        assert bearer not in response.text


def test_hs256_rejects_a_forged_signature_and_alg_none(settings: Settings, agent: FakeAgent):
    for bearer in (token("x" * 32), token(None, alg="none")):
        with app_client(hs256(settings), agent, Authorization=f"Bearer {bearer}") as client:
            assert client.get(f"/api/threads/{THREAD}").status_code == 401
    assert agent.requests == []


def test_rs256_tokens_verify_against_a_jwks_file(
    settings: Settings, agent: FakeAgent, tmp_path: Path
):
    ours, theirs = (rsa.generate_private_key(public_exponent=65537, key_size=2048) for _ in "ab")
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(ours.public_key()))
    jwks = tmp_path / "jwks.json"
    jwks.write_text(json.dumps({"keys": [{**jwk, "kid": "k1", "use": "sig", "alg": "RS256"}]}))
    rs256 = Settings(
        _env_file=None,
        service_key=SERVICE_KEY,
        jwt_public_key_file=jwks,
        jwt_audience="threadgate",
        jwt_issuer="https://idp",
    )
    agent.handler = answer_thread
    good = token(ours, alg="RS256", headers={"kid": "k1"})
    forged = token(theirs, alg="RS256", headers={"kid": "k1"})
    with app_client(rs256, agent, Authorization=f"Bearer {good}") as client:
        assert client.get(f"/api/threads/{THREAD}").status_code == 200
    with app_client(rs256, agent, Authorization=f"Bearer {forged}") as client:
        assert client.get(f"/api/threads/{THREAD}").status_code == 401


def test_websocket_without_credentials_closes_with_policy_violation(
    settings: Settings, agent: FakeAgent
):
    with (
        app_client(settings, agent) as client,
        client.websocket_connect("/api/workflow/execute/stream") as ws,
    ):
        ws.send_json({"type": "auth", "api_key": "guess"})
        assert ws.receive_json()["error"] == "unauthorized"
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_json()
    assert closed.value.code == 1008
    assert agent.requests == []


def test_websocket_authenticates_by_first_message(settings: Settings, agent: FakeAgent):
    with (
        app_client(settings, agent) as client,
        client.websocket_connect("/api/workflow/execute/stream") as ws,
    ):
        ws.send_json({"type": "auth", "api_key": ALICE_KEY})
        ws.send_json({"workflow_json": {"steps": []}})
        frame = ws.receive_json()
    assert frame["error"] == "invalid_workflow"  # got past authentication to the parser


def test_a_token_for_the_reserved_system_identity_is_refused(settings: Settings, agent: FakeAgent):
    bearer = token("s" * 32, sub="threadgate:system")
    with app_client(hs256(settings), agent, Authorization=f"Bearer {bearer}") as client:
        response = client.get("/api/threads")
    assert response.status_code == 401 and "reserved" in response.json()["message"]
    assert agent.requests == []
    with pytest.raises(ValidationError, match="reserved"):
        Settings(_env_file=None, service_key=SERVICE_KEY, api_keys={"threadgate:system": "k"})


def test_no_authentication_configured_fails_at_start():
    with pytest.raises(ValidationError, match="no authentication configured"):
        Settings(_env_file=None, service_key=SERVICE_KEY)
    with pytest.raises(ValidationError, match="THREADGATE_SERVICE_KEY must be at least 16"):
        Settings(_env_file=None, service_key="short", auth_disabled=True)


def test_dev_mode_is_announced_and_acts_as_dev(agent: FakeAgent, caplog: pytest.LogCaptureFixture):
    dev = Settings(_env_file=None, service_key=SERVICE_KEY, auth_disabled=True)
    agent.handler = answer_thread
    with caplog.at_level(logging.WARNING), app_client(dev, agent) as client:
        assert client.get(f"/api/threads/{THREAD}").status_code == 200
    assert "AUTHENTICATION IS OFF" in caplog.text
    assert agent.requests[0].headers["x-threadgate-user"] == "dev"


def test_secrets_never_reach_logs_or_bodies(
    settings: Settings, agent: FakeAgent, caplog: pytest.LogCaptureFixture
):
    with (
        caplog.at_level(logging.DEBUG),
        app_client(settings, agent, **{"X-API-Key": "leaky-key"}) as c,
    ):
        body = c.get("/api/threads").text
    agent.handler = lambda _r: httpx.Response(500, json={"detail": "boom"})
    with (
        caplog.at_level(logging.DEBUG),
        app_client(settings, agent, **{"X-API-Key": ALICE_KEY}) as c,
    ):
        body += c.get("/api/threads").text
    for secret in ("leaky-key", ALICE_KEY, SERVICE_KEY):
        assert secret not in caplog.text and secret not in body
    assert "SecretStr('**********')" in repr(settings) or "**********" in repr(settings)


async def test_the_agent_client_refuses_a_call_that_names_no_user(
    settings: Settings, agent: FakeAgent
):
    from gateway.agent.client import as_user

    agent.handler = lambda _request: httpx.Response(200, json={})
    client = connect(settings, transport=httpx.MockTransport(agent))
    try:
        with pytest.raises(RuntimeError, match="for nobody"):
            await client.threads.search()
        assert agent.requests == []
        await client.threads.search(headers=as_user(Actor("alice")))
        assert [r.headers["x-threadgate-user"] for r in agent.requests] == ["alice"]
        assert agent.requests[0].headers["x-threadgate-service-key"] == SERVICE_KEY
    finally:
        await client.aclose()
