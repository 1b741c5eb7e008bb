"""A WebSocket cannot be held open for free: its first message has a deadline and limits.

Each refused first message gets one `error` frame and the policy-violation close
(1008), never 1011 with a traceback in the log, and nothing reaches the Agent Server.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from starlette.testclient import WebSocketTestSession

from gateway.api.app import create_app
from gateway.settings import Settings
from tests.api.conftest import FakeAgent

EXECUTE = "/api/workflow/execute/stream"


@pytest.fixture
def quick(settings: Settings) -> Settings:
    return settings.model_copy(update={"ws_first_message_seconds": 0.3})


@pytest.fixture
def anonymous(client: TestClient, quick: Settings) -> Iterator[TestClient]:
    """The same app with a short deadline and no credential on the handshake."""
    app = create_app(quick, agent=client.app.state.agent)  # type: ignore[attr-defined]
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture
def alice(client: TestClient, quick: Settings) -> Iterator[TestClient]:
    app = create_app(quick, agent=client.app.state.agent)  # type: ignore[attr-defined]
    with TestClient(
        app, raise_server_exceptions=False, headers=dict(client.headers)
    ) as test_client:
        yield test_client


def refused(ws: WebSocketTestSession) -> dict[str, Any]:
    """The error frame, after checking the socket is then closed with 1008."""
    frame: dict[str, Any] = ws.receive_json()
    closing = ws.receive()
    assert closing == {"type": "websocket.close", "code": 1008, "reason": ""}, closing
    return frame


@pytest.fixture(autouse=True)
def no_tracebacks(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    caplog.set_level(logging.WARNING)
    yield
    assert not [r for r in caplog.records if r.exc_info], "a traceback reached the log"


@pytest.mark.parametrize("app", ["anonymous", "alice"])
def test_a_silent_socket_is_closed_at_the_deadline(
    app: str, request: pytest.FixtureRequest, agent: FakeAgent
) -> None:
    test_client: TestClient = request.getfixturevalue(app)
    with test_client.websocket_connect(EXECUTE) as ws:
        frame = refused(ws)
    assert frame["type"] == "error" and frame["error"] == "timeout"
    assert "0.3 s" in frame["message"]
    assert agent.requests == []


@pytest.mark.parametrize("app", ["anonymous", "alice"])
def test_a_binary_first_frame_is_refused(
    app: str, request: pytest.FixtureRequest, agent: FakeAgent
) -> None:
    test_client: TestClient = request.getfixturevalue(app)
    with test_client.websocket_connect(EXECUTE) as ws:
        ws.send_bytes(b'{"type": "auth"}')
        frame = refused(ws)
    assert frame["error"] == "bad_request" and "binary" in frame["message"]
    assert agent.requests == []


@pytest.mark.parametrize("text", ["{oops", "[" * 9_000 + "]" * 9_000, '"\\ud800', "9" * 5_000])
@pytest.mark.parametrize("app", ["anonymous", "alice"])
def test_an_unparsable_first_frame_is_refused(
    app: str, text: str, request: pytest.FixtureRequest, agent: FakeAgent
) -> None:
    test_client: TestClient = request.getfixturevalue(app)
    with test_client.websocket_connect(EXECUTE) as ws:
        ws.send_text(text)
        frame = refused(ws)
    assert frame["error"] == "validation_error"
    assert agent.requests == []


@pytest.mark.parametrize("app", ["anonymous", "alice"])
def test_a_first_frame_over_the_body_limit_is_refused(
    app: str, request: pytest.FixtureRequest, quick: Settings, agent: FakeAgent
) -> None:
    test_client: TestClient = request.getfixturevalue(app)
    with test_client.websocket_connect(EXECUTE) as ws:
        ws.send_text('{"type": "auth", "api_key": "' + "k" * quick.max_body_bytes + '"}')
        frame = refused(ws)
    assert frame["error"] == "payload_too_large"
    assert agent.requests == []


def test_auth_by_first_message_then_the_workflow_within_its_own_deadline(
    anonymous: TestClient, agent: FakeAgent
) -> None:
    from tests.api.conftest import ALICE_KEY

    with anonymous.websocket_connect(EXECUTE) as ws:
        ws.send_json({"type": "auth", "api_key": ALICE_KEY})
        frame = refused(ws)  # authenticated, then silent: the workflow message times out
    assert frame["error"] == "timeout"
    assert agent.requests == []


@pytest.mark.parametrize(
    "credential",
    ["\ud800", "caf\u00e9-key-0123456789", "x" * 5000, "a.b.c", "\x00key"],
)
def test_an_odd_credential_in_the_auth_message_is_a_clean_refusal(
    anonymous: TestClient, credential: str, agent: FakeAgent
) -> None:
    for field in ("api_key", "token"):
        with anonymous.websocket_connect(EXECUTE) as ws:
            ws.send_text(json.dumps({"type": "auth", field: credential}))
            frame = refused(ws)
        assert frame["error"] == "unauthorized", frame
    assert agent.requests == []
