"""The workflow library on the real Agent Server's store: save, version, run, isolate,
delete; a finished run saved as a new workflow."""

from __future__ import annotations

import httpx
from langgraph_sdk.client import LangGraphClient

from agents.contract import LIBRARY_MARK, documents_namespace, workflow_assistant_id
from tests.integration.conftest import Stack
from tests.integration.helpers import (
    marker,
    react_flow,
    stream_frames,
    wait_for_execution,
    wait_for_status,
)


def plain(tag: str, steps: int = 2, workflow_id: str | None = None) -> dict[str, object]:
    document: dict[str, object] = {
        "name": f"Plain {tag}",
        "steps": [{"title": f"S{i}", "instructions": f"{tag} part {i}"} for i in range(steps)],
    }
    if workflow_id:
        document["id"] = workflow_id
    return document


async def test_save_version_read_list_and_delete(gateway: httpx.AsyncClient):
    tag = marker()
    first = react_flow(tag, steps=2)
    created = await gateway.post("/api/workflows", json={"workflow_json": first})
    assert created.status_code == 201, created.text
    saved = created.json()
    assert (saved["workflow_id"], saved["version"], saved["step_count"]) == (f"wf-{tag}", 1, 2)
    assert saved["workflow_json"] == first
    # The document lists its nodes backwards; `steps` is the order they run in.
    assert [step["id"] for step in saved["steps"]] == ["n1", "n2"]
    workflow_id = saved["workflow_id"]

    again = await gateway.post("/api/workflows", json={"workflow_json": first})
    assert again.status_code == 409 and again.json()["error"] == "workflow_exists"

    # The same document adds no version; a changed one adds the next.
    same = await gateway.put(f"/api/workflows/{workflow_id}", json={"workflow_json": first})
    assert same.status_code == 200 and same.json()["version"] == 1
    second = react_flow(tag, steps=3)
    changed = await gateway.put(f"/api/workflows/{workflow_id}", json={"workflow_json": second})
    assert changed.json()["version"] == 2 and changed.json()["step_count"] == 3

    latest = (await gateway.get(f"/api/workflows/{workflow_id}")).json()
    assert latest["version"] == 2 and latest["workflow_json"] == second
    older = (await gateway.get(f"/api/workflows/{workflow_id}", params={"version": 1})).json()
    assert older["version"] == 1 and older["workflow_json"] == first
    versions = (await gateway.get(f"/api/workflows/{workflow_id}/versions")).json()
    assert [v["version"] for v in versions] == [2, 1]
    missing = await gateway.get(f"/api/workflows/{workflow_id}", params={"version": 3})
    assert missing.status_code == 404

    listed = (await gateway.get("/api/workflows", params={"limit": 100})).json()
    mine = [w for w in listed["workflows"] if w["workflow_id"] == workflow_id]
    assert mine and mine[0]["version"] == 2 and "workflow_json" not in mine[0]
    assert listed["total"] >= 1

    assert (await gateway.delete(f"/api/workflows/{workflow_id}")).status_code == 204
    assert (await gateway.get(f"/api/workflows/{workflow_id}")).status_code == 404
    assert (await gateway.get(f"/api/workflows/{workflow_id}/versions")).status_code == 404
    assert (await gateway.delete(f"/api/workflows/{workflow_id}")).status_code == 404
    # The id is free again, and starts over at version 1 with no old versions.
    reused = await gateway.post("/api/workflows", json={"workflow_json": first})
    assert reused.json()["version"] == 1
    versions = (await gateway.get(f"/api/workflows/{workflow_id}/versions")).json()
    assert [v["version"] for v in versions] == [1]


async def test_new_pages_newest_first_and_generated_ids(gateway: httpx.AsyncClient):
    tag = marker()
    ids = []
    for i in range(3):
        response = await gateway.post("/api/workflows", json={"workflow_json": plain(f"{tag}{i}")})
        assert response.status_code == 201, response.text
        ids.append(response.json()["workflow_id"])
    assert all(i.startswith("wf-") for i in ids) and len(set(ids)) == 3
    page = (await gateway.get("/api/workflows", params={"limit": 2})).json()
    assert [w["workflow_id"] for w in page["workflows"]] == [ids[2], ids[1]]
    assert page["next_offset"] == 2
    rest = (await gateway.get("/api/workflows", params={"limit": 2, "offset": 2})).json()
    assert rest["workflows"][0]["workflow_id"] == ids[0]


