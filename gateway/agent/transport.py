"""How the gateway's one httpx client reaches the Agent Server: aiohttp underneath.

aiohttp's connection pool and parser behind httpx's API (`httpx-aiohttp`) take about a
fifth less CPU per proxied request than httpx's own transport (bench/README.md), and
langgraph-sdk keeps its httpx client. Two things are mended on top of that library:
- its exception mapping turns a refused connection, and a connection the server closed,
  into `ConnectTimeout` (a 504 here), and lets a malformed answer through as aiohttp's
  own error (a 500); each is raised as httpx itself raises it (`ConnectError`: 503;
  `ReadError`: the search fallback retries it; `RemoteProtocolError`: 503), for
  requests and for streams read later alike;
- it ignores `retries`: a connection that cannot be made is retried here, as httpx's
  transport did, after a short back-off (`connect_backoff`).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiohttp
import httpx
from httpx_aiohttp import AiohttpTransport

# A caller waits through the retries: 0.05 s, 0.1 s, 0.2 s ... at most 1 s each, so the
# default single retry costs 0.05 s and the most allowed (10) under 7 s in all.
FIRST_BACKOFF_SECONDS = 0.05
MAX_BACKOFF_SECONDS = 1.0


def connect_backoff(retry: int) -> float:
    """Seconds to wait before the `retry`-th retry (from 1) of a connection not made."""
    return min(MAX_BACKOFF_SECONDS, FIRST_BACKOFF_SECONDS * 2.0 ** (retry - 1))


def _as_httpx(exc: Exception, request: httpx.Request) -> httpx.TransportError:
    """What httpx's own transport would have raised for the aiohttp error behind `exc`
    (the library's mapped exception, or an aiohttp error it let through)."""
    cause = exc.__cause__ if isinstance(exc, httpx.TransportError) else exc
    if isinstance(cause, aiohttp.ClientConnectorError):
        return httpx.ConnectError(str(cause), request=request)
    if isinstance(cause, aiohttp.ConnectionTimeoutError):
        return httpx.ConnectTimeout(str(cause), request=request)
    if isinstance(cause, aiohttp.ServerTimeoutError):
        return httpx.ReadTimeout(str(cause), request=request)
    if isinstance(cause, aiohttp.ClientConnectionError | aiohttp.ClientPayloadError):
        return httpx.ReadError(str(cause), request=request)
    if isinstance(cause, aiohttp.ClientResponseError):
        return httpx.RemoteProtocolError(str(cause), request=request)
    if isinstance(exc, httpx.TransportError):
        return exc
    return httpx.TransportError(str(cause))


class _Body(httpx.AsyncByteStream):
    """A response body whose read errors are mapped like the request's."""

    def __init__(self, inner: httpx.AsyncByteStream, request: httpx.Request) -> None:
        self._inner = inner
        self._request = request

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self._inner:
                yield chunk
        except (httpx.TransportError, aiohttp.ClientError) as exc:
            mapped = _as_httpx(exc, self._request)
            if mapped is exc:
                raise
            raise mapped from exc

    async def aclose(self) -> None:
        await self._inner.aclose()


class AgentServerTransport(AiohttpTransport):
    def __init__(self, *, retries: int, limits: httpx.Limits) -> None:
        super().__init__(limits=limits)
        self._connect_retries = retries

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        attempt = 0
        while True:
            try:
                response = await super().handle_async_request(request)
            except (httpx.TransportError, aiohttp.ClientError) as exc:
                mapped = _as_httpx(exc, request)
                unmade = isinstance(mapped, httpx.ConnectError | httpx.ConnectTimeout)
                if unmade and attempt < self._connect_retries:
                    attempt += 1
                    await asyncio.sleep(connect_backoff(attempt))
                    continue
                if mapped is exc:
                    raise
                raise mapped from exc
            response.stream = _Body(response.stream, request)  # type: ignore[arg-type]
            return response
