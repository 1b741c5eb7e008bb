"""Schedules on the real Agent Server's crons, and completion webhooks received on
loopback: one real minute boundary proves firing, following the latest version,
pinning one, and that deleted and disabled schedules do not run."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from langgraph_sdk.client import LangGraphClient
from langgraph_sdk.errors import UnprocessableEntityError

from tests.integration.helpers import marker, stays, wait_for_execution, wait_for_status
from tests.webhook_receiver import WebhookReceiver


def steps(tag: str, count: int, extra: str = "") -> dict[str, Any]:
    items = [{"title": f"S{i}", "instructions": f"{tag} part {i}{extra}"} for i in range(count)]
    return {"workflow_json": {"name": f"Scheduled {tag}", "steps": items}}


async def scheduled_threads(gateway: httpx.AsyncClient, schedule_id: str) -> list[dict[str, Any]]:
    page = await gateway.get("/api/threads", params={"schedule_id": schedule_id})
    assert page.status_code == 200, page.text
    threads: list[dict[str, Any]] = page.json()["threads"]
    return threads


async def test_schedules_fire_follow_versions_and_stop_when_deleted_or_disabled(
    gateway: httpx.AsyncClient, bob: httpx.AsyncClient, webhooks: WebhookReceiver
):
    tag = marker()
    workflow_id = f"sched-{tag}"
    document = {**steps(tag, 1)["workflow_json"], "id": workflow_id}
    saved = await gateway.post("/api/workflows", json={"workflow_json": document})
    assert saved.status_code == 201, saved.text

    async def schedule(**fields: Any) -> dict[str, Any]:
        body = {"workflow_id": workflow_id, "cron": "* * * * *", **fields}
        response = await gateway.post("/api/schedules", json=body)
        assert response.status_code == 201, response.text
        created: dict[str, Any] = response.json()
        return created

    latest = await schedule(webhook=webhooks.url(f"scheduled-{tag}"), timezone="Europe/Paris")
    pinned = await schedule(version=1)
    deleted = await schedule()
    disabled = await schedule(enabled=False)
    assert latest["next_run_at"] and latest["enabled"] and latest["version"] is None
    assert (latest["timezone"], pinned["version"]) == ("Europe/Paris", 1)
    assert latest["webhook"] == webhooks.url(f"scheduled-{tag}")

    # A second version saved after scheduling is what the "latest" schedule runs.
    await gateway.put(f"/api/workflows/{workflow_id}", json=steps(tag, 2))
    assert (await gateway.delete(f"/api/schedules/{deleted['schedule_id']}")).status_code == 204
    assert (await gateway.get(f"/api/schedules/{deleted['schedule_id']}")).status_code == 404
    shown = (await gateway.get(f"/api/schedules/{disabled['schedule_id']}")).json()
    assert shown["enabled"] is False

    listed = (await gateway.get("/api/schedules", params={"workflow_id": workflow_id})).json()
    assert {s["schedule_id"] for s in listed["schedules"]} == {
        latest["schedule_id"],
        pinned["schedule_id"],
        disabled["schedule_id"],
    }
    assert listed["total"] == 3
    assert (await bob.get(f"/api/schedules/{latest['schedule_id']}")).status_code == 404
    bobs = (await bob.get("/api/schedules", params={"limit": 100})).json()["schedules"]
    assert workflow_id not in {s["workflow_id"] for s in bobs}

    # The next minute boundary (the in-memory scheduler looks every 5 s).
    deadline = time.monotonic() + 80
    while not (await scheduled_threads(gateway, latest["schedule_id"])) or not (
        await scheduled_threads(gateway, pinned["schedule_id"])
    ):
        assert time.monotonic() < deadline, "no scheduled run within 80 s"
        await asyncio.sleep(1)
    ran_latest = (await scheduled_threads(gateway, latest["schedule_id"]))[0]
    ran_pinned = (await scheduled_threads(gateway, pinned["schedule_id"]))[0]
    done = await wait_for_status(gateway, ran_latest["thread_id"], {"completed"})
    assert (done["workflow_id"], done["workflow_version"]) == (workflow_id, 2)
    assert done["progress"]["total_steps"] == 2 and done["schedule_id"] == latest["schedule_id"]
    # The run's thread carries the schedule's webhook, so a resume of it posts there too.
    assert done["metadata"]["webhook"] == webhooks.url(f"scheduled-{tag}")
    done = await wait_for_status(gateway, ran_pinned["thread_id"], {"completed"})
    assert (done["workflow_version"], done["progress"]["total_steps"]) == (1, 1)

    # Both fired at that boundary; the deleted and the disabled one did not, in all the
    # scheduler's next look (every 5 s) either.
    async def none_ran() -> bool:
        ran = [await scheduled_threads(gateway, s["schedule_id"]) for s in (deleted, disabled)]
        return ran == [[], []]

    await stays(none_ran, seconds=6)

    posted = webhooks.wait_for(f"scheduled-{tag}")[0]
    assert posted["status"] == "success" and posted["thread_id"] == ran_latest["thread_id"]
    assert posted["metadata"]["schedule_id"] == latest["schedule_id"]

    # Disabling and deleting the rest leaves nothing scheduled for this workflow.
    off = await gateway.patch(f"/api/schedules/{latest['schedule_id']}", json={"enabled": False})
    assert off.status_code == 200 and off.json()["enabled"] is False
    assert (await gateway.delete(f"/api/workflows/{workflow_id}")).status_code == 204
    listed = (await gateway.get("/api/schedules", params={"workflow_id": workflow_id})).json()
    assert listed["total"] == 0


async def test_invalid_cron_timezone_and_webhook_name_the_field(gateway: httpx.AsyncClient):
    tag = marker()
    workflow_id = f"bad-{tag}"
    document = {**steps(tag, 1)["workflow_json"], "id": workflow_id}
    await gateway.post("/api/workflows", json={"workflow_json": document})
    cases = [
        ({"cron": "every day"}, "cron"),
        ({"cron": "61 * * * *"}, "cron"),
        ({"cron": "*/5 * * * * *"}, "cron"),  # seconds: refused, a run per second
        ({"cron": "0 9 * * *", "timezone": "Mars/Olympus"}, "timezone"),
        # Not an http(s) URL at all: the request's own validation names it.
        ({"cron": "0 9 * * *", "webhook": "ftp://example.com/x"}, "body.webhook"),
        # Private addresses are refused by langgraph.json's policy (no SSRF into the LAN).
        ({"cron": "0 9 * * *", "webhook": "http://10.1.2.3/hook"}, "webhook"),
        ({"cron": "0 0 31 2 *"}, "cron"),  # never fires
        ({"cron": "@daily"}, "cron"),
        # runtime-inmem would stop every schedule's firing over one end_time.
        ({"cron": "0 9 * * *", "end_time": "2030-01-01T00:00:00Z"}, "end_time"),
    ]
    for fields, field in cases:
        response = await gateway.post("/api/schedules", json={"workflow_id": workflow_id, **fields})
        assert response.status_code == 422, (fields, response.text)
        body = response.json()
        if field.startswith("body."):
            assert (body["error"], body["details"][0]["field"]) == ("validation_error", field)
        else:
            assert (body["error"], body["details"]["field"]) == ("invalid_request", field), body
    missing = await gateway.post(
        "/api/schedules", json={"workflow_id": f"no-{tag}", "cron": "0 9 * * *"}
    )
    assert missing.status_code == 404
    listed = (await gateway.get("/api/schedules", params={"workflow_id": workflow_id})).json()
    assert listed["total"] == 0

    good = await gateway.post(
        "/api/schedules", json={"workflow_id": workflow_id, "cron": "0 9 * * *"}
    )
    schedule_id = good.json()["schedule_id"]
    bad = await gateway.patch(f"/api/schedules/{schedule_id}", json={"cron": "nonsense here x y z"})
    assert bad.status_code == 422 and bad.json()["details"]["field"] == "cron"
    moved = await gateway.patch(f"/api/schedules/{schedule_id}", json={"cron": "30 8 * * 1-5"})
    assert moved.json()["cron"] == "30 8 * * 1-5"
    for change, field in (({"cron": None}, "cron"), ({"enabled": None}, "enabled"), ({}, "body")):
        refused = await gateway.patch(f"/api/schedules/{schedule_id}", json=change)
        assert refused.status_code == 422, (change, refused.text)
        assert refused.json()["details"]["field"] == field
    later = await gateway.patch(
        f"/api/schedules/{schedule_id}", json={"end_time": "2030-01-01T00:00:00Z"}
    )
    assert later.status_code == 422 and later.json()["details"]["field"] == "end_time"
    await gateway.delete(f"/api/schedules/{schedule_id}")


async def test_the_agent_server_itself_refuses_end_time_on_the_in_memory_runtime(
    sdk: LangGraphClient,
):
    """A script's own cron with an end time would stop everyone's schedules there."""
    with pytest.raises(UnprocessableEntityError):
        await sdk.crons.create(
            "workflow", schedule="0 9 * * *", input={}, end_time=datetime(2030, 1, 1, tzinfo=UTC)
        )


async def test_execute_webhooks_for_a_completed_and_a_failed_run(
    gateway: httpx.AsyncClient, webhooks: WebhookReceiver
):
    tag = marker()
    ok = await gateway.post(
        "/api/workflow/execute", json={**steps(tag, 1), "webhook": webhooks.url(f"ok-{tag}")}
    )
    failing = await gateway.post(
        "/api/workflow/execute",
        json={**steps(tag, 1, " [fail]"), "webhook": webhooks.url(f"failed-{tag}")},
    )
    assert ok.status_code == failing.status_code == 202, (ok.text, failing.text)
    completed = webhooks.wait_for(f"ok-{tag}")[0]
    assert completed["status"] == "success"
    assert completed["thread_id"] == ok.json()["thread_id"]
    assert completed["run_id"] == ok.json()["execution_id"].split(".")[1]
    assert completed["values"]["phase"] == "done"
    failed = webhooks.wait_for(f"failed-{tag}")[0]
    assert failed["status"] == "error" and failed["thread_id"] == failing.json()["thread_id"]
    assert failed["error"]

    # Exactly one POST each, also a while later.
    async def one_each() -> bool:
        return len(webhooks.posts_to(f"ok-{tag}")) == len(webhooks.posts_to(f"failed-{tag}")) == 1

    await stays(one_each)

    bad = await gateway.post(
        "/api/workflow/execute", json={**steps(tag, 1), "webhook": "not a url"}
    )
    assert bad.status_code == 422 and "webhook" in bad.text


async def test_a_webhook_follows_its_thread_into_resumed_and_later_runs(
    gateway: httpx.AsyncClient, webhooks: WebhookReceiver
):
    """Given to `execute`, the webhook is the thread's: the run that stops at the
    approval posts, and so does the resumed one; the next execute on the thread sets
    the thread's webhook again (a new one replaces it, none clears it)."""
    tag = marker()
    url = webhooks.url(f"follow-{tag}")
    workflow = {
        "name": f"Approved {tag}",
        "steps": [
            {"title": "Draft", "instructions": f"{tag} draft"},
            {"type": "approval", "question": f"{tag} ship?"},
            {"title": "Ship", "instructions": f"{tag} ship"},
        ],
    }
    started = await gateway.post(
        "/api/workflow/execute", json={"workflow_json": workflow, "webhook": url}
    )
    assert started.status_code == 202, started.text
    thread_id = started.json()["thread_id"]
    stopped = webhooks.wait_for(f"follow-{tag}")[0]
    assert stopped["run_id"] == started.json()["execution_id"].split(".")[1]
    await wait_for_status(gateway, thread_id, {"waiting"})

    resumed = await gateway.post(f"/api/threads/{thread_id}/resume", json={"approved": True})
    assert resumed.status_code == 202, resumed.text
    done = webhooks.wait_for(f"follow-{tag}", count=2)[1]
    assert done["status"] == "success" and done["thread_id"] == thread_id
    assert done["run_id"] == resumed.json()["execution_id"].split(".")[1]
    assert done["values"]["phase"] == "done" and done["values"]["outcome"] == "completed"
    # Kept in the thread's metadata, which is where later runs find it.
    assert done["metadata"]["webhook"] == url

    # Another execute on the thread sets its webhook: a new one replaces it...
    other = webhooks.url(f"other-{tag}")
    again = await gateway.post(
        "/api/workflow/execute",
        json={**steps(tag, 1), "thread_id": thread_id, "webhook": other},
    )
    assert again.status_code == 202, again.text
    replaced = webhooks.wait_for(f"other-{tag}")[0]
    assert replaced["status"] == "success" and replaced["metadata"]["webhook"] == other
    # ...and none clears it.
    follow = await gateway.post(
        "/api/workflow/execute", json={"thread_id": thread_id, "message": f"{tag} and then?"}
    )
    assert follow.status_code == 202, follow.text
    execution = follow.json()["execution_id"]
    await wait_for_execution(gateway, execution)
    shown = (await gateway.get(f"/api/threads/{thread_id}")).json()
    assert "follow-up" in shown["results"] and shown["metadata"]["webhook"] is None

    async def as_many_as_runs() -> bool:
        posts = (webhooks.posts_to(f"follow-{tag}"), webhooks.posts_to(f"other-{tag}"))
        return (len(posts[0]), len(posts[1])) == (2, 1)

    await stays(as_many_as_runs)


