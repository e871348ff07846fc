"""The browser transport: ``js.WebSocket`` driven from Pyodide through ``pyodide.ffi`` proxies.

``js`` and ``pyodide`` are imported inside the methods that need them, so this module imports on
CPython too (tests inject a fake ``js``). All decisions live in ``Lifecycle``; this class only
talks to the browser. Its limits are the browser's: no custom headers (Basic auth goes in the URL
as ``id:key@``, which Chromium answers a 401 challenge with), no pings, no TLS settings and no HTTP
status on a failed handshake.

``after_event`` runs at the end of every socket event (open, message, close), in the same JS task:
the Control Center ticks the station there, so a received frame is handled and what it changes is
stored before the browser can run anything else — a reload included.

``probe_subprotocols``: Chromium fails a handshake whose response selects none of the subprotocols
offered (what OCPP-J part 4 §3.2 prescribes for a CSMS that speaks none of them) exactly like an
unreachable server. With it, the first attempt of a streak that fails without opening is followed
by one probe of the same URL offering no subprotocol: if that opens, the server is reachable and
takes our id and key, so the subprotocols were refused; the probe is closed at once and the detail
says so (the Control Center shows a notice). A CSMS sees the probe as one short connection.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from sim.transport.base import (
    ConnectionState,
    TransportConfig,
    TransportListener,
    credentials_url,
    describe_close,
)
from sim.transport.lifecycle import Lifecycle, logger

RECONNECT_WAIT = ConnectionState.RECONNECT_WAIT

__all__ = ["BrowserTransport"]

_STOPPED = "closed by the station (stopped)"
_OFFLINE = "network switched off"


class BrowserTransport:
    """A ``Transport`` on the page's ``WebSocket``; every callback runs on the JS event loop."""

    def __init__(
        self,
        config: TransportConfig,
        listener: TransportListener,
        *,
        rng: random.Random | None = None,
        after_event: Callable[[], None] | None = None,
        probe_subprotocols: bool = False,
    ) -> None:
        self.config = config
        self._after_event = after_event
        self._probe_wanted = probe_subprotocols
        self._probed = False  # this failure streak had its probe
        self._life = Lifecycle(config, listener, rng)
        self._url = credentials_url(config)  # carries the key: never shown, logged or raised
        self._socket: Any = None
        self._handlers: list[Any] = []  # proxies of the socket's handlers, destroyed with it
        self._timer: Any = None  # setTimeout id of the pending reconnect
        self._timer_proxy: Any = None

    @property
    def state(self) -> ConnectionState:
        return self._life.state

    @property
    def detail(self) -> str:
        """The human-readable detail of the current state."""
        return self._life.detail

    def start(self) -> None:
        if self._life.start():
            self._open()

    def stop(self) -> None:
        if self._life.stop():
            self._close(_STOPPED)
        else:
            self._cancel()
        self._release_timer()

    def set_offline(self, offline: bool) -> None:
        if offline:
            if self._life.go_offline():
                self._close(_OFFLINE)
            else:
                self._cancel()
        elif self._life.go_online():
            self._open()

    def send(self, text: str) -> bool:
        if self._socket is None or not self._life.connected:
            return False
        self._socket.send(text)
        return True

    def _open(self) -> None:
        import js
        from pyodide.ffi import create_proxy, to_js

        self._life.connecting()
        if not self._life.wants_connection:  # a listener stopped us from on_state
            return
        try:
            socket = js.WebSocket.new(self._url, to_js(list(self.config.subprotocols)))
        except Exception as exc:  # a JS SyntaxError quotes the URL: Lifecycle redacts the key
            self._ended(f"the browser refused the URL: {exc}")
            return
        self._socket = socket
        for name, handler in (
            ("onopen", self._on_open),
            ("onmessage", self._on_message),
            ("onclose", self._on_close),
        ):
            proxy = create_proxy(self._event(handler))
            setattr(socket, name, proxy)
            self._handlers.append(proxy)

    def _event(self, handler: Callable[[Any], None]) -> Callable[[Any], None]:
        """``handler``, then ``after_event`` (even when the handler failed)."""

        def run(event: Any) -> None:
            try:
                handler(event)
            finally:
                if self._after_event is not None:
                    self._after_event()

        return run

    def _on_open(self, _event: Any) -> None:
        accepted = str(self._socket.protocol)
        problem = self._life.subprotocol_problem(accepted)
        if problem is None:
            self._probed = False
            self._life.opened(accepted)
            return
        self._socket.close(1000, "subprotocol not accepted")
        self._detach()
        self._ended(problem)

    def _on_message(self, event: Any) -> None:
        data = event.data
        if isinstance(data, str):
            self._life.received(data)
        else:
            logger.warning(
                "[%s] ignored a binary frame (OCPP-J uses text frames)", self.config.charge_box_id
            )

    def _on_close(self, event: Any) -> None:
        was_open = self._life.connected
        self._detach()
        if was_open:
            self._ended(describe_close(event.code, event.reason))
            return
        key = ", the authorization key" if self.config.auth_key else ""
        self._ended(
            f"could not connect to {self._life.url}: check the URL, that the server is reachable"
            f"{key} and that it accepts subprotocol {self.config.offered}"
            " (the browser does not tell why; its console may show more)"
        )
        if self._probe_wanted and not self._probed and self._life.state is RECONNECT_WAIT:
            self._probed = True
            self._probe()

    def _probe(self) -> None:
        """Open the URL offering no subprotocol; if it opens, explain the failure (see the
        module docstring) and close it at once."""
        import js
        from pyodide.ffi import create_proxy, to_js

        try:
            probe = js.WebSocket.new(self._url, to_js([]))
        except Exception:
            return
        proxies: list[Any] = []

        def finish(opened: bool) -> None:
            probe.onopen = probe.onclose = None
            for proxy in proxies:
                proxy.destroy()
            if opened:
                probe.close(1000, "subprotocol probe")
                self._life.explain(self._life.subprotocol_problem(None) or "")

        for name, opened in (("onopen", True), ("onclose", False)):
            proxy = create_proxy(lambda _event, opened=opened: finish(opened))
            proxies.append(proxy)
            setattr(probe, name, proxy)

    def _close(self, reason: str) -> None:
        """Close the open connection cleanly and report it at once (the browser finishes it)."""
        if self._socket is None:
            return
        self._socket.close(1000, "offline" if reason == _OFFLINE else "stopped")
        self._detach()
        self._ended(reason)

    def _cancel(self) -> None:
        """Abandon a pending attempt or reconnect timer (never an open connection)."""
        if self._timer is not None:
            import js

            js.clearTimeout(self._timer)
            self._timer = None
        if self._socket is not None and not self._life.connected:
            self._socket.close()
            self._detach()

    def _detach(self) -> None:
        """Unhook and free the handler proxies: no leak, and JS never calls a freed proxy."""
        socket, self._socket = self._socket, None
        if socket is not None:
            socket.onopen = socket.onmessage = socket.onclose = None
        for proxy in self._handlers:
            proxy.destroy()
        self._handlers.clear()

    def _ended(self, reason: str) -> None:
        delay = self._life.ended(reason)
        if delay is None:
            return
        import js
        from pyodide.ffi import create_proxy

        if self._timer_proxy is None:
            self._timer_proxy = create_proxy(self._on_timer)
        self._timer = js.setTimeout(self._timer_proxy, round(delay * 1000))

    def _on_timer(self) -> None:
        self._timer = None
        if self._life.wants_connection and self._socket is None:
            self._open()

    def _release_timer(self) -> None:
        if self._timer_proxy is not None and self._timer is None:
            self._timer_proxy.destroy()
            self._timer_proxy = None
