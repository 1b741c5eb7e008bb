"""A WebSocket session: who is calling, its first message, and how a failure ends it."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import WebSocket, WebSocketDisconnect, status

from gateway.agent.client import Actor
from gateway.api.auth import Authenticator, credentials, team, unauthorized
from gateway.api.errors import GatewayError, describe
from gateway.api.frames import error_frame
from gateway.settings import Settings
from gateway.threads.executions import Execution

logger = logging.getLogger(__name__)

# What a socket does once its caller is known: given the caller and a way to name the
# execution it started (for the error frame, if it fails later).
Work = Callable[[Actor, Callable[[Execution], None]], Awaitable[None]]


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
    # ValueError covers bad JSON and integers too long to convert (over 4,300 digits).
    except (ValueError, RecursionError):
        raise FrameRefused(422, "validation_error", "the message is not valid JSON") from None


async def serve(websocket: WebSocket, work: Work) -> None:
    """Authenticate, run `work` as the caller, turn any failure into one `error` frame.

    A client leaving is fine; a client that cannot authenticate, or whose first
    message is refused, gets an `error` frame and the policy-violation close (1008).
    """
    await websocket.accept()
    execution: Execution | None = None
    try:
        user = await _authenticate(websocket)
    except GatewayError as exc:
        await _refuse(websocket, exc)
        return
    except WebSocketDisconnect:
        return

    def remember(started: Execution) -> None:
        nonlocal execution
        execution = started

    try:
        await work(user, remember)
    except WebSocketDisconnect:
        # Runs are background runs: the run goes on and its thread keeps every step.
        started = execution.execution_id if execution else "nothing started"
        logger.info("stream client left; %s continues", started)
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


async def _authenticate(websocket: WebSocket) -> Actor:
    """From the handshake headers, or else a first message `{"type": "auth", ...}`.

    Browsers cannot set headers on a WebSocket, so they send `{"type": "auth",
    "api_key": ...}` or `{"type": "auth", "token": ...}` before anything else, with
    `"team": ...` to act in a team.
    """
    authenticator: Authenticator = websocket.app.state.authenticator
    api_key, bearer = credentials(websocket)
    if api_key or bearer or authenticator.settings.auth_disabled:
        return await authenticator.authenticate(api_key, bearer, team(websocket))
    first = await first_message(websocket, authenticator.settings)
    if not isinstance(first, dict) or first.get("type") != "auth":
        raise unauthorized('credentials required: headers, or a first {"type": "auth"} message')
    api_key, token, named = first.get("api_key"), first.get("token"), first.get("team")
    return await authenticator.authenticate(
        api_key if isinstance(api_key, str) else None,
        token if isinstance(token, str) else None,
        named.strip() or None if isinstance(named, str) else team(websocket),
    )
