"""What one protocol version is made of, computed once per process and shared by all engines.

An Assembly lists the version's block classes (in the order its wiring function returns the
blocks), the configuration KeyTable, the routing table (action -> block position and handler),
the trigger table and the wiring function itself, which builds one engine's blocks. It also
imports the schema validator on first use, so ``import ocpp_core`` and creating engines do not
pay for it. ``for_version`` finds a version's package in VERSIONS: a package with an
``assembly()`` function is all a new version adds here.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

from ocpp_core.config import KeyTable

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping
    from types import ModuleType

    from ocpp_core.block import Block, Handler, Sender
    from ocpp_core.config import KeyDef
    from ocpp_core.context import BlockContext
    from ocpp_core.rpc import JsonObject
    from ocpp_core.wiring import Wiring

__all__ = ["VERSIONS", "Assembly", "for_version"]

# Protocol version -> the package whose ``assembly()`` builds its Assembly.
VERSIONS = {"1.6": "ocpp_core.v16", "2.0.1": "ocpp_core.v201"}


class Assembly:
    """Static tables of one protocol version."""

    __slots__ = (
        "_validation",
        "block_types",
        "keys",
        "mask",
        "routes",
        "supported_profiles",
        "timeout_key",
        "triggers",
        "version",
        "wire",
    )

    def __init__(
        self,
        version: str,
        block_types: tuple[type[Block], ...],
        extra_keys: Iterable[KeyDef],
        profiles: Mapping[str, frozenset[str]],
        *,
        wire: Callable[[BlockContext], Wiring],
        timeout_key: str,
        mask: Callable[[str, JsonObject, KeyTable], JsonObject | None],
    ) -> None:
        self.version = version
        self.block_types = block_types  # Wiring.blocks holds one instance of each, in this order
        self.wire = wire  # wire(ctx) -> Wiring: one engine's blocks (ocpp_core/<version>/wiring.py)
        self.timeout_key = timeout_key  # the key holding the default request timeout (seconds)
        # mask(action, payload, keys): a copy of a CALL payload with write-only values hidden,
        # or None when the payload carries none (for the frame log and error descriptions).
        self.mask = mask
        self.routes: dict[str, tuple[int, Handler]] = {}
        self.triggers: dict[str, tuple[int, Sender]] = {}
        keys: list[KeyDef] = []
        implemented: set[str] = set()
        for index, block_type in enumerate(block_types):
            for action, handler in block_type.handlers.items():
                if action in self.routes:
                    raise ValueError(f"two blocks handle {action}")
                self.routes[action] = (index, handler)
            for message, sender in block_type.triggers.items():
                if message in self.triggers:
                    raise ValueError(f"two blocks send {message} for TriggerMessage")
                self.triggers[message] = (index, sender)
            keys.extend(block_type.keys)
            implemented.update(block_type.sends)
        implemented.update(self.routes)
        keys.extend(extra_keys)
        self.keys = KeyTable(keys)
        # A feature profile is announced only when every one of its messages is implemented.
        self.supported_profiles = ",".join(
            name for name, messages in profiles.items() if messages <= implemented
        )
        self._validation: ModuleType | None = None

    @property
    def validation(self) -> ModuleType:
        """The ``ocpp_core.validation`` module, imported when the first frame needs it."""
        if self._validation is None:
            from ocpp_core import validation

            self._validation = validation
        return self._validation


_ASSEMBLIES: dict[str, Assembly] = {}


def for_version(version: str) -> Assembly:
    """The Assembly of ``version`` ("1.6"); ValueError for a version not implemented yet."""
    assembly = _ASSEMBLIES.get(version)
    if assembly is None:
        package = VERSIONS.get(version)
        if package is None:
            supported = ", ".join(repr(name) for name in VERSIONS)
            raise ValueError(
                f"OCPP version {version!r} is not implemented (supported: {supported})"
            )
        assembly = _ASSEMBLIES[version] = import_module(package).assembly()
    return assembly
