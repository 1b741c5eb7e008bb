"""Request ids and metrics on the real stack: a gateway process before a real Agent Server.

A request's id comes back on the response, is in the gateway's log lines for it and in
the Agent Server's own log; `/metrics` moves by exactly what was done.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from pathlib import Path

import httpx

from tests.integration.conftest import Stack
from tests.integration.helpers import ALICE, marker, react_flow, stream_frames, ws_connect
from tests.prometheus import sample_value


async def metric(stack: Stack, name: str, **labels: str) -> float:
    """A sample as an anonymous scraper reads it (no credential: the default mode)."""
    async with httpx.AsyncClient(base_url=stack.gateway_url, timeout=10) as scraper:
        response = await scraper.get("/metrics")
    assert response.status_code == 200, response.text
    return sample_value(response.text, name, **labels)


async def logged(path: Path, *words: str, timeout: float = 10) -> str:
    """The first line of the log at `path` holding every one of `words` (waits for it)."""
    deadline = time.monotonic() + timeout
    while True:
        for line in path.read_text(errors="replace").splitlines():
            if all(word in line for word in words):
                return line
        if time.monotonic() > deadline:
            raise AssertionError(f"no line with {words} in {path.name}")
        await asyncio.sleep(0.1)


async def test_a_request_id_is_echoed_logged_and_reaches_the_agent_server(
    stack: Stack, gateway: httpx.AsyncClient
):
    rid = f"obs-{uuid.uuid4().hex}"
    workflow = react_flow(marker(), steps=1)
    response = await gateway.post(
        "/api/workflow/execute", json={"workflow_json": workflow}, headers={"X-Request-ID": rid}
    )
    assert response.status_code == 202, response.text
    assert response.headers["x-request-id"] == rid

    # The gateway's line for the request (uvicorn's access line, now in the gateway's
    # format), and the Agent Server's own lines for the call made for it.
    line = await logged(stack.logs / "gateway.log", f"[{rid}]", "POST /api/workflow/execute")
    assert "202" in line
    await logged(stack.logs / "agent-server.log", rid, "Created run")


async def test_a_websocket_gets_an_id_and_its_log_lines_carry_it(stack: Stack):
    rid = f"obs-ws-{uuid.uuid4().hex}"
    async with ws_connect(stack.ws_url, {**ALICE, "X-Request-ID": rid}) as ws:
        assert ws.response is not None and ws.response.headers["x-request-id"] == rid
        await ws.send(json.dumps({"workflow_json": react_flow(marker(), steps=2, slow=1)}))
        started = json.loads(await ws.recv())
        assert started["type"] == "started"
    # Leaving mid-run is logged by the gateway itself, for that socket.
    line = await logged(stack.logs / "gateway.log", f"[{rid}]", "stream client left")
    assert started["execution_id"] in line


async def test_a_workflow_moves_started_and_finished_by_exactly_its_own(stack: Stack):
    started = await metric(stack, "threadgate_workflows_started_total", transport="websocket")
    finished = await metric(stack, "threadgate_steps_finished_total", stream="execute")

    frames = await stream_frames(stack.ws_url, {"workflow_json": react_flow(marker(), steps=3)})
    assert frames[-1]["type"] == "end", frames[-1]

    after = await metric(stack, "threadgate_workflows_started_total", transport="websocket")
    assert after == started + 1
    assert await metric(stack, "threadgate_steps_finished_total", stream="execute") == finished + 3


async def test_a_rest_start_counts_once(stack: Stack, gateway: httpx.AsyncClient):
    before = await metric(stack, "threadgate_workflows_started_total", transport="rest")
    response = await gateway.post(
        "/api/workflow/execute", json={"workflow_json": react_flow(marker(), steps=1)}
    )
    assert response.status_code == 202
    assert await metric(stack, "threadgate_workflows_started_total", transport="rest") == before + 1


async def test_a_404_counts_under_its_route_template(stack: Stack, gateway: httpx.AsyncClient):
    template = "/api/threads/{thread_id}"
    labels = {"route": template, "method": "GET", "status": "404"}
    before = await metric(stack, "threadgate_http_requests_total", **labels)
    thread = str(uuid.uuid4())
    assert (await gateway.get(f"/api/threads/{thread}")).status_code == 404
    assert await metric(stack, "threadgate_http_requests_total", **labels) == before + 1
    async with httpx.AsyncClient(base_url=stack.gateway_url) as scraper:
        text = (await scraper.get("/metrics")).text
    assert thread not in text and "alice" not in text


async def test_an_open_websocket_shows_in_the_gauge_and_goes_back_down(stack: Stack):
    route = "/api/workflow/execute/stream"
    before = await metric(stack, "threadgate_websockets_open", route=route)
    async with ws_connect(stack.ws_url):  # no first message yet: the socket just waits
        assert await metric(stack, "threadgate_websockets_open", route=route) == before + 1
    deadline = time.monotonic() + 5
    while await metric(stack, "threadgate_websockets_open", route=route) != before:
        assert time.monotonic() < deadline, "the gauge did not go back down"
        await asyncio.sleep(0.1)


async def test_by_default_no_line_is_logged_per_request(stack: Stack, second_gateway: str):
    """Request lines cost CPU on every call: off unless THREADGATE_REQUEST_LOGS is set."""
    rid = f"quiet-{uuid.uuid4().hex}"
    async with httpx.AsyncClient(base_url=second_gateway, headers=ALICE) as client:
        for _ in range(3):
            response = await client.get("/api/threads", headers={"X-Request-ID": rid})
            assert response.status_code == 200
    ws_url = second_gateway.replace("http://", "ws://") + "/api/workflow/execute/stream"
    frames = await stream_frames(ws_url, {"workflow_json": react_flow(marker(), steps=1)})
    assert frames[-1]["type"] == "end"
    await asyncio.sleep(0.5)
    log = (stack.logs / "gateway-2.log").read_text(errors="replace")
    assert rid not in log
    assert "GET /api/threads" not in log and "HTTP Request" not in log
    assert "WebSocket /api" not in log and "connection open" not in log
