"""`make soak` itself works: a few restarts of each kind, nothing lost."""

from __future__ import annotations

from tools.soak import soak


async def test_a_short_soak_loses_nothing():
    figures = await soak(agent_restarts=2, gateway_restarts=2)
    assert figures["steps_lost"] == 0 and figures["steps_finished"] == figures["steps_planned"]
    assert figures["agent_server_restarts"] == 2 and figures["gateway_restarts"] == 2
    assert figures["streams_rejoined"] == 2
    # A graceful stop abandons the step in flight, which runs again once.
    assert figures["steps_run_twice"] <= figures["agent_server_restarts"]
