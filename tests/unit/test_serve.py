"""How many workers the image starts, and which client the gateway reaches the Agent
Server with."""

from __future__ import annotations

import httpx
import pytest

from gateway import main
from gateway.settings import Settings
from gateway.threads.agent import _transport
from gateway.threads.transport import AgentServerTransport


@pytest.mark.parametrize(
    ("cores", "quota", "workers"),
    [
        (2, None, 2),  # no quota: the CPU set
        (64, None, main.UNLIMITED_DEFAULT_WORKERS),  # a big host without a quota: capped
        (64, 2.0, 2),  # a quota of two cores
        (64, 1.5, 2),  # a part core counts as one
        (4, 0.25, 1),  # less than a core: still one worker
        (2, 8.0, 2),  # a quota above the CPU set: the CPU set
    ],
)
def test_default_workers_follow_the_cores_the_container_is_given(
    monkeypatch: pytest.MonkeyPatch, cores: int, quota: float | None, workers: int
):
    monkeypatch.setattr("os.sched_getaffinity", lambda _pid: set(range(cores)))
    monkeypatch.setattr(main, "_cpu_quota", lambda: quota)
    assert main.default_workers() == workers


def test_workers_setting_is_bounded(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("THREADGATE_SERVICE_KEY", "x" * 16)
    monkeypatch.setenv("THREADGATE_AUTH_DISABLED", "true")
    assert Settings(workers=3).workers == 3
    for wrong in (0, 65):
        with pytest.raises(ValueError, match="workers"):
            Settings(workers=wrong)


def test_the_agent_transport_is_aiohttp_unless_httpx_is_asked_for(
    monkeypatch: pytest.MonkeyPatch,
):
    monkeypatch.setenv("THREADGATE_SERVICE_KEY", "x" * 16)
    monkeypatch.setenv("THREADGATE_AUTH_DISABLED", "true")
    assert isinstance(_transport(Settings()), AgentServerTransport)
    plain = _transport(Settings(agent_transport="httpx"))
    assert isinstance(plain, httpx.AsyncHTTPTransport)
