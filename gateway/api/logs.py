"""The gateway's log lines: text or JSON, each naming the request it was written for.

One handler on the root logger, with uvicorn's own loggers sent through it too, so
every line has one shape: text `time LEVEL logger [request_id]: message` (`-` outside
a request), or with `THREADGATE_LOG_FORMAT=json` one JSON object per line with `time`,
`level`, `logger`, `message`, `request_id` (null outside a request), `trace_id` and,
for an error, `exception`. With tracing on (`gateway.api.tracing`) a text line also
names its trace, `[request_id] [trace trace_id]`, and a JSON line's `trace_id` is set
(null outside a trace, and always with tracing off).
"""

from __future__ import annotations

import json
import logging
import sys
import time
from typing import Any

from opentelemetry.trace import get_current_span

from gateway.agent.client import request_id
from gateway.api.tracing import exporting

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s]: %(message)s"
TRACED_TEXT_FORMAT = (
    "%(asctime)s %(levelname)s %(name)s [%(request_id)s] [trace %(trace_id)s]: %(message)s"
)
UVICORN_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access")


class RequestIdFilter(logging.Filter):
    """Stamps each record with the id of the request being served, if any."""

    def filter(self, record: logging.LogRecord) -> bool:
        current = request_id.get()
        if current is not None:
            record.request_id = current
        return True


class TraceIdFilter(logging.Filter):
    """Stamps each record with the id of the trace it was written in, if any (32 hex
    digits, as trace back-ends show it)."""

    def filter(self, record: logging.LogRecord) -> bool:
        context = get_current_span().get_span_context()
        if context.is_valid:
            record.trace_id = format(context.trace_id, "032x")
        return True


class PerConnectionLines(logging.Filter):
    """Drops uvicorn's lines about each WebSocket (`"WebSocket /path" [accepted]`,
    `connection open`, `connection closed`), written to `uvicorn.error` at INFO: they are
    request lines too, kept only with `THREADGATE_REQUEST_LOGS`."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.msg if isinstance(record.msg, str) else ""
        per_connection = message.startswith('%s - "WebSocket ') or message in (
            "connection open",
            "connection closed",
        )
        return not (per_connection and record.levelno == logging.INFO)


class JsonFormatter(logging.Formatter):
    """One JSON object per line; a message's newlines are escaped, never written."""

    def format(self, record: logging.LogRecord) -> str:
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
        line: dict[str, Any] = {
            "time": f"{stamp}.{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None),
            "trace_id": getattr(record, "trace_id", None),
        }
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        return json.dumps(line, default=str)


def configure_logging(
    level: str, log_format: str, request_lines: bool = False, traced: bool | None = None
) -> None:
    """Root logs at `level` through one stderr handler, text or JSON, with request ids,
    and trace ids if `traced` (default: if this process exports traces).

    A line per request (uvicorn's access line, and its lines per WebSocket) and per
    Agent Server call (httpx's) is written only with `request_lines`: they cost CPU on
    every request (bench/README.md).
    """
    traced = exporting() if traced is None else traced
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(RequestIdFilter())
    if traced:
        handler.addFilter(TraceIdFilter())
    if log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        text_format = TRACED_TEXT_FORMAT if traced else TEXT_FORMAT
        handler.setFormatter(
            logging.Formatter(text_format, defaults={"request_id": "-", "trace_id": "-"})
        )
    root = logging.getLogger()
    for old in root.handlers[:]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    for name in UVICORN_LOGGERS:
        # uvicorn set up its own handlers before calling our factory; use ours instead.
        uvicorn_logger = logging.getLogger(name)
        uvicorn_logger.handlers.clear()
        uvicorn_logger.propagate = True
        # uvicorn gave its loggers their own level; ours decides (propagated records
        # are not checked against the root's level).
        uvicorn_logger.setLevel(level)
    uvicorn_error = logging.getLogger("uvicorn.error")
    for known in [f for f in uvicorn_error.filters if isinstance(f, PerConnectionLines)]:
        uvicorn_error.removeFilter(known)  # configured again in the same process (tests)
    if not request_lines:
        uvicorn_error.addFilter(PerConnectionLines())
    per_request = logging.INFO if request_lines else logging.WARNING
    for name in ("uvicorn.access", "httpx"):
        logging.getLogger(name).setLevel(max(logging.getLevelNamesMapping()[level], per_request))
