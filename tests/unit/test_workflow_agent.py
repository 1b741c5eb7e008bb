"""The workflow graph in-process: one checkpoint per step, progress events, approvals."""

from __future__ import annotations

from typing import Any

from langgraph.checkpoint.memory import InMemorySaver
from langgraph.store.memory import InMemoryStore
from langgraph.types import Command

from agents.contract import PAUSE_REQUESTS
from agents.model import OfflineChatModel
from agents.workflow import build_graph


def plan_input(*kinds: str) -> dict[str, Any]:
    plan = [
        {"id": f"s{i}", "type": kind, "title": f"Step {i}", "prompt": f"instructions {i}"}
        for i, kind in enumerate(kinds, start=1)
    ]
    return {
        "messages": [{"role": "user", "content": "run it"}],
        "plan": plan,
        "results": {},
        "completed": [],
        "phase": "pending",
        "outcome": None,
    }


async def run(graph: Any, payload: Any, thread: str) -> list[tuple[str, Any]]:
    config = {"configurable": {"thread_id": thread}}
    return [
        (mode, data)
        async for mode, data in graph.astream(payload, config, stream_mode=["custom", "updates"])
    ]


async def test_each_step_is_its_own_checkpoint_with_progress_events():
    graph = build_graph(InMemorySaver())
    events = await run(graph, plan_input("task", "task", "task"), "t1")
    progress = [d for mode, d in events if mode == "custom"]
    assert [(p["event"], p["completed_steps"]) for p in progress] == [
        ("step_started", 0),
        ("step_finished", 1),
        ("step_started", 1),
        ("step_finished", 2),
        ("step_started", 2),
        ("step_finished", 3),
    ]
    config = {"configurable": {"thread_id": "t1"}}
    history = [s async for s in graph.aget_state_history(config)]
    completed_per_checkpoint = sorted(len(s.values.get("completed", [])) for s in history)
    assert completed_per_checkpoint[-4:] == [0, 1, 2, 3]
    final = await graph.aget_state(config)
    assert final.values["phase"] == "done" and final.values["outcome"] == "completed"
    assert list(final.values["results"]) == ["s1", "s2", "s3"]


async def test_later_steps_see_earlier_results_in_the_conversation():
    graph = build_graph(InMemorySaver())
    await run(graph, plan_input("task", "task"), "t2")
    state = await graph.aget_state({"configurable": {"thread_id": "t2"}})
    texts = [m.text for m in state.values["messages"]]
    assert texts[0] == "run it"
    assert "Step 1/2" in texts[1] and texts[2] == state.values["results"]["s1"]["output"]
    assert "instructions 2" in texts[3]


async def test_approval_waits_then_continues_when_approved():
    graph = build_graph(InMemorySaver())
    config = {"configurable": {"thread_id": "t3"}}
    await run(graph, plan_input("task", "approval", "task"), "t3")
    waiting = await graph.aget_state(config)
    assert waiting.next == ("approval",)
    assert waiting.interrupts[0].value["question"] == "instructions 2"
    await run(graph, Command(resume={"approved": True, "comment": "fine"}), "t3")
    done = await graph.aget_state(config)
    assert done.values["completed"] == ["s1", "s2", "s3"]
    assert done.values["results"]["s2"] == {"output": "approved: fine", "approved": True}


async def test_rejected_approval_ends_the_workflow():
    graph = build_graph(InMemorySaver())
    config = {"configurable": {"thread_id": "t4"}}
    await run(graph, plan_input("approval", "task"), "t4")
    await run(graph, Command(resume={"approved": False}), "t4")
    state = await graph.aget_state(config)
    assert state.values["outcome"] == "rejected" and state.values["phase"] == "done"
    assert "s2" not in state.values["results"] and state.next == ()


def test_offline_model_is_deterministic_and_sees_the_history():
    model = OfflineChatModel()
    first = model.invoke("Summarise\nthe report").text
    assert first == model.invoke("Summarise\nthe report").text
    assert "Summarise / the report" in first
    assert model.invoke([("user", "earlier"), ("user", "Summarise\nthe report")]).text != first


async def test_pause_request_stops_at_the_next_boundary_and_resume_continues():
    store = InMemoryStore()
    graph = build_graph(InMemorySaver(), store)
    config = {"configurable": {"thread_id": "t5"}}
    async for _mode, event in graph.astream(
        plan_input("task", "task", "task"), config, stream_mode=["custom"]
    ):
        if event["event"] == "step_started" and event["step_id"] == "s1":
            await store.aput(PAUSE_REQUESTS, "t5", {"run_id": None})
    paused = await graph.aget_state(config)
    assert paused.values["completed"] == ["s1"] and paused.values["phase"] == "paused"
    assert paused.next == () and await store.aget(PAUSE_REQUESTS, "t5") is None

    await run(graph, {"phase": "running"}, "t5")
    done = await graph.aget_state(config)
    assert done.values["completed"] == ["s1", "s2", "s3"] and done.values["phase"] == "done"


async def test_pause_request_for_another_run_is_dropped():
    store = InMemoryStore()
    graph = build_graph(InMemorySaver(), store)
    await store.aput(PAUSE_REQUESTS, "t6", {"run_id": "an-earlier-run"})
    config = {"configurable": {"thread_id": "t6"}, "metadata": {"run_id": "this-run"}}
    async for _ in graph.astream(plan_input("task", "task"), config):
        pass
    state = await graph.aget_state(config)
    assert state.values["phase"] == "done" and await store.aget(PAUSE_REQUESTS, "t6") is None
