"""The published workflow schema (`WorkflowDocument` in the OpenAPI document) and the
parser agree on what each step type needs: a document the schema allows the parser runs,
and one it refuses the parser refuses too (rules of the graph, such as unique ids and
edges between existing nodes, are the parser's alone)."""

from __future__ import annotations

from typing import Any

import pytest
from jsonschema import Draft202012Validator

from gateway.workflows.format import workflow_document
from gateway.workflows.parser import WorkflowValidationError, parse_workflow

SCHEMA = workflow_document.json_schema(ref_template="#/$defs/{model}")
VALIDATOR = Draft202012Validator(SCHEMA)


def plain(*steps: dict[str, Any]) -> dict[str, Any]:
    return {"name": "w", "steps": list(steps)}


def flow(*nodes: dict[str, Any]) -> dict[str, Any]:
    return {"name": "w", "nodes": list(nodes), "edges": []}


CASES = [
    (plain({"instructions": "do it"}), True),
    (plain({"type": "task", "instructions": "do it"}), True),
    (plain({"type": "default", "instructions": "do it"}), True),
    (plain({"type": "task"}), False),
    (plain({"type": "task", "instructions": "   "}), False),
    (plain({"type": "task", "instructions": "x", "four_eyes": True}), False),
    (plain({"instructions": "x"}, {"type": "approval", "question": "ok?"}), True),
    (
        plain({"instructions": "x"}, {"type": "approval", "question": "ok?", "four_eyes": True}),
        True,
    ),
    (plain({"instructions": "x"}, {"type": "approval", "instructions": "ok?"}), True),
    (plain({"instructions": "x"}, {"type": "approval"}), False),
    (plain({"instructions": "x"}, {"type": "approval", "question": " "}), False),
    (plain({"type": "start"}, {"instructions": "x"}, {"type": "end"}), True),
    (plain({"instructions": "x"}, {"type": "aproval", "question": "ok?"}), False),
    (flow({"id": "a", "data": {"instructions": "x"}}), True),
    (flow({"id": "a", "type": "default", "data": {"prompt": "x"}}), True),
    (flow({"id": "a", "type": "task", "data": {"label": "no text"}}), False),
    (flow({"id": "a"}), False),
    (
        flow(
            {"id": "a", "data": {"instructions": "x"}},
            {"id": "b", "type": "approval", "data": {"question": "ok?"}},
        ),
        True,
    ),
    (
        flow(
            {"id": "a", "data": {"instructions": "x"}}, {"id": "b", "type": "approval", "data": {}}
        ),
        False,
    ),
    (flow({"id": "s", "type": "input"}, {"id": "a", "data": {"instructions": "x"}}), True),
    (flow({"id": "a", "data": {"instructions": "x", "four_eyes": True}}), False),
]


@pytest.mark.parametrize(("document", "runs"), CASES)
def test_the_schema_and_the_parser_agree_on_step_types(document: dict[str, Any], runs: bool):
    allowed = VALIDATOR.is_valid(document)
    try:
        parse_workflow(document)
        parsed = True
    except WorkflowValidationError:
        parsed = False
    assert (allowed, parsed) == (runs, runs)
