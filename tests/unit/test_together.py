"""Concurrent Agent Server calls: a failure stops the rest and keeps its own type."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from gateway.agent.together import together


async def test_results_come_in_order():
    async def value(x: int, delay: float) -> int:
        await asyncio.sleep(delay)
        return x

    assert await together(value(1, 0.02), value(2, 0.0)) == [1, 2]


async def test_the_first_failure_is_raised_as_itself_and_cancels_the_others():
    finished = []

    async def slow() -> None:
        await asyncio.sleep(5)
        finished.append("slow")

    async def failing() -> None:
        raise httpx.ConnectError("refused")

    with pytest.raises(httpx.ConnectError):
        await together(slow(), failing())
    await asyncio.sleep(0)
    assert finished == []
