"""The README's table of error statuses, provoked row by row against the app."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import FakeAgent

README = (Path(__file__).parents[2] / "README.md").read_text()
ROWS = re.findall(r"^\| (\d{3}) \| `(\w+)` \|", README, re.MULTILINE)
THREAD = "01a204ae-a289-7477-8bfd-4c37e06457e1"
WORKFLOW = {"steps": [{"id": "a", "instructions": "do a"}]}


def answer(status: int, body: Any = None) -> Callable[[httpx.Request], httpx.Response]:
    return lambda _request: httpx.Response(status, json=body or {"detail": "x"})


def raise_(exc: Exception) -> Callable[[httpx.Request], httpx.Response]:
    def handler(request: httpx.Request) -> httpx.Response:
        raise exc

    return handler


def idle(_request: httpx.Request) -> httpx.Response:
    return httpx.Response(
        200,
        json={
            "thread_id": THREAD,
            "status": "idle",
            "values": {"phase": "done", "plan": [], "completed": []},
            "metadata": {},
            "created_at": "2026-01-01T00:00:00Z",
            "updated_at": "2026-01-01T00:00:00Z",
        },
    )


def saved_workflow(request: httpx.Request) -> httpx.Response:
    """The store holds a workflow under any key asked for."""
    return httpx.Response(
        200,
        json={
            "namespace": ["alice", "threadgate", "workflows"],
            "key": request.url.params.get("key", "w1"),
            "value": {"workflow_id": "w1", "version": 1},
            "created_at": "2026-01-01T00:00:00Z",
            "updated_at": "2026-01-01T00:00:00Z",
        },
    )


JSON = {"content-type": "application/json"}
EXECUTE = "/api/workflow/execute"
# (agent handler, request) that provoke each documented row.
PROVOKE: dict[tuple[str, str], tuple[Any, Callable[[TestClient], Any]]] = {
    ("400", "bad_request"): (
        None,
        lambda c: c.post(EXECUTE, content=b"{", headers=JSON),
    ),
    ("401", "unauthorized"): (None, lambda c: c.get("/api/threads", headers={"X-API-Key": "no"})),
    ("404", "not_found"): (answer(404), lambda c: c.get(f"/api/threads/{THREAD}")),
    ("409", "already_running"): (
        answer(409),
        lambda c: c.post(
            "/api/workflow/execute", json={"workflow_json": WORKFLOW, "thread_id": THREAD}
        ),
    ),
    ("409", "not_running"): (idle, lambda c: c.post(f"/api/threads/{THREAD}/pause")),
    ("409", "workflow_exists"): (
        saved_workflow,
        lambda c: c.post("/api/workflows", json={"workflow_json": {**WORKFLOW, "id": "w1"}}),
    ),
    ("413", "payload_too_large"): (
        None,
        lambda c: c.post(
            "/api/workflow/execute", content=b"{" + b" " * 30_000 + b"}", headers=JSON
        ),
    ),
    ("422", "validation_error"): (None, lambda c: c.get("/api/threads", params={"limit": 0})),
    ("422", "not_supported"): (
        answer(422),  # the runtime refuses to trim checkpoints
        lambda c: c.post(
            "/api/threads/prune", json={"older_than_minutes": 60, "keep_latest_checkpoint": True}
        ),
    ),
    ("422", "invalid_request"): (
        None,
        lambda c: c.post("/api/schedules", json={"workflow_id": "w1", "cron": "* * * * * *"}),
    ),
    ("422", "invalid_workflow"): (
        None,
        lambda c: c.post(EXECUTE, json={"workflow_json": {"steps": []}}),
    ),
    ("502", "agent_error"): (answer(500), lambda c: c.get(f"/api/threads/{THREAD}")),
    ("503", "agent_unavailable"): (
        raise_(httpx.ConnectError("refused")),
        lambda c: c.get(f"/api/threads/{THREAD}"),
    ),
    ("504", "agent_timeout"): (
        raise_(httpx.ReadTimeout("slow")),
        lambda c: c.get(f"/api/threads/{THREAD}"),
    ),
}


def test_the_table_lists_exactly_what_is_provoked_here():
    assert ROWS, "the README's status table was not found"
    assert set(ROWS) == set(PROVOKE)


@pytest.mark.parametrize("row", ROWS, ids=[f"{s}-{c}" for s, c in ROWS])
def test_each_documented_status_is_what_the_app_answers(
    row: tuple[str, str], client: TestClient, agent: FakeAgent
):
    handler, request = PROVOKE[row]
    if handler is not None:
        agent.handler = handler
    response = request(client)
    assert (str(response.status_code), response.json()["error"]) == row, response.text
    assert set(response.json()) <= {"error", "message", "details"}
