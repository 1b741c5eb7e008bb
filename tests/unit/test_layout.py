"""The tree's architecture, enforced: imports point down, never up.

gateway.api        the HTTP face: may import threads, workflows, settings, agents.contract
gateway.threads    the Agent Server side: never the HTTP face (no fastapi, no gateway.api)
gateway.workflows  pure: JSON in, plan out; no I/O libraries, nothing else of the gateway
gateway.cli        talks to the gateway over HTTP only: imports nothing else of it
agents             the deployed graph: never imports gateway
tools              development tooling: nothing served imports it
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]

# package -> module prefixes its files must not import
FORBIDDEN: dict[str, tuple[str, ...]] = {
    "gateway/threads": ("gateway.api", "gateway.cli", "fastapi", "starlette", "tools"),
    "gateway/workflows": (
        "gateway.api",
        "gateway.threads",
        "gateway.cli",
        "gateway.settings",
        "httpx",
        "langgraph_sdk",
        "fastapi",
        "tools",
    ),
    "gateway/cli": ("gateway.api", "gateway.threads", "gateway.workflows", "gateway.settings"),
    "gateway/api": ("gateway.cli", "tools"),
    "agents": ("gateway", "tools"),
}


def imports(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append(node.module)
    return found


@pytest.mark.parametrize("package", list(FORBIDDEN))
def test_imports_point_down(package: str):
    wrong = [
        f"{path.relative_to(ROOT)} imports {name}"
        for path in sorted((ROOT / package).rglob("*.py"))
        for name in imports(path)
        if any(name == bad or name.startswith(bad + ".") for bad in FORBIDDEN[package])
    ]
    assert not wrong, "\n".join(wrong)


def test_no_module_in_the_served_packages_is_a_kitchen_sink():
    for package in ("gateway", "agents"):
        for path in (ROOT / package).rglob("*.py"):
            assert len(path.read_text().splitlines()) <= 270, path


def test_the_gateway_package_shows_its_concerns():
    flat = {p.name for p in (ROOT / "gateway").glob("*.py")}
    assert flat == {"__init__.py", "main.py", "settings.py"}
    folders = {p.name for p in (ROOT / "gateway").iterdir() if (p / "__init__.py").exists()}
    assert folders == {"api", "threads", "workflows", "cli"}
