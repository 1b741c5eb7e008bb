"""Workflow JSON in, a validated step plan out. Pure: no I/O, shared by REST and WebSocket."""

from __future__ import annotations

import hashlib
import heapq
import json
from dataclasses import dataclass
from typing import Any, cast

from pydantic import BaseModel, ValidationError

from agents.contract import PlanStep, RetryOverride, StepType
from gateway.errors import first_problem
from gateway.workflows.checks import JsonLimits, UnsafeJson, check_json
from gateway.workflows.format import (
    STEP_TYPES,
    STRUCTURAL_TYPES,
    PlainWorkflow,
    ReactFlowWorkflow,
    workflow_document,
)


class WorkflowValidationError(ValueError):
    """The workflow cannot run; `field` and `node_id` say where the fault is."""

    def __init__(self, message: str, *, field: str | None = None, node_id: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        self.node_id = node_id

    def details(self) -> dict[str, str]:
        found = {"field": self.field, "node_id": self.node_id}
        return {k: v for k, v in found.items() if v is not None}


@dataclass(frozen=True)
class WorkflowLimits:
    max_steps: int = 200
    max_edges: int = 1_000
    max_text_chars: int = 20_000
    max_json_depth: int = 32


class WorkflowPlan(BaseModel):
    """A workflow ready to run: its identity and its steps in execution order."""

    workflow_id: str
    name: str
    steps: list[PlanStep]
    follow_up: bool = False  # continues a thread: its earlier results are kept
    retry: RetryOverride | None = None  # the workflow's own `retry`, if it has one
    version: int | None = None  # the library version this plan was saved as, if any


def parse_workflow(raw: Any, limits: WorkflowLimits | None = None) -> WorkflowPlan:
    """Validate builder JSON and order its steps, or raise `WorkflowValidationError`."""
    limits = limits or WorkflowLimits()
    if not isinstance(raw, dict):
        raise WorkflowValidationError("workflow_json must be a JSON object", field="workflow_json")
    try:
        check_json(raw, JsonLimits(limits.max_text_chars, limits.max_json_depth), "workflow_json")
    except UnsafeJson as exc:
        raise WorkflowValidationError(exc.message, field=exc.field) from None
    try:
        doc = workflow_document.validate_python(raw)
    except ValidationError as exc:
        raise _from_pydantic(exc, raw) from None
    if isinstance(doc, ReactFlowWorkflow):
        steps = _steps_from_flow(doc, limits)
    else:
        steps = _steps_from_list(doc, limits)
    if not steps:
        raise WorkflowValidationError("workflow has no steps to run", field="workflow_json")
    name = (doc.name or doc.id or "workflow").strip() or "workflow"
    retry = RetryOverride(max_attempts=doc.retry.max_attempts) if doc.retry else None
    return WorkflowPlan(workflow_id=doc.id or _content_id(raw), name=name, steps=steps, retry=retry)


def _from_pydantic(exc: ValidationError, raw: dict[str, Any]) -> WorkflowValidationError:
    field, message = first_problem(exc, "workflow_json", skip=("react_flow", "plain"))
    loc = [p for p in exc.errors()[0]["loc"] if p not in ("react_flow", "plain")]
    node_id = None
    if len(loc) >= 2 and loc[0] in ("nodes", "steps") and isinstance(loc[1], int):
        item = raw.get(str(loc[0]), [])[loc[1]]
        found = item.get("id") if isinstance(item, dict) else None
        node_id = found if isinstance(found, str) else None
    return WorkflowValidationError(f"{field}: {message}", field=field, node_id=node_id)


def _step_type(declared: str | None, node_id: str, field: str) -> str:
    kind = "task" if declared in (None, "", "default") else declared
    if kind not in STEP_TYPES and kind not in STRUCTURAL_TYPES:
        allowed = ", ".join(STEP_TYPES + STRUCTURAL_TYPES)
        raise WorkflowValidationError(
            f"node '{node_id}' has unknown step type '{declared}' (allowed: {allowed})",
            field=field,
            node_id=node_id,
        )
    return kind


def _step(
    step_id: str,
    kind: str,
    title: str | None,
    instructions: str | None,
    question: str | None,
    field: str,
    four_eyes: bool = False,
) -> PlanStep:
    text = question or instructions if kind == "approval" else instructions
    if not text or not text.strip():
        wanted = "question" if kind == "approval" else "instructions"
        raise WorkflowValidationError(
            f"{kind} step '{step_id}' has no {wanted}", field=f"{field}.{wanted}", node_id=step_id
        )
    title = (title or step_id).strip()
    # `kind` was checked against STEP_TYPES by the caller.
    step = PlanStep(id=step_id, type=cast(StepType, kind), title=title, prompt=text.strip())
    if four_eyes:
        if kind != "approval":
            raise WorkflowValidationError(
                f"{kind} step '{step_id}' has four_eyes; only an approval step may",
                field=f"{field}.four_eyes",
                node_id=step_id,
            )
        step["four_eyes"] = True
    return step


def _check_counts(nodes: int, edges: int, limits: WorkflowLimits) -> None:
    if nodes > limits.max_steps:
        raise WorkflowValidationError(
            f"workflow has {nodes} steps; the limit is {limits.max_steps}", field="workflow_json"
        )
    if edges > limits.max_edges:
        raise WorkflowValidationError(
            f"workflow has {edges} edges; the limit is {limits.max_edges}",
            field="workflow_json.edges",
        )


def _steps_from_list(doc: PlainWorkflow, limits: WorkflowLimits) -> list[PlanStep]:
    _check_counts(len(doc.steps), 0, limits)
    steps: list[PlanStep] = []
    seen: set[str] = set()
    for i, item in enumerate(doc.steps):
        field = f"workflow_json.steps[{i}]"
        step_id = item.id or f"step-{i + 1}"
        if step_id in seen:
            raise WorkflowValidationError(
                f"duplicate step id '{step_id}'", field=f"{field}.id", node_id=step_id
            )
        seen.add(step_id)
        kind = _step_type(item.type, step_id, f"{field}.type")
        if kind in STRUCTURAL_TYPES:
            continue
        steps.append(
            _step(
                step_id, kind, item.title, item.instructions, item.question, field, item.four_eyes
            )
        )
    return steps


def _steps_from_flow(doc: ReactFlowWorkflow, limits: WorkflowLimits) -> list[PlanStep]:
    _check_counts(len(doc.nodes), len(doc.edges), limits)
    index: dict[str, int] = {}
    for i, node in enumerate(doc.nodes):
        if node.id in index:
            raise WorkflowValidationError(
                f"duplicate node id '{node.id}'",
                field=f"workflow_json.nodes[{i}].id",
                node_id=node.id,
            )
        index[node.id] = i
    kinds = [
        _step_type(n.type, n.id, f"workflow_json.nodes[{i}].type") for i, n in enumerate(doc.nodes)
    ]

    successors: dict[str, list[str]] = {n.id: [] for n in doc.nodes}
    for i, edge in enumerate(doc.edges):
        for end in ("source", "target"):
            if getattr(edge, end) not in index:
                raise WorkflowValidationError(
                    f"edge '{edge.id or i}' points to unknown node '{getattr(edge, end)}'",
                    field=f"workflow_json.edges[{i}].{end}",
                    node_id=getattr(edge, end),
                )
        successors[edge.source].append(edge.target)

    steps = []
    for node_id in _topological_order(doc, successors, index):
        i = index[node_id]
        if kinds[i] in STRUCTURAL_TYPES:
            continue
        data = doc.nodes[i].data
        steps.append(
            _step(
                node_id,
                kinds[i],
                data.label,
                data.instructions or data.prompt,
                data.question,
                f"workflow_json.nodes[{i}].data",
                data.four_eyes,
            )
        )
    return steps


def _topological_order(
    doc: ReactFlowWorkflow, successors: dict[str, list[str]], index: dict[str, int]
) -> list[str]:
    """Kahn's algorithm; ties go to the node listed first, so order is stable."""
    indegree = {n.id: 0 for n in doc.nodes}
    for targets in successors.values():
        for target in targets:
            indegree[target] += 1
    ready = [(index[n], n) for n, d in indegree.items() if d == 0]
    heapq.heapify(ready)
    order: list[str] = []
    while ready:
        _, node_id = heapq.heappop(ready)
        order.append(node_id)
        for target in successors[node_id]:
            indegree[target] -= 1
            if indegree[target] == 0:
                heapq.heappush(ready, (index[target], target))
    if len(order) < len(doc.nodes):
        cycle = _find_cycle({n for n, d in indegree.items() if d > 0}, successors)
        raise WorkflowValidationError(
            "workflow has a cycle: " + " -> ".join(cycle),
            field="workflow_json.edges",
            node_id=cycle[0],
        )
    return order


def _find_cycle(stuck: set[str], successors: dict[str, list[str]]) -> list[str]:
    # Kahn leaves nodes whose remaining in-edges all come from other left-over nodes,
    # so walking predecessors inside that set must come back to a node already seen.
    predecessors: dict[str, list[str]] = {n: [] for n in stuck}
    for source in stuck:
        for target in successors[source]:
            if target in stuck:
                predecessors[target].append(source)
    node = min(stuck)
    path: list[str] = []
    while node not in path:
        path.append(node)
        node = predecessors[node][0]
    cycle = path[path.index(node) :]
    cycle.reverse()
    return [*cycle, cycle[0]]


def _content_id(raw: dict[str, Any]) -> str:
    """A stable id for a workflow that brought none: the same JSON gets the same id."""
    canonical = json.dumps(raw, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "wf-" + hashlib.sha256(canonical.encode()).hexdigest()[:16]
