"""Every failure becomes one JSON shape: `{"error": code, "message": text, "details": ...}`.

`describe` is the single mapping; the HTTP exception handlers and the WebSocket
error frames both use it, so a failure reads the same on either transport, and each
Agent Server failure that reaches a caller is counted here once, by kind. A failure
worth retrying later says when in `details.retry_after_seconds`, which HTTP answers
also send as `Retry-After`.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import httpx
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from langgraph_sdk.errors import APIStatusError
from pydantic import BaseModel, ValidationError
from starlette.exceptions import HTTPException

from agents.limits import RETRY_AFTER_SECONDS, TOO_MANY_ACTIVE_RUNS
from gateway.api.methods import allowed_methods
from gateway.api.metrics import count_agent_error
from gateway.errors import (
    AnswerRequired,
    Conflict,
    Forbidden,
    Invalid,
    KeyReused,
    NotFound,
    NotSupported,
    OutcomeUnknown,
    Refusal,
)
from gateway.workflows.parser import WorkflowValidationError

logger = logging.getLogger(__name__)
RETRY_AFTER = "retry_after_seconds"
# A retry after a connection failure may come at once; the Agent Server is likely back.
_OUTCOME_RETRY_SECONDS = 1


# Every error code by status: the OpenAPI document's error responses name them, and the
# README's error table lists the same rows (tests/api/test_documented_errors.py provokes each).
ERROR_CODES: dict[int, tuple[str, ...]] = {
    400: ("bad_request",),
    401: ("unauthorized",),
    403: ("forbidden",),
    404: ("not_found",),
    405: ("method_not_allowed",),
    409: (
        "already_running",
        "not_running",
        "not_waiting",
        "nothing_to_resume",
        "no_workflow",
        "workflow_exists",
        "too_many_schedules",
        "unreadable_workflow",
        "unreadable_schedule",
    ),
    413: ("payload_too_large",),
    422: (
        "validation_error",
        "idempotency_key_reused",
        "answer_required",
        "invalid_workflow",
        "not_supported",
        "invalid_request",
    ),
    429: ("too_many_active_runs",),
    502: ("agent_error",),
    503: ("agent_unavailable", "agent_outcome_unknown"),
    504: ("agent_timeout",),
}


def error_response(status: int) -> dict[str, Any]:
    """An OpenAPI error response: the one error body, and the codes it may carry."""
    codes = ", ".join(f"`{code}`" for code in ERROR_CODES[status])
    return {"model": ErrorBody, "description": f"Error: {codes}."}


class ErrorBody(BaseModel):
    """The body of every error response and WebSocket `error` frame."""

    error: str
    message: str
    details: dict[str, Any] | list[Any] | None = None


class GatewayError(Exception):
    """A failure the gateway itself decides on, with its status and code."""

    def __init__(
        self, status: int, code: str, message: str, details: dict[str, Any] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details


# Agent Server statuses whose meaning the caller should see unchanged.
_PASSED_THROUGH = {
    400: "bad_request",
    404: "not_found",
    409: "conflict",
    422: "invalid_request",
    429: "rate_limited",
}


# The refusals of the layers below (gateway.errors), by the status each means.
_REFUSALS: list[tuple[type[Refusal], int]] = [
    (NotFound, 404),
    (Forbidden, 403),
    (Conflict, 409),
    (AnswerRequired, 422),
    (Invalid, 422),
    (KeyReused, 422),
    (NotSupported, 422),
    (OutcomeUnknown, 503),
    (Refusal, 400),
]


def describe(exc: Exception) -> tuple[int, ErrorBody]:
    """The HTTP status and error body for any exception; never a traceback."""
    if isinstance(exc, GatewayError):
        return exc.status, ErrorBody(error=exc.code, message=exc.message, details=exc.details)
    if isinstance(exc, OutcomeUnknown):
        count_agent_error("outcome_unknown")
        details = {**(exc.details or {}), RETRY_AFTER: _OUTCOME_RETRY_SECONDS}
        return 503, ErrorBody(error=exc.code, message=exc.message, details=details)
    if isinstance(exc, Refusal):
        status = next(code for kind, code in _REFUSALS if isinstance(exc, kind))
        return status, ErrorBody(error=exc.code, message=exc.message, details=exc.details)
    if isinstance(exc, WorkflowValidationError):
        return 422, ErrorBody(error="invalid_workflow", message=exc.message, details=exc.details())
    if isinstance(exc, RequestValidationError | ValidationError):
        errors = exc.errors()
        if any(e.get("type") == "json_invalid" for e in errors):
            return 400, ErrorBody(error="bad_request", message="the body is not valid JSON")
        return 422, _validation_body(errors)
    if isinstance(exc, HTTPException):
        return exc.status_code, ErrorBody(error=_http_code(exc.status_code), message=exc.detail)
    if isinstance(exc, APIStatusError):
        return _agent_status(exc)
    if isinstance(exc, json.JSONDecodeError):
        # Client bodies are parsed elsewhere; this is the Agent Server (or a proxy before
        # it) answering something that is not JSON.
        logger.warning("agent server answered an unreadable body")
        count_agent_error("unreadable")
        return 502, ErrorBody(
            error="agent_error", message="The agent server's answer could not be read."
        )
    if isinstance(exc, httpx.TimeoutException):
        logger.warning("agent server timed out: %s", type(exc).__name__)
        count_agent_error("timeout")
        return 504, ErrorBody(
            error="agent_timeout", message="The agent server did not answer in time."
        )
    if isinstance(exc, httpx.TransportError):
        logger.warning("agent server unreachable: %s", type(exc).__name__)
        count_agent_error("unavailable")
        return 503, ErrorBody(
            error="agent_unavailable", message="The agent server cannot be reached."
        )
    logger.exception("unexpected error", exc_info=exc)
    return 500, ErrorBody(error="internal_error", message="Internal error; see the gateway log.")


def _agent_status(exc: APIStatusError) -> tuple[int, ErrorBody]:
    status = exc.status_code
    if status == 429 and exc.message.startswith(f"{TOO_MANY_ACTIVE_RUNS}:"):
        count_agent_error(TOO_MANY_ACTIVE_RUNS)
        message = exc.message.removeprefix(f"{TOO_MANY_ACTIVE_RUNS}:").strip()
        details = {RETRY_AFTER: _retry_after(exc.response)}
        return 429, ErrorBody(error=TOO_MANY_ACTIVE_RUNS, message=message, details=details)
    if status == 403 and exc.message.startswith(f"{FORBIDDEN}:"):
        # The Agent Server's auth refused this caller in a team (agents.auth): the
        # caller's own doing, said in the Agent Server's words.
        message = exc.message.removeprefix(f"{FORBIDDEN}:").strip()
        return 403, ErrorBody(error=FORBIDDEN, message=message)
    if status in _PASSED_THROUGH:
        count_agent_error(_PASSED_THROUGH[status])
        return status, ErrorBody(error=_PASSED_THROUGH[status], message=exc.message)
    # A 401/403 means the gateway's own service credential is wrong: not the caller's fault.
    logger.error("agent server answered %s: %s", status, exc.message)
    if status >= 500:
        count_agent_error("server_error")
    elif status in (401, 403):
        count_agent_error("refused")
    else:
        count_agent_error("unexpected_status")
    return 502, ErrorBody(
        error="agent_error",
        message=f"The agent server failed ({status}).",
        details={"agent_status": status},
    )


FORBIDDEN = "forbidden"


def _retry_after(response: httpx.Response) -> int:
    """The Agent Server's Retry-After in seconds (the form its limits send), or ours."""
    value = response.headers.get("retry-after", "")
    return int(value) if value.isdigit() else RETRY_AFTER_SECONDS