async def test_a_webhook_follows_its_thread_into_recovery_and_forks(
    gateway: httpx.AsyncClient, webhooks: WebhookReceiver
):
    tag = marker()
    url = webhooks.url(f"recover-{tag}")
    body = steps(tag, 2)
    body["workflow_json"]["steps"][1]["instructions"] += " [fail once]"
    body["webhook"] = url
    started = await gateway.post("/api/workflow/execute", json=body)
    assert started.status_code == 202, started.text
    thread_id = started.json()["thread_id"]
    assert webhooks.wait_for(f"recover-{tag}")[0]["status"] == "error"

    await wait_for_status(gateway, thread_id, {"failed"})
    batch = await gateway.post("/api/threads/failed/resume", json={"thread_ids": [thread_id]})
    assert batch.json()[0]["outcome"] == "resumed", batch.text
    recovered = webhooks.wait_for(f"recover-{tag}", count=2)[1]
    assert recovered["status"] == "success"
    assert recovered["run_id"] == batch.json()[0]["execution_id"].split(".")[1]

    await wait_for_status(gateway, thread_id, {"completed"})
    history = (await gateway.get(f"/api/threads/{thread_id}/history")).json()
    after_first = next(c for c in history if c["completed_steps"] == 1 and c["source"] == "loop")
    forked = await gateway.post(
        f"/api/threads/{thread_id}/fork", json={"checkpoint_id": after_first["checkpoint_id"]}
    )
    assert forked.status_code == 202, forked.text
    refork = webhooks.wait_for(f"recover-{tag}", count=3)[2]
    assert refork["status"] == "success"
    assert refork["run_id"] == forked.json()["execution_id"].split(".")[1]