async def test_invalid_document_is_refused_like_execute_and_nothing_saved(
    gateway: httpx.AsyncClient,
):
    tag = marker()
    bad = react_flow(tag, steps=2)
    bad["nodes"][0]["type"] = "teleport"
    refused = await gateway.post("/api/workflows", json={"workflow_json": bad})
    executed = await gateway.post("/api/workflow/execute", json={"workflow_json": bad})
    assert refused.status_code == executed.status_code == 422
    assert refused.json() == executed.json()
    assert refused.json()["details"]["node_id"] == "n2"
    assert (await gateway.get(f"/api/workflows/wf-{tag}")).status_code == 404

    good = await gateway.post("/api/workflows", json={"workflow_json": react_flow(tag, 2)})
    assert good.status_code == 201
    worse = await gateway.put(f"/api/workflows/wf-{tag}", json={"workflow_json": bad})
    assert worse.status_code == 422
    versions = (await gateway.get(f"/api/workflows/wf-{tag}/versions")).json()
    assert [v["version"] for v in versions] == [1]

    odd_id = await gateway.post("/api/workflows", json={"workflow_json": plain(tag, 1, "a.b")})
    assert odd_id.status_code == 422 and odd_id.json()["details"]["field"] == "workflow_json.id"


async def test_execute_by_id_records_the_version_and_search_finds_it(
    stack: Stack, gateway: httpx.AsyncClient
):
    tag = marker()
    workflow_id = f"lib-{tag}"
    await gateway.post("/api/workflows", json={"workflow_json": plain(tag, 1, workflow_id)})
    await gateway.put(f"/api/workflows/{workflow_id}", json={"workflow_json": plain(tag, 2)})

    latest = await gateway.post("/api/workflow/execute", json={"workflow_id": workflow_id})
    assert latest.status_code == 202, latest.text
    pinned = await gateway.post(
        "/api/workflow/execute", json={"workflow_id": workflow_id, "version": 1}
    )
    done_latest = await wait_for_status(gateway, latest.json()["thread_id"], {"completed"})
    done_pinned = await wait_for_status(gateway, pinned.json()["thread_id"], {"completed"})
    assert (done_latest["workflow_version"], done_latest["progress"]["total_steps"]) == (2, 2)
    assert (done_pinned["workflow_version"], done_pinned["progress"]["total_steps"]) == (1, 1)
    assert done_pinned["metadata"]["workflow_version"] == 1

    found = await gateway.get(
        "/api/threads", params={"workflow_id": workflow_id, "workflow_version": 1}
    )
    assert [t["thread_id"] for t in found.json()["threads"]] == [pinned.json()["thread_id"]]

    # The WebSocket takes the same request.
    frames = await stream_frames(stack.ws_url, {"workflow_id": workflow_id, "version": 2})
    assert frames[-1]["type"] == "end" and frames[-1]["status"] == "completed"

    unknown = await gateway.post("/api/workflow/execute", json={"workflow_id": f"no-{tag}"})
    assert unknown.status_code == 404
    both = await gateway.post(
        "/api/workflow/execute", json={"workflow_id": workflow_id, "workflow_json": plain(tag)}
    )
    assert both.status_code == 422


