"""Property-based fuzzing of the gateway from its own OpenAPI document (the Schemathesis CLI).

Every documented operation, in every phase (the document's examples, boundary-value coverage,
random fuzzing, and stateful sequences chained by API links), under every check, at a fixed
seed, against a gateway and Agent Server (offline model) of the test's own. Any failure fails
the test with the CLI's account of it: the check, the response and a curl to reproduce it.

Opt-in (`make fuzz`), not part of `make test` yet: it does not pass today (issue 23 is
open). At this seed it finds rules the document cannot state (a workflow's graph, a
runtime that cannot trim checkpoints), whole-number floats such as `5.0` refused where
JSON Schema calls them integers, and bodies Schemathesis 4.15 builds from a `oneOf`
branch that the document itself rejects; and its coverage phase takes over 4 minutes
here. `tests/integration/test_fuzz.py` (four checks, every operation) runs in `make test`.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.integration.helpers import FUZZ
from tests.integration.test_fuzz import fuzz_gateway  # noqa: F401 (the same stack)

pytestmark = pytest.mark.skipif(
    os.environ.get("THREADGATE_FUZZ_ALL_CHECKS") != "1",
    reason="opt-in: `make fuzz` (every Schemathesis check; not passing yet, see the docstring)",
)

SEED = 23
# Per operation, in the fuzzing and stateful phases: about 1.5 s of the run per unit here.
# The coverage phase does not depend on it, and takes most of the run.
MAX_EXAMPLES = 20
# Within the suite's 300 s per test (pytest-timeout), the stack's start and stop included.
RUN_TIMEOUT = 270
SCHEMATHESIS = Path(sys.executable).parent / "schemathesis"


@dataclass
class Figures:
    """What a run did, read from its NDJSON report."""

    cases: int = 0
    operations: set[str] = field(default_factory=set)
    links: set[str] = field(default_factory=set)
    failures: Counter[str] = field(default_factory=Counter)  # distinct ones, by check

    @classmethod
    def read(cls, report: Path) -> Figures:
        figures, seen = cls(), set()
        lines = report.read_text().splitlines() if report.exists() else []  # none if it crashed
        for line in lines:
            event = json.loads(line).get("ScenarioFinished")
            if event is None or "cases" not in event["recorder"]:
                continue
            recorder, stateful = event["recorder"], event["phase"] == "Stateful"
            figures.cases += len(recorder["cases"])
            for case_id, node in recorder["cases"].items():
                checks = recorder["checks"].get(case_id, [])
                if checks and not stateful:
                    figures.operations.add(recorder["label"])
                if stateful and node["is_transition_applied"]:
                    figures.links.add(node["transition"]["id"])
                response = recorder["interactions"].get(case_id, {}).get("response") or {}
                operation = f"{node['value']['method']} {node['value']['path']}"
                for check in checks:
                    # Told apart as the CLI tells them apart: operation, check, status code.
                    failure = (operation, check["name"], response.get("status_code"))
                    if check["status"] == "failure" and failure not in seen:
                        seen.add(failure)
                        figures.failures[check["name"]] += 1
        return figures


def failures_section(output: str) -> str:
    """The CLI's errors, failures and warnings (each failure with its curl), else its tail
    (how far each phase got, when it ran out of time)."""
    lines = output.splitlines()
    starts = [i for i, line in enumerate(lines) if line.strip("= ") in {"ERRORS", "FAILURES"}]
    return "\n".join(line.rstrip() for line in (lines[starts[0] :] if starts else lines[-60:]))


def test_every_operation_passes_every_check_in_every_phase(
    fuzz_gateway: str,  # noqa: F811 (the fixture imported above)
    tmp_path: Path,
):
    report = tmp_path / "report.ndjson"
    headers = [arg for name, value in FUZZ.items() for arg in ("--header", f"{name}: {value}")]
    command = [
        str(SCHEMATHESIS), "run", f"{fuzz_gateway}/openapi.json",
        "--checks", "all",
        "--phases", "examples,coverage,fuzzing,stateful",
        "--seed", str(SEED),
        "--generation-database", "none",  # nothing replayed from earlier runs
        "--max-examples", str(MAX_EXAMPLES),
        "--continue-on-failure",  # every distinct failure, not the first per operation
        *headers,
        "--report", "ndjson", "--report-ndjson-path", str(report),
        "--output-sanitize", "false",  # curls to copy as they are (the keys are test-only)
        "--no-color",
    ]  # fmt: skip
    # In a directory of its own: no schemathesis.toml found above it, no .hypothesis left.
    try:
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}  # its output so far, if it is stopped
        run = subprocess.run(
            command, cwd=tmp_path, env=env, capture_output=True, timeout=RUN_TIMEOUT
        )
        exit_code, output = run.returncode, run.stdout.decode() + run.stderr.decode()
    except subprocess.TimeoutExpired as exc:  # the CLI lists failures only at its end
        exit_code, output = None, (exc.stdout or b"").decode() + (exc.stderr or b"").decode()
    figures = Figures.read(report)
    warnings = [line.strip() for line in output.splitlines() if line.startswith("  ⚠️")]
    logging.getLogger(__name__).warning(
        "fuzz (seed %d): %d test cases over %d operations; %d API links covered in the "
        "stateful phase; failures by check: %s; warnings: %s",
        SEED,
        figures.cases,
        len(figures.operations),
        len(figures.links),
        dict(figures.failures) or "none",
        warnings or "none",
    )
    outcome = f"exited {exit_code}" if exit_code is not None else f"ran over {RUN_TIMEOUT} s"
    assert exit_code == 0, (
        f"schemathesis {outcome}; failures by check so far: {dict(figures.failures)}\n"
        f"{failures_section(output)}"
    )
    assert figures.links, "the stateful phase followed no API link"