def _validation_body(errors: Any) -> ErrorBody:
    items = [
        {"field": ".".join(str(p) for p in e.get("loc", ())), "message": _plainly(e)}
        for e in errors
    ]
    first = items[0] if items else {"field": "", "message": "invalid request"}
    return ErrorBody(
        error="validation_error",
        message=f"{first['field']}: {first['message']}" if first["field"] else first["message"],
        details=items,
    )


def _plainly(error: Any) -> str:
    """pydantic's message, said the way a caller can act on it where it is not."""
    kind, loc = error.get("type"), tuple(error.get("loc", ()))
    if kind == "model_attributes_type" and loc == ("body",):
        # A form-encoded or plain-text body (curl's default without a content type).
        return "the body must be a JSON object, sent with Content-Type: application/json"
    if kind == "string_pattern_mismatch" and loc[:1] == ("path",):
        return f"'{error.get('input')}' is not a valid {loc[-1].replace('_', ' ')}"
    return str(error.get("msg", ""))


def _http_code(status: int) -> str:
    return {
        400: "bad_request",
        404: "not_found",
        405: "method_not_allowed",
        413: "payload_too_large",
    }.get(status, "http_error")


async def _handle(request: Request, exc: Exception) -> JSONResponse:
    status, body = describe(exc)
    wait = body.details.get(RETRY_AFTER) if isinstance(body.details, dict) else None
    headers = {"Retry-After": str(wait)} if wait is not None else {}
    if isinstance(exc, HTTPException) and exc.headers:
        headers.update(exc.headers)
    if status == 405:
        allow = allowed_methods(request.app.openapi(), request.url.path)
        headers["Allow"] = allow or headers.get("Allow", "")
    return JSONResponse(body.model_dump(exclude_none=True), status_code=status, headers=headers)


def install_error_handlers(app: FastAPI) -> None:
    for kind in (
        GatewayError,
        Refusal,
        WorkflowValidationError,
        RequestValidationError,
        HTTPException,
        APIStatusError,
        httpx.TransportError,
        Exception,
    ):
        app.add_exception_handler(kind, _handle)
