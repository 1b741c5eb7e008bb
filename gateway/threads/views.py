"""What a thread, a checkpoint and an execution look like to callers, built from
Agent Server records. Pure."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from langgraph_sdk.schema import Run, Thread, ThreadState
from pydantic import BaseModel, Field, computed_field

from agents.contract import TokenUsage, WorkflowStatus
from gateway.threads.progress import ThreadProgress, thread_progress, waiting_question


class ThreadSummary(BaseModel):
    """A thread in listings. Its names come from metadata its owner can also write with
    the SDK: a value of the wrong type there reads as null here, never as an error."""

    thread_id: str
    workflow_id: str | None
    workflow_name: str | None
    workflow_version: int | None = Field(description="The saved version it ran, if any.")
    schedule_id: str | None = Field(description="The schedule that started it, if any.")
    created_at: datetime
    updated_at: datetime
    status: WorkflowStatus
    progress: ThreadProgress
    question: dict[str, Any] | None = Field(
        default=None, description="What a `waiting` thread asks: step_id, title, question."
    )


USAGE_TOTAL = (
    "Tokens the steps' results report (each result's `usage`), added up; null when no "
    "step reported any. The results shown only: not failed attempts or abandoned steps."
)


def total_usage(results: Mapping[str, Any] | None) -> TokenUsage | None:
    """The tokens the results report, added up; None when none reports any."""
    reported = [
        r["usage"]
        for r in (results or {}).values()
        if isinstance(r, dict) and isinstance(r.get("usage"), dict) and r["usage"]
    ]
    if not reported:
        return None

    def added(key: str) -> int:
        return sum(_count(u.get(key)) for u in reported)

    return TokenUsage(
        input_tokens=added("input_tokens"),
        output_tokens=added("output_tokens"),
        total_tokens=added("total_tokens"),
    )


class ThreadDetails(ThreadSummary):
    metadata: dict[str, Any]
    results: dict[str, Any] = Field(
        default_factory=dict,
        description="By step id: `output`, `approved` (approval steps), and for task steps "
        "`attempts` (model calls it took) and `usage` (tokens, or null if not reported).",
    )

    @computed_field(description=USAGE_TOTAL)  # type: ignore[prop-decorator]
    @property
    def usage(self) -> TokenUsage | None:
        return total_usage(self.results)


class Checkpoint(BaseModel):
    """One saved step boundary of a thread."""

    checkpoint_id: str
    parent_checkpoint_id: str | None
    created_at: datetime | None
    step: int | None = Field(description="Super-step number; -1 is the input.")
    source: str | None = Field(description="`input`, `loop`, `update` or `fork`.")
    next: list[str]
    completed_steps: int
    last_step: str | None = Field(description="Title of the last finished step here.")


class ThreadStatePublic(BaseModel):
    thread_id: str
    checkpoint_id: str | None
    parent_checkpoint_id: str | None
    created_at: datetime | None
    next: list[str]
    values: dict[str, Any]
    tasks: list[dict[str, Any]]


class ExecutionPublic(BaseModel):
    execution_id: str
    thread_id: str
    status: WorkflowStatus
    run_status: str = Field(description="The Agent Server's own run status.")
    created_at: datetime
    updated_at: datetime
    progress: ThreadProgress
    result: dict[str, Any] | None = Field(
        default=None,
        description="Per-step results (as a thread's `results`), once the run has finished.",
    )
    error: str | None = None

    @computed_field(description=USAGE_TOTAL)  # type: ignore[prop-decorator]
    @property
    def usage(self) -> TokenUsage | None:
        return total_usage(self.result)


def _values(values: Any) -> dict[str, Any]:
    return values if isinstance(values, dict) else {}


def _count(value: Any) -> int:
    try:
        return int(value or 0)
    except (TypeError, ValueError, OverflowError):
        return 0  # a step's result is the agent's, but its owner can overwrite it


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _version(value: Any) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
        return value
    return None


def thread_summary(thread: Thread) -> ThreadSummary:
    metadata = _values(thread.get("metadata"))
    progress = thread_progress(thread)
    # A schedule that follows the latest version learns it only when the run starts.
    ran = _values(_values(thread.get("values")).get("workflow"))
    return ThreadSummary(
        thread_id=thread["thread_id"],
        workflow_id=_text(metadata.get("workflow_id")),
        workflow_name=_text(metadata.get("workflow_name")) or _text(ran.get("name")),
        workflow_version=_version(metadata.get("workflow_version")) or _version(ran.get("version")),
        schedule_id=_text(metadata.get("schedule_id")),
        created_at=thread["created_at"],
        updated_at=thread["updated_at"],
        status=progress.status,
        progress=progress,
        question=waiting_question(thread),
    )


def thread_details(thread: Thread, error_message: str | None = None) -> ThreadDetails:
    progress = thread_progress(thread, error_message)
    summary = thread_summary(thread).model_dump(exclude={"progress"})
    return ThreadDetails(
        **summary,
        progress=progress,
        metadata=_values(thread.get("metadata")),
        results=_values(_values(thread.get("values")).get("results")),
    )


def finished_steps(thread: Thread) -> dict[str, Any]:
    """Outputs of the steps the thread's current plan finished (earlier plans' results,
    kept for follow-ups, are not this run's)."""
    values = _values(thread.get("values"))
    results = values.get("results") or {}
    return {step: results[step] for step in values.get("completed") or [] if step in results}


