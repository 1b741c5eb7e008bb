"""Reading threads with their current values.

While a run works on a thread, the Agent Server updates the thread record's values
only when the run ends; its latest checkpoint is current after every step. So a busy
thread's values are read from its checkpoint, which is what makes live progress exact,
and its latest run tells whether it still waits in the queue (`queued`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from langgraph_sdk.client import LangGraphClient
from langgraph_sdk.schema import Run, Thread, ThreadState, ThreadStatus

from gateway.agent.client import Actor, as_user
from gateway.agent.together import together
from gateway.threads.progress import QUEUED_MARK, marked_queued


async def read_thread(agent: LangGraphClient, user: Actor, thread_id: str) -> Thread:
    return await with_live_values(
        agent, user, await agent.threads.get(thread_id, headers=as_user(user))
    )


async def with_live_values(agent: LangGraphClient, user: Actor, thread: Thread) -> Thread:
    if thread["status"] != "busy" or QUEUED_MARK in thread:
        return thread  # nothing to add, or added already (a status search reads them)
    state, latest = await together(
        agent.threads.get_state(thread["thread_id"], headers=as_user(user)),
        agent.runs.list(thread["thread_id"], limit=1, headers=as_user(user)),
    )
    values = state["values"] if isinstance(state["values"], dict) else None
    queued = bool(latest) and latest[0]["status"] == "pending"
    return marked_queued({**thread, "values": values}, queued)


async def as_left_by(
    agent: LangGraphClient, user: Actor, thread: Thread, run: Run
) -> tuple[Thread, ThreadState | None]:
    """The thread as `run` left it, and the run's last checkpoint: its values there and,
    if other runs have written since, the status that run ended with (failed, waiting
    at an approval, or idle)."""
    if run["status"] in ("pending", "running"):
        return thread, None  # still its run: the live view is the run's view
    own, latest = await together(
        agent.threads.get_history(
            thread["thread_id"], limit=1, metadata={"run_id": run["run_id"]}, headers=as_user(user)
        ),
        agent.threads.get_history(thread["thread_id"], limit=1, headers=as_user(user)),
    )
    if not own:
        return thread, None
    if latest and latest[0]["checkpoint"] == own[0]["checkpoint"]:
        return thread, own[0]  # nothing written since this run: the thread is as it left it
    values = own[0]["values"] if isinstance(own[0]["values"], dict) else {}
    asked = {t["id"]: t["interrupts"] for t in own[0].get("tasks", []) if t.get("interrupts")}
    ended: ThreadStatus = "error" if run["status"] in ("error", "timeout") else "idle"
    if asked and ended == "idle":
        ended = "interrupted"
    left = {**thread, "values": values, "status": ended, "interrupts": asked}
    return left, own[0]  # type: ignore[return-value]


async def with_live_values_all(
    agent: LangGraphClient, user: Actor, threads: list[Thread]
) -> list[Thread]:
    return list(await together(*(with_live_values(agent, user, t) for t in threads)))


async def oldest_first(
    agent: LangGraphClient,
    user: Actor,
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
