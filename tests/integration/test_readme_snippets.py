"""Every fenced code block in README.md, run as a reader would run it, against the stack.

`DECISIONS` says what happens to each block, by its language and how it opens: `Run`
(against the session's stack), `Synopsis` (the CLI's command list: every command in it
is parsed by the CLI's own parser) or `Skip` (with the reason). A block that no entry
(or more than one) names fails, and so does an entry that names no block: a new snippet
gets decided here instead of being silently skipped.

A block runs as a reader runs it after `make up` with the Security model's API keys,
in the checkout; what that reader has and this session's stack has instead is said in
one place below ("What a reader has"): the addresses and alice's key that every block
gets rewritten (`as_the_stack_has_it`), the shell's variables (`reader_env`), and the
README's "add -H "X-API-Key: $KEY" to each call" for curl (`CURL`).
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shlex
import subprocess
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import typer.main

import gateway.cli.main  # noqa: F401  (registers the commands on the app)
from gateway.cli.app import app as cli_app
from tests.integration.conftest import STACK_ENV, Stack
from tests.integration.helpers import ALICE_KEY, marker, react_flow, start, wait_for_status
from tests.integration.test_js_sdk import node_modules  # noqa: F401  (a fixture, used by name)
from tools.launcher import ROOT

README = ROOT / "README.md"
VENV_BIN = Path(sys.executable).parent

# --- The README's blocks ----------------------------------------------------------------


@dataclass(frozen=True)
class Block:
    line: int  # of the opening fence
    lang: str
    text: str

    @property
    def id(self) -> str:
        return f"L{self.line}-{self.lang or 'plain'}"


def readme_blocks(text: str) -> list[Block]:
    """The fenced blocks (```lang ... ```), in order; an unclosed fence is an error."""
    blocks: list[Block] = []
    opened: tuple[int, str, list[str]] | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        fence = re.match(r"^ {0,3}(```|~~~)\s*(\S*)", line)
        if opened is None:
            if fence:
                opened = (number, fence.group(2), [])
        elif fence and not fence.group(2):
            blocks.append(Block(opened[0], opened[1], "\n".join(opened[2]) + "\n"))
            opened = None
        else:
            opened[2].append(line)
    assert opened is None, f"README.md: the block opened on line {opened[0]} is never closed"
    return blocks


BLOCKS = readme_blocks(README.read_text())

# --- What a reader has, and what this session's stack has instead -------------------------

README_KEY = "alice-key-0123456789"  # alice's key in the README's Security model


def as_the_stack_has_it(text: str, stack: Stack) -> str:
    """A snippet with the addresses `make up` listens on, and the key the README gives
    alice, replaced by this session's (the one rewrite every block gets)."""
    gateway = stack.gateway_url.removeprefix("http://")
    agent = stack.agent_url.removeprefix("http://")
    for readme, here in (
        ("127.0.0.1:8002", gateway),
        ("localhost:8002", gateway),
        ("127.0.0.1:8123", agent),
        (README_KEY, ALICE_KEY),
    ):
        text = text.replace(readme, here)
    left = re.search(r"\S*:(8002|8123)\b", text)
    assert left is None, f"an address this test does not rewrite: {left.group()}"
    return text