async def test_a_cron_changed_by_hand_is_skipped_or_refused_never_a_500(
    gateway: httpx.AsyncClient, sdk: LangGraphClient
):
    """The owner may change their crons with an SDK; one whose metadata no longer reads
    as a schedule is left out of listings and a clear 409 when read by id."""
    tag = marker()
    schedule_id = str(uuid.uuid4())
    metadata = {"threadgate": "schedule", "schedule_id": schedule_id, "workflow_id": f"hand-{tag}"}
    await sdk.crons.create(
        "workflow",
        schedule="0 9 * * *",
        input={},
        metadata={**metadata, "workflow_version": "two"},
        enabled=False,
    )
    listed = await gateway.get("/api/schedules", params={"workflow_id": f"hand-{tag}"})
    assert listed.status_code == 200, listed.text
    assert listed.json()["schedules"] == []
    mine = await gateway.get("/api/schedules", params={"limit": 100})
    assert mine.status_code == 200, mine.text
    for call in (gateway.get, lambda path: gateway.patch(path, json={"enabled": True})):
        refused = await call(f"/api/schedules/{schedule_id}")
        assert refused.status_code == 409, refused.text
        assert refused.json()["error"] == "unreadable_schedule"
        assert "workflow_version" in refused.json()["message"]
    assert (await gateway.delete(f"/api/schedules/{schedule_id}")).status_code == 204
    assert (await gateway.get(f"/api/schedules/{schedule_id}")).status_code == 404


