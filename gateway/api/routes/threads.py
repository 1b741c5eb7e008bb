"""Find, inspect and delete workflow threads."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response, status

from agents.contract import WorkflowStatus
from gateway.agent.client import as_user
from gateway.api.deps import Admin, AgentDep, CurrentUser, SettingsDep
from gateway.api.models import (
    PageLimit,
    PageOffset,
    SortField,
    SortOrder,
    ThreadPage,
    Version,
    page_size,
)
from gateway.api.routes.common import AUTHENTICATED, ERRORS, ThreadIdPath
from gateway.audit.trail import record
from gateway.threads.ids import UUID_PATTERN
from gateway.threads.reads import read_thread, with_live_values_all
from gateway.threads.search import search_threads
from gateway.threads.views import (
    Checkpoint,
    ThreadDetails,
    ThreadStatePublic,
    checkpoint_view,
    state_view,
    task_error,
    thread_details,
    thread_summary,
)

router = APIRouter(
    prefix="/api/threads", tags=["threads"], dependencies=AUTHENTICATED, responses=ERRORS
)

CheckpointQuery = Annotated[
    str | None, Query(pattern=UUID_PATTERN, description="Read the state at this checkpoint.")
]


@router.get("", response_model=ThreadPage)
async def list_threads(
    agent: AgentDep,
    user: CurrentUser,
    settings: SettingsDep,
    workflow_id: Annotated[str | None, Query(max_length=200)] = None,
    workflow_version: Annotated[
        Version | None, Query(description="Threads that ran this saved version.")
    ] = None,
    schedule_id: Annotated[
        str | None, Query(pattern=UUID_PATTERN, description="Threads a schedule started.")
    ] = None,
    status: WorkflowStatus | None = None,
    limit: PageLimit = 20,
    offset: PageOffset = 0,
    sort_by: SortField = "created_at",
    sort_order: SortOrder = "desc",
) -> ThreadPage:
    """Search workflow threads, newest first unless asked otherwise."""
    limit = page_size(limit, settings)
    wanted = {
        "workflow_id": workflow_id,
        "workflow_version": workflow_version,
        "schedule_id": schedule_id,
    }
    found, total = await search_threads(
        agent,
        user,
        metadata={k: v for k, v in wanted.items() if v is not None},
        status=status,
        limit=limit,
        offset=offset,
        sort_by=sort_by,
        sort_order=sort_order,
    )
    threads = [thread_summary(t) for t in await with_live_values_all(agent, user, found)]
    return ThreadPage.of(threads, total=total, limit=limit, offset=offset)


@router.get("/{thread_id}", response_model=ThreadDetails)
async def get_thread(thread_id: ThreadIdPath, agent: AgentDep, user: CurrentUser) -> ThreadDetails:
    """One thread with its progress, step results and, when waiting, its question."""
    thread = await read_thread(agent, user, thread_id)
    error = None
    if thread["status"] == "error":
        error = task_error(await agent.threads.get_state(thread_id, headers=as_user(user)))
    return thread_details(thread, error)


@router.get("/{thread_id}/state", response_model=ThreadStatePublic)
async def get_thread_state(
    thread_id: ThreadIdPath,
    agent: AgentDep,
    user: CurrentUser,
    checkpoint_id: CheckpointQuery = None,
) -> ThreadStatePublic:
    """The thread's state now, or at an earlier checkpoint."""
    state = await agent.threads.get_state(
        thread_id, checkpoint_id=checkpoint_id, headers=as_user(user)
    )
    return state_view(thread_id, state)


@router.get("/{thread_id}/history", response_model=list[Checkpoint])
async def get_thread_history(
    thread_id: ThreadIdPath,
    agent: AgentDep,
    user: CurrentUser,
    settings: SettingsDep,
    limit: PageLimit = 100,
    before: Annotated[
        str | None, Query(pattern=UUID_PATTERN, description="Only checkpoints older than this.")
    ] = None,
) -> list[Checkpoint]:
    """Checkpoints of the thread, newest first: one per finished step."""
    # Each checkpoint carries the thread's whole state: the page size bounds the memory.
    limit = page_size(limit, settings)
    # The Agent Server's checkpointer takes `before` as a config, not a bare id (its
    # request schema, typed as a Checkpoint by the SDK, lets the config through).
    older_than: Any = {"configurable": {"checkpoint_id": before}} if before else None
    history = await agent.threads.get_history(
        thread_id, limit=limit, before=older_than, headers=as_user(user)
    )
    return [checkpoint_view(state) for state in history]


@router.delete("/{thread_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_thread(thread_id: ThreadIdPath, agent: AgentDep, user: Admin) -> Response:
    """Delete the thread and its checkpoints; later reads answer 404."""
    # Read first: runtime-inmem 0.36 answers 500 (UnboundLocalError) to a delete of an
    # unknown thread under custom auth; a read gives the proper 404.
    await agent.threads.get(thread_id, headers=as_user(user))
    await agent.threads.delete(thread_id, headers=as_user(user))
    await record(agent, user, "delete", thread_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
