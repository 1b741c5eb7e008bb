"""What a saved workflow and its versions look like to callers. Pure."""

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
