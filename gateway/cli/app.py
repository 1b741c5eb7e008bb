"""The Typer application: its command groups, the global options, and `command`, which
registers a function as a command that accepts the global options too.

Global options work before the command (`threadgate --json threads list`) and after it
(`threadgate threads list --json`): the root takes them, and `command` adds the same
four to every command's own parameters. A value given after the command wins; one
given on neither side comes from THREADGATE_URL / THREADGATE_API_KEY / THREADGATE_TEAM
(`envvar=`).
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

import typer

from gateway.cli import render
from gateway.cli.client import INTERRUPTED, CommandError, GatewayClient

DEFAULT_URL = "http://127.0.0.1:8002"

JsonFlag = Annotated[
    bool, typer.Option("--json", help="Print the gateway's JSON (for scripts) instead of tables.")
]
UrlOption = Annotated[
    str, typer.Option("--url", envvar="THREADGATE_URL", help="Gateway URL.", metavar="URL")
]
KeyOption = Annotated[
    str | None,
    typer.Option(
        "--api-key",
        envvar="THREADGATE_API_KEY",
        help="API key.",
        metavar="KEY",
        show_default=False,
    ),
]

# Every team's name has this shape (agents/teams.py TEAM_NAME_PATTERN; a unit test keeps
# them equal): any other is a typo, told here rather than as "not a member" by the gateway.
TEAM_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")


def _team_name(value: str | None) -> str | None:
    if value and not TEAM_NAME.fullmatch(value):
        raise typer.BadParameter(
            f"{value!r} is no team name (lowercase letters, digits, '-' and '_')"
        )
    return value


TeamOption = Annotated[
    str | None,
    typer.Option(
        "--team",
        envvar="THREADGATE_TEAM",
        help="Act in this team's space (your role there decides what you may do); '': your own.",
        metavar="TEAM",
        show_default=False,
        callback=_team_name,
    ),
]

app = typer.Typer(
    name="threadgate",
    help=(
        "Run durable workflows and inspect and control their threads through the gateway.\n\n"
        "Exit codes: 0 ok, 1 the workflow or an item of a batch failed, 2 bad input,"
        " 3 not found, 4 conflict (busy, not running, not waiting), 5 unauthorized or"
        " forbidden, 6 gateway or Agent Server unavailable."
    ),
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,  # a crash must never print the API key
)
threads_app = typer.Typer(help="Find, inspect and save threads.", no_args_is_help=True)
workflows_app = typer.Typer(
    help="The workflow library: saved, versioned workflows.", no_args_is_help=True
)
schedules_app = typer.Typer(help="Run saved workflows on a cron schedule.", no_args_is_help=True)
app.add_typer(threads_app, name="threads")
app.add_typer(workflows_app, name="workflows")
app.add_typer(schedules_app, name="schedules")


@dataclass
class Options:
    json: bool = False
    url: str | None = None
    api_key: str | None = None
    team: str | None = None


@app.callback()
def root(
    ctx: typer.Context,
    json_output: JsonFlag = False,
    url: UrlOption = DEFAULT_URL,
    api_key: KeyOption = None,
    team: TeamOption = None,
) -> None:
    ctx.obj = Options(json_output, url, api_key, team)


@dataclass
class Cli:
    """What a command works with: the gateway client and how to print."""

    client: GatewayClient
    json: bool

    def emit(self, value: Any, human: Callable[[], None]) -> None:
        """The response body as JSON for scripts, else what `human` prints for people."""
        if self.json:
            render.as_json(value)
        else:
            human()


def _typed(ctx: typer.Context, name: str, value: str | None) -> str | None:
    """`value` if it was given on the command line, not taken from the environment."""
    source = ctx.get_parameter_source(name)
    # By name: Typer's click (vendored since 0.2x) is not the `click` package's.
    return value if source is not None and source.name == "COMMANDLINE" else None


def _cli(ctx: typer.Context, after: Options) -> Cli:
    # The root's values: the command line's, else the environment's (`envvar=`), else the
    # defaults. Only a value typed after the command overrides them.
    before = ctx.find_root().obj or Options()
    url = _typed(ctx, "url", after.url) or before.url or DEFAULT_URL
    api_key = _typed(ctx, "api_key", after.api_key) or before.api_key
    # `--team ''` typed after the command means one's own space, whatever came before.
    typed_team = _typed(ctx, "team", after.team)
    team = (typed_team if typed_team is not None else before.team) or None
    return Cli(GatewayClient(url, api_key, team=team), json=after.json or before.json)


_GLOBAL = {
    "json_output": (JsonFlag, False),
    "url": (UrlOption, DEFAULT_URL),
    "api_key": (KeyOption, None),
    "team": (TeamOption, None),
}


def command(group: typer.Typer, name: str) -> Callable[[Callable[..., int]], Callable[..., int]]:
    """Register `func(cli, ...) -> exit code` as `name` in `group`, with the global options.

    A failed call (`CommandError`) prints the gateway's error body (with `--json`) and
    its message on stderr, and ends the command with the error's exit code.
    """

    def register(func: Callable[..., int]) -> Callable[..., int]:
        own = list(inspect.signature(func, eval_str=True).parameters.values())[1:]
        assert not {p.name for p in own} & {"ctx", *_GLOBAL}, f"{name}: a reserved name"
        extra = [
            inspect.Parameter(key, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=kind)
            for key, (kind, default) in _GLOBAL.items()
        ]
        context = inspect.Parameter(
            "ctx", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=typer.Context
        )

        def run(ctx: typer.Context, **kwargs: Any) -> int:
            after = Options(*(kwargs.pop(key) for key in _GLOBAL))
            cli = _cli(ctx, after)
            try:
                code = func(cli, **kwargs)
            except CommandError as exc:
                if cli.json:
                    render.as_json(exc.body)
                render.error(exc.message)
                code = exc.code
            except KeyboardInterrupt:
                render.error("interrupted")
                code = INTERRUPTED
            if code:
                raise typer.Exit(code)
            return code

        params = [context, *own, *extra]
        run.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
        run.__annotations__ = {p.name: p.annotation for p in params}
        run.__name__, run.__doc__ = func.__name__, func.__doc__
        group.command(name)(run)
        return func

    return register
