"""Stream a workflow's progress over a WebSocket: start a run, or join a thread's live run."""

from __future__ import annotations

import logging
from collections.abc import Callable

from fastapi import APIRouter, WebSocket
from langgraph_sdk.client import LangGraphClient
from prometheus_client import Counter

from agents.teams import Ability
from gateway.agent.client import Actor, as_user
from gateway.api.deps import AgentDep, SettingsDep
from gateway.api.errors import ErrorBody
from gateway.api.frames import StreamFrames, end_frame, error_frame, run_error, started_frame
from gateway.api.metrics import (
    STEPS_FINISHED_EXECUTE,
    STEPS_FINISHED_REJOIN,
    WORKFLOWS_STARTED_WEBSOCKET,
)
from gateway.api.models import ExecuteRequest
from gateway.api.routes.common import execute
from gateway.api.sockets import first_message, serve
from gateway.audit.trail import record
from gateway.errors import NotFound
from gateway.threads.control import active_runs
from gateway.threads.executions import Execution
from gateway.threads.ids import issued_by_agent_server
from gateway.threads.progress import thread_progress
from gateway.threads.reads import read_thread
from gateway.threads.views import task_error

logger = logging.getLogger(__name__)
router = APIRouter(tags=["workflow"])


@router.websocket("/api/workflow/execute/stream")
async def execute_stream(websocket: WebSocket, agent: AgentDep, settings: SettingsDep) -> None:
    """One JSON `{workflow_json, thread_id?, idempotency_key?}` in; `started`, progress,
    then `end` or `error` out. A key sent before joins the run it started."""

    async def work(user: Actor, remember: Callable[[Execution], None]) -> None:
        message = await first_message(websocket, settings)
        # Refused after its message is read: a client that sends at once then reads the
        # error frame instead of finding the socket closed under its send.
        user.require(Ability.RUN)
        request = ExecuteRequest.model_validate(message)
        execution = await execute(
            agent, user, settings, request, request.idempotency_key, "idempotency_key"
        )
        if not execution.replayed:
            WORKFLOWS_STARTED_WEBSOCKET.inc()
            details = {"execution_id": execution.execution_id, "via": "websocket"}
            await record(agent, user, "execute", execution.thread_id, details)
        remember(execution)
        await websocket.send_json(started_frame(execution))
        await relay(websocket, agent, user, execution, STEPS_FINISHED_EXECUTE)

    await serve(websocket, work)


@router.websocket("/api/threads/{thread_id}/stream")
async def join_thread_stream(websocket: WebSocket, thread_id: str, agent: AgentDep) -> None:
    """Reattach to a thread: its live run's frames from the start, or `end` if none runs.

    Joining never starts a run, so a client that lost its socket (or its gateway)
    reconnects here, to any replica, without running anything twice.
    """

    async def work(user: Actor, remember: Callable[[Execution], None]) -> None:
        if not issued_by_agent_server(thread_id):
            raise NotFound("thread", thread_id)
        thread = await read_thread(agent, user, thread_id)
        runs = await active_runs(agent, user, thread_id)
        if not runs:
            await websocket.send_json(end_frame(thread_progress(thread)))
            return
        execution = Execution(thread_id=thread_id, run_id=runs[0]["run_id"])
        remember(execution)
        await websocket.send_json(started_frame(execution))
        await relay(websocket, agent, user, execution, STEPS_FINISHED_REJOIN)

    await serve(websocket, work)


async def relay(
    websocket: WebSocket,
    agent: LangGraphClient,
    user: Actor,
    execution: Execution,
    steps_finished: Counter,
) -> None:
    """Forward the run's events as frames, then the final `end` or `error` frame.

    Each `step_finished` progress frame relayed counts in `steps_finished`.
    """
    failure = None
    frames = StreamFrames()
    # last_event_id "-1" replays from the run's first event, so nothing emitted
    # between creating the run and joining it is missed.
    async for part in agent.runs.join_stream(
        execution.thread_id, execution.run_id, last_event_id="-1", headers=as_user(user)
    ):
        failure = failure or run_error(part)
        frame = frames.frame_for(part)
        if frame is not None:
            await websocket.send_json(frame)
            if frame["type"] == "progress" and frame["event"] == "step_finished":
                steps_finished.inc()
    await agent.runs.join(execution.thread_id, execution.run_id, headers=as_user(user))
    if failure is not None:
        # The stream's own message can be a generic "internal error"; the step's recorded
        # error is the reason the thread, the execution and the failed list all show.
        state = await agent.threads.get_state(execution.thread_id, headers=as_user(user))
        failure = task_error(state) or failure
    progress = thread_progress(
        await agent.threads.get(execution.thread_id, headers=as_user(user)), failure
    )
    if failure is not None:
        body = ErrorBody(
            error="workflow_failed", message=failure, details=progress.model_dump(mode="json")
        )
        await websocket.send_json(error_frame(body, execution))
    else:
        await websocket.send_json(end_frame(progress, execution))
