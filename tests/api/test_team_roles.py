"""The README's tables of least team roles, read against what the code declares: each
gateway route's dependency, and the ability the Agent Server's auth asks per action."""

from __future__ import annotations

import importlib
import pkgutil
import re
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from fastapi.routing import APIRoute, APIWebSocketRoute

from agents.auth import _ability
from agents.teams import LEAST_ROLE, Ability
from gateway.api import routes as routes_package

README = (Path(__file__).parents[2] / "README.md").read_text()
TEAMS = README[README.index("## Teams") : README.index("## Scripts and frontends")]
ROUTE_ROWS = dict(
    re.findall(r"^\| `((?:GET|POST|PUT|PATCH|DELETE|WS) [^`]+)` \| ([^|]+) \|$", TEAMS, re.M)
)
ACTION = r"^\| (\w+)(?: \([^)]*\))? \| ([\w, ]+) \| ([^|]+) \|$"
ACTION_ROWS = [row for row in re.findall(ACTION, TEAMS, re.M) if row[0] != "resource"]
# Decided by the thread, not by the route's dependency (see gateway.threads.control).
RESUME = "POST /api/threads/{thread_id}/resume"
# A WebSocket checks the role inside its session (browsers may name the team late).
SOCKETS = {
    "WS /api/workflow/execute/stream": "operator",
    "WS /api/threads/{thread_id}/stream": "viewer",
}


def declared_ability(route: APIRoute) -> Ability | None:
    stack = list(route.dependant.dependencies)
    while stack:
        dependency = stack.pop()
        ability = getattr(dependency.call, "ability", None)
        if ability is not None:
            return Ability(ability)
        stack += dependency.dependencies
    return None


def api_routes() -> dict[str, Any]:
    """Every route of every router the app includes, as "METHOD /path"."""
    routes: dict[str, Any] = {}
    for module in pkgutil.iter_modules(routes_package.__path__):
        router = getattr(
            importlib.import_module(f"{routes_package.__name__}.{module.name}"), "router", None
        )
        for route in getattr(router, "routes", []):
            if isinstance(route, APIRoute) and route.path.startswith("/api/"):
                for method in (route.methods or set()) - {"HEAD"}:
                    routes[f"{method} {route.path}"] = route
            elif isinstance(route, APIWebSocketRoute):
                routes[f"WS {route.path}"] = route
    return routes


def test_every_route_has_a_row_and_each_row_a_route():
    routes = api_routes()
    assert set(ROUTE_ROWS) == set(routes)
    for name, route in routes.items():
        documented = ROUTE_ROWS[name].strip()
        if name == RESUME:
            assert documented.startswith("approver to answer") and "operator" in documented
        elif name in SOCKETS:
            assert documented == SOCKETS[name]
        else:
            ability = declared_ability(route)
            assert ability is not None, f"{name} names no role"
            assert documented.split(" ")[0] == LEAST_ROLE[ability].value, name


@pytest.mark.parametrize(("resource", "actions", "role"), ACTION_ROWS)
def test_each_agent_server_action_needs_the_documented_role(resource: str, actions: str, role: str):
    for action in (a.strip() for a in actions.split(",")):
        ctx: Any = SimpleNamespace(resource=resource, action=action)
        assert LEAST_ROLE[_ability(ctx, {})].value == role.split(" ")[0].rstrip(";"), action
    if "create_run" in actions:
        answer = {"kwargs": {"command": {"resume": {"approved": True}}}}
        ctx = SimpleNamespace(resource=resource, action="create_run")
        assert _ability(ctx, answer) is Ability.APPROVE and "approver" in role


def test_the_action_table_was_read():
    assert len(ACTION_ROWS) == 11 and len(ROUTE_ROWS) >= 30
