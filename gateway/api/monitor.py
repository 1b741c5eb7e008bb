"""The monitor page at `/ui`: static files shipped in the package, served as they are.

The page talks only to this gateway (REST and the WebSocket rejoin); its Content
Security Policy holds it to that, so no CDN or other host can be reached from it.
"""

from __future__ import annotations

from pathlib import Path

from starlette.responses import RedirectResponse, Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

UI_DIR = Path(__file__).parent / "ui"
POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'"
)


class MonitorFiles(StaticFiles):
    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        response.headers["content-security-policy"] = POLICY
        response.headers["x-content-type-options"] = "nosniff"
        response.headers["referrer-policy"] = "no-referrer"
        return response


def monitor_files() -> MonitorFiles:
    return MonitorFiles(directory=UI_DIR, html=True)


async def to_monitor() -> RedirectResponse:
    """`/` opens the monitor page."""
    return RedirectResponse("/ui/")
