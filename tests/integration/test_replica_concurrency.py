"""Two gateway replicas on one Agent Server, hit together: many threads, each sent many
follow-ups at once through both replicas. Counted on the Agent Server afterwards (runs,
their spans, their checkpoints) and at the model: no two runs of a thread overlapped,
every 202 is exactly one run, a 409 made none, a 503 at most one."""

from __future__ import annotations

from langgraph_sdk.client import LangGraphClient

from bench.replicas import storm
from tests.integration.conftest import Stack
from tests.integration.helpers import ALICE, marker

# The README's figure ("Reliability (measured)"), at full size: 1,000 follow-ups. About
# 25 s here on two cores; `python -m bench.replicas` runs the same on a stack of its own.
THREADS = 50
PER_THREAD = 20


async def test_follow_ups_at_once_through_two_replicas_run_one_at_a_time(
    stack: Stack, second_gateway: str, sdk: LangGraphClient
):
    gateways = [stack.gateway_url, second_gateway]
    tally = await storm(
        gateways, ALICE, sdk, marker(), THREADS, PER_THREAD, stack.model.calls_mentioning
    )
    print(tally.summary(), tally.seconds)  # noqa: T201 (the figure, with -s)

    half = THREADS * PER_THREAD // 2
    assert tally.per_replica == {"gateway 1": half, "gateway 2": half}
    # Only 202, 409 already_running and 503 agent_outcome_unknown or agent_unavailable.
    assert not tally.unexpected, tally.unexpected
    assert not tally.overlaps, tally.overlaps
    assert not tally.problems, tally.problems
    # Every 202 is one run of its own, a 409 (or agent_unavailable) made none, an
    # agent_outcome_unknown at most one; each thread's first run is there too.
    assert tally.runs == THREADS + tally.accepted + tally.unknown_with_run, tally.summary()
    assert tally.unknown_with_run <= tally.unknown
    # The storm did race: the threads took follow-ups, and refused some.
    assert tally.accepted + tally.unknown_with_run >= THREADS, tally.summary()
    assert tally.conflicts > 0, tally.summary()
