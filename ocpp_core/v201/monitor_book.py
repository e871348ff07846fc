"""The variable monitors of OCPP 2.0.1 N02-N06: which are in force, their ids, and their document.

Three kinds (EventNotificationEnumType): hard-wired monitors (``HARD_WIRED``) are always in force
and can be neither replaced nor cleared; preconfigured ones (``PRECONFIGURED``) are in force under
MonitoringBase All or FactoryDefault, may be cleared, and a SetVariableMonitoring with their id
replaces them by a custom monitor (N04.FR.15) until a SetMonitoringBase; custom monitors are what
the CSMS set. SetMonitoringBase All keeps the custom monitors (N03.FR.03), FactoryDefault drops them
and restores the preconfigured set (N03.FR.04), HardWiredOnly drops both (N03.FR.05).

The book persists in the document ``monitors`` (base, level, next custom id, custom monitors,
cleared preconfigured ids, tripped threshold ids): custom monitors survive a reboot (N04, N07.FR.13)
as long as the variable they watch still exists.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

from ocpp_core.log import logger

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping

    from ocpp_core.store import Store
    from ocpp_core.v201.variables import VariableDef

__all__ = [
    "BASES",
    "DOCUMENT",
    "FIRST_CUSTOM_ID",
    "HARD_WIRED",
    "PRECONFIGURED",
    "THRESHOLDS",
    "TYPES",
    "Monitor",
    "MonitorBook",
    "is_hard_wired",
]

DOCUMENT = "monitors"
TYPES = ("UpperThreshold", "LowerThreshold", "Delta", "Periodic", "PeriodicClockAligned")
THRESHOLDS = frozenset({"UpperThreshold", "LowerThreshold"})
BASES = ("All", "FactoryDefault", "HardWiredOnly")
FIRST_CUSTOM_ID = 100
MAX_CUSTOM = 100
HARD = "HardWiredMonitor"
PRESET = "PreconfiguredMonitor"
CUSTOM = "CustomMonitor"


class Monitor(NamedTuple):
    """One variable monitor: id, the watched variable (its key name), type, value, severity."""

    id: int
    key: str
    type: str
    value: float
    severity: int
    transaction: bool = False
    kind: str = CUSTOM

    def record(self) -> list[object]:
        return [self.id, self.key, self.type, self.value, self.severity, self.transaction]


_TEMPERATURE = "TemperatureSensor.Temperature"
# The manufacturer's monitors (ids below FIRST_CUSTOM_ID): an over-temperature cut-out.
HARD_WIRED = (Monitor(1, _TEMPERATURE, "UpperThreshold", 85.0, 1, kind=HARD),)
# Warnings a CSMS may clear or replace: too warm, too cold.
PRECONFIGURED = (
    Monitor(2, _TEMPERATURE, "UpperThreshold", 60.0, 4, kind=PRESET),
    Monitor(3, _TEMPERATURE, "LowerThreshold", -20.0, 4, kind=PRESET),
)
_HARD_IDS = frozenset(monitor.id for monitor in HARD_WIRED)
_PRESET_IDS = frozenset(monitor.id for monitor in PRECONFIGURED)


class MonitorBook:
    """The monitors in force, base and level, kept in the document ``monitors``."""

    __slots__ = ("_custom", "_store", "base", "cleared", "level", "next_id", "tripped")

    def __init__(self, store: Store, known: Mapping[str, VariableDef]) -> None:
        self._store = store
        self.base = "All"
        self.level = 9
        self.next_id = FIRST_CUSTOM_ID
        self._custom: dict[int, Monitor] = {}
        self.cleared: set[int] = set()  # preconfigured monitors cleared since the last base
        self.tripped: set[int] = set()  # threshold monitors past their value
        stored = store.load(DOCUMENT)
        if stored is not None and not self._restore(stored, known):
            logger().warning("stored variable monitors are unreadable; none restored")

    def _restore(self, stored: object, known: Mapping[str, VariableDef]) -> bool:
        if not isinstance(stored, dict):
            return False
        base, level, next_id = stored.get("base"), stored.get("level"), stored.get("next")
        if base not in BASES or type(level) is not int or type(next_id) is not int:
            return False
        self.base, self.level, self.next_id = base, level, next_id
        for record in stored.get("custom", ()):
            monitor = _monitor(record)
            if monitor is None or monitor.key not in known:
                logger().warning(
                    "stored monitor %r dropped: unreadable or unknown variable", record
                )
                continue
            self._custom[monitor.id] = monitor
        self.cleared = {n for n in stored.get("cleared", ()) if type(n) is int}
        self.tripped = {n for n in stored.get("tripped", ()) if type(n) is int}
        return True

    def save(self) -> None:
        """Write the book (before the answer that depends on it leaves)."""
        self._store.save(
            DOCUMENT,
            {
                "base": self.base,
                "level": self.level,
                "next": self.next_id,
                "custom": [monitor.record() for monitor in self._custom.values()],
                "cleared": sorted(self.cleared),
                "tripped": sorted(self.tripped),
            },
        )

    # ------------------------------------------------------------------ reading

    def in_force(self) -> Iterator[Monitor]:
        """Every monitor in force: hard-wired, preconfigured (unless replaced), custom."""
        yield from HARD_WIRED
        if self.base != "HardWiredOnly":
            for monitor in PRECONFIGURED:
                if monitor.id not in self._custom and monitor.id not in self.cleared:
                    yield monitor
        yield from self._custom.values()

    def get(self, monitor_id: int) -> Monitor | None:
        return next((m for m in self.in_force() if m.id == monitor_id), None)

    def custom_count(self) -> int:
        return len(self._custom)

    # ------------------------------------------------------------------ changing

    def new_id(self) -> int:
        found = self.next_id
        self.next_id += 1
        return found

    def put(self, monitor: Monitor) -> None:
        """Add or replace a custom monitor (a preconfigured id becomes custom, N04.FR.15)."""
        self._custom[monitor.id] = monitor._replace(kind=CUSTOM)

    def clear(self, monitor_id: int) -> str:
        """ClearMonitoringStatusEnumType of clearing one id (N06.FR.01-03)."""
        if monitor_id in _HARD_IDS:
            return "Rejected"
        if self._custom.pop(monitor_id, None) is not None:
            self.tripped.discard(monitor_id)
            return "Accepted"
        preset = monitor_id in _PRESET_IDS and self.base != "HardWiredOnly"
        if preset and monitor_id not in self.cleared:
            self.cleared.add(monitor_id)
            self.tripped.discard(monitor_id)
            return "Accepted"
        return "NotFound"

    def set_base(self, base: str) -> None:
        """SetMonitoringBase: All keeps custom monitors; the others drop them."""
        if base != "All":
            self._custom.clear()
        self.cleared.clear()
        self.base = base
        live = {monitor.id for monitor in self.in_force()}
        self.tripped &= live


def _monitor(record: object) -> Monitor | None:
    if not isinstance(record, list) or len(record) != 6:
        return None
    monitor_id, key, kind, value, severity, transaction = record
    if type(monitor_id) is not int or not isinstance(key, str) or kind not in TYPES:
        return None
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return None
    if type(severity) is not int or type(transaction) is not bool:
        return None
    return Monitor(monitor_id, key, kind, float(value), severity, transaction)


def is_hard_wired(monitor_id: int) -> bool:
    return monitor_id in _HARD_IDS
