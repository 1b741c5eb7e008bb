"""The workflow JSON a builder may send, as typed models.

Two shapes are accepted: a React Flow export (`{nodes, edges}`, what a browser
builder emits) and a plain list (`{name, steps}`). These models are the published
JSON Schema; `workflow_parser` adds the checks a schema cannot express.
"""

from __future__ import annotations

from typing import Annotated, Any, get_args

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, TypeAdapter

from agents.contract import MAX_STEP_ATTEMPTS, StepType

STEP_TYPES: tuple[str, ...] = get_args(StepType)
# React Flow's own node types for the ends of a diagram: ordered, never executed.
STRUCTURAL_TYPES = ("start", "end", "input", "output")


# The published schema says what each step type needs, as a union on `type` (the parser,
# which reads these models, says the same in its errors, naming the node): a task its
# instructions, an approval its question (or instructions), a structural node nothing.
Schema = dict[str, Any]
_TEXT: Schema = {"type": "string", "pattern": r"\S"}
_TASK_TYPES = [None, "", "default", "task"]


def _step_types(text_fields: tuple[str, ...], node: bool) -> Any:
    """The union on `type` for a plain step (fields at its top) or a React Flow node
    (fields under `data`); `text_fields` are where a task's instructions may be."""

    def needing(*alternatives: Schema) -> Schema:
        return {"anyOf": [_under_data(a) if node else a for a in alternatives]}

    def has(field: str) -> Schema:
        # (`needing` puts it under `data` for a node)
        return {"required": [field], "properties": {field: _TEXT}}

    only_approvals: Schema = {"properties": {"four_eyes": {"const": False}}}
    task = {
        "title": "task",
        "properties": {"type": {"enum": _TASK_TYPES}},
        "allOf": [
            needing(*(has(field) for field in text_fields)),
            _under_data(only_approvals) if node else only_approvals,
        ],
    }
    approval = {
        "title": "approval",
        "required": ["type"],
        "properties": {"type": {"const": "approval"}},
        **needing(has("question"), *(has(field) for field in text_fields)),
    }
    structural = {
        "title": "structural (orders steps, does not run)",
        "required": ["type"],
        "properties": {"type": {"enum": list(STRUCTURAL_TYPES)}},
    }
    return {"oneOf": [task, approval, structural]}


def _under_data(schema: Schema) -> Schema:
    return {"required": ["data"], "properties": {"data": schema}}


class _Open(BaseModel):
    # Builders add their own keys (position, style, selected...); they are kept, not rejected.
    model_config = ConfigDict(extra="allow")


class RetrySpec(BaseModel):
    """How often a task step's model call is tried before the step fails; only
    transient failures (no connection, a timeout, 429, 5xx) are tried again."""

    # Closed: a misspelt key is refused rather than silently ignored.
    model_config = ConfigDict(extra="forbid")

    max_attempts: int = Field(
        ge=1,
        le=MAX_STEP_ATTEMPTS,
        strict=True,
        description="Attempts per task step, the first one included; overrides the "
        "Agent Server's THREADGATE_STEP_MAX_ATTEMPTS for this workflow.",
    )


class FlowNodeData(_Open):
    label: str | None = Field(default=None, description="Step title shown in the builder.")
    instructions: str | None = Field(default=None, description="What a `task` step must do.")
    prompt: str | None = Field(default=None, description="Accepted in place of `instructions`.")
    question: str | None = Field(default=None, description="What an `approval` step asks.")
    four_eyes: bool = Field(
        default=False,
        strict=True,
        description="An `approval` step: whoever started the run may not answer it.",
    )


class FlowNode(_Open):
    model_config = ConfigDict(
        extra="allow", json_schema_extra=_step_types(("instructions", "prompt"), node=True)
    )

    id: str = Field(description="Unique within the workflow.")
    type: str | None = Field(
        default=None,
        description="`task` (also when missing or `default`), `approval`, or a structural "
        "`start`/`end`/`input`/`output` node that orders steps but does not run.",
    )
    data: FlowNodeData = Field(default_factory=FlowNodeData)


class FlowEdge(_Open):
    id: str | None = None
    source: str = Field(description="Node id the edge leaves.")
    target: str = Field(description="Node id the edge enters; it runs after `source`.")


class ReactFlowWorkflow(_Open):
    """A React Flow export: steps run in the order the edges give."""

    id: str | None = Field(default=None, description="Workflow id; derived from content if absent.")
    name: str | None = None
    retry: RetrySpec | None = None
    nodes: list[FlowNode]
    edges: list[FlowEdge] = Field(default_factory=list)


class PlainStep(_Open):
    model_config = ConfigDict(
        extra="allow", json_schema_extra=_step_types(("instructions",), node=False)
    )

    id: str | None = Field(default=None, description="Defaults to `step-<n>`.")
    type: str = Field(
        default="task",
        description="`task` or `approval`, or a structural `start`/`end`/`input`/`output`.",
    )
    title: str | None = None
    instructions: str | None = None
    question: str | None = None
    four_eyes: bool = Field(
        default=False,
        strict=True,
        description="An `approval` step: whoever started the run may not answer it.",
    )


class PlainWorkflow(_Open):
    """A plain list: steps run in the order given."""

    id: str | None = Field(default=None, description="Workflow id; derived from content if absent.")
    name: str | None = None
    retry: RetrySpec | None = None
    steps: list[PlainStep]


def _format_of(raw: Any) -> str:
    if isinstance(raw, dict):
        return "react_flow" if "nodes" in raw else "plain"
    if isinstance(raw, ReactFlowWorkflow):
        return "react_flow"
    return "plain"


WorkflowDocument = Annotated[
    Annotated[ReactFlowWorkflow, Tag("react_flow")] | Annotated[PlainWorkflow, Tag("plain")],
    Discriminator(_format_of),
]
workflow_document = TypeAdapter[ReactFlowWorkflow | PlainWorkflow](WorkflowDocument)
