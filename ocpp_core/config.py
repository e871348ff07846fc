"""Configuration keys: static definitions shared by every engine, per-engine values.

Each functional-block module declares the keys it owns (``KeyDeclarer``); a protocol version's
``KeyTable`` collects them once per process. An engine's ``Configuration`` stores only the values
that differ from the defaults, so 10,000 idle engines hold 10,000 empty dicts, not 10,000 copies
of the table.

Values persist in one Store document (``config``: key -> typed value). A stored value that no
longer parses or validates is logged (by key name only) and the default is used. A station may
replace declared defaults with its own factory defaults (MicroOcpp's pre-declared keys): they are
validated like a ChangeConfiguration, apply while nothing is stored, and are never persisted, so
a new firmware's factory defaults take effect for every key the CSMS has not changed.

Every integer key is bounded: ``maximum`` defaults to MAX_INTEGER (2**31 - 1, OCPP 1.6's integer
is the 32-bit xs:int) and ``minimum`` to its negative counterpart (KeyDeclarer.integer: 0), so a
value that reaches a timer always fits a float and every CSMS's int32 column. ``Configuration.set``
(internal code, e.g. the BootNotification interval) applies the same checks as a change and
raises ValueError rather than store an invalid value; callers with a CSMS-supplied number clamp
it first (``Configuration.clamp``).

Parsing the text of a ChangeConfiguration (OCPP 1.6 §5.3: out-of-range or badly formatted values
are Rejected): integers are an optional ``-`` and decimal digits; booleans are ``true``/``false``
in any letter case; strings are bounded by the key's length; CSL members are trimmed, must be
non-empty, distinct, allowed, and no more than the key's ``...MaxLength`` companion allows.
Key names are CiString (case-insensitive) in OCPP 1.6: an exact match wins, else the match
ignoring case.

A key may also have an ``accept`` check against the engine's live state (e.g. "this measurand has
a meter input"). It applies to changes only: stored values and factory defaults are read while
the engine is built, before the station has attached its hardware.

Write-only keys (``W``, e.g. AuthorizationKey) are never listed by GetConfiguration, never logged
with their value and never appear in a ConfigurationChanged event with their value.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from ocpp_core.events import ConfigurationChanged
from ocpp_core.log import logger
from ocpp_core.store import write

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping
    from typing import Literal, Protocol, TypedDict, Unpack

    from ocpp_core.events import Event
    from ocpp_core.store import Store

    class ConfigContext(Protocol):
        """What a Configuration reports changes to (and hands to ``compute``/``accept``)."""

        @property
        def watched(self) -> bool: ...

        def emit(self, event: Event) -> None: ...

    # What ChangeConfiguration answers (OCPP 1.6 §7.10 ConfigurationStatus).
    ChangeStatus = Literal["Accepted", "Rejected", "RebootRequired", "NotSupported"]

    class KeyOptions(TypedDict, total=False):
        """The optional keyword arguments of KeyDef, as KeyDeclarer passes them on."""

        access: str
        reboot: bool
        persist: bool
        minimum: int | None
        maximum: int | None
        max_length: int
        members: frozenset[str] | Callable[[str], bool] | None
        max_items: int | str | None
        check: Callable[[Any], bool] | None
        compute: Callable[[Any], object] | None
        accept: Callable[[Any, Any], bool] | None


__all__ = [
    "BOOL",
    "CSL",
    "INT",
    "MAX_INTEGER",
    "RW",
    "STR",
    "Configuration",
    "KeyDeclarer",
    "KeyDef",
    "KeyTable",
    "R",
    "W",
]

INT, BOOL, STR, CSL = "int", "bool", "str", "csl"
R, RW, W = "R", "RW", "W"

ACCEPTED: Final = "Accepted"
REJECTED: Final = "Rejected"
REBOOT_REQUIRED: Final = "RebootRequired"
NOT_SUPPORTED: Final = "NotSupported"

DOCUMENT = "config"
MAX_VALUE_LENGTH = 500  # ChangeConfiguration.value and GetConfiguration's value are CiString500
_MAX_DIGITS = 12
MAX_INTEGER = 2**31 - 1  # OCPP 1.6 "integer" is xs:int (32-bit signed)
MIN_INTEGER = -(2**31)
_MISSING = object()


class KeyDef:
    """One configuration key: its type, default, accessibility and value rules.

    ``compute`` makes a read-only key derived from the engine (NumberOfConnectors). ``members``
    restricts CSL items (a set, or a predicate for open-ended families such as measurand.phase);
    ``max_items`` is an int or the name of the ``...MaxLength`` key that bounds the list.
    ``accept(value, engine)`` judges a change against the engine's live state (see the module).
    ``compute`` and ``accept`` get the context the Configuration was built with.
    An int key without ``minimum``/``maximum`` is still bounded by the 32-bit integer range.
    """

    __slots__ = (
        "accept",
        "access",
        "check",
        "compute",
        "default",
        "max_items",
        "max_length",
        "maximum",
        "members",
        "minimum",
        "name",
        "owner",
        "persist",
        "reboot",
        "type",
    )

    def __init__(
        self,
        name: str,
        type: str,
        default: object,
        *,
        owner: str,
        access: str = RW,
        reboot: bool = False,
        persist: bool = True,
        minimum: int | None = None,
        maximum: int | None = None,
        max_length: int = MAX_VALUE_LENGTH,
        members: frozenset[str] | Callable[[str], bool] | None = None,
        max_items: int | str | None = None,
        check: Callable[[Any], bool] | None = None,
        compute: Callable[[Any], object] | None = None,
        accept: Callable[[Any, Any], bool] | None = None,
    ) -> None:
        self.name = name
        self.type = type
        self.default = default
        self.owner = owner
        self.access = access
        self.reboot = reboot
        self.persist = persist and compute is None
        if type == INT:
            minimum = MIN_INTEGER if minimum is None else minimum
            maximum = MAX_INTEGER if maximum is None else maximum
        self.minimum = minimum
        self.maximum = maximum
        self.max_length = max_length
        self.members = members
        self.max_items = max_items
        self.check = check
        self.compute = compute
        self.accept = accept

    @property
    def secret(self) -> bool:
        """Write-only keys hold credentials: their values are never shown or logged."""
        return self.access == W

    def parse(self, text: str, config: Configuration) -> object:
        """The typed value of ``text``; ValueError (with a reason, never the value) if invalid."""
        kind = self.type
        if kind == INT:
            stripped = text.strip()
            digits = stripped[1:] if stripped.startswith("-") else stripped
            if not (digits.isascii() and digits.isdigit() and len(digits) <= _MAX_DIGITS):
                raise ValueError("not an integer")
            value: object = int(stripped)
        elif kind == BOOL:
            lowered = text.strip().lower()
            if lowered not in ("true", "false"):
                raise ValueError("not a boolean")
            value = lowered == "true"
        elif kind == CSL:
            value = ",".join(item.strip() for item in text.split(",")) if text.strip() else ""
        else:
            value = text
        problem = self.problem(value, config)
        if problem is not None:
            raise ValueError(problem)
        return value

    def problem(self, value: object, config: Configuration) -> str | None:
        """Why ``value`` (typed) is not acceptable for this key, or None."""
        kind = self.type
        if kind == INT:
            if type(value) is not int:
                return "not an integer"
            if self.minimum is not None and value < self.minimum:
                return f"less than {self.minimum}"
            if self.maximum is not None and value > self.maximum:
                return f"greater than {self.maximum}"
        elif kind == BOOL:
            if type(value) is not bool:
                return "not a boolean"
        else:
            if type(value) is not str:
                return "not a string"
            if len(value) > self.max_length:
                return f"longer than {self.max_length} characters"
            if kind == CSL:
                problem = self._list_problem(value, config)
                if problem is not None:
                    return problem
        if self.check is not None and not self.check(value):
            return "rejected by the key's validator"
        return None

    def _list_problem(self, value: str, config: Configuration) -> str | None:
        items = value.split(",") if value else []
        if any(not item for item in items):
            return "empty list item"
        if len(set(items)) != len(items):
            return "repeated list item"
        members = self.members
        if members is not None:
            allowed = members.__contains__ if isinstance(members, frozenset) else members
            if not all(allowed(item) for item in items):
                return "list item not allowed"
        limit = self.max_items
        if isinstance(limit, str):
            limit = config.integer(limit)
        if limit is not None and len(items) > limit:
            return f"more than {limit} items"
        return None

    def clamp(self, value: int) -> int:
        """An integer brought into this int key's range."""
        if self.minimum is not None and value < self.minimum:
            return self.minimum
        if self.maximum is not None and value > self.maximum:
            return self.maximum
        return value

    def text(self, value: object) -> str:
        """The value as OCPP 1.6 writes it in GetConfiguration (booleans ``true``/``false``)."""
        if self.type == BOOL:
            return "true" if value else "false"
        return str(value)