async def test_another_users_library_is_their_own(
    gateway: httpx.AsyncClient, bob: httpx.AsyncClient, sdk: LangGraphClient
):
    """Bob may save a workflow under an id alice uses; each keeps their own (the
    404 matrix for every route is in test_isolation)."""
    tag = marker()
    workflow_id = f"secret-{tag}"
    await gateway.post("/api/workflows", json={"workflow_json": plain(tag, 1, workflow_id)})
    document = {"workflow_json": plain(tag, 2)}
    assert (
        await bob.post("/api/workflows", json={"workflow_json": plain(tag, 2, workflow_id)})
    ).status_code == 201
    assert (await bob.put(f"/api/workflows/{workflow_id}", json=document)).status_code == 200
    mine = (await gateway.get(f"/api/workflows/{workflow_id}")).json()
    assert (mine["version"], mine["step_count"]) == (1, 1)
    # Alice's own assistant, owned as the Agent Server's auth requires.
    assistant = await sdk.assistants.get(workflow_assistant_id("alice", workflow_id))
    assert (assistant["version"], (assistant["metadata"] or {})["owner"]) == (1, "alice")


async def test_a_finished_run_saved_as_a_new_workflow(gateway: httpx.AsyncClient):
    tag = marker()
    flow = react_flow(tag, steps=2)
    flow["nodes"].append(
        {"id": "ok", "type": "approval", "data": {"label": "OK?", "question": f"{tag} ship?"}}
    )
    flow["edges"].append({"id": "e9", "source": "n2", "target": "ok"})
    started = await gateway.post("/api/workflow/execute", json={"workflow_json": flow})
    thread_id = started.json()["thread_id"]
    await wait_for_status(gateway, thread_id, {"waiting"})
    await gateway.post(f"/api/threads/{thread_id}/resume", json={"approved": True})
    await wait_for_status(gateway, thread_id, {"completed"})

    saved = await gateway.post(
        f"/api/threads/{thread_id}/save-as-workflow",
        json={"workflow_id": f"tpl-{tag}", "name": "Template"},
    )
    assert saved.status_code == 201, saved.text
    body = saved.json()
    assert (body["workflow_id"], body["name"], body["step_count"]) == (f"tpl-{tag}", "Template", 3)
    steps = body["workflow_json"]["steps"]
    assert [s["type"] for s in steps] == ["task", "task", "approval"]
    assert steps[2]["question"] == f"{tag} ship?"

    # It runs as saved, and the new thread waits at the same approval.
    rerun = await gateway.post("/api/workflow/execute", json={"workflow_id": f"tpl-{tag}"})
    waiting = await wait_for_status(gateway, rerun.json()["thread_id"], {"waiting"})
    assert waiting["question"]["question"] == f"{tag} ship?"
    await gateway.post(f"/api/threads/{rerun.json()['thread_id']}/cancel")

    generated = await gateway.post(f"/api/threads/{thread_id}/save-as-workflow", json={})
    assert generated.status_code == 201 and generated.json()["workflow_id"].startswith("wf-")
    # Every field is optional, so is the body (`curl -X POST` with no `-d`).
    bodiless = await gateway.post(f"/api/threads/{thread_id}/save-as-workflow")
    assert bodiless.status_code == 201, bodiless.text


async def test_a_saved_workflows_own_retry_setting_holds_when_run_by_id(
    stack: Stack, gateway: httpx.AsyncClient
):
    tag = marker()
    document = {**plain(f"{tag} [fail 3 times]", 1, f"retry-{tag}"), "retry": {"max_attempts": 4}}
    await gateway.post("/api/workflows", json={"workflow_json": document})
    started = await gateway.post("/api/workflow/execute", json={"workflow_id": f"retry-{tag}"})
    done = await wait_for_status(gateway, started.json()["thread_id"], {"completed", "failed"})
    assert done["status"] == "completed", done
    assert next(iter(done["results"].values()))["attempts"] == 4


async def test_a_follow_up_keeps_the_threads_saved_version(gateway: httpx.AsyncClient):
    tag = marker()
    await gateway.post("/api/workflows", json={"workflow_json": plain(tag, 1, f"fu-{tag}")})
    started = await gateway.post("/api/workflow/execute", json={"workflow_id": f"fu-{tag}"})
    thread_id = started.json()["thread_id"]
    await wait_for_status(gateway, thread_id, {"completed"})
    follow = {"thread_id": thread_id, "message": f"{tag} and then?"}
    execution = (await gateway.post("/api/workflow/execute", json=follow)).json()["execution_id"]
    await wait_for_execution(gateway, execution)
    done = (await gateway.get(f"/api/threads/{thread_id}")).json()
    assert "follow-up" in done["results"] and done["metadata"]["workflow_version"] == 1
    found = await gateway.get(
        "/api/threads", params={"workflow_id": f"fu-{tag}", "workflow_version": 1}
    )
    assert [t["thread_id"] for t in found.json()["threads"]] == [thread_id]


