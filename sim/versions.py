"""The OCPP versions a station can speak: what it offers in the WebSocket handshake, what the
CSMS's choice means, and where each version keeps its state in the station's Store.

``--ocpp auto`` offers ``ocpp2.0.1, ocpp1.6`` (the newest first: OCPP-J lists the client's
subprotocols in order of preference) and the station runs the engine of the one the CSMS
selected. Each version keeps its own documents, so switching never reads, nor corrupts, the
other's: 1.6 keeps the names it always had (existing stores still load), 2.0.1 writes under
``v201/`` (``NamespacedStore``). The meter registers (``sim-meters``) are the hardware's and
shared: a register never falls, whatever protocol reports it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ocpp_core.store import validate_name

if TYPE_CHECKING:
    from ocpp_core.store import Store

__all__ = [
    "AUTH_KEY",
    "AUTO",
    "CHOICES",
    "NAMESPACES",
    "PING_INTERVAL",
    "SUBPROTOCOLS",
    "VERSIONS",
    "NamespacedStore",
    "id_tag_length",
    "offered_subprotocols",
    "version_of",
    "version_store",
]

AUTO = "auto"
VERSIONS = ("1.6", "2.0.1")
"""The versions the station implements."""
CHOICES = (AUTO, *VERSIONS)
"""What a user may choose: a version, or ``auto`` (the CSMS picks among VERSIONS)."""
SUBPROTOCOLS = {"1.6": "ocpp1.6", "2.0.1": "ocpp2.0.1"}
_AUTO_ORDER = ("2.0.1", "1.6")  # the preference auto offers, newest first
AUTH_KEY = {"1.6": "AuthorizationKey", "2.0.1": "SecurityCtrlr.BasicAuthPassword"}
"""The write-only configuration key (variable) holding the HTTP Basic password of each version."""
PING_INTERVAL = {"1.6": "WebSocketPingInterval", "2.0.1": "OCPPCommCtrlr.WebSocketPingInterval"}
"""The configuration key (variable) of the WebSocket ping interval, in seconds, per version."""
_ID_TAG_LENGTHS = {"1.6": 20, "2.0.1": 36}  # 1.6 CiString20Type; 2.0.1 IdTokenType.idToken
NAMESPACES = {"1.6": "", "2.0.1": "v201/"}
"""The prefix of each version's documents in the station's Store ("": the Store's own names)."""


def offered_subprotocols(choice: str) -> tuple[str, ...]:
    """The subprotocols the handshake offers for a user's choice, in order of preference."""
    versions = _AUTO_ORDER if choice == AUTO else (choice,)
    return tuple(SUBPROTOCOLS[version] for version in versions)


def version_of(subprotocol: str) -> str | None:
    """The OCPP version of a subprotocol the CSMS selected (None: not one we speak)."""
    return next((v for v, name in SUBPROTOCOLS.items() if name == subprotocol), None)


def id_tag_length(choice: str) -> int:
    """The longest idTag a card may carry whatever version ``choice`` ends up running."""
    versions = _AUTO_ORDER if choice == AUTO else (choice,)
    return min(_ID_TAG_LENGTHS[version] for version in versions)


def version_store(store: Store, version: str) -> Store:
    """The view of ``store`` that holds ``version``'s documents."""
    prefix = NAMESPACES[version]
    return NamespacedStore(store, prefix) if prefix else store


class NamespacedStore:
    """A Store whose documents are those of ``inner`` under ``prefix`` (e.g. ``v201/config``).

    Writes go straight through, so the inner Store's guarantees (atomic, durable, failures as
    OSError for a RetryingStore in front) hold unchanged; names are given back without the
    prefix, and nothing outside it is ever seen or touched.
    """

    __slots__ = ("inner", "prefix")

    def __init__(self, inner: Store, prefix: str) -> None:
        if not prefix.endswith("/"):
            raise ValueError(f"a namespace ends with '/': {prefix!r}")
        validate_name(prefix[:-1])
        self.inner = inner
        self.prefix = prefix

    def load(self, name: str) -> Any | None:
        return self.inner.load(self.prefix + validate_name(name))

    def save(self, name: str, value: Any) -> None:
        self.inner.save(self.prefix + validate_name(name), value)

    def delete(self, name: str) -> None:
        self.inner.delete(self.prefix + validate_name(name))

    def names(self, prefix: str = "") -> list[str]:
        cut = len(self.prefix)
        return [name[cut:] for name in self.inner.names(self.prefix + prefix)]

    def __repr__(self) -> str:
        return f"NamespacedStore({self.inner!r}, {self.prefix!r})"
