"""An in-process CSMS for tests: reads the station's frames from poll(), answers its CALLs with
configurable handlers (valid responses by default) and feeds replies back with receive().

Time is virtual: ``csms.now`` is the monotonic time passed to the station; ``advance`` moves it
forward in steps, pumping frames at every step, so timers fire at the right virtual time.

With ``dedupe`` the CSMS recognises a CALL whose message id it answered before (the station
re-sends a transaction message under its original id) and answers it as the first time,
without handling it again: a repeated StartTransaction gets the same transactionId.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from typing import Any

from ocpp_core import ChargePoint, StationIdentity
from ocpp_core.clock import format_datetime
from ocpp_core.store import MemoryStore, Store

WALL_START = 1_700_000_000.0  # the CSMS's wall time at now == 0 (2023-11-14T22:13:20Z)

SILENT = object()  # a handler result: do not answer this CALL


class Error:
    """A handler result: answer with a CALLERROR."""

    def __init__(self, code: str, description: str = "", details: dict | None = None) -> None:
        self.code, self.description, self.details = code, description, details or {}


class Raw:
    """A handler result: answer with this exact text (to test hostile responses)."""

    def __init__(self, text: str) -> None:
        self.text = text


Handler = Callable[[dict], Any]


class FakeCsms:
    """Drives one ChargePoint like a CSMS on the other end of a WebSocket."""

    def __init__(self, cp: ChargePoint, *, now: float = 0.0, heartbeat_interval: int = 300) -> None:
        self.cp = cp
        self.now = now
        self.heartbeat_interval = heartbeat_interval
        self.handlers: dict[str, Handler] = {
            "BootNotification": self._boot,
            "Heartbeat": lambda payload: {"currentTime": self.wall_text()},
            "StatusNotification": lambda payload: {},
            "DataTransfer": lambda payload: {"status": "Accepted"},
            "Authorize": lambda payload: {"idTagInfo": {"status": "Accepted"}},
            "StartTransaction": self._start_transaction,
            "StopTransaction": lambda payload: {},
            "MeterValues": lambda payload: {},
        }
        self.transaction_ids = itertools.count(1001)  # what StartTransaction answers
        self.calls: list[tuple[str, str, dict, float]] = []  # (id, action, payload, now)
        self.sent: list[str] = []  # every frame the station sent
        self.replies: dict[str, list] = {}  # our CALL id -> the station's reply frame
        self.dedupe = False
        self.answered: dict[str, object] = {}  # with dedupe: the station's CALL id -> answer
        self.repeats: list[tuple[str, str]] = []  # with dedupe: (id, action) answered again
        self._ids = (f"csms-{n}" for n in itertools.count(1))

    # ------------------------------------------------------------------ time

    def wall_text(self) -> str:
        return format_datetime(WALL_START + self.now)

    def _start_transaction(self, payload: dict) -> dict:
        return {"transactionId": next(self.transaction_ids), "idTagInfo": {"status": "Accepted"}}

    def _boot(self, payload: dict) -> dict:
        return {
            "status": "Accepted",
            "currentTime": self.wall_text(),
            "interval": self.heartbeat_interval,
        }

    # ------------------------------------------------------------------ driving

    def connect(self) -> None:
        self.cp.connected(self.now)
        self.pump()

    def disconnect(self) -> None:
        self.cp.disconnected(self.now)

    def pump(self, limit: int = 1000) -> list[str]:
        """Poll until the station has nothing more to send; returns the frames it sent."""
        frames_out = []
        for _ in range(limit):
            frames = self.cp.poll(self.now)
            if not frames:
                return frames_out
            for text in frames:
                frames_out.append(text)
                self._handle(text)
        raise AssertionError("the station never stopped sending")

    def advance(self, seconds: float, step: float = 1.0) -> list[str]:
        """Move virtual time forward, pumping at every step."""
        frames = []
        end = self.now + seconds
        while self.now < end:
            self.now = min(end, self.now + step)
            frames.extend(self.pump())
        return frames

    def _handle(self, text: str) -> None:
        self.sent.append(text)
        frame = json.loads(text)
        if frame[0] != 2:
            self.replies[frame[1]] = frame
            return
        _, message_id, action, payload = frame
        self.calls.append((message_id, action, payload, self.now))
        if self.dedupe and message_id in self.answered:
            self.repeats.append((message_id, action))
            answer = self.answered[message_id]
        else:
            handler = self.handlers.get(action)
            answer = {} if handler is None else handler(payload)
        if answer is SILENT:
            return
        if self.dedupe:
            self.answered[message_id] = answer
        if isinstance(answer, Raw):
            self.cp.receive(answer.text, self.now)
        elif isinstance(answer, Error):
            reply = [4, message_id, answer.code, answer.description, answer.details]
            self.cp.receive(json.dumps(reply), self.now)
        else:
            self.cp.receive(json.dumps([3, message_id, answer]), self.now)

    # ------------------------------------------------------------------ CSMS-initiated calls

    def send(self, action: str, payload: Any, message_id: str | None = None) -> str:
        """Send a CALL to the station (not yet pumped); returns its id."""
        message_id = next(self._ids) if message_id is None else message_id
        self.cp.receive(json.dumps([2, message_id, action, payload]), self.now)
        return message_id

    def call(self, action: str, payload: Any) -> list:
        """Send a CALL and return the station's reply frame (CALLRESULT or CALLERROR)."""
        message_id = self.send(action, payload)
        self.pump()
        return self.replies[message_id]

    def result(self, action: str, payload: Any) -> dict:
        """Send a CALL that must succeed; return the CALLRESULT payload."""
        reply = self.call(action, payload)
        assert reply[0] == 3, reply
        return reply[2]

    # ------------------------------------------------------------------ inspection

    def actions(self) -> list[str]:
        """The actions of the station's CALLs, in order."""
        return [action for _, action, _, _ in self.calls]

    def payloads(self, action: str) -> list[dict]:
        return [payload for _, name, payload, _ in self.calls if name == action]

    def clear(self) -> None:
        self.calls.clear()
        self.sent.clear()


IDENTITY = StationIdentity(vendor="TestVendor", model="TestModel", firmware_version="1.0.0")


def station(
    *, store: Store | None = None, connectors: int = 2, **options: Any
) -> tuple[ChargePoint, FakeCsms]:
    """A fresh, connected but not yet booted station and its CSMS."""
    cp = ChargePoint(
        identity=IDENTITY,
        connectors=connectors,
        store=MemoryStore() if store is None else store,
        **options,
    )
    return cp, FakeCsms(cp)


def booted(**options: Any) -> tuple[ChargePoint, FakeCsms]:
    """A station that has connected, been accepted and reported its statuses."""
    cp, csms = station(**options)
    csms.connect()
    assert cp.registration == "Accepted"
    csms.clear()
    return cp, csms