async def test_workflows_written_by_hand_never_make_a_500(
    gateway: httpx.AsyncClient, sdk: LangGraphClient
):
    """The owner may write their own library assistants and documents with an SDK:
    listings skip what does not read as a workflow, and reading one is a 409 that says
    how to clear it."""
    tag = marker()
    junk, odd, good = f"junk-{tag}", f"odd-{tag}", f"good-{tag}"
    for workflow_id, extra in ((junk, {}), (odd, {"name": 5, "step_count": "x"})):
        await sdk.assistants.create(
            "workflow",
            assistant_id=workflow_assistant_id("alice", workflow_id),
            metadata={**LIBRARY_MARK, "workflow_id": workflow_id, **extra},
            if_exists="raise",
        )
    assert (
        await gateway.post("/api/workflows", json={"workflow_json": plain(tag, 1, good)})
    ).is_success

    listed = await gateway.get("/api/workflows", params={"limit": 100})
    assert listed.status_code == 200, listed.text
    shown = {w["workflow_id"] for w in listed.json()["workflows"]}
    assert good in shown and not {junk, odd} & shown
    for workflow_id in (junk, odd):
        for response in (
            await gateway.get(f"/api/workflows/{workflow_id}"),
            await gateway.post("/api/workflow/execute", json={"workflow_id": workflow_id}),
            await gateway.post(f"/api/workflows/{workflow_id}/rollback", json={"version": 1}),
        ):
            assert response.status_code == 409, response.text
            body = response.json()
            assert body["error"] == "unreadable_workflow"
            assert f"DELETE /api/workflows/{workflow_id}" in body["message"]
        assert (await gateway.get(f"/api/workflows/{workflow_id}/versions")).json() == []
        assert (await gateway.delete(f"/api/workflows/{workflow_id}")).status_code == 204
        assert (await gateway.get(f"/api/workflows/{workflow_id}")).status_code == 404

    # A readable workflow whose latest version was overwritten by hand...
    assistant_id = workflow_assistant_id("alice", good)
    await sdk.assistants.update(assistant_id, metadata={"document": "not a hash"})
    broken = await gateway.get(f"/api/workflows/{good}")
    assert broken.status_code == 409 and broken.json()["details"]["version"] == 2
    assert [
        v["version"] for v in (await gateway.get(f"/api/workflows/{good}/versions")).json()
    ] == [1]
    # ... is mended by saving a new version.
    mended = await gateway.put(f"/api/workflows/{good}", json={"workflow_json": plain(tag, 2)})
    assert mended.status_code == 200 and mended.json()["version"] == 3
    assert (await gateway.get(f"/api/workflows/{good}")).json()["step_count"] == 2
    # A version whose document was deleted by hand is a 409 too, not a 500.
    first = (await sdk.assistants.get_versions(assistant_id, limit=1, offset=2))[0]["metadata"]
    documents = list(documents_namespace("alice", good, (first or {})["incarnation"]))
    await sdk.store.delete_item(documents, (first or {})["document"])
    gone = await gateway.get(f"/api/workflows/{good}", params={"version": 1})
    assert gone.status_code == 409 and "document is missing" in gone.json()["message"]


