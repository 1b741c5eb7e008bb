"""What a fork may change in a thread's state, checked before anything is written. Pure.

Only the plan and what the plan has done: `plan` (the same step rules and limits as a
workflow the parser accepts), `completed` and `results` (naming steps of the plan).
A four-eyes approval not yet answered stays as it is: a fork may not drop it, unmark
it or mark it done (the operator who forks may be the person it is meant to check).
"""

from __future__ import annotations

from typing import Any, get_args

from agents.contract import StepType
from gateway.workflows.parser import WorkflowLimits, WorkflowValidationError

EDITABLE = ("plan", "completed", "results")
STEP_KEYS = {"id", "type", "title", "prompt"}
FOUR_EYES = "four_eyes"


def _refuse(message: str, field: str, node_id: str | None = None) -> WorkflowValidationError:
    return WorkflowValidationError(message, field=field, node_id=node_id)


def check_state_edit(
    values: dict[str, Any],
    plan_now: list[dict[str, Any]],
    limits: WorkflowLimits,
    completed_now: list[str] | None = None,
) -> None:
    """Raise `WorkflowValidationError` naming the field if `values` cannot be applied to
    a thread whose plan and completed steps (at the chosen checkpoint) are `plan_now`
    and `completed_now`."""
    for key in values:
        if key not in EDITABLE:
            raise _refuse(
                f"'{key}' cannot be edited (allowed: {', '.join(EDITABLE)})", f"values.{key}"
            )
    plan = values.get("plan", plan_now)
    if "plan" in values:
        _check_plan(values["plan"], limits)
    ids = {step["id"] for step in plan}
    completed = values.get("completed", [])
    if not isinstance(completed, list) or not all(isinstance(i, str) for i in completed):
        raise _refuse("completed must be a list of step ids", "values.completed")
    for i, step_id in enumerate(completed):
        if step_id not in ids:
            raise _refuse(
                f"'{step_id}' is not a step of the plan", f"values.completed[{i}]", step_id
            )
    results = values.get("results", {})
    if not isinstance(results, dict):
        raise _refuse("results must be an object of step id to result", "values.results")
    for step_id, result in results.items():
        field = f"values.results.{step_id}"
        if step_id not in ids:
            raise _refuse(f"'{step_id}' is not a step of the plan", field, step_id)
        ok = (
            isinstance(result, dict)
            and isinstance(result.get("output"), str)
            and set(result) <= {"output", "approved", "attempts", "usage"}
            # `1 in (True, False)` holds in Python: ask for a real boolean.
            and (result.get("approved") is None or isinstance(result.get("approved"), bool))
            # What a task step recorded, kept when a fork copies the results it read.
            and _count(result.get("attempts", 1), least=1)
            and (result.get("usage") is None or _usage(result["usage"]))
        )
        if not ok:
            raise _refuse(RESULT_SHAPE, field, step_id)
    _keep_four_eyes(values, plan_now, set(completed_now or []))


def _keep_four_eyes(values: dict[str, Any], plan_now: list[dict[str, Any]], done: set[str]) -> None:
    pending = [s["id"] for s in plan_now if s.get(FOUR_EYES) and s["id"] not in done]
    if not pending:
        return
    plan = {step["id"]: step for step in values.get("plan", plan_now)}
    for step_id in pending:
        if not plan.get(step_id, {}).get(FOUR_EYES):
            raise _refuse(
                f"four-eyes approval '{step_id}' must stay in the plan, marked four_eyes",
                "values.plan",
                step_id,
            )
        if step_id in values.get("completed", []) or step_id in values.get("results", {}):
            field = (
                "values.completed" if step_id in values.get("completed", []) else "values.results"
            )
            raise _refuse(
                f"four-eyes approval '{step_id}' is answered by an approver, not by a fork",
                field,
                step_id,
            )


RESULT_SHAPE = (
    "a result is {output: string, approved?: boolean, attempts?: integer, "
    "usage?: {input_tokens, output_tokens, total_tokens} | null}"
)


def _count(value: Any, least: int = 0) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= least


def _usage(value: Any) -> bool:
    keys = {"input_tokens", "output_tokens", "total_tokens"}
    return isinstance(value, dict) and set(value) == keys and all(map(_count, value.values()))


def _check_plan(plan: Any, limits: WorkflowLimits) -> None:
    if not isinstance(plan, list) or not plan:
        raise _refuse("plan must be a non-empty list of steps", "values.plan")
    if len(plan) > limits.max_steps:
        raise _refuse(f"plan has {len(plan)} steps; the limit is {limits.max_steps}", "values.plan")
    seen: set[str] = set()
    for i, step in enumerate(plan):
        field = f"values.plan[{i}]"
        if not isinstance(step, dict) or not STEP_KEYS <= set(step) <= {*STEP_KEYS, FOUR_EYES}:
            raise _refuse(
                f"a step has exactly the keys {sorted(STEP_KEYS)} (and {FOUR_EYES!r})", field
            )
        if FOUR_EYES in step and (step[FOUR_EYES] is not True or step["type"] != "approval"):
            raise _refuse(
                f"{FOUR_EYES} is true on an approval step, or absent", f"{field}.{FOUR_EYES}"
            )
        step_id = step["id"]
        if not isinstance(step_id, str) or not step_id or step_id in seen:
            raise _refuse("step ids are unique, non-empty strings", f"{field}.id")
        seen.add(step_id)
        if step["type"] not in get_args(StepType):
            allowed = ", ".join(get_args(StepType))
            raise _refuse(
                f"unknown step type {step['type']!r} (allowed: {allowed})", f"{field}.type", step_id
            )
        for text in ("title", "prompt"):
            value = step[text]
            if not isinstance(value, str) or not value.strip():
                raise _refuse(f"{text} must be a non-empty string", f"{field}.{text}", step_id)
            if len(value) > limits.max_text_chars:
                raise _refuse(
                    f"{text} is over {limits.max_text_chars} characters", f"{field}.{text}", step_id
                )