def reader_env(stack: Stack, extra: dict[str, str]) -> dict[str, str]:
    """The shell of a reader whose `make up` has API keys (README, Security model): `$KEY`
    for curl, `THREADGATE_URL` / `THREADGATE_API_KEY` for the CLI and the JS client,
    `THREADGATE_AGENT_URL` for examples/query_threads.py, `.venv/bin` on PATH. No other
    THREADGATE_* setting of the machine running the tests leaks in."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("THREADGATE_")}
    env.update(
        PATH=f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}",
        KEY=ALICE_KEY,
        THREADGATE_URL=stack.gateway_url,
        THREADGATE_API_KEY=ALICE_KEY,
        THREADGATE_AGENT_URL=stack.agent_url,
    )
    return {**env, **extra}


# With API keys configured, "add -H "X-API-Key: $KEY" to each call" (README, Try it): the
# function does that for a call that sends no key, and makes curl fail on an HTTP error
# (the body still printed), so a 4xx or 5xx fails the block.
CURL = r"""
curl() {
  case "$*" in
    *X-API-Key:*) command curl --fail-with-body --show-error "$@" ;;
    *) command curl --fail-with-body --show-error -H "X-API-Key: $KEY" "$@" ;;
  esac
}
"""

# The Security model's block starts the stack with `make up`: the session's stack stands
# in for it (started with these very settings, STACK_ENV); `make` prints what it was given.
MAKE_UP = r"""
make() {
  [ "$*" = up ] || { echo "only 'make up' is stood in for, not: make $*" >&2; return 1; }
  echo "make up with THREADGATE_API_KEYS=$THREADGATE_API_KEYS"
}
"""
ALICE_STORED = json.loads(STACK_ENV["THREADGATE_API_KEYS"])["alice"]

# --- Threads a block needs (its `$T`), made before it runs --------------------------------

Context = Callable[[httpx.AsyncClient], Awaitable[dict[str, str]]]


async def _execute(gateway: httpx.AsyncClient, example: str) -> str:
    request = json.loads((ROOT / "examples" / example).read_text())
    response = await gateway.post("/api/workflow/execute", json=request)
    assert response.status_code == 202, response.text
    thread_id: str = response.json()["thread_id"]
    return thread_id


async def a_running_thread(gateway: httpx.AsyncClient) -> dict[str, str]:
    """T: a thread running three 1-second steps."""
    thread_id = await start(gateway, react_flow(marker(), steps=3, slow=1))
    await wait_for_status(gateway, thread_id, {"running"})
    return {"T": thread_id}


async def a_waiting_thread(gateway: httpx.AsyncClient) -> dict[str, str]:
    """T: examples/content-pipeline.json, stopped at its editor's approval."""
    thread_id = await _execute(gateway, "content-pipeline.json")
    await wait_for_status(gateway, thread_id, {"waiting"})
    return {"T": thread_id}


async def a_finished_quickstart(gateway: httpx.AsyncClient) -> dict[str, str]:
    """T: the Try it thread (examples/quickstart.json, two steps), completed."""
    thread_id = await _execute(gateway, "quickstart.json")
    await wait_for_status(gateway, thread_id, {"completed"})
    return {"T": thread_id}


async def no_saved_otter_brief(gateway: httpx.AsyncClient) -> dict[str, str]:
    """A library without examples/quickstart.json's workflow, as after a fresh `make up`."""
    response = await gateway.delete("/api/workflows/otter-brief")
    assert response.status_code in (204, 404), response.text
    return {}


# --- The decisions --------------------------------------------------------------------


@dataclass(frozen=True)
class Run:
    """Run against the stack: it must exit 0 and print each of `expect` (substrings)."""

    expect: tuple[str, ...] = ()
    context: Context | None = None  # makes what the block's variables name
    shim: str = ""  # bash: functions defined before the block
    # The README's own instructions for a reader with API keys, where a block says them
    # in a comment: (text, replacement), each found exactly once.
    edits: tuple[tuple[str, str], ...] = ()
    post: str = ""  # json: the gateway path the body is sent to (as alice; 2xx expected)


@dataclass(frozen=True)
class Synopsis:
    """A command list with placeholders: each command parsed by the CLI's own parser."""

    why: str


@dataclass(frozen=True)
class Skip:
    why: str


Decision = Run | Synopsis | Skip

WS_URL = "ws://127.0.0.1:8002/api/workflow/execute/stream"

