"""The OpenAPI document says exactly what the API accepts: what it refuses, the document
forbids, and what the document allows, it takes (Schemathesis checks the same over the
whole API in tests/integration/test_fuzz.py; these are the rules one by one)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st

from agents.limits import CRON_PATTERN, cron_fields_problem
from gateway.schedules.crons import check_cron


def document(client: TestClient) -> dict[str, Any]:
    return client.app.openapi()  # type: ignore[attr-defined,no-any-return]


def test_no_parameter_is_documented_as_null(client: TestClient):
    """A query string cannot say null: leaving a parameter out is how a client says none."""
    for path, item in document(client)["paths"].items():
        for method, operation in item.items():
            for parameter in operation.get("parameters", []):
                assert "null" not in str(parameter["schema"]), (method, path, parameter)


def test_a_query_parameter_the_operation_does_not_declare_is_refused(client: TestClient):
    response = client.get("/api/threads?stauts=failed")
    assert response.status_code == 422
    assert response.json()["details"][0]["field"] == "query.stauts"
    assert client.get("/healthz?probe=1").status_code == 422


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        (
            "/api/threads/prune",
            {"older_than_minutes": 5, "keep_latest_checkpoint": 0},
            "keep_latest_checkpoint",
        ),
        ("/api/threads/prune", {"older_than_minutes": True}, "older_than_minutes"),
        (
            "/api/threads/failed/resume",
            {"not_updated_for_minutes": False},
            "not_updated_for_minutes",
        ),
        ("/api/workflow/execute", {"workflow_id": "w", "version": True}, "version"),
        ("/api/threads/01a204ae-a289-7477-8bfd-4c37e06457e1/resume", {"approved": 1}, "approved"),
    ],
)
def test_a_boolean_is_not_a_number_nor_a_number_a_boolean(
    client: TestClient, path: str, body: dict[str, Any], field: str
):
    response = client.post(path, json=body)
    assert response.status_code == 422, response.text
    assert response.json()["details"][0]["field"] == f"body.{field}"


def test_execute_documents_its_three_forms(client: TestClient):
    schema = document(client)["components"]["schemas"]["ExecuteRequest"]
    assert [form["required"] for form in schema["oneOf"]] == [
        ["workflow_json"],
        ["workflow_id"],
        ["message", "thread_id"],
    ]


def test_a_schedule_change_documents_what_may_be_null(client: TestClient):
    schema = document(client)["components"]["schemas"]["ScheduleChange"]
    nullable = {name for name, field in schema["properties"].items() if "null" in str(field)}
    assert nullable == {"end_time"}
    assert schema["minProperties"] == 1


def test_the_published_cron_pattern_is_the_gateways_rule():
    assert re.fullmatch(CRON_PATTERN, "*/15 9-17 * * 1-5")
    for refused in ("0 9 * * MON", "0\t9 * * *", "0 9 * *", "60 * * * *", "*/0 * * * *"):
        assert re.fullmatch(CRON_PATTERN, refused) is None, refused


@settings(max_examples=500, deadline=None)
@given(st.from_regex(CRON_PATTERN, fullmatch=True))
def test_every_cron_the_pattern_allows_is_accepted_unless_it_never_fires(expression: str):
    problem = cron_fields_problem(expression)
    if problem is None:
        check_cron(expression)
    else:
        assert "never fires" in problem, (expression, problem)
