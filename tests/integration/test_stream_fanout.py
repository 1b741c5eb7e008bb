"""Sockets watching one run share one Agent Server stream (per gateway worker).

The gauge `threadgate_run_streams_open` counts the gateway's open Agent Server streams;
`bench.streams` counts the same thing with the kernel (1,000 sockets, 10 runs).
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import httpx

from tests.integration.conftest import Stack
from tests.integration.helpers import (
    BOB,
    marker,
    react_flow,
    start,
    wait_for_status,
    wait_for_steps,
    ws_connect,
)
from tests.integration.test_observability import metric

OPEN = "threadgate_run_streams_open"


def thread_stream(stack: Stack, thread_id: str) -> str:
    return stack.gateway_url.replace("http://", "ws://") + f"/api/threads/{thread_id}/stream"


async def frames_of(url: str, user: dict[str, str] | None = None) -> list[dict[str, Any]]:
    async with ws_connect(url, *([user] if user else [])) as socket:
        return [json.loads(message) async for message in socket]


async def upstreams_become(stack: Stack, wanted: float, timeout: float = 5) -> None:
    deadline = time.monotonic() + timeout
    while (now := await metric(stack, OPEN)) != wanted:
        assert time.monotonic() < deadline, f"{OPEN} is {now}, wanted {wanted}"
        await asyncio.sleep(0.1)


async def test_sockets_watching_one_run_share_one_stream_and_a_late_one_sees_it_all(
    stack: Stack, gateway: httpx.AsyncClient
):
    tag = marker()
    before = await metric(stack, OPEN)
    thread_id = await start(gateway, react_flow(tag, steps=3, slow=1.0))
    url = thread_stream(stack, thread_id)
    early = [asyncio.create_task(frames_of(url)) for _ in range(4)]
    await upstreams_become(stack, before + 1)

    await wait_for_steps(gateway, thread_id, 1)
    late = asyncio.create_task(frames_of(url))  # joins after the first step finished
    await asyncio.sleep(0.5)
    assert await metric(stack, OPEN) == before + 1, "the late socket shares the stream too"

    watched = await asyncio.gather(*early, late)
    for frames in watched:
        finished = [f["completed_steps"] for f in frames if f.get("event") == "step_finished"]
        assert finished == [1, 2, 3], frames
        assert frames[-1]["type"] == "end" and frames[-1]["status"] == "completed"
    # Every socket, the late one included, was sent the same frames from the run's start.
    assert all(frames == watched[0] for frames in watched)
    await upstreams_become(stack, before)
    assert [stack.model.calls_mentioning(f"{tag} do part {i}") for i in (1, 2, 3)] == [1, 1, 1]


async def test_the_stream_closes_when_its_last_watcher_leaves_and_the_run_goes_on(
    stack: Stack, gateway: httpx.AsyncClient
):
    before = await metric(stack, OPEN)
    # One silent step: nothing is sent to the sockets while they leave.
    thread_id = await start(gateway, react_flow(marker(), steps=1, slow=4))
    url = thread_stream(stack, thread_id)
    sockets = [await ws_connect(url) for _ in range(3)]
    for socket in sockets:
        while json.loads(await socket.recv()).get("event") != "step_started":
            pass
    assert await metric(stack, OPEN) == before + 1

    await sockets[0].close()
    await asyncio.sleep(0.5)
    assert await metric(stack, OPEN) == before + 1, "two watchers are still there"
    for socket in sockets[1:]:
        await socket.close()
    await upstreams_become(stack, before, timeout=1.5)
    assert (await gateway.get(f"/api/threads/{thread_id}")).json()["status"] == "running"

    # Watching again opens a new stream, from the run's start.
    frames = await frames_of(url)
    assert [f["event"] for f in frames if f["type"] == "progress"] == [
        "step_started",
        "step_finished",
    ]
    assert frames[-1]["status"] == "completed"
    await wait_for_status(gateway, thread_id, {"completed"})


async def test_each_watcher_is_authorised_on_its_own(stack: Stack, gateway: httpx.AsyncClient):
    """Bob cannot watch alice's run by joining the stream she has open."""
    before = await metric(stack, OPEN)
    thread_id = await start(gateway, react_flow(marker(), steps=1, slow=2))
    url = thread_stream(stack, thread_id)
    async with ws_connect(url) as alice:
        assert json.loads(await alice.recv())["type"] == "started"
        await upstreams_become(stack, before + 1)
        refused = await frames_of(url, BOB)
        assert [f["type"] for f in refused] == ["error"], refused
        assert refused[0]["error"] == "not_found"
        frames = [json.loads(message) async for message in alice]
    assert frames[-1]["status"] == "completed"
