"""Pause, cancel, approvals, resume and fork against the real Agent Server.

Each test counts the model calls its own steps made (through the loopback model), so
"no finished step runs twice" is measured, not assumed.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from tests.integration.conftest import Stack
from tests.integration.helpers import marker, react_flow, start, wait_for_status


async def wait_for_steps(gateway: httpx.AsyncClient, thread_id: str, done: int) -> None:
    for _ in range(300):
        body = (await gateway.get(f"/api/threads/{thread_id}")).json()
        if body["progress"]["completed_steps"] >= done:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"thread {thread_id} never reached {done} steps")


def step_calls(stack: Stack, tag: str, steps: int) -> list[int]:
    return [stack.model.calls_mentioning(f"{tag} do part {i}") for i in range(1, steps + 1)]


async def test_pause_finishes_the_step_in_flight_then_resume_runs_the_rest_once(
    stack: Stack, gateway: httpx.AsyncClient
):
    tag = marker()
    thread_id = await start(gateway, react_flow(tag, steps=3, slow=1))
    await wait_for_status(gateway, thread_id, {"running"})
    while stack.model.calls_mentioning(f"{tag} do part 1") == 0:
        await asyncio.sleep(0.05)

    paused = await gateway.post(f"/api/threads/{thread_id}/pause")
    assert paused.status_code == 202 and paused.json()["status"] == "pausing"
    details = await wait_for_status(gateway, thread_id, {"paused"})
    assert details["progress"]["completed_steps"] == 1  # the step in flight finished
    assert details["progress"]["current_step"] == "Step 2"
    assert step_calls(stack, tag, 3) == [1, 0, 0]
    listed = await gateway.get("/api/threads", params={"status": "paused", "limit": 100})
    assert thread_id in {t["thread_id"] for t in listed.json()["threads"]}

    again = await gateway.post(f"/api/threads/{thread_id}/pause")
    assert again.status_code == 409 and again.json()["error"] == "not_running"

    resumed = await gateway.post(f"/api/threads/{thread_id}/resume")
    assert resumed.status_code == 202
    busy = await gateway.post(f"/api/threads/{thread_id}/resume")
    assert busy.status_code == 409 and busy.json()["error"] == "already_running"
    done = await wait_for_status(gateway, thread_id, {"completed"})
    assert done["progress"]["completed_steps"] == 3
    assert step_calls(stack, tag, 3) == [1, 1, 1]


async def test_pausing_a_finished_thread_is_409(gateway: httpx.AsyncClient):
    thread_id = await start(gateway, react_flow(marker(), steps=1))
    await wait_for_status(gateway, thread_id, {"completed"})
    for action in ("pause", "cancel", "resume"):
        response = await gateway.post(f"/api/threads/{thread_id}/{action}")
        assert response.status_code == 409, action
        assert response.json()["details"]["status"] == "completed"


async def test_cancel_stops_now_and_resume_reruns_only_the_lost_step(
    stack: Stack, gateway: httpx.AsyncClient
):
    tag = marker()
    thread_id = await start(gateway, react_flow(tag, steps=3, slow=1.5))
    await wait_for_steps(gateway, thread_id, 1)
    while stack.model.calls_mentioning(f"{tag} do part 2") == 0:
        await asyncio.sleep(0.05)

    cancelled = await gateway.post(f"/api/threads/{thread_id}/cancel")
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["progress"]["status"] == "paused"
    assert cancelled.json()["progress"]["completed_steps"] == 1

    assert (await gateway.post(f"/api/threads/{thread_id}/resume")).status_code == 202
    await wait_for_status(gateway, thread_id, {"completed"})
    assert step_calls(stack, tag, 3) == [1, 2, 1]  # only the abandoned step ran again


async def test_approval_waits_with_its_question_and_the_answer_decides(
    stack: Stack, gateway: httpx.AsyncClient
):
    def with_approval(tag: str) -> dict[str, Any]:
        flow = react_flow(tag, steps=2)
        flow["nodes"].append({"id": "ok", "type": "approval", "data": {"question": f"{tag} ship?"}})
        flow["edges"] += [{"source": "n1", "target": "ok"}, {"source": "ok", "target": "n2"}]
        return flow

    yes, no = marker(), marker()
    approved_id = await start(gateway, with_approval(yes))
    rejected_id = await start(gateway, with_approval(no))
    for thread_id, tag in ((approved_id, yes), (rejected_id, no)):
        waiting = await wait_for_status(gateway, thread_id, {"waiting"})
        assert waiting["question"]["question"] == f"{tag} ship?"
        assert waiting["progress"]["completed_steps"] == 1
    listed = await gateway.get("/api/threads", params={"status": "waiting", "limit": 100})
    assert {approved_id, rejected_id} <= {t["thread_id"] for t in listed.json()["threads"]}

    no_answer = await gateway.post(f"/api/threads/{approved_id}/resume")
    assert no_answer.status_code == 422 and no_answer.json()["error"] == "answer_required"

    answer = {"approved": True, "comment": "looks good"}
    assert (
        await gateway.post(f"/api/threads/{approved_id}/resume", json=answer)
    ).status_code == 202
    approved = await wait_for_status(gateway, approved_id, {"completed"})
    assert approved["progress"]["outcome"] == "completed"
    assert approved["results"]["ok"] == {"output": "approved: looks good", "approved": True}
    assert step_calls(stack, yes, 2) == [1, 1]

    denied = await gateway.post(f"/api/threads/{rejected_id}/resume", json={"approved": False})
    assert denied.status_code == 202
    rejected = await wait_for_status(gateway, rejected_id, {"completed"})
    assert rejected["progress"]["outcome"] == "rejected"
    assert "n2" not in rejected["results"] and step_calls(stack, no, 2) == [1, 0]

    late = await gateway.post(f"/api/threads/{approved_id}/resume", json={"approved": True})
    assert late.status_code == 409 and late.json()["error"] == "not_waiting"


async def test_failed_thread_resumes_from_its_last_checkpoint(
    stack: Stack, gateway: httpx.AsyncClient
):
    tag = marker()
    flow = react_flow(tag, steps=3)
    flow["nodes"][1]["data"]["instructions"] += " [fail once]"  # step 2 (listed in reverse)
    thread_id = await start(gateway, flow)
    failed = await wait_for_status(gateway, thread_id, {"failed"})
    assert failed["progress"]["completed_steps"] == 1
    assert "step failed on purpose" in failed["progress"]["error_message"]

    assert (await gateway.post(f"/api/threads/{thread_id}/resume")).status_code == 202
    await wait_for_status(gateway, thread_id, {"completed"})
    assert step_calls(stack, tag, 3) == [1, 2, 1]


async def test_unknown_thread_is_404_for_every_control(gateway: httpx.AsyncClient):
    ghost = "00000000-0000-4000-8000-000000000000"
    for action in ("pause", "cancel", "resume"):
        response = await gateway.post(f"/api/threads/{ghost}/{action}")
        assert response.status_code == 404, action
    fork = await gateway.post(f"/api/threads/{ghost}/fork", json={"checkpoint_id": ghost})
    assert fork.status_code == 404


async def test_fork_from_an_earlier_step_keeps_the_original_history(
    stack: Stack, gateway: httpx.AsyncClient
):
    tag = marker()
    thread_id = await start(gateway, react_flow(tag, steps=3))
    await wait_for_status(gateway, thread_id, {"completed"})
    history = (await gateway.get(f"/api/threads/{thread_id}/history")).json()
    after_first = next(c for c in history if c["completed_steps"] == 1 and c["source"] == "loop")
    original_last = history[0]
    original_output = (await gateway.get(f"/api/threads/{thread_id}")).json()["results"]["n3"]

    plan = (await gateway.get(f"/api/threads/{thread_id}/state")).json()["values"]["plan"]
    plan[1]["prompt"] = f"{tag} do part 2, but shorter"
    forked = await gateway.post(
        f"/api/threads/{thread_id}/fork",
        json={"checkpoint_id": after_first["checkpoint_id"], "values": {"plan": plan}},
    )
    assert forked.status_code == 202, forked.text
    done = await wait_for_status(gateway, thread_id, {"completed"})
    assert "shorter" in done["results"]["n2"]["output"]
    assert done["results"]["n1"]["output"].startswith("echo: Step 1/3")
    assert step_calls(stack, tag, 3) == [1, 2, 2]  # step 1 was not redone

    # The original path is still there, readable by checkpoint id.
    old = await gateway.get(
        f"/api/threads/{thread_id}/state", params={"checkpoint_id": original_last["checkpoint_id"]}
    )
    assert old.json()["values"]["results"]["n3"] == original_output
    ids = {
        c["checkpoint_id"] for c in (await gateway.get(f"/api/threads/{thread_id}/history")).json()
    }
    assert original_last["checkpoint_id"] in ids

    # Forking from the end has nothing to run.
    end = await gateway.post(
        f"/api/threads/{thread_id}/fork", json={"checkpoint_id": original_last["checkpoint_id"]}
    )
    assert end.status_code == 409 and end.json()["error"] == "nothing_to_run"
