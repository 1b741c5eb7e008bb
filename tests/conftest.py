"""Integration tests are marked by folder, so `-m "not integration"` gives a quick run."""

from __future__ import annotations

from typing import Any

import pytest


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/integration/" in str(item.path).replace("\\", "/"):
            item.add_marker(pytest.mark.integration)


@pytest.fixture(autouse=True)
def frames_match_their_schema(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every frame the gateway sends a test's WebSocket is checked against the published
    `StreamFrame` schema as it is received (tests/frames.py)."""
    from starlette.testclient import WebSocketTestSession
    from websockets.asyncio.client import ClientConnection

    from tests.frames import check_frame

    received = ClientConnection.recv

    async def recv(self: ClientConnection, *args: Any, **kwargs: Any) -> Any:
        message = await received(self, *args, **kwargs)
        check_frame(message)
        return message

    receive = WebSocketTestSession.receive

    def receive_checked(self: WebSocketTestSession) -> Any:
        message = receive(self)
        if message.get("type") == "websocket.send" and message.get("text") is not None:
            check_frame(message["text"])
        return message

    monkeypatch.setattr(ClientConnection, "recv", recv)
    monkeypatch.setattr(WebSocketTestSession, "receive", receive_checked)
