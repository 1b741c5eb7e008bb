"""How the gateway's one httpx client reaches the Agent Server: aiohttp underneath.

httpx's own transport costs about 0.5 ms of CPU per call here (bench/README.md);
aiohttp's connection pool and parser behind httpx's API (`httpx-aiohttp`) cost less,
and langgraph-sdk keeps its httpx client. Two things are mended on top of that library:
- its exception mapping turns a refused connection, and a connection the server closed,
  into `ConnectTimeout` (a 504 here); they are raised as httpx itself raises them
  (`ConnectError`: 503; `ReadError`: the search fallback retries it), for requests and
  for streams read later alike;
- it ignores `retries`: a refused connection is retried here, as httpx's transport did.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import httpx
from httpx_aiohttp import AiohttpTransport


def _as_httpx(exc: httpx.TransportError, request: httpx.Request) -> httpx.TransportError:
    """What httpx's own transport would have raised for the aiohttp error behind `exc`."""
    cause = exc.__cause__
    if isinstance(cause, aiohttp.ClientConnectorError):
        return httpx.ConnectError(str(cause), request=request)
    if isinstance(cause, aiohttp.ConnectionTimeoutError):
        return httpx.ConnectTimeout(str(cause), request=request)
    if isinstance(cause, aiohttp.ServerTimeoutError):
        return httpx.ReadTimeout(str(cause), request=request)
    if isinstance(cause, aiohttp.ClientConnectionError | aiohttp.ClientPayloadError):
        return httpx.ReadError(str(cause), request=request)
    return exc


class _Body(httpx.AsyncByteStream):
    """A response body whose read errors are mapped like the request's."""

    def __init__(self, inner: httpx.AsyncByteStream, request: httpx.Request) -> None:
        self._inner = inner
        self._request = request

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self._inner:
                yield chunk
        except httpx.TransportError as exc:
            raise _as_httpx(exc, self._request) from exc.__cause__

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
            except httpx.TransportError as exc:
                mapped = _as_httpx(exc, request)
                if isinstance(mapped, httpx.ConnectError) and attempt < self._connect_retries:
                    attempt += 1
                    continue
                raise mapped from exc.__cause__
            response.stream = _Body(response.stream, request)  # type: ignore[arg-type]
            return response
