"""A bad configuration stops the gateway with one line per problem, naming the variable."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tools.launcher import free_port


def start_gateway_with(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("THREADGATE_")}
    command = [sys.executable, "-m", "uvicorn", "gateway.main:app", "--factory"]
    return subprocess.run(
        [*command, "--port", str(free_port())],
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=60,
        cwd="/",  # no .env of the checkout
    )


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        (
            {"THREADGATE_MAX_BODY_BYTES": "-5", "THREADGATE_API_KEYS": '{"a": "k"}'},
            [
                "THREADGATE_MAX_BODY_BYTES: Input should be greater than 0",
                "THREADGATE_SERVICE_KEY: Field required",
            ],
        ),
        (
            {"THREADGATE_SERVICE_KEY": "short", "THREADGATE_AUTH_DISABLED": "true"},
            ["THREADGATE_SERVICE_KEY must be at least 16 characters"],
        ),
        (
            {"THREADGATE_SERVICE_KEY": "s" * 20},
            ["no authentication configured: set THREADGATE_API_KEYS or a JWT key"],
        ),
    ],
)
def test_each_problem_is_one_line_naming_the_variable(env: dict[str, str], expected: list[str]):
    result = start_gateway_with(env)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert "Traceback" not in result.stderr
    assert len(lines) == len(expected), result.stderr
    for line, wanted in zip(lines, expected, strict=True):
        assert line.startswith("ERROR configuration: ") and wanted in line, line
