"""The Agent Server transport (aiohttp under httpx) fails the way httpx's own does, and
small JSON work stays on the event loop while large work goes to a thread."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import orjson
import pytest
from httpx_aiohttp import AiohttpTransport

from gateway.agent.inline_json import INLINE_BYTES, InlineSmallJson, installed
from gateway.agent.transport import AgentServerTransport, connect_backoff

LIMITS = httpx.Limits(max_connections=10)


class Counted(AiohttpTransport):
    """Counts the connection attempts the transport above it makes (one request each)."""

    attempts = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        type(self).attempts += 1
        return await super().handle_async_request(request)


class CountingTransport(AgentServerTransport, Counted):
    """The gateway's transport, its every attempt counted underneath its retry loop."""


@pytest.fixture
def counting() -> type[CountingTransport]:
    CountingTransport.attempts = 0
    return CountingTransport


def refusing() -> tuple[socket.socket, int]:
    """A port bound but not listening, held so nothing else takes it: connections to it
    are refused until the socket's `listen()`."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    return sock, sock.getsockname()[1]


@pytest.mark.parametrize("retries", [0, 1, 3])
async def test_a_refused_connection_is_a_connect_error_after_the_retries(
    counting: type[CountingTransport], retries: int
):
    sock, port = refusing()
    transport = counting(retries=retries, limits=LIMITS)
    started = time.monotonic()
    async with httpx.AsyncClient(transport=transport) as client:
        with pytest.raises(httpx.ConnectError):
            await client.get(f"http://127.0.0.1:{port}/ok")
    waited = time.monotonic() - started
    sock.close()
    assert counting.attempts == 1 + retries
    backoff = sum(connect_backoff(n) for n in range(1, retries + 1))
    assert backoff <= waited < backoff + 1.0


def test_the_back_off_doubles_from_a_twentieth_of_a_second_to_at_most_one():
    assert [connect_backoff(n) for n in range(1, 8)] == [0.05, 0.1, 0.2, 0.4, 0.8, 1.0, 1.0]
    assert sum(connect_backoff(n) for n in range(1, 11)) < 7  # the most retries allowed


async def test_an_agent_server_back_within_the_back_off_answers_the_request(
    counting: type[CountingTransport],
):
    """A restart shorter than the retries' back-off costs the caller a wait, not a 503."""
    sock, port = refusing()
    accepted: list[int] = []

    def come_back() -> None:
        time.sleep(0.2)  # more than immediate retries would ever wait
        sock.listen()
        conn, _ = sock.accept()
        accepted.append(1)
        conn.recv(65536)
        conn.sendall(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}")
        conn.close()

    server = threading.Thread(target=come_back, daemon=True)
    server.start()
    transport = counting(retries=5, limits=LIMITS)  # 0.05 + 0.1 + 0.2 + ...: past 0.2 s
    async with httpx.AsyncClient(transport=transport) as client:
        response = await client.get(f"http://127.0.0.1:{port}/ok")
    server.join(timeout=5)
    sock.close()
    assert response.status_code == 200
    assert accepted == [1]
    assert 2 <= counting.attempts <= 5  # refused at least once, then made


def answers_once(raw: bytes) -> tuple[socket.socket, int]:
    """A server on a free port that answers one request with `raw`, then hangs up."""
    server = socket.create_server(("127.0.0.1", 0))

    def answer() -> None:
        conn, _ = server.accept()
        conn.recv(65536)
        conn.sendall(raw)
        conn.close()

    threading.Thread(target=answer, daemon=True).start()
    return server, server.getsockname()[1]


@pytest.mark.parametrize(
    ("raw", "raised"),
    [
        # The connection closes mid-answer.
        (b'HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n{"partial":', httpx.ReadError),
        # A malformed answer: not aiohttp's own error (a 500 here), httpx's.
        (b"HTTP/1.1 200 OK\r\nthis is not a header\r\n\r\n{}", httpx.RemoteProtocolError),
    ],
)
async def test_a_broken_answer_fails_as_httpx_would(raw: bytes, raised: type[Exception]):
    server, port = answers_once(raw)
    transport = AgentServerTransport(retries=0, limits=LIMITS)
    async with httpx.AsyncClient(transport=transport) as client:
        with pytest.raises(raised):
            await client.get(f"http://127.0.0.1:{port}/threads")
    server.close()


async def test_a_silent_server_is_a_read_timeout():
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]
    transport = AgentServerTransport(retries=0, limits=LIMITS)
    async with httpx.AsyncClient(transport=transport, timeout=0.3) as client:
        with pytest.raises(httpx.ReadTimeout):
            await client.get(f"http://127.0.0.1:{port}/threads")
    server.close()


async def test_small_json_is_decoded_on_the_loop_and_large_json_in_a_thread():
    loop = asyncio.get_running_loop()
    with installed(loop):
        await _small_inline_large_pooled(loop)


async def _small_inline_large_pooled(loop: asyncio.AbstractEventLoop) -> None:
    here = threading.get_ident()

    def where(_: object) -> int:
        return threading.get_ident()

    small = orjson.dumps({"a": "x" * 100})
    assert await loop.run_in_executor(None, orjson.loads, small) == {"a": "x" * 100}
    large = orjson.dumps({"a": "x" * (INLINE_BYTES + 1)})
    assert len(await loop.run_in_executor(None, orjson.loads, large)) == 1
    # Any other work still goes to the pool, never onto the loop.
    assert await loop.run_in_executor(None, where, None) != here
    with pytest.raises(orjson.JSONDecodeError):
        await loop.run_in_executor(None, orjson.loads, b"{")


def test_only_small_orjson_work_skips_the_pool(monkeypatch: pytest.MonkeyPatch):
    handed: list[object] = []
    pool_submit = ThreadPoolExecutor.submit

    def counting(self: ThreadPoolExecutor, fn: Any, /, *args: Any, **kwargs: Any) -> Any:
        handed.append(fn)
        return pool_submit(self, fn, *args, **kwargs)

    monkeypatch.setattr(ThreadPoolExecutor, "submit", counting)
    executor = InlineSmallJson()
    assert executor.submit(orjson.loads, b'{"a": 1}').result() == {"a": 1}
    assert executor.submit(orjson.dumps, {"a": 1}).result() == b'{"a":1}'
    assert handed == []
    executor.submit(orjson.loads, b'"' + b"x" * INLINE_BYTES + b'"').result()
    executor.submit(sorted, [2, 1]).result()
    assert handed == [orjson.loads, sorted]
    executor.shutdown()
