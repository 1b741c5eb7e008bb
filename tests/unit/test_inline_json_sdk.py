"""The inline JSON executor (gateway.agent.inline_json) relies on how langgraph-sdk
decodes answers and encodes bodies: `loop.run_in_executor(None, orjson.loads | orjson.dumps,
...)` in its private `_adecode_json` / `_aencode_json`. These tests drive the gateway's own
Agent Server client, so an SDK upgrade that changes that fails here, not in a profile."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import httpx
import orjson
import pytest
from langgraph_sdk.client import LangGraphClient

from gateway.agent.client import Actor, as_user, connect
from gateway.agent.inline_json import INLINE_BYTES, installed
from gateway.settings import Settings

THREAD_ID = "00000000-0000-4000-8000-000000000001"
SMALL = {"thread_id": THREAD_ID, "metadata": {}, "values": {"note": "x" * 100}}
LARGE = {"thread_id": THREAD_ID, "metadata": {}, "values": {"note": "x" * INLINE_BYTES}}


def answering(body: dict[str, Any]) -> httpx.MockTransport:
    return httpx.MockTransport(lambda _request: httpx.Response(200, json=body))


@pytest.fixture
def settings(monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("THREADGATE_SERVICE_KEY", "x" * 16)
    monkeypatch.setenv("THREADGATE_AUTH_DISABLED", "true")
    return Settings()


@pytest.fixture
async def agent(settings: Settings) -> AsyncIterator[LangGraphClient]:
    client = connect(settings, transport=answering(SMALL))
    try:
        yield client
    finally:
        await client.aclose()


class Recording(ThreadPoolExecutor):
    """A plain pool that remembers what it was handed."""

    def __init__(self) -> None:
        super().__init__()
        self.handed: list[Callable[..., Any]] = []

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        self.handed.append(fn)
        return super().submit(fn, *args, **kwargs)


async def test_the_sdk_hands_its_json_work_to_the_default_executor_as_orjson(
    agent: LangGraphClient,
):
    loop = asyncio.get_running_loop()
    recording = Recording()
    loop.set_default_executor(recording)
    try:
        await agent.threads.update(THREAD_ID, metadata={"a": 1}, headers=as_user(Actor("alice")))
    finally:
        loop.set_default_executor(ThreadPoolExecutor())
        recording.shutdown()
    # Exactly the callables InlineSmallJson recognises: no wrapper, no other decoder.
    assert recording.handed == [orjson.dumps, orjson.loads]


@pytest.fixture
def decoded_on(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """The thread each `orjson.loads` call runs on (both the SDK and the executor look the
    function up when called, so they see this wrapper)."""
    threads: list[int] = []
    real = orjson.loads

    def loads(data: bytes | str) -> Any:
        threads.append(threading.get_ident())
        return real(data)

    monkeypatch.setattr(orjson, "loads", loads)
    yield threads


async def test_with_the_gateway_executor_small_answers_are_decoded_on_the_loop(
    agent: LangGraphClient, decoded_on: list[int]
):
    loop_thread = threading.get_ident()
    with installed(asyncio.get_running_loop()):
        thread = await agent.threads.get(THREAD_ID, headers=as_user(Actor("alice")))
    assert thread["thread_id"] == THREAD_ID
    assert decoded_on == [loop_thread]


async def test_without_it_or_for_large_answers_decoding_is_in_a_thread(
    settings: Settings, agent: LangGraphClient, decoded_on: list[int]
):
    loop_thread = threading.get_ident()
    await agent.threads.get(THREAD_ID, headers=as_user(Actor("alice")))  # the loop's own pool
    large = connect(settings, transport=answering(LARGE))
    try:
        with installed(asyncio.get_running_loop()):
            await large.threads.get(THREAD_ID, headers=as_user(Actor("alice")))
    finally:
        await large.aclose()
    assert len(decoded_on) == 2 and loop_thread not in decoded_on
