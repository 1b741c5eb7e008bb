"""Run a workflow, and look up one execution."""

from __future__ import annotations

from fastapi import APIRouter, Response, status
from fastapi.exceptions import RequestValidationError
from langgraph_sdk.errors import NotFoundError

from agents.contract import WorkflowStatus
from gateway.agent.client import as_user
from gateway.agent.together import together
from gateway.api.deps import (
    IDEMPOTENCY_KEY_HEADER,
    AgentDep,
    CurrentUser,
    IdempotencyKeyDep,
    Operator,
    SettingsDep,
)
from gateway.api.metrics import WORKFLOWS_STARTED_REST
from gateway.api.models import ExecuteRequest, ExecutionAccepted
from gateway.api.routes.common import AUTHENTICATED, ERRORS, REPLAYED, RUN_ERRORS, execute
from gateway.audit.trail import record
from gateway.errors import NotFound
from gateway.threads.executions import parse_execution_id
from gateway.threads.progress import thread_progress
from gateway.threads.reads import as_left_by, read_thread
from gateway.threads.views import ExecutionPublic, execution_status, finished_steps, task_error

router = APIRouter(
    prefix="/api/workflow", tags=["workflow"], dependencies=AUTHENTICATED, responses=ERRORS
)


@router.post(
    "/execute",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=ExecutionAccepted,
    responses={**REPLAYED, **RUN_ERRORS},
)
async def execute_workflow(
    request: ExecuteRequest,
    agent: AgentDep,
    user: Operator,
    settings: SettingsDep,
    response: Response,
    idempotency_key: IdempotencyKeyDep,
) -> ExecutionAccepted:
    """Validate a workflow and start it in the background on a new or existing thread."""
    key, field = _one_key(idempotency_key, request.idempotency_key)
    execution = await execute(agent, user, settings, request, key, field)
    if execution.replayed:
        response.status_code = status.HTTP_200_OK
    else:
        WORKFLOWS_STARTED_REST.inc()
        details = {"execution_id": execution.execution_id}
        await record(agent, user, "execute", execution.thread_id, details)
    return ExecutionAccepted(
        execution_id=execution.execution_id,
        thread_id=execution.thread_id,
        status=WorkflowStatus.PENDING,
    )


def _one_key(header: str | None, field: str | None) -> tuple[str | None, str]:
    """The header's key, or the body's (the WebSocket's field, accepted here too), and
    which of them it is."""
    if header is not None and field is not None and header != field:
        raise RequestValidationError(
            [
                {
                    "type": "value_error",
                    "loc": ("header", IDEMPOTENCY_KEY_HEADER),
                    "msg": "differs from the body's idempotency_key; send one of them",
                    "input": header,
                }
            ]
        )
    if header is None and field is not None:
        return field, "idempotency_key"
    return header, IDEMPOTENCY_KEY_HEADER


@router.get("/execution/{execution_id}", response_model=ExecutionPublic)
async def get_execution(execution_id: str, agent: AgentDep, user: CurrentUser) -> ExecutionPublic:
    """Status, progress and result or error of one execution: that run, not the runs
    that came after it on the same thread."""
    execution = parse_execution_id(execution_id)
    try:
        run, thread = await together(
            agent.runs.get(execution.thread_id, execution.run_id, headers=as_user(user)),
            read_thread(agent, user, execution.thread_id),
        )
        thread, own = await as_left_by(agent, user, thread, run)
    except NotFoundError:
        raise NotFound("execution", execution_id) from None
    progress = thread_progress(thread)
    outcome = execution_status(run, progress.status)
    error = None
    if outcome == WorkflowStatus.FAILED:
        # The run's own last checkpoint holds its error; a later run may have failed too.
        state = own or await agent.threads.get_state(execution.thread_id, headers=as_user(user))
        error = task_error(state) or "run failed"
        progress.error_message = error
    finished = outcome in (WorkflowStatus.COMPLETED, WorkflowStatus.FAILED)
    return ExecutionPublic(
        execution_id=execution_id,
        thread_id=execution.thread_id,
        status=outcome,
        run_status=run["status"],
        created_at=run["created_at"],
        updated_at=run["updated_at"],
        progress=progress,
        result=finished_steps(thread) if finished else None,
        error=error,
    )
