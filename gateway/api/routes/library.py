"""The workflow library: save, version, list, read and delete workflows; save a
thread's workflow as a new one."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response, status
from pydantic import BaseModel, Field

from gateway.api.deps import Admin, AgentDep, CurrentUser, IdempotencyKeyDep, Operator, SettingsDep
from gateway.api.models import (
    BodyVersion,
    LibraryId,
    Page,
    PageLimit,
    PageOffset,
    Version,
    WorkflowJson,
    page_size,
)
from gateway.api.routes.common import AUTHENTICATED, ERRORS, ThreadIdPath
from gateway.audit.trail import record
from gateway.library import from_thread
from gateway.library.reads import get_workflow, list_versions, list_workflows
from gateway.library.saving import WORKFLOW_ID_PATTERN, roll_back, save_new, save_version
from gateway.library.views import SavedWorkflow, WorkflowSummary, WorkflowVersion
from gateway.schedules.crons import delete_workflow_with_schedules

router = APIRouter(tags=["library"], dependencies=AUTHENTICATED, responses=ERRORS)

WorkflowIdPath = Annotated[str, Path(pattern=WORKFLOW_ID_PATTERN, description="A saved workflow.")]


class SaveWorkflowRequest(BaseModel):
    """The same body `execute` takes, so one file serves both."""

    workflow_json: WorkflowJson


class SaveThreadRequest(BaseModel):
    workflow_id: LibraryId | None = Field(default=None, description="New id; generated if unset.")
    name: str | None = Field(default=None, min_length=1, max_length=200)


class RollbackRequest(BaseModel):
    version: BodyVersion = Field(description="The version whose document becomes the latest.")


class WorkflowPage(Page):
    workflows: list[WorkflowSummary]


@router.post("/api/workflows", status_code=status.HTTP_201_CREATED, response_model=SavedWorkflow)
async def save_workflow(
    request: SaveWorkflowRequest,
    agent: AgentDep,
    user: Operator,
    settings: SettingsDep,
    idempotency_key: IdempotencyKeyDep,
) -> SavedWorkflow:
    """Save a new workflow as version 1 (its id from the document, or generated).
    An invalid document is refused as `execute` refuses it, and nothing is saved.
    Sent again with the same Idempotency-Key and document: the workflow it saved."""
    limits = settings.workflow_limits()
    return await save_new(
        agent, user, limits, request.workflow_json, idempotency_key=idempotency_key
    )


@router.put("/api/workflows/{workflow_id}", response_model=SavedWorkflow)
async def save_workflow_version(
    workflow_id: WorkflowIdPath,
    request: SaveWorkflowRequest,
    agent: AgentDep,
    user: Operator,
    settings: SettingsDep,
    idempotency_key: IdempotencyKeyDep,
) -> SavedWorkflow:
    """Save the next version; a document identical to the latest adds none. Sent again
    with the same Idempotency-Key and document: the version it saved."""
    limits = settings.workflow_limits()
    return await save_version(
        agent, user, limits, workflow_id, request.workflow_json, idempotency_key
    )


@router.get("/api/workflows", response_model=WorkflowPage)
async def list_saved_workflows(
    agent: AgentDep,
    user: CurrentUser,
    settings: SettingsDep,
    limit: PageLimit = 20,
    offset: PageOffset = 0,
) -> WorkflowPage:
    """The latest version of each saved workflow, most recently saved first (paged by the
    Agent Server: however many there are)."""
    limit = page_size(limit, settings)
    found, total = await list_workflows(agent, user, limit=limit, offset=offset)
    return WorkflowPage.of(found, total=total, limit=limit, offset=offset)


@router.get("/api/workflows/{workflow_id}", response_model=SavedWorkflow)
async def read_workflow(
    workflow_id: WorkflowIdPath,
    agent: AgentDep,
    user: CurrentUser,
    version: Annotated[Version | None, Query()] = None,
) -> SavedWorkflow:
    """The latest version with its document, or `?version=N`."""
    return await get_workflow(agent, user, workflow_id, version)


@router.get("/api/workflows/{workflow_id}/versions", response_model=list[WorkflowVersion])
async def read_versions(
    workflow_id: WorkflowIdPath,
    agent: AgentDep,
    user: CurrentUser,
    settings: SettingsDep,
    limit: PageLimit = 100,
    offset: PageOffset = 0,
) -> list[WorkflowVersion]:
    """Saved versions, newest first, a page at a time (summaries: no documents)."""
    limit = page_size(limit, settings)
    return await list_versions(agent, user, workflow_id, limit=limit, offset=offset)


@router.post("/api/workflows/{workflow_id}/rollback", response_model=SavedWorkflow)
async def roll_back_workflow(
    workflow_id: WorkflowIdPath, request: RollbackRequest, agent: AgentDep, user: Operator
) -> SavedWorkflow:
    """Make an earlier version's document the latest, saved as a new version (history
    only grows); if it already is the latest document, nothing is added."""
    return await roll_back(agent, user, workflow_id, request.version)


@router.delete("/api/workflows/{workflow_id}", status_code=status.HTTP_204_NO_CONTENT)
async def forget_workflow(workflow_id: WorkflowIdPath, agent: AgentDep, user: Admin) -> Response:
    """Delete a workflow, all its versions and its schedules; threads that ran it stay."""
    await delete_workflow_with_schedules(agent, user, workflow_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/api/threads/{thread_id}/save-as-workflow",
    status_code=status.HTTP_201_CREATED,
    response_model=SavedWorkflow,
)
async def save_thread_as_workflow(
    thread_id: ThreadIdPath,
    agent: AgentDep,
    user: Operator,
    settings: SettingsDep,
    request: SaveThreadRequest | None = None,
) -> SavedWorkflow:
    """Save the workflow this thread ran (its plan) as a new library workflow; every
    field of the body is optional, and so is the body."""
    request = request or SaveThreadRequest()
    saved = await from_thread.save_thread_as_workflow(
        agent,
        user,
        settings.workflow_limits(),
        thread_id,
        workflow_id=request.workflow_id,
        name=request.name,
    )
    details = {"workflow_id": saved.workflow_id, "version": saved.version}
    await record(agent, user, "save_as_workflow", thread_id, details)
    return saved
