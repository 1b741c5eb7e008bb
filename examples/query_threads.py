"""Query your workflow threads straight from the Agent Server with `langgraph-sdk`.

The Agent Server accepts the same API keys (and JWTs) as the gateway and shows each
user only their own threads, so a script needs nothing but its user's key:

    THREADGATE_API_KEY=<your key> .venv/bin/python examples/query_threads.py \\
        [--status error] [--thread ID]

`THREADGATE_AGENT_URL` says where the Agent Server is (default: `make up`'s).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys

import httpx
from langgraph_sdk import get_client
from langgraph_sdk.errors import APIStatusError


async def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--url", default=os.environ.get("THREADGATE_AGENT_URL", "http://127.0.0.1:8123")
    )
    parser.add_argument("--status", choices=["idle", "busy", "interrupted", "error"])
    parser.add_argument("--thread", help="show one thread's checkpoints")
    args = parser.parse_args()
    key = os.environ.get("THREADGATE_API_KEY")
    if not key:
        print(
            "set THREADGATE_API_KEY to your API key (see the README's Security model)",
            file=sys.stderr,
        )
        return 2
    client = get_client(url=args.url, api_key=key)
    try:
        if args.thread:
            for state in await client.threads.get_history(args.thread, limit=50):
                values = state["values"] if isinstance(state["values"], dict) else {}
                done = len(values.get("completed") or [])
                print(state["checkpoint"]["checkpoint_id"], state["metadata"].get("step"), done)
            return 0
        for thread in await client.threads.search(status=args.status, limit=20):
            values = thread["values"] if isinstance(thread["values"], dict) else {}
            plan, done = values.get("plan") or [], values.get("completed") or []
            name = (thread["metadata"] or {}).get("workflow_name")
            print(thread["thread_id"], thread["status"], f"{len(done)}/{len(plan)}", name)
        return 0
    except APIStatusError as exc:
        print(f"the Agent Server answered {exc.status_code}: {exc.body or exc}", file=sys.stderr)
        return 2
    except httpx.HTTPError as exc:
        print(f"cannot reach the Agent Server at {args.url}: {exc}", file=sys.stderr)
        return 2
    finally:
        await client.aclose()


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