class KeyDeclarer:
    """What a functional-block module uses to declare its keys (the module is the owner)."""

    __slots__ = ("keys", "owner")

    def __init__(self, owner: str) -> None:
        self.owner = owner
        self.keys: list[KeyDef] = []

    def _add(self, key: KeyDef) -> KeyDef:
        self.keys.append(key)
        return key

    def integer(self, name: str, default: int, **options: Unpack[KeyOptions]) -> KeyDef:
        """An int key; ``minimum`` defaults to 0 (OCPP counts and durations are unsigned)."""
        options.setdefault("minimum", 0)
        return self._add(KeyDef(name, INT, default, owner=self.owner, **options))

    def boolean(self, name: str, default: bool, **options: Unpack[KeyOptions]) -> KeyDef:
        """A bool key."""
        return self._add(KeyDef(name, BOOL, default, owner=self.owner, **options))

    def string(self, name: str, default: str, **options: Unpack[KeyOptions]) -> KeyDef:
        """A string key."""
        return self._add(KeyDef(name, STR, default, owner=self.owner, **options))

    def csl(self, name: str, default: str, **options: Unpack[KeyOptions]) -> KeyDef:
        """A comma-separated list key (stored and shown as the canonical ``a,b`` text)."""
        return self._add(KeyDef(name, CSL, default, owner=self.owner, **options))


