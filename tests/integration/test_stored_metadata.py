"""Stored data never blames the request: a user who writes odd metadata onto her own
threads with the SDK still gets her listings and reads, the odd fields shown as null."""

from __future__ import annotations

import httpx
from langgraph_sdk.client import LangGraphClient

from tests.integration.helpers import marker, react_flow, start, wait_for_status

# What a script can write straight to the Agent Server: every field of the wrong type.
ODD = {"workflow_version": "x", "workflow_name": 7, "schedule_id": [], "webhook": 3}


async def test_odd_stored_metadata_reads_as_null_not_as_a_bad_request(
    gateway: httpx.AsyncClient, sdk: LangGraphClient
):
    tag = marker()
    odd = await start(gateway, react_flow(tag, steps=1, name="Odd"))
    numbered = await start(gateway, react_flow(marker(), steps=1))
    for thread_id in (odd, numbered):
        await wait_for_status(gateway, thread_id, {"completed"})
    await sdk.threads.update(odd, metadata=ODD)
    await sdk.threads.update(numbered, metadata={"workflow_id": 5})

    listed = await gateway.get("/api/threads", params={"limit": 100, "sort_by": "updated_at"})
    assert listed.status_code == 200, listed.text
    by_id = {t["thread_id"]: t for t in listed.json()["threads"]}
    assert by_id[numbered]["workflow_id"] is None
    assert by_id[odd]["workflow_id"] == f"wf-{tag}"

    filtered = await gateway.get("/api/threads", params={"workflow_id": f"wf-{tag}"})
    assert filtered.status_code == 200, filtered.text
    [summary] = filtered.json()["threads"]
    assert summary["thread_id"] == odd
    assert (summary["workflow_version"], summary["schedule_id"]) == (None, None)
    # The metadata's name is unreadable; the name the run itself recorded is shown.
    assert summary["workflow_name"] == "Odd"
    assert summary["status"] == "completed"

    for thread_id, expected in ((odd, ODD), (numbered, {"workflow_id": 5})):
        read = await gateway.get(f"/api/threads/{thread_id}")
        assert read.status_code == 200, read.text
        details = read.json()
        assert details["status"] == "completed"
        # The raw metadata is shown as stored: that is where the odd value can be seen.
        assert expected.items() <= details["metadata"].items()
    read_odd = (await gateway.get(f"/api/threads/{odd}")).json()
    assert (read_odd["workflow_version"], read_odd["schedule_id"]) == (None, None)
    read_numbered = (await gateway.get(f"/api/threads/{numbered}")).json()
    assert read_numbered["workflow_id"] is None


async def test_odd_stored_values_read_as_empty_not_as_a_failure(
    gateway: httpx.AsyncClient, sdk: LangGraphClient
):
    tag = marker()
    thread_id = await start(gateway, react_flow(tag, steps=1))
    await wait_for_status(gateway, thread_id, {"completed"})
    # The graph keeps the last value written to each of these: a script can write anything
    # the agent's own routing survives (a plan it can read, all of it finished).
    odd = {
        "plan": [{"id": "n1", "title": 7, "type": "task"}],
        "completed": ["n1", 5],
        "phase": ["done"],
        "outcome": 7,
        "workflow": 3,
        "results": [1],
    }
    await sdk.threads.update_state(thread_id, values=odd)

    listed = await gateway.get("/api/threads", params={"workflow_id": f"wf-{tag}"})
    assert listed.status_code == 200, listed.text
    [summary] = listed.json()["threads"]
    progress = summary["progress"]
    assert (progress["total_steps"], progress["completed_steps"]) == (1, 1)
    assert progress["outcome"] is None
    assert (summary["workflow_name"], summary["workflow_version"]) == ("Report", None)
    read = await gateway.get(f"/api/threads/{thread_id}")
    assert read.status_code == 200, read.text
    assert read.json()["results"] == {} and read.json()["usage"] is None
