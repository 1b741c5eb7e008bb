"""The production path, `langgraph up -d docker-compose.yml`, checked without Docker.

The real langgraph-cli runs with a stand-in `docker` first on PATH that answers the
CLI's capability probe and records every call and the compose file piped to it. The
test then merges that file with docker-compose.yml as compose does and checks that
the result is one stack: the platform's Agent Server, its Postgres and Redis, and the
gateway pointing at it with the same keys.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).parents[2]
LANGGRAPH = Path(sys.executable).parent / "langgraph"
OURS: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
CONFIG: dict[str, Any] = json.loads((ROOT / "langgraph.json").read_text())
SECRET_NAME = re.compile(r"(KEY|PASSWORD|SECRET|TOKEN)", re.IGNORECASE)
# What an operator exports before `langgraph up` (see the README's production section).
OPERATOR_ENV = {
    "THREADGATE_SERVICE_KEY": "s" * 32,
    "THREADGATE_API_KEYS": '{"alice": "sha256:00"}',
    "LANGSMITH_API_KEY": "lsv2-test",
}

STAND_IN_DOCKER = """#!{python}
# Records each call (arguments and standard input) and answers `docker info`.
import json, os, sys
args = sys.argv[1:]
stdin = sys.stdin.read() if "-" in args else ""
with open(os.environ["DOCKER_CALLS"], "a") as log:
    log.write(json.dumps({{"args": args, "stdin": stdin}}) + "\\n")
if args[:1] == ["info"]:
    plugins = [{{"Name": "compose", "Version": "2.36.0"}}]
    print(json.dumps({{"ServerVersion": "28.2.2", "ClientInfo": {{"Plugins": plugins}}}}))
"""


@pytest.fixture(scope="module")
def calls(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    """Run the real `langgraph up -d docker-compose.yml --wait`; what it asked docker."""
    bin_dir = tmp_path_factory.mktemp("stand-in-docker")
    docker = bin_dir / "docker"
    docker.write_text(STAND_IN_DOCKER.format(python=sys.executable))
    docker.chmod(0o755)
    log = bin_dir / "calls.jsonl"
    env = {
        **os.environ,
        **OPERATOR_ENV,
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "DOCKER_CALLS": str(log),
    }
    result = subprocess.run(
        [str(LANGGRAPH), "up", "-d", "docker-compose.yml", "--wait"],
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return [json.loads(line) for line in log.read_text().splitlines()]


@pytest.fixture(scope="module")
def generated(calls: list[dict[str, Any]]) -> dict[str, Any]:
    """The compose file the CLI piped to `docker compose -f -`."""
    (compose,) = [c for c in calls if c["args"][:1] == ["compose"]]
    found: dict[str, Any] = yaml.safe_load(compose["stdin"])
    return found


@pytest.fixture(scope="module")
def stack(generated: dict[str, Any]) -> dict[str, Any]:
    """docker-compose.yml, interpolated from the operator's environment, then the
    generated file on top: the order of the CLI's `-f` options, later files winning."""
    merged: dict[str, Any] = merge(interpolate(OURS, OPERATOR_ENV), generated)
    return merged


def interpolate(value: Any, env: dict[str, str]) -> Any:
    """Compose's `${VAR:?msg}` / `${VAR:-default}` and valueless environment entries."""
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if item is None and str(key).isupper():
                if key in env:  # a variable with no value comes from the environment
                    out[key] = env[key]
                continue
            out[key] = interpolate(item, env)
        return out
    if isinstance(value, list):
        return [interpolate(item, env) for item in value]
    if not isinstance(value, str):
        return value

    def one(match: re.Match[str]) -> str:
        name, op, arg = match.group(1), match.group(2), match.group(3)
        if op == ":?" and not env.get(name):
            raise AssertionError(f"compose would stop: {arg}")
        return env.get(name) or (arg if op == ":-" else "")

    return re.sub(r"\$\{([A-Z0-9_]+)(?:(:[?-])([^}]*))?\}", one, value)


def merge(base: Any, override: Any) -> Any:
    """Compose's merge for the keys used here: maps merge, port lists add up."""
    if isinstance(base, dict) and isinstance(override, dict):
        merged = dict(base)
        for key, value in override.items():
            merged[key] = merge(base[key], value) if key in base else value
        return merged
    if isinstance(base, list) and isinstance(override, list):
        return base + [item for item in override if item not in base]
    return override


def dockerfile_env(service: dict[str, Any]) -> dict[str, Any]:
    """The ENV lines of the Agent Server image the CLI builds, as JSON."""
    inline = service["build"]["dockerfile_inline"]
    found = re.findall(r"^\s*ENV (\w+)='(.*)'$", inline, re.MULTILINE)
    return {name: json.loads(value) for name, value in found}


def test_langgraph_up_probes_docker_then_starts_one_compose_project(calls):
    assert [c["args"][0] for c in calls] == ["info", "pull", "compose"]
    assert calls[1]["args"] == ["pull", "langchain/langgraph-api:3.11"]
    assert calls[2]["args"] == [
        "compose",
        "--project-directory",
        str(ROOT),
        "-f",
        str(ROOT / "docker-compose.yml"),
        "-f",
        "-",
        "up",
        "--remove-orphans",
        "--wait",
    ]


def test_one_stack_the_platform_and_the_gateway(stack):
    services = stack["services"]
    assert set(services) == {"langgraph-api", "langgraph-postgres", "langgraph-redis", "gateway"}
    # Exactly one Agent Server: ours only extends the platform's, it runs no second one.
    builds = [name for name, s in services.items() if "langgraph-api" in json.dumps(s.get("build"))]
    assert builds == ["langgraph-api"]
    assert set(OURS["services"]) == {"langgraph-api", "gateway"}
    assert set(OURS["services"]["langgraph-api"]) == {"environment", "healthcheck"}


