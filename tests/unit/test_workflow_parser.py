"""The parser orders steps and refuses every malformed workflow, naming the culprit."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from gateway.workflows.parser import (
    WorkflowLimits,
    WorkflowValidationError,
    parse_workflow,
)


def node(node_id: str, kind: str | None = "task", **data: Any) -> dict[str, Any]:
    data.setdefault("label", node_id.title())
    if kind != "approval":
        data.setdefault("instructions", f"do {node_id}")
    return {"id": node_id, "type": kind, "position": {"x": 0, "y": 0}, "data": data}


def edge(source: str, target: str) -> dict[str, Any]:
    return {"id": f"{source}-{target}", "source": source, "target": target}


def flow(nodes: list[dict[str, Any]], edges: list[dict[str, Any]]) -> dict[str, Any]:
    return {"name": "Flow", "nodes": nodes, "edges": edges}


def rejection(raw: Any, limits: WorkflowLimits | None = None) -> WorkflowValidationError:
    with pytest.raises(WorkflowValidationError) as caught:
        parse_workflow(raw, limits)
    return caught.value


def test_react_flow_steps_follow_the_edges_not_the_listing_order():
    raw = flow([node("c"), node("a"), node("b")], [edge("a", "b"), edge("b", "c")])
    plan = parse_workflow(raw)
    assert [s["id"] for s in plan.steps] == ["a", "b", "c"]
    assert plan.steps[0]["title"] == "A" and plan.steps[0]["prompt"] == "do a"


def test_independent_branches_keep_the_listing_order():
    raw = flow([node("s"), node("y"), node("x"), node("z")], [edge("s", "x"), edge("s", "y")])
    assert [s["id"] for s in parse_workflow(raw).steps] == ["s", "y", "x", "z"]


def test_structural_nodes_order_steps_but_do_not_run():
    nodes = [{"id": "in", "type": "input", "data": {}}, node("a"), {"id": "out", "type": "output"}]
    plan = parse_workflow(flow(nodes, [edge("in", "a"), edge("a", "out")]))
    assert [s["id"] for s in plan.steps] == ["a"]


def test_default_and_missing_types_are_tasks_and_prompt_is_accepted():
    nodes = [
        {"id": "a", "type": "default", "data": {"label": "A", "prompt": "p"}},
        {"id": "b", "data": {"instructions": "i"}},
    ]
    plan = parse_workflow(flow(nodes, [edge("a", "b")]))
    assert [(s["type"], s["prompt"], s["title"]) for s in plan.steps] == [
        ("task", "p", "A"),
        ("task", "i", "b"),
    ]


def test_approval_steps_carry_their_question():
    plan = parse_workflow(flow([node("a"), node("ok", "approval", question="Ship it?")], []))
    assert plan.steps[1]["type"] == "approval" and plan.steps[1]["prompt"] == "Ship it?"


def test_plain_steps_keep_their_order_and_get_ids():
    raw = {"name": "Plain", "steps": [{"instructions": "one"}, {"id": "x", "instructions": "two"}]}
    plan = parse_workflow(raw)
    assert [s["id"] for s in plan.steps] == ["step-1", "x"]
    assert plan.name == "Plain"


def test_workflow_id_is_given_or_stable_for_the_same_content():
    raw = {"steps": [{"instructions": "one"}]}
    assert parse_workflow(raw).workflow_id == parse_workflow(dict(raw)).workflow_id
    assert (
        parse_workflow(raw).workflow_id
        != parse_workflow({"steps": [{"instructions": "2"}]}).workflow_id
    )
    assert parse_workflow({**raw, "id": "wf-7"}).workflow_id == "wf-7"


def test_cycle_is_refused_naming_its_nodes():
    raw = flow([node("a"), node("b"), node("c")], [edge("a", "b"), edge("b", "c"), edge("c", "b")])
    error = rejection(raw)
    assert "cycle" in error.message and "b" in error.message and "c" in error.message
    assert error.node_id in {"b", "c"}


def test_cycle_behind_a_sink_is_still_named():
    raw = flow([node("z"), node("a"), node("b")], [edge("a", "b"), edge("b", "a"), edge("b", "z")])
    assert rejection(raw).message.startswith("workflow has a cycle")


def test_self_loop_is_a_cycle():
    assert rejection(flow([node("a")], [edge("a", "a")])).message == "workflow has a cycle: a -> a"


@pytest.mark.parametrize("end", ["source", "target"])
def test_edge_to_unknown_node_is_refused(end: str):
    bad = edge("a", "ghost") if end == "target" else edge("ghost", "a")
    error = rejection(flow([node("a")], [bad]))
    assert error.node_id == "ghost"
    assert error.field == f"workflow_json.edges[0].{end}"


def test_duplicate_node_id_is_refused():
    error = rejection(flow([node("a"), node("a")], []))
    assert error.node_id == "a" and error.field == "workflow_json.nodes[1].id"


def test_duplicate_plain_step_id_is_refused():
    error = rejection(
        {"steps": [{"id": "s", "instructions": "x"}, {"id": "s", "instructions": "y"}]}
    )
    assert error.node_id == "s"


def test_unknown_step_type_is_refused_with_the_allowed_ones():
    error = rejection(flow([node("a"), node("b", "webhook")], []))
    assert error.node_id == "b" and "webhook" in error.message and "approval" in error.message


def test_task_without_instructions_is_refused():
    error = rejection(flow([node("a"), {"id": "b", "type": "task", "data": {"label": "B"}}], []))
    assert error.node_id == "b" and error.field == "workflow_json.nodes[1].data.instructions"


def test_approval_without_question_is_refused():
    error = rejection({"steps": [{"id": "ok", "type": "approval"}]})
    assert error.node_id == "ok" and error.field == "workflow_json.steps[0].question"


@pytest.mark.parametrize(
    "raw",
    [
        {"nodes": [], "edges": []},
        {"steps": []},
        {"nodes": [{"id": "in", "type": "input"}, {"id": "out", "type": "output"}]},
    ],
)
def test_empty_workflow_is_refused(raw: dict[str, Any]):
    assert rejection(raw).message == "workflow has no steps to run"


def test_shape_errors_name_the_field_and_node():
    error = rejection({"nodes": [{"id": "a", "data": {"instructions": 5}}]})
    assert error.field == "workflow_json.nodes[0].data.instructions" and error.node_id == "a"
    assert rejection({"nodes": "everything"}).field == "workflow_json.nodes"
    assert rejection(["not", "an", "object"]).field == "workflow_json"


def test_limits_on_steps_edges_text_and_depth():
    limits = WorkflowLimits(max_steps=2, max_edges=1, max_text_chars=50, max_json_depth=6)
    assert "3 steps" in rejection(flow([node("a"), node("b"), node("c")], []), limits).message
    too_many_edges = flow([node("a"), node("b")], [edge("a", "b"), edge("a", "b")])
    assert "edges" in rejection(too_many_edges, limits).message
    long_text = rejection(flow([node("a", instructions="x" * 51)], []), limits)
    assert long_text.field == "workflow_json.nodes[0].data.instructions"
    deep: dict[str, Any] = {"leaf": 1}
    for _ in range(6):
        deep = {"inner": deep}
    assert "nesting" in rejection(flow([node("a", extra=deep)], []), limits).message


@pytest.mark.parametrize(
    "name", ["quickstart.json", "content-pipeline.json", "support-triage.json"]
)
def test_every_example_workflow_parses(name: str):
    document = json.loads((Path(__file__).parents[2] / "examples" / name).read_text())
    plan = parse_workflow(document.get("workflow_json", document))
    assert plan.steps and plan.workflow_id
