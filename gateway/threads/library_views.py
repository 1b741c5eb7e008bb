"""What a saved workflow and its versions look like to callers, and the document a
thread's plan is saved as. Pure."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field


class WorkflowSummary(BaseModel):
    workflow_id: str
    version: int = Field(description="The latest version (or the one asked for).")
    name: str
    step_count: int
    created_at: datetime = Field(description="When version 1 was saved.")
    updated_at: datetime = Field(description="When this version was saved.")


class SavedWorkflow(WorkflowSummary):
    workflow_json: dict[str, Any] = Field(description="The document as saved.")


class WorkflowVersion(BaseModel):
    workflow_id: str
    version: int
    name: str
    step_count: int
    created_at: datetime = Field(description="When this version was saved.")


def document_from_plan(
    plan_steps: list[dict[str, Any]],
    workflow_id: str | None,
    name: str,
    retry: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A plain-list workflow document that compiles back to these steps (and the
    workflow's own retry setting, if it had one)."""
    steps = []
    for step in plan_steps:
        text = "question" if step["type"] == "approval" else "instructions"
        steps.append(
            {"id": step["id"], "type": step["type"], "title": step["title"], text: step["prompt"]}
        )
    document: dict[str, Any] = {"name": name, "steps": steps}
    if workflow_id:
        document["id"] = workflow_id
    if retry:
        document["retry"] = retry
    return document
