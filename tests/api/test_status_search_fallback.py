"""The status search's fallback after the in-memory runtime's 500: the connections the
two failed calls leave closed are passed, not reported as an unreachable server."""

from __future__ import annotations

import json

import httpx
from fastapi.testclient import TestClient

from tests.api.conftest import FakeAgent

THREAD = {
    "thread_id": "01a204ae-a289-7477-8bfd-4c37e06457e1",
    "status": "idle",
    "values": {"phase": "done", "plan": [], "completed": []},
    "metadata": {},
    "created_at": "2026-01-01T00:00:00Z",
    "updated_at": "2026-01-01T00:00:00Z",
}


def test_two_closed_connections_after_the_500s_are_passed(client: TestClient, agent: FakeAgent):
    closed = 2  # the search's and the count's

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal closed
        body = json.loads(request.content or b"{}")
        if "values" in body:  # the values-filtered search and count: runtime-inmem fails
            return httpx.Response(500, json={"detail": "boom"})
        if closed:
            closed -= 1
            raise httpx.ReadError("closed by the server", request=request)
        return httpx.Response(200, json=[THREAD])

    agent.handler = handler
    found = client.get("/api/threads", params={"status": "completed"})
    assert found.status_code == 200, found.text
    assert [t["thread_id"] for t in found.json()["threads"]] == [THREAD["thread_id"]]
    assert closed == 0