# (language, how the block opens) -> what is done with it. Keep it in README order.
DECISIONS: dict[tuple[str, str], Decision] = {
    ("sh", "make up     # Agent Server"): Skip(
        "starts the stack in the foreground and runs the whole suite: this test runs under "
        "the session's stack, started as `make up` starts it (tools/launcher.py)"
    ),
    ("sh", "RUN=$(curl -s -X POST http://127.0.0.1:8002/api/workflow/execute"): Run(
        expect=('"execution_id":"', '"thread_id":"', '"status":"pending"', '"threads":[')
    ),
    ("python", "import asyncio, json\nfrom websockets"): Run(
        expect=("'type': 'started'", "'type': 'progress'", "'type': 'end'", "'completed'"),
        # "With API keys configured: connect(url, additional_headers={"X-API-Key": KEY})"
        edits=(
            (
                f'connect("{WS_URL}")',
                f'connect("{WS_URL}", additional_headers={{"X-API-Key": "{README_KEY}"}})',
            ),
        ),
    ),
    ("sh", "curl -s -X POST http://127.0.0.1:8002/api/threads/$T/pause"): Run(
        expect=('"status":"pausing"', '"execution_id":"'), context=a_running_thread
    ),
    ("sh", "curl -s -X POST http://127.0.0.1:8002/api/threads/$T/resume"): Run(
        expect=('"execution_id":"',), context=a_waiting_thread
    ),
    ("sh", "curl -s 'http://127.0.0.1:8002/api/threads/failed?"): Run(expect=("[",)),
    ("sh", "CP=$(curl -s http://127.0.0.1:8002/api/threads/$T/history"): Run(
        expect=('"execution_id":"',), context=a_finished_quickstart
    ),
    ("sh", "curl -s -X POST http://127.0.0.1:8002/api/threads/prune"): Run(
        expect=('"thread_ids":[',)
    ),
    ("sh", "curl -s -X POST localhost:8002/api/workflows"): Run(
        expect=('"workflow_id":"otter-brief"', '"execution_id":"', '"threads":['),
        context=no_saved_otter_brief,
    ),
    ("sh", f"KEY={README_KEY}"): Run(
        expect=(f'THREADGATE_API_KEYS={{"alice": "{ALICE_STORED}"}}', '"threads":['),
        shim=MAKE_UP,
    ),
    ("python", "import asyncio\n\nfrom langgraph_sdk import get_client"): Run(
        expect=("'values':",), context=a_waiting_thread
    ),
    ("js", 'import { Client } from "@langchain/langgraph-sdk";'): Run(expect=("[",)),
    ("jsx", 'import { useStream } from "@langchain/langgraph-sdk/react";'): Skip(
        "a React component: it runs in a browser app with React, not under Node; the Client "
        "it is built on runs in the block above"
    ),
    ("sh", "pip install 'langgraph-cli"): Skip(
        "production with Docker (`langgraph up`), which this machine has not: "
        "tests/unit/test_deploy.py runs the real `langgraph up` with a stand-in docker"
    ),
    ("sh", "threadgate run examples/content-pipeline.json --follow"): Synopsis(
        "the CLI's commands with placeholders (<thread>), optional parts ([--version N]) and "
        "alternatives (a | b), not a script; tests/integration/test_cli.py runs the commands"
    ),
    ("", "agents/                 what runs on the Agent Server"): Skip(
        "the source tree's layout, not code"
    ),
}


def decisions_for(block: Block) -> list[Decision]:
    return [
        decision
        for (lang, opening), decision in DECISIONS.items()
        if lang == block.lang and block.text.startswith(opening)
    ]


def test_every_block_is_decided_exactly_once():
    problems = [
        f"README.md line {block.line} ({block.lang or 'no language'}): "
        f"{len(found)} decisions, one needed; opens with {block.text.splitlines()[0]!r}"
        for block in BLOCKS
        if len(found := decisions_for(block)) != 1
    ]
    problems += [
        f"decision {key!r} names {len(named)} blocks, one needed"
        for key in DECISIONS
        if len(named := [b for b in BLOCKS if b.lang == key[0] and b.text.startswith(key[1])]) != 1
    ]
    assert not problems, "\n".join(problems)


# --- Running them -----------------------------------------------------------------------


def run(command: list[str], env: dict[str, str], timeout: float = 120) -> str:
    """Run from the checkout, as the README's relative paths (examples/...) expect."""
    done = subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )
    assert done.returncode == 0, (
        f"exit {done.returncode}\n--- stdout\n{done.stdout}\n--- stderr\n{done.stderr}"
    )
    return done.stdout


def edited(text: str, edits: tuple[tuple[str, str], ...]) -> str:
    for old, new in edits:
        assert text.count(old) == 1, f"the block no longer has {old!r}: revisit this edit"
        text = text.replace(old, new)
    return text


