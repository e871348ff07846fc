"""The message log's model: every OCPP frame in and out, its filters and the JSONL export.

No DOM here (tested on CPython). Frames arrive as the station's FrameLogged events; the log only
reads the OCPP-J envelope (message type, id, action) to label rows, it never interprets payloads.
"""

from __future__ import annotations

import json
import time
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass

from sim.events import printable

__all__ = [
    "DIRECTIONS",
    "LogEntry",
    "LogFilter",
    "MessageLog",
    "Redactor",
    "iso_timestamp",
    "parse_envelope",
]

DIRECTIONS = ("in", "out")
_KINDS = {2: "CALL", 3: "RESULT", 4: "ERROR"}
_PREVIEW_CHARS = 240
_MASK = "***"


def iso_timestamp(wall: float) -> str:
    """UTC ISO 8601 with milliseconds: 2025-01-31T12:00:00.123Z."""
    seconds = int(wall)
    millis = round((wall - seconds) * 1000)
    if millis == 1000:
        seconds, millis = seconds + 1, 0
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{millis:03d}Z"


def clock_time(wall: float) -> str:
    """Local time of day with milliseconds, for the log's time column."""
    seconds = int(wall)
    millis = min(int((wall - seconds) * 1000), 999)
    return time.strftime("%H:%M:%S", time.localtime(seconds)) + f".{millis:03d}"


def parse_envelope(text: str) -> tuple[object | None, str, str | None]:
    """(parsed frame or None, kind, message id) of an OCPP-J text frame; never raises.

    kind is CALL, RESULT, ERROR, or INVALID for anything that is not an OCPP-J message.
    """
    try:
        frame = json.loads(text)
    except (ValueError, RecursionError):
        return None, "INVALID", None
    if not isinstance(frame, list) or not frame:
        return frame, "INVALID", None
    kind = _KINDS.get(frame[0]) if type(frame[0]) is int else None
    message_id = frame[1] if len(frame) > 1 and isinstance(frame[1], str) else None
    return frame, kind or "INVALID", message_id


def _compact(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


@dataclass(frozen=True, slots=True)
class LogEntry:
    """One frame as the log shows and exports it."""

    seq: int
    wall: float
    direction: str
    action: str | None
    text: str
    frame: object | None
    kind: str
    message_id: str | None

    @property
    def timestamp(self) -> str:
        return iso_timestamp(self.wall)

    def preview(self, limit: int = _PREVIEW_CHARS) -> str:
        """One line: the payload (CALL, RESULT) or "code: description" (ERROR)."""
        frame = self.frame
        if self.kind == "CALL" and isinstance(frame, list) and len(frame) > 3:
            text = _compact(frame[3])
        elif self.kind == "RESULT" and isinstance(frame, list) and len(frame) > 2:
            text = _compact(frame[2])
        elif self.kind == "ERROR" and isinstance(frame, list):
            parts = [str(part) for part in frame[2:4] if part not in (None, "")]
            text = ": ".join(parts)
            if len(frame) > 4 and frame[4] not in ({}, None):
                text += " " + _compact(frame[4])
        else:
            text = self.text
        text = " ".join(text.split())  # one line, whatever the frame's layout
        return text if len(text) <= limit else text[: limit - 1] + "…"

    def pretty(self) -> str:
        """The whole frame, indented JSON when it parsed (else the text as received)."""
        if self.frame is None:
            return self.text
        return json.dumps(self.frame, ensure_ascii=False, indent=2)

    def to_record(self) -> dict[str, object]:
        """One JSONL line / one ``ocppSim.messages()`` item."""
        record: dict[str, object] = {
            "seq": self.seq,
            "timestamp": self.timestamp,
            "direction": self.direction,
            "action": self.action,
            "kind": self.kind,
            "messageId": self.message_id,
            "frame": self.frame,
        }
        if self.frame is None:
            record["raw"] = self.text
        return record


@dataclass(frozen=True, slots=True)
class LogFilter:
    """Which rows are shown: an action (case-insensitive substring; "" = all) and a direction."""

    action: str = ""
    direction: str = "all"  # "all" | "in" | "out"

    def matches(self, entry: LogEntry) -> bool:
        if self.direction != "all" and entry.direction != self.direction:
            return False
        wanted = self.action.strip().lower()
        if not wanted:
            return True
        return entry.action is not None and wanted in entry.action.lower()

    @property
    def active(self) -> bool:
        return bool(self.action.strip()) or self.direction != "all"


class Redactor:
    """Masks the authorization key wherever it might appear in a frame (belt and braces: the
    engine already masks write-only configuration values). Keys shorter than 4 characters are
    not masked: that would garble ordinary text and hides nothing."""

    def __init__(self, secret: str | None = None) -> None:
        self.secret = secret

    def __call__(self, text: str) -> str:
        secret = self.secret
        if secret and len(secret) >= 4 and secret in text:
            return text.replace(secret, _MASK)
        return text


class MessageLog:
    """All frames of this page's life up to ``capacity`` (the oldest are dropped first)."""

    def __init__(self, capacity: int = 20_000) -> None:
        self._entries: deque[LogEntry] = deque(maxlen=capacity)
        self._seq = 0
        self._actions: set[str] = set()
        self.dropped = 0
        self.capacity = capacity

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def total(self) -> int:
        """Frames logged since the last clear, including those dropped for capacity."""
        return len(self._entries) + self.dropped

    def add(self, direction: str, text: str, action: str | None, wall: float) -> LogEntry:
        if direction not in DIRECTIONS:
            raise ValueError(f"direction must be 'in' or 'out', not {direction!r}")
        frame, kind, message_id = parse_envelope(text)
        if action is None and kind == "CALL" and isinstance(frame, list) and len(frame) > 2:
            action = frame[2] if isinstance(frame[2], str) else None
        self._seq += 1
        entry = LogEntry(self._seq, wall, direction, action, text, frame, kind, message_id)
        if len(self._entries) == self._entries.maxlen:
            self.dropped += 1
        self._entries.append(entry)
        if action is not None:
            self._actions.add(action)
        return entry

    def clear(self) -> None:
        self._entries.clear()
        self._actions.clear()
        self.dropped = 0

    def entries(self, log_filter: LogFilter | None = None) -> list[LogEntry]:
        if log_filter is None or not log_filter.active:
            return list(self._entries)
        return [entry for entry in self._entries if log_filter.matches(entry)]

    def actions(self) -> list[str]:
        return sorted(self._actions)

    def export_jsonl(self, entries: Iterable[LogEntry] | None = None) -> str:
        """One JSON object per line (see ``LogEntry.to_record``), newline-terminated; lone
        surrogates as JSON escapes, so the file is valid UTF-8 and parses back the same."""
        chosen = self._entries if entries is None else entries
        return "".join(
            printable(json.dumps(entry.to_record(), ensure_ascii=False, separators=(",", ":")))
            + "\n"
            for entry in chosen
        )

    def records(self) -> list[dict[str, object]]:
        return [entry.to_record() for entry in self._entries]
