"""A fake gateway for the `threadgate` unit tests: fixed bodies over httpx.MockTransport,
fixed frames over a fake WebSocket, and every request the CLI sent, recorded.

Holds no tests itself; `test_cli_*.py` import from it. Two ways to run the CLI:
`invoke` in this process (capsys), and `invoke_processes`, a real `python` process
whose stdout bytes are exactly what a script reading `threadgate --json` gets
(`python -m tests.unit.test_cli_harness RUNS` is that process's entry point).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx
import pytest

URL = "http://gw.test"
ROOT = Path(__file__).parents[2]
CTRL_C = {"type": "the person presses Ctrl-C here"}  # a frame the fake socket acts out


@dataclass
class Reply:
    status: int = 200
    body: Any = None
    text: str | None = None  # a non-JSON body
    fails: bool = False  # the connection is refused


@dataclass
class FakeSocket:
    frames: list[dict[str, Any]]
    sent: list[Any]

    def __enter__(self) -> FakeSocket:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        return None

    def send(self, message: str) -> None:
        self.sent.append(json.loads(message))

    def __iter__(self) -> Iterator[str]:
        for frame in self.frames:
            if frame == CTRL_C:
                raise KeyboardInterrupt
            yield json.dumps(frame)


@dataclass
class FakeGateway:
    replies: dict[tuple[str, str], Reply] = field(default_factory=dict)
    calls: list[dict[str, Any]] = field(default_factory=list)
    frames: list[dict[str, Any]] = field(default_factory=list)
    sockets: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    raw_paths: list[str] = field(default_factory=list)  # as sent, percent-encoding kept

    def reply(self, method: str, path: str, status: int = 200, body: Any = None, **kw: Any) -> None:
        self.replies[(method, path)] = Reply(status, body, **kw)

    def handle(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content) if request.content else None
        self.calls.append(
            {
                "method": request.method,
                "path": request.url.path,
                "params": dict(request.url.params),
                "json": body,
            }
        )
        self.headers.append(dict(request.headers))
        self.raw_paths.append(request.url.raw_path.decode("ascii").split("?")[0])
        reply = self.replies.get((request.method, request.url.path))
        if reply is None:
            return httpx.Response(404, json={"error": "not_found", "message": "no such route"})
        if reply.fails:
            raise httpx.ConnectError("connection refused", request=request)
        if reply.text is not None:
            return httpx.Response(reply.status, text=reply.text)
        if reply.body is None:
            return httpx.Response(reply.status)
        return httpx.Response(reply.status, json=reply.body)

    def connect(self, url: str, additional_headers: Any = None, **_: Any) -> FakeSocket:
        sent: list[Any] = []
        self.sockets.append({"url": url, "sent": sent, "headers": dict(additional_headers or {})})
        return FakeSocket(list(self.frames), sent)

    def spec(self) -> dict[str, Any]:
        replies = [[m, p, asdict(r)] for (m, p), r in self.replies.items()]
        return {"replies": replies, "frames": self.frames}

    @classmethod
    def from_spec(cls, spec: dict[str, Any]) -> FakeGateway:
        fake = cls(frames=spec["frames"])
        for method, path, reply in spec["replies"]:
            fake.replies[(method, path)] = Reply(**reply)
        return fake


def route_through(fake: Callable[[], FakeGateway], monkeypatch: pytest.MonkeyPatch) -> None:
    """Every httpx.Client made from now on talks to `fake()`; so does the WebSocket."""
    real_client = httpx.Client

    class Routed(real_client):  # type: ignore[valid-type,misc]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            kwargs["transport"] = httpx.MockTransport(lambda request: fake().handle(request))
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(httpx, "Client", Routed)
    monkeypatch.setattr("gateway.cli.client.connect", lambda *a, **kw: fake().connect(*a, **kw))


@pytest.fixture
def fake_gateway(monkeypatch: pytest.MonkeyPatch) -> FakeGateway:
    """A fake gateway every call of the test goes to."""
    fake = FakeGateway()
    route_through(lambda: fake, monkeypatch)
    for name in ("THREADGATE_URL", "THREADGATE_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("COLUMNS", "200")  # people's tables: wide enough not to wrap ids
    return fake


def invoke(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """Run `threadgate argv...` in this process: exit code, stdout, stderr."""
    from gateway.cli.main import main

    try:
        code: Any = main(list(argv))
    except SystemExit as exc:
        code = exc.code
    out = capsys.readouterr()
    return int(code or 0), out.out, out.err


@dataclass
class Ran:
    code: int
    stdout: bytes
    stderr: bytes


def invoke_processes(tmp: Path, runs: list[tuple[FakeGateway, list[str]]]) -> list[Ran]:
    """Run `threadgate argv...` for each (fake, argv) in one fresh `python` process, one
    after another, each with file descriptors 1 and 2 sent to files of its own: the exact
    bytes a script reading the command's stdout gets. The requests each sent are added
    to its fake's `calls` and `sockets`."""
    spec = tmp / "runs.json"
    spec.write_text(json.dumps([{**fake.spec(), "argv": argv} for fake, argv in runs]))
    env = {k: v for k, v in os.environ.items() if not k.startswith("THREADGATE_")}
    env |= {"PYTHONIOENCODING": "utf-8", "COLUMNS": "200", "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "tests.unit.test_cli_harness", str(spec)],
        capture_output=True,
        env=env,
        cwd=ROOT,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    results = []
    for i, (fake, _) in enumerate(runs):
        recorded = json.loads((tmp / f"{i}.json").read_text())
        fake.calls += recorded["calls"]
        fake.sockets += recorded["sockets"]
        out, err = (tmp / f"{i}.out").read_bytes(), (tmp / f"{i}.err").read_bytes()
        results.append(Ran(recorded["code"], out, err))
    return results


def _run_batch(spec_path: Path) -> None:
    """The process `invoke_processes` starts."""
    current = [FakeGateway()]
    route_through(lambda: current[0], pytest.MonkeyPatch())
    from gateway.cli.main import main

    for i, run in enumerate(json.loads(spec_path.read_text())):
        current[0] = fake = FakeGateway.from_spec(run)
        sys.stdout.flush()
        sys.stderr.flush()
        saved = os.dup(1), os.dup(2)
        out = (spec_path.parent / f"{i}.out").open("wb")
        err = (spec_path.parent / f"{i}.err").open("wb")
        os.dup2(out.fileno(), 1)
        os.dup2(err.fileno(), 2)
        try:
            code: Any = main(run["argv"])
        except SystemExit as exc:
            code = exc.code
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            out.close()
            err.close()
        recorded = {"code": code or 0, "calls": fake.calls, "sockets": fake.sockets}
        (spec_path.parent / f"{i}.json").write_text(json.dumps(recorded))


if __name__ == "__main__":
    _run_batch(Path(sys.argv[1]))
