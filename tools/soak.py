"""`make soak`: long workflows through many restarts of the embedded stack.

Phase 1 stops the Agent Server gracefully (SIGINT, as Ctrl-C does) and starts it again
on the same data folder, once per finished step, N times. Phase 2 stops the gateway
while a client streams the workflow and the client rejoins the run on the restarted
gateway, N times. The model is a loopback OpenAI-compatible endpoint that counts its
calls, so a step run twice is seen. Not a test: it prints figures.

    .venv/bin/python -m tools.soak [--agent-restarts 100] [--gateway-restarts 100]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import secrets
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from tests.fake_openai import FakeOpenAI
from tools.launcher import free_port, start_agent_server, start_gateway, stop

logger = logging.getLogger("soak")
HOST = "127.0.0.1"
KEY = "soak-key-" + secrets.token_hex(8)
STEP_SECONDS = 0.4
MAX_STEPS = 200  # the gateway's default limit on a workflow


@dataclass
class Figures:
    workflows: int = 0
    steps_planned: int = 0
    steps_finished: int = 0
    agent_restarts: int = 0
    gateway_restarts: int = 0
    streams_rejoined: int = 0
    runs_resumed_by_hand: int = 0
    tags: list[str] = field(default_factory=list)


class Stack:
    """The embedded stack, with each process restartable on its own port."""

    def __init__(self, workdir: Path, model: FakeOpenAI) -> None:
        self.workdir = workdir
        self.agent_port, self.gateway_port = free_port(HOST), free_port(HOST)
        self.env = {
            "THREADGATE_SERVICE_KEY": secrets.token_urlsafe(24),
            "THREADGATE_API_KEYS": json.dumps({"soak": KEY}),
            "THREADGATE_MODEL": "openai:soak-model",
            "OPENAI_BASE_URL": model.base_url,
            "OPENAI_API_KEY": "not-a-real-key",
        }
        self.agent: subprocess.Popen[bytes] | None = None
        self.gateway: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.gateway_port}"

    def start_agent(self) -> None:
        with (self.workdir / "agent-server.log").open("ab") as log:
            self.agent = start_agent_server(
                host=HOST, port=self.agent_port, workdir=self.workdir, log=log, env=self.env
            )

    def start_gateway(self) -> None:
        with (self.workdir / "gateway.log").open("ab") as log:
            self.gateway = start_gateway(
                host=HOST,
                port=self.gateway_port,
                agent_url=f"http://{HOST}:{self.agent_port}",
                log=log,
                env=self.env,
            )

    def stop(self) -> None:
        for proc in (self.gateway, self.agent):
            if proc is not None:
                stop(proc)


def plan_for(restarts: int) -> int:
    """Steps for a workflow meant to outlast the restarts (a new one starts if not)."""
    return min(restarts + 10, MAX_STEPS)


def long_workflow(tag: str, steps: int) -> dict[str, Any]:
    return {
        "id": f"soak-{tag}",
        "name": "Soak",
        "steps": [
            {"id": f"s{i}", "instructions": f"{tag} step {i} [slow {STEP_SECONDS}]"}
            for i in range(1, steps + 1)
        ],
    }


async def start_workflow(gw: httpx.AsyncClient, figures: Figures, steps: int) -> str:
    tag = uuid.uuid4().hex[:10]
    figures.tags.append(tag)
    figures.workflows += 1
    figures.steps_planned += steps
    accepted = await gw.post(
        "/api/workflow/execute", json={"workflow_json": long_workflow(tag, steps)}
    )
    accepted.raise_for_status()
    return str(accepted.json()["thread_id"])


async def progress(gw: httpx.AsyncClient, thread_id: str) -> dict[str, Any]:
    for _ in range(100):  # the gateway or the Agent Server may be coming back
        try:
            response = await gw.get(f"/api/threads/{thread_id}")
            if response.status_code == 200:
                body: dict[str, Any] = response.json()
                return body
        except httpx.HTTPError:
            pass
        await asyncio.sleep(0.2)
    raise RuntimeError(f"thread {thread_id} unreadable for 20 s")


async def until_more_steps(gw: httpx.AsyncClient, thread_id: str, than: int) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while True:
        body = await progress(gw, thread_id)
        if body["progress"]["completed_steps"] > than or body["status"] != "running":
            return body
        if time.monotonic() > deadline:
            raise RuntimeError(f"no step finished in 60 s: {body['status']}")
        await asyncio.sleep(0.1)


async def agent_server_phase(stack: Stack, figures: Figures, restarts: int) -> None:
    async with httpx.AsyncClient(base_url=stack.url, headers={"X-API-Key": KEY}, timeout=30) as gw:
        thread_id = await start_workflow(gw, figures, plan_for(restarts))
        done = 0
        while figures.agent_restarts < restarts:
            body = await until_more_steps(gw, thread_id, done)
            done = body["progress"]["completed_steps"]
            if body["status"] == "completed":
                thread_id, done = (
                    await start_workflow(gw, figures, plan_for(restarts)),
                    0,
                )
                continue
            assert stack.agent is not None
            stop(stack.agent)  # SIGINT: the in-memory runtime writes its data out
            stack.start_agent()
            figures.agent_restarts += 1
            after = await progress(gw, thread_id)
            if after["status"] in ("paused", "failed", "pending"):
                # A runtime that does not re-queue the run it stopped gets a resume.
                (await gw.post(f"/api/threads/{thread_id}/resume")).raise_for_status()
                figures.runs_resumed_by_hand += 1
        await finish(gw, thread_id)


async def gateway_phase(stack: Stack, figures: Figures, restarts: int) -> None:
    async with httpx.AsyncClient(base_url=stack.url, headers={"X-API-Key": KEY}, timeout=30) as gw:
        thread_id = await start_workflow(gw, figures, plan_for(restarts))
    seen, rejoining = 0, False
    while figures.gateway_restarts < restarts:
        ws_url = stack.url.replace("http://", "ws://") + f"/api/threads/{thread_id}/stream"
        ended = False
        try:
            async with connect(ws_url, additional_headers={"X-API-Key": KEY}) as ws:
                figures.streams_rejoined += rejoining
                rejoining = False
                async for message in ws:
                    frame = json.loads(message)
                    if frame["type"] in ("end", "error"):
                        ended = True
                        break
                    # A rejoin replays the run from its start: act on new steps only.
                    done = frame.get("completed_steps") or 0
                    if frame["type"] == "progress" and frame["event"] == "step_finished":
                        if done <= seen:
                            continue
                        seen = done
                        assert stack.gateway is not None
                        stop(stack.gateway)  # mid-stream: the client's socket drops
                        stack.start_gateway()
                        figures.gateway_restarts += 1
                        rejoining = True
                        break
        except (ConnectionClosed, OSError):
            rejoining = True
        if ended:
            async with httpx.AsyncClient(
                base_url=stack.url, headers={"X-API-Key": KEY}, timeout=30
            ) as gw:
                thread_id, seen = await start_workflow(gw, figures, plan_for(restarts)), 0
    if rejoining:  # the last restart's client rejoins too, and reads the run to its end
        ws_url = stack.url.replace("http://", "ws://") + f"/api/threads/{thread_id}/stream"
        async with connect(ws_url, additional_headers={"X-API-Key": KEY}) as ws:
            figures.streams_rejoined += 1
            async for message in ws:
                if json.loads(message)["type"] in ("end", "error"):
                    break
    async with httpx.AsyncClient(base_url=stack.url, headers={"X-API-Key": KEY}, timeout=30) as gw:
        await finish(gw, thread_id)


async def finish(gw: httpx.AsyncClient, thread_id: str) -> None:
    deadline = time.monotonic() + 600
    while (body := await progress(gw, thread_id))["status"] != "completed":
        if body["status"] in ("paused", "failed"):
            (await gw.post(f"/api/threads/{thread_id}/resume")).raise_for_status()
        if time.monotonic() > deadline:
            raise RuntimeError(f"thread {thread_id} did not finish: {body['status']}")
        await asyncio.sleep(0.3)


async def tally(stack: Stack, figures: Figures, model: FakeOpenAI) -> dict[str, Any]:
    twice = lost = 0
    async with httpx.AsyncClient(base_url=stack.url, headers={"X-API-Key": KEY}, timeout=30) as gw:
        page = (await gw.get("/api/threads", params={"limit": 100})).json()["threads"]
        figures.steps_finished = sum(t["progress"]["completed_steps"] for t in page)
        lost = figures.steps_planned - figures.steps_finished
    for tag in figures.tags:
        calls = [model.calls_mentioning(f"{tag} step {i} ") for i in range(1, MAX_STEPS + 1)]
        twice += sum(1 for c in calls if c > 1)
    return {
        "workflows": figures.workflows,
        "steps_planned": figures.steps_planned,
        "steps_finished": figures.steps_finished,
        "steps_lost": lost,
        "steps_run_twice": twice,
        "agent_server_restarts": figures.agent_restarts,
        "gateway_restarts": figures.gateway_restarts,
        "streams_rejoined": figures.streams_rejoined,
        "runs_resumed_by_hand": figures.runs_resumed_by_hand,
    }


async def soak(agent_restarts: int, gateway_restarts: int) -> dict[str, Any]:
    model = FakeOpenAI().start()
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="threadgate-soak-") as folder:
        stack = Stack(Path(folder), model)
        try:
            stack.start_agent()
            stack.start_gateway()
            figures = Figures()
            await agent_server_phase(stack, figures, agent_restarts)
            await gateway_phase(stack, figures, gateway_restarts)
            result = await tally(stack, figures, model)
        finally:
            stack.stop()
            model.stop()
    result["wall_seconds"] = round(time.monotonic() - started, 1)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agent-restarts", type=int, default=100)
    parser.add_argument("--gateway-restarts", type=int, default=100)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    result = asyncio.run(soak(args.agent_restarts, args.gateway_restarts))
    width = max(map(len, result))
    for name, value in result.items():
        logger.info("%s  %s", name.ljust(width), value)


if __name__ == "__main__":
    main()
