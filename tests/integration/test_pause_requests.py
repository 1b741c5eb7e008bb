"""A pause request that no step boundary took (its run was cancelled, or ended first)
does not stay in the Agent Server's store: cancelling or running the thread again
removes it. Read straight from the store."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from langgraph_sdk.client import LangGraphClient
from langgraph_sdk.errors import NotFoundError

from agents.contract import pause_namespace
from tests.integration.conftest import Stack
from tests.integration.helpers import marker, react_flow, start, wait_for_status


async def pause_request(sdk: LangGraphClient, thread_id: str) -> Any:
    try:
        item = await sdk.store.get_item(list(pause_namespace("alice")), key=thread_id)
    except NotFoundError:
        return None
    return item["value"] if item else None


async def running_step(stack: Stack, gateway: httpx.AsyncClient, tag: str, slow: float) -> str:
    """A thread whose first (slow) step the model is working on now."""
    thread_id = await start(gateway, react_flow(tag, steps=2, slow=slow))
    await wait_for_status(gateway, thread_id, {"running"})
    while stack.model.calls_mentioning(f"{tag} do part 1") == 0:
        await asyncio.sleep(0.05)
    return thread_id


async def test_cancel_removes_the_pause_request_its_run_never_took(
    stack: Stack, gateway: httpx.AsyncClient, sdk: LangGraphClient
):
    thread_id = await running_step(stack, gateway, marker(), slow=3)
    assert (await gateway.post(f"/api/threads/{thread_id}/pause")).status_code == 202
    assert (await pause_request(sdk, thread_id)) is not None
    cancelled = await gateway.post(f"/api/threads/{thread_id}/cancel")
    assert cancelled.status_code == 200, cancelled.text
    assert await pause_request(sdk, thread_id) is None


async def test_running_the_thread_again_removes_a_leftover(
    stack: Stack, gateway: httpx.AsyncClient, sdk: LangGraphClient
):
    tag = marker()
    thread_id = await running_step(stack, gateway, tag, slow=2)
    assert (await gateway.post(f"/api/threads/{thread_id}/pause")).status_code == 202
    await wait_for_status(gateway, thread_id, {"paused"})
    # What a run that failed mid-step leaves: a request naming a run that is over.
    [last] = await sdk.runs.list(thread_id, limit=1)
    namespace = list(pause_namespace("alice"))
    await sdk.store.put_item(namespace, key=thread_id, value={"run_id": last["run_id"]})

    resumed = await gateway.post(f"/api/threads/{thread_id}/resume")
    assert resumed.status_code == 202, resumed.text
    # Read at once: the resumed run's step takes 2 s, and only its end takes a request.
    assert await pause_request(sdk, thread_id) is None
    done = await wait_for_status(gateway, thread_id, {"completed"})
    assert done["progress"]["completed_steps"] == 2
