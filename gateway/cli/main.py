"""`threadgate` commands: run workflows, inspect and control threads through the gateway.

Exit codes: 0 ok, 1 the workflow or an item of a batch failed, 2 bad input,
3 not found, 4 conflict (busy, not running, not waiting), 5 unauthorized or
forbidden, 6 gateway or Agent Server unavailable. (Ctrl-C ends a command with 130, as a shell
reports it; a run being followed goes on in the background.)
"""

from __future__ import annotations

import sys

from gateway.cli.app import app
from gateway.cli.client import FAILED, OK

# The command modules register their commands on `app` when imported, in this order,
# which is the order `threadgate --help` lists them in.
# isort: off
from gateway.cli import runs, maintenance, oversight, threads, workflows, schedules
# isort: on

COMMANDS = (runs, maintenance, oversight, threads, workflows, schedules)


def main(argv: list[str] | None = None) -> int:
    """The console script: runs one command, returns its exit code."""
    try:
        app(args=argv, prog_name="threadgate")
    except SystemExit as exc:
        if exc.code is None or isinstance(exc.code, int):
            return exc.code or OK
        sys.stderr.write(f"{exc.code}\n")
        return FAILED
    return OK


if __name__ == "__main__":
    sys.exit(main())
