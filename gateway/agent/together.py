"""Several Agent Server calls at once, as one structured unit."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any


async def together(*calls: Awaitable[Any]) -> list[Any]:
    """Run the calls concurrently; results in order.

    Unlike `asyncio.gather`, the first failure cancels the others (none is left running
    unobserved), and that failure itself is raised, not an ExceptionGroup, so it maps
    to its status like any other.
    """
    try:
        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(_awaited(call)) for call in calls]
    except ExceptionGroup as failures:
        raise failures.exceptions[0] from None
    return [task.result() for task in tasks]


async def _awaited(call: Awaitable[Any]) -> Any:
    return await call
