"""Progress and statuses computed from Agent Server threads, and stream frames."""

from __future__ import annotations

from typing import Any, cast

import pytest
from langgraph_sdk.schema import StreamPart

from agents.contract import WorkflowStatus
from gateway.api.frames import StreamFrames, run_error
from gateway.threads.executions import Execution
from gateway.threads.progress import (
    marked_queued,
    search_filter,
    thread_progress,
    waiting_question,
)

PLAN = [{"id": f"s{i}", "title": f"Step {i}", "type": "task", "prompt": "x"} for i in (1, 2, 3)]


ASKING = {"task": [{"value": {"step_id": "ok", "question": "ship?"}, "id": "i"}]}


def thread(status: str = "idle", interrupts: Any = None, **values: Any) -> Any:
    if status == "interrupted" and interrupts is None:
        interrupts = ASKING  # an approval waits with its question
    return {
        "thread_id": "t",
        "created_at": "2026-01-01T00:00:00+00:00",
        "updated_at": "2026-01-01T00:01:00+00:00",
        "metadata": {},
        "status": status,
        "values": values,
        "interrupts": interrupts or {},
    }


@pytest.mark.parametrize(
    ("agent_status", "phase", "expected"),
    [
        ("busy", "running", WorkflowStatus.RUNNING),
        ("interrupted", "running", WorkflowStatus.WAITING),
        ("error", "running", WorkflowStatus.FAILED),
        ("idle", "done", WorkflowStatus.COMPLETED),
        ("idle", "paused", WorkflowStatus.PAUSED),
        ("idle", "running", WorkflowStatus.PAUSED),
        ("idle", "pending", WorkflowStatus.PENDING),
        ("idle", None, WorkflowStatus.PENDING),
    ],
)
def test_status_mapping(agent_status: str, phase: str | None, expected: WorkflowStatus):
    progress = thread_progress(thread(agent_status, plan=PLAN, completed=["s1"], phase=phase))
    assert progress.status == expected


def test_a_cancelled_run_leaves_a_paused_thread_not_a_waiting_one():
    stopped = thread("interrupted", interrupts={}, plan=PLAN, completed=["s1"], phase="running")
    assert thread_progress(stopped).status == WorkflowStatus.PAUSED


@pytest.mark.parametrize("status", list(WorkflowStatus))
def test_every_status_has_a_search_that_maps_back_to_it(status: WorkflowStatus):
    agent_status, values = search_filter(status)
    found = thread(agent_status, plan=PLAN, **(values or {"phase": "running"}))
    # The gateway marks a busy thread whose latest run is pending (gateway.threads.reads).
    found = marked_queued(found, status == WorkflowStatus.QUEUED)
    assert thread_progress(found).status == status


def test_counts_and_current_step():
    progress = thread_progress(thread("busy", plan=PLAN, completed=["s1"], phase="running"))
    assert (progress.completed_steps, progress.total_steps) == (1, 3)
    assert progress.current_step == "Step 2"
    done = thread_progress(thread(plan=PLAN, completed=["s1", "s2", "s3"], phase="done"))
    assert done.current_step is None and done.completed_steps == 3


def test_thread_without_values_is_pending_with_no_steps():
    progress = thread_progress(thread())
    assert (progress.status, progress.total_steps, progress.current_step) == (
        WorkflowStatus.PENDING,
        0,
        None,
    )


def test_waiting_question_comes_from_the_interrupt():
    ask = {"step_id": "s2", "title": "Sign-off", "question": "Ship it?"}
    waiting = thread("interrupted", interrupts={"task": [{"value": ask, "id": "i"}]})
    assert waiting_question(waiting) == ask
    assert waiting_question(thread()) is None


def test_frames_for_progress_interrupt_chunks_and_errors():
    step = {
        "event": "step_started",
        "step_id": "s1",
        "title": "Step 1",
        "completed_steps": 0,
        "total_steps": 3,
    }
    frames = StreamFrames()
    assert frames.frame_for(StreamPart("custom", step)) == {
        "type": "progress",
        "event": "step_started",
        "step_id": "s1",
        "current_step": "Step 1",
        "completed_steps": 0,
        "total_steps": 3,
    }
    ask = {"__interrupt__": [{"value": {"question": "Ship it?"}, "id": "i"}]}
    interrupt = frames.frame_for(StreamPart("updates", ask))
    assert interrupt is not None and interrupt["type"] == "interrupt"
    assert interrupt["question"] == {"question": "Ship it?"}
    meta = {"langgraph_api_url": "http://internal:8000", "owner": "alice"}
    token = {"type": "AIMessageChunk", "content": "hi", "id": "m1"}
    chunk = frames.frame_for(StreamPart("messages", cast(Any, [token, meta])))
    assert chunk == {"type": "chunk", "mode": "messages", "data": {"id": "m1", "content": "hi"}}
    prompt = {"type": "human", "content": "do it", "id": "h1"}
    whole = {"type": "ai", "content": "hi", "id": "m2"}
    assert frames.frame_for(StreamPart("messages", cast(Any, [prompt, meta]))) is None
    assert (
        frames.frame_for(StreamPart("messages", cast(Any, [whole, meta]))) is None
    )  # sent as tokens
    # A model that does not stream: its whole answer is the chunk, once.
    quiet = StreamFrames()
    alone = quiet.frame_for(StreamPart("messages", cast(Any, [whole, meta])))
    assert alone is not None and alone["data"]["content"] == "hi"
    # ...and the step's own copy of it (another id) is not sent again.
    recorded = {"type": "ai", "content": "hi", "id": "m3"}
    assert quiet.frame_for(StreamPart("messages", cast(Any, [recorded, meta]))) is None
    update = {"task": {"completed": ["s1"], "messages": [prompt, whole]}}
    assert frames.frame_for(StreamPart("updates", update)) == {
        "type": "chunk",
        "mode": "updates",
        "data": {"task": {"completed": ["s1"]}},
    }
    assert frames.frame_for(StreamPart("metadata", {"run_id": "r"})) is None
    assert run_error(StreamPart("error", {"error": "ValueError", "message": "boom"})) == "boom"
    assert run_error(StreamPart("updates", {})) is None


def test_execution_id_round_trips():
    from gateway.api.errors import describe
    from gateway.errors import NotFound
    from gateway.threads.executions import parse_execution_id

    execution = Execution(
        "01a204ae-a289-7477-8bfd-4c37e06457e1", "01a204ae-a28e-7161-ba01-5eed3dcf4684"
    )
    assert parse_execution_id(execution.execution_id) == execution
    with pytest.raises(NotFound) as caught:
        parse_execution_id("not-an-execution")
    assert describe(caught.value)[0] == 404
