"""Every failure answers in one JSON shape with the right status, and writes nothing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import FakeAgent

THREAD = "01a204ae-a289-7477-8bfd-4c37e06457e1"
RUN = "01a204ae-a28e-7161-ba01-5eed3dcf4684"
WORKFLOW = {"id": "wf-a", "name": "W", "steps": [{"id": "a", "instructions": "do a"}]}


def assert_error(response: Any, status: int, code: str) -> dict[str, Any]:
    """`response` is from httpx or from the TestClient's own httpx2: both read alike."""
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert body["error"] == code and body["message"]
    assert "Traceback" not in response.text
    return body


def unreachable(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("connection refused", request=request)


def test_agent_server_down_is_503_on_readiness_and_reads(client: TestClient, agent: FakeAgent):
    agent.handler = unreachable
    assert_error(client.get("/readyz"), 503, "agent_unavailable")
    assert_error(client.get("/api/threads"), 503, "agent_unavailable")
    assert client.get("/healthz").json() == {"status": "ok"}


def test_agent_timeout_is_504(client: TestClient, agent: FakeAgent):
    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    agent.handler = slow
    assert_error(client.get(f"/api/threads/{THREAD}"), 504, "agent_timeout")


def test_agent_server_5xx_is_502(client: TestClient, agent: FakeAgent):
    agent.handler = lambda _r: httpx.Response(500, json={"detail": "database exploded at 0x7f"})
    body = assert_error(client.get(f"/api/threads/{THREAD}"), 502, "agent_error")
    assert "0x7f" not in body["message"]


def test_agent_server_rejecting_our_credential_is_502_not_401(client: TestClient, agent: FakeAgent):
    agent.handler = lambda _r: httpx.Response(403, json={"detail": "bad key"})
    assert_error(client.get(f"/api/threads/{THREAD}"), 502, "agent_error")


def test_agent_404_passes_through(client: TestClient, agent: FakeAgent):
    agent.handler = lambda _r: httpx.Response(404, json={"detail": f"Thread {THREAD} not found"})
    body = assert_error(client.get(f"/api/threads/{THREAD}/state"), 404, "not_found")
    assert THREAD in body["message"]


def test_busy_thread_is_409_not_queued(client: TestClient, agent: FakeAgent):
    def busy(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/runs"):
            assert json.loads(request.content)["multitask_strategy"] == "reject"
            return httpx.Response(409, json={"detail": "Thread is already running a task."})
        return httpx.Response(200, json={})

    agent.handler = busy
    response = client.post(
        "/api/workflow/execute", json={"workflow_json": WORKFLOW, "thread_id": THREAD}
    )
    body = assert_error(response, 409, "already_running")
    assert body["details"] == {"thread_id": THREAD}
    assert ("PATCH", f"/threads/{THREAD}") not in agent.calls()


def test_failed_start_writes_nothing(client: TestClient, agent: FakeAgent):
    agent.handler = lambda _r: httpx.Response(503, json={"detail": "queue unavailable"})
    response = client.post("/api/workflow/execute", json={"workflow_json": WORKFLOW})
    assert_error(response, 502, "agent_error")
    # The thread and its run are created by one call, so nothing was half-written.
    [(method, path)] = agent.calls()
    assert method == "POST" and path.endswith("/runs")
    sent = json.loads(agent.requests[0].content)
    assert sent["if_not_exists"] == "create" and sent["multitask_strategy"] == "reject"
    assert sent["metadata"]["workflow_id"] == "wf-a"


def test_invalid_workflow_is_422_naming_the_node_and_calls_nothing(
    client: TestClient, agent: FakeAgent
):
    bad = {"nodes": [{"id": "a", "data": {"instructions": "x"}}, {"id": "b", "type": "telepathy"}]}
    body = assert_error(
        client.post("/api/workflow/execute", json={"workflow_json": bad}), 422, "invalid_workflow"
    )
    assert body["details"] == {"field": "workflow_json.nodes[1].type", "node_id": "b"}
    assert agent.requests == []


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"workflow_json": WORKFLOW, "message": "both"},
        {"message": "follow-up without a thread"},
        {"workflow_json": WORKFLOW, "thread_id": "../../admin"},
        {"workflow_json": "a string"},
    ],
)
def test_malformed_requests_are_422(client: TestClient, agent: FakeAgent, payload: dict[str, Any]):
    assert_error(client.post("/api/workflow/execute", json=payload), 422, "validation_error")
    assert agent.requests == []


