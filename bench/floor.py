"""The floor: the least a FastAPI pass-through over langgraph-sdk can do.

The card's stack (FastAPI on uvicorn, langgraph-sdk on an httpx client) with the
cheapest settings it allows: aiohttp under httpx (`httpx-aiohttp`), the SDK's JSON
work done on the event loop, the SDK's answer sent back as bytes. None of
Threadgate's work: no authentication, validation, views, request ids or metrics.
Each route makes the same Agent Server calls as its gateway counterpart.

It imports nothing of the gateway, so the same floor measures any version of it
(bench/README.md compares two). `bench.cpu` starts it:

    uvicorn bench.floor:app
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Callable
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import asynccontextmanager
from typing import Any

import httpx
import orjson
from fastapi import FastAPI, Request, Response
from httpx_aiohttp import AiohttpTransport
from langgraph_sdk.client import LangGraphClient

USER = {"x-threadgate-user": "bench"}
STREAM_MODES: Any = ["messages-tuple", "custom", "updates"]


class _Inline(ThreadPoolExecutor):
    """The SDK's orjson calls run inline; anything else in the pool."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        if fn in (orjson.loads, orjson.dumps):
            done: Future[Any] = Future()
            try:
                done.set_result(fn(*args, **kwargs))
            except Exception as exc:
                done.set_exception(exc)
            return done
        return super().submit(fn, *args, **kwargs)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    asyncio.get_running_loop().set_default_executor(_Inline())
    http = httpx.AsyncClient(
        base_url=os.environ["THREADGATE_AGENT_URL"],
        transport=AiohttpTransport(limits=httpx.Limits(max_connections=1_000)),
        headers={"x-threadgate-service-key": os.environ["THREADGATE_SERVICE_KEY"]},
        timeout=30,
    )
    app.state.agent = LangGraphClient(http)
    yield
    await app.state.agent.aclose()


app = FastAPI(lifespan=lifespan)


def _json(value: Any) -> Response:
    return Response(orjson.dumps(value), media_type="application/json")


@app.get("/threads/{thread_id}")
async def get_thread(thread_id: str, request: Request) -> Response:
    return _json(await request.app.state.agent.threads.get(thread_id, headers=USER))


@app.get("/threads/{thread_id}/state")
async def get_state(thread_id: str, request: Request) -> Response:
    return _json(await request.app.state.agent.threads.get_state(thread_id, headers=USER))


@app.get("/threads/{thread_id}/history")
async def get_history(thread_id: str, request: Request) -> Response:
    agent = request.app.state.agent
    return _json(await agent.threads.get_history(thread_id, limit=20, headers=USER))


@app.get("/threads")
async def search(request: Request) -> Response:
    agent = request.app.state.agent
    found, total = await asyncio.gather(
        agent.threads.search(limit=20, headers=USER), agent.threads.count(headers=USER)
    )
    return _json({"threads": found, "total": total})


@app.post("/execute")
async def execute(request: Request) -> Response:
    body = orjson.loads(await request.body())
    thread_id = body.get("thread_id")
    run = await request.app.state.agent.runs.create(
        thread_id or str(uuid.uuid4()),
        "workflow",
        input=body["input"],
        if_not_exists=None if thread_id else "create",
        stream_mode=STREAM_MODES,
        stream_resumable=True,
        multitask_strategy="reject",
        headers=USER,
    )
    return _json({"run_id": run["run_id"], "thread_id": run["thread_id"]})
