"""The connection state machine both transports share, so the decisions are tested on CPython.

A transport does the I/O (open, close, timers) and tells ``Lifecycle`` what happened; the
lifecycle keeps the state, notifies the listener, checks the subprotocol and picks the reconnect
delay. Listener callbacks may call back into the transport (``stop`` from ``on_close``, ...), so
every decision reads the flags after notifying.
"""

from __future__ import annotations

import logging
import random

from sim.transport.base import (
    ConnectionState,
    TransportConfig,
    TransportListener,
    build_station_url,
    redact,
)

__all__ = ["OFFLINE", "STOPPED", "Lifecycle", "LifecycleControls", "logger"]

logger = logging.getLogger("sim.transport")

STOPPED = "closed by the station (stopped)"
OFFLINE = "network switched off"


class Lifecycle:
    """State, listener notifications and reconnect decisions of one transport."""

    def __init__(
        self,
        config: TransportConfig,
        listener: TransportListener,
        rng: random.Random | None = None,
    ) -> None:
        self.config = config
        self.listener = listener
        self.url = build_station_url(config)  # without credentials: safe to show
        self.backoff = config.backoff(rng)
        self.state = ConnectionState.DISCONNECTED
        self.detail = "not started"
        self.running = False
        self.offline = False
        self.connected = False

    @property
    def wants_connection(self) -> bool:
        """Started, not stopped and the network switch is on."""
        return self.running and not self.offline

    def start(self) -> bool:
        """Mark started; True when the transport should open a connection now."""
        if self.running:
            return False
        self.running = True
        self.backoff.reset()
        if self.offline:
            self._set(ConnectionState.OFFLINE, "network switched off")
            return False
        return True

    def stop(self) -> bool:
        """Mark stopped; True when an open connection must now be closed (its end comes later).

        False means there is no open connection: the transport cancels any pending attempt or
        timer, and the state is already CLOSED.
        """
        if not self.running:
            return False
        self.running = False
        if self.connected:
            return True
        self._set(ConnectionState.CLOSED, "stopped")
        return False

    def go_offline(self) -> bool:
        """Switch the network off; True when an open connection must now be closed.

        False means there is no open connection: the transport cancels any pending attempt or
        timer.
        """
        if self.offline:
            return False
        self.offline = True
        if self.connected:
            return True
        if self.running:
            self._set(ConnectionState.OFFLINE, "network switched off")
        return False

    def go_online(self) -> bool:
        """Switch the network back on; True when the transport should connect now."""
        if not self.offline:
            return False
        self.offline = False
        if self.running and not self.connected:
            self.backoff.reset()
            return True
        return False

    def connecting(self) -> None:
        self._set(ConnectionState.CONNECTING, f"connecting to {self.url}")

    def subprotocol_problem(self, accepted: str | None) -> str | None:
        """Why the handshake must count as failed when the server did not pick one of the
        subprotocols offered (a CSMS that speaks none of them picks none)."""
        offered = self.config.subprotocols
        if accepted in offered:
            return None
        picked = f"it picked {accepted!r}" if accepted else "it picked none"
        noun = "subprotocol" if len(offered) == 1 else "subprotocols"
        return f"server did not accept {noun} {self.config.offered} ({picked})"

    def opened(self, accepted: str) -> None:
        """The connection is open with subprotocol ``accepted`` (checked); the transport must
        already be able to send."""
        self.connected = True
        self.backoff.reset()
        self._set(ConnectionState.CONNECTED, f"connected to {self.url} ({accepted})")
        self._notify("on_open", accepted)

    def explain(self, why: str) -> None:
        """A later finding on why the last attempt failed, while waiting to retry."""
        if self.state is ConnectionState.RECONNECT_WAIT and why:
            self._set(ConnectionState.RECONNECT_WAIT, f"{why}; reconnecting")

    def received(self, text: str) -> None:
        self._notify("on_message", text)

    def ended(self, reason: str) -> float | None:
        """An attempt failed or the connection ended: the delay before retrying, or None."""
        reason = redact(reason, self.config)
        self.connected = False
        self._notify("on_close", reason)
        if not self.running:
            if self.state is not ConnectionState.CLOSED:
                self._set(ConnectionState.CLOSED, reason)
            return None
        if self.offline:
            if self.state is not ConnectionState.OFFLINE:
                self._set(ConnectionState.OFFLINE, reason)
            return None
        delay = self.backoff.next_delay()
        self._set(ConnectionState.RECONNECT_WAIT, f"{reason}; reconnecting in {delay:.1f} s")
        return delay

    def _set(self, state: ConnectionState, detail: str) -> None:
        detail = redact(detail, self.config)
        if (state, detail) == (self.state, self.detail):
            return
        self.state, self.detail = state, detail
        logger.info("[%s] %s: %s", self.config.charge_box_id, state.value, detail)
        self._notify("on_state", state, detail)

    def _notify(self, method: str, *args: object) -> None:
        # A bug in the station must not kill the connection task: log it and carry on.
        try:
            getattr(self.listener, method)(*args)
        except Exception:
            logger.exception("[%s] the listener failed in %s", self.config.charge_box_id, method)


class LifecycleControls:
    """The Transport controls as a transport on a ``Lifecycle`` implements them: ``state``,
    ``detail``, ``start``, ``stop`` and the network switch. The transport supplies ``_connect``
    (begin attempting, in the background), ``_close(reason)`` (close the open connection; its
    end is reported later) and ``_cancel`` (abandon a pending attempt or reconnect wait)."""

    _life: Lifecycle

    @property
    def state(self) -> ConnectionState:
        return self._life.state

    @property
    def detail(self) -> str:
        """The human-readable detail of the current state."""
        return self._life.detail

    def start(self) -> None:
        if self._life.start():
            self._connect()

    def stop(self) -> None:
        if self._life.stop():
            self._close(STOPPED)
        else:
            self._cancel()

    def set_offline(self, offline: bool) -> None:
        if offline:
            if self._life.go_offline():
                self._close(OFFLINE)
            else:
                self._cancel()
        elif self._life.go_online():
            self._connect()

    def _connect(self) -> None:
        raise NotImplementedError

    def _close(self, reason: str) -> None:
        raise NotImplementedError

    def _cancel(self) -> None:
        raise NotImplementedError
