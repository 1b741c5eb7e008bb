"""The state a workflow thread keeps in its checkpoints."""

from __future__ import annotations

from typing import Annotated, Any, Literal, TypedDict

from langchain_core.messages import AnyMessage
from langgraph.graph.message import add_messages

from agents.contract import LibraryRef, Phase, PlanStep, StepResult


class WorkflowState(TypedDict, total=False):
    """Everything a workflow thread remembers between steps."""

    messages: Annotated[list[AnyMessage], add_messages]
    workflow: dict[str, Any]
    plan: list[PlanStep]
    results: dict[str, StepResult]
    completed: list[str]
    current_step: str | None
    # Set by a schedule's run: which saved workflow to load before the first step.
    library: LibraryRef | None
    phase: Phase
    outcome: Literal["completed", "rejected"] | None
