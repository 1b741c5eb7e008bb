"""The WebSocket frames as typed models: published as JSON Schema in the OpenAPI
components (`StreamFrame` and one schema per frame type), so a frontend generates their
types with the rest of its client, and every frame the tests receive is checked against
them. `gateway.api.frames` builds the frames; these models only describe them.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from agents.contract import WorkflowStatus
from gateway.threads.progress import ThreadProgress


class _Frame(BaseModel):
    # Closed: a key the schema does not name is a frame the frontends cannot type.
    model_config = ConfigDict(extra="forbid")


class StartedFrame(_Frame):
    """First: the execution the socket streams."""

    type: Literal["started"]
    execution_id: str
    thread_id: str
    status: WorkflowStatus
    replayed: bool = Field(description="An idempotency key's earlier run, joined.")


class ProgressFrame(_Frame):
    """A step started or finished."""

    type: Literal["progress"]
    event: Literal["step_started", "step_finished"]
    step_id: str
    current_step: str | None = Field(description="The step's title.")
    completed_steps: int
    total_steps: int


class ChunkFrame(_Frame):
    """The model's output (`messages`: `{id, content}`) or a step's state update
    (`updates`: `{node: update}`, prompts and answers left out)."""

    type: Literal["chunk"]
    mode: Literal["updates", "messages"]
    data: dict[str, Any]


class InterruptFrame(_Frame):
    """The run stopped to ask a person: answer with `POST /api/threads/{id}/resume`."""

    type: Literal["interrupt"]
    question: Any = Field(description="The first interrupt's value (an approval's question).")
    interrupts: list[dict[str, Any]]


class EndFrame(_Frame):
    """Last, when the run ended without failing (completed, waiting, paused, cancelled)."""

    type: Literal["end"]
    execution_id: str | None = Field(description="Null when no run was live to join.")
    thread_id: str
    status: WorkflowStatus
    progress: ThreadProgress


class ErrorFrame(_Frame):
    """Last, when the run failed or the socket's request was refused: the error body of
    every HTTP error, and the execution if one was started."""

    type: Literal["error"]
    error: str
    message: str
    details: dict[str, Any] | list[Any] | None = None
    execution_id: str | None = None
    thread_id: str | None = None


StreamFrame = Annotated[
    StartedFrame | ProgressFrame | ChunkFrame | InterruptFrame | EndFrame | ErrorFrame,
    Field(discriminator="type"),
]
stream_frame = TypeAdapter[
    StartedFrame | ProgressFrame | ChunkFrame | InterruptFrame | EndFrame | ErrorFrame
](StreamFrame)