class KeyTable:
    """All keys of one protocol version, in declaration order; built once, shared by engines."""

    __slots__ = ("by_lower", "by_name", "readable", "secrets")

    def __init__(self, keys: Iterable[KeyDef]) -> None:
        self.by_name: dict[str, KeyDef] = {}
        for key in keys:
            if key.name in self.by_name:
                raise ValueError(f"configuration key {key.name} declared twice")
            self.by_name[key.name] = key
        self.by_lower = {name.lower(): key for name, key in self.by_name.items()}
        self.readable = tuple(key for key in self.by_name.values() if key.access != W)
        self.secrets = tuple(key for key in self.by_name.values() if key.access == W)

    def find(self, name: str) -> KeyDef | None:
        """The key called ``name`` (exact first, then ignoring case: keys are CiString)."""
        key = self.by_name.get(name)
        if key is None and isinstance(name, str):
            key = self.by_lower.get(name.lower())
        return key

    def is_secret(self, name: object) -> bool:
        """Whether ``name`` names a write-only key (for masking frames that carry its value)."""
        if not isinstance(name, str):
            return False
        key = self.find(name)
        return key is not None and key.secret


class Configuration:
    """One engine's configuration values over a shared KeyTable.

    ``generation`` counts the changes, so a block that caches values derived from its keys
    notices a change with one comparison on its hot path.
    """

    __slots__ = ("_context", "_defaults", "_store", "_values", "generation", "table")

    def __init__(
        self,
        table: KeyTable,
        store: Store,
        context: ConfigContext,
        defaults: Mapping[str, str] | None = None,
    ) -> None:
        self.table = table
        self._store = store
        self._context = context  # what computed keys are derived from (the engine)
        self._values: dict[str, object] = {}
        self._defaults: dict[str, object] | None = None
        self.generation = 0
        if defaults:
            self._defaults = self._factory_defaults(defaults)
        self._load()

    def _factory_defaults(self, defaults: Mapping[str, str]) -> dict[str, object]:
        """Typed factory defaults; ValueError names the key that is unknown or invalid."""
        typed = {}
        for name, text in defaults.items():
            key = self.table.find(name)
            if key is None or key.compute is not None:
                raise ValueError(f"no settable configuration key {name!r}")
            try:
                typed[key.name] = key.parse(text, self)
            except (ValueError, AttributeError) as exc:
                raise ValueError(f"invalid factory default for {key.name}: {exc}") from None
        return typed

    def default(self, key: KeyDef) -> object:
        """The value a key has while nothing is stored: factory default, else declared."""
        defaults = self._defaults
        if defaults is not None and key.name in defaults:
            return defaults[key.name]
        return key.default

    def _load(self) -> None:
        stored = self._store.load(DOCUMENT)
        if stored is None:
            return
        if not isinstance(stored, dict):
            logger().warning("stored configuration is not an object; using defaults")
            return
        for name, value in stored.items():
            key = self.table.by_name.get(name)
            if key is None or not key.persist:
                logger().info("stored configuration key %s is not declared; ignored", name)
                continue
            problem = key.problem(value, self)
            if problem is not None:
                logger().warning(
                    "stored value of %s is invalid (%s); using the default", name, problem
                )
                continue
            if value != self.default(key):
                self._values[name] = value

    def get(self, name: str) -> object:
        """The typed value of a declared key (KeyError for an undeclared name)."""
        value = self._values.get(name, _MISSING)
        if value is not _MISSING:
            return value
        key = self.table.by_name[name]
        if key.compute is not None:
            return key.compute(self._context)
        return key.default if self._defaults is None else self.default(key)

    def present(self, key: KeyDef) -> bool:
        """A computed key whose value is None is not there (e.g. MeterPublicKey[n] of a
        connector without a signing meter): not listed, unknown when asked for."""
        return key.compute is None or key.compute(self._context) is not None

    def integer(self, name: str) -> int:
        """The value of int key ``name`` (TypeError if it is not an int key)."""
        value = self.get(name)
        if type(value) is not int:
            raise TypeError(f"configuration key {name} is not an int key")
        return value

    def boolean(self, name: str) -> bool:
        """The value of bool key ``name`` (TypeError if it is not a bool key)."""
        value = self.get(name)
        if type(value) is not bool:
            raise TypeError(f"configuration key {name} is not a bool key")
        return value

    def string(self, name: str) -> str:
        """The value of string or CSL key ``name`` (TypeError if it holds no string)."""
        value = self.get(name)
        if type(value) is not str:
            raise TypeError(f"configuration key {name} is not a string key")
        return value

    def text(self, key: KeyDef) -> str:
        """A key's value as GetConfiguration shows it."""
        return key.text(self.get(key.name))

    def change(self, name: str, text: str) -> ChangeStatus:
        """Apply a ChangeConfiguration and return its status (OCPP 1.6 §5.3).

        TypeError when ``name`` or ``text`` is not a string (the station's own call: the
        schema guarantees strings in a ChangeConfiguration from the CSMS).
        """
        if not isinstance(name, str):
            raise TypeError(f"configuration key must be a string, not {type(name).__name__}")
        if not isinstance(text, str):
            raise TypeError(
                f"value of {name[:50]!r} must be a string (as in ChangeConfiguration), "
                f"not {type(text).__name__}"
            )
        key = self.table.find(name)
        if key is None or not self.present(key):
            return NOT_SUPPORTED
        if key.access == R:
            return REJECTED
        try:
            value = key.parse(text, self)
        except ValueError as exc:
            logger().info("ChangeConfiguration of %s rejected: %s", key.name, exc)
            return REJECTED
        if key.accept is not None and not key.accept(value, self._context):
            logger().info("ChangeConfiguration of %s rejected: not supported here", key.name)
            return REJECTED
        self.set(key.name, value, refusable=True)
        return REBOOT_REQUIRED if key.reboot else ACCEPTED

    def clamp(self, name: str, value: int) -> int:
        """``value`` brought into the range of int key ``name``, with a warning if it was not."""
        clamped = self.table.by_name[name].clamp(value)
        if clamped != value:
            logger().warning("value for %s out of range; using %d", name, clamped)
        return clamped

    def set(self, name: str, value: object, *, refusable: bool = False) -> None:
        """Store a typed value and persist it (restored if the Store fails; a Store that keeps
        failed writes for later keeps it, unless the change is ``refusable``: asked for and
        answered, as ChangeConfiguration is).

        The value is checked like a change (type, range, length, list members): ValueError,
        naming the key but not the value, and nothing is stored. Internal callers clamp a
        CSMS-supplied number first, so a CSMS can never store an unusable value.
        """
        key = self.table.by_name[name]
        problem = key.problem(value, self)
        if problem is not None:
            raise ValueError(f"invalid value for {name}: {problem}")
        previous = self._values.get(name, _MISSING)
        if value == self.default(key):
            self._values.pop(name, None)
        else:
            self._values[name] = value
        if key.persist:
            try:
                self._save(refusable)
            except Exception:
                if previous is _MISSING:
                    self._values.pop(name, None)
                else:
                    self._values[name] = previous
                raise
        self.generation += 1
        context = self._context
        if context.watched:
            shown = None if key.secret else key.text(value)
            context.emit(ConfigurationChanged(key.name, shown, key.reboot))

    def _save(self, refusable: bool) -> None:
        persisted = {
            name: value for name, value in self._values.items() if self.table.by_name[name].persist
        }
        write(self._store, DOCUMENT, persisted or None, refusable=refusable)
