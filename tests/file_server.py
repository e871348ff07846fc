"""A local HTTP file server for the transfer tests (and the e2e tests, which load this file): it
serves a firmware image, stores PUT and multipart POST uploads, refuses what a real server would
(401, 403, 404, 405), redirects (``/redirect?to=URL``), serves large files (``/big-N.bin``, and
``/big-stream-N.bin`` without a Content-Length), records each request's Authorization header,
and sends CORS headers so that a page on another origin may use it."""

from __future__ import annotations

import base64
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from email.parser import BytesParser
from email.policy import default
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

IMAGE = bytes(range(256)) * 1200  # 307,200 bytes: several chunks
USER, PASSWORD = "station", "s3cret-pw"


class Server:
    """A local HTTP server: serves the image at /fw-*.bin (and, with Basic auth,
    /private/fw-3.0.bin), stores uploads in ``stored`` (a PUT under its path, a POST as
    "POST <path> <file name>"), refuses what it should."""

    def __init__(self) -> None:
        self.stored: dict[str, bytes] = {}
        self.headers: dict[str, dict[str, str]] = {}
        self.requests: list[tuple[str, str, str | None]] = []  # (method, path, Authorization)
        server = self

        class Handler(BaseHTTPRequestHandler):
            def parse_request(self) -> bool:
                parsed = super().parse_request()
                if parsed:
                    auth = self.headers.get("Authorization")
                    server.requests.append((self.command, self.path, auth))
                return parsed

            def _redirect(self) -> bool:
                """``.../redirect?to=URL[&code=N]``: answer with that redirect."""
                parts = urlsplit(self.path)
                if not parts.path.endswith("/redirect"):
                    return False
                query = parse_qs(parts.query)
                self.send_response(int(query.get("code", ["302"])[0]))
                self.send_header("Location", query["to"][0])
                self.send_header("Content-Length", "0")
                self.end_headers()
                return True

            def _big(self) -> bool:
                """``/big-N.bin``: N bytes; ``/big-stream-N.bin``: the same, length unannounced."""
                name = self.path.removeprefix("/big-").removesuffix(".bin")
                stream = name.startswith("stream-")
                size = name.removeprefix("stream-")
                if not self.path.startswith("/big-") or not size.isdigit():
                    return False
                self.send_response(200)
                if not stream:
                    self.send_header("Content-Length", size)
                self.end_headers()
                left = int(size)
                try:
                    while left > 0:
                        chunk = min(left, 65536)
                        self.wfile.write(bytes(chunk))
                        left -= chunk
                except OSError:
                    pass  # the client stopped reading: what a size limit does
                return True

            def end_headers(self) -> None:
                self.send_header("Access-Control-Allow-Origin", "*")
                self.send_header("Access-Control-Allow-Methods", "GET, PUT, POST")
                self.send_header("Access-Control-Allow-Headers", "Content-Type, Authorization")
                super().end_headers()

            def do_OPTIONS(self) -> None:
                """The preflight a browser sends before a cross-origin PUT."""
                self.send_response(204)
                self.end_headers()

            def do_GET(self) -> None:
                if self._redirect() or self._big():
                    return
                if self.path == "/private/fw-3.0.bin" and not server.authorized(self):
                    self.send_error(401)
                elif self.path == "/private/fw-3.0.bin" or (
                    self.path.startswith("/fw-") and self.path.endswith(".bin")
                ):
                    self.send_response(200)
                    self.send_header("Content-Length", str(len(IMAGE)))
                    self.end_headers()
                    self.wfile.write(IMAGE)
                else:
                    self.send_error(404)

            def do_PUT(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if self.path.startswith("/forbidden/"):
                    self.send_error(403)
                    return
                if self.path.startswith("/post-only/"):
                    self.send_error(405)
                    return
                server.stored[self.path] = body
                server.headers[self.path] = dict(self.headers)
                self.send_response(201)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def do_POST(self) -> None:
                """A form upload endpoint: multipart/form-data with the file in "file"."""
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if self._redirect():
                    return
                message = BytesParser(policy=default).parsebytes(
                    f"Content-Type: {self.headers['Content-Type']}\r\n\r\n".encode() + body
                )
                [part] = [
                    p
                    for p in message.iter_parts()
                    if p.get_param("name", header="content-disposition") == "file"
                ]
                server.stored[f"POST {self.path} {part.get_filename()}"] = part.get_payload(
                    decode=True
                )
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet."""

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"

    @staticmethod
    def authorized(handler: BaseHTTPRequestHandler) -> bool:
        token = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
        return handler.headers.get("Authorization") == f"Basic {token}"


@contextmanager
def serving() -> Iterator[Server]:
    """A Server answering on a thread while the block runs."""
    server = Server()
    thread = threading.Thread(target=server.httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.httpd.shutdown()
        server.httpd.server_close()
        thread.join()
