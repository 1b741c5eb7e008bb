"""The README's table of error statuses, provoked row by row against the app."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from gateway.api.errors import ERROR_CODES
from tests.api.conftest import FakeAgent

README = (Path(__file__).parents[2] / "README.md").read_text()
ROWS = re.findall(r"^\| (\d{3}) \| `(\w+)` \|", README, re.MULTILINE)
THREAD = "01a204ae-a289-7477-8bfd-4c37e06457e1"
RUN = "01a204ae-a28e-7161-ba01-5eed3dcf4684"
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


def waiting(_request: httpx.Request) -> httpx.Response:
    """A thread stopped at an approval, asking its question."""
    return httpx.Response(
        200,
        json={
            "thread_id": THREAD,
            "status": "interrupted",
            "values": {"phase": "running", "plan": [], "completed": []},
            "interrupts": {"t": [{"value": {"question": "Publish?"}, "id": "i1"}]},
            "metadata": {},
            "created_at": "2026-01-01T00:00:00Z",
            "updated_at": "2026-01-01T00:00:00Z",
        },
    )


def saved_workflow(request: httpx.Request) -> httpx.Response:
    """Anything asked for exists (so a saved workflow w1 does)."""
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


def at_the_schedule_cap(request: httpx.Request) -> httpx.Response:
    """Workflow w1 is saved; the Agent Server's auth refuses one more cron."""
    if request.url.path == "/runs/crons":
        return httpx.Response(409, json={"detail": "too_many_schedules: 20 schedules"})
    if request.url.path.startswith("/store/"):
        plan: dict[str, Any] = {"workflow_id": "w1", "name": "w1", "steps": [], "retry": None}
        document = {"workflow_json": WORKFLOW, "plan": plan, "run": {}}
        return httpx.Response(200, json={"namespace": [], "key": "k", "value": document})
    summary = {"workflow_id": "w1", "name": "w1", "step_count": 1, "document": "0" * 64}
    summary["incarnation"] = "0" * 32
    assistant = {"metadata": summary, "version": 1, "created_at": "2026-01-01T00:00:00Z"}
    return httpx.Response(200, json={**assistant, "updated_at": "2026-01-01T00:00:00Z"})


def reused_key(_request: httpx.Request) -> httpx.Response:
    """The thread's runs include one that key "k" started for another request."""
    marks = {"idempotency_key": hashlib.sha256(b"k").hexdigest(), "request_hash": "another"}
    run = {"run_id": RUN, "created_at": "2026-01-01T00:00:00Z", "metadata": marks}
    return httpx.Response(200, json=[run])


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
    ("409", "not_waiting"): (
        idle,
        lambda c: c.post(f"/api/threads/{THREAD}/resume", json={"approved": True}),
    ),
    ("422", "answer_required"): (waiting, lambda c: c.post(f"/api/threads/{THREAD}/resume")),
    ("409", "nothing_to_resume"): (idle, lambda c: c.post(f"/api/threads/{THREAD}/resume")),
    ("409", "no_workflow"): (idle, lambda c: c.post(f"/api/threads/{THREAD}/save-as-workflow")),
    ("405", "method_not_allowed"): (None, lambda c: c.delete("/api/threads/failed")),
    ("409", "workflow_exists"): (
        saved_workflow,
        lambda c: c.post("/api/workflows", json={"workflow_json": {**WORKFLOW, "id": "w1"}}),
    ),
    ("409", "too_many_schedules"): (
        at_the_schedule_cap,
        lambda c: c.post("/api/schedules", json={"workflow_id": "w1", "cron": "0 9 * * *"}),
    ),
    ("409", "unreadable_workflow"): (
        answer(200, {"metadata": {"workflow_id": "w1"}, "version": 1}),
        lambda c: c.get("/api/workflows/w1"),
    ),
    ("409", "unreadable_schedule"): (
        answer(200, [{"cron_id": RUN, "metadata": {"schedule_id": 5}}]),
        lambda c: c.get(f"/api/schedules/{THREAD}"),
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
    ("422", "idempotency_key_reused"): (
        reused_key,
        lambda c: c.post(f"/api/threads/{THREAD}/resume", headers={"Idempotency-Key": "k"}),
    ),
    ("429", "too_many_active_runs"): (
        answer(429, {"detail": "too_many_active_runs: 20 workflows pending or running"}),
        lambda c: c.post(EXECUTE, json={"workflow_json": WORKFLOW}),
    ),
    ("502", "agent_error"): (answer(500), lambda c: c.get(f"/api/threads/{THREAD}")),
    # Nobody is a member of any team here (THREADGATE_TEAMS is unset).
    ("403", "forbidden"): (
        None,
        lambda c: c.get("/api/threads", headers={"X-Threadgate-Team": "eng"}),
    ),
    ("503", "agent_outcome_unknown"): (
        raise_(httpx.ReadError("connection reset")),
        lambda c: c.post(EXECUTE, json={"workflow_json": WORKFLOW}),
    ),
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


def test_the_openapi_document_declares_the_same_codes(client: TestClient):
    """Each operation's error responses name the codes their status carries."""
    documented = {(str(status), code) for status, codes in ERROR_CODES.items() for code in codes}
    assert documented == set(ROWS)
    responses = client.app.openapi()["paths"]["/api/threads/{thread_id}"]["get"]["responses"]  # type: ignore[attr-defined]
    assert "`already_running`" in responses["409"]["description"]


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
