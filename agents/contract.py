"""What the workflow agent and its callers (the gateway, scripts) agree on.

One source for names two processes share: headers, the system identity, store
namespaces, the state a thread keeps, node names, phases and how a thread's status
reads as a workflow status. No heavy imports (standard library, typing_extensions),
so the gateway imports it without the agent's stack. Nothing here imports `gateway`.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

# pydantic (the gateway's models) needs this TypedDict on Python < 3.12.
from typing_extensions import TypedDict

# The gateway calls the Agent Server with its service credential plus the user it
# verified; `agents.auth` trusts that header only next to a valid service key.
SERVICE_KEY_ENV = "THREADGATE_SERVICE_KEY"
SERVICE_KEY_HEADER = "x-threadgate-service-key"
USER_HEADER = "x-threadgate-user"

# The gateway's own maintenance (scheduled retention) acts across all users; no
# credential may name a user in the reserved prefix.
SYSTEM_USER = "threadgate:system"
RESERVED_PREFIX = "threadgate:"

GRAPH_ID = "workflow"
TASK_NODE = "task"
APPROVAL_NODE = "approval"

StepType = Literal["task", "approval"]

# `phase` lets searches tell a finished thread from a stopped one without reading the
# plan: the gateway's input sets "pending", each step "running" (or "paused" when a
# pause was asked for), the last "done"; a cancel writes "paused", resuming "running".
Phase = Literal["pending", "running", "paused", "done"]


class PlanStep(TypedDict):
    """One step of a compiled workflow, as the gateway's parser produced it."""

    id: str
    type: StepType
    title: str
    prompt: str


class StepResult(TypedDict):
    """What one finished step produced."""

    output: str
    approved: bool | None


def namespace_label(identity: str) -> str:
    """A user id as a store namespace label: labels may not contain '.', so escape it."""
    return identity.replace("%", "%25").replace(".", "%2E")


PAUSE_REQUESTS = ("threadgate", "pause_requests")


def pause_namespace(owner: str) -> tuple[str, ...]:
    """Where a pause request for the owner's running thread waits for its next step."""
    return (namespace_label(owner), *PAUSE_REQUESTS)


class WorkflowStatus(StrEnum):
    """The seeds' thread statuses, as a builder's frontend shows them."""

    PENDING = "pending"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    PAUSED = "paused"
    WAITING = "waiting"


# The Agent Server's thread status and the agent's phase (None: any phase) that make
# each workflow status. Both the status a thread shows and the search filter for a
# status are read from this one table. ("interrupted" means waiting only while an
# approval asks its question; a run cancelled mid-step also leaves a thread
# "interrupted", asking nothing: that thread is stopped, so it reads as paused.)
STATUS_TABLE: dict[WorkflowStatus, tuple[str, Phase | None]] = {
    WorkflowStatus.RUNNING: ("busy", None),
    WorkflowStatus.WAITING: ("interrupted", None),
    WorkflowStatus.FAILED: ("error", None),
    WorkflowStatus.COMPLETED: ("idle", "done"),
    WorkflowStatus.PAUSED: ("idle", "paused"),
    WorkflowStatus.PENDING: ("idle", "pending"),
}
# Idle threads whose phase no row names: stopped mid-plan (a cancel that did not get
# to write `paused`) reads as paused; no phase at all (no step started) as pending.
_IDLE_FALLBACK: dict[str | None, WorkflowStatus] = {
    "running": WorkflowStatus.PAUSED,
    None: WorkflowStatus.PENDING,
}


def workflow_status(thread_status: str, phase: str | None, asks: bool = True) -> WorkflowStatus:
    """The workflow status of a thread with this Agent Server status and phase; `asks`:
    whether an approval question is pending on it."""
    if thread_status == "interrupted" and not asks:
        return WorkflowStatus.PAUSED
    for status, (wanted_status, wanted_phase) in STATUS_TABLE.items():
        if thread_status == wanted_status and wanted_phase in (None, phase):
            return status
    return _IDLE_FALLBACK.get(phase, WorkflowStatus.PENDING)
