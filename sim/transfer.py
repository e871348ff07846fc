"""Real HTTP(S) transfers for the core's firmware and diagnostics jobs (``TransferHost``).

The core decides when to transfer and what to report; these hosts only move bytes and call the
ChargePoint back, always on the event loop that drives it (never from a worker thread), with the
runtime's ``now`` from ``clock`` and then ``wake()`` so the runtime polls at once.

* Firmware: GET ``location``; the image is streamed through SHA-256, never kept whole, and its
  size and hex digest are reported. Nothing is installed: the core simulates installation.
* Diagnostics: HTTP PUT of the file to ``<location>/<fileName>`` (a query string stays at the
  end), Content-Type text/plain: the body is the file itself, which is what WebDAV, object
  stores' pre-signed URLs and a few lines of any server accept. A server that refuses PUT (405
  Method Not Allowed, 501 Not Implemented) gets a multipart/form-data POST to ``location``
  instead, the file in the field ``file``: what HTML upload forms and most upload endpoints take.
* ``user:password@`` in a location becomes a Basic Authorization header (browsers refuse URLs
  with credentials) and never appears in a detail. It is never sent to another origin (scheme,
  host, port): a redirect elsewhere drops it (CPython); the browser host does not follow
  redirects for such a location, since a page cannot see where one leads before it is followed.
* A ``TransferPolicy`` bounds what a CSMS can make the station do: the hosts a transfer may
  reach (``--transfer-allow``; any by default, a simulator must reach test servers), checked for
  the location and every redirect, and the bytes a transfer may move (default 64 MiB). A refused
  transfer fails (DownloadFailed / UploadFailed) with the reason as its detail.

Create one host per ChargePoint (a reboot builds a new ChargePoint, so a new host): a transfer
still running from before the reboot then reports to the discarded engine, harmlessly.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import logging
import math
import time
from typing import TYPE_CHECKING, Any, NamedTuple
from urllib.parse import quote, unquote, urlsplit, urlunsplit

from sim.transfer_policy import (
    DEFAULT_MAX_BYTES,
    SAME_CSMS,
    TransferPolicy,
    TransferRefused,
    origin,
)

# urllib.request (with http.client and email) is imported by the CPython host only, where it is
# used: the page never needs it, and importing it there cost about 0.3 s of its start-up.
if TYPE_CHECKING:
    import urllib.request
    from collections.abc import Callable

    from ocpp_core import ChargePoint

__all__ = [
    "DEFAULT_MAX_BYTES",
    "SAME_CSMS",
    "BrowserTransferHost",
    "CPythonTransferHost",
    "Outcome",
    "TransferPolicy",
    "TransferRefused",
    "prepare",
    "upload_url",
]

logger = logging.getLogger("sim.transfer")

CHUNK_BYTES = 64 * 1024
_CORS = "the server does not allow cross-origin requests (CORS)"


class Outcome(NamedTuple):
    """How a transfer ended; ``size`` and ``sha256`` only for a downloaded image."""

    ok: bool
    detail: str
    size: int | None = None
    sha256: str | None = None


class Target(NamedTuple):
    """A location split for a request: the URL without credentials, headers, what to show."""

    url: str
    headers: dict[str, str]
    shown: str


def prepare(location: str) -> Target:
    """Move ``user:password@`` out of the URL into a Basic Authorization header."""
    parts = urlsplit(location)
    if "@" not in parts.netloc:
        return Target(location, {}, location)
    userinfo, _, host = parts.netloc.rpartition("@")
    user, _, password = userinfo.partition(":")
    token = base64.b64encode(f"{unquote(user)}:{unquote(password)}".encode()).decode("ascii")
    url = urlunsplit(parts._replace(netloc=host))
    return Target(url, {"Authorization": f"Basic {token}"}, url)


UPLOAD_FIELD = "file"
PUT_REFUSED = frozenset({405, 501})  # answers after which an upload is POSTed instead


def multipart(file_name: str, content: bytes) -> tuple[str, bytes]:
    """(Content-Type, body) of a multipart/form-data POST carrying one file."""
    boundary = "ocpp-sim-" + hashlib.sha256(content).hexdigest()[:32]
    quoted = file_name.replace("\\", "_").replace('"', "_")
    head = (
        f"--{boundary}\r\n"
        f'Content-Disposition: form-data; name="{UPLOAD_FIELD}"; filename="{quoted}"\r\n'
        "Content-Type: text/plain; charset=utf-8\r\n\r\n"
    ).encode()
    return (
        f"multipart/form-data; boundary={boundary}",
        head + content + f"\r\n--{boundary}--\r\n".encode(),
    )


def upload_url(location: str, file_name: str) -> str:
    """``<location>/<fileName>``: the location is the directory to upload into (§6.25)."""
    parts = urlsplit(location)
    path = parts.path.rstrip("/") + "/" + quote(file_name)
    return urlunsplit(parts._replace(path=path))


# --------------------------------------------------------------------------- CPython


class CPythonTransferHost:
    """Transfers with ``urllib`` in worker threads of the loop's default executor.

    ``timeout_s`` bounds every socket operation, ``limit_s`` a whole transfer (both below the
    core's own HOST_TRANSFER_LIMIT). ``loop`` defaults to the loop running when a transfer
    starts (the runtime's: transfers start inside ``poll``). ``policy`` limits destinations
    (also of redirects) and sizes.
    """

    def __init__(
        self,
        target: ChargePoint,
        *,
        clock: Callable[[], float],
        wake: Callable[[], None] | None = None,
        loop: asyncio.AbstractEventLoop | None = None,
        timeout_s: float = 30.0,
        limit_s: float = 900.0,
        policy: TransferPolicy | None = None,
    ) -> None:
        if not (0 < timeout_s <= limit_s and math.isfinite(limit_s)):
            raise ValueError("need 0 < timeout_s <= limit_s (finite)")
        self.policy = policy = TransferPolicy() if policy is None else policy
        self._opener = _opener(policy)
        self._target = target
        self._clock = clock
        self._wake = wake
        self._loop = loop
        self.timeout_s = timeout_s
        self.limit_s = limit_s

    def start_download(self, location: str, now: float) -> None:
        loop = self._loop or asyncio.get_running_loop()
        future = loop.run_in_executor(None, self._download, location, loop)
        future.add_done_callback(self._downloaded)

    def start_upload(self, location: str, file_name: str, content: bytes, now: float) -> None:
        loop = self._loop or asyncio.get_running_loop()
        future = loop.run_in_executor(None, self._upload, location, file_name, content)
        future.add_done_callback(self._uploaded)

    # ---------------------------------------------------------------- on the loop

    def _downloaded(self, future: asyncio.Future[Outcome]) -> None:
        outcome = _outcome_of(future)
        self._target.firmware_download_finished(*outcome, now=self._clock())
        self._poke()

    def _uploaded(self, future: asyncio.Future[Outcome]) -> None:
        ok, detail, _, _ = _outcome_of(future)
        self._target.diagnostics_upload_finished(ok, detail, now=self._clock())
        self._poke()

    def _progress(self, received: int, total: int | None) -> None:
        self._target.firmware_download_progress(received, total, now=self._clock())
        self._poke()

    def _poke(self) -> None:
        if self._wake is not None:
            self._wake()

    # ---------------------------------------------------------------- in a worker thread

    def _open(self, request: urllib.request.Request) -> Any:
        """The response to ``request`` (redirects followed as the policy allows)."""
        refusal = self.policy.refusal(request.full_url)
        if refusal is not None:
            raise TransferRefused(refusal)
        return self._opener.open(request, timeout=self.timeout_s)

    def _download(self, location: str, loop: asyncio.AbstractEventLoop) -> Outcome:
        import urllib.request

        target = prepare(location)
        deadline = time.monotonic() + self.limit_s
        request = urllib.request.Request(target.url, headers=target.headers)
        digest = hashlib.sha256()
        size = 0
        too_large = self.policy.too_large
        try:
            with self._open(request) as response:
                total = _content_length(response)
                if total is not None and (why := too_large(total)) is not None:
                    raise TransferRefused(f"the image announced is too large: {why}")
                reported = -1
                while chunk := response.read(CHUNK_BYTES):
                    digest.update(chunk)
                    size += len(chunk)
                    if (why := too_large(size)) is not None:
                        raise TransferRefused(f"the image is too large: {why}")
                    if time.monotonic() > deadline:
                        raise TimeoutError
                    step = size * 10 // total if total else size // (1024 * 1024)
                    if step != reported:
                        reported = step
                        loop.call_soon_threadsafe(self._progress, size, total)
        except Exception as exc:
            return Outcome(False, self._describe(exc, target.shown, "download"))
        detail = f"downloaded {size} bytes from {target.shown}"
        return Outcome(True, detail, size, digest.hexdigest())

    def _upload(self, location: str, file_name: str, content: bytes) -> Outcome:
        import urllib.error
        import urllib.request

        target = prepare(upload_url(location, file_name))
        why = self.policy.too_large(len(content))
        if why is not None:
            return Outcome(False, f"upload refused: the diagnostics file is too large: {why}")
        headers = {**target.headers, "Content-Type": "text/plain; charset=utf-8"}
        request = urllib.request.Request(target.url, data=content, headers=headers, method="PUT")
        try:
            with self._open(request) as response:
                status = response.status
        except urllib.error.HTTPError as exc:
            if exc.code not in PUT_REFUSED:
                return Outcome(False, self._describe(exc, target.shown, "upload"))
            return self._post(location, file_name, content)
        except Exception as exc:
            return Outcome(False, self._describe(exc, target.shown, "upload"))
        return Outcome(True, f"uploaded {len(content)} bytes to {target.shown} (HTTP {status})")

    def _post(self, location: str, file_name: str, content: bytes) -> Outcome:
        import urllib.request

        target = prepare(location)
        content_type, body = multipart(file_name, content)
        headers = {**target.headers, "Content-Type": content_type}
        request = urllib.request.Request(target.url, data=body, headers=headers, method="POST")
        try:
            with self._open(request) as response:
                status = response.status
        except Exception as exc:
            return Outcome(False, self._describe(exc, target.shown, "upload (POST)"))
        detail = f"uploaded {len(content)} bytes to {target.shown} (POST, HTTP {status})"
        return Outcome(True, detail)

    def _describe(self, exc: BaseException, shown: str, what: str) -> str:
        """A failure in words a user can act on (never with credentials)."""
        import urllib.error

        if isinstance(exc, TransferRefused):
            return f"{what} refused: {exc}"
        if isinstance(exc, urllib.error.HTTPError):
            return f"{what} failed: HTTP {exc.code} {exc.reason} from {shown}"
        if isinstance(exc, TimeoutError):
            return f"{what} failed: {shown} timed out"
        if isinstance(exc, urllib.error.URLError):
            reason = exc.reason
            if isinstance(reason, TimeoutError):
                return f"{what} failed: {shown} timed out after {self.timeout_s:g} s"
            return f"{what} failed: cannot reach {shown}: {reason}"
        if isinstance(exc, ValueError):
            return f"{what} failed: invalid URL {shown}: {exc}"
        logger.warning("%s of %s failed", what, shown, exc_info=exc)
        return f"{what} failed: {type(exc).__name__}: {exc}"


def _opener(policy: TransferPolicy) -> urllib.request.OpenerDirector:
    """urllib's opener: redirects only to allowed hosts, credentials only to their origin."""
    import urllib.request

    class Redirects(urllib.request.HTTPRedirectHandler):
        def redirect_request(
            self,
            req: urllib.request.Request,
            fp: Any,
            code: int,
            msg: str,
            headers: Any,
            newurl: str,
        ) -> urllib.request.Request | None:
            refusal = policy.refusal(newurl)
            if refusal is not None:
                fp.close()
                raise TransferRefused(f"redirected (HTTP {code}) but {refusal}")
            request = super().redirect_request(req, fp, code, msg, headers, newurl)
            if request is not None and origin(newurl) != origin(req.full_url):
                request.remove_header("Authorization")  # never to another origin
            return request

    return urllib.request.build_opener(Redirects())


def _content_length(response: Any) -> int | None:
    text = response.headers.get("Content-Length")
    if text is None or not text.isdigit():
        return None
    return int(text) or None


def _outcome_of(future: asyncio.Future[Outcome]) -> Outcome:
    """The worker's outcome; a cancelled or crashed worker is a failed transfer."""
    if future.cancelled():
        return Outcome(False, "the transfer was cancelled")
    error = future.exception()
    if error is not None:
        logger.error("transfer worker failed", exc_info=error)
        return Outcome(False, f"the transfer failed: {type(error).__name__}")
    return future.result()


# --------------------------------------------------------------------------- browser


class BrowserTransferHost:
    """Transfers with the page's ``fetch`` through Pyodide (``js`` is imported lazily).

    The browser decides what is allowed: the server must send CORS headers (for the upload,
    answer the PUT preflight), an https page cannot fetch http:// (mixed content), and it does
    not say which of these made a request fail. The image is streamed through SHA-256 where the
    response has a body stream, else read into memory once (``arrayBuffer``).

    With credentials in the location or with an allow-list, redirects are refused (fetch
    ``redirect: "error"``): a page cannot see where a redirect leads before following it.
    """

    def __init__(
        self,
        target: ChargePoint,
        *,
        clock: Callable[[], float],
        wake: Callable[[], None] | None = None,
        policy: TransferPolicy | None = None,
    ) -> None:
        self.policy = TransferPolicy() if policy is None else policy
        self._target = target
        self._clock = clock
        self._wake = wake
        self._tasks: set[asyncio.Task[None]] = set()  # keep running tasks referenced

    def start_download(self, location: str, now: float) -> None:
        self._spawn(self._download(location))

    def start_upload(self, location: str, file_name: str, content: bytes, now: float) -> None:
        self._spawn(self._upload(location, file_name, content))

    def _spawn(self, coroutine: Any) -> None:
        task = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _download(self, location: str) -> None:
        try:
            outcome = await self._fetch_image(prepare(location))
        except Exception as exc:
            logger.exception("firmware download failed")
            outcome = Outcome(False, f"download failed: {type(exc).__name__}: {exc}")
        self._target.firmware_download_finished(*outcome, now=self._clock())
        self._poke()

    async def _upload(self, location: str, file_name: str, content: bytes) -> None:
        try:
            why = self.policy.too_large(len(content))
            if why is not None:
                raise TransferRefused(f"the diagnostics file is too large: {why}")
            outcome, status = await self._put(prepare(upload_url(location, file_name)), content)
            if status in PUT_REFUSED:
                outcome = await self._post(prepare(location), file_name, content)
        except TransferRefused as exc:
            outcome = Outcome(False, f"upload refused: {exc}")
        except Exception as exc:
            logger.exception("diagnostics upload failed")
            outcome = Outcome(False, f"upload failed: {type(exc).__name__}: {exc}")
        self._target.diagnostics_upload_finished(outcome.ok, outcome.detail, now=self._clock())
        self._poke()

    def _init(self, target: Target, init: dict[str, Any]) -> dict[str, Any]:
        """fetch's ``init`` for ``target``; refuses a destination the policy does not allow."""
        refusal = self.policy.refusal(target.url)
        if refusal is not None:
            raise TransferRefused(refusal)
        init = {**init, "headers": {**target.headers, **init.get("headers", {})}}
        if "Authorization" in target.headers or self.policy.hosts is not None:
            init["redirect"] = "error"
        return init

    async def _fetch_image(self, target: Target) -> Outcome:
        import js

        try:
            init = self._init(target, {})
        except TransferRefused as exc:
            return Outcome(False, f"download refused: {exc}")
        try:
            response = await js.fetch(target.url, _options(js, init))
        except Exception:
            return Outcome(False, f"download failed: {_why_fetch_failed(js, target, init)}")
        if not response.ok:
            status = f"HTTP {response.status} {response.statusText}".rstrip()
            return Outcome(False, f"download failed: {status} from {target.shown}")
        too_large = self.policy.too_large
        total = _announced(response)
        if total is not None and (why := too_large(total)) is not None:
            return Outcome(False, f"download refused: the image announced is too large: {why}")
        digest, size = hashlib.sha256(), 0
        body = getattr(response, "body", None)
        if body is None:  # no stream (old engines): the whole body at once
            data = (await response.arrayBuffer()).to_bytes()
            digest.update(data)
            size = len(data)
            why = too_large(size)
        else:
            reader = body.getReader()
            while True:
                chunk = await reader.read()
                if chunk.done:
                    why = None
                    break
                data = chunk.value.to_bytes()
                digest.update(data)
                size += len(data)
                if (why := too_large(size)) is not None:
                    await reader.cancel()
                    break
        if why is not None:
            return Outcome(False, f"download refused: the image is too large: {why}")
        detail = f"downloaded {size} bytes from {target.shown}"
        return Outcome(True, detail, size, digest.hexdigest())

    async def _put(self, target: Target, content: bytes) -> tuple[Outcome, int | None]:
        """The PUT's outcome and HTTP status (None: no answer)."""
        import js

        init = self._init(
            target, {"method": "PUT", "headers": {"Content-Type": "text/plain; charset=utf-8"}}
        )
        body = js.Uint8Array.new(len(content))
        body.assign(content)
        init["body"] = body
        try:
            response = await js.fetch(target.url, _options(js, init))
        except Exception:
            return Outcome(False, f"upload failed: {_why_fetch_failed(js, target, init)}"), None
        status = f"HTTP {response.status} {response.statusText}".rstrip()
        if not response.ok:
            failed = Outcome(False, f"upload failed: {status} from {target.shown}")
            return failed, int(response.status)
        done = Outcome(True, f"uploaded {len(content)} bytes to {target.shown} ({status})")
        return done, int(response.status)

    async def _post(self, target: Target, file_name: str, content: bytes) -> Outcome:
        import js

        content_type, payload = multipart(file_name, content)
        init = self._init(target, {"method": "POST", "headers": {"Content-Type": content_type}})
        body = js.Uint8Array.new(len(payload))
        body.assign(payload)
        init["body"] = body
        try:
            response = await js.fetch(target.url, _options(js, init))
        except Exception:
            why = _why_fetch_failed(js, target, init)
            return Outcome(False, f"upload (POST) failed: {why}")
        status = f"HTTP {response.status} {response.statusText}".rstrip()
        if not response.ok:
            return Outcome(False, f"upload (POST) failed: {status} from {target.shown}")
        return Outcome(True, f"uploaded {len(content)} bytes to {target.shown} (POST, {status})")

    def _poke(self) -> None:
        if self._wake is not None:
            self._wake()


def _options(js: Any, options: dict[str, Any]) -> Any:
    """A JavaScript object for fetch's ``init`` (nested dicts become objects too)."""
    from pyodide.ffi import to_js

    return to_js(options, dict_converter=js.Object.fromEntries)


def _announced(response: Any) -> int | None:
    """The Content-Length a fetch response announces, if any."""
    headers = getattr(response, "headers", None)
    text = None if headers is None else headers.get("Content-Length")
    return int(text) if isinstance(text, str) and text.isdigit() else None


def _why_fetch_failed(js: Any, target: Target, init: dict[str, Any]) -> str:
    """fetch rejects with a bare TypeError; name the likely causes the browser hides."""
    page = getattr(getattr(js, "location", None), "protocol", "")
    if page == "https:" and target.url.lower().startswith("http:"):
        return f"an https page may not fetch {target.shown} (mixed content: use https)"
    redirect = ""
    if init.get("redirect") == "error":
        redirect = ", it redirected (not followed with credentials or an allow-list)"
    return (
        f"could not fetch {target.shown}: {_CORS}{redirect}, or it cannot be reached"
        " (the browser does not tell which; its console shows more)"
    )
