"""The Agent Server transport (aiohttp under httpx) fails the way httpx's own does, and
small JSON work stays on the event loop while large work goes to a thread."""

from __future__ import annotations

import asyncio
import socket
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import orjson
import pytest

from gateway.threads.inline_json import INLINE_BYTES, InlineSmallJson, installed
from gateway.threads.transport import AgentServerTransport
from tools.launcher import free_port

LIMITS = httpx.Limits(max_connections=10)


async def test_a_refused_connection_is_a_connect_error_after_the_retries():
    port = free_port("127.0.0.1")
    transport = AgentServerTransport(retries=2, limits=LIMITS)
    async with httpx.AsyncClient(transport=transport) as client:
        with pytest.raises(httpx.ConnectError):
            await client.get(f"http://127.0.0.1:{port}/ok")


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
