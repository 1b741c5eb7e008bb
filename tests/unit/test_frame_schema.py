"""The published frame schema accepts what `gateway.api.frames` builds, and only that."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from langgraph_sdk.schema import StreamPart

from agents.contract import WorkflowStatus
from gateway.api.errors import ErrorBody
from gateway.api.frames import StreamFrames, end_frame, error_frame, started_frame
from gateway.threads.executions import Execution
from gateway.threads.progress import ThreadProgress
from tests.frames import FrameSchemaBroken, check_frame

EXECUTION = Execution(thread_id="t-1", run_id="r-1")
NOW = datetime(2026, 12, 3, tzinfo=UTC)
PROGRESS = ThreadProgress(
    thread_id="t-1",
    status=WorkflowStatus.COMPLETED,
    current_step=None,
    total_steps=2,
    completed_steps=2,
    start_time=NOW,
    last_updated=NOW,
)


def built_frames() -> list[dict[str, object]]:
    events = StreamFrames()
    step = {"step_id": "a", "title": "A", "completed_steps": 0, "total_steps": 2}
    parts = [
        StreamPart("custom", {**step, "event": "step_started"}),
        # The SDK types `data` as a dict; a messages event's is a [message, metadata] pair.
        StreamPart("messages", [{"type": "AIMessageChunk", "id": "m1", "content": "hi"}, {}]),  # type: ignore[arg-type]
        StreamPart("updates", {"step": {"done": True, "messages": []}}),
        StreamPart("updates", {"__interrupt__": [{"value": "Ship it?", "id": "i1"}]}),
    ]
    frames = [events.frame_for(part) for part in parts]
    body = ErrorBody(error="workflow_failed", message="boom")
    return [
        started_frame(EXECUTION),
        *[frame for frame in frames if frame is not None],
        end_frame(PROGRESS, EXECUTION),
        end_frame(PROGRESS),
        error_frame(body, EXECUTION),
        error_frame(ErrorBody(error="not_found", message="no thread", details={"id": "x"})),
    ]


def test_every_frame_the_gateway_builds_matches_the_published_schema():
    frames = built_frames()
    assert {frame["type"] for frame in frames} == {
        "started",
        "progress",
        "chunk",
        "interrupt",
        "end",
        "error",
    }
    for frame in frames:
        check_frame(json.dumps(frame))


@pytest.mark.parametrize(
    "broken",
    [
        {"type": "started", "execution_id": "e", "thread_id": "t", "status": "running"},
        {
            "type": "progress",
            "event": "step_started",
            "step_id": "a",
            "current_step": "A",
            "completed_steps": "1",
            "total_steps": 2,
        },
        {"type": "end", "execution_id": None, "thread_id": "t", "status": "done", "progress": {}},
        {"type": "error", "error": "x", "message": "y", "stack": "no tracebacks"},
        {"type": "unknown"},
        [],
    ],
)
def test_a_frame_that_breaks_the_schema_is_caught(broken: object):
    with pytest.raises(FrameSchemaBroken):
        check_frame(json.dumps(broken))
