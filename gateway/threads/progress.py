"""Progress of a workflow thread, computed from what the Agent Server stores. Pure."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from langgraph_sdk.schema import Thread, ThreadStatus
from pydantic import BaseModel, Field

from agents.contract import STATUS_TABLE, WorkflowStatus, workflow_status

QUEUED = WorkflowStatus.QUEUED


class ThreadProgress(BaseModel):
    """How far a workflow thread has got, in the seed's field names."""

    thread_id: str
    status: WorkflowStatus
    current_step: str | None = Field(description="Title of the step running or next to run.")
    total_steps: int
    completed_steps: int
    start_time: datetime
    last_updated: datetime
    error_message: str | None = None
    outcome: str | None = Field(
        default=None, description="`completed`, or `rejected` when an approval said no."
    )


# Set by `gateway.threads.reads` on a busy thread whose latest run still waits for a
# worker: the Agent Server's thread record does not say so, the run does.
QUEUED_MARK = "threadgate_queued"


def marked_queued(thread: Thread, queued: bool) -> Thread:
    return cast(Thread, {**thread, QUEUED_MARK: queued})


def _values(thread: Thread) -> dict[str, Any]:
    values = thread.get("values")
    return values if isinstance(values, dict) else {}


def search_filter(status: WorkflowStatus) -> tuple[ThreadStatus, dict[str, Any] | None]:
    """The Agent Server search (thread status, values filter) that finds a workflow status
    (for `queued`, the busy threads among which the gateway finds the queued ones)."""
    thread_status, phase = STATUS_TABLE[WorkflowStatus.RUNNING if status == QUEUED else status]
    return cast(ThreadStatus, thread_status), ({"phase": phase} if phase else None)


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def thread_progress(thread: Thread, error_message: str | None = None) -> ThreadProgress:
    # The agent writes these values, but the thread's owner can overwrite them with the
    # SDK: anything of the wrong shape is skipped rather than failing the read.
    values = _values(thread)
    plan = [s for s in _list(values.get("plan")) if isinstance(s, dict)]
    completed = {s for s in _list(values.get("completed")) if isinstance(s, str)}
    asks = waiting_question(thread) is not None
    queued = bool(cast(dict[str, Any], thread).get(QUEUED_MARK))
    status = workflow_status(thread["status"], _text(values.get("phase")), asks, queued)
    upcoming = next((s for s in plan if _text(s.get("id")) not in completed), None)
    current = None
    if upcoming is not None and status != WorkflowStatus.COMPLETED:
        current = _text(upcoming.get("title")) or _text(upcoming.get("id"))
    return ThreadProgress(
        thread_id=thread["thread_id"],
        status=status,
        current_step=current,
        total_steps=len(plan),
        completed_steps=sum(1 for s in plan if _text(s.get("id")) in completed),
        start_time=thread["created_at"],
        last_updated=thread["updated_at"],
        error_message=error_message,
        outcome=_text(values.get("outcome")),
    )


def waiting_question(thread: Thread) -> dict[str, Any] | None:
    """The approval question a waiting thread asks, if any."""
    for pending in (thread.get("interrupts") or {}).values():
        for item in pending:
            value = item.get("value")
            if isinstance(value, dict) and "question" in value:
                return value
    return None
