"""A method a path does not list is a 405 naming the methods it does list (`Allow`),
also where a path's last segment could be read as a thread id."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from gateway.api.routes.common import THREAD_ROUTE_WORDS


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("TRACE", "/healthz", {"GET"}),
        ("DELETE", "/api/threads/failed", {"GET"}),
        ("GET", "/api/threads/prune", {"POST"}),
        ("PUT", "/api/threads", {"GET"}),
        ("GET", "/api/threads/failed/resume", {"POST"}),
        ("POST", "/api/threads/01a204ae-a289-7477-8bfd-4c37e06457e1", {"GET", "DELETE"}),
        ("PATCH", "/api/workflow/execute", {"POST"}),
    ],
)
def test_a_method_not_listed_is_405_with_allow(
    client: TestClient, method: str, path: str, allowed: set[str]
):
    response = client.request(method, path)
    assert response.status_code == 405, response.text
    assert response.json()["error"] == "method_not_allowed"
    assert set(response.headers["allow"].replace(" ", "").split(",")) == allowed


def test_a_malformed_thread_id_is_still_named_at_fault(client: TestClient):
    response = client.get("/api/threads/not-a-thread")
    assert response.status_code == 422
    assert "not a valid thread id" in response.json()["message"]


def test_every_fixed_segment_under_threads_is_kept_from_thread_ids(client: TestClient):
    """A new fixed route under /api/threads must join THREAD_ROUTE_WORDS."""
    fixed = {
        path.split("/")[3]
        for path in client.app.openapi()["paths"]  # type: ignore[attr-defined]
        if path.startswith("/api/threads/") and not path.split("/")[3].startswith("{")
    }
    assert fixed == set(THREAD_ROUTE_WORDS)
    assert "/api/threads/{thread_id}" in client.app.openapi()["paths"]  # type: ignore[attr-defined]
