"""The state a workflow thread keeps in its checkpoints."""

from __future__ import annotations

from typing import Annotated, Any, Literal, TypedDict

from langchain_core.messages import AnyMessage
from langgraph.graph.message import add_messages

StepType = Literal["task", "approval"]

# `phase` lets searches tell a finished thread from a stopped one without reading the
# plan: the gateway's input sets "pending", each step "running" (or "paused" when a pause
# was asked for), the last "done"; a cancel writes "paused" and resuming writes "running".
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


class WorkflowState(TypedDict, total=False):
    """Everything a workflow thread remembers between steps."""

    messages: Annotated[list[AnyMessage], add_messages]
    workflow: dict[str, Any]
    plan: list[PlanStep]
    results: dict[str, StepResult]
    completed: list[str]
    current_step: str | None
    phase: Phase
    outcome: Literal["completed", "rejected"] | None
