"""Each request's id, and its metrics: one pure ASGI middleware, outside everything else.

The id is the caller's `X-Request-ID` when it is sane (1 to 128 visible ASCII
characters), else a new one. It is echoed on the response (and on a WebSocket's
handshake), set in `gateway.agent.client.request_id` for the request's whole life, so
every log line and every Agent Server call made for it carries it. The middleware sits
outside the server-error handler, so even an unexpected error's log line and its 500
carry the id.

Per request it costs the id, one wrapped `send`, two clock reads and (metrics on) one
counter and one histogram update; nothing is logged.
"""

from __future__ import annotations

import os
import re
from time import perf_counter

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.agent.client import REQUEST_ID_HEADER, request_id
from gateway.api.metrics import OPEN_WEBSOCKETS, RequestMetrics

_HEADER = REQUEST_ID_HEADER.encode()
_SANE = re.compile(rb"[!-~]{1,128}")
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED = "unmatched"


def request_id_of(headers: list[tuple[bytes, bytes]]) -> bytes:
    """The caller's `X-Request-ID` if it is sane, else a new random one (32 hex digits)."""
    for name, value in headers:
        if name == _HEADER:
            if _SANE.fullmatch(value):
                return value
            break
    return os.urandom(16).hex().encode()


def route_of(scope: Scope) -> str:
    """The matched route's template, never the raw path: `/api/threads/{thread_id}`."""
    route = scope.get("route")
    if route is not None:
        return getattr(route, "path", UNMATCHED)
    if "app_root_path" in scope:  # a mount (the monitor page's static files)
        return str(scope["root_path"]).removeprefix(scope["app_root_path"]) + "/{path}"
    return UNMATCHED


class Observe:
    """Pure ASGI middleware: request ids for HTTP and WebSocket, metrics if `metrics`."""

    def __init__(self, app: ASGIApp, *, metrics: bool) -> None:
        self.app = app
        self.metrics = RequestMetrics() if metrics else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await self._http(scope, receive, send)
        elif scope["type"] == "websocket":
            await self._websocket(scope, receive, send)
        else:
            await self.app(scope, receive, send)

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        rid = request_id_of(scope["headers"])
        status = 0

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), (_HEADER, rid)]
            await send(message)

        token = request_id.set(rid.decode())
        start = perf_counter()
        try:
            await self.app(scope, receive, send_with_id)
        except BaseException:
            status = status or 500
            raise
        finally:
            if self.metrics is not None:
                # No response at all: the client left first (nginx's 499).
                method = scope["method"] if scope["method"] in _METHODS else "other"
                seconds = perf_counter() - start
                self.metrics.observe(route_of(scope), method, status or 499, seconds)
            request_id.reset(token)

    async def _websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        rid = request_id_of(scope["headers"])
        accepted = None

        async def send_with_id(message: Message) -> None:
            nonlocal accepted
            if message["type"] == "websocket.accept":
                message["headers"] = [*message.get("headers", ()), (_HEADER, rid)]
                if self.metrics is not None:
                    accepted = OPEN_WEBSOCKETS.labels(route_of(scope))
                    accepted.inc()
            await send(message)

        token = request_id.set(rid.decode())
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            if accepted is not None:
                accepted.dec()
            request_id.reset(token)
