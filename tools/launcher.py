"""Start the embedded stack: an in-memory Agent Server (`langgraph dev`) and the gateway.

`make up` runs `main()`; the integration tests use the same functions, so what the
tests start is what a person starts. `langgraph dev` silently moves to another port
when its port is busy, so ports are checked first and `/ok` is asked on the exact port.
"""

from __future__ import annotations

import fcntl
import logging
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Any

import httpx
from dotenv import dotenv_values

logger = logging.getLogger("threadgate.launcher")

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


class StackError(RuntimeError):
    """A part of the stack could not start; the message says which and why."""


def port_is_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def require_free(host: str, port: int, what: str, variable: str) -> None:
    if not port_is_free(host, port):
        raise StackError(f"{what} port {host}:{port} is in use; free it or set {variable}")


def wait_until_ok(url: str, proc: subprocess.Popen[Any], what: str, timeout: float) -> None:
    """Poll `url` until it answers 200; fail loudly if the process dies or time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise StackError(f"{what} exited with code {proc.returncode} before answering {url}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise StackError(f"{what} did not answer {url} within {timeout:.0f} s")


def answering(
    proc: subprocess.Popen[bytes], url: str, what: str, timeout: float
) -> subprocess.Popen[bytes]:
    """`proc` once `url` answers; stopped if it never does, or if the wait is interrupted
    (it runs in its own session, so a Ctrl-C during the wait would not reach it)."""
    try:
        wait_until_ok(url, proc, what, timeout)
    except BaseException:
        stop(proc)
        raise
    return proc


def agent_server_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    env = {**os.environ, "LANGSMITH_TRACING": "false", "LANGGRAPH_NO_VERSION_CHECK": "true"}
    return {**env, **(extra or {})}


# Runs the embedded Agent Server works on at once (THREADGATE_AGENT_JOBS).
DEFAULT_AGENT_JOBS = 10


def start_agent_server(
    *,
    host: str,
    port: int,
    workdir: Path,
    log: IO[bytes] | int | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float = 90,
    config: Path = ROOT / "langgraph.json",
    jobs: int = DEFAULT_AGENT_JOBS,
) -> subprocess.Popen[bytes]:
    """`langgraph dev` on exactly host:port, keeping its data in `workdir/.langgraph_api`,
    running up to `jobs` runs at once."""
    require_free(host, port, "agent server", "THREADGATE_AGENT_PORT")
    command = [
        str(BIN / "langgraph"),
        "dev",
        "--no-browser",
        "--no-reload",
        "--host",
        host,
        "--port",
        str(port),
        "--config",
        str(config),
        # `langgraph dev` runs one run at a time unless told (its --help says 10).
        "--n-jobs-per-worker",
        str(jobs),
    ]
    proc = subprocess.Popen(
        command,
        cwd=workdir,
        env=agent_server_env(env),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    return answering(proc, f"http://{host}:{port}/ok", "agent server", timeout)


def start_gateway(
    *,
    host: str,
    port: int,
    agent_url: str,
    log: IO[bytes] | int | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float = 30,
) -> subprocess.Popen[bytes]:
    """The gateway under uvicorn on host:port, talking to `agent_url`."""
    require_free(host, port, "gateway", "THREADGATE_PORT")
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "gateway.main:app",
        "--factory",
        "--host",
        host,
        "--port",
        str(port),
        # Open streams would hold a stop until killed: close them after a few seconds
        # (their clients rejoin the run on any gateway).
        "--timeout-graceful-shutdown",
        "3",
        # As the image runs it (gateway/main.py `serve`): frames are small JSON.
        "--ws-per-message-deflate",
        "false",
    ]
    proc = subprocess.Popen(
        command,
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        env={**os.environ, **(env or {}), "THREADGATE_AGENT_URL": agent_url},
    )
    return answering(proc, f"http://{host}:{port}/healthz", "gateway", timeout)


def stop(proc: subprocess.Popen[bytes], timeout: float = 20) -> None:
    """Ctrl-C, as a person would, so the in-memory runtime flushes to disk; kill if stuck."""
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        logger.warning("process %s ignored Ctrl-C for %.0f s; killing it", proc.pid, timeout)
        proc.kill()
        proc.wait()


def _interrupt(signum: int, _frame: object) -> None:
    raise KeyboardInterrupt(signal.Signals(signum).name)


def local_env() -> dict[str, str]:
    """Settings for both processes: `.env` in the checkout (the environment wins), plus
    what `make up` fills in when the person running it has not.

    The service key only has to be shared by the two processes started here, so a
    fresh random one is made per start. With no API keys or JWT configured, the gateway
    runs with authentication explicitly off, and says so in its log.
    """
    from_file = {k: v for k, v in dotenv_values(ROOT / ".env").items() if v is not None}
    env: dict[str, str] = {k: v for k, v in from_file.items() if k not in os.environ}
    given = {**env, **os.environ}
    if not given.get("THREADGATE_SERVICE_KEY"):
        env["THREADGATE_SERVICE_KEY"] = secrets.token_urlsafe(32)
    auth_vars = (
        "THREADGATE_API_KEYS",
        "THREADGATE_JWT_HS256_SECRET",
        "THREADGATE_JWT_PUBLIC_KEY_FILE",
        "THREADGATE_JWT_JWKS_URL",
        "THREADGATE_AUTH_DISABLED",
    )
    if not any(given.get(v) for v in auth_vars):
        env["THREADGATE_AUTH_DISABLED"] = "true"
    return env


def hold_data_folder(folder: Path) -> IO[bytes]:
    """An exclusive lock on the data folder for as long as this stack runs."""
    lock = (folder / "threadgate-up.lock").open("ab")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        lock.close()
        raise StackError(
            f"{folder} is in use by another `make up`; stop it, or give this one its own "
            "THREADGATE_DATA_DIR"
        ) from None
    return lock


def last_line(data_folder: Path) -> str:
    """The last line the agent server wrote to its log in `data_folder`."""
    lines = (data_folder / "agent-server.log").read_text(errors="replace").splitlines()
    return next((line for line in reversed(lines) if line.strip()), "(nothing)")


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    # SIGTERM (a service manager) stops the stack as cleanly as Ctrl-C does; a shell
    # that started us in the background may have set SIGINT to "ignore", so set both.
    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)
    env = local_env()
    given = {**env, **os.environ}  # .env's settings, the environment winning
    host = given.get("THREADGATE_HOST", "127.0.0.1")
    agent_port = int(given.get("THREADGATE_AGENT_PORT", "8123"))
    gateway_port = int(given.get("THREADGATE_PORT", "8002"))
    agent_url = f"http://{host}:{agent_port}"
    procs: list[subprocess.Popen[bytes]] = []
    logs: list[IO[bytes]] = []
    try:
        workdir = Path(given.get("THREADGATE_DATA_DIR", ROOT)).resolve()
        (workdir / ".langgraph_api").mkdir(parents=True, exist_ok=True)
        # Everything is checked before anything starts: a server started and then left
        # behind by a failed start would write its data over a running stack's on exit.
        require_free(host, agent_port, "agent server", "THREADGATE_AGENT_PORT")
        require_free(host, gateway_port, "gateway", "THREADGATE_PORT")
        logs.append(hold_data_folder(workdir / ".langgraph_api"))
        server_log = (workdir / ".langgraph_api" / "agent-server.log").open("ab")
        logs.append(server_log)
        # Another langgraph.json (one that allows loopback webhooks, say) for development.
        config = Path(given.get("THREADGATE_AGENT_CONFIG", ROOT / "langgraph.json")).resolve()
        logger.info("starting the agent server (langgraph dev, in-memory) on %s", agent_url)
        logger.info("its configuration: %s", config)
        logger.info("its log: %s", server_log.name)
        procs.append(
            start_agent_server(
                host=host,
                port=agent_port,
                workdir=workdir,
                log=server_log,
                env=env,
                jobs=int(given.get("THREADGATE_AGENT_JOBS", DEFAULT_AGENT_JOBS)),
                config=config,
            )
        )
        logger.info("starting the gateway on http://%s:%s", host, gateway_port)
        procs.append(start_gateway(host=host, port=gateway_port, agent_url=agent_url, env=env))
        logger.info(
            "Threadgate is up.\n  gateway:      http://%s:%s  (API docs at /docs)\n"
            "  agent server: %s\nPress Ctrl-C to stop both.",
            host,
            gateway_port,
            agent_url,
        )
        if env.get("THREADGATE_AUTH_DISABLED") == "true":
            logger.warning(
                "No users configured: the gateway lets anyone in as 'dev', and SDK scripts "
                "cannot reach the agent server. Give users keys with THREADGATE_API_KEYS "
                "(README: Security model)."
            )
        while all(p.poll() is None for p in procs):
            time.sleep(0.5)
        logger.error("a process of the stack exited; stopping the rest")
        return 1
    except StackError as exc:
        logger.error("%s", exc)
        if procs == [] and "agent server exited" in str(exc):
            # Its reason (a bad setting, say) is the last line of its log, under a traceback.
            logger.error("the agent server said: %s", last_line(workdir / ".langgraph_api"))
        return 1
    except KeyboardInterrupt:
        logger.info("stopping; the agent server flushes its data to .langgraph_api/")
        return 0
    finally:
        for proc in reversed(procs):
            stop(proc)
        for log in logs:
            log.close()


if __name__ == "__main__":
    sys.exit(main())
