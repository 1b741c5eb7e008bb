"""A real Agent Server (`langgraph dev`) and real gateway processes on free ports."""

from __future__ import annotations

import hashlib
import json
import secrets
import subprocess
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from langgraph_sdk import get_client
from langgraph_sdk.client import LangGraphClient

from tests.fake_openai import FakeOpenAI
from tests.identity_provider import AUDIENCE, ISSUER, IdentityProvider
from tests.integration.helpers import (
    ALICE,
    ALICE_KEY,
    BOB,
    BOB_KEY,
    CAROL_KEY,
    DAVE_KEY,
    ERIN_KEY,
    FUZZ_KEY,
    TEAM,
    TEAM_ROLES,
)
from tests.webhook_receiver import WebhookReceiver
from tools.launcher import (
    DEFAULT_AGENT_JOBS,
    ROOT,
    StackError,
    free_port,
    start_agent_server,
    start_gateway,
    stop,
)

HOST = "127.0.0.1"
SERVICE_KEY = "test-service-key-" + secrets.token_hex(8)
# Users' JWTs come from this loopback JWKS; its keys are rotated by the tests.
IDP = IdentityProvider().start()
IDP.publish("k1")
# Every gateway and Agent Server the tests start share these, as production's compose
# file shares them: the service key and who the users are (alice's key stored hashed).
STACK_ENV = {
    "THREADGATE_SERVICE_KEY": SERVICE_KEY,
    "THREADGATE_API_KEYS": json.dumps(
        {
            "alice": "sha256:" + hashlib.sha256(ALICE_KEY.encode()).hexdigest(),
            "bob": BOB_KEY,
            "fuzz": FUZZ_KEY,
            "carol": CAROL_KEY,
            "dave": DAVE_KEY,
            "erin": ERIN_KEY,
        }
    ),
    "THREADGATE_TEAMS": json.dumps({TEAM: TEAM_ROLES}),
    "THREADGATE_JWT_JWKS_URL": IDP.jwks_url,
    "THREADGATE_JWT_ISSUER": ISSUER,
    "THREADGATE_JWT_AUDIENCE": AUDIENCE,
    # Short, so a key the provider stops publishing is dropped within the test.
    "THREADGATE_JWKS_CACHE_SECONDS": "2",
    # One user runs the whole suite; the caps are tested on a stack of their own.
    "THREADGATE_MAX_SCHEDULES_PER_USER": "1000",
    "THREADGATE_MAX_ACTIVE_RUNS_PER_USER": "1000",
}


@dataclass
class Stack:
    agent_url: str
    gateway_url: str
    model: FakeOpenAI
    logs: Path

    @property
    def ws_url(self) -> str:
        return self.gateway_url.replace("http://", "ws://") + "/api/workflow/execute/stream"


def _tail(path: Path, lines: int = 40) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def start_test_gateway(
    agent_url: str, logs: Path, name: str, env: dict[str, str] | None = None
) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port(HOST)
    # The child keeps its own copy of the log's descriptor; ours closes at once.
    with (logs / f"{name}.log").open("ab") as log:
        try:
            proc = start_gateway(
                host=HOST,
                port=port,
                agent_url=agent_url,
                log=log,
                env={**STACK_ENV, **(env or {})},
            )
        except StackError as exc:
            raise RuntimeError(f"{exc}\n{_tail(logs / f'{name}.log')}") from exc
    return proc, f"http://{HOST}:{port}"


def agent_server_env(model: FakeOpenAI | None) -> dict[str, str]:
    """The one place a test Agent Server's environment is built: the shared settings,
    and the loopback fake model (or, with none, the offline model). Step retries wait
    milliseconds, so tests of failing steps stay quick."""
    fast_retries = {
        "THREADGATE_STEP_RETRY_INITIAL_SECONDS": "0.05",
        "THREADGATE_STEP_RETRY_JITTER": "false",
    }
    if model is None:
        return {**STACK_ENV, **fast_retries, "THREADGATE_MODEL": "offline"}
    return {
        **STACK_ENV,
        **fast_retries,
        "THREADGATE_MODEL": "openai:fake-model",
        "OPENAI_BASE_URL": model.base_url,
        "OPENAI_API_KEY": "not-a-real-key",
    }


