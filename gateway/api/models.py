"""Request bodies of the HTTP API, and the responses only it gives.

The views of threads, checkpoints and executions are `gateway.threads.views`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Annotated, Any, Literal, Self

from fastapi import Query
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    HttpUrl,
    JsonValue,
    StrictBool,
    WithJsonSchema,
    model_validator,
)

from agents.contract import WorkflowStatus
from gateway.library.saving import WORKFLOW_ID_PATTERN
from gateway.settings import Settings
from gateway.threads.ids import UUID_PATTERN, ThreadId
from gateway.threads.progress import ThreadProgress
from gateway.threads.views import ThreadSummary
from gateway.workflows.checks import JsonLimits, check_json, check_text

# The accepted workflow formats are published in the OpenAPI components (see gateway.main);
# the parser, not the request model, validates them so every error names the node at fault.
# (`allOf`, so pydantic may add a title beside it: a bare `$ref` with siblings is looked up.)
WorkflowJson = Annotated[
    dict[str, Any], WithJsonSchema({"allOf": [{"$ref": "#/components/schemas/WorkflowDocument"}]})
]


# Free text that is forwarded and stored: no NUL characters, no lone surrogates.
SafeText = Annotated[str, AfterValidator(check_text)]

LibraryId = Annotated[str, Field(pattern=WORKFLOW_ID_PATTERN, description="A saved workflow.")]
Version = Annotated[int, Field(ge=1, le=1_000_000, description="A saved version; latest if unset.")]
# In a JSON body a number is a number and a boolean a boolean: `true` is not 1, nor 0
# false (query strings are text: their numbers are parsed).
BodyVersion = Annotated[Version, Field(strict=True)]
# Where the Agent Server posts a run's outcome. Its own URL policy (langgraph.json
# `webhooks.url`) decides which hosts are allowed; loopback is refused by default.
Webhook = Annotated[
    HttpUrl,
    Field(description="POSTed the run's outcome when it ends (status, values, error)."),
]


# Printable ASCII, no space at either end (HTTP trims header values): what a client's
# UUID, hash or "order-42-attempt" looks like.
IDEMPOTENCY_KEY_PATTERN = r"^[!-~](?:[ -~]{0,253}[!-~])?$"
_IDEMPOTENCY_KEY = re.compile(IDEMPOTENCY_KEY_PATTERN)
IDEMPOTENCY_KEY_RULE = "1-255 printable ASCII characters, no space at either end"


def check_idempotency_key(key: str) -> str:
    if _IDEMPOTENCY_KEY.fullmatch(key) is None:
        raise ValueError(f"an idempotency key is {IDEMPOTENCY_KEY_RULE}")
    return key


IdempotencyKey = Annotated[
    str,
    AfterValidator(check_idempotency_key),
    Field(
        description="Sent again with the same request, answers with the execution the first "
        f"one started instead of starting another ({IDEMPOTENCY_KEY_RULE}).",
        json_schema_extra={"pattern": IDEMPOTENCY_KEY_PATTERN},
    ),
]


def _safe_values(values: dict[str, Any] | None) -> dict[str, Any] | None:
    if values is not None:
        check_json(values, JsonLimits(), "values")
    return values


# Exactly one of three forms; the fields the others use are left out or null.
_ABSENT: dict[str, JsonValue] = {"type": "null"}
EXECUTE_FORMS: list[JsonValue] = [
    {
        "title": "Run a workflow document",
        "required": ["workflow_json"],
        "properties": {
            "workflow_json": {"$ref": "#/components/schemas/WorkflowDocument"},
            "workflow_id": _ABSENT,
            "version": _ABSENT,
            "message": _ABSENT,
        },
    },
    {
        "title": "Run a saved workflow",
        "required": ["workflow_id"],
        "properties": {
            "workflow_id": {"type": "string", "pattern": WORKFLOW_ID_PATTERN},
            "workflow_json": _ABSENT,
            "message": _ABSENT,
        },
    },
    {
        "title": "Follow up on a thread",
        "required": ["message", "thread_id"],
        "properties": {
            "message": {"type": "string", "minLength": 1},
            "thread_id": {"type": "string", "pattern": UUID_PATTERN},
            "workflow_json": _ABSENT,
            "workflow_id": _ABSENT,
            "version": _ABSENT,
        },
    },
]


class ExecuteRequest(BaseModel):
    """Run a workflow on a new thread, or continue an existing thread."""

    model_config = ConfigDict(json_schema_extra={"oneOf": EXECUTE_FORMS})

    workflow_json: WorkflowJson | None = Field(
        default=None, description="The workflow, as a React Flow export or a plain step list."
    )
    thread_id: ThreadId | None = Field(
        default=None, description="Continue this thread (its history is kept) instead of a new one."
    )
    message: SafeText | None = Field(
        default=None,
        min_length=1,
        max_length=20_000,
        description="A follow-up message for a finished thread, in place of `workflow_json`.",
    )
    workflow_id: LibraryId | None = Field(
        default=None, description="Run this saved workflow, in place of `workflow_json`."
    )
    version: BodyVersion | None = None
    webhook: Webhook | None = None
    idempotency_key: IdempotencyKey | None = Field(
        default=None,
        description="The WebSocket's Idempotency-Key (REST: the `Idempotency-Key` header).",
    )

    @model_validator(mode="after")
    def _one_input(self) -> ExecuteRequest:
        given = [self.workflow_json, self.message, self.workflow_id]
        if sum(item is not None for item in given) != 1:
            raise ValueError("send exactly one of workflow_json, workflow_id and message")
        if self.version is not None and self.workflow_id is None:
            raise ValueError("version goes with workflow_id")
        if self.message is not None and self.thread_id is None:
            raise ValueError("a follow-up message needs the thread_id it continues")
        return self

    def identity(self) -> dict[str, Any]:
        """What makes two requests the same request: the body as JSON, without the key."""
        return self.model_dump(mode="json", exclude={"idempotency_key"})


class ExecutionAccepted(BaseModel):
    execution_id: str = Field(description="Opaque; resolves on any gateway replica.")
    thread_id: str
    status: WorkflowStatus


# Every listing's one rule: any `limit` from 1 to 1,000 is accepted, and a page holds
# at most THREADGATE_MAX_PAGE_SIZE items; a page's `limit` says the size it used.
PageLimit = Annotated[
    int,
    Query(ge=1, le=1_000, description="Page size; capped at THREADGATE_MAX_PAGE_SIZE (100)."),
]
PageOffset = Annotated[int, Query(ge=0, le=1_000_000, description="Items to skip.")]


def page_size(limit: int, settings: Settings) -> int:
    return min(limit, settings.max_page_size)


def next_offset(offset: int, limit: int, total: int) -> int | None:
    """Where the page after this one starts, or None at the end (every listing's rule)."""
    return offset + limit if offset + limit < total else None


class Page(BaseModel):
    """A page of a listing: its items (named by the subclass) and where it stands."""

    total: int = Field(description="How many there are in all.")
    limit: int = Field(description="The page size used (the request's, capped).")
    offset: int
    next_offset: int | None = Field(description="Offset of the next page, or null at the end.")

    @classmethod
    def of(cls, items: Sequence[Any], *, total: int, limit: int, offset: int) -> Self:
        (field,) = set(cls.model_fields) - set(Page.model_fields)
        return cls.model_validate(
            {
                field: items,
                "total": total,
                "limit": limit,
                "offset": offset,
                "next_offset": next_offset(offset, limit, total),
            }
        )


class ThreadPage(Page):
    threads: list[ThreadSummary]


SortField = Literal["created_at", "updated_at"]
SortOrder = Literal["asc", "desc"]


class ResumeRequest(BaseModel):
    """The answer to a waiting approval; leave empty to resume a paused or failed thread."""

    approved: StrictBool | None = Field(default=None, description="Answer of a waiting approval.")
    comment: SafeText | None = Field(default=None, max_length=2_000)


class ForkRequest(BaseModel):
    checkpoint_id: str = Field(pattern=UUID_PATTERN, description="Checkpoint to run again from.")
    values: Annotated[dict[str, Any] | None, AfterValidator(_safe_values)] = Field(
        default=None, description="State values to change at that checkpoint before running."
    )


class ThreadControlResult(BaseModel):
    thread_id: str
    status: str = Field(description="`pausing` or `cancelled`, then the thread's progress.")
    progress: ThreadProgress


class ApprovalWaiting(BaseModel):
    """A thread waiting for an answer the caller may give."""

    thread_id: str
    step_id: str | None
    title: str | None
    question: str
    four_eyes: bool = Field(description="Whoever started the run may not answer it.")
    waiting_since: str = Field(description="When the thread stopped to ask (ISO 8601).")
    started_by: str | None = Field(description="Who started the workflow.")


class ApprovalPage(Page):
    approvals: list[ApprovalWaiting]


class AuditEntry(BaseModel):
    """One action on a thread (or the library), as the audit trail recorded it."""

    at: str = Field(description="When (ISO 8601, UTC).")
    actor: str = Field(description="The user who acted.")
    action: str = Field(
        description="execute, pause, resume, approve, reject, cancel, fork, delete, "
        "save_as_workflow or handover."
    )
    thread_id: str | None
    details: dict[str, Any]


class ThreadAudit(BaseModel):
    thread_id: str
    events: list[AuditEntry] = Field(description="Oldest first.")


class AuditPage(BaseModel):
    """A page of the acting space's trail, newest first (deleted threads' included)."""

    events: list[AuditEntry]
    limit: int
    offset: int
    next_offset: int | None = Field(description="Offset of the next page, or null at the end.")
