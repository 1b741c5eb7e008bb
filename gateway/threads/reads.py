"""Reading threads with their current values.

While a run works on a thread, the Agent Server updates the thread record's values
only when the run ends; its latest checkpoint is current after every step. So a busy
thread's values are read from its checkpoint, which is what makes live progress exact.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from langgraph_sdk.client import LangGraphClient
from langgraph_sdk.schema import Thread, ThreadStatus

from gateway.threads.agent import as_user


async def read_thread(agent: LangGraphClient, user: str, thread_id: str) -> Thread:
    return await with_live_values(
        agent, user, await agent.threads.get(thread_id, headers=as_user(user))
    )


async def with_live_values(agent: LangGraphClient, user: str, thread: Thread) -> Thread:
    if thread["status"] != "busy":
        return thread
    state = await agent.threads.get_state(thread["thread_id"], headers=as_user(user))
    values = state["values"] if isinstance(state["values"], dict) else None
    return {**thread, "values": values}


async def with_live_values_all(
    agent: LangGraphClient, user: str, threads: list[Thread]
) -> list[Thread]:
    return list(await asyncio.gather(*(with_live_values(agent, user, t) for t in threads)))


async def oldest_first(
    agent: LangGraphClient,
    user: str,
    *,
    status: ThreadStatus | None = None,
    metadata: dict[str, Any] | None = None,
    page_size: int = 100,
    max_threads: int = 10_000,
) -> AsyncIterator[Thread]:
    """Threads by last update, oldest first, a page at a time; at most `max_threads`."""
    offset = 0
    while offset < max_threads:
        page = await agent.threads.search(
            status=status,
            metadata=metadata,
            sort_by="updated_at",
            sort_order="asc",
            limit=min(page_size, max_threads - offset),
            offset=offset,
            headers=as_user(user),
        )
        for thread in page:
            yield thread
        if len(page) < page_size:
            return
        offset += len(page)
