"""Calls to the gateway, and the exit code a failed call ends the command with."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import suppress
from typing import Any
from urllib.parse import quote

import httpx
from websockets.exceptions import ConnectionClosed, WebSocketException
from websockets.sync.client import connect

# Exit codes a script can branch on (documented in the README).
OK, FAILED, USAGE, NOT_FOUND, CONFLICT, UNAUTHORIZED, UNAVAILABLE = 0, 1, 2, 3, 4, 5, 6
INTERRUPTED = 130  # Ctrl-C, as a shell reports a process SIGINT stopped
# Names the team a request acts in (agents/teams.py TEAM_HEADER; a unit test keeps them
# equal without the CLI importing the settings stack that module brings).
TEAM_HEADER = "X-Threadgate-Team"


class CommandError(Exception):
    """A call failed; `code` is the process exit code, `body` the gateway's error body."""

    def __init__(self, code: int, message: str, body: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.body = body or {"error": "cli_error", "message": message}


def given(options: dict[str, Any]) -> dict[str, Any]:
    """The options the person actually set (a query or body leaves the others out)."""
    return {k: v for k, v in options.items() if v is not None}


def segment(value: str) -> str:
    """An id as one URL path segment: a '/', '?', '#' or '%' in it cannot change the path,
    nor can an id that is a dot segment ('.' or '..', which URL normalising would remove)."""
    quoted = quote(value, safe="")
    return quoted.replace(".", "%2E") if quoted in (".", "..") else quoted


def exit_code_for(status: int) -> int:
    if status in (401, 403):  # no (valid) credentials, or not allowed in the space
        return UNAUTHORIZED
    if status == 404:
        return NOT_FOUND
    if status == 409:
        return CONFLICT
    if status >= 500:
        return UNAVAILABLE
    return USAGE if status in (400, 413, 422) else FAILED


class GatewayClient:
    def __init__(
        self, url: str, api_key: str | None, *, team: str | None = None, timeout: float = 30
    ) -> None:
        """`team`: act in that team's space (every request and stream says so); None:
        the caller's own."""
        self.url = url.rstrip("/")
        self.headers = {"X-API-Key": api_key} if api_key else {}
        if team:
            self.headers[TEAM_HEADER] = team
        self.http = httpx.Client(base_url=self.url, headers=self.headers, timeout=timeout)

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            response = self.http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise CommandError(UNAVAILABLE, f"gateway unreachable at {self.url}: {exc}") from None
        if response.status_code >= 400:
            try:
                body = response.json()
            except ValueError:
                body = {"error": "http_error", "message": response.text[:200]}
            raise CommandError(exit_code_for(response.status_code), body.get("message", ""), body)
        return response.json() if response.content else None

    def stream(self, path: str, first_message: dict[str, Any] | None) -> Iterator[dict[str, Any]]:
        """Frames from a gateway WebSocket until it closes."""
        ws_url = self.url.replace("http://", "ws://").replace("https://", "wss://") + path
        last: dict[str, Any] = {}
        try:
            with connect(ws_url, additional_headers=self.headers, open_timeout=10) as ws:
                if first_message is not None:
                    # A refused caller's socket may close before this is sent; the error
                    # frame that says why is still read below.
                    with suppress(ConnectionClosed):
                        ws.send(json.dumps(first_message))
                for message in ws:
                    last = json.loads(message)
                    yield last
        except ConnectionClosed as exc:
            if last.get("type") != "error":  # after its error frame the gateway may close 1008
                raise CommandError(UNAVAILABLE, f"stream from {ws_url} failed: {exc}") from None
        except (OSError, WebSocketException) as exc:
            raise CommandError(UNAVAILABLE, f"stream from {ws_url} failed: {exc}") from None
