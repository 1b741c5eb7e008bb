"""How a task step's model call is retried: LangGraph's `RetryPolicy` on the step node.

A transient failure (no connection, a timeout, 408, 429 or 5xx) runs the step again
on the Agent Server after a backoff; anything else (another 4xx, a validation error,
a bug) fails the step at once. The model client's own retries are off
(`agents.model`), so this policy is the one place attempts happen and are counted.

A `RetryPolicy` is fixed when the graph compiles, yet a workflow may ask for its own
number of attempts (`"retry": {"max_attempts": n}`). So the policy is compiled with
the most attempts any workflow may have (`MAX_STEP_ATTEMPTS`) and the step decides:
it knows which attempt it is (LangGraph's execution info) and its workflow's limit,
and wraps the error it raises in `StepCallFailed`, marked retryable or final; the
policy's `retry_on` reads only that mark. Backoff is the deployment's (these
settings), since it follows the provider's rate limits rather than a workflow.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from langgraph.runtime import get_runtime
from langgraph.types import RetryPolicy
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from agents.contract import MAX_STEP_ATTEMPTS


class StepRetrySettings(BaseSettings):
    """`THREADGATE_STEP_*`, read by the Agent Server when it loads the graph."""

    model_config = SettingsConfigDict(
        env_prefix="THREADGATE_STEP_", extra="ignore", env_ignore_empty=True
    )

    max_attempts: int = Field(
        default=3,
        ge=1,
        le=MAX_STEP_ATTEMPTS,
        description="Attempts per task step, the first one included.",
    )
    retry_initial_seconds: float = Field(default=1.0, ge=0, le=600, description="First backoff.")
    retry_backoff_factor: float = Field(default=2.0, ge=1, le=10, description="Backoff growth.")
    retry_max_seconds: float = Field(default=30.0, ge=0, le=3600, description="Longest backoff.")
    retry_jitter: bool = Field(default=True, description="Add up to 1 s at random to each wait.")


@lru_cache(maxsize=1)
def retry_settings() -> StepRetrySettings:
    return StepRetrySettings()


# Failures to reach the model, matched by class name so that no provider or HTTP
# library has to be installed: the SDKs built like openai's (openai, anthropic,
# groq...) and the HTTP clients they use (httpx; httpx2, which openai uses).
_CONNECTION_ERRORS = {
    "APIConnectionError",
    "APITimeoutError",
    "TimeoutException",
    "NetworkError",
    "RemoteProtocolError",
}


def _status_of(exc: BaseException) -> int | None:
    """The HTTP status an error reports: an SDK's `status_code`, or its response's."""
    status = getattr(exc, "status_code", None)
    if status is None:
        status = getattr(getattr(exc, "response", None), "status_code", None)
    return status if isinstance(status, int) and not isinstance(status, bool) else None


def transient(exc: BaseException) -> bool:
    """Whether trying the same call again may succeed."""
    # LangChain's provider-neutral `ModelError`s say so themselves (langchain-openai
    # raises them: rate limit, 5xx, connection and timeout are; a context overflow,
    # even one reported as a 5xx, is not).
    retryable = getattr(exc, "is_retryable", None)
    if isinstance(retryable, bool):
        return retryable
    status = _status_of(exc)
    if status is not None:
        return status in (408, 429) or status >= 500
    if isinstance(exc, ConnectionError | TimeoutError):
        return True
    return any(kind.__name__ in _CONNECTION_ERRORS for kind in type(exc).__mro__)


def _attempts(count: int) -> str:
    return f"{count} attempt" + ("" if count == 1 else "s")


class StepCallFailed(Exception):
    """A step's model call failed on attempt `attempt` of `limit`; `retry` says whether
    the step runs again. Its text is the thread's error once the step gives up."""

    def __init__(self, cause: BaseException, attempt: int, limit: int) -> None:
        self.cause: BaseException | None = cause
        self.attempt, self.limit = attempt, limit
        self.retry = transient(cause) and attempt < limit
        if self.retry:
            text = f"attempt {attempt} of {limit} failed, retrying: {cause!r}"
        else:
            why = "retries exhausted" if transient(cause) else "not retryable"
            text = f"failed after {_attempts(attempt)} ({why}): {cause!r}"
        super().__init__(text)

    def __repr__(self) -> str:
        # Checkpoints keep an error as its repr: keep it the readable text.
        return str(self)

    def __reduce__(self) -> tuple[Any, ...]:
        # Picklable without its cause (an SDK error holding an HTTP response may not be).
        return (_rebuilt, (str(self), self.attempt, self.limit, self.retry))


def _rebuilt(text: str, attempt: int, limit: int, retry: bool) -> StepCallFailed:
    failed = StepCallFailed.__new__(StepCallFailed)
    Exception.__init__(failed, text)
    failed.cause, failed.attempt, failed.limit, failed.retry = None, attempt, limit, retry
    return failed


def _marked_retryable(exc: Exception) -> bool:
    return isinstance(exc, StepCallFailed) and exc.retry


def step_retry_policy() -> RetryPolicy:
    """The task node's policy: the deployment's backoff, the step's own limit."""
    settings = retry_settings()
    return RetryPolicy(
        initial_interval=settings.retry_initial_seconds,
        backoff_factor=settings.retry_backoff_factor,
        max_interval=settings.retry_max_seconds,
        max_attempts=MAX_STEP_ATTEMPTS,  # a ceiling: the step stops at its own limit
        jitter=settings.retry_jitter,
        retry_on=_marked_retryable,
    )


def current_attempt() -> int:
    """Which attempt of the running node this is (1 on the first run of a step)."""
    info = get_runtime().execution_info
    return info.node_attempt if info is not None else 1


def step_max_attempts(workflow: Mapping[str, Any] | None) -> int:
    """The attempts a step of this workflow gets: its own `retry.max_attempts`, or the
    deployment's."""
    retry = (workflow or {}).get("retry")
    wanted = retry.get("max_attempts") if isinstance(retry, Mapping) else None
    if isinstance(wanted, int) and not isinstance(wanted, bool):
        return max(1, min(wanted, MAX_STEP_ATTEMPTS))
    return retry_settings().max_attempts
