"""(5) Replicas together: follow-ups sent at once to one thread through two gateways.

Two gateway processes on one Agent Server (`langgraph dev`, 10 jobs, the launcher's
default), and THREADS threads, each with a finished one-step workflow. Then every
thread is sent PER_THREAD follow-ups (`POST /api/workflow/execute` with `{thread_id,
message}`) at once, alternately through each gateway, all threads together. A busy
thread refuses a run (409 `already_running`), so each thread's follow-ups race.

Counted afterwards on the Agent Server, with the SDK (not from the answers):

- runs: `runs.list` per thread. A run record carries `created_at` (when it was queued)
  and `updated_at` (set with its final status); no two runs of a thread may overlap
  in those spans (queued counts: the gateway never queues a run behind another);
- each run's steps: its checkpoints in `threads.get_history` (`metadata.run_id`) all
  fall within its span, and every run has at least one;
- every 202 names its own run on its thread; the runs are exactly the threads' first
  runs, the 202s' and at most one for each 503 `agent_outcome_unknown` (the answer
  for a call that failed after it was sent); a 409 made none, nor did a 503
  `agent_unavailable` (nothing was sent);
- the model (a loopback OpenAI-compatible endpoint that counts calls) saw each
  accepted follow-up's message once and no refused one.

The integration test `tests/integration/test_replica_concurrency.py` runs the same
storm, smaller. Not a test: a failed property is printed and the exit status is 1.

    .venv/bin/python -m bench.replicas            # 50 threads x 20 follow-ups
    .venv/bin/python -m bench.replicas 10 10      # threads, follow-ups per thread

Writes `bench/results/replicas-latest.json`.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from langgraph_sdk.client import LangGraphClient

from bench.stack import HOST, USER_KEY, bench_stack, run_record
from tests.fake_openai import FakeOpenAI
from tools.launcher import StackError, free_port, start_gateway, stop

THREADS = 50
PER_THREAD = 20
IDLE_TIMEOUT = 300.0  # seconds the runs may take to finish after the storm
RESULTS = Path(__file__).parent / "results"
# What a follow-up may be answered; anything else is reported as unexpected.
ACCEPTED, CONFLICT = (202, None), (409, "already_running")
# The call that may have started the run failed after it was sent: maybe one run.
UNKNOWN = (503, "agent_outcome_unknown")
# The Agent Server could not be reached before anything was sent (README: errors): none.
UNAVAILABLE = (503, "agent_unavailable")
FINAL = {"success", "error", "interrupted", "timeout"}


@dataclass
class Answer:
    thread_id: str
    replica: int
    message: str
    status: int
    error: str | None
    run_id: str | None  # from a 202's execution id


@dataclass
class Tally:
    requests: int = 0
    accepted: int = 0
    conflicts: int = 0
    unknown: int = 0  # 503 agent_outcome_unknown
    unknown_with_run: int = 0  # runs found that only such a 503 can explain
    unavailable: int = 0  # 503 agent_unavailable
    threads: int = 0
    runs: int = 0  # on the Agent Server, the threads' first runs included
    run_statuses: dict[str, int] = field(default_factory=dict)
    answers: dict[str, int] = field(default_factory=dict)  # "202", "409 already_running"...
    per_replica: dict[str, int] = field(default_factory=dict)  # requests sent to each
    most_accepted_on_a_thread: int = 0
    unexpected: list[str] = field(default_factory=list)
    overlaps: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)

    def summary(self) -> str:
        return (
            f"{self.requests} follow-ups on {self.threads} threads through "
            f"{len(self.per_replica)} gateways: {self.accepted} accepted (202), "
            f"{self.conflicts} already_running (409), {self.unknown} agent_outcome_unknown "
            f"(503, {self.unknown_with_run} of them with a run), {self.unavailable} "
            f"agent_unavailable (503), other {len(self.unexpected)}; "
            f"runs counted on the Agent Server {self.runs} (= {self.threads} first runs + "
            f"{self.runs - self.threads}), statuses {self.run_statuses}; overlapping runs "
            f"{len(self.overlaps)}; other problems {len(self.problems)}; most runs accepted "
            f"on one thread {self.most_accepted_on_a_thread}"
        )


def answer_of(thread_id: str, replica: int, message: str, response: httpx.Response) -> Answer:
    error = run_id = None
    try:
        body = response.json()
    except ValueError:
        body = {}
    if response.status_code == 202:
        on, run_id = str(body["execution_id"]).split(".", 1)
        if on != thread_id:  # a 202 for another thread's run: unexpected
            error = f"execution on thread {on}"
    elif isinstance(body, dict):
        error = body.get("error")
    return Answer(thread_id, replica, message, response.status_code, error, run_id)


async def finished_threads(
    replicas: Sequence[httpx.AsyncClient], sdk: LangGraphClient, tag: str, count: int
) -> dict[str, str]:
    """`count` threads, each with a one-step workflow run to its end (started
    alternately on the replicas): thread id -> its first run's id."""

    async def one(i: int) -> tuple[str, str]:
        workflow = {"id": f"wf-{tag}", "name": tag, "steps": [{"instructions": f"{tag} {i}"}]}
        response = await replicas[i % len(replicas)].post(
            "/api/workflow/execute", json={"workflow_json": workflow}
        )
        assert response.status_code == 202, response.text
        thread_id, run_id = str(response.json()["execution_id"]).split(".", 1)
        return thread_id, run_id

    first = dict(await asyncio.gather(*(one(i) for i in range(count))))
    await until_idle(sdk, list(first))
    return first


