"""The floor: the least a FastAPI pass-through on the same Agent Server client can do.

Same stack as the gateway (FastAPI, uvicorn, langgraph-sdk on the gateway's own client
from `gateway.threads.agent.connect`), none of Threadgate's work: no authentication,
no validation, no views; each route makes the same Agent Server calls as its gateway
counterpart and returns the SDK's answer as it came. The benchmark reports the
gateway's CPU per request against this one's, measured in the same run.

    uvicorn bench.floor:app  (bench.cpu starts it)
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request

from gateway.settings import Settings
from gateway.threads.agent import as_user, connect
from gateway.threads.executions import STREAM_MODES

USER = as_user("bench")


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    app.state.agent = connect(Settings(auth_disabled=True))
    yield
    await app.state.agent.aclose()


app = FastAPI(lifespan=lifespan)


@app.get("/threads/{thread_id}")
async def get_thread(thread_id: str, request: Request) -> Any:
    return await request.app.state.agent.threads.get(thread_id, headers=USER)


@app.get("/threads/{thread_id}/state")
async def get_state(thread_id: str, request: Request) -> Any:
    return await request.app.state.agent.threads.get_state(thread_id, headers=USER)


@app.get("/threads/{thread_id}/history")
async def get_history(thread_id: str, request: Request) -> Any:
    return await request.app.state.agent.threads.get_history(thread_id, limit=20, headers=USER)


@app.get("/threads")
async def search(request: Request) -> Any:
    agent = request.app.state.agent
    found, total = await asyncio.gather(
        agent.threads.search(limit=20, headers=USER), agent.threads.count(headers=USER)
    )
    return {"threads": found, "total": total}


@app.post("/execute")
async def execute(request: Request) -> Any:
    body = await request.json()
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
    return {"run_id": run["run_id"], "thread_id": run["thread_id"]}
