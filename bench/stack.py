"""A throwaway stack for a benchmark run: Agent Server and gateway on free ports."""

from __future__ import annotations

import importlib.metadata
import json
import os
import platform
import secrets
import statistics
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from langgraph_sdk import get_client
from langgraph_sdk.client import LangGraphClient

from tools.launcher import DEFAULT_AGENT_JOBS, free_port, start_agent_server, start_gateway, stop

HOST = "127.0.0.1"
USER_KEY = "bench-" + secrets.token_hex(8)


@dataclass
class BenchStack:
    agent_url: str
    gateway_url: str
    gateway_pid: int
    agent_pid: int
    service_key: str
    workdir: Path

    @property
    def headers(self) -> dict[str, str]:
        """What a gateway caller sends."""
        return {"X-API-Key": USER_KEY}

    def sdk(self) -> LangGraphClient:
        """A direct Agent Server client acting as the same user the gateway forwards."""
        headers = {"x-threadgate-service-key": self.service_key, "x-threadgate-user": "bench"}
        return get_client(url=self.agent_url, api_key=None, headers=headers)


@contextmanager
def bench_stack(
    extra_env: dict[str, str] | None = None, jobs: int = DEFAULT_AGENT_JOBS
) -> Iterator[BenchStack]:
    """An Agent Server running up to `jobs` runs at once (offline model unless
    `extra_env` names another) and a gateway in front of it; both stopped on leaving,
    the Agent Server also when the gateway fails to start."""
    service_key = secrets.token_urlsafe(32)
    env = {
        "THREADGATE_SERVICE_KEY": service_key,
        "THREADGATE_MODEL": "offline",
        **(extra_env or {}),
    }
    with tempfile.TemporaryDirectory(prefix="threadgate-bench-") as tmp, ExitStack() as logs:
        workdir = Path(tmp)
        agent_port, gateway_port = free_port(HOST), free_port(HOST)
        agent_log = logs.enter_context((workdir / "agent-server.log").open("wb"))
        gateway_log = logs.enter_context((workdir / "gateway.log").open("wb"))
        agent = start_agent_server(
            host=HOST, port=agent_port, workdir=workdir, log=agent_log, env=env, jobs=jobs
        )
        try:
            gateway = start_gateway(
                host=HOST,
                port=gateway_port,
                agent_url=f"http://{HOST}:{agent_port}",
                log=gateway_log,
                env={**env, "THREADGATE_API_KEYS": json.dumps({"bench": USER_KEY})},
            )
            try:
                yield BenchStack(
                    agent_url=f"http://{HOST}:{agent_port}",
                    gateway_url=f"http://{HOST}:{gateway_port}",
                    gateway_pid=gateway.pid,
                    agent_pid=agent.pid,
                    service_key=service_key,
                    workdir=workdir,
                )
            finally:
                stop(gateway)
        finally:
            stop(agent)


def median_p95(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[max(0, round(0.95 * len(ordered)) - 1)]


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for {pid}")


def run_record(began: str) -> dict[str, str]:
    """What every results file says about its run: when, on what, with which versions."""
    return {
        "started": began,
        "ended": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {len(os.sched_getaffinity(0))} cores",
        "python": platform.python_version(),
        "langgraph_api": importlib.metadata.version("langgraph-api"),
        "langgraph_runtime_inmem": importlib.metadata.version("langgraph-runtime-inmem"),
    }