@pytest.mark.parametrize("block", BLOCKS, ids=[b.id for b in BLOCKS])
async def test_readme_block(
    block: Block,
    stack: Stack,
    gateway: httpx.AsyncClient,
    request: pytest.FixtureRequest,
    tmp_path: Path,
):
    found = decisions_for(block)
    if len(found) != 1:
        pytest.fail(f"README.md line {block.line}: not decided in DECISIONS (or ambiguous)")
    decision = found[0]
    if isinstance(decision, Skip):
        pytest.skip(f"README.md line {block.line}: {decision.why}")
    if isinstance(decision, Synopsis):
        check_synopsis(block.text)
        return

    variables = await decision.context(gateway) if decision.context else {}
    env = reader_env(stack, variables)
    text = as_the_stack_has_it(edited(block.text, decision.edits), stack)
    if block.lang in ("sh", "bash", "shell", "console"):
        if block.lang == "console":  # the commands are the lines after a `$ ` prompt
            text = "".join(f"{line[2:]}\n" for line in text.splitlines() if line[:2] == "$ ")
        script = tmp_path / "snippet.sh"
        script.write_text(CURL + decision.shim + text)
        command = ["bash", "-euo", "pipefail", str(script)]
    elif block.lang == "json":  # an example body, sent where the table says it goes
        assert decision.post, f"README.md line {block.line}: say in DECISIONS where it goes"
        response = await gateway.post(decision.post, json=json.loads(text))
        assert response.is_success, response.text
        missing = [wanted for wanted in decision.expect if wanted not in response.text]
        assert not missing, f"not answered: {missing}\n{response.text}"
        return
    elif block.lang == "python":
        script = tmp_path / "snippet.py"
        script.write_text(text)
        command = [str(VENV_BIN / "python"), str(script)]
    elif block.lang in ("js", "javascript", "mjs"):
        # Node resolves an ES module's imports from its own folder: next to the SDK.
        modules: Path = request.getfixturevalue("node_modules")
        script = modules.parent / f"readme-{block.id}.mjs"
        script.write_text(text)
        request.addfinalizer(script.unlink)
        command = ["node", str(script)]
    else:
        pytest.fail(f"no runner for {block.lang!r} blocks: add one, or decide Skip")
    output = await asyncio.to_thread(run, command, env)
    missing = [wanted for wanted in decision.expect if wanted not in output]
    assert not missing, f"not printed: {missing}\n--- stdout\n{output}"


# --- The CLI synopsis ---------------------------------------------------------------------

CLI = typer.main.get_command(cli_app)
# Sample values where a placeholder must be of a type (`--version N`).
METAVARS = {"N": "1"}


def synopsis_commands(text: str) -> list[list[str]]:
    """Each command of the synopsis as argv (after `threadgate`): continuation lines
    joined, `# comments` dropped, `<placeholders>` filled, `[optional parts]` kept, and
    `a | b` split into two commands (`| b` in the group of `a` when b names no group)."""
    lines: list[str] = []
    for line in text.splitlines():
        if line[:1].isspace() and lines:
            lines[-1] += " " + line.strip()
        elif line.strip():
            lines.append(line)
    commands = []
    for line in lines:
        filled = re.sub(r"<[^>]+>", "x", line).replace("[", " ").replace("]", " ")
        tokens = [METAVARS.get(t, t) for t in shlex.split(filled, comments=True)]
        segments: list[list[str]] = [[]]
        for token in tokens:
            if token == "|":
                segments.append([])
            else:
                segments[-1].append(token)
        first = segments[0]
        assert first[:1] == ["threadgate"], f"not a threadgate command: {line!r}"
        group = group_path(first[1:])
        commands.append(first[1:])
        commands += [s[1:] if s[0] == "threadgate" else [*group, *s] for s in segments[1:]]
    return commands


def group_path(argv: list[str]) -> list[str]:
    """The command groups `argv` starts with (["workflows"] for workflows list)."""
    path: list[str] = []
    command = CLI
    for name in argv:
        sub = getattr(command, "commands", {}).get(name)
        if sub is None or not hasattr(sub, "commands"):
            break
        path.append(name)
        command = sub
    return path


def parse(argv: list[str]) -> None:
    """Parse `threadgate <argv>` as the CLI does, without running it: an unknown command
    or option, a bad value, a missing or an extra argument raises."""
    command, path, args = CLI, ["threadgate"], list(argv)
    while (commands := getattr(command, "commands", None)) is not None:
        assert args and args[0] in commands, f"no command {' '.join([*path, *args[:1]])!r}"
        path.append(args[0])
        command = commands[args.pop(0)]
    command.make_context(" ".join(path), args)


def check_synopsis(text: str) -> None:
    commands = synopsis_commands(text)
    assert len(commands) >= 30, commands  # every line was read
    failed = []
    for argv in commands:
        try:
            parse(argv)
        except Exception as exc:
            failed.append(f"threadgate {shlex.join(argv)}: {exc}")
    assert not failed, "\n".join(failed)