def loopback_webhooks_config(workdir: Path) -> Path:
    """The project's langgraph.json, except that webhooks may go to plain-http loopback,
    where the tests' receiver listens (production requires https and refuses loopback)."""
    config = json.loads((ROOT / "langgraph.json").read_text())
    config["dependencies"] = [str(ROOT) if d == "." else d for d in config["dependencies"]]
    policy = config.setdefault("webhooks", {}).setdefault("url", {})
    policy.update(disable_loopback=False, require_https=False)
    path = workdir / "langgraph.json"
    path.write_text(json.dumps(config, indent=2))
    return path


def start_test_agent_server(
    workdir: Path,
    model: FakeOpenAI | None,
    port: int | None = None,
    env: dict[str, str] | None = None,
) -> tuple[subprocess.Popen[bytes], str]:
    """`langgraph dev` on a free (or the given) port, its data and log in `workdir`;
    `env` adds to (or overrides) the shared settings."""
    port = port or free_port(HOST)
    with (workdir / "agent-server.log").open("ab") as log:
        try:
            proc = start_agent_server(
                host=HOST,
                port=port,
                workdir=workdir,
                log=log,
                env={**agent_server_env(model), **(env or {})},
                config=loopback_webhooks_config(workdir),
                jobs=int((env or {}).get("THREADGATE_AGENT_JOBS", DEFAULT_AGENT_JOBS)),
            )
        except StackError as exc:
            raise RuntimeError(f"{exc}\n{_tail(workdir / 'agent-server.log')}") from exc
    return proc, f"http://{HOST}:{port}"


@contextmanager
def stack_of_its_own(
    workdir: Path, model: FakeOpenAI | None, env: dict[str, str]
) -> Iterator[tuple[str, str]]:
    """An Agent Server and a gateway with settings of their own (a lower cap, say), both
    stopped on leaving, the Agent Server also when the gateway fails to start."""
    agent, agent_url = start_test_agent_server(workdir, model, env=env)
    try:
        gateway, gateway_url = start_test_gateway(agent_url, workdir, "gateway", env)
        try:
            yield agent_url, gateway_url
        finally:
            stop(gateway)
    finally:
        stop(agent)


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """One Agent Server whose model is a loopback fake OpenAI endpoint, and one gateway."""
    workdir = tmp_path_factory.mktemp("agent-server")
    model = FakeOpenAI().start()
    # Request lines on, so a failing test's gateway log shows each request (and the
    # request-id tests can find them); other gateways run with the default, off.
    logged = {"THREADGATE_REQUEST_LOGS": "true"}
    try:
        with stack_of_its_own(workdir, model, logged) as (agent_url, gateway_url):
            yield Stack(agent_url=agent_url, gateway_url=gateway_url, model=model, logs=workdir)
    finally:
        model.stop()


@pytest.fixture
def second_gateway(stack: Stack) -> Iterator[str]:
    """Another gateway process on the same Agent Server: a replica, or a restart."""
    proc, url = start_test_gateway(stack.agent_url, stack.logs, "gateway-2")
    try:
        yield url
    finally:
        stop(proc)


@pytest.fixture
async def gateway(stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=stack.gateway_url, timeout=30, headers=ALICE) as client:
        yield client


@pytest.fixture
async def bob(stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    """A second user of the same gateway."""
    async with httpx.AsyncClient(base_url=stack.gateway_url, timeout=30, headers=BOB) as client:
        yield client


@pytest.fixture
async def sdk(stack: Stack) -> AsyncIterator[LangGraphClient]:
    """Direct Agent Server access as alice, to check what the gateway did (or did not) write."""
    headers = {"x-threadgate-service-key": SERVICE_KEY, "x-threadgate-user": "alice"}
    client = get_client(url=stack.agent_url, api_key=None, headers=headers)
    try:
        yield client
    finally:
        await client.aclose()


@pytest.fixture(scope="session")
def webhooks() -> Iterator[WebhookReceiver]:
    """Where the tests' completion webhooks land (loopback; allowed by the test config)."""
    receiver = WebhookReceiver().start()
    try:
        yield receiver
    finally:
        receiver.stop()
