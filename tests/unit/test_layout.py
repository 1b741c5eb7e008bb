"""The tree's architecture as rules: which package may import which, never up.

The HTTP face (`gateway.api`) sits on top; below it the packages that act on the Agent
Server, each importing only those under it; `gateway.workflows` is pure at the bottom;
`gateway.cli` talks HTTP and imports nothing of the gateway; `agents` never imports it.
A new package says where it sits by its entry in MAY_IMPORT.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
GATEWAY = ROOT / "gateway"

# Package -> the gateway packages and flat modules it may import (besides itself).
SHARED = {"errors", "settings"}
MAY_IMPORT: dict[str, set[str]] = {
    "api": {"agent", "audit", "threads", "library", "schedules", "workflows"} | SHARED,
    "audit": {"agent"} | SHARED,
    "schedules": {"agent", "threads", "library", "workflows"} | SHARED,
    "library": {"agent", "threads", "workflows"} | SHARED,
    "threads": {"agent", "workflows"} | SHARED,
    "agent": SHARED,
    "workflows": {"errors"},
    "cli": set(),
}
# Only the HTTP face speaks HTTP-server; the pure parser does no I/O at all.
BELOW_THE_FACE = ("fastapi", "starlette")
NO_IO = ("httpx", "aiohttp", "langgraph_sdk", "fastapi", "starlette")
# Past this a module is most likely several concerns: a prompt to look (the style
# guide's template tops out near 230 lines), not a reason to split one concern in two.
KITCHEN_SINK_LINES = 400


def imports(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append(node.module)
    return found


def gateway_part(name: str) -> str | None:
    """`gateway.library.store` -> `library`; anything outside the gateway -> None."""
    parts = name.split(".")
    return parts[1] if parts[0] == "gateway" and len(parts) > 1 else None


def test_every_package_says_where_it_sits():
    packages = {p.name for p in GATEWAY.iterdir() if (p / "__init__.py").exists()}
    assert packages == set(MAY_IMPORT), "add the new package to MAY_IMPORT"


@pytest.mark.parametrize("package", sorted(MAY_IMPORT))
def test_imports_point_down(package: str):
    allowed = MAY_IMPORT[package] | {package}
    wrong = [
        f"{path.relative_to(ROOT)} imports {name}"
        for path in sorted((GATEWAY / package).rglob("*.py"))
        for name in imports(path)
        if (part := gateway_part(name)) is not None and part not in allowed
    ]
    if package != "api":
        wrong += [
            f"{path.relative_to(ROOT)} imports {name}"
            for path in sorted((GATEWAY / package).rglob("*.py"))
            for name in imports(path)
            if name.split(".")[0] in (NO_IO if package == "workflows" else BELOW_THE_FACE)
        ]
    assert not wrong, "\n".join(wrong)


def test_shared_modules_import_only_the_pure_parser():
    """`settings` knows the parser's limits; `errors` imports nothing of the gateway."""
    for name in SHARED:
        parts = {gateway_part(n) for n in imports(GATEWAY / f"{name}.py")} & set(MAY_IMPORT)
        assert parts <= {"workflows"}, f"gateway/{name}.py imports {parts}"


def test_the_agent_and_tooling_stay_apart():
    for path in sorted((ROOT / "agents").rglob("*.py")):
        wrong = [n for n in imports(path) if n.split(".")[0] in ("gateway", "tools")]
        assert not wrong, f"{path.relative_to(ROOT)} imports {wrong}"
    served = [*GATEWAY.rglob("*.py"), *(ROOT / "agents").rglob("*.py")]
    assert not [p for p in served if any(n.split(".")[0] == "tools" for n in imports(p))]


def test_no_module_is_a_kitchen_sink():
    for package in ("gateway", "agents"):
        for path in (ROOT / package).rglob("*.py"):
            assert len(path.read_text().splitlines()) <= KITCHEN_SINK_LINES, path


def test_the_gateway_shows_its_concerns_as_packages():
    """Flat modules: the entry point, and what every package shares."""
    flat = {p.stem for p in GATEWAY.glob("*.py")} - {"__init__"}
    assert flat <= {"main"} | SHARED, flat
