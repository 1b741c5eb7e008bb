"""The gateway's entry points: `uvicorn --factory gateway.main:app` (one process, as
`make up` runs it), and `python -m gateway.main` (the image: one worker per core)."""

from __future__ import annotations

import argparse
import logging
import math
import os
import sys
import tempfile
from pathlib import Path

import uvicorn
from fastapi import FastAPI
from pydantic import ValidationError

from gateway.api.app import create_app
from gateway.api.logs import configure_logging
from gateway.settings import Settings, get_settings

logger = logging.getLogger("gateway")


def app() -> FastAPI:
    """Factory for `uvicorn --factory gateway.main:app`."""
    try:
        settings = get_settings()
    except ValidationError as exc:
        logging.basicConfig(format="%(levelname)s %(message)s")
        for line in config_problems(exc):
            logger.error("configuration: %s", line)
        sys.exit(2)
    configure_logging(settings.log_level, settings.log_format, settings.request_logs)
    return create_app(settings)


def config_problems(exc: ValidationError) -> list[str]:
    """One line per problem, naming the environment variable a person would fix."""
    prefix = Settings.model_config.get("env_prefix", "")
    lines = []
    for error in exc.errors(include_url=False, include_input=False):
        field = str(error["loc"][0]) if error["loc"] else ""
        message = error["msg"].removeprefix("Value error, ")
        # Whole-settings checks name their variables in the message already.
        lines.append(f"{(prefix + field).upper()}: {message}" if field else message)
    return lines


def available_cores() -> int:
    """The cores this process may use: a container's CPU quota (cgroup v2), else its
    CPU affinity (what `docker --cpus` and `--cpuset-cpus` give it)."""
    cores = len(os.sched_getaffinity(0))
    try:
        quota, period = Path("/sys/fs/cgroup/cpu.max").read_text().split()
    except (OSError, ValueError):
        return cores
    if quota == "max":
        return cores
    return max(1, min(cores, math.ceil(int(quota) / int(period))))


def serve(argv: list[str] | None = None) -> None:
    """Run `THREADGATE_WORKERS` uvicorn workers (default: one per available core)."""
    parser = argparse.ArgumentParser(prog="python -m gateway.main")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8002)
    args = parser.parse_args(argv)
    given = os.environ.get("THREADGATE_WORKERS", "").strip()
    if given and not (given.isdigit() and 1 <= int(given) <= 64):
        sys.exit(f"THREADGATE_WORKERS must be a whole number from 1 to 64, not {given!r}")
    workers = int(given) if given else available_cores()
    if workers > 1:
        # Each worker counts its own metrics; prometheus_client's multiprocess mode sums
        # them on a scrape. Its folder must start without an earlier run's files.
        folder = Path(
            os.environ.setdefault(
                "PROMETHEUS_MULTIPROC_DIR", tempfile.mkdtemp(prefix="threadgate-metrics-")
            )
        )
        folder.mkdir(parents=True, exist_ok=True)
        for stale in folder.glob("*.db"):
            stale.unlink()
    uvicorn.run(
        "gateway.main:app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=workers,
        # uvicorn buffers a whole WebSocket message before the gateway's own size check:
        # keep this near THREADGATE_MAX_BODY_BYTES (raise both together).
        ws_max_size=1_048_576,
        # Frames are small JSON: compressing them costs more CPU than it saves, and a
        # zlib compressor and decompressor per open socket are most of its memory.
        ws_per_message_deflate=False,
        # Open streams close 3 s into a stop, so a rolling restart does not wait on
        # them; their clients rejoin on another gateway.
        timeout_graceful_shutdown=3,
    )


if __name__ == "__main__":
    serve()
