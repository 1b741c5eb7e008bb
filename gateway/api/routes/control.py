"""Pause, cancel, resume and fork one workflow thread."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Response, status

from agents.contract import WorkflowStatus
from gateway.api.deps import AgentDep, CurrentUser, IdempotencyKeyDep, Operator, SettingsDep
from gateway.api.models import ExecutionAccepted, ForkRequest, ResumeRequest, ThreadControlResult
from gateway.api.routes.common import (
    AUTHENTICATED,
    ERRORS,
    REPLAYED,
    RUN_ERRORS,
    ThreadIdPath,
)
from gateway.audit.trail import Action, record
from gateway.threads.control import cancel_thread, fork_thread, pause_thread, resume_thread
from gateway.threads.idempotency import IdempotentRequest

router = APIRouter(
    prefix="/api/threads", tags=["control"], dependencies=AUTHENTICATED, responses=ERRORS
)


def _accepted(execution_id: str, thread_id: str) -> ExecutionAccepted:
    return ExecutionAccepted(
        execution_id=execution_id, thread_id=thread_id, status=WorkflowStatus.PENDING
    )


@router.post(
    "/{thread_id}/pause", status_code=status.HTTP_202_ACCEPTED, response_model=ThreadControlResult
)
async def pause(thread_id: ThreadIdPath, agent: AgentDep, user: Operator) -> ThreadControlResult:
    """Stop at the next step boundary: the step in flight finishes, the next does not start."""
    progress = await pause_thread(agent, user, thread_id)
    await record(agent, user, "pause", thread_id)
    return ThreadControlResult(thread_id=thread_id, status="pausing", progress=progress)


@router.post("/{thread_id}/cancel", response_model=ThreadControlResult)
async def cancel(thread_id: ThreadIdPath, agent: AgentDep, user: Operator) -> ThreadControlResult:
    """Stop now: the step in flight is abandoned and runs again on resume."""
    progress = await cancel_thread(agent, user, thread_id)
    await record(agent, user, "cancel", thread_id)
    return ThreadControlResult(thread_id=thread_id, status="cancelled", progress=progress)


@router.post(
    "/{thread_id}/resume",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=ExecutionAccepted,
    responses={**REPLAYED, **RUN_ERRORS},
)
async def resume(
    thread_id: ThreadIdPath,
    agent: AgentDep,
    user: CurrentUser,
    settings: SettingsDep,
    response: Response,
    idempotency_key: IdempotencyKeyDep,
    answer: Annotated[ResumeRequest | None, Body()] = None,
) -> ExecutionAccepted:
    """Continue a paused or failed thread, or answer a waiting approval."""
    answer = answer or ResumeRequest()
    keyed = None
    if idempotency_key is not None:
        request = {"thread_id": thread_id, **answer.model_dump(mode="json")}
        keyed = IdempotentRequest.of(idempotency_key, "resume", request)
    execution = await resume_thread(
        agent,
        user,
        settings.assistant_id,
        thread_id,
        approved=answer.approved,
        comment=answer.comment,
        idempotency=keyed,
    )
    if execution.replayed:
        response.status_code = status.HTTP_200_OK
    else:
        answers: dict[bool | None, Action] = {None: "resume", True: "approve", False: "reject"}
        action = answers[answer.approved]
        details = {"execution_id": execution.execution_id}
        if answer.comment:
            details["comment"] = answer.comment
        await record(agent, user, action, thread_id, details)
    return _accepted(execution.execution_id, thread_id)


@router.post(
    "/{thread_id}/fork",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=ExecutionAccepted,
    responses=RUN_ERRORS,
)
async def fork(
    thread_id: ThreadIdPath,
    request: ForkRequest,
    agent: AgentDep,
    user: Operator,
    settings: SettingsDep,
) -> ExecutionAccepted:
    """Run again from an earlier checkpoint (optionally with edited values); history is kept."""
    execution = await fork_thread(
        agent,
        user,
        settings.assistant_id,
        thread_id,
        request.checkpoint_id,
        request.values,
        settings.workflow_limits(),
    )
    details = {"execution_id": execution.execution_id, "checkpoint_id": request.checkpoint_id}
    await record(agent, user, "fork", thread_id, details)
    return _accepted(execution.execution_id, thread_id)
