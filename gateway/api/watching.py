"""One Agent Server stream per run per worker, shared by every socket watching the run.

Each socket used to open its own upstream stream: twenty people watching fifty running
threads were a thousand Agent Server streams. Now the first socket to watch a run opens
its stream; each event is turned into a frame and encoded once, and kept for the run's
life, so a socket that joins late is sent the run's frames from its start (as rejoining
always promised). Every socket reads that list at its own pace, so a slow client holds
up nobody else. The upstream closes when the run ends or its last watcher leaves.

Every watcher is authorised on its own before it joins (it started the run, or it read
the thread with its own identity); the shared upstream is read as the first watcher.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass

from langgraph_sdk.client import LangGraphClient

from gateway.agent.client import Actor, as_user
from gateway.api.errors import ErrorBody, describe
from gateway.api.frames import Frame, StreamFrames, end_frame, error_frame, run_error
from gateway.api.metrics import RUN_STREAMS_OPEN
from gateway.threads.executions import Execution
from gateway.threads.progress import thread_progress
from gateway.threads.views import task_error

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Encoded:
    """A frame as sent: its JSON text, and whether it reports a finished step (counted)."""

    text: str
    step_finished: bool


def encode(frame: Frame) -> Encoded:
    # Starlette's own `send_json` encoding, done once for every watcher.
    text = json.dumps(frame, separators=(",", ":"), ensure_ascii=False)
    finished = frame["type"] == "progress" and frame.get("event") == "step_finished"
    return Encoded(text, finished)


class RunWatch:
    """One run's frames so far, for any number of watchers, and whether it has ended."""

    def __init__(self) -> None:
        self.frames: list[Encoded] = []
        self.ended = False
        self.watchers = 0
        self.upstream: asyncio.Task[None] | None = None
        self._arrival = asyncio.get_running_loop().create_future()

    def add(self, frame: Frame) -> None:
        self.frames.append(encode(frame))
        self._wake()

    def end(self) -> None:
        self.ended = True
        self._wake()

    def _wake(self) -> None:
        # A fresh future per arrival: every waiter of the old one wakes, none misses one.
        arrival, self._arrival = self._arrival, asyncio.get_running_loop().create_future()
        arrival.set_result(None)

    async def follow(self, left: asyncio.Future[None]) -> AsyncIterator[Encoded]:
        """Every frame from the run's first, as they come, until its last or until the
        watcher has `left` (a silent step can last minutes: nobody waits that long to
        notice a closed socket, and the upstream closes when its last watcher leaves)."""
        sent = 0
        while not left.done():
            arrival = self._arrival  # taken before sending: an arrival meanwhile sets it
            while sent < len(self.frames) and not left.done():
                yield self.frames[sent]
                sent += 1
            if self.ended:
                return
            await asyncio.wait((arrival, left), return_when=asyncio.FIRST_COMPLETED)


class Watching:
    """The runs this worker is streaming from the Agent Server, by thread and run id."""

    def __init__(self) -> None:
        self._runs: dict[tuple[str, str], RunWatch] = {}

    @property
    def upstreams(self) -> int:
        return len(self._runs)

    @contextlib.asynccontextmanager
    async def watch(
        self, agent: LangGraphClient, user: Actor, execution: Execution
    ) -> AsyncIterator[RunWatch]:
        """The run's shared watch, its upstream opened if this is its first watcher."""
        key = (execution.thread_id, execution.run_id)
        run = self._runs.get(key)
        if run is None:
            run = self._runs[key] = RunWatch()
            run.upstream = asyncio.create_task(self._read(run, key, agent, user, execution))
        run.watchers += 1
        try:
            yield run
        finally:
            run.watchers -= 1
            if run.watchers == 0 and not run.ended and run.upstream is not None:
                # Nobody left to send to; a later watcher opens a new upstream from the start.
                self._forget(key, run)
                run.upstream.cancel()

    def _forget(self, key: tuple[str, str], run: RunWatch) -> None:
        if self._runs.get(key) is run:
            del self._runs[key]

    async def _read(
        self,
        run: RunWatch,
        key: tuple[str, str],
        agent: LangGraphClient,
        user: Actor,
        execution: Execution,
    ) -> None:
        RUN_STREAMS_OPEN.inc()
        try:
            run.add(await _relay(run, agent, user, execution))
        except Exception as exc:  # one error frame for every watcher, mapped in one place
            _, body = describe(exc)
            run.add(error_frame(body, execution))
        finally:
            RUN_STREAMS_OPEN.dec()
            self._forget(key, run)
            run.end()


async def _relay(run: RunWatch, agent: LangGraphClient, user: Actor, execution: Execution) -> Frame:
    """Add the run's events as frames; the final `end` or `error` frame is returned."""
    failure = None
    frames = StreamFrames()
    headers = as_user(user)
    # last_event_id "-1" replays from the run's first event, so nothing emitted
    # between creating the run and joining it is missed.
    async for part in agent.runs.join_stream(
        execution.thread_id, execution.run_id, last_event_id="-1", headers=headers
    ):
        failure = failure or run_error(part)
        frame = frames.frame_for(part)
        if frame is not None:
            run.add(frame)
    await agent.runs.join(execution.thread_id, execution.run_id, headers=headers)
    if failure is not None:
        # The stream's own message can be a generic "internal error"; the step's recorded
        # error is the reason the thread, the execution and the failed list all show.
        state = await agent.threads.get_state(execution.thread_id, headers=headers)
        failure = task_error(state) or failure
    progress = thread_progress(
        await agent.threads.get(execution.thread_id, headers=headers), failure
    )
    if failure is not None:
        body = ErrorBody(
            error="workflow_failed", message=failure, details=progress.model_dump(mode="json")
        )
        return error_frame(body, execution)
    return end_frame(progress, execution)
