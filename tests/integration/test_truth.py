"""Every answer says what happened: corners found by new users and adversaries (issue 12),
each against the real Agent Server."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from tests.integration.helpers import marker, react_flow, start, stream_frames, wait_for_status


def with_approval(tag: str, steps_after: int = 1) -> dict[str, Any]:
    """step 1, an approval, then `steps_after` more steps."""
    flow = react_flow(tag, steps=1 + steps_after)
    flow["nodes"].append({"id": "ok", "type": "approval", "data": {"question": f"{tag} ship?"}})
    flow["edges"] = [
        {"source": "n1", "target": "ok"},
        {"source": "ok", "target": "n2"},
        *[{"source": f"n{i}", "target": f"n{i + 1}"} for i in range(2, 1 + steps_after)],
    ]
    return flow


async def test_a_rejected_workflow_is_finished_and_resume_says_so(gateway: httpx.AsyncClient):
    thread_id = await start(gateway, with_approval(marker(), steps_after=2))
    await wait_for_status(gateway, thread_id, {"waiting"})
    no = await gateway.post(f"/api/threads/{thread_id}/resume", json={"approved": False})
    assert no.status_code == 202
    done = await wait_for_status(gateway, thread_id, {"completed"})
    assert done["progress"]["outcome"] == "rejected"
    assert (done["progress"]["completed_steps"], done["progress"]["total_steps"]) == (2, 4)
    for _ in range(2):
        again = await gateway.post(f"/api/threads/{thread_id}/resume")
        assert again.status_code == 409 and again.json()["error"] == "nothing_to_resume"
    after = (await gateway.get(f"/api/threads/{thread_id}")).json()
    assert after["status"] == "completed" and after["progress"]["outcome"] == "rejected"
    found = await gateway.get("/api/threads", params={"status": "completed", "limit": 100})
    assert thread_id in [t["thread_id"] for t in found.json()["threads"]]


async def test_history_pages_with_before(gateway: httpx.AsyncClient):
    thread_id = await start(gateway, react_flow(marker(), steps=3))
    await wait_for_status(gateway, thread_id, {"completed"})
    everything = (await gateway.get(f"/api/threads/{thread_id}/history")).json()
    first = (await gateway.get(f"/api/threads/{thread_id}/history", params={"limit": 2})).json()
    rest = await gateway.get(
        f"/api/threads/{thread_id}/history", params={"before": first[-1]["checkpoint_id"]}
    )
    assert rest.status_code == 200, rest.text
    ids = [c["checkpoint_id"] for c in first + rest.json()]
    assert ids == [c["checkpoint_id"] for c in everything] and len(set(ids)) == len(ids)


async def test_a_follow_up_keeps_the_earlier_steps_results(gateway: httpx.AsyncClient):
    thread_id = await start(gateway, react_flow(marker(), steps=2))
    await wait_for_status(gateway, thread_id, {"completed"})
    before = (await gateway.get(f"/api/threads/{thread_id}")).json()["results"]
    assert set(before) == {"n1", "n2"}
    follow = await gateway.post(
        "/api/workflow/execute", json={"thread_id": thread_id, "message": "sum it up"}
    )
    assert follow.status_code == 202
    await wait_for_status(gateway, thread_id, {"completed"})
    after = (await gateway.get(f"/api/threads/{thread_id}")).json()["results"]
    assert set(after) == {"n1", "n2", "follow-up"}
    assert {k: after[k] for k in before} == before


async def test_a_half_done_cancel_reads_paused_and_resume_recovers(
    gateway: httpx.AsyncClient, sdk: Any, stack: Any
):
    """A cancel whose second write never happened (the Agent Server failed in between)
    leaves an interrupted thread asking nothing: it shows as paused, and resume runs the
    abandoned step again and finishes."""
    tag = marker()
    thread_id = await start(gateway, react_flow(tag, steps=3, slow=1.5))
    deadline = asyncio.get_running_loop().time() + 20
    while stack.model.calls_mentioning(f"{tag} do part 2") == 0:
        assert asyncio.get_running_loop().time() < deadline, "step 2 never started"
        await asyncio.sleep(0.1)
    (run,) = await sdk.runs.list(thread_id)
    await sdk.runs.cancel(thread_id, run["run_id"], action="interrupt", wait=True)  # step 1 only
    shown = (await gateway.get(f"/api/threads/{thread_id}")).json()
    assert (shown["status"], shown["question"]) == ("paused", None)
    resumed = await gateway.post(f"/api/threads/{thread_id}/resume")
    assert resumed.status_code == 202, resumed.text
    done = await wait_for_status(gateway, thread_id, {"completed"})
    assert done["progress"]["completed_steps"] == 3
    calls = [stack.model.calls_mentioning(f"{tag} do part {i}") for i in (1, 2, 3)]
    assert calls == [1, 2, 1], calls


async def test_an_execution_describes_its_own_run(gateway: httpx.AsyncClient):
    first_flow = react_flow(marker(), steps=2)
    first = await gateway.post("/api/workflow/execute", json={"workflow_json": first_flow})
    thread_id, first_id = first.json()["thread_id"], first.json()["execution_id"]
    await wait_for_status(gateway, thread_id, {"completed"})
    second_flow = react_flow(marker(), steps=3, slow=1)
    second = await gateway.post(
        "/api/workflow/execute", json={"workflow_json": second_flow, "thread_id": thread_id}
    )
    assert second.status_code == 202, second.text
    await wait_for_status(gateway, thread_id, {"running"})
    while_second_runs = (await gateway.get(f"/api/workflow/execution/{first_id}")).json()
    assert while_second_runs["status"] == "completed"
    assert while_second_runs["progress"]["total_steps"] == 2
    await wait_for_status(gateway, thread_id, {"completed"})
    old = (await gateway.get(f"/api/workflow/execution/{first_id}")).json()
    new = (await gateway.get(f"/api/workflow/execution/{second.json()['execution_id']}")).json()
    assert (old["status"], old["progress"]["completed_steps"], old["progress"]["total_steps"]) == (
        "completed",
        2,
        2,
    )
    assert set(old["result"]) == {"n1", "n2"}
    assert (new["progress"]["completed_steps"], new["progress"]["total_steps"]) == (3, 3)
    assert set(new["result"]) == {"n1", "n2", "n3"} and new["result"] != old["result"]


async def history_ids(gateway: httpx.AsyncClient, thread_id: str) -> list[str]:
    history = (await gateway.get(f"/api/threads/{thread_id}/history")).json()
    return [c["checkpoint_id"] for c in history]


async def test_a_fork_with_values_that_break_the_plan_is_422_and_writes_nothing(
    gateway: httpx.AsyncClient,
):
    thread_id = await start(gateway, react_flow(marker(), steps=2))
    await wait_for_status(gateway, thread_id, {"completed"})
    before = await history_ids(gateway, thread_id)
    plan = (await gateway.get(f"/api/threads/{thread_id}/state")).json()["values"]["plan"]
    bad = [
        ({"plan": [{"type": "teleport"}]}, "values.plan[0]"),
        ({"plan": [{**plan[0], "type": "teleport"}]}, "values.plan[0].type"),
        ({"plan": [plan[0], {**plan[1], "id": plan[0]["id"]}]}, "values.plan[1].id"),
        ({"completed": ["nowhere"]}, "values.completed[0]"),
        ({"results": {"n1": {"output": 5}}}, "values.results.n1"),
        ({"messages": []}, "values.messages"),
        ({"results": {"n1": {"output": "x", "approved": 1}}}, "values.results.n1"),
    ]
    for values, field in bad:
        forked = await gateway.post(
            f"/api/threads/{thread_id}/fork", json={"checkpoint_id": before[-2], "values": values}
        )
        assert forked.status_code == 422, forked.text
        assert forked.json()["details"]["field"] == field, forked.json()
    assert await history_ids(gateway, thread_id) == before, "a refused fork wrote a checkpoint"
    assert (await gateway.get(f"/api/threads/{thread_id}")).json()["status"] == "completed"


async def test_a_fork_refused_because_the_thread_is_busy_writes_nothing(
    gateway: httpx.AsyncClient,
):
    thread_id = await start(gateway, react_flow(marker(), steps=2))
    await wait_for_status(gateway, thread_id, {"completed"})
    ids = await history_ids(gateway, thread_id)
    plan = (await gateway.get(f"/api/threads/{thread_id}/state")).json()["values"]["plan"]
    # Busy again: a follow-up that takes a while.
    slow = await gateway.post(
        "/api/workflow/execute",
        json={"workflow_json": react_flow(marker(), steps=1, slow=2), "thread_id": thread_id},
    )
    assert slow.status_code == 202
    await wait_for_status(gateway, thread_id, {"running"})
    forked = await gateway.post(
        f"/api/threads/{thread_id}/fork", json={"checkpoint_id": ids[-2], "values": {"plan": plan}}
    )
    assert forked.status_code == 409 and forked.json()["error"] == "already_running"
    await wait_for_status(gateway, thread_id, {"completed"})
    history = (await gateway.get(f"/api/threads/{thread_id}/history")).json()
    children = [c["checkpoint_id"] for c in history if c["parent_checkpoint_id"] == ids[-2]]
    assert children == [ids[-3]], "the refused fork left a branch behind"


async def test_a_failed_model_call_gives_one_reason_everywhere(
    stack: Any, gateway: httpx.AsyncClient
):
    flow = react_flow(marker(), steps=1)
    flow["nodes"][0]["data"]["instructions"] += " [drop]"
    frames = await stream_frames(stack.ws_url, {"workflow_json": flow})
    assert frames[-1]["type"] == "error" and frames[-1]["error"] == "workflow_failed"
    reason = frames[-1]["message"]
    assert "Connection" in reason and "internal error" not in reason.lower(), reason
    thread_id, execution_id = frames[0]["thread_id"], frames[0]["execution_id"]
    details = await wait_for_status(gateway, thread_id, {"failed"})
    execution = (await gateway.get(f"/api/workflow/execution/{execution_id}")).json()
    failed = (await gateway.get("/api/threads/failed", params={"limit": 100})).json()
    listed = next(t for t in failed if t["thread_id"] == thread_id)
    assert details["progress"]["error_message"] == reason
    assert execution["error"] == reason
    assert listed["progress"]["error_message"] == reason
    for text in (reason, str(details), str(execution)):
        assert "Traceback" not in text and stack.model.base_url not in text


async def test_stream_chunks_are_the_models_output_once_and_nothing_internal(
    stack: Any, gateway: httpx.AsyncClient
):
    tag = marker()
    frames = await stream_frames(stack.ws_url, {"workflow_json": react_flow(tag, steps=2)})
    chunks = [f for f in frames if f["type"] == "chunk" and f["mode"] == "messages"]
    text = "".join(c["data"]["content"] for c in chunks)
    details = (await gateway.get(f"/api/threads/{frames[0]['thread_id']}")).json()
    answers = [details["results"][s]["output"] for s in ("n1", "n2")]
    assert text == "".join(answers), "each answer once, nothing else"
    assert f"{tag} do part 1" not in text.replace(answers[0], "").replace(answers[1], "")
    raw = str(frames)
    assert stack.agent_url not in raw and "langgraph_api_url" not in raw


async def test_each_status_search_finds_exactly_the_threads_that_show_it(
    gateway: httpx.AsyncClient,
):
    tag = marker()
    workflow_id = f"wf-{tag}"

    def flow(steps: int = 1, slow: float = 0, fail: bool = False) -> dict[str, Any]:
        made = react_flow(tag, steps=steps, slow=slow)
        if fail:
            made["nodes"][0]["data"]["instructions"] += " [fail]"
        return made

    completed = await start(gateway, flow())
    failed = await start(gateway, flow(fail=True))
    waiting = await start(gateway, with_approval(tag))
    paused = await start(gateway, flow(steps=3, slow=1))
    await wait_for_status(gateway, paused, {"running"})
    assert (await gateway.post(f"/api/threads/{paused}/pause")).status_code == 202
    await wait_for_status(gateway, completed, {"completed"})
    await wait_for_status(gateway, failed, {"failed"})
    await wait_for_status(gateway, waiting, {"waiting"})
    await wait_for_status(gateway, paused, {"paused"})
    running = await start(gateway, flow(steps=3, slow=4))
    await wait_for_status(gateway, running, {"running"})
    expected = {
        "completed": {completed},
        "failed": {failed},
        "waiting": {waiting},
        "paused": {paused},
        "running": {running},
        "pending": set(),
    }
    for status, ids in expected.items():
        page = (
            await gateway.get("/api/threads", params={"workflow_id": workflow_id, "status": status})
        ).json()
        assert "threads" in page, (status, page)
        found = {t["thread_id"] for t in page["threads"]}
        assert found == ids, (status, found)
        assert page["total"] == len(ids), (status, page["total"])
        assert {t["status"] for t in page["threads"]} <= {status}
        for thread_id in ids:  # and each shows that status on its own page too
            assert (await gateway.get(f"/api/threads/{thread_id}")).json()["status"] == status
    everything = await gateway.get("/api/threads", params={"workflow_id": workflow_id})
    assert everything.json()["total"] == 5


async def test_a_fork_that_leaves_nothing_to_run_is_refused_and_writes_nothing(
    gateway: httpx.AsyncClient,
):
    thread_id = await start(gateway, react_flow(marker(), steps=2))
    await wait_for_status(gateway, thread_id, {"completed"})
    before = await history_ids(gateway, thread_id)
    done = await gateway.post(
        f"/api/threads/{thread_id}/fork",
        json={"checkpoint_id": before[0], "values": {"results": {"n1": {"output": "edited"}}}},
    )
    assert done.status_code == 409 and done.json()["error"] == "nothing_to_run", done.text
    assert await history_ids(gateway, thread_id) == before
    assert (await gateway.get(f"/api/threads/{thread_id}")).json()["status"] == "completed"


async def test_a_fork_after_a_no_runs_the_steps_left(gateway: httpx.AsyncClient):
    thread_id = await start(gateway, with_approval(marker(), steps_after=1))
    await wait_for_status(gateway, thread_id, {"waiting"})
    await gateway.post(f"/api/threads/{thread_id}/resume", json={"approved": False})
    rejected = await wait_for_status(gateway, thread_id, {"completed"})
    assert rejected["progress"]["outcome"] == "rejected"
    last = (await history_ids(gateway, thread_id))[0]
    state = (await gateway.get(f"/api/threads/{thread_id}/state")).json()["values"]
    results = {**state["results"], "ok": {"output": "yes after all", "approved": True}}
    forked = await gateway.post(
        f"/api/threads/{thread_id}/fork",
        json={"checkpoint_id": last, "values": {"results": results}},
    )
    assert forked.status_code == 202, forked.text
    done = await wait_for_status(gateway, thread_id, {"completed"})
    assert done["progress"]["outcome"] == "completed" and "n2" in done["results"]


async def test_an_execution_that_failed_keeps_its_own_reason_after_a_resume(
    gateway: httpx.AsyncClient,
):
    flow = react_flow(marker(), steps=2)
    flow["nodes"][0]["data"]["instructions"] += " [fail once]"  # the last step, first time
    first = await gateway.post("/api/workflow/execute", json={"workflow_json": flow})
    thread_id, first_id = first.json()["thread_id"], first.json()["execution_id"]
    await wait_for_status(gateway, thread_id, {"failed"})
    assert (await gateway.post(f"/api/threads/{thread_id}/resume")).status_code == 202
    await wait_for_status(gateway, thread_id, {"completed"})
    view = (await gateway.get(f"/api/workflow/execution/{first_id}")).json()
    assert view["status"] == "failed", view
    assert "step failed on purpose" in (view["error"] or ""), view
    assert view["progress"]["completed_steps"] == 1
