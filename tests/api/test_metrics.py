"""Request ids and metrics, over the mock Agent Server transport.

A request's id is echoed, written in its log lines and sent on each Agent Server call
made for it; `/metrics` counts by route template (never a raw path or an id of anyone's),
and its modes switch it off or put it behind a token.
"""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr, ValidationError

from gateway.agent.client import connect
from gateway.api.app import create_app
from gateway.api.logs import UVICORN_LOGGERS, configure_logging
from gateway.api.routes import metrics as metrics_routes
from gateway.settings import Settings
from tests.api.conftest import ALICE_KEY, FakeAgent
from tests.prometheus import sample_value

THREAD = "01a204ae-a289-7477-8bfd-4c37e06457e1"
RUN = "01a204ae-a28e-7161-ba01-5eed3dcf4684"
WORKFLOW = {"id": "wf-a", "name": "W", "steps": [{"id": "a", "instructions": "do a"}]}
GENERATED = re.compile(r"[0-9a-f]{32}")


def sample(client: TestClient, name: str, **labels: str) -> float:
    """One sample's value as `/metrics` shows it (0 when it is not there yet)."""
    response = client.get("/metrics")
    assert response.status_code == 200, response.text
    return sample_value(response.text, name, **labels)


def requests_counted(client: TestClient, route: str, status: str, method: str = "GET") -> float:
    return sample(
        client, "threadgate_http_requests_total", route=route, method=method, status=status
    )


def app_client(settings: Settings, agent: FakeAgent) -> TestClient:
    sdk = connect(settings, transport=httpx.MockTransport(agent))
    return TestClient(
        create_app(settings, agent=sdk),
        raise_server_exceptions=False,
        headers={"X-API-Key": ALICE_KEY},
    )


# --- request ids -------------------------------------------------------------------


def test_a_request_id_is_echoed_and_sent_on_each_agent_server_call(
    client: TestClient, agent: FakeAgent
):
    agent.handler = lambda _r: httpx.Response(404, json={"detail": "not found"})
    response = client.get(f"/api/threads/{THREAD}", headers={"X-Request-ID": "trace-42/a:b"})
    assert response.status_code == 404
    assert response.headers["x-request-id"] == "trace-42/a:b"
    assert agent.requests, "the Agent Server was not called"
    assert {r.headers.get("x-request-id") for r in agent.requests} == {"trace-42/a:b"}


@pytest.mark.parametrize(
    "sent",
    [b"has space", b"x" * 129, b"caf\xc3\xa9", b"tab\there", b""],
    ids=["space", "too-long", "non-ascii", "control", "empty"],
)
def test_an_unfit_request_id_is_replaced_by_a_new_one(
    client: TestClient, agent: FakeAgent, sent: bytes
):
    agent.handler = lambda _r: httpx.Response(404, json={"detail": "not found"})
    response = client.get(f"/api/threads/{THREAD}", headers=[(b"x-request-id", sent)])
    echoed = response.headers["x-request-id"]
    assert GENERATED.fullmatch(echoed), echoed
    assert {r.headers.get("x-request-id") for r in agent.requests} == {echoed}


def test_each_request_without_an_id_gets_its_own(client: TestClient, agent: FakeAgent):
    agent.handler = lambda _r: httpx.Response(404, json={"detail": "not found"})
    first = client.get(f"/api/threads/{THREAD}").headers["x-request-id"]
    second = client.get(f"/api/threads/{THREAD}").headers["x-request-id"]
    assert GENERATED.fullmatch(first) and GENERATED.fullmatch(second) and first != second
    assert [r.headers["x-request-id"] for r in agent.requests] == [first, second]


def test_a_websocket_gets_its_id_on_the_handshake_and_its_agent_server_calls(
    client: TestClient, agent: FakeAgent
):
    agent.handler = lambda _r: httpx.Response(503, json={"detail": "down"})
    with client.websocket_connect(
        f"/api/threads/{THREAD}/stream", headers={"X-Request-ID": "socket-7"}
    ) as ws:
        assert (b"x-request-id", b"socket-7") in (ws.extra_headers or [])
        assert ws.receive_json()["error"] == "agent_error"
    assert {r.headers.get("x-request-id") for r in agent.requests} == {"socket-7"}


