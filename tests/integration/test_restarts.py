"""Restarts lose nothing: the Agent Server stopped mid-workflow, a gateway gone mid-stream."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from langgraph_sdk.client import LangGraphClient
from websockets.exceptions import ConnectionClosedError

from tests.integration.conftest import HOST, Stack, start_test_agent_server, start_test_gateway
from tests.integration.helpers import (
    ALICE,
    marker,
    react_flow,
    wait_for_status,
    wait_for_steps,
    ws_connect,
)
from tools.launcher import free_port, stop


@pytest.fixture
def own_agent_server(stack: Stack, tmp_path: Path) -> Iterator[tuple[int, Path]]:
    """A port and a data folder for an Agent Server this test may stop and start."""
    yield free_port(HOST), tmp_path


async def test_agent_server_restart_mid_workflow_redoes_no_finished_step(
    stack: Stack, own_agent_server: tuple[int, Path]
):
    port, data = own_agent_server
    agent, agent_url = start_test_agent_server(data, stack.model, port)
    gateway_proc, gateway_url = start_test_gateway(agent_url, data, "gateway")
    tag = marker()
    try:
        async with httpx.AsyncClient(base_url=gateway_url, timeout=30, headers=ALICE) as gateway:
            accepted = await gateway.post(
                "/api/workflow/execute", json={"workflow_json": react_flow(tag, steps=3, slow=1)}
            )
            thread_id = accepted.json()["thread_id"]
            await wait_for_steps(gateway, thread_id, 1)

            stop(agent)  # Ctrl-C: the in-memory runtime writes its data out
            agent, _ = start_test_agent_server(data, stack.model, port)

            after = (await gateway.get(f"/api/threads/{thread_id}")).json()
            assert after["progress"]["completed_steps"] >= 1
            # runtime-inmem 0.36 re-queues the interrupted run by itself on start; a
            # runtime that leaves it stopped instead gets an explicit resume.
            if after["status"] in ("paused", "failed", "pending"):
                resumed = await gateway.post(f"/api/threads/{thread_id}/resume")
                assert resumed.status_code == 202, resumed.text
            done = await wait_for_status(gateway, thread_id, {"completed"})
    finally:
        stop(gateway_proc)
        stop(agent)
    assert done["progress"]["completed_steps"] == 3
    first, second, third = (stack.model.calls_mentioning(f"{tag} do part {i}") for i in (1, 2, 3))
    assert first == 1  # finished before the stop: never run again
    assert second in (1, 2) and third == 1  # the step in flight may run again, once


async def test_gateway_gone_mid_stream_client_rejoins_the_same_run(
    stack: Stack, gateway: httpx.AsyncClient, sdk: LangGraphClient
):
    tag = marker()
    doomed, doomed_url = start_test_gateway(stack.agent_url, stack.logs, "gateway-doomed")
    ws_url = doomed_url.replace("http://", "ws://") + "/api/workflow/execute/stream"
    try:
        async with ws_connect(ws_url) as ws:
            await ws.send(json.dumps({"workflow_json": react_flow(tag, steps=3, slow=0.7)}))
            started = json.loads(await ws.recv())
            while json.loads(await ws.recv())["type"] != "progress":
                pass
            doomed.kill()  # the gateway dies with the socket open
            doomed.wait()
            # The socket breaks under the client (after any frames already on their way):
            # no close frame, since nothing was left to send one.
            with pytest.raises(ConnectionClosedError) as broken:
                while True:
                    await ws.recv()
            assert broken.value.rcvd is None
    finally:
        stop(doomed)
    thread_id = started["thread_id"]

    join_url = stack.gateway_url.replace("http://", "ws://") + f"/api/threads/{thread_id}/stream"
    async with ws_connect(join_url) as ws:
        frames = [json.loads(message) async for message in ws]
    assert frames[0] == {**started, "status": "running"}
    finished = [f["completed_steps"] for f in frames if f.get("event") == "step_finished"]
    assert finished[-1] == 3
    assert frames[-1]["type"] == "end" and frames[-1]["status"] == "completed"

    runs = await sdk.runs.list(thread_id)
    assert len(runs) == 1  # rejoining started nothing
    assert [stack.model.calls_mentioning(f"{tag} do part {i}") for i in (1, 2, 3)] == [1, 1, 1]

    # Joining a thread with nothing running ends at once with its progress.
    again = await stream_frames_join(join_url)
    assert [f["type"] for f in again] == ["end"] and again[0]["status"] == "completed"


async def stream_frames_join(url: str) -> list[dict[str, object]]:
    async with ws_connect(url) as ws:
        return [json.loads(message) async for message in ws]


async def test_joining_an_unknown_thread_is_an_error_frame(stack: Stack):
    base = stack.gateway_url.replace("http://", "ws://")
    for thread_id in ("00000000-0000-4000-8000-000000000000", "not-a-thread"):
        frames = await stream_frames_join(f"{base}/api/threads/{thread_id}/stream")
        assert frames[0]["type"] == "error" and frames[0]["error"] == "not_found"
