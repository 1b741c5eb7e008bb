"""Progress of a workflow thread, computed from what the Agent Server stores. Pure."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from langgraph_sdk.schema import Thread, ThreadStatus
from pydantic import BaseModel, Field

from agents.contract import STATUS_TABLE, WorkflowStatus, workflow_status


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


def _values(thread: Thread) -> dict[str, Any]:
    values = thread.get("values")
    return values if isinstance(values, dict) else {}


def search_filter(status: WorkflowStatus) -> tuple[ThreadStatus, dict[str, Any] | None]:
    """The Agent Server search (thread status, values filter) that finds a workflow status."""
    thread_status, phase = STATUS_TABLE[status]
    return cast(ThreadStatus, thread_status), ({"phase": phase} if phase else None)


def thread_progress(thread: Thread, error_message: str | None = None) -> ThreadProgress:
    values = _values(thread)
    plan: list[dict[str, Any]] = values.get("plan") or []
    completed = set(values.get("completed") or [])
    asks = waiting_question(thread) is not None
    status = workflow_status(thread["status"], values.get("phase"), asks)
    upcoming = next((s for s in plan if s.get("id") not in completed), None)
    current = None
    if upcoming is not None and status != WorkflowStatus.COMPLETED:
        current = upcoming.get("title") or upcoming.get("id")
    return ThreadProgress(
        thread_id=thread["thread_id"],
        status=status,
        current_step=current,
        total_steps=len(plan),
        completed_steps=sum(1 for s in plan if s.get("id") in completed),
        start_time=thread["created_at"],
        last_updated=thread["updated_at"],
        error_message=error_message,
        outcome=values.get("outcome"),
    )


def waiting_question(thread: Thread) -> dict[str, Any] | None:
    """The approval question a waiting thread asks, if any."""
    for pending in (thread.get("interrupts") or {}).values():
        for item in pending:
            value = item.get("value")
            if isinstance(value, dict) and "question" in value:
                return value
    return None
