"""How many workers the image starts, and which client the gateway reaches the Agent
Server with."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from gateway import main
from gateway.agent.client import _transport
from gateway.agent.transport import AgentServerTransport
from gateway.settings import Settings


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
    monkeypatch.setattr(main, "cpu_quota", lambda _root: quota)
    assert main.default_workers() == workers


def cgroup(root: Path, files: dict[str, str]) -> Path:
    """A cgroup file system's files under `root`, as the kernel shows them."""
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text + "\n")
    return root


def v1(quota: str) -> dict[str, str]:
    return {"cpu/cpu.cfs_quota_us": quota, "cpu/cpu.cfs_period_us": "100000"}


@pytest.mark.parametrize(
    ("files", "quota"),
    [
        ({"cpu.max": "200000 100000"}, 2.0),  # v2: two cores
        ({"cpu.max": "50000 100000"}, 0.5),
        ({"cpu.max": "max 100000"}, None),  # v2: no limit
        ({"cpu.max": "max 100000", **v1("100000")}, None),  # v2 decides over v1 files
        (v1("150000"), 1.5),  # v1
        (v1("-1"), None),  # v1: no limit
        ({"cpu.max": "garbled", **v1("300000")}, 3.0),
        (v1("nonsense"), None),
        ({}, None),  # no cgroup at all
    ],
)
def test_the_cpu_quota_is_read_from_the_cgroup_files(
    tmp_path: Path, files: dict[str, str], quota: float | None
):
    assert main.cpu_quota(cgroup(tmp_path, files)) == quota


def test_workers_follow_a_quota_read_from_the_cgroup_files(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
):
    monkeypatch.setattr("os.sched_getaffinity", lambda _pid: set(range(64)))
    assert main.default_workers(cgroup(tmp_path / "v2", {"cpu.max": "150000 100000"})) == 2
    assert main.default_workers(cgroup(tmp_path / "v1", v1("300000"))) == 3
    unlimited = cgroup(tmp_path / "none", {"cpu.max": "max 100000"})
    assert main.default_workers(unlimited) == main.UNLIMITED_DEFAULT_WORKERS


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