def test_body_that_is_not_json_is_400(
    client: TestClient, agent: FakeAgent, caplog: pytest.LogCaptureFixture
):
    deep = b'{"workflow_json": ' + b"[" * 9_000 + b"]" * 9_000 + b"}"  # RecursionError inside
    for body in (b"{not json", b"\xff\xfe", b"[" * 15_000, deep):
        response = client.post(
            "/api/workflow/execute", content=body, headers={"content-type": "application/json"}
        )
        assert_error(response, 400, "bad_request")
    assert agent.requests == []
    assert not [r for r in caplog.records if r.exc_info], "a traceback reached the log"


def test_oversized_body_is_413(client: TestClient, agent: FakeAgent):
    huge = {"workflow_json": {"steps": [{"instructions": "x" * 30_000}]}}
    body = assert_error(client.post("/api/workflow/execute", json=huge), 413, "payload_too_large")
    assert body["details"] == {"max_bytes": 20_000}
    assert agent.requests == []


def test_oversized_chunked_body_is_413(client: TestClient, agent: FakeAgent):
    def chunks() -> Iterator[bytes]:
        yield b'{"workflow_json": {"steps": [{"instructions": "'
        for _ in range(30):
            yield b"x" * 1_000
        yield b'"}]}}'

    response = client.post(
        "/api/workflow/execute", content=chunks(), headers={"content-type": "application/json"}
    )
    assert_error(response, 413, "payload_too_large")
    assert agent.requests == []


def test_ids_in_paths_are_validated_before_forwarding(client: TestClient, agent: FakeAgent):
    assert_error(client.get("/api/threads/not-a-uuid"), 422, "validation_error")
    # Well-formed, never issued: nobody's thread.
    nil = "00000000-0000-0000-0000-000000000000"
    assert_error(client.get(f"/api/threads/{nil}"), 404, "not_found")
    assert_error(client.post(f"/api/threads/{nil}/pause"), 404, "not_found")
    assert_error(client.get("/api/workflow/execution/nope"), 404, "not_found")
    assert agent.requests == []


def test_unknown_route_uses_the_error_shape(client: TestClient):
    assert_error(client.get("/api/nothing-here"), 404, "not_found")


def test_websocket_invalid_workflow_gets_an_error_frame(client: TestClient, agent: FakeAgent):
    with client.websocket_connect("/api/workflow/execute/stream") as ws:
        ws.send_json({"workflow_json": {"nodes": [{"id": "a", "data": {}}]}})
        frame = ws.receive_json()
    assert frame["type"] == "error" and frame["error"] == "invalid_workflow"
    assert frame["details"]["node_id"] == "a"
    assert agent.requests == []


def test_websocket_with_agent_down_gets_an_error_frame(client: TestClient, agent: FakeAgent):
    agent.handler = unreachable
    with client.websocket_connect("/api/workflow/execute/stream") as ws:
        ws.send_json({"workflow_json": WORKFLOW})
        frame = ws.receive_json()
    assert frame == {
        "type": "error",
        "error": "agent_unavailable",
        "message": "The agent server cannot be reached.",
    }


def test_websocket_bad_json_gets_an_error_frame(client: TestClient):
    with client.websocket_connect("/api/workflow/execute/stream") as ws:
        ws.send_text("{oops")
        frame = ws.receive_json()
    assert frame["type"] == "error" and frame["error"] == "validation_error"


def test_openapi_publishes_the_workflow_formats(client: TestClient):
    schema = client.get("/openapi.json").json()
    components = schema["components"]["schemas"]
    assert {"WorkflowDocument", "ReactFlowWorkflow", "PlainWorkflow", "FlowNode"} <= set(components)
    execute = components["ExecuteRequest"]["properties"]["workflow_json"]
    assert "#/components/schemas/WorkflowDocument" in json.dumps(execute)