async def test_a_schedule_created_while_its_workflow_is_deleted_does_not_survive(
    gateway: httpx.AsyncClient, sdk: LangGraphClient
):
    tag = marker()
    ids = [f"race-{tag}-{i}" for i in range(8)]
    for i, workflow_id in enumerate(ids):
        document = {**steps(f"{tag}{i}", 1)["workflow_json"], "id": workflow_id}
        assert (await gateway.post("/api/workflows", json={"workflow_json": document})).is_success

    async def schedule_after(workflow_id: str, delay: float) -> httpx.Response:
        await asyncio.sleep(delay)
        body = {"workflow_id": workflow_id, "cron": "0 9 * * *", "enabled": False}
        return await gateway.post("/api/schedules", json=body)

    # Each create lands at a different moment of its workflow's delete.
    deleted, created = await asyncio.gather(
        asyncio.gather(*(gateway.delete(f"/api/workflows/{w}") for w in ids)),
        asyncio.gather(*(schedule_after(w, 0.01 * i) for i, w in enumerate(ids))),
    )
    assert [r.status_code for r in deleted] == [204] * len(ids)
    # Each create either lost to the delete (404) or was told 201 and then removed by it.
    assert all(r.status_code in (201, 404) for r in created), [r.text for r in created]
    for answer in created:
        if answer.status_code == 201:
            gone = await gateway.get(f"/api/schedules/{answer.json()['schedule_id']}")
            assert gone.status_code == 404, gone.text
        else:
            assert answer.json()["error"] == "not_found"
    for workflow_id in ids:
        left = await gateway.get("/api/schedules", params={"workflow_id": workflow_id})
        assert left.json()["total"] == 0, (workflow_id, left.json())

    # Schedules a delete left behind (here: made by hand) go with a retried delete,
    # which still answers 404 for the workflow.
    orphan = {"threadgate": "schedule", "schedule_id": str(uuid.uuid4()), "workflow_id": ids[0]}
    await sdk.crons.create(
        "workflow", schedule="0 9 * * *", input={}, metadata=orphan, enabled=False
    )
    assert (await gateway.delete(f"/api/workflows/{ids[0]}")).status_code == 404
    left = await gateway.get("/api/schedules", params={"workflow_id": ids[0]})
    assert left.json()["total"] == 0