@pytest.fixture
def gateway_log(capsys: pytest.CaptureFixture[str]) -> Iterator[Any]:
    """Undoes `configure_logging` after the test; yields a reader of the JSON lines."""
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    uvicorn = {
        n: (logging.getLogger(n).handlers[:], logging.getLogger(n).propagate)
        for n in UVICORN_LOGGERS
    }

    def lines() -> list[dict[str, Any]]:
        return [json.loads(line) for line in capsys.readouterr().err.splitlines()]

    try:
        yield lines
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
        for name, (handlers, propagate) in uvicorn.items():
            logging.getLogger(name).handlers[:] = handlers
            logging.getLogger(name).propagate = propagate


def test_json_log_lines_name_the_request_they_were_written_for(
    client: TestClient, agent: FakeAgent, gateway_log: Any
):
    configure_logging("INFO", "json")
    agent.handler = lambda _r: httpx.Response(500, json={"detail": "exploded"})
    client.get(f"/api/threads/{THREAD}", headers={"X-Request-ID": "log-me-1"})
    logging.getLogger("gateway.test").warning("outside any request")

    lines = gateway_log()
    failure = next(line for line in lines if "agent server answered 500" in line["message"])
    assert failure["request_id"] == "log-me-1"
    assert failure["level"] == "ERROR" and failure["logger"] == "gateway.api.errors"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", failure["time"])
    outside = next(line for line in lines if line["message"] == "outside any request")
    assert outside["request_id"] is None
    assert all(set(line) >= {"time", "level", "logger", "message", "request_id"} for line in lines)


def test_an_unexpected_error_keeps_its_request_id_in_the_log_and_the_response(
    client: TestClient, agent: FakeAgent, gateway_log: Any
):
    configure_logging("INFO", "json")

    def broken(_request: httpx.Request) -> httpx.Response:
        raise RuntimeError("a bug\nover two lines")

    agent.handler = broken
    response = client.get(f"/api/threads/{THREAD}", headers={"X-Request-ID": "bug-1"})
    assert response.status_code == 500 and response.headers["x-request-id"] == "bug-1"
    [line] = [line for line in gateway_log() if line["message"] == "unexpected error"]
    assert line["request_id"] == "bug-1" and "RuntimeError" in line["exception"]


def test_text_log_lines_carry_the_request_id_too(
    client: TestClient, agent: FakeAgent, gateway_log: Any, capsys: pytest.CaptureFixture[str]
):
    configure_logging("INFO", "text")
    agent.handler = lambda _r: httpx.Response(500, json={"detail": "exploded"})
    client.get(f"/api/threads/{THREAD}", headers={"X-Request-ID": "text-1"})
    logging.getLogger("gateway.test").warning("outside any request")
    err = capsys.readouterr().err
    assert " ERROR gateway.api.errors [text-1]: agent server answered 500" in err
    assert " WARNING gateway.test [-]: outside any request" in err


# --- metrics -----------------------------------------------------------------------


def raising(kind: type[httpx.TransportError]) -> Any:
    def answer(request: httpx.Request) -> httpx.Response:
        raise kind("no answer", request=request)

    return answer


def test_metrics_need_no_credential_and_speak_the_prometheus_text_format(client: TestClient):
    response = client.get("/metrics", headers={"X-API-Key": ""})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    assert "# TYPE threadgate_http_requests_total counter" in response.text
    assert "process_cpu_seconds_total" in response.text
    # Not an API operation: left out of the OpenAPI document (and so of the fuzzing).
    assert [r.include_in_schema for r in metrics_routes.router.routes] == [False]  # type: ignore[attr-defined]