def test_the_gateway_reaches_the_agent_server_with_the_same_keys(stack):
    api, gateway = stack["services"]["langgraph-api"], stack["services"]["gateway"]
    assert gateway["environment"]["THREADGATE_AGENT_URL"] == "http://langgraph-api:8000"
    assert any(str(port).endswith(":8000") for port in api["ports"])
    for name in ("THREADGATE_SERVICE_KEY", "THREADGATE_API_KEYS"):
        assert api["environment"][name] == gateway["environment"][name] == OPERATOR_ENV[name]
    # The platform's own settings survive the merge.
    assert api["environment"]["POSTGRES_URI"].startswith("postgres://")
    assert api["environment"]["REDIS_URI"] == "redis://langgraph-redis:6379"
    assert api["environment"]["LANGSMITH_API_KEY"] == "lsv2-test"


def test_unset_optional_settings_stay_unset(stack):
    """A JWT setting nobody exported must not reach a container as an empty value."""
    for service in ("langgraph-api", "gateway"):
        env = stack["services"][service]["environment"]
        assert "THREADGATE_JWT_HS256_SECRET" not in env
        assert "THREADGATE_JWT_JWKS_URL" not in env


def test_jwt_users_need_no_api_keys():
    """A team on JWT exports THREADGATE_JWT_* instead; nothing demands THREADGATE_API_KEYS."""
    jwt_only = {"THREADGATE_SERVICE_KEY": "s" * 32, "THREADGATE_JWT_JWKS_URL": "https://idp/jwks"}
    services = interpolate(OURS, jwt_only)["services"]
    for service in ("langgraph-api", "gateway"):
        env = services[service]["environment"]
        assert env["THREADGATE_JWT_JWKS_URL"] == "https://idp/jwks"
        assert "THREADGATE_API_KEYS" not in env


def test_every_service_is_health_checked_and_starts_after_what_it_needs(stack):
    services = stack["services"]
    for name, service in services.items():
        assert service["healthcheck"]["test"], name
    healthy = {"condition": "service_healthy"}
    assert services["langgraph-api"]["depends_on"] == {
        "langgraph-redis": healthy,
        "langgraph-postgres": healthy,
    }
    assert services["gateway"]["depends_on"] == {"langgraph-api": healthy}


def test_the_agent_server_image_carries_the_ttls_auth_and_graph_of_langgraph_json(stack):
    env = dockerfile_env(stack["services"]["langgraph-api"])
    assert env["LANGGRAPH_CHECKPOINTER"] == CONFIG["checkpointer"]
    assert env["LANGGRAPH_STORE"] == CONFIG["store"]
    assert env["LANGGRAPH_AUTH"] == {"path": "agents.auth:auth", "disable_studio_auth": True}
    assert env["LANGSERVE_GRAPHS"] == CONFIG["graphs"]


def test_the_agent_server_image_installs_the_agent_extra(stack):
    inline = stack["services"]["langgraph-api"]["build"]["dockerfile_inline"]
    (line,) = [ln for ln in inline.splitlines() if "langchain-openai" in ln]
    # The CLI writes the requirements unquoted into a shell line: each must be one word.
    words = shlex.split(line.strip().removeprefix("RUN "))
    for requirement in agent_extra():
        assert requirement in words
        assert not re.search(r"[<>|&;\s]", requirement), requirement


def agent_extra() -> list[str]:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    extra: list[str] = pyproject["project"]["optional-dependencies"]["agent"]
    return extra


def test_langgraph_json_lists_exactly_the_agent_extra():
    """langgraph-cli installs the local package without extras, so the list is repeated."""
    assert CONFIG["dependencies"] == [".", *agent_extra()]


def test_no_secret_has_a_default_value():
    text = (ROOT / "docker-compose.yml").read_text()
    for name, op, default in re.findall(r"\$\{([A-Z0-9_]+)(:?[-?])?([^}]*)\}", text):
        if SECRET_NAME.search(name):
            assert op == ":?" or (op == ":-" and default == ""), f"{name} has a default"


def test_the_gateway_image_installs_the_gateway_only():
    dockerfile = (ROOT / "deploy" / "gateway.Dockerfile").read_text()
    copies = re.findall(r"^COPY (.+) \S+$", dockerfile, re.MULTILINE)
    assert copies == ["pyproject.toml README.md", "agents", "gateway"]
    assert "pip install --no-cache-dir . " in dockerfile  # no extras: no agent stack


def test_the_agent_server_is_health_checked_on_any_docker_version():
    """The CLI adds its healthcheck only on Docker 25+; the gateway's start waits on one."""
    assert OURS["services"]["langgraph-api"]["healthcheck"]["test"]


def test_every_gateway_setting_can_reach_the_gateway():
    from gateway.settings import Settings

    passed = set(OURS["services"]["gateway"]["environment"])
    wanted = {f"THREADGATE_{name.upper()}" for name in Settings.model_fields}
    # Development-only, or a file the container would need mounted.
    wanted -= {"THREADGATE_AUTH_DISABLED", "THREADGATE_JWT_PUBLIC_KEY_FILE"}
    assert wanted <= passed, sorted(wanted - passed)


def test_production_webhooks_go_only_to_public_https_hosts():
    """The deployed policy (the tests' own copy relaxes it for their loopback receiver)."""
    policy = CONFIG["webhooks"]["url"]
    assert policy["require_https"] is True
    assert policy["disable_loopback"] is True
    assert policy["disable_private_ips"] is True
