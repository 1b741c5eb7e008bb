"""What a team reviews: the approvals inbox and the audit trail."""

from __future__ import annotations

from fastapi import APIRouter

from gateway.api.deps import AgentDep, CurrentUser, SettingsDep
from gateway.api.models import (
    ApprovalPage,
    ApprovalWaiting,
    AuditEntry,
    AuditPage,
    PageLimit,
    PageOffset,
    ThreadAudit,
    next_offset,
    page_size,
)
from gateway.api.routes.common import AUTHENTICATED, ERRORS, ThreadIdPath
from gateway.audit.trail import AuditEvent, space_events, thread_events
from gateway.threads.approvals import approvals_for
from gateway.threads.reads import read_thread

router = APIRouter(tags=["oversight"], dependencies=AUTHENTICATED, responses=ERRORS)


@router.get("/api/approvals", response_model=ApprovalPage)
async def list_approvals(
    agent: AgentDep,
    user: CurrentUser,
    settings: SettingsDep,
    limit: PageLimit = 20,
    offset: PageOffset = 0,
) -> ApprovalPage:
    """Threads waiting for an answer the caller may give in the space they act in
    (their role allows answering; four-eyes leaves none of their own), longest waiting
    first. Empty for a viewer or operator."""
    limit = page_size(limit, settings)
    found = await approvals_for(agent, user)
    items = [ApprovalWaiting(**vars(a)) for a in found[offset : offset + limit]]
    return ApprovalPage.of(items, total=len(found), limit=limit, offset=offset)


@router.get("/api/threads/{thread_id}/audit", response_model=ThreadAudit)
async def read_thread_audit(
    thread_id: ThreadIdPath, agent: AgentDep, user: CurrentUser
) -> ThreadAudit:
    """Who did what to this thread, oldest first; kept after the thread is deleted."""
    events = await thread_events(agent, user, thread_id)
    if not events:
        await read_thread(agent, user, thread_id)  # 404 unless the caller may see it
    return ThreadAudit(thread_id=thread_id, events=[_entry(e) for e in events])


@router.get("/api/audit", response_model=AuditPage)
async def read_audit(
    agent: AgentDep,
    user: CurrentUser,
    settings: SettingsDep,
    limit: PageLimit = 50,
    offset: PageOffset = 0,
) -> AuditPage:
    """The acting space's trail, newest first, deleted threads' events included."""
    limit = page_size(limit, settings)
    events, more = await space_events(agent, user, limit=limit, offset=offset)
    return AuditPage(
        events=[_entry(e) for e in events],
        limit=limit,
        offset=offset,
        next_offset=next_offset(offset, limit, offset + limit + 1) if more else None,
    )


def _entry(event: AuditEvent) -> AuditEntry:
    return AuditEntry(**vars(event))