async def follow_ups(
    replicas: Sequence[httpx.AsyncClient], threads: Sequence[str], per_thread: int, tag: str
) -> list[Answer]:
    """`per_thread` follow-ups to every thread, all sent at once; a thread's go to the
    replicas in turn (and are sent next to each other, so they meet)."""

    async def one(thread_id: str, t: int, i: int) -> Answer:
        replica = (t + i) % len(replicas)
        # Brackets: no message is a substring of another's (the model counts by substring).
        message = f"[{tag} t{t} f{i}] follow up"
        try:
            response = await replicas[replica].post(
                "/api/workflow/execute", json={"thread_id": thread_id, "message": message}
            )
        except httpx.TransportError as exc:  # no answer: reported, its outcome unknown
            return Answer(thread_id, replica, message, 0, type(exc).__name__, None)
        return answer_of(thread_id, replica, message, response)

    return await asyncio.gather(
        *(one(thread_id, t, i) for t, thread_id in enumerate(threads) for i in range(per_thread))
    )


async def until_idle(
    sdk: LangGraphClient, threads: Sequence[str], timeout: float = IDLE_TIMEOUT
) -> None:
    """Until no run of these threads is pending or running."""
    deadline = time.monotonic() + timeout
    waiting = list(threads)
    while waiting:
        found = await asyncio.gather(*(sdk.runs.list(t, limit=1000) for t in waiting))
        waiting = [t for t, runs in zip(waiting, found, strict=True) if _busy(runs)]
        if waiting and time.monotonic() > deadline:
            raise AssertionError(f"{len(waiting)} threads still running after {timeout:g} s")
        if waiting:
            await asyncio.sleep(0.2)


def _open(answer: Answer) -> bool:
    """Whether the answer leaves open that a run was started: a 503
    agent_outcome_unknown, or none at all (status 0, reported as unexpected too)."""
    return (answer.status, answer.error) == UNKNOWN or answer.status == 0


def _busy(runs: Sequence[Any]) -> bool:
    return any(r["status"] in ("pending", "running") for r in runs)


def _at(value: Any) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))


