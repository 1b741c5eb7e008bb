"""`threadgate` commands: run workflows, inspect and control threads through the gateway.

Exit codes: 0 ok, 1 the workflow or an item of a batch failed, 2 bad input,
3 not found, 4 conflict (busy, not running, not waiting), 5 unauthorized,
6 gateway or Agent Server unavailable.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from gateway.cli import render
from gateway.cli.client import FAILED, OK, USAGE, CommandError, GatewayClient


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    client = GatewayClient(args.url, args.api_key)
    try:
        code: int = args.command(client, args)
        return code
    except CommandError as exc:
        if args.json:
            render.as_json(exc.body, sys.stdout)
        sys.stderr.write(f"threadgate: {exc.message}\n")
        return exc.code


def run(client: GatewayClient, args: argparse.Namespace) -> int:
    request = _load_request(args.workflow)
    if args.thread:
        request["thread_id"] = args.thread
    if not args.follow:
        accepted = client.call("POST", "/api/workflow/execute", json=request)
        _emit(args, accepted, lambda: render.say(f"started {accepted['execution_id']}"))
        return OK
    last: dict[str, Any] = {}
    for frame in client.stream("/api/workflow/execute/stream", request):
        last = frame
        if args.json:
            render.say(json.dumps(frame, ensure_ascii=False))
        elif frame["type"] == "started":
            render.say(f"thread {frame['thread_id']}  execution {frame['execution_id']}")
        elif frame["type"] == "progress":
            render.say(render.progress_line(frame))
        elif frame["type"] == "interrupt":
            render.say(f"waiting for approval: {(frame.get('question') or {}).get('question')}")
    if last.get("type") == "error":
        sys.stderr.write(f"threadgate: {last.get('error')}: {last.get('message')}\n")
        return FAILED
    if not args.json and last.get("thread_id"):
        render.thread_details(client.call("GET", f"/api/threads/{last['thread_id']}"))
    return OK


def _load_request(path: str) -> dict[str, Any]:
    """A file holding either a whole execute request or just the workflow."""
    try:
        document = json.loads(Path(path).read_text())
    except (OSError, ValueError) as exc:
        raise CommandError(USAGE, f"cannot read {path}: {exc}") from None
    if isinstance(document, dict) and "workflow_json" in document:
        return document
    return {"workflow_json": document}


def threads_list(client: GatewayClient, args: argparse.Namespace) -> int:
    params = {
        "limit": args.limit,
        "offset": args.offset,
        "workflow_id": args.workflow_id,
        "status": args.status,
    }
    page = client.call("GET", "/api/threads", params=_given(params))
    columns = ["thread_id", "workflow", "status", "progress", "current_step", "updated_at"]

    def human() -> None:
        render.table(render.thread_rows(page["threads"]), columns)
        render.say(f"{len(page['threads'])} of {page['total']}")

    _emit(args, page, human)
    return OK


def threads_show(client: GatewayClient, args: argparse.Namespace) -> int:
    thread = client.call("GET", f"/api/threads/{args.thread_id}")
    _emit(args, thread, lambda: render.thread_details(thread))
    return OK


def threads_state(client: GatewayClient, args: argparse.Namespace) -> int:
    params = {"checkpoint_id": args.checkpoint} if args.checkpoint else None
    state = client.call("GET", f"/api/threads/{args.thread_id}/state", params=params)
    render.as_json(state)  # state is JSON by nature; the same for people and scripts
    return OK


def threads_history(client: GatewayClient, args: argparse.Namespace) -> int:
    history = client.call("GET", f"/api/threads/{args.thread_id}/history")
    columns = ["checkpoint_id", "step", "source", "completed_steps", "last_step", "created_at"]
    _emit(args, history, lambda: render.table(history, columns))
    return OK


def pause(client: GatewayClient, args: argparse.Namespace) -> int:
    result = client.call("POST", f"/api/threads/{args.thread_id}/pause")
    _emit(args, result, lambda: render.say("pausing after the step in flight"))
    return OK


def cancel(client: GatewayClient, args: argparse.Namespace) -> int:
    result = client.call("POST", f"/api/threads/{args.thread_id}/cancel")
    _emit(args, result, lambda: render.say("cancelled; resume re-runs the unfinished step"))
    return OK


def resume(client: GatewayClient, args: argparse.Namespace) -> int:
    body = None
    if args.approve or args.reject:
        body = {"approved": bool(args.approve), "comment": args.comment}
    accepted = client.call("POST", f"/api/threads/{args.thread_id}/resume", json=body)
    _emit(args, accepted, lambda: render.say(f"resumed {accepted['execution_id']}"))
    return OK


def recover(client: GatewayClient, args: argparse.Namespace) -> int:
    query = {
        "not_updated_for_minutes": args.older_than,
        "workflow_id": args.workflow_id,
        "created_within_hours": args.created_within,
        "limit": args.limit,
    }
    query = _given(query)
    if args.dry_run:
        failed = client.call("GET", "/api/threads/failed", params=query)
        columns = ["thread_id", "workflow", "status", "progress", "current_step", "updated_at"]
        _emit(args, failed, lambda: render.table(render.thread_rows(failed), columns))
        return OK
    outcomes = client.call("POST", "/api/threads/failed/resume", json=query)
    _emit(args, outcomes, lambda: render.table(outcomes, ["thread_id", "outcome", "message"]))
    return FAILED if any(o["outcome"] == "error" for o in outcomes) else OK


def prune(client: GatewayClient, args: argparse.Namespace) -> int:
    body = {
        "older_than_minutes": args.older_than,
        "dry_run": not args.apply,
        "keep_latest_checkpoint": args.keep_latest,
        "workflow_id": args.workflow_id,
    }
    result = client.call("POST", "/api/threads/prune", json=body)

    def human() -> None:
        verb = "would prune" if result["dry_run"] else "pruned"
        render.say(
            f"{verb} {len(result['thread_ids'])} threads not updated since {result['cutoff']}"
        )
        for thread_id in result["thread_ids"]:
            render.say(f"  {thread_id}")

    _emit(args, result, human)
    return OK


def _given(options: dict[str, Any]) -> dict[str, Any]:
    """The options the person actually set."""
    return {k: v for k, v in options.items() if v is not None}


def _emit(args: argparse.Namespace, value: Any, human: Any) -> None:
    if args.json:
        render.as_json(value)
    else:
        human()


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="threadgate", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    top.add_argument(
        "--url",
        default=os.environ.get("THREADGATE_URL", "http://127.0.0.1:8002"),
        help="gateway URL (THREADGATE_URL)",
    )
    top.add_argument(
        "--api-key",
        default=os.environ.get("THREADGATE_API_KEY"),
        help="API key (THREADGATE_API_KEY)",
    )
    top.add_argument("--json", action="store_true", help="print JSON for scripts")
    commands = top.add_subparsers(required=True, metavar="COMMAND")

    p = commands.add_parser("run", help="start a workflow from a JSON file")
    p.add_argument("workflow", help="workflow JSON (React Flow export, step list or request)")
    p.add_argument("--thread", help="continue this thread")
    p.add_argument("--follow", action="store_true", help="show live progress and the result")
    p.set_defaults(command=run)

    threads = commands.add_parser("threads", help="find and inspect threads")
    sub = threads.add_subparsers(required=True, metavar="ACTION")
    p = sub.add_parser("list", help="search threads")
    p.add_argument("--workflow-id")
    p.add_argument(
        "--status", choices=["pending", "running", "completed", "failed", "paused", "waiting"]
    )
    p.add_argument("--limit", type=int, default=20)
    p.add_argument("--offset", type=int, default=0)
    p.set_defaults(command=threads_list)
    for name, func, text in (
        ("show", threads_show, "progress, status, waiting question"),
        ("history", threads_history, "checkpoints, newest first"),
        ("state", threads_state, "state values (JSON)"),
    ):
        p = sub.add_parser(name, help=text)
        p.add_argument("thread_id")
        if name == "state":
            p.add_argument("--checkpoint", help="state at this checkpoint id")
        p.set_defaults(command=func)

    for name, func, text in (
        ("pause", pause, "stop at the next step boundary"),
        ("cancel", cancel, "stop now (the step in flight re-runs)"),
    ):
        p = commands.add_parser(name, help=text)
        p.add_argument("thread_id")
        p.set_defaults(command=func)
    p = commands.add_parser("resume", help="continue a paused, failed or waiting thread")
    p.add_argument("thread_id")
    answer = p.add_mutually_exclusive_group()
    answer.add_argument("--approve", action="store_true", help="answer a waiting approval: yes")
    answer.add_argument("--reject", action="store_true", help="answer a waiting approval: no")
    p.add_argument("--comment")
    p.set_defaults(command=resume)

    p = commands.add_parser("recover", help="resume failed threads (each at most once)")
    p.add_argument("--older-than", type=int, help="failed and untouched for N minutes")
    p.add_argument("--created-within", type=int, help="created in the last N hours")
    p.add_argument("--workflow-id")
    p.add_argument("--limit", type=int)
    p.add_argument("--dry-run", action="store_true", help="only list them")
    p.set_defaults(command=recover)

    p = commands.add_parser("prune", help="delete threads not updated for a while")
    p.add_argument("--older-than", type=float, required=True, help="minutes")
    p.add_argument("--workflow-id")
    p.add_argument("--keep-latest", action="store_true", help="trim checkpoints, keep threads")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--dry-run", action="store_true", help="list only (the default)")
    mode.add_argument("--apply", action="store_true", help="really prune")
    p.set_defaults(command=prune)
    return top


if __name__ == "__main__":
    sys.exit(main())
