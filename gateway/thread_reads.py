"""Reading threads with their current values.

While a run works on a thread, the Agent Server updates the thread record's values
only when the run ends; its latest checkpoint is current after every step. So a busy
thread's values are read from its checkpoint, which is what makes live progress exact.
"""

from __future__ import annotations

import asyncio

from langgraph_sdk.client import LangGraphClient
from langgraph_sdk.schema import Thread


async def read_thread(agent: LangGraphClient, thread_id: str) -> Thread:
    return await with_live_values(agent, await agent.threads.get(thread_id))


async def with_live_values(agent: LangGraphClient, thread: Thread) -> Thread:
    if thread["status"] != "busy":
        return thread
    state = await agent.threads.get_state(thread["thread_id"])
    values = state["values"] if isinstance(state["values"], dict) else None
    return {**thread, "values": values}


async def with_live_values_all(agent: LangGraphClient, threads: list[Thread]) -> list[Thread]:
    return list(await asyncio.gather(*(with_live_values(agent, t) for t in threads)))
