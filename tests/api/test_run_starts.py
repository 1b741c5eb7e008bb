"""Starting a run: a failure after the request may have reached the Agent Server says
so, the active-run cap reads as 429 with Retry-After, keys are checked, and a pause
request is stored with a TTL."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from gateway.api.app import create_app
from gateway.settings import Settings
from gateway.threads.executions import IDEMPOTENCY_KEY, REQUEST_HASH
from gateway.threads.idempotency import IdempotentRequest
from tests.api.conftest import ALICE_KEY, FakeAgent
from tests.api.test_errors import assert_error

THREAD = "01a204ae-a289-7477-8bfd-4c37e06457e1"
RUN = "01a204ae-a28e-7161-ba01-5eed3dcf4684"
WORKFLOW = {"id": "wf-a", "name": "W", "steps": [{"id": "a", "instructions": "do a"}]}
EXECUTE = "/api/workflow/execute"
CAP = (
    "too_many_active_runs: 2 workflows pending or running, the most one user may have "
    "is 2; try again when one has finished"
)


def _run_create(request: httpx.Request) -> bool:
    return request.method == "POST" and request.url.path.endswith("/runs")


def _thread(status: str = "idle", **values: Any) -> dict[str, Any]:
    return {
        "thread_id": THREAD,
        "status": status,
        "values": {"phase": "paused", "plan": [{"id": "a"}, {"id": "b"}], "completed": ["a"]}
        | values,
        "metadata": {},
        "created_at": "2026-01-01T00:00:00Z",
        "updated_at": "2026-01-01T00:00:00Z",
    }


def _run(**metadata: Any) -> dict[str, Any]:
    return {
        "run_id": RUN,
        "thread_id": THREAD,
        "status": "pending",
        "metadata": metadata,
        "created_at": "2026-01-01T00:00:01Z",
    }


@pytest.mark.parametrize(
    "failure", [httpx.ReadError("reset"), httpx.ReadTimeout("slow"), httpx.RemoteProtocolError("x")]
)
def test_a_run_create_that_fails_after_sending_is_outcome_unknown(
    client: TestClient, agent: FakeAgent, failure: Exception
):
    def handler(request: httpx.Request) -> httpx.Response:
        raise failure

    agent.handler = handler
    response = client.post(EXECUTE, json={"workflow_json": WORKFLOW})
    body = assert_error(response, 503, "agent_outcome_unknown")
    assert "Idempotency-Key" in body["message"]
    [create] = agent.requests
    assert body["details"]["thread_id"] == create.url.path.split("/")[2]
    assert response.headers["Retry-After"] == str(body["details"]["retry_after_seconds"])


def test_a_refused_connection_is_still_unavailable(client: TestClient, agent: FakeAgent):
    def refused(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    agent.handler = refused
    assert_error(client.post(EXECUTE, json={"workflow_json": WORKFLOW}), 503, "agent_unavailable")


def test_a_resume_that_fails_after_sending_is_outcome_unknown(client: TestClient, agent: FakeAgent):
    def handler(request: httpx.Request) -> httpx.Response:
        if _run_create(request):
            raise httpx.ReadError("reset", request=request)
        return httpx.Response(200, json=_thread())

    agent.handler = handler
    body = assert_error(client.post(f"/api/threads/{THREAD}/resume"), 503, "agent_outcome_unknown")
    assert body["details"]["thread_id"] == THREAD


def _closes_after_reading() -> tuple[socket.socket, int]:
    """A server that reads one request and hangs up without answering."""
    server = socket.create_server(("127.0.0.1", 0))

    def hang_up() -> None:
        conn, _ = server.accept()
        conn.recv(65536)
        conn.close()

    threading.Thread(target=hang_up, daemon=True).start()
    return server, server.getsockname()[1]


def test_an_agent_server_hanging_up_on_the_run_create_is_outcome_unknown(settings: Settings):
    """The production transport (aiohttp underneath), against a real socket."""
    server, port = _closes_after_reading()
    real = settings.model_copy(
        update={"agent_url": f"http://127.0.0.1:{port}", "agent_connect_retries": 0}
    )
    with TestClient(
        create_app(real), raise_server_exceptions=False, headers={"X-API-Key": ALICE_KEY}
    ) as client:
        response = client.post(EXECUTE, json={"workflow_json": WORKFLOW})
    server.close()
    assert_error(response, 503, "agent_outcome_unknown")
    assert response.headers["Retry-After"]


def _over_the_cap(request: httpx.Request) -> httpx.Response:
    if _run_create(request):
        return httpx.Response(429, json={"detail": CAP}, headers={"Retry-After": "7"})
    return httpx.Response(200, json=_thread())


def test_the_active_run_cap_is_429_with_retry_after(client: TestClient, agent: FakeAgent):
    agent.handler = _over_the_cap
    for response in (
        client.post(EXECUTE, json={"workflow_json": WORKFLOW}),
        client.post(f"/api/threads/{THREAD}/resume"),
    ):
        body = assert_error(response, 429, "too_many_active_runs")
        assert response.headers["Retry-After"] == "7"
        assert body["message"].startswith("2 workflows pending or running")
        assert body["details"] == {"retry_after_seconds": 7}


def test_the_active_run_cap_is_an_error_frame_on_the_websocket(
    client: TestClient, agent: FakeAgent
):
    agent.handler = _over_the_cap
    with client.websocket_connect("/api/workflow/execute/stream") as ws:
        ws.send_json({"workflow_json": WORKFLOW})
        frame = ws.receive_json()
    assert frame["type"] == "error" and frame["error"] == "too_many_active_runs"
    assert frame["details"] == {"retry_after_seconds": 7}


def test_another_429_still_passes_through(client: TestClient, agent: FakeAgent):
    agent.handler = lambda _r: httpx.Response(429, json={"detail": "slow down"})
    response = client.post(EXECUTE, json={"workflow_json": WORKFLOW})
    assert_error(response, 429, "rate_limited")
    assert "Retry-After" not in response.headers


def test_a_keyed_execute_refused_by_the_cap_lets_its_thread_go(
    client: TestClient, agent: FakeAgent
):
    """The claimed thread is deleted, so a refused start leaves nothing behind."""

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "POST" and request.url.path == "/threads":
            return httpx.Response(200, json=_thread())
        if _run_create(request):
            return httpx.Response(429, json={"detail": CAP}, headers={"Retry-After": "3"})
        if request.method == "DELETE":
            return httpx.Response(204)
        return httpx.Response(200, json=[])

    agent.handler = handler
    response = client.post(
        EXECUTE, json={"workflow_json": WORKFLOW}, headers={"Idempotency-Key": "k-1"}
    )
    assert_error(response, 429, "too_many_active_runs")
    created = next(r for r in agent.requests if r.url.path == "/threads")
    thread_id = json.loads(created.content)["thread_id"]
    assert ("DELETE", f"/threads/{thread_id}") in agent.calls()


@pytest.mark.parametrize("key", ["", " padded", "x" * 256, "tab\there", "caf\u00e9"])
def test_a_malformed_key_is_422_naming_the_header(client: TestClient, agent: FakeAgent, key: str):
    response = client.post(
        EXECUTE, json={"workflow_json": WORKFLOW}, headers={b"Idempotency-Key": key.encode()}
    )
    body = assert_error(response, 422, "validation_error")
    assert body["details"][0]["field"] == "header.Idempotency-Key"
    assert agent.requests == []


def test_a_malformed_key_in_the_websocket_message_names_the_field(
    client: TestClient, agent: FakeAgent
):
    with client.websocket_connect("/api/workflow/execute/stream") as ws:
        ws.send_json({"workflow_json": WORKFLOW, "idempotency_key": "x" * 256})
        frame = ws.receive_json()
    assert frame["error"] == "validation_error"
    assert frame["details"][0]["field"] == "idempotency_key"
    assert agent.requests == []


def test_a_key_of_255_characters_is_taken(client: TestClient, agent: FakeAgent):
    agent.handler = lambda r: httpx.Response(
        200, json=[] if r.method == "GET" else {**_run(), "thread_id": THREAD}
    )
    response = client.post(
        EXECUTE, json={"workflow_json": WORKFLOW}, headers={"Idempotency-Key": "~" * 255}
    )
    assert response.status_code == 202, response.text


def test_a_key_reused_for_another_resume_is_422(client: TestClient, agent: FakeAgent):
    original = IdempotentRequest.of("k-2", "resume", {"thread_id": THREAD, "approved": True})
    marks = {IDEMPOTENCY_KEY: original.key_hash, REQUEST_HASH: original.request_hash}
    agent.handler = lambda _r: httpx.Response(200, json=[_run(**marks)])
    response = client.post(
        f"/api/threads/{THREAD}/resume",
        json={"approved": False},
        headers={"Idempotency-Key": "k-2"},
    )
    body = assert_error(response, 422, "idempotency_key_reused")
    assert body["details"] == {"field": "Idempotency-Key"}
    assert not [r for r in agent.requests if _run_create(r)]


def test_a_pause_request_is_stored_with_a_ttl(client: TestClient, agent: FakeAgent):
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/runs"):
            return httpx.Response(200, json=[{**_run(), "status": "running"}])
        if request.url.path == "/store/items":
            return httpx.Response(204)
        return httpx.Response(200, json=_thread("busy", phase="running"))

    agent.handler = handler
    assert client.post(f"/api/threads/{THREAD}/pause").status_code == 202
    puts = [json.loads(r.content) for r in agent.requests if r.method == "PUT"]
    # (The other item is the pause's audit event.)
    [sent] = [p for p in puts if "pause_requests" in p["namespace"]]
    assert sent["key"] == THREAD and sent["value"]["run_id"] == RUN
    assert sent["ttl"] > 0


@pytest.fixture
def openapi(client: TestClient) -> Iterator[dict[str, Any]]:
    yield client.get("/openapi.json").json()


def test_the_routes_that_start_runs_document_429_and_the_replay(openapi: dict[str, Any]):
    paths = openapi["paths"]
    for path in ("/api/workflow/execute", "/api/threads/{thread_id}/resume"):
        responses = paths[path]["post"]["responses"]
        assert {"200", "202", "429"} <= set(responses), path
        names = [p["name"] for p in paths[path]["post"]["parameters"]]
        assert "Idempotency-Key" in names
    assert "429" in paths["/api/threads/{thread_id}/fork"]["post"]["responses"]
