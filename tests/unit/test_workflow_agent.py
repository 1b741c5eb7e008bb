"""The workflow graph in-process: one checkpoint per step, progress events, approvals."""

from __future__ import annotations

import pickle
from collections.abc import Iterator
from typing import Any

import httpx
import httpx2
import openai
import pytest
from langchain_core.exceptions import (
    ContextOverflowError,
    ModelConnectionError,
    ModelRateLimitError,
)
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer
from langgraph.store.memory import InMemoryStore
from langgraph.types import Command
from pydantic import BaseModel, Field, ValidationError

from agents import workflow
from agents.contract import MAX_STEP_ATTEMPTS, PAUSE_REQUESTS
from agents.model import OfflineChatModel, chat_model, offline_tokens, step_usage
from agents.retry import (
    StepCallFailed,
    StepRetrySettings,
    retry_settings,
    step_max_attempts,
    step_retry_policy,
    transient,
)
from agents.workflow import build_graph


def plan_input(*kinds: str) -> dict[str, Any]:
    plan = [
        {"id": f"s{i}", "type": kind, "title": f"Step {i}", "prompt": f"instructions {i}"}
        for i, kind in enumerate(kinds, start=1)
    ]
    return {
        "messages": [{"role": "user", "content": "run it"}],
        "plan": plan,
        "results": {},
        "completed": [],
        "phase": "pending",
        "outcome": None,
    }


async def run(graph: Any, payload: Any, thread: str) -> list[tuple[str, Any]]:
    config = {"configurable": {"thread_id": thread}}
    return [
        (mode, data)
        async for mode, data in graph.astream(payload, config, stream_mode=["custom", "updates"])
    ]


async def test_each_step_is_its_own_checkpoint_with_progress_events():
    graph = build_graph(InMemorySaver())
    events = await run(graph, plan_input("task", "task", "task"), "t1")
    progress = [d for mode, d in events if mode == "custom"]
    assert [(p["event"], p["completed_steps"]) for p in progress] == [
        ("step_started", 0),
        ("step_finished", 1),
        ("step_started", 1),
        ("step_finished", 2),
        ("step_started", 2),
        ("step_finished", 3),
    ]
    config = {"configurable": {"thread_id": "t1"}}
    history = [s async for s in graph.aget_state_history(config)]
    completed_per_checkpoint = sorted(len(s.values.get("completed", [])) for s in history)
    assert completed_per_checkpoint[-4:] == [0, 1, 2, 3]
    final = await graph.aget_state(config)
    assert final.values["phase"] == "done" and final.values["outcome"] == "completed"
    assert list(final.values["results"]) == ["s1", "s2", "s3"]


async def test_later_steps_see_earlier_results_in_the_conversation():
    graph = build_graph(InMemorySaver())
    await run(graph, plan_input("task", "task"), "t2")
    state = await graph.aget_state({"configurable": {"thread_id": "t2"}})
    texts = [m.text for m in state.values["messages"]]
    assert texts[0] == "run it"
    assert "Step 1/2" in texts[1] and texts[2] == state.values["results"]["s1"]["output"]
    assert "instructions 2" in texts[3]


async def test_approval_waits_then_continues_when_approved():
    graph = build_graph(InMemorySaver())
    config = {"configurable": {"thread_id": "t3"}}
    await run(graph, plan_input("task", "approval", "task"), "t3")
    waiting = await graph.aget_state(config)
    assert waiting.next == ("approval",)
    assert waiting.interrupts[0].value["question"] == "instructions 2"
    await run(graph, Command(resume={"approved": True, "comment": "fine"}), "t3")
    done = await graph.aget_state(config)
    assert done.values["completed"] == ["s1", "s2", "s3"]
    assert done.values["results"]["s2"] == {"output": "approved: fine", "approved": True}


