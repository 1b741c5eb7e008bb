"""Finding failed workflows and resuming them in a batch (the seeds' `find_failed_workflows`)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Literal

import httpx
from langgraph_sdk.client import LangGraphClient
from langgraph_sdk.errors import APIError, NotFoundError
from pydantic import BaseModel, ConfigDict, Field

from gateway.agent.client import Actor, as_user
from gateway.agent.together import together
from gateway.errors import Conflict, Invalid, OutcomeUnknown
from gateway.threads.executions import create_run, thread_webhook
from gateway.threads.ids import ThreadId
from gateway.threads.reads import oldest_first
from gateway.threads.views import ThreadSummary, task_error, thread_summary

FAILED_SCAN = 1_000


class FailedThreadsFilter(BaseModel):
    """Which failed threads: quiet for a while, recent enough, of one workflow."""

    not_updated_for_minutes: int = Field(
        default=0, ge=0, le=525_600, description="Failed and untouched for at least this long."
    )
    created_within_hours: int | None = Field(
        default=None, ge=1, le=8_760, description="Created no longer ago than this."
    )
    workflow_id: str | None = Field(default=None, max_length=200)
    # The listings' one rule: up to 1,000 asked, capped at THREADGATE_MAX_PAGE_SIZE.
    limit: int = Field(
        default=100, ge=1, le=1_000, description="Capped at THREADGATE_MAX_PAGE_SIZE (100)."
    )


class BatchResumeRequest(FailedThreadsFilter):
    """Resume these threads, or (without `thread_ids`) the failed threads the filter finds."""

    # A JSON body: `false` is not 0 (the same filter as a query string is parsed as text).
    model_config = ConfigDict(strict=True)

    thread_ids: list[ThreadId] | None = Field(default=None, max_length=100)


Outcome = Literal["resumed", "already_running", "not_found", "error"]


class ResumeOutcome(BaseModel):
    thread_id: str
    outcome: Outcome
    execution_id: str | None = None
    message: str | None = None


async def find_failed(
    agent: LangGraphClient, user: Actor, query: FailedThreadsFilter, now: datetime | None = None
) -> list[ThreadSummary]:
    now = now or datetime.now(UTC)
    quiet_since = now - timedelta(minutes=query.not_updated_for_minutes)
    born_after = now - timedelta(hours=query.created_within_hours or 0)
    metadata = {"workflow_id": query.workflow_id} if query.workflow_id else None
    found: list[ThreadSummary] = []
    # Oldest-touched first, so the listing stops at the first thread not quiet enough;
    # at most FAILED_SCAN failed threads are read for one answer.
    listing = oldest_first(agent, user, status="error", metadata=metadata, max_threads=FAILED_SCAN)
    async for thread in listing:
        summary = thread_summary(thread)
        if summary.updated_at > quiet_since:
            break  # oldest first: every later thread was touched more recently
        if query.created_within_hours is not None and summary.created_at < born_after:
            continue
        found.append(summary)
        if len(found) >= query.limit:
            break
    states = await together(
        *(agent.threads.get_state(t.thread_id, headers=as_user(user)) for t in found)
    )
    for summary, state in zip(found, states, strict=True):
        summary.progress.error_message = task_error(state)
    return found


async def resume_failed(
    agent: LangGraphClient, user: Actor, assistant_id: str, thread_ids: list[str]
) -> list[ResumeOutcome]:
    """Resume each failed thread at most once; busy ones are skipped, not queued."""
    outcomes = []
    for thread_id in dict.fromkeys(thread_ids):  # each id once, in the order given
        outcomes.append(await _resume_one(agent, user, assistant_id, thread_id))
    return outcomes


async def _resume_one(
    agent: LangGraphClient, user: Actor, assistant_id: str, thread_id: str
) -> ResumeOutcome:
    try:
        thread = await agent.threads.get(thread_id, headers=as_user(user))
        if thread["status"] == "busy":
            return ResumeOutcome(thread_id=thread_id, outcome="already_running")
        if thread["status"] != "error":
            message = f"thread is not failed (agent status {thread['status']})"
            return ResumeOutcome(thread_id=thread_id, outcome="error", message=message)
        # On the thread's webhook, as every run the gateway starts on it.
        webhook = thread_webhook(thread)
        execution = await create_run(agent, user, assistant_id, thread_id, webhook=webhook)
    except NotFoundError:
        return ResumeOutcome(thread_id=thread_id, outcome="not_found")
    except Conflict as exc:  # the run was refused: someone else resumed it first
        return ResumeOutcome(thread_id=thread_id, outcome="already_running", message=exc.message)
    except (Invalid, OutcomeUnknown) as exc:
        # Its webhook is no longer allowed, or the run may have started: said per thread.
        return ResumeOutcome(thread_id=thread_id, outcome="error", message=exc.message)
    except (APIError, httpx.HTTPError) as exc:
        return ResumeOutcome(thread_id=thread_id, outcome="error", message=type(exc).__name__)
    return ResumeOutcome(
        thread_id=thread_id, outcome="resumed", execution_id=execution.execution_id
    )