async def account(
    sdk: LangGraphClient,
    first_runs: dict[str, str],
    answers: Sequence[Answer],
    calls: Callable[[str], int] | None = None,
) -> Tally:
    """The properties, counted on the Agent Server once every run has ended (see the
    module's docstring); `calls(text)`: how many model calls mentioned `text`."""
    tally = Tally(requests=len(answers), threads=len(first_runs))
    kinds = Counter(f"{a.status} {a.error}" if a.error else str(a.status) for a in answers)
    tally.answers = dict(kinds)
    tally.per_replica = dict(Counter(f"gateway {a.replica + 1}" for a in answers))
    by_thread: dict[str, list[Answer]] = {t: [] for t in first_runs}
    for a in answers:
        by_thread[a.thread_id].append(a)
        kind = (a.status, a.error)
        if kind == ACCEPTED:
            tally.accepted += 1
        elif kind == CONFLICT:
            tally.conflicts += 1
        elif kind == UNKNOWN:
            tally.unknown += 1
        elif kind == UNAVAILABLE:
            tally.unavailable += 1
        else:
            tally.unexpected.append(f"{a.thread_id}: {a.status} {a.error}")
    statuses: Counter[str] = Counter()
    for thread_id, first in first_runs.items():
        runs, history = await asyncio.gather(
            sdk.runs.list(thread_id, limit=1000), sdk.threads.get_history(thread_id, limit=1000)
        )
        tally.runs += len(runs)
        statuses.update(r["status"] for r in runs)
        _check_thread(tally, thread_id, first, by_thread[thread_id], list(runs), list(history))
    tally.run_statuses = dict(statuses)
    if calls is not None:
        for a in answers:
            seen = calls(a.message)
            wanted = {1} if (a.status, a.error) == ACCEPTED else {0, 1} if _open(a) else {0}
            if seen not in wanted:
                tally.problems.append(f"{a.thread_id}: {a.status} follow-up seen by model {seen}x")
    return tally


def _check_thread(
    tally: Tally,
    thread_id: str,
    first: str,
    answers: list[Answer],
    runs: list[Any],
    history: list[Any],
) -> None:
    found = {str(r["run_id"]): r for r in runs}
    accepted = [a.run_id for a in answers if (a.status, a.error) == ACCEPTED]
    tally.most_accepted_on_a_thread = max(tally.most_accepted_on_a_thread, len(accepted))
    if len(set(accepted)) != len(accepted):
        tally.problems.append(f"{thread_id}: two 202s named the same run")
    missing = [r for r in accepted if r not in found]
    if missing:
        tally.problems.append(f"{thread_id}: 202s with no run: {missing}")
    if first not in found:
        tally.problems.append(f"{thread_id}: its first run {first} is gone")
    extra = set(found) - set(accepted) - {first}
    unknown = sum(_open(a) for a in answers)
    if len(extra) > unknown:
        tally.problems.append(
            f"{thread_id}: {len(extra)} runs nobody was answered 202 for "
            f"({unknown} agent_outcome_unknown or no answer)"
        )
    tally.unknown_with_run += min(len(extra), unknown)
    # Spans: queued (created_at) to final status (updated_at, set with it).
    ordered = sorted(runs, key=lambda r: _at(r["created_at"]))
    for run in ordered:
        if run["status"] not in FINAL:
            tally.problems.append(f"{thread_id}: run {run['run_id']} still {run['status']}")
    for before, after in itertools.pairwise(ordered):
        if _at(after["created_at"]) < _at(before["updated_at"]):
            tally.overlaps.append(
                f"{thread_id}: run {after['run_id']} queued at {after['created_at']}, before "
                f"run {before['run_id']} ended at {before['updated_at']}"
            )
    # Each run's steps: its checkpoints, all within its span.
    stepped: set[str] = set()
    for state in history:
        run_id = str((state.get("metadata") or {}).get("run_id") or "")
        if not run_id:
            continue
        run = found.get(run_id)
        if run is None:
            tally.problems.append(f"{thread_id}: a checkpoint of run {run_id}, not listed")
            continue
        stepped.add(run_id)
        at = _at(state["created_at"])
        if not _at(run["created_at"]) <= at <= _at(run["updated_at"]):
            tally.overlaps.append(
                f"{thread_id}: run {run_id}'s checkpoint at {state['created_at']} is outside "
                f"its span {run['created_at']} .. {run['updated_at']}"
            )
    for run_id in set(found) - stepped:
        tally.problems.append(f"{thread_id}: run {run_id} left no checkpoint")


