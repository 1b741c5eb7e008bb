"""Finding a user's threads by workflow and status, a page at a time, with a total."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any, Literal

import httpx
from langgraph_sdk.client import LangGraphClient
from langgraph_sdk.errors import InternalServerError
from langgraph_sdk.schema import Thread

from agents.contract import WorkflowStatus
from gateway.agent.client import Actor, as_user
from gateway.agent.together import together
from gateway.threads.progress import search_filter, thread_progress
from gateway.threads.reads import with_live_values_all

logger = logging.getLogger(__name__)
# The search and the count above: each 500 may close its connection.
_CLOSED_BY_THE_FAILURE = 2

# The most threads read to filter by status here, when the Agent Server cannot.
FALLBACK_SCAN = 2_000


async def search_threads(
    agent: LangGraphClient,
    user: Actor,
    *,
    metadata: dict[str, Any],
    status: WorkflowStatus | None,
    limit: int,
    offset: int,
    sort_by: Literal["created_at", "updated_at"],
    sort_order: Literal["asc", "desc"],
) -> tuple[list[Thread], int]:
    """One page of threads and how many match in all; `metadata`: values they must have."""
    filters: dict[str, Any] = {"headers": as_user(user)}
    if metadata:
        filters["metadata"] = metadata
    order: dict[str, Any] = {"sort_by": sort_by, "sort_order": sort_order}
    if status is None:
        found, total = await together(
            agent.threads.search(**filters, **order, limit=limit, offset=offset),
            agent.threads.count(**filters),
        )
        return found, total
    if status in (WorkflowStatus.RUNNING, WorkflowStatus.QUEUED):
        return await _busy_showing(agent, user, filters, order, status, limit, offset)
    thread_status, values = search_filter(status)
    try:
        found, total = await together(
            agent.threads.search(
                **filters, **order, status=thread_status, values=values, limit=limit, offset=offset
            ),
            agent.threads.count(**filters, status=thread_status, values=values),
        )
        return found, total
    except InternalServerError:
        if values is None:
            raise
    # runtime-inmem 0.36 fails every values-filtered search while one of the caller's
    # threads has no values yet (in its first run, or failed in its first step):
    # filter by status here instead, over the newest FALLBACK_SCAN threads.
    logger.warning("the agent server could not filter by status; filtering in the gateway")

    async def page_at(start: int) -> list[Thread]:
        return await agent.threads.search(
            **filters, **order, status=thread_status, limit=100, offset=start
        )

    matching = []
    for page_start in range(0, FALLBACK_SCAN, 100):
        page = await _past_closed_connections(partial(page_at, page_start))
        matching += [t for t in page if thread_progress(t).status == status]
        if len(page) < 100:
            break
    return matching[offset : offset + limit], len(matching)


async def _busy_showing(
    agent: LangGraphClient,
    user: Actor,
    filters: dict[str, Any],
    order: dict[str, Any],
    status: WorkflowStatus,
    limit: int,
    offset: int,
) -> tuple[list[Thread], int]:
    """Busy threads are running or queued, told apart by their latest run, which no
    search filters on: the busy ones (a space has at most its active-run cap of them)
    are read here, with their runs, and filtered."""
    busy: list[Thread] = []
    for start in range(0, FALLBACK_SCAN, 100):
        page = await agent.threads.search(
            **filters, **order, status="busy", limit=100, offset=start
        )
        busy += page
        if len(page) < 100:
            break
    live = await with_live_values_all(agent, user, busy)
    matching = [t for t in live if thread_progress(t).status == status]
    return matching[offset : offset + limit], len(matching)


async def _past_closed_connections(call: Callable[[], Awaitable[list[Thread]]]) -> list[Thread]:
    """The Agent Server closes a connection it answered 500 on, and the pool may hand one
    out before noticing: both calls that failed above may have left one. A fresh try
    for each, then one that counts."""
    for _ in range(_CLOSED_BY_THE_FAILURE):
        try:
            return await call()
        except httpx.ReadError:
            continue
    return await call()
