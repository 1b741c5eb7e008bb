"""What a saved workflow and its versions look like to callers. Pure."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field


class WorkflowSummary(BaseModel):
    workflow_id: str
    version: int = Field(description="The latest version (or the one asked for).")
    # One meaning everywhere: created_at is the workflow's, updated_at the version's.
    name: str
    step_count: int
    created_at: datetime = Field(description="When version 1 was saved.")
    updated_at: datetime = Field(description="When this version was saved.")


class SavedStep(BaseModel):
    id: str
    type: str
    title: str


class SavedWorkflow(WorkflowSummary):
    workflow_json: dict[str, Any] = Field(description="The document as saved.")
    steps: list[SavedStep] = Field(
        default_factory=list, description="Its steps in the order they run (as compiled)."
    )


def saved_steps(plan_steps: list[Any]) -> list[SavedStep]:
    """The compiled plan's steps as callers see them (no prompts: those are in the document)."""
    return [
        SavedStep(id=str(s["id"]), type=str(s["type"]), title=str(s["title"]))
        for s in plan_steps
        if isinstance(s, dict) and {"id", "type", "title"} <= s.keys()
    ]


class WorkflowVersion(WorkflowSummary):
    """One version in a listing: `version` and `updated_at` are this version's."""
