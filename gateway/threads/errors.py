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


class KeyReused(ThreadError):
    """An Idempotency-Key sent again with a different request; `field` names the key."""

    def __init__(self, field: str) -> None:
        super().__init__(
            "idempotency_key_reused",
            "this idempotency key was sent before with a different request; "
            "a new request needs a new key",
            {"field": field},
        )


class OutcomeUnknown(ThreadError):
    """The connection failed after the request may have reached the Agent Server: the
    run may exist. A retry with the same Idempotency-Key settles it."""

    def __init__(
        self,
        thread_id: str,
        reason: str = "the connection to the agent server failed after the request was sent",
    ) -> None:
        super().__init__(
            "agent_outcome_unknown",
            f"{reason}, so it may have started the run; retry with the same "
            "Idempotency-Key to find out",
            {"thread_id": thread_id},
        )


def already_running(thread_id: str) -> Conflict:
    return Conflict(
        "already_running",
        f"thread '{thread_id}' is already running; wait for it or pause it",
        {"thread_id": thread_id},
    )
