"""What the gateway refuses, in its own words: shared by every package below the HTTP
face (threads, the library, schedules, the Agent Server client).

`gateway.api.errors` alone turns each kind into its status code and the one JSON
shape; `code` is what a caller branches on, `message` is safe to show.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError


class Refusal(Exception):
    """A request the gateway will not carry out, and why."""

    def __init__(self, code: str, message: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details


class NotFound(Refusal):
    """An id that names nothing the caller owns."""

    def __init__(self, what: str, ident: str) -> None:
        super().__init__("not_found", f"{what} '{ident}' not found", {"id": ident})


class Forbidden(Refusal):
    """The caller is not a member of the team they named, their role there does not
    allow the action (the message names the role needed), or a four-eyes approval is
    theirs to leave to someone else."""

    def __init__(self, message: str, details: dict[str, Any] | None = None) -> None:
        super().__init__("forbidden", message, details)


class Conflict(Refusal):
    """Not possible in the present state: a busy thread, a workflow id taken, a cap reached."""


class AnswerRequired(Refusal):
    """The request lacks what the thread needs to go on (an approval's answer)."""


class Invalid(Refusal):
    """A value in the request that cannot be used; `field` names it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__("invalid_request", message, {"field": field})


class NotSupported(Refusal):
    """The Agent Server's runtime cannot do this."""


class KeyReused(Refusal):
    """An Idempotency-Key sent again with a different request; `field` names the key."""

    def __init__(self, field: str) -> None:
        super().__init__(
            "idempotency_key_reused",
            "this idempotency key was sent before with a different request; "
            "a new request needs a new key",
            {"field": field},
        )


class OutcomeUnknown(Refusal):
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


def first_problem(
    exc: ValidationError, root: str = "", skip: tuple[str, ...] = ()
) -> tuple[str, str]:
    """The first error of a validation as (field, message): the field a path from
    `root`, list positions in brackets (`workflow_json.nodes[2].data`), leaving out
    the `skip` parts (a union's branch names)."""
    first = exc.errors()[0]
    field = root
    for part in first["loc"]:
        if part in skip:
            continue
        field += f"[{part}]" if isinstance(part, int) else (f".{part}" if field else str(part))
    return field or "item", first["msg"]
