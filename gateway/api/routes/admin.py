"""Taking over what was made while authentication was off (an admin's action)."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from agents.contract import DEV_USER
from gateway.agent.client import Actor
from gateway.api.deps import Admin, AgentDep, SettingsDep
from gateway.api.routes.common import AUTHENTICATED, ERRORS
from gateway.audit.trail import record
from gateway.errors import Conflict, Forbidden
from gateway.library.handover import hand_over
from gateway.schedules.crons import delete_schedules_of

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
    authentication is off) into the team the caller is an admin of. Recorded in the
    team's audit trail. dev's schedules of the moved workflows are deleted."""
    if settings.auth_disabled:
        raise Conflict("nothing_to_hand_over", f"authentication is off: every caller is {DEV_USER}")
    if user.team is None:
        raise Forbidden(
            "hand over into a team, as its admin: send X-Threadgate-Team (CLI: --team)",
            {"needs": "admin"},
        )
    done = await hand_over(agent, user)
    for workflow_id in done.workflows:
        # They would fire against a workflow dev no longer has.
        await delete_schedules_of(agent, Actor(DEV_USER), workflow_id)
    for thread_id in done.threads:
        await record(agent, user, "handover", thread_id, {"from": DEV_USER})
    for workflow_id in done.workflows:
        await record(agent, user, "handover", None, {"from": DEV_USER, "workflow_id": workflow_id})
    return HandoverResult(threads=done.threads, workflows=done.workflows, skipped=done.skipped)
