"""Work on many threads at once: find and resume failed ones, prune old ones.

Registered before `threads`, so `/api/threads/failed` is not read as a thread id.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from gateway.api.deps import Admin, AgentDep, CurrentUser, Operator, SettingsDep
from gateway.api.models import page_size
from gateway.api.routes.common import AUTHENTICATED, ERRORS
from gateway.audit.trail import record
from gateway.threads.recovery import (
    BatchResumeRequest,
    FailedThreadsFilter,
    ResumeOutcome,
    find_failed,
    resume_failed,
)
from gateway.threads.retention import PruneRequest, PruneResult, prune_threads
from gateway.threads.views import ThreadSummary

router = APIRouter(
    prefix="/api/threads", tags=["maintenance"], dependencies=AUTHENTICATED, responses=ERRORS
)


@router.get("/failed", response_model=list[ThreadSummary])
async def list_failed(
    agent: AgentDep,
    user: CurrentUser,
    settings: SettingsDep,
    query: Annotated[FailedThreadsFilter, Query()],
) -> list[ThreadSummary]:
    """Failed threads, longest-quiet first, filtered by age and workflow."""
    capped = query.model_copy(update={"limit": page_size(query.limit, settings)})
    return await find_failed(agent, user, capped)


@router.post("/failed/resume", response_model=list[ResumeOutcome])
async def resume_failed_threads(
    request: BatchResumeRequest, agent: AgentDep, user: Operator, settings: SettingsDep
) -> list[ResumeOutcome]:
    """Resume the given (or found) failed threads once each: resumed, already_running,
    not_found or error per thread."""
    if request.thread_ids is not None:
        ids = request.thread_ids
    else:
        capped = request.model_copy(update={"limit": page_size(request.limit, settings)})
        ids = [t.thread_id for t in await find_failed(agent, user, capped)]
    outcomes = await resume_failed(agent, user, settings.assistant_id, ids)
    for done in outcomes:
        if done.outcome == "resumed":
            details = {"execution_id": done.execution_id, "via": "resume_failed"}
            await record(agent, user, "resume", done.thread_id, details)
    return outcomes


@router.post("/prune", response_model=PruneResult)
async def prune(request: PruneRequest, agent: AgentDep, user: Admin) -> PruneResult:
    """Delete (or trim to their latest state) threads not updated for a while; dry run first."""
    pruned = await prune_threads(agent, user, request)
    if not pruned.dry_run:
        details = {"via": "prune", "strategy": pruned.strategy}
        for thread_id in pruned.thread_ids:
            await record(agent, user, "delete", thread_id, details)
    return pruned
