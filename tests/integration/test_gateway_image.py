"""The gateway image's Python contents, built exactly as deploy/gateway.Dockerfile does.

No Docker engine here, so the Dockerfile is read instead: a fresh venv stands for the
base image, only the files its COPY lines name are copied, its `pip install` line runs
as written, and its CMD starts against the real Agent Server of this test session.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import venv
from pathlib import Path

import httpx
import pytest

from agents.contract import USER_HEADER
from tests.integration.conftest import HOST, STACK_ENV, Stack
from tests.integration.helpers import ALICE
from tools.launcher import free_port, stop, wait_until_ok

ROOT = Path(__file__).parents[2]
DOCKERFILE = (ROOT / "deploy" / "gateway.Dockerfile").read_text()


def dockerfile(instruction: str) -> list[str]:
    return re.findall(rf"^{instruction} (.+)$", DOCKERFILE, re.MULTILINE)


@pytest.fixture(scope="module")
def image(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """/app of the image: the copied files, and a venv with what `pip install` put there."""
    root = tmp_path_factory.mktemp("gateway-image")
    app = root / "app"
    app.mkdir()
    for line in dockerfile("COPY"):
        *sources, target = line.split()
        for source in sources:
            destination = app / target / source if target.endswith("/") else app / target
            if (ROOT / source).is_dir():
                shutil.copytree(
                    ROOT / source, destination, ignore=shutil.ignore_patterns("__pycache__")
                )
            else:
                shutil.copyfile(ROOT / source, destination)
    venv.create(root / "venv", with_pip=True)
    (install,) = dockerfile("RUN")
    pip_line = shlex.split(install.split("&&")[0])
    assert pip_line[:2] == ["pip", "install"], install
    subprocess.run(
        [str(root / "venv" / "bin" / "python"), "-m", *pip_line, "--quiet"],
        cwd=app,
        check=True,
        timeout=600,
    )
    return root


def site_packages(image: Path) -> Path:
    (found,) = (image / "venv" / "lib").glob("python3*/site-packages")
    return found


def test_the_image_holds_the_gateway_and_not_the_agent_stack(image: Path):
    installed = {p.name.split("-")[0].lower() for p in site_packages(image).glob("*.dist-info")}
    assert {"fastapi", "uvicorn", "langgraph_sdk", "pyjwt", "cryptography"} <= installed
    # The monitor page ships inside the package, not only in the source tree.
    assert (site_packages(image) / "gateway" / "api" / "ui" / "index.html").is_file()
    # langchain-core still comes in, as a dependency of langgraph-sdk itself.
    assert not {"langgraph", "langchain", "langchain_openai", "openai"} & installed
    size = sum(f.stat().st_size for f in site_packages(image).rglob("*") if f.is_file())
    print(f"gateway image site-packages: {size / 2**20:.1f} MiB")  # noqa: T201 (the note quotes it)


def test_the_images_command_serves_against_a_real_agent_server(image: Path, stack: Stack):
    (cmd,) = dockerfile("CMD")
    command = json.loads(cmd)
    port = free_port(HOST)
    command[command.index("--port") + 1] = str(port)
    command[command.index("--host") + 1] = HOST  # the image listens on 0.0.0.0
    env = {
        "PATH": f"{image / 'venv' / 'bin'}{os.pathsep}{os.environ['PATH']}",
        **STACK_ENV,
        "THREADGATE_AGENT_URL": stack.agent_url,
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    proc = subprocess.Popen(
        command, cwd=image / "app", env=env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT
    )
    url = f"http://{HOST}:{port}"
    try:
        wait_until_ok(f"{url}/healthz", proc, "gateway image", timeout=60)
        assert httpx.get(f"{url}/readyz").status_code == 200
        assert "Threadgate monitor" in httpx.get(f"{url}/ui/").text
        listed = httpx.get(f"{url}/api/threads", headers=ALICE, params={"limit": 1})
        assert listed.status_code == 200, listed.text
        refused = httpx.get(f"{url}/api/threads", headers={USER_HEADER: "alice"})
        assert refused.status_code == 401
        # One worker per core (two here): metrics are summed over the workers.
        metrics = httpx.get(f"{url}/metrics")
        assert metrics.status_code == 200
        assert 'threadgate_http_requests_total{method="GET",route="/api/threads"' in metrics.text
    finally:
        stop(proc)