async def test_versions_list_summaries_a_page_at_a_time(gateway: httpx.AsyncClient):
    """A listing never carries documents, so its size does not grow with theirs."""
    tag = marker()
    workflow_id = f"big-{tag}"
    long = "x" * 19_000
    for i in range(4):
        document = {
            "id": workflow_id,
            "name": f"Big {tag}",
            "steps": [{"instructions": f"{i}{long}"}],
        }
        saved = await gateway.request(
            "POST" if i == 0 else "PUT",
            "/api/workflows" if i == 0 else f"/api/workflows/{workflow_id}",
            json={"workflow_json": document},
        )
        assert saved.is_success and saved.json()["version"] == i + 1, saved.text
    listed = await gateway.get(f"/api/workflows/{workflow_id}/versions")
    assert [v["version"] for v in listed.json()] == [4, 3, 2, 1]
    assert len(listed.content) < 2_000, "documents are not listed"
    page = await gateway.get(
        f"/api/workflows/{workflow_id}/versions", params={"limit": 2, "offset": 1}
    )
    assert [v["version"] for v in page.json()] == [3, 2]
    past_the_end = await gateway.get(f"/api/workflows/{workflow_id}/versions", params={"offset": 4})
    assert (past_the_end.status_code, past_the_end.json()) == (200, [])
    capped = await gateway.get(f"/api/workflows/{workflow_id}/versions", params={"limit": 500})
    assert capped.status_code == 200 and len(capped.json()) == 4, "capped, like every listing"
    too_many = await gateway.get(f"/api/workflows/{workflow_id}/versions", params={"limit": 1001})
    assert too_many.status_code == 422


async def test_rollback_saves_an_earlier_document_as_the_newest_version(
    gateway: httpx.AsyncClient,
):
    tag = marker()
    workflow_id = f"rb-{tag}"
    first, second = plain(tag, 1, workflow_id), plain(tag, 2, workflow_id)
    await gateway.post("/api/workflows", json={"workflow_json": first})
    await gateway.put(f"/api/workflows/{workflow_id}", json={"workflow_json": second})
    rolled = await gateway.post(f"/api/workflows/{workflow_id}/rollback", json={"version": 1})
    assert rolled.status_code == 200, rolled.text
    assert (rolled.json()["version"], rolled.json()["workflow_json"]) == (3, first)
    latest = (await gateway.get(f"/api/workflows/{workflow_id}")).json()
    assert (latest["version"], latest["step_count"]) == (3, 1)
    # Rolling back to what already is the latest adds nothing.
    again = await gateway.post(f"/api/workflows/{workflow_id}/rollback", json={"version": 1})
    assert again.json()["version"] == 3
    versions = (await gateway.get(f"/api/workflows/{workflow_id}/versions")).json()
    assert [(v["version"], v["step_count"]) for v in versions] == [(3, 1), (2, 2), (1, 1)]
    missing = await gateway.post(f"/api/workflows/{workflow_id}/rollback", json={"version": 9})
    assert missing.status_code == 404
    nobody = await gateway.post(f"/api/workflows/no-{tag}/rollback", json={"version": 1})
    assert nobody.status_code == 404


async def test_a_delete_removes_the_workflow_and_its_documents(
    gateway: httpx.AsyncClient, sdk: LangGraphClient
):
    tag = marker()
    workflow_id = f"del-{tag}"
    await gateway.post("/api/workflows", json={"workflow_json": plain(tag, 1, workflow_id)})
    await gateway.put(f"/api/workflows/{workflow_id}", json={"workflow_json": plain(tag, 2)})
    latest = await sdk.assistants.get(workflow_assistant_id("alice", workflow_id))
    life = (latest["metadata"] or {})["incarnation"]
    documents = list(documents_namespace("alice", workflow_id, life))
    assert len((await sdk.store.search_items(documents, limit=10))["items"]) == 2
    assert (await gateway.delete(f"/api/workflows/{workflow_id}")).status_code == 204
    assert (await sdk.store.search_items(documents, limit=10))["items"] == []
    assert await sdk.assistants.search(metadata={"workflow_id": workflow_id}) == []
    # Saved again, the id starts a new life: the old one's clean-up cannot reach it.
    await gateway.post("/api/workflows", json={"workflow_json": plain(tag, 1, workflow_id)})
    again = await sdk.assistants.get(workflow_assistant_id("alice", workflow_id))
    assert (again["metadata"] or {})["incarnation"] != life
