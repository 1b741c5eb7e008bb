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
    settings = settings_or_exit()
    configure_logging(settings.log_level, settings.log_format, settings.request_logs)
    return create_app(settings)


def settings_or_exit() -> Settings:
    """The settings, or one line per problem and exit code 2."""
    try:
        return get_settings()
    except ValidationError as exc:
        logging.basicConfig(format="%(levelname)s %(message)s")
        for line in config_problems(exc):
            logger.error("configuration: %s", line)
        sys.exit(2)


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


# Without a CPU quota a container sees every core of its host: do not start dozens of
# workers (each with its own Agent Server connection pool) on a big host by default.
UNLIMITED_DEFAULT_WORKERS = 4
CGROUP_ROOT = Path("/sys/fs/cgroup")


def default_workers(cgroup_root: Path = CGROUP_ROOT) -> int:
    """One worker per core the container is given: its CPU quota (cgroup v2 or v1), else
    its CPU set, at most UNLIMITED_DEFAULT_WORKERS when no quota is set."""
    cores = len(os.sched_getaffinity(0))
    quota = cpu_quota(cgroup_root)
    if quota is None:
        return min(cores, UNLIMITED_DEFAULT_WORKERS)
    return max(1, min(cores, math.ceil(quota)))


def cpu_quota(cgroup_root: Path = CGROUP_ROOT) -> float | None:
    """Cores' worth of CPU time the cgroup mounted at `cgroup_root` allows, if it limits it."""
    try:
        quota, period = (cgroup_root / "cpu.max").read_text().split()
        return None if quota == "max" else int(quota) / int(period)
    except (OSError, ValueError):
        pass
    try:
        v1 = cgroup_root / "cpu"
        quota_us = int((v1 / "cpu.cfs_quota_us").read_text())
        period_us = int((v1 / "cpu.cfs_period_us").read_text())
    except (OSError, ValueError):
        return None
    return None if quota_us <= 0 else quota_us / period_us


def serve(argv: list[str] | None = None) -> None:
    """Run `THREADGATE_WORKERS` uvicorn workers (default: one per core it is given)."""
    parser = argparse.ArgumentParser(prog="python -m gateway.main")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8002)
    args = parser.parse_args(argv)
    # Checked here, once: a worker that exits on bad settings would be restarted by
    # uvicorn's supervisor for ever instead of stopping the container.
    settings = settings_or_exit()
    workers = settings.workers or default_workers()
    if workers > 1:
        _fresh_metrics_folder()
    uvicorn.run(
        "gateway.main:app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=workers,
        # uvicorn buffers a whole WebSocket message before the gateway's own size check
        # (which answers `payload_too_large`): let a little more than the limit through.
        ws_max_size=settings.max_body_bytes + 65_536,
        # Frames are small JSON: compressing them costs more CPU than it saves, and a
        # zlib compressor and decompressor per open socket are a third of its memory.
        ws_per_message_deflate=False,
        # Open streams close 3 s into a stop, so a rolling restart does not wait on
        # them; their clients rejoin on another gateway.
        timeout_graceful_shutdown=3,
    )


def _fresh_metrics_folder() -> None:
    """Each worker counts its own metrics; prometheus_client's multiprocess mode sums
    them on a scrape, from files that must not be left from an earlier run."""
    folder = Path(
        os.environ.setdefault(
            "PROMETHEUS_MULTIPROC_DIR", tempfile.mkdtemp(prefix="threadgate-metrics-")
        )
    )
    folder.mkdir(parents=True, exist_ok=True)
    for kind in ("counter", "gauge", "histogram", "summary"):
        for stale in folder.glob(f"{kind}_*.db"):
            stale.unlink()


if __name__ == "__main__":
    serve()