def test_requests_count_under_their_route_template_never_the_path(
    client: TestClient, agent: FakeAgent
):
    agent.handler = lambda _r: httpx.Response(404, json={"detail": "not found"})
    thread = str(uuid.uuid4())
    template = "/api/threads/{thread_id}"
    before = requests_counted(client, template, "404")
    unmatched = requests_counted(client, "unmatched", "404")
    seconds = sample(
        client, "threadgate_http_request_duration_seconds_count", route=template, method="GET"
    )

    assert client.get(f"/api/threads/{thread}").status_code == 404
    assert client.get(f"/no/such/{thread}").status_code == 404
    assert client.request("BREW", "/healthz").status_code == 405

    assert requests_counted(client, template, "404") == before + 1
    assert requests_counted(client, "unmatched", "404") == unmatched + 1
    assert requests_counted(client, "/healthz", "405", method="other") >= 1
    assert (
        sample(
            client, "threadgate_http_request_duration_seconds_count", route=template, method="GET"
        )
        == seconds + 1
    )
    text = client.get("/metrics").text
    assert thread not in text and "alice" not in text and "BREW" not in text


@pytest.mark.parametrize(
    ("answer", "kind", "status"),
    [
        (lambda _r: httpx.Response(404, json={"detail": "gone"}), "not_found", 404),
        (lambda _r: httpx.Response(500, json={"detail": "boom"}), "server_error", 502),
        (lambda _r: httpx.Response(403, json={"detail": "bad key"}), "refused", 502),
        (lambda _r: httpx.Response(200, content=b"<html>proxy</html>"), "unreadable", 502),
        (raising(httpx.ConnectError), "unavailable", 503),
        (raising(httpx.ReadTimeout), "timeout", 504),
    ],
    ids=["not_found", "server_error", "refused", "unreadable", "unavailable", "timeout"],
)
def test_agent_server_errors_count_by_kind(
    client: TestClient, agent: FakeAgent, answer: Any, kind: str, status: int
):
    before = sample(client, "threadgate_agent_server_errors_total", kind=kind)
    agent.handler = answer
    assert client.get(f"/api/threads/{THREAD}/state").status_code == status
    assert sample(client, "threadgate_agent_server_errors_total", kind=kind) == before + 1


def run_answer(request: httpx.Request) -> httpx.Response:
    """The Agent Server's side of a one-step run: created, streamed, joined, read."""
    path = request.url.path
    if request.method == "POST" and path.endswith("/runs"):
        return httpx.Response(200, json={"run_id": RUN, "thread_id": THREAD, "status": "pending"})
    if path.endswith("/stream"):
        # As the workflow graph sends them (agents/workflow.py `_progress_event`).
        step = {"total_steps": 2}
        events = [
            (
                "custom",
                {
                    **step,
                    "event": "step_started",
                    "step_id": "a",
                    "title": "A",
                    "completed_steps": 0,
                },
            ),
            (
                "custom",
                {
                    **step,
                    "event": "step_finished",
                    "step_id": "a",
                    "title": "A",
                    "completed_steps": 1,
                },
            ),
            (
                "custom",
                {
                    **step,
                    "event": "step_started",
                    "step_id": "b",
                    "title": "B",
                    "completed_steps": 1,
                },
            ),
            (
                "custom",
                {
                    **step,
                    "event": "step_finished",
                    "step_id": "b",
                    "title": "B",
                    "completed_steps": 2,
                },
            ),
        ]
        body = "".join(f"event: {e}\ndata: {json.dumps(d)}\n\n" for e, d in events)
        return httpx.Response(200, text=body, headers={"content-type": "text/event-stream"})
    if path.endswith("/join"):
        return httpx.Response(200, json={})
    values = {"plan": [{"id": "a"}, {"id": "b"}], "completed": ["a", "b"], "phase": "done"}
    stamp = "2026-01-01T00:00:00Z"
    thread = {"thread_id": THREAD, "status": "idle", "values": values, "metadata": {}}
    return httpx.Response(200, json={**thread, "created_at": stamp, "updated_at": stamp})