async def test_rejected_approval_ends_the_workflow():
    graph = build_graph(InMemorySaver())
    config = {"configurable": {"thread_id": "t4"}}
    await run(graph, plan_input("approval", "task"), "t4")
    await run(graph, Command(resume={"approved": False}), "t4")
    state = await graph.aget_state(config)
    assert state.values["outcome"] == "rejected" and state.values["phase"] == "done"
    assert "s2" not in state.values["results"] and state.next == ()


def test_offline_model_is_deterministic_and_sees_the_history():
    model = OfflineChatModel()
    first = model.invoke("Summarise\nthe report").text
    assert first == model.invoke("Summarise\nthe report").text
    assert "Summarise / the report" in first
    assert model.invoke([("user", "earlier"), ("user", "Summarise\nthe report")]).text != first


async def test_pause_request_stops_at_the_next_boundary_and_resume_continues():
    store = InMemoryStore()
    graph = build_graph(InMemorySaver(), store)
    config = {"configurable": {"thread_id": "t5"}}
    async for _mode, event in graph.astream(
        plan_input("task", "task", "task"), config, stream_mode=["custom"]
    ):
        if event["event"] == "step_started" and event["step_id"] == "s1":
            await store.aput(PAUSE_REQUESTS, "t5", {"run_id": None})
    paused = await graph.aget_state(config)
    assert paused.values["completed"] == ["s1"] and paused.values["phase"] == "paused"
    assert paused.next == () and await store.aget(PAUSE_REQUESTS, "t5") is None

    await run(graph, {"phase": "running"}, "t5")
    done = await graph.aget_state(config)
    assert done.values["completed"] == ["s1", "s2", "s3"] and done.values["phase"] == "done"


async def test_pause_request_for_another_run_is_dropped():
    store = InMemoryStore()
    graph = build_graph(InMemorySaver(), store)
    await store.aput(PAUSE_REQUESTS, "t6", {"run_id": "an-earlier-run"})
    config = {"configurable": {"thread_id": "t6"}, "metadata": {"run_id": "this-run"}}
    async for _ in graph.astream(plan_input("task", "task"), config):
        pass
    state = await graph.aget_state(config)
    assert state.values["phase"] == "done" and await store.aget(PAUSE_REQUESTS, "t6") is None


# Retries and token usage.


def status_error(status: int) -> openai.APIStatusError:
    """What the OpenAI client raises for an HTTP error answer."""
    request = httpx2.Request("POST", "http://model.invalid/v1/chat/completions")
    response = httpx2.Response(status, request=request, json={"error": {"message": "no"}})
    kind = {400: openai.BadRequestError, 429: openai.RateLimitError}.get(
        status, openai.InternalServerError if status >= 500 else openai.APIStatusError
    )
    return kind(f"Error code: {status}", response=response, body=None)


class FlakyModel(BaseChatModel):
    """Raises the given errors on its first calls, then answers; reports no usage."""

    errors: list[Exception] = Field(default_factory=list)
    calls: int = 0

    @property
    def _llm_type(self) -> str:
        return "flaky"

    def _generate(self, *_: Any, **__: Any) -> ChatResult:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content="done"))])


@pytest.fixture
def flaky(monkeypatch: pytest.MonkeyPatch) -> Iterator[FlakyModel]:
    """The task node's model, made to fail on demand; retries wait no time."""
    model = FlakyModel()
    monkeypatch.setattr(workflow, "chat_model", lambda: model)
    monkeypatch.setenv("THREADGATE_STEP_RETRY_INITIAL_SECONDS", "0")
    monkeypatch.setenv("THREADGATE_STEP_RETRY_JITTER", "false")
    retry_settings.cache_clear()
    yield model
    retry_settings.cache_clear()


async def run_failing(graph: Any, payload: Any, thread: str) -> Any:
    """Run until the graph raises (a failed step); the thread's state after it."""
    with pytest.raises(StepCallFailed):
        await run(graph, payload, thread)
    return await graph.aget_state({"configurable": {"thread_id": thread}})


