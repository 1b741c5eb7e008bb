"""Hostile input gets a clear 4xx, never a 5xx or a traceback, and reaches nothing."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import FakeAgent

EXECUTE = "/api/workflow/execute"


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b"",
        b"\xff\xfe\x00garbage",
        b'{"workflow_json": ' + nested(50_000).encode() + b"}",
        b'{"workflow_json": {"steps": [{"instructions": "x", "n": 1' + b"0" * 5_000 + b"}]}}",
        b'{"workflow_json": {"steps": [{"instructions": "x", "n": 1e999999}]}}',
        b'{"workflow_json": {"steps": [{"instructions": "\\ud800"}]}}',
        b"[]",
        b"null",
    ],
    ids=[
        "malformed",
        "empty",
        "binary",
        "deep",
        "huge-int",
        "huge-float",
        "lone-surrogate",
        "array",
        "null",
    ],
)
def test_bodies_that_are_not_usable_json_get_4xx(client: TestClient, agent: FakeAgent, body: bytes):
    response = client.post(EXECUTE, content=body, headers={"content-type": "application/json"})
    assert 400 <= response.status_code < 500, response.text
    assert response.json()["error"] and "Traceback" not in response.text
    assert agent.requests == []


def test_deep_nesting_inside_the_workflow_names_the_field(client: TestClient, agent: FakeAgent):
    deep: object = "leaf"
    for _ in range(40):
        deep = {"inner": deep}
    workflow = {"steps": [{"instructions": "x", "extra": deep}]}
    response = client.post(EXECUTE, json={"workflow_json": workflow})
    assert response.status_code == 422
    assert response.json()["details"]["field"].startswith("workflow_json.steps[0].extra.inner")
    assert agent.requests == []


@pytest.mark.parametrize(
    "text", ["\u202eevil\u202c", "😀" * 50, "a\u0000b", "\U0010ffff", "ゼロ幅\u200bスペース"]
)
def test_unicode_ids_and_text_never_break_the_parser(
    client: TestClient, agent: FakeAgent, text: str
):
    workflow = {"nodes": [{"id": text, "data": {"instructions": text}}, {"id": "b", "type": text}]}
    response = client.post(EXECUTE, json={"workflow_json": workflow})
    assert response.status_code == 422
    body = response.json()
    if "\x00" in text:
        assert "NUL" in body["message"] and body["details"]["field"].startswith("workflow_json")
    else:
        assert body["details"]["node_id"] == "b" and text in body["message"]
    assert json.dumps(body)  # the message round-trips as JSON
    assert agent.requests == []


@pytest.mark.parametrize(
    "query",
    ["limit=99999999999999999999", "limit=-1", "offset=abc", "status=unknown", "sort_by=owner"],
)
def test_bad_query_parameters_are_422(client: TestClient, agent: FakeAgent, query: str):
    response = client.get(f"/api/threads?{query}")
    assert response.status_code == 422, response.text
    assert agent.requests == []


@pytest.mark.parametrize(
    "path",
    [
        "/api/threads/..%2F..%2Fadmin",
        "/api/threads/%00",
        "/api/threads/" + "a" * 5000,
        "/api/workflow/execution/" + "x" * 5000,
        "/api/threads/00000000-0000-4000-8000-000000000000%0A/state",
    ],
)
def test_hostile_ids_in_paths_are_refused_before_forwarding(
    client: TestClient, agent: FakeAgent, path: str
):
    response = client.get(path)
    assert response.status_code in (404, 422), response.text
    assert agent.requests == []
