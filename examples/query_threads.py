"""Query workflow threads straight from the Agent Server with `langgraph-sdk`.

The Agent Server admits only callers with the service key, and shows each user only
their own threads, so a script says which user it acts for:

    THREADGATE_SERVICE_KEY=... THREADGATE_USER=alice \\
        .venv/bin/python examples/query_threads.py [--status error] [--thread ID]
"""

from __future__ import annotations

import argparse
import asyncio
import os

from langgraph_sdk import get_client


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", default=os.environ.get("AGENT_URL", "http://127.0.0.1:8123"))
    parser.add_argument("--status", choices=["idle", "busy", "interrupted", "error"])
    parser.add_argument("--thread", help="show one thread's checkpoints")
    args = parser.parse_args()
    client = get_client(
        url=args.url,
        api_key=None,
        headers={
            "x-threadgate-service-key": os.environ["THREADGATE_SERVICE_KEY"],
            "x-threadgate-user": os.environ.get("THREADGATE_USER", "dev"),
        },
    )
    if args.thread:
        for state in await client.threads.get_history(args.thread, limit=50):
            values = state["values"] if isinstance(state["values"], dict) else {}
            done = len(values.get("completed") or [])
            print(state["checkpoint"]["checkpoint_id"], state["metadata"].get("step"), done)
        return
    for thread in await client.threads.search(status=args.status, limit=20):
        values = thread["values"] if isinstance(thread["values"], dict) else {}
        plan, done = values.get("plan") or [], values.get("completed") or []
        name = (thread["metadata"] or {}).get("workflow_name")
        print(thread["thread_id"], thread["status"], f"{len(done)}/{len(plan)}", name)


if __name__ == "__main__":
    asyncio.run(main())
