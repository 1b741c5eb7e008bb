"""Taking over what was made while authentication was off (an admin's action)."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from gateway.api.deps import Admin, AgentDep, SettingsDep
from gateway.api.routes.common import AUTHENTICATED, ERRORS
from gateway.audit.trail import record
from gateway.errors import Conflict
from gateway.library.handover import DEV_USER, hand_over

router = APIRouter(tags=["admin"], dependencies=AUTHENTICATED, responses=ERRORS)


class HandoverResult(BaseModel):
    threads: list[str] = Field(description="Threads that now belong to the acting space.")
    workflows: list[str] = Field(description="Saved workflows moved, every version.")
    skipped: list[str] = Field(
        description="Workflow ids the acting space has already: left where they were."
    )


@router.post("/api/handover", response_model=HandoverResult)
async def take_over_dev_work(agent: AgentDep, user: Admin, settings: SettingsDep) -> HandoverResult:
    """Move the threads and saved workflows user `dev` made (every caller is `dev` while
    authentication is off) into the acting space: a team's (its admin only) or the
    caller's own. Recorded in that space's audit trail. Schedules are not moved."""
    if settings.auth_disabled:
        raise Conflict("nothing_to_hand_over", f"authentication is off: every caller is {DEV_USER}")
    if DEV_USER in settings.api_keys:
        raise Conflict(
            "nothing_to_hand_over", f"'{DEV_USER}' is a configured user: their work is their own"
        )
    done = await hand_over(agent, user)
    for thread_id in done.threads:
        await record(agent, user, "handover", thread_id, {"from": DEV_USER})
    for workflow_id in done.workflows:
        await record(agent, user, "handover", None, {"from": DEV_USER, "workflow_id": workflow_id})
    return HandoverResult(threads=done.threads, workflows=done.workflows, skipped=done.skipped)
