"""Stream a workflow's progress over a WebSocket: start a run, or join a thread's live run."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from langgraph_sdk.client import LangGraphClient
from prometheus_client import Counter

from agents.teams import Ability
from gateway.agent.client import Actor
from gateway.api.deps import AgentDep, SettingsDep
from gateway.api.frames import end_frame, started_frame
from gateway.api.metrics import (
    STEPS_FINISHED_EXECUTE,
    STEPS_FINISHED_REJOIN,
    WORKFLOWS_STARTED_WEBSOCKET,
)
from gateway.api.models import ExecuteRequest
from gateway.api.routes.common import execute
from gateway.api.sockets import first_message, serve
from gateway.api.watching import Watching
from gateway.audit.trail import record
from gateway.errors import NotFound
from gateway.settings import Settings
from gateway.threads.control import active_runs
from gateway.threads.executions import Execution
from gateway.threads.ids import issued_by_agent_server
from gateway.threads.progress import ThreadProgress, thread_progress
from gateway.threads.reads import read_thread

logger = logging.getLogger(__name__)
router = APIRouter(tags=["workflow"])


@router.websocket("/api/workflow/execute/stream")
async def execute_stream(websocket: WebSocket, agent: AgentDep, settings: SettingsDep) -> None:
    """One JSON `{workflow_json, thread_id?, idempotency_key?}` in; `started`, progress,
    then `end` or `error` out. A key sent before joins the run it started."""

    async def work(user: Actor, remember: Callable[[Execution], None]) -> None:
        execution = await start(websocket, agent, settings, user)
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
        execution = await live_run(agent, user, thread_id)
        if isinstance(execution, ThreadProgress):
            await websocket.send_json(end_frame(execution))
            return
        remember(execution)
        await websocket.send_json(started_frame(execution))
        await relay(websocket, agent, user, execution, STEPS_FINISHED_REJOIN)

    await serve(websocket, work)


# The socket's first steps are functions of their own, so what they read (the workflow,
# the thread) is freed once they return instead of living as long as the socket.
async def start(
    websocket: WebSocket, agent: LangGraphClient, settings: Settings, user: Actor
) -> Execution:
    """The execution the socket's first message asks for, started (or its key's, joined)."""
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
    return execution


async def live_run(
    agent: LangGraphClient, user: Actor, thread_id: str
) -> Execution | ThreadProgress:
    """The thread's live run, or, if none runs, where the thread stands."""
    if not issued_by_agent_server(thread_id):
        raise NotFound("thread", thread_id)
    thread = await read_thread(agent, user, thread_id)
    runs = await active_runs(agent, user, thread_id)
    if not runs:
        return thread_progress(thread)
    return Execution(thread_id=thread_id, run_id=runs[0]["run_id"])


async def relay(
    websocket: WebSocket,
    agent: LangGraphClient,
    user: Actor,
    execution: Execution,
    steps_finished: Counter,
) -> None:
    """Send the run's frames from its start, then the final `end` or `error` frame.

    The run's Agent Server stream is this worker's one for the run, shared with every
    other socket watching it (`gateway/api/watching.py`). Each `step_finished` progress
    frame sent counts in `steps_finished`.
    """
    watching: Watching = websocket.app.state.watching
    left = asyncio.ensure_future(_client_left(websocket))
    try:
        async with watching.watch(agent, user, execution) as run:
            async for frame in run.follow(left):
                await websocket.send_text(frame.text)
                if frame.step_finished:
                    steps_finished.inc()
    finally:
        gone = left.done()
        left.cancel()
    if gone:
        raise WebSocketDisconnect()


async def _client_left(websocket: WebSocket) -> None:
    """Returns when the client closes its socket; anything it sends meanwhile is ignored."""
    with contextlib.suppress(RuntimeError):  # Starlette's "already disconnected"
        while (await websocket.receive())["type"] != "websocket.disconnect":
            pass
