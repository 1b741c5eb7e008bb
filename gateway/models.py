"""Request and response bodies of the HTTP API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, Field, WithJsonSchema, model_validator

from agents.contract import WorkflowStatus
from gateway.json_checks import JsonLimits, check_json, check_text
from gateway.progress import ThreadProgress

# Ids the Agent Server issues are RFC 4122 UUIDs (version 1-8); anything else is refused
# before it is forwarded (the nil UUID, for one, makes the Agent Server answer 500).
UUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[1-8][0-9a-fA-F]{3}-[89abAB][0-9a-fA-F]{3}-[0-9a-fA-F]{12}"
UUID_PATTERN = rf"^{UUID}$"
ThreadId = Annotated[
    str, Field(pattern=UUID_PATTERN, examples=["01a204ae-a289-7477-8bfd-4c37e06457e1"])
]

# The accepted workflow formats are published in the OpenAPI components (see gateway.main);
# the parser, not the request model, validates them so every error names the node at fault.
WorkflowJson = Annotated[
    dict[str, Any], WithJsonSchema({"$ref": "#/components/schemas/WorkflowDocument"})
]


# Free text that is forwarded and stored: no NUL characters, no lone surrogates.
SafeText = Annotated[str, AfterValidator(check_text)]


def _safe_values(values: dict[str, Any] | None) -> dict[str, Any] | None:
    if values is not None:
        check_json(values, JsonLimits(), "values")
    return values


class ExecuteRequest(BaseModel):
    """Run a workflow on a new thread, or continue an existing thread."""

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

    @model_validator(mode="after")
    def _one_input(self) -> ExecuteRequest:
        if (self.workflow_json is None) == (self.message is None):
            raise ValueError("send exactly one of workflow_json and message")
        if self.message is not None and self.thread_id is None:
            raise ValueError("a follow-up message needs the thread_id it continues")
        return self


class ExecutionAccepted(BaseModel):
    execution_id: str = Field(description="Opaque; resolves on any gateway replica.")
    thread_id: str
    status: WorkflowStatus


class ExecutionPublic(BaseModel):
    execution_id: str
    thread_id: str
    status: WorkflowStatus
    run_status: str = Field(description="The Agent Server's own run status.")
    created_at: datetime
    updated_at: datetime
    progress: ThreadProgress
    result: dict[str, Any] | None = Field(
        default=None, description="Per-step outputs, once the run has finished."
    )
    error: str | None = None


class ThreadSummary(BaseModel):
    thread_id: str
    workflow_id: str | None
    workflow_name: str | None
    created_at: datetime
    updated_at: datetime
    status: WorkflowStatus
    progress: ThreadProgress


class ThreadDetails(ThreadSummary):
    metadata: dict[str, Any]
    question: dict[str, Any] | None = Field(
        default=None, description="What a `waiting` thread asks: step_id, title, question."
    )
    results: dict[str, Any] = Field(default_factory=dict, description="Outputs by step id.")


class ThreadPage(BaseModel):
    threads: list[ThreadSummary]
    total: int
    limit: int
    offset: int
    next_offset: int | None = Field(description="Offset of the next page, or null at the end.")


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


SortField = Literal["created_at", "updated_at"]
SortOrder = Literal["asc", "desc"]


class ResumeRequest(BaseModel):
    """The answer to a waiting approval; leave empty to resume a paused or failed thread."""

    approved: bool | None = Field(default=None, description="Answer of a waiting approval.")
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
