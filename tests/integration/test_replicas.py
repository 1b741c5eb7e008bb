"""Two gateway processes on one Agent Server, used together as replicas are: what one
starts, the other streams and steers, and nothing runs twice."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
from langgraph_sdk.client import LangGraphClient

from tests.integration.conftest import Stack
from tests.integration.helpers import ALICE, marker, react_flow, start, ws_connect


def ws(base: str, path: str) -> str:
    return base.replace("http://", "ws://") + path


async def frames_of(url: str) -> list[dict[str, Any]]:
    async with ws_connect(url) as socket:
        return [json.loads(message) async for message in socket]


async def test_started_on_one_replica_streamed_from_both(
    stack: Stack, second_gateway: str, gateway: httpx.AsyncClient, sdk: LangGraphClient
):
    tag = marker()
    thread_id = await start(gateway, react_flow(tag, steps=3, slow=0.4))
    path = f"/api/threads/{thread_id}/stream"
    here, there = await asyncio.gather(
        frames_of(ws(stack.gateway_url, path)), frames_of(ws(second_gateway, path))
    )
    for frames in (here, there):
        finished = [f["completed_steps"] for f in frames if f.get("event") == "step_finished"]
        assert finished == [1, 2, 3], frames
        assert frames[-1]["type"] == "end" and frames[-1]["status"] == "completed"
    # Both replayed the run from its start: the same events, in the same order.
    events = [
        [(f.get("event"), f.get("step_id")) for f in fs if f["type"] == "progress"]
        for fs in (here, there)
    ]
    assert events[0] == events[1]
    assert len(await sdk.runs.list(thread_id)) == 1, "watching started nothing"
    assert [stack.model.calls_mentioning(f"{tag} do part {i}") for i in (1, 2, 3)] == [1, 1, 1]


async def test_paused_from_one_replica_while_the_other_streams(stack: Stack, second_gateway: str):
    tag = marker()
    async with (
        ws_connect(stack.ws_url) as socket,
        httpx.AsyncClient(base_url=second_gateway, headers=ALICE, timeout=30) as other,
    ):
        await socket.send(json.dumps({"workflow_json": react_flow(tag, steps=4, slow=0.5)}))
        started = json.loads(await socket.recv())
        while json.loads(await socket.recv()).get("event") != "step_started":
            pass
        paused = await other.post(f"/api/threads/{started['thread_id']}/pause")
        assert paused.status_code == 202, paused.text
        frames = [json.loads(message) async for message in socket]
    assert frames[-1]["type"] == "end" and frames[-1]["status"] == "paused", frames[-1]
    done = frames[-1]["progress"]["completed_steps"]
    assert 1 <= done < 4
    # The steps after the pause never ran.
    assert stack.model.calls_mentioning(f"{tag} do part 4") == 0


async def test_the_embedded_agent_server_runs_workflows_side_by_side(
    gateway: httpx.AsyncClient, sdk: LangGraphClient
):
    """`langgraph dev` runs one run at a time unless told otherwise; the launcher gives it
    THREADGATE_AGENT_JOBS (10): three slow workflows are seen running at the same moment."""
    tag = marker()
    threads = await asyncio.gather(
        *(start(gateway, react_flow(f"{tag}{i}", steps=1, slow=3)) for i in range(3))
    )
    deadline = asyncio.get_running_loop().time() + 20
    most = 0
    while most < 3:
        assert asyncio.get_running_loop().time() < deadline, f"at most {most} ran at once"
        runs = await asyncio.gather(*(sdk.runs.list(t) for t in threads))
        most = max(most, sum(r["status"] == "running" for found in runs for r in found))
        await asyncio.sleep(0.2)
