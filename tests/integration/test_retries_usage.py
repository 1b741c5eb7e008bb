"""Step retries and token usage, end to end: real gateway, real Agent Server, and the
real langchain-openai client against the loopback fake model.

The test Agent Server waits 50 ms before a retry (conftest.agent_server_env) and runs
the deployment default of 3 attempts per step.
"""

from __future__ import annotations

from typing import Any

import httpx

from tests.fake_openai import fake_tokens
from tests.integration.conftest import Stack
from tests.integration.helpers import marker, react_flow, start, wait_for_status


def flow_with(tag: str, steps: int = 2, **markers: str) -> dict[str, Any]:
    """A React Flow workflow whose steps (by node id) get the given markers."""
    flow = react_flow(tag, steps=steps)
    for node in flow["nodes"]:
        if node["id"] in markers:
            node["data"]["instructions"] += f" {markers[node['id']]}"
    return flow


def calls(stack: Stack, tag: str, step: int) -> int:
    return stack.model.calls_mentioning(f"{tag} do part {step}")


async def execution_of(gateway: httpx.AsyncClient, workflow: dict[str, Any]) -> dict[str, Any]:
    response = await gateway.post("/api/workflow/execute", json={"workflow_json": workflow})
    assert response.status_code == 202, response.text
    accepted: dict[str, Any] = response.json()
    return accepted


async def test_a_step_failing_twice_with_503_then_answering_took_three_attempts(
    stack: Stack, gateway: httpx.AsyncClient
):
    tag = marker()
    accepted = await execution_of(gateway, flow_with(tag, n1="[fail 2 times]"))
    details = await wait_for_status(gateway, accepted["thread_id"], {"completed", "failed"})
    assert details["status"] == "completed", details["progress"]
    assert details["results"]["n1"]["attempts"] == 3
    assert details["results"]["n2"]["attempts"] == 1
    assert (calls(stack, tag, 1), calls(stack, tag, 2)) == (3, 1)  # no client retries on top
    execution = (await gateway.get(f"/api/workflow/execution/{accepted['execution_id']}")).json()
    assert execution["status"] == "completed"
    assert [execution["result"][s]["attempts"] for s in ("n1", "n2")] == [3, 1]


async def test_a_permanent_error_fails_the_step_after_one_attempt(
    stack: Stack, gateway: httpx.AsyncClient
):
    tag = marker()
    accepted = await execution_of(gateway, flow_with(tag, n2="[fail]"))
    details = await wait_for_status(gateway, accepted["thread_id"], {"failed"})
    assert calls(stack, tag, 2) == 1
    assert details["results"]["n1"]["attempts"] == 1 and "n2" not in details["results"]
    reason = details["progress"]["error_message"] or ""
    assert reason.startswith("failed after 1 attempt (not retryable): "), reason
    assert "400" in reason and "step failed on purpose" in reason
    execution = (await gateway.get(f"/api/workflow/execution/{accepted['execution_id']}")).json()
    assert execution["status"] == "failed" and execution["error"] == reason


async def test_retries_stop_at_the_limit_unless_the_workflow_allows_more(
    stack: Stack, gateway: httpx.AsyncClient
):
    limited, allowed = marker(), marker()
    # The deployment's 3 attempts all meet a 429: the step gives up, saying so.
    first = await start(gateway, flow_with(limited, steps=1, n1="[fail 3 times with 429]"))
    # A plain-list workflow asking for 4 attempts gets past the same three 429s.
    plain = {
        "id": f"wf-{allowed}",
        "retry": {"max_attempts": 4},
        "steps": [{"id": "s1", "instructions": f"{allowed} do part 1 [fail 3 times with 429]"}],
    }
    second = await start(gateway, plain)

    failed = await wait_for_status(gateway, first, {"failed"})
    reason = failed["progress"]["error_message"] or ""
    assert reason.startswith("failed after 3 attempts (retries exhausted): "), reason
    assert "429" in reason and calls(stack, limited, 1) == 3

    done = await wait_for_status(gateway, second, {"completed", "failed"})
    assert done["status"] == "completed", done["progress"]
    assert done["results"]["s1"]["attempts"] == 4 and calls(stack, allowed, 1) == 4


async def test_a_workflow_asking_for_too_many_attempts_is_refused(gateway: httpx.AsyncClient):
    workflow = {**react_flow(marker(), steps=1), "retry": {"max_attempts": 11}}
    refused = await gateway.post("/api/workflow/execute", json={"workflow_json": workflow})
    assert refused.status_code == 422, refused.text
    body = refused.json()
    assert body["error"] == "invalid_workflow"
    assert body["details"]["field"] == "workflow_json.retry.max_attempts"


async def test_each_step_records_its_token_usage_and_the_views_add_it_up(
    stack: Stack, gateway: httpx.AsyncClient
):
    streamed = stack.model.streamed_usage
    accepted = await execution_of(gateway, flow_with(marker(), steps=3, n2="[no usage]"))
    details = await wait_for_status(gateway, accepted["thread_id"], {"completed", "failed"})
    assert details["status"] == "completed", details["progress"]
    # The Agent Server streams the model's answer: usage came in the stream's last chunk,
    # which the client asked for.
    assert stack.model.streamed_usage >= streamed + 2
    results = details["results"]
    assert results["n2"]["usage"] is None  # reported none: null, not zero
    for step in ("n1", "n3"):
        usage = results[step]["usage"]
        assert usage["output_tokens"] == fake_tokens(results[step]["output"]), usage
        assert usage["input_tokens"] > 0
        assert usage["total_tokens"] == usage["input_tokens"] + usage["output_tokens"]
    # Later steps send the whole conversation so far: more tokens in.
    assert results["n3"]["usage"]["input_tokens"] > results["n1"]["usage"]["input_tokens"]
    expected = {
        key: results["n1"]["usage"][key] + results["n3"]["usage"][key]
        for key in ("input_tokens", "output_tokens", "total_tokens")
    }
    assert details["usage"] == expected
    execution = (await gateway.get(f"/api/workflow/execution/{accepted['execution_id']}")).json()
    assert execution["usage"] == expected
    assert execution["result"]["n1"]["usage"] == results["n1"]["usage"]


async def test_a_model_that_reports_no_usage_shows_null(gateway: httpx.AsyncClient):
    tag = marker()
    accepted = await execution_of(gateway, flow_with(tag, n1="[no usage]", n2="[no usage]"))
    details = await wait_for_status(gateway, accepted["thread_id"], {"completed", "failed"})
    assert details["status"] == "completed", details["progress"]
    assert details["usage"] is None
    assert [details["results"][s]["usage"] for s in ("n1", "n2")] == [None, None]
    execution = (await gateway.get(f"/api/workflow/execution/{accepted['execution_id']}")).json()
    assert execution["usage"] is None