async def test_a_transient_failure_is_retried_and_the_attempts_recorded(flaky: FlakyModel):
    flaky.errors = [
        status_error(503),
        openai.APIConnectionError(request=httpx2.Request("GET", "/")),
    ]
    graph = build_graph(InMemorySaver())
    await run(graph, plan_input("task", "task"), "r1")
    state = await graph.aget_state({"configurable": {"thread_id": "r1"}})
    assert state.values["phase"] == "done" and flaky.calls == 4
    assert state.values["results"]["s1"] == {
        "output": "done",
        "approved": None,
        "attempts": 3,
        "usage": None,  # this model reports none: null, not zero
    }
    assert state.values["results"]["s2"]["attempts"] == 1


async def test_a_permanent_failure_fails_at_once_saying_so(flaky: FlakyModel):
    flaky.errors = [status_error(400)]
    graph = build_graph(InMemorySaver())
    state = await run_failing(graph, plan_input("task"), "r2")
    assert flaky.calls == 1 and state.values["completed"] == []
    error = str(state.tasks[0].error)
    assert error.startswith("failed after 1 attempt (not retryable): BadRequestError("), error


async def test_retries_stop_at_the_limit_and_the_error_counts_them(flaky: FlakyModel):
    flaky.errors = [status_error(429)] * 5
    graph = build_graph(InMemorySaver())
    state = await run_failing(graph, plan_input("task"), "r3")
    assert flaky.calls == 3
    error = str(state.tasks[0].error)
    assert error.startswith("failed after 3 attempts (retries exhausted): RateLimitError("), error


async def test_a_workflow_may_ask_for_more_attempts(flaky: FlakyModel):
    flaky.errors = [status_error(502)] * 4
    graph = build_graph(InMemorySaver())
    payload = {**plan_input("task"), "workflow": {"id": "w", "retry": {"max_attempts": 5}}}
    await run(graph, payload, "r4")
    state = await graph.aget_state({"configurable": {"thread_id": "r4"}})
    assert flaky.calls == 5 and state.values["results"]["s1"]["attempts"] == 5


async def test_a_workflow_may_ask_for_fewer_attempts(flaky: FlakyModel):
    flaky.errors = [status_error(500)] * 2
    graph = build_graph(InMemorySaver())
    payload = {**plan_input("task"), "workflow": {"id": "w", "retry": {"max_attempts": 1}}}
    state = await run_failing(graph, payload, "r5")
    assert flaky.calls == 1 and "after 1 attempt (retries exhausted)" in str(state.tasks[0].error)


@pytest.mark.parametrize(
    ("error", "retried"),
    [
        (openai.APIConnectionError(request=httpx2.Request("GET", "/")), True),
        (openai.APITimeoutError(request=httpx2.Request("GET", "/")), True),
        (status_error(429), True),
        (status_error(500), True),
        (status_error(503), True),
        (status_error(408), True),
        (status_error(400), False),
        (status_error(401), False),
        (status_error(404), False),
        (status_error(422), False),
        (
            httpx.HTTPStatusError(
                "bad gateway",
                request=httpx.Request("GET", "/"),
                response=httpx.Response(502, request=httpx.Request("GET", "/")),
            ),
            True,
        ),
        (httpx.ConnectError("refused"), True),
        (httpx.ReadTimeout("slow"), True),
        (httpx2.ConnectError("refused"), True),
        (httpx2.RemoteProtocolError("cut"), True),
        (httpx.UnsupportedProtocol("ftp"), False),
        (TimeoutError(), True),
        (ConnectionResetError(), True),
        (ValueError("bad output"), False),
        (ModelRateLimitError("slow down"), True),
        (ModelConnectionError("unreachable"), True),
        (ContextOverflowError("too long"), False),
        (KeyError("x"), False),
    ],
)
def test_which_errors_are_transient(error: Exception, retried: bool):
    assert transient(error) is retried
    assert StepCallFailed(error, 1, 3).retry is retried
    assert StepCallFailed(error, 3, 3).retry is False


