"""Races made to happen on purpose against the real Agent Server; each asserts the final
state read back from it, not only the responses."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from langgraph_sdk.client import LangGraphClient

from tests.integration.helpers import marker, react_flow, start, wait_for_status, wait_for_steps


async def paused_thread(gateway: httpx.AsyncClient, tag: str, steps: int = 3) -> str:
    thread_id = await start(gateway, react_flow(tag, steps=steps, slow=1))
    await wait_for_status(gateway, thread_id, {"running"})
    assert (await gateway.post(f"/api/threads/{thread_id}/pause")).status_code == 202
    await wait_for_status(gateway, thread_id, {"paused"})
    return thread_id


async def test_fifty_concurrent_resumes_start_exactly_one_run(
    gateway: httpx.AsyncClient, sdk: LangGraphClient, stack: Any
):
    tag = marker()
    thread_id = await paused_thread(gateway, tag)
    runs_before = len(await sdk.runs.list(thread_id))
    answers = await asyncio.gather(
        *(gateway.post(f"/api/threads/{thread_id}/resume") for _ in range(50))
    )
    codes = sorted(a.status_code for a in answers)
    assert codes == [202] + [409] * 49, codes
    assert {a.json()["error"] for a in answers if a.status_code == 409} == {"already_running"}
    done = await wait_for_status(gateway, thread_id, {"completed"})
    assert done["progress"]["completed_steps"] == 3
    assert len(await sdk.runs.list(thread_id)) == runs_before + 1
    calls = [stack.model.calls_mentioning(f"{tag} do part {i}") for i in (1, 2, 3)]
    assert calls == [1, 1, 1], calls


async def test_cancel_at_the_last_step_says_what_happened(
    gateway: httpx.AsyncClient, sdk: LangGraphClient
):
    thread_id = await start(gateway, react_flow(marker(), steps=2, slow=0.6))
    await wait_for_steps(gateway, thread_id, 1)
    await asyncio.sleep(0.5)  # the last step is about to finish
    cancelled = await gateway.post(f"/api/threads/{thread_id}/cancel")
    final = (await gateway.get(f"/api/threads/{thread_id}")).json()
    state = await sdk.threads.get_state(thread_id)
    values: Any = state["values"]
    if cancelled.status_code == 200:
        assert final["status"] == "paused" and values["phase"] == "paused"
        assert final["progress"]["completed_steps"] == 1
    else:
        assert cancelled.status_code == 409, cancelled.text
        assert cancelled.json()["details"]["status"] == final["status"] == "completed"
        assert values["phase"] == "done"


async def test_fork_and_resume_at_once_start_one_run_and_leave_no_branch(
    gateway: httpx.AsyncClient, sdk: LangGraphClient
):
    thread_id = await paused_thread(gateway, marker())
    history = (await gateway.get(f"/api/threads/{thread_id}/history")).json()
    at = history[-2]["checkpoint_id"]  # after the input, before any step
    plan = (await gateway.get(f"/api/threads/{thread_id}/state")).json()["values"]["plan"]
    runs_before = len(await sdk.runs.list(thread_id))
    fork, resume = await asyncio.gather(
        gateway.post(
            f"/api/threads/{thread_id}/fork", json={"checkpoint_id": at, "values": {"plan": plan}}
        ),
        gateway.post(f"/api/threads/{thread_id}/resume"),
    )
    codes = sorted([fork.status_code, resume.status_code])
    assert codes == [202, 409], (fork.text, resume.text)
    await wait_for_status(gateway, thread_id, {"completed"})
    assert len(await sdk.runs.list(thread_id)) == runs_before + 1
    if fork.status_code == 409:
        after = (await gateway.get(f"/api/threads/{thread_id}/history")).json()
        children = {c["checkpoint_id"] for c in after if c["parent_checkpoint_id"] == at}
        original = {c["checkpoint_id"] for c in history if c["parent_checkpoint_id"] == at}
        assert children == original, "the refused fork left a branch behind"


async def test_prune_keeps_a_thread_resumed_before_it_prunes(gateway: httpx.AsyncClient):
    tag = marker()
    thread_id = await paused_thread(gateway, tag)
    resumed = await gateway.post(f"/api/threads/{thread_id}/resume")
    assert resumed.status_code == 202
    pruned = await gateway.post(
        "/api/threads/prune",
        json={"older_than_minutes": 0, "dry_run": False, "workflow_id": f"wf-{tag}"},
    )
    assert pruned.status_code == 200, pruned.text
    assert thread_id not in pruned.json()["thread_ids"]
    done = await wait_for_status(gateway, thread_id, {"completed"})
    assert done["progress"]["completed_steps"] == 3
