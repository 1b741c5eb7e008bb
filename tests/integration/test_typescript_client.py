"""A builder frontend's TypeScript client, generated from the gateway's OpenAPI document.

What a frontend team does with `/openapi.json`: generate its types with
`openapi-typescript` and write its module against them (`ts/frontend.ts`: REST with
`fetch`, the run's stream with the browser's `WebSocket`, every frame type handled).
`tsc --strict` must accept that module, and must refuse it once it reads a field or
sends a value the document does not promise. Both tools come from the npm registry into
`.venv/` (kept between runs) and run with the machine's Node.js.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
from pathlib import Path

import httpx
import pytest

from tests.integration.conftest import Stack

ROOT = Path(__file__).parents[2]
FRONTEND = Path(__file__).parent / "ts" / "frontend.ts"
# Major versions pinned: the shape of the generated types and the checker's rules.
TOOLS = {"openapi-typescript": 7, "typescript": 5}
TSC = ["--noEmit", "--strict", "--target", "es2022", "--module", "es2022", "--lib", "es2022,dom"]


def _major(package: Path) -> int | None:
    manifest = package / "package.json"
    if not manifest.exists():
        return None
    return int(json.loads(manifest.read_text())["version"].split(".")[0])


@pytest.fixture(scope="module")
def bin_dir() -> Path:
    """`openapi-typescript` and `typescript` installed with npm under .venv (kept between
    runs); the directory of their commands."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        if os.environ.get("CI"):
            pytest.fail("Node.js and npm are needed for the TypeScript client tests")
        pytest.skip("Node.js and npm are not installed: TypeScript client tests skipped")
    prefix = ROOT / ".venv" / "ts-client"
    modules = prefix / "node_modules"
    if any(_major(modules / name) != major for name, major in TOOLS.items()):
        prefix.mkdir(parents=True, exist_ok=True)
        packages = [f"{name}@{major}" for name, major in TOOLS.items()]
        subprocess.run(
            [npm, "install", "--no-audit", "--no-fund", "--prefix", str(prefix), *packages],
            check=True,
            capture_output=True,
            timeout=300,
        )
    return modules / ".bin"


@pytest.fixture(scope="module")
def client(stack: Stack, bin_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`api.d.ts`: what openapi-typescript generates from the running gateway's
    `/openapi.json`."""
    workdir = tmp_path_factory.mktemp("ts-client")
    response = httpx.get(f"{stack.gateway_url}/openapi.json", timeout=30)
    response.raise_for_status()
    (workdir / "openapi.json").write_bytes(response.content)
    generate = subprocess.run(
        # With its default (true), openapi-typescript makes every property that has a
        # `default` required: right for answers, wrong for request bodies, where a
        # default is what the gateway uses when the field is left out (the README says so).
        [
            str(bin_dir / "openapi-typescript"),
            "openapi.json",
            "-o",
            "api.d.ts",
            "--default-non-nullable=false",
        ],
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert generate.returncode == 0, generate.stdout + generate.stderr
    generated = workdir / "api.d.ts"
    logging.warning(
        "generated client api.d.ts: %d bytes, %d lines (from %d bytes of openapi.json)",
        generated.stat().st_size,
        len(generated.read_text().splitlines()),
        len(response.content),
    )
    return generated


def type_check(
    bin_dir: Path, client: Path, source: str, workdir: Path
) -> subprocess.CompletedProcess[str]:
    """`tsc --strict` on `source` as `frontend.ts`, next to the generated `api.d.ts`."""
    shutil.copyfile(client, workdir / "api.d.ts")
    (workdir / "frontend.ts").write_text(source)
    return subprocess.run(
        [str(bin_dir / "tsc"), *TSC, "frontend.ts"],
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=180,
    )


def test_the_frontend_type_checks_against_the_generated_client(
    bin_dir: Path, client: Path, tmp_path: Path
):
    checked = type_check(bin_dir, client, FRONTEND.read_text(), tmp_path)
    logging.warning(
        "tsc on frontend.ts: exit %d%s", checked.returncode, f"\n{checked.stdout}".rstrip()
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr


# Each mistake must bring its own error, whatever else tsc reports.
MISTAKES = {
    "unknown-progress-field": (
        "frame.completed_steps",
        "frame.steps_done",
        "error TS2339: Property 'steps_done' does not exist on type",
    ),
    "approved-as-string": (
        "approved: true",
        'approved: "yes"',
        "error TS2322: Type 'string' is not assignable to type 'boolean",
    ),
    # The default branch's `never` no longer holds once a frame type is left unhandled.
    "unhandled-frame-type": (
        '    case "interrupt":\n'
        "      return `needs approval: ${JSON.stringify(frame.question)}`;\n",
        "",
        "is not assignable to type 'never'",
    ),
}


@pytest.mark.parametrize("mistake", MISTAKES)
def test_a_mistake_in_the_frontend_fails_the_type_check(
    bin_dir: Path, client: Path, tmp_path: Path, mistake: str
):
    original, changed, error = MISTAKES[mistake]
    source = FRONTEND.read_text()
    assert source.count(original) == 1, f"{original!r} is not in frontend.ts once"
    checked = type_check(bin_dir, client, source.replace(original, changed), tmp_path)
    logging.warning(
        "tsc on frontend.ts with %s: exit %d\n%s", mistake, checked.returncode, checked.stdout
    )
    assert checked.returncode != 0
    assert error in checked.stdout, checked.stdout + checked.stderr
