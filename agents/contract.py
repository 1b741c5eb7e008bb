"""What the workflow agent and its callers (the gateway, scripts) agree on.

One source for names two processes share: headers, the system identity, store
namespaces, the state a thread keeps, node names, phases and how a thread's status
reads as a workflow status. No heavy imports (standard library, typing_extensions),
so the gateway imports it without the agent's stack. Nothing here imports `gateway`.
"""

from __future__ import annotations

import uuid
from enum import StrEnum
from typing import Literal, NotRequired

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
# Every caller while authentication is off; no credential may name it, so what it made
# is nobody's once keys are on, until an admin takes it over (POST /api/handover).
DEV_USER = "dev"

GRAPH_ID = "workflow"
TASK_NODE = "task"
APPROVAL_NODE = "approval"
# A scheduled run starts with only a reference to a saved workflow; this node reads
# the version to run from the owner's library (the latest one at firing time, unless
# the schedule names one).
LOAD_NODE = "load_workflow"

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
    # An approval whose starter may not answer it (agents.auth refuses them).
    four_eyes: NotRequired[bool]


class TokenUsage(TypedDict):
    """The tokens one model call used, as the model reported them."""

    input_tokens: int
    output_tokens: int
    total_tokens: int


class StepResult(TypedDict):
    """What one finished step produced. A task step also records how many attempts its
    model call took and the tokens it used (None: the model reported none); an
    approval step records neither."""

    output: str
    approved: bool | None
    attempts: NotRequired[int]
    usage: NotRequired[TokenUsage | None]


# The most attempts a task step's model call may get (the first one included): the
# ceiling of `THREADGATE_STEP_MAX_ATTEMPTS` and of a workflow's own `retry.max_attempts`.
MAX_STEP_ATTEMPTS = 10


class RetryOverride(TypedDict):
    """A workflow's own retry setting (`"retry": {...}` in its JSON), in `workflow.retry`."""

    max_attempts: int


def namespace_label(identity: str) -> str:
    """A user id as a store namespace label: labels may not contain '.', so escape it."""
    return identity.replace("%", "%25").replace(".", "%2E")


PAUSE_REQUESTS = ("threadgate", "pause_requests")
# The audit trail of a space: one item per action, under a namespace per day, written
# by the gateway's system identity alone (members read it).
AUDIT = ("threadgate", "audit")


def audit_namespace(owner: str, day: str | None = None) -> tuple[str, ...]:
    """The audit trail of the owner's space; with `day` (YYYY-MM-DD), that day's events."""
    return (namespace_label(owner), *AUDIT, *((day,) if day else ()))


def pause_namespace(owner: str) -> tuple[str, ...]:
    """Where a pause request for the owner's running thread waits for its next step."""
    return (namespace_label(owner), *PAUSE_REQUESTS)


# The workflow library. A saved workflow is an Agent Server assistant of the `workflow`
# graph, so its versions are the assistant's (each save is one atomic `update`), and
# its id is derived from the owner and the workflow id, so a create is an atomic claim
# (`if_exists="raise"`). Each version's metadata is a small summary naming its document
# by content hash; the documents (as saved, compiled plan, the agent's input for a
# fresh run, compiled by the gateway so the agent never parses workflow JSON) are
# immutable store items under the owner's namespace, written before the version that
# names them.
LIBRARY_MARK = {"threadgate": "workflow"}
LIBRARY_DOCUMENTS = ("threadgate", "workflow_documents")
# Any fixed UUID: what matters is that the gateway, the agent and auth derive alike.
_LIBRARY_IDS = uuid.UUID("5d1e1e0a-7b4e-4c2a-9a51-0c6f3f0b7a11")


class LibraryRef(TypedDict):
    """A run's input when it should run a saved workflow (what a schedule sends)."""

    workflow_id: str
    version: int | None  # None: the latest version when the run starts


def workflow_assistant_id(owner: str, workflow_id: str) -> str:
    """The assistant that holds the owner's saved workflow `workflow_id`."""
    return str(uuid.uuid5(_LIBRARY_IDS, f"{owner}\n{workflow_id}"))


def documents_namespace(owner: str, workflow_id: str, incarnation: str) -> tuple[str, ...]:
    """Where the documents of one life of a saved workflow live: an id deleted and saved
    again gets a new incarnation, so the old one's clean-up never touches the new."""
    # Store labels may not contain '.'; library ids are checked to contain none.
    return (namespace_label(owner), *LIBRARY_DOCUMENTS, workflow_id, incarnation)


class WorkflowStatus(StrEnum):
    """The seeds' thread statuses, as a builder's frontend shows them."""

    PENDING = "pending"
    # A run was asked for and waits in the Agent Server's queue (all its workers busy).
    QUEUED = "queued"
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
# `queued` has no row: it is a busy thread whose latest run is still pending, which
# the gateway reads from the run (see `workflow_status`).
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


def workflow_status(
    thread_status: str, phase: str | None, asks: bool = True, queued: bool = False
) -> WorkflowStatus:
    """The workflow status of a thread with this Agent Server status and phase; `asks`:
    whether an approval question is pending on it; `queued`: whether its latest run
    still waits for a worker."""
    if thread_status == "busy" and queued:
        return WorkflowStatus.QUEUED
    if thread_status == "interrupted" and not asks:
        return WorkflowStatus.PAUSED
    for status, (wanted_status, wanted_phase) in STATUS_TABLE.items():
        if thread_status == wanted_status and wanted_phase in (None, phase):
            return status
    return _IDLE_FALLBACK.get(phase, WorkflowStatus.PENDING)