def test_workflows_started_count_by_transport_and_relayed_steps_by_stream(
    client: TestClient, agent: FakeAgent
):
    agent.handler = run_answer
    rest = sample(client, "threadgate_workflows_started_total", transport="rest")
    socket = sample(client, "threadgate_workflows_started_total", transport="websocket")
    steps = sample(client, "threadgate_steps_finished_total", stream="execute")

    assert client.post("/api/workflow/execute", json={"workflow_json": WORKFLOW}).status_code == 202
    refused = client.post("/api/workflow/execute", json={"workflow_json": {"steps": []}})
    assert refused.status_code == 422
    with client.websocket_connect("/api/workflow/execute/stream") as ws:
        ws.send_json({"workflow_json": WORKFLOW})
        frames: list[dict[str, Any]] = []
        while not frames or frames[-1]["type"] not in ("end", "error"):
            frames.append(ws.receive_json())
    assert frames[-1]["type"] == "end", frames[-1]

    assert sample(client, "threadgate_workflows_started_total", transport="rest") == rest + 1
    assert sample(client, "threadgate_workflows_started_total", transport="websocket") == socket + 1
    assert sample(client, "threadgate_steps_finished_total", stream="execute") == steps + 2


def test_an_open_websocket_shows_in_the_gauge_until_it_closes(client: TestClient):
    route = "/api/workflow/execute/stream"
    before = sample(client, "threadgate_websockets_open", route=route)
    with client.websocket_connect(route):  # waits for its first message meanwhile
        assert sample(client, "threadgate_websockets_open", route=route) == before + 1
    assert sample(client, "threadgate_websockets_open", route=route) == before


def test_metrics_off_is_no_route_but_request_ids_stay(settings: Settings, agent: FakeAgent):
    off = settings.model_copy(update={"metrics": "off"})
    with app_client(off, agent) as client:
        response = client.get("/metrics", headers={"X-Request-ID": "still-here"})
        assert response.status_code == 404
        assert response.headers["x-request-id"] == "still-here"


def test_metrics_behind_a_token(settings: Settings, agent: FakeAgent):
    token = "metrics-token-0123456789"
    guarded = settings.model_copy(update={"metrics": "token", "metrics_token": SecretStr(token)})
    with app_client(guarded, agent) as client:
        assert client.get("/metrics").status_code == 401
        wrong = client.get("/metrics", headers={"Authorization": "Bearer not-the-token"})
        assert wrong.status_code == 401 and wrong.json()["error"] == "unauthorized"
        # A user's credential is not the metrics token.
        assert (
            client.get("/metrics", headers={"Authorization": f"Bearer {ALICE_KEY}"}).status_code
            == 401
        )
        good = client.get("/metrics", headers={"Authorization": f"Bearer {token}"})
        assert good.status_code == 200 and "threadgate_http_requests_total" in good.text


def test_token_mode_needs_a_token():
    with pytest.raises(ValidationError, match="THREADGATE_METRICS_TOKEN"):
        Settings(_env_file=None, service_key="s" * 20, auth_disabled=True, metrics="token")
    with pytest.raises(ValidationError, match="THREADGATE_METRICS_TOKEN"):
        Settings(
            _env_file=None,
            service_key="s" * 20,
            auth_disabled=True,
            metrics="token",
            metrics_token="short",
        )


WORKER = """
import sys
from fastapi.testclient import TestClient
from gateway.api.app import create_app
from gateway.settings import Settings

settings = Settings(_env_file=None, service_key="s" * 20, auth_disabled=True)
with TestClient(create_app(settings)) as client:
    for _ in range(int(sys.argv[1])):
        assert client.get("/healthz").status_code == 200
    if sys.argv[2] == "scrape":
        print(client.get("/metrics").text)
"""


def test_multiprocess_mode_adds_up_every_worker(tmp_path: Path):
    """Under `uvicorn --workers N`: whichever worker answers the scrape counts them all."""
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    env = {k: v for k, v in env.items() if not k.startswith("THREADGATE_")}
    worker = [sys.executable, "-c", WORKER]
    subprocess.run([*worker, "2", "quiet"], env=env, check=True, timeout=60)
    scraped = subprocess.run(
        [*worker, "1", "scrape"], env=env, check=True, timeout=60, capture_output=True, text=True
    ).stdout
    counted = {
        tuple(sorted(found.labels.items())): found.value
        for family in text_string_to_metric_families(scraped)
        for found in family.samples
        if found.name == "threadgate_http_requests_total"
    }
    healthz = (("method", "GET"), ("route", "/healthz"), ("status", "200"))
    assert counted[healthz] == 3
