"""Serve a written catalogue site on this machine only (127.0.0.1)."""

from __future__ import annotations

from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from mesh_cli.core.errors import MeshError


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """Keep the terminal for the command's own output."""


def site_server(folder: Path, port: int, host: str = "127.0.0.1") -> ThreadingHTTPServer:
    """An HTTP server for `folder` (not yet serving: call `serve_forever()`); port 0 picks a free port."""
    if not (folder / "index.html").is_file():
        raise MeshError("holds no catalogue (no index.html); run `mesh catalog --out` first", path=folder)
    try:
        return ThreadingHTTPServer((host, port), partial(_QuietHandler, directory=str(folder)))
    except OSError as exc:
        raise MeshError(f"cannot serve the catalogue on {host}:{port} ({exc.strerror}); "
                        "choose another port with --port") from exc
