"""What can go wrong with a thread, in this layer's own words.

`gateway.api.errors` turns each kind into its status code and the one JSON shape;
`code` is what a caller branches on, `message` is safe to show.
"""

from __future__ import annotations

from typing import Any


class ThreadError(Exception):
    def __init__(self, code: str, message: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details


class NotFound(ThreadError):
    """An id that names nothing the caller owns."""

    def __init__(self, what: str, ident: str) -> None:
        super().__init__("not_found", f"{what} '{ident}' not found", {"id": ident})


class Conflict(ThreadError):
    """The thread is not in a state that allows this now (busy, not running, ...)."""


class AnswerRequired(ThreadError):
    """The request lacks what the thread needs to go on (an approval's answer)."""


class Invalid(ThreadError):
    """A value in the request that cannot be used; `field` names it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__("invalid_request", message, {"field": field})


class NotSupported(ThreadError):
    """The Agent Server's runtime cannot do this."""


def already_running(thread_id: str) -> Conflict:
    return Conflict(
        "already_running",
        f"thread '{thread_id}' is already running; wait for it or pause it",
        {"thread_id": thread_id},
    )