class Counted(BaseModel):
    n: int


def test_a_validation_error_is_permanent():
    with pytest.raises(ValidationError) as caught:
        Counted.model_validate({"n": "x"})
    assert not transient(caught.value)


def test_retry_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("THREADGATE_STEP_MAX_ATTEMPTS", "4")
    monkeypatch.setenv("THREADGATE_STEP_RETRY_INITIAL_SECONDS", "0.25")
    monkeypatch.setenv("THREADGATE_STEP_RETRY_BACKOFF_FACTOR", "3")
    monkeypatch.setenv("THREADGATE_STEP_RETRY_MAX_SECONDS", "9")
    monkeypatch.setenv("THREADGATE_STEP_RETRY_JITTER", "false")
    retry_settings.cache_clear()
    try:
        policy = step_retry_policy()
        assert step_max_attempts(None) == 4 and step_max_attempts({"id": "w"}) == 4
        assert step_max_attempts({"retry": {"max_attempts": 7}}) == 7
    finally:
        retry_settings.cache_clear()
    assert (policy.initial_interval, policy.backoff_factor, policy.max_interval) == (0.25, 3, 9)
    assert policy.jitter is False and policy.max_attempts == MAX_STEP_ATTEMPTS


def test_an_out_of_range_retry_setting_fails_at_start(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("THREADGATE_STEP_MAX_ATTEMPTS", str(MAX_STEP_ATTEMPTS + 1))
    with pytest.raises(ValidationError, match="max_attempts"):
        StepRetrySettings()


def test_a_failed_step_error_survives_a_checkpoint_round_trip():
    failed = StepCallFailed(status_error(503), 3, 3)
    serde = JsonPlusSerializer()
    assert serde.loads_typed(serde.dumps_typed(failed)) == str(failed)
    again = pickle.loads(pickle.dumps(failed))
    assert str(again) == str(failed) and (again.attempt, again.retry) == (3, False)


async def test_the_offline_model_reports_usage_and_the_step_records_it():
    model = OfflineChatModel()
    reply = model.invoke("Summarise\nthe report")
    assert reply.usage_metadata == {
        "input_tokens": offline_tokens("Summarise\nthe report"),
        "output_tokens": offline_tokens(reply.text),
        "total_tokens": offline_tokens("Summarise\nthe report") + offline_tokens(reply.text),
    }
    graph = build_graph(InMemorySaver())
    await run(graph, plan_input("task", "approval"), "u1")
    state = await graph.aget_state({"configurable": {"thread_id": "u1"}})
    result = state.values["results"]["s1"]
    usage = result["usage"]
    assert result["attempts"] == 1 and usage["output_tokens"] == offline_tokens(result["output"])
    assert usage["input_tokens"] > 0
    assert usage["total_tokens"] == usage["input_tokens"] + usage["output_tokens"]


def test_step_usage_keeps_the_three_counts_or_none():
    reported = AIMessage(
        content="x",
        usage_metadata={
            "input_tokens": 7,
            "output_tokens": 2,
            "total_tokens": 9,
            "input_token_details": {"cache_read": 3},
        },
    )
    assert step_usage(reported) == {"input_tokens": 7, "output_tokens": 2, "total_tokens": 9}
    assert step_usage(AIMessage(content="x")) is None


def test_the_client_does_not_retry_and_streams_usage(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("OPENAI_API_KEY", "not-a-key")
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    chat_model.cache_clear()
    try:
        model = chat_model("openai:some-model")
        assert model.max_retries == 0 and model.stream_usage is True  # type: ignore[attr-defined]
        monkeypatch.setenv("THREADGATE_MODEL_STREAM_USAGE", "false")
        chat_model.cache_clear()
        assert not chat_model("openai:some-model").stream_usage  # type: ignore[attr-defined]
    finally:
        chat_model.cache_clear()
