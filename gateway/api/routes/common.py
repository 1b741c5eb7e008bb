"""What every API router shares: authentication, documented errors, path ids, and
starting a workflow from an execute request (REST and WebSocket alike)."""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import Depends, Path
from fastapi.exceptions import RequestValidationError
from langgraph_sdk.client import LangGraphClient
from starlette import status
from starlette.exceptions import HTTPException

from gateway.agent.client import Actor
from gateway.api.deps import IDEMPOTENCY_KEY_HEADER, require_user
from gateway.api.errors import ErrorBody, error_response
from gateway.api.models import ExecuteRequest, ExecutionAccepted
from gateway.errors import Invalid, NotFound
from gateway.library.reads import saved_plan
from gateway.settings import Settings
from gateway.threads.executions import Execution, plan_for, start_execution
from gateway.threads.idempotency import IdempotentRequest, start_on_keyed_thread, start_once
from gateway.threads.ids import ANY_UUID_PATTERN, issued_by_agent_server

AUTHENTICATED = [Depends(require_user)]

ERRORS: dict[int | str, dict[str, Any]] = {
    status: error_response(status) for status in (400, 401, 403, 404, 409, 413, 422, 502, 503, 504)
}
# Routes that start a run: the Agent Server refuses one past the user's active-run cap,
# and an Idempotency-Key's retry is answered 200 with the original execution.
RUN_ERRORS: dict[int | str, dict[str, Any]] = {
    429: {
        "model": ErrorBody,
        "description": "`too_many_active_runs`: try again after `Retry-After` seconds.",
    },
}
REPLAYED: dict[int | str, dict[str, Any]] = {
    200: {
        "model": ExecutionAccepted,
        "description": "The execution this Idempotency-Key started before: nothing new started.",
    },
}


# The maintenance routes' own segments under /api/threads: `DELETE /api/threads/failed`
# is a 405 naming the methods `/api/threads/failed` has, not a thread id refused.
THREAD_ROUTE_WORDS = ("failed", "prune")


async def _thread_id(
    thread_id: Annotated[
        str,
        # The pattern is published, and checked below, after the fixed routes' words.
        Path(description="A thread id (UUID).", json_schema_extra={"pattern": ANY_UUID_PATTERN}),
    ],
) -> str:
    if thread_id in THREAD_ROUTE_WORDS:
        raise HTTPException(status.HTTP_405_METHOD_NOT_ALLOWED)
    if re.fullmatch(ANY_UUID_PATTERN, thread_id) is None:
        raise RequestValidationError(
            [
                {
                    "type": "string_pattern_mismatch",
                    "loc": ("path", "thread_id"),
                    "msg": f"String should match pattern '{ANY_UUID_PATTERN}'",
                    "input": thread_id,
                }
            ]
        )
    # Well-formed but never issued (the nil UUID, say): nobody's thread, so 404, and not
    # forwarded (runtime-inmem answers 500 to the nil UUID).
    if not issued_by_agent_server(thread_id):
        raise NotFound("thread", thread_id)
    return thread_id


ThreadIdPath = Annotated[str, Depends(_thread_id)]


async def execute(
    agent: LangGraphClient,
    user: Actor,
    settings: Settings,
    request: ExecuteRequest,
    idempotency_key: str | None = None,
    key_field: str = IDEMPOTENCY_KEY_HEADER,
) -> Execution:
    """Validate the request's workflow (or follow-up), then start its run; with a key,
    the run that key started, if it started one (`Execution.replayed`)."""
    keyed = None
    if idempotency_key is not None:
        keyed = IdempotentRequest.of(idempotency_key, "execute", request.identity(), key_field)

    async def start() -> Execution:
        if request.workflow_id is not None:
            plan = await saved_plan(agent, user, request.workflow_id, request.version)
        else:
            plan = await plan_for(
                agent,
                user,
                settings.workflow_limits(),
                workflow_json=request.workflow_json,
                thread_id=request.thread_id,
                message=request.message,
            )
        if user.team is None and any(step.get("four_eyes") for step in plan.steps):
            # In one's own space nobody else can see the thread, let alone answer it.
            raise Invalid(
                "workflow_json",
                "a four_eyes approval needs someone else to answer it: run this workflow "
                "in a team (X-Threadgate-Team)",
            )
        webhook = str(request.webhook) if request.webhook is not None else None
        if keyed is not None and request.thread_id is None:
            return await start_on_keyed_thread(
                agent, user, settings.assistant_id, plan, webhook, keyed
            )
        marks = keyed.metadata() if keyed is not None else None
        return await start_execution(
            agent, user, settings.assistant_id, plan, request.thread_id, webhook, marks
        )

    if keyed is None:
        return await start()
    return await start_once(agent, user, request.thread_id or keyed.thread_id(user), keyed, start)