REASON_CHARS = 500


def task_error(state: ThreadState) -> str | None:
    """Why the failed step failed, as the Agent Server recorded it: the error's class and
    message (its first line, bounded), never a traceback."""
    errors = [str(t["error"]) for t in state.get("tasks", []) if t.get("error")]
    if not errors:
        return None
    first = errors[0].strip().splitlines()[0] if errors[0].strip() else "step failed"
    return first if len(first) <= REASON_CHARS else first[: REASON_CHARS - 1] + "\u2026"


def checkpoint_view(state: ThreadState) -> Checkpoint:
    values = _values(state.get("values"))
    titles = {s.get("id"): s.get("title") for s in values.get("plan") or []}
    completed = values.get("completed") or []
    metadata = state.get("metadata") or {}
    checkpoint: dict[str, Any] = dict(state.get("checkpoint") or {})
    parent: dict[str, Any] = dict(state.get("parent_checkpoint") or {})
    return Checkpoint(
        checkpoint_id=checkpoint.get("checkpoint_id") or "",
        parent_checkpoint_id=parent.get("checkpoint_id"),
        created_at=state.get("created_at"),
        step=metadata.get("step"),
        source=metadata.get("source"),
        next=list(state.get("next") or []),
        completed_steps=len(completed),
        last_step=titles.get(completed[-1]) if completed else None,
    )


def state_view(thread_id: str, state: ThreadState) -> ThreadStatePublic:
    checkpoint: dict[str, Any] = dict(state.get("checkpoint") or {})
    parent: dict[str, Any] = dict(state.get("parent_checkpoint") or {})
    return ThreadStatePublic(
        thread_id=thread_id,
        checkpoint_id=checkpoint.get("checkpoint_id"),
        parent_checkpoint_id=parent.get("checkpoint_id"),
        created_at=state.get("created_at"),
        next=list(state.get("next") or []),
        values=_values(state.get("values")),
        tasks=[
            {
                "id": t["id"],
                "name": t["name"],
                "error": t.get("error"),
                "interrupts": t.get("interrupts", []),
            }
            for t in state.get("tasks", [])
        ],
    )


def execution_status(run: Run, thread_status: WorkflowStatus) -> WorkflowStatus:
    """What one run amounts to; an approval ends a run successfully while the thread waits."""
    status = run["status"]
    if status == "pending":
        return WorkflowStatus.QUEUED
    if status == "running":
        return WorkflowStatus.RUNNING
    if status in ("error", "timeout"):
        return WorkflowStatus.FAILED
    if thread_status == WorkflowStatus.WAITING:
        return WorkflowStatus.WAITING
    return WorkflowStatus.PAUSED if status == "interrupted" else WorkflowStatus.COMPLETED