def test_cancel_of_a_run_that_finished_first_is_409_and_writes_nothing(
    client: TestClient, agent: FakeAgent
):
    """The run ends on its own between listing it and cancelling it: say so, change nothing."""
    thread = {
        "thread_id": THREAD,
        "status": "busy",
        "values": {"phase": "running", "plan": [{"id": "a", "title": "A"}], "completed": []},
        "metadata": {},
        "created_at": "2026-01-01T00:00:00Z",
        "updated_at": "2026-01-01T00:00:00Z",
    }
    run = {"run_id": "01a204ae-a28e-7161-ba01-5eed3dcf4684", "status": "running"}
    run |= {"created_at": "2026-01-01T00:00:00Z", "thread_id": THREAD}

    def handler(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path.endswith("/runs") and request.method == "GET":
            return httpx.Response(200, json=[run])
        if path.endswith("/cancel"):
            return httpx.Response(204)
        if "/runs/" in path:
            return httpx.Response(200, json={**run, "status": "success"})
        done = {**thread["values"], "phase": "done", "completed": ["a"]}  # type: ignore[dict-item]
        if thread["status"] == "busy":
            thread["status"] = "idle"  # the first read saw it busy; it has finished since
            return httpx.Response(200, json={**thread, "status": "busy"})
        return httpx.Response(200, json={**thread, "values": done})

    agent.handler = handler
    body = assert_error(client.post(f"/api/threads/{THREAD}/cancel"), 409, "not_running")
    assert body["details"]["status"] == "completed" and "finished first" in body["message"]
    assert not [r for r in agent.requests if r.url.path.endswith("/state")], "wrote paused"


def _thread(status: str, updated: str = "2026-01-01T00:00:00Z") -> dict[str, Any]:
    return {
        "thread_id": THREAD,
        "status": status,
        "values": {},
        "metadata": {},
        "created_at": "2026-01-01T00:00:00Z",
        "updated_at": updated,
    }


def test_prune_keeps_a_thread_that_started_again_after_it_was_listed(
    client: TestClient, agent: FakeAgent
):
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/threads/search":
            return httpx.Response(200, json=[_thread("idle")])
        if request.url.path == f"/threads/{THREAD}":
            return httpx.Response(200, json=_thread("busy"))  # resumed meanwhile
        return httpx.Response(200, json={"pruned_count": 1})

    agent.handler = handler
    response = client.post("/api/threads/prune", json={"older_than_minutes": 1, "dry_run": False})
    assert response.status_code == 200, response.text
    assert (response.json()["thread_ids"], response.json()["skipped"]) == ([], [THREAD])
    assert not [r for r in agent.requests if r.url.path == "/threads/prune"]


def test_a_sweep_finds_a_thread_a_shifted_page_skipped(client: TestClient, agent: FakeAgent):
    """Offset pages shift when a thread is touched mid-sweep; the next pass finds it."""
    ids = [f"01a204ae-a289-7477-8bfd-4c37e0645{i:03d}" for i in range(150)]
    old = [{**_thread("idle"), "thread_id": i} for i in ids]
    searches = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal searches
        if request.url.path == "/threads/search":
            offset = json.loads(request.content)["offset"]
            searches += 1
            # After the first page, thread 0 is updated: everything shifts down by one.
            listing = old if searches == 1 else old[1:]
            return httpx.Response(200, json=listing[offset : offset + 100])
        return httpx.Response(200, json={})

    agent.handler = handler
    found = client.post("/api/threads/prune", json={"older_than_minutes": 1}).json()["thread_ids"]
    assert sorted(found) == sorted(ids) and len(found) == len(set(found))


def test_an_unreadable_agent_server_answer_is_502_not_a_crash(
    client: TestClient, agent: FakeAgent, caplog: pytest.LogCaptureFixture
):
    agent.handler = lambda _request: httpx.Response(200, content=b"<html>proxy error</html>")
    for path in (f"/api/threads/{THREAD}", "/api/threads"):
        assert_error(client.get(path), 502, "agent_error")
    assert not [r for r in caplog.records if r.exc_info], "a traceback reached the log"


def test_a_form_body_is_told_to_send_json(client: TestClient):
    # curl -d without a content type sends a form body.
    response = client.post(
        "/api/workflow/execute",
        content=b'{"workflow_id": "w"}',
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    body = assert_error(response, 422, "validation_error")
    assert "Content-Type: application/json" in body["message"]


def test_a_malformed_id_in_the_path_is_named_not_shown_as_a_pattern(client: TestClient):
    body = assert_error(client.get("/api/threads/nope"), 422, "validation_error")
    assert body["message"] == "path.thread_id: 'nope' is not a valid thread id"
