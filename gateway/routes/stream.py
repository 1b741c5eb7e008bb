"""Stream a workflow's progress over a WebSocket: start a run, or join a thread's live run."""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect, status
from langgraph_sdk.client import LangGraphClient

from gateway.auth import Authenticator, User, credentials, current_user, unauthorized
from gateway.deps import AgentDep, SettingsDep
from gateway.errors import ErrorBody, GatewayError, describe, not_found
from gateway.executions import Execution, plan_for, start_execution
from gateway.models import UUID_PATTERN, ExecuteRequest
from gateway.progress import thread_progress
from gateway.settings import Settings
from gateway.stream_frames import end_frame, error_frame, frame_for, run_error, started_frame
from gateway.thread_control import active_runs
from gateway.thread_reads import read_thread

logger = logging.getLogger(__name__)
router = APIRouter(tags=["workflow"])

Work = Callable[[Callable[[Execution], None]], Awaitable[None]]


class FrameRefused(GatewayError):
    """A first message the socket cannot go on from: it is answered with a policy close."""


async def first_message(websocket: WebSocket, settings: Settings) -> Any:
    """The socket's first message as JSON, within the deadline and the body size limit.

    Until it arrives the socket holds a connection and a task for nothing, so a slow,
    binary, oversized or unparsable first message ends it.
    """
    try:
        message = await asyncio.wait_for(
            websocket.receive(), timeout=settings.ws_first_message_seconds
        )
    except TimeoutError:
        raise FrameRefused(
            408, "timeout", f"no message within {settings.ws_first_message_seconds:g} s"
        ) from None
    if message["type"] == "websocket.disconnect":
        raise WebSocketDisconnect(message.get("code", 1000))
    text = message.get("text")
    if text is None:
        raise FrameRefused(400, "bad_request", "expected a JSON text message, got binary")
    if len(text) > settings.max_body_bytes or len(text.encode()) > settings.max_body_bytes:
        raise FrameRefused(413, "payload_too_large", "message exceeds max_body_bytes")
    try:
        return json.loads(text)
    except (json.JSONDecodeError, RecursionError):
        raise FrameRefused(422, "validation_error", "the message is not valid JSON") from None


async def _serve(websocket: WebSocket, work: Work) -> None:
    """Authenticate, run `work`, turn any failure into one `error` frame.

    A client leaving is fine; a client that cannot authenticate, or whose first
    message is refused, gets an `error` frame and the policy-violation close (1008).
    """
    await websocket.accept()
    execution: Execution | None = None
    try:
        current_user.set((await _authenticate(websocket)).id)
    except GatewayError as exc:
        await _refuse(websocket, exc)
        return
    except WebSocketDisconnect:
        return

    def remember(started: Execution) -> None:
        nonlocal execution
        execution = started

    try:
        await work(remember)
    except WebSocketDisconnect:
        # Runs are background runs: the run goes on and its thread keeps every step.
        logger.info("stream client left; %s continues", execution or "nothing started")
        return
    except FrameRefused as exc:
        await _refuse(websocket, exc)
        return
    except Exception as exc:  # the WebSocket edge has no exception handlers: map here
        _, body = describe(exc)
        await websocket.send_json(error_frame(body, execution))
    await websocket.close(status.WS_1000_NORMAL_CLOSURE)


async def _refuse(websocket: WebSocket, exc: GatewayError) -> None:
    _, body = describe(exc)
    await websocket.send_json(error_frame(body))
    await websocket.close(status.WS_1008_POLICY_VIOLATION)


async def _authenticate(websocket: WebSocket) -> User:
    """From the handshake headers, or else a first message `{"type": "auth", ...}`.

    Browsers cannot set headers on a WebSocket, so they send `{"type": "auth",
    "api_key": ...}` or `{"type": "auth", "token": ...}` before anything else.
    """
    authenticator: Authenticator = websocket.app.state.authenticator
    api_key, bearer = credentials(websocket)
    if api_key or bearer or authenticator.settings.auth_disabled:
        return await authenticator.authenticate(api_key, bearer)
    first = await first_message(websocket, authenticator.settings)
    if not isinstance(first, dict) or first.get("type") != "auth":
        raise unauthorized('credentials required: headers, or a first {"type": "auth"} message')
    api_key, token = first.get("api_key"), first.get("token")
    return await authenticator.authenticate(
        api_key if isinstance(api_key, str) else None, token if isinstance(token, str) else None
    )


@router.websocket("/api/workflow/execute/stream")
async def execute_stream(websocket: WebSocket, agent: AgentDep, settings: SettingsDep) -> None:
    """One JSON `{workflow_json, thread_id?}` in; `started`, progress, then `end` or `error` out."""

    async def work(remember: Callable[[Execution], None]) -> None:
        request = ExecuteRequest.model_validate(await first_message(websocket, settings))
        plan = await plan_for(agent, settings, request)
        execution = await start_execution(agent, settings.assistant_id, plan, request.thread_id)
        remember(execution)
        await websocket.send_json(started_frame(execution))
        await relay(websocket, agent, execution)

    await _serve(websocket, work)


@router.websocket("/api/threads/{thread_id}/stream")
async def join_thread_stream(websocket: WebSocket, thread_id: str, agent: AgentDep) -> None:
    """Reattach to a thread: its live run's frames from the start, or `end` if none runs.

    Joining never starts a run, so a client that lost its socket (or its gateway)
    reconnects here, to any replica, without running anything twice.
    """

    async def work(remember: Callable[[Execution], None]) -> None:
        if re.match(UUID_PATTERN, thread_id) is None:
            raise not_found("thread", thread_id)
        thread = await read_thread(agent, thread_id)
        runs = await active_runs(agent, thread_id)
        if not runs:
            await websocket.send_json(end_frame(thread_progress(thread)))
            return
        execution = Execution(thread_id=thread_id, run_id=runs[0]["run_id"])
        remember(execution)
        await websocket.send_json(started_frame(execution))
        await relay(websocket, agent, execution)

    await _serve(websocket, work)


async def relay(websocket: WebSocket, agent: LangGraphClient, execution: Execution) -> None:
    """Forward the run's events as frames, then the final `end` or `error` frame."""
    failure = None
    # last_event_id "-1" replays from the run's first event, so nothing emitted
    # between creating the run and joining it is missed.
    async for part in agent.runs.join_stream(
        execution.thread_id, execution.run_id, last_event_id="-1"
    ):
        failure = failure or run_error(part)
        frame = frame_for(part)
        if frame is not None:
            await websocket.send_json(frame)
    await agent.runs.join(execution.thread_id, execution.run_id)
    progress = thread_progress(await agent.threads.get(execution.thread_id), failure)
    if failure is not None:
        body = ErrorBody(
            error="workflow_failed", message=failure, details=progress.model_dump(mode="json")
        )
        await websocket.send_json(error_frame(body, execution))
    else:
        await websocket.send_json(end_frame(progress, execution))
