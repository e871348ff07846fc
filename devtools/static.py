"""Static files of `dist/` as plain HTTP responses for websockets' `process_request`.

Files are re-read whenever their mtime or size changes, because the build rewrites them while
the server runs; unchanged files come from memory (pyodide.asm.wasm alone is ~10 MB).
"""

from __future__ import annotations

import asyncio
import email.utils
import http
import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from websockets.datastructures import Headers
from websockets.http11 import Request, Response

CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".htm": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".wasm": "application/wasm",
    ".json": "application/json",
    ".map": "application/json",
    ".css": "text/css; charset=utf-8",
    ".whl": "application/zip",
    ".zip": "application/zip",
    ".tar": "application/x-tar",
    ".gz": "application/gzip",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".txt": "text/plain; charset=utf-8",
    ".py": "text/x-python; charset=utf-8",
    ".toml": "application/toml",
}
DEFAULT_CONTENT_TYPE = "application/octet-stream"
ALLOWED_METHODS = "GET, HEAD"


def content_type(path: Path) -> str:
    return CONTENT_TYPES.get(path.suffix.lower(), DEFAULT_CONTENT_TYPE)


@dataclass(frozen=True)
class _Cached:
    mtime_ns: int
    size: int
    body: bytes

    @property
    def etag(self) -> str:
        return f'"{self.mtime_ns:x}-{self.size:x}"'


class StaticFiles:
    """Serves files under one root; nothing outside it, whatever the request path says."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root).resolve()
        if not self.root.is_dir():
            raise NotADirectoryError(f"dist directory not found: {self.root}")
        self._cache: dict[Path, _Cached] = {}

    def resolve(self, request_path: str) -> Path | None:
        """The file a URL path names, or None if it is missing or escapes the root."""
        path = unquote(urlsplit(request_path).path)
        try:
            candidate = (self.root / path.lstrip("/")).resolve()
            if not candidate.is_relative_to(self.root):
                return None
            if candidate.is_dir():
                candidate = candidate / "index.html"
            return candidate if candidate.is_file() else None
        except (OSError, RuntimeError, ValueError):  # too long, symlink loop, NUL byte
            return None

    async def respond(self, request: Request) -> Response:
        if request.method not in ("GET", "HEAD"):
            response = text_response(http.HTTPStatus.METHOD_NOT_ALLOWED, "GET or HEAD only\n")
            response.headers["Allow"] = ALLOWED_METHODS
            return response
        path = self.resolve(request.path)
        if path is None:
            return text_response(http.HTTPStatus.NOT_FOUND, f"Not found: {request.path}\n")
        try:
            entry = await self._load(path)
        except OSError:
            return text_response(http.HTTPStatus.NOT_FOUND, f"Not found: {request.path}\n")

        headers = _base_headers()
        headers["ETag"] = entry.etag
        if entry.etag in request.headers.get_all("If-None-Match"):
            return Response(304, "Not Modified", headers)
        headers["Content-Type"] = content_type(path)
        headers["Content-Length"] = str(entry.size)
        body = b"" if request.method == "HEAD" else entry.body
        return Response(200, "OK", headers, body)

    async def _load(self, path: Path) -> _Cached:
        stat = path.stat()
        entry = self._cache.get(path)
        if entry is None or (entry.mtime_ns, entry.size) != (stat.st_mtime_ns, stat.st_size):
            body = await asyncio.to_thread(path.read_bytes)
            entry = self._cache[path] = _Cached(stat.st_mtime_ns, len(body), body)
        return entry


def text_response(status: http.HTTPStatus, text: str) -> Response:
    """A small plain-text response with the same no-cache, one-shot headers as files."""
    body = text.encode()
    headers = _base_headers()
    headers["Content-Type"] = "text/plain; charset=utf-8"
    headers["Content-Length"] = str(len(body))
    return Response(status.value, status.phrase, headers, body)


def _base_headers() -> Headers:
    # websockets closes the TCP connection after every non-upgrade response: say so.
    return Headers(
        [
            ("Date", email.utils.formatdate(usegmt=True)),
            ("Cache-Control", "no-cache"),
            ("Connection", "close"),
        ]
    )
