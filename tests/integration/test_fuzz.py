"""Property-based fuzzing of the gateway from its own OpenAPI document (schemathesis).

Every operation gets schema-valid and schema-breaking requests against a real gateway
and Agent Server of its own; no response may be a 5xx, and every response must match
what the document declares (status code, content type, body schema).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.integration.conftest import start_test_agent_server, start_test_gateway
from tests.integration.helpers import FUZZ
from tools.launcher import stop

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
EXAMPLES_PER_OPERATION = 30


@pytest.fixture(scope="module")
def fuzz_gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A gateway and Agent Server (offline model) for the fuzzer alone."""
    data: Path = tmp_path_factory.mktemp("fuzz")
    agent, agent_url = start_test_agent_server(data, model=None)
    proc, url = start_test_gateway(agent_url, data, "gateway-fuzz")
    try:
        yield url
    finally:
        stop(proc)
        stop(agent)


def test_no_operation_answers_5xx_or_breaks_its_documented_schema(fuzz_gateway: str):
    schema = schemathesis.openapi.from_url(f"{fuzz_gateway}/openapi.json")
    calls: Counter[str] = Counter()

    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def fuzz(case: schemathesis.Case) -> None:
        calls[case.operation.label] += 1
        case.call_and_validate(base_url=fuzz_gateway, headers=FUZZ, checks=CHECKS)

    for result in schema.get_all_operations():
        assert isinstance(result, Ok), result  # our own document must be valid
        operation = result.ok()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            try:
                given(case=operation.as_strategy(generation_mode=mode))(fuzz)()
            except Unsatisfiable:
                # An operation with no inputs (the probes) has no invalid request to make.
                assert mode == GenerationMode.NEGATIVE, operation.label
    assert len(calls) >= 15, calls  # every documented operation was exercised
    logging.getLogger(__name__).warning(
        "fuzz: %d requests over %d operations", sum(calls.values()), len(calls)
    )