@asynccontextmanager
async def clients(
    urls: Sequence[str], headers: dict[str, str]
) -> AsyncIterator[list[httpx.AsyncClient]]:
    """A client per gateway, up to 200 requests in flight on each. An idle connection
    is dropped after 1 s: uvicorn closes one after 5 s, and httpx's default (5 s) would
    now and then send a request on a connection the gateway is closing (a ReadError,
    with no answer)."""
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=200, keepalive_expiry=1)
    async with AsyncExitStack() as stack:
        yield [
            await stack.enter_async_context(
                httpx.AsyncClient(base_url=url, headers=headers, timeout=180, limits=limits)
            )
            for url in urls
        ]


async def storm(
    gateway_urls: Sequence[str],
    headers: dict[str, str],
    sdk: LangGraphClient,
    tag: str,
    threads: int,
    per_thread: int,
    calls: Callable[[str], int] | None = None,
) -> Tally:
    """The whole measurement: threads with a finished workflow, the follow-ups, the
    wait for every run to end, the count. Wall times in `Tally.seconds`."""
    began = time.perf_counter()
    async with clients(gateway_urls, headers) as replicas:
        first_runs = await finished_threads(replicas, sdk, tag, threads)
        sent = time.perf_counter()
        answers = await follow_ups(replicas, list(first_runs), per_thread, tag)
        answered = time.perf_counter()
    await until_idle(sdk, list(first_runs))
    idle = time.perf_counter()
    tally = await account(sdk, first_runs, answers, calls)
    tally.seconds = {
        "first_runs": round(sent - began, 2),
        "follow_ups_answered": round(answered - sent, 2),
        "runs_ended": round(idle - sent, 2),
        "counting": round(time.perf_counter() - idle, 2),
    }
    return tally


async def measure(threads: int, per_thread: int) -> Tally:
    model = FakeOpenAI().start()
    env = {
        "THREADGATE_MODEL": "openai:fake-model",
        "OPENAI_BASE_URL": model.base_url,
        "OPENAI_API_KEY": "unused",
        # One user sends everything: above the default cap (20) of active runs.
        "THREADGATE_MAX_ACTIVE_RUNS_PER_USER": "10000",
    }
    try:
        with bench_stack(env) as stack:
            gateway_env = {
                **env,
                "THREADGATE_SERVICE_KEY": stack.service_key,
                "THREADGATE_API_KEYS": json.dumps({"bench": USER_KEY}),
            }
            port = free_port(HOST)
            second_log = stack.workdir / "gateway-2.log"
            with second_log.open("wb") as log:
                try:
                    second = start_gateway(
                        host=HOST, port=port, agent_url=stack.agent_url, log=log, env=gateway_env
                    )
                except StackError as exc:
                    raise StackError(f"{exc}\n{second_log.read_text()[-3000:]}") from exc
            try:
                sdk = stack.sdk()
                try:
                    return await storm(
                        [stack.gateway_url, f"http://{HOST}:{port}"],
                        stack.headers,
                        sdk,
                        f"r{os.getpid()}",
                        threads,
                        per_thread,
                        model.calls_mentioning,
                    )
                finally:
                    await sdk.aclose()
            finally:
                stop(second)
    finally:
        model.stop()


def main() -> None:
    given = [int(a) for a in sys.argv[1:3]]
    threads, per_thread = given if len(given) == 2 else [THREADS, PER_THREAD]
    began = datetime.now(UTC).isoformat(timespec="seconds")
    print(f"{threads} threads x {per_thread} follow-ups through 2 gateways", flush=True)
    tally = asyncio.run(measure(threads, per_thread))
    print(tally.summary())
    print(f"answers: {tally.answers}; per gateway: {tally.per_replica}; seconds: {tally.seconds}")
    for line in (tally.unexpected + tally.overlaps + tally.problems)[:20]:
        print("  " + line)
    RESULTS.mkdir(exist_ok=True)
    record = {
        **run_record(began),
        "threads": threads,
        "follow_ups_per_thread": per_thread,
        "tally": asdict(tally),
    }
    out = RESULTS / "replicas-latest.json"
    out.write_text(json.dumps(record, indent=2) + "\n")
    print(f"written: {out}")
    held = not (tally.unexpected or tally.overlaps or tally.problems)
    expected_runs = tally.threads + tally.accepted + tally.unknown_with_run
    if not held or tally.runs != expected_runs:
        sys.exit(1)


if __name__ == "__main__":
    main()
