"""The production stack cannot be started here (no Docker engine), so its structure is
checked: services, healthchecks, start order, volumes, and no secret with a default."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).parents[2]
COMPOSE: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES: dict[str, Any] = COMPOSE["services"]
SECRET_NAME = re.compile(r"(KEY|PASSWORD|SECRET|TOKEN)", re.IGNORECASE)


def test_the_four_services_are_there():
    assert set(SERVICES) == {"redis", "postgres", "agent-server", "gateway"}


@pytest.mark.parametrize("name", ["redis", "postgres", "agent-server", "gateway"])
def test_every_service_has_a_healthcheck(name: str):
    check = SERVICES[name]["healthcheck"]
    assert check["test"] and check["interval"] and check["retries"]


def test_services_start_only_after_what_they_need_is_healthy():
    assert SERVICES["agent-server"]["depends_on"] == {
        "redis": {"condition": "service_healthy"},
        "postgres": {"condition": "service_healthy"},
    }
    assert SERVICES["gateway"]["depends_on"] == {"agent-server": {"condition": "service_healthy"}}


def test_data_lives_in_named_volumes():
    assert "postgres-data:/var/lib/postgresql/data" in SERVICES["postgres"]["volumes"]
    assert "redis-data:/data" in SERVICES["redis"]["volumes"]
    assert set(COMPOSE["volumes"]) == {"postgres-data", "redis-data"}


def test_agent_server_gets_its_database_queue_licence_and_service_key():
    env = SERVICES["agent-server"]["environment"]
    assert env["REDIS_URI"] == "redis://redis:6379"
    assert env["DATABASE_URI"].startswith("postgres://threadgate:${POSTGRES_PASSWORD:?")
    assert env["LANGSMITH_API_KEY"].startswith("${LANGSMITH_API_KEY:?")
    gateway_env = SERVICES["gateway"]["environment"]
    assert gateway_env["THREADGATE_AGENT_URL"] == "http://agent-server:8000"
    assert env["THREADGATE_SERVICE_KEY"] == gateway_env["THREADGATE_SERVICE_KEY"]


def test_no_secret_has_a_default_value():
    for name, service in SERVICES.items():
        for var, value in (service.get("environment") or {}).items():
            refs = re.findall(r"\$\{([A-Z_]+)(:?[-?])?([^}]*)\}", str(value))
            for ref, op, _default in refs:
                if SECRET_NAME.search(ref):
                    assert op == ":?", f"{name}.{var}: ${{{ref}}} must be required (:?)"
            if SECRET_NAME.search(var) and not refs:
                pytest.fail(f"{name}.{var} is a literal secret")


def test_the_gateway_can_run_as_many_replicas():
    gateway = SERVICES["gateway"]
    assert "container_name" not in gateway
    assert gateway["deploy"]["replicas"] == "${GATEWAY_REPLICAS:-1}"
    assert re.fullmatch(r"\$\{THREADGATE_PORTS:-\d+-\d+\}:8002", gateway["ports"][0])


def test_the_agent_server_image_is_what_langgraph_dockerfile_generates(tmp_path: Path):
    generated = tmp_path / "Dockerfile"
    subprocess.run(
        [
            str(Path(sys.executable).parent / "langgraph"),
            "dockerfile",
            "-c",
            str(ROOT / "langgraph.json"),
            str(generated),
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    ours = (ROOT / "deploy" / "agent.Dockerfile").read_text()
    body = "\n".join(
        line
        for line in ours.splitlines()
        if not line.startswith("# The Agent") and not line.startswith("# official")
    )

    # The generator names the folder under /deps after the checkout's own folder name.
    def same_folder(text: str) -> str:
        return re.sub(r"/deps/[^/\s]+", "/deps/<checkout>", text).strip()

    assert same_folder(generated.read_text()) == same_folder(body)
    assert generated.read_text().startswith("FROM langchain/langgraph-api:")
    assert SERVICES["agent-server"]["build"]["dockerfile"] == "deploy/agent.Dockerfile"
