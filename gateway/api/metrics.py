"""Prometheus metrics: what the gateway counts (`GET /metrics` reads them: routes/metrics.py).

Labels are bounded by construction: routes are templates (`/api/threads/{thread_id}`,
never the raw path), methods are the standard ones or `other`, kinds and transports are
fixed words. No user, thread, run or workflow id is ever a label.

One process is one registry. Under `uvicorn --workers N` set `PROMETHEUS_MULTIPROC_DIR`
to an empty directory (emptied before each start): every worker then writes its values
there and whichever worker answers a scrape adds them all up (prometheus_client's
multiprocess mode; the process_* metrics are not available in it).
"""

from __future__ import annotations

import os

from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
)
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead

MULTIPROCESS_DIR = "PROMETHEUS_MULTIPROC_DIR"

# No `*_created` series: a timestamp per label set that doubles a scrape and says little.
disable_created_metrics()  # type: ignore[no-untyped-call]

REQUESTS = Counter(
    "threadgate_http_requests",
    "HTTP requests answered, by route template, method and status.",
    ["route", "method", "status"],
)
REQUEST_SECONDS = Histogram(
    "threadgate_http_request_duration_seconds",
    "Time from a request's arrival to the end of its response, by route template and method.",
    ["route", "method"],
)
OPEN_WEBSOCKETS = Gauge(
    "threadgate_websockets_open",
    "WebSockets accepted and not yet closed, by route template.",
    ["route"],
    multiprocess_mode="livesum",
)
RUN_STREAMS_OPEN = Gauge(
    "threadgate_run_streams_open",
    "Agent Server streams open: one per run being watched per worker, shared by every "
    "WebSocket watching that run.",
    multiprocess_mode="livesum",
)
AGENT_ERRORS = Counter(
    "threadgate_agent_server_errors",
    "Agent Server failures that reached a caller (an error response or an error frame), "
    "by kind: the Agent Server's answer passed through (not_found, conflict, bad_request, "
    "invalid_request, rate_limited), or a bad gateway (server_error, refused, "
    "unexpected_status, unreadable), unavailable or timeout.",
    ["kind"],
)
WORKFLOWS_STARTED = Counter(
    "threadgate_workflows_started",
    "Workflows started by an execute request, by transport (rest, websocket).",
    ["transport"],
)
STEPS_FINISHED = Counter(
    "threadgate_steps_finished",
    "step_finished progress events relayed to WebSocket clients, by stream: execute (the "
    "run the socket started) or rejoin (a thread's run joined again: replayed from its "
    "first step, so a step relayed to several sockets counts once per socket).",
    ["stream"],
)

# Children bound once, for the counts made on every event.
WORKFLOWS_STARTED_REST = WORKFLOWS_STARTED.labels("rest")
WORKFLOWS_STARTED_WEBSOCKET = WORKFLOWS_STARTED.labels("websocket")
STEPS_FINISHED_EXECUTE = STEPS_FINISHED.labels("execute")
STEPS_FINISHED_REJOIN = STEPS_FINISHED.labels("rejoin")


class RequestMetrics:
    """The per-request counts, with each label combination's children looked up once.

    `.labels()` takes a lock and builds a key on every call; the children are cached
    here by (route, method, status), a set bounded by the app's routes.
    """

    def __init__(self) -> None:
        self._children: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}

    def observe(self, route: str, method: str, status: int, seconds: float) -> None:
        key = (route, method, status)
        children = self._children.get(key)
        if children is None:
            children = (
                REQUESTS.labels(route, method, str(status)),
                REQUEST_SECONDS.labels(route, method),
            )
            self._children[key] = children
        children[0].inc()
        children[1].observe(seconds)


def count_agent_error(kind: str) -> None:
    AGENT_ERRORS.labels(kind).inc()


def registry() -> CollectorRegistry:
    """What `/metrics` shows: this process's metrics, or in multiprocess mode every worker's."""
    if os.environ.get(MULTIPROCESS_DIR):
        # A fresh registry per scrape, reading every worker's files.
        fresh = CollectorRegistry()
        MultiProcessCollector(fresh)  # type: ignore[no-untyped-call]
        return fresh
    return REGISTRY


def process_ended() -> None:
    """In multiprocess mode, drop this worker's live gauges (its open sockets) on exit."""
    if os.environ.get(MULTIPROCESS_DIR):
        mark_process_dead(os.getpid())  # type: ignore[no-untyped-call]
