"""The station's engines: which OCPP version to run, each version's Store, building a ChargePoint
wired to the simulated hardware.

A Station replaces its engine at a Reset (same version) and, with ``ocpp_version="auto"``, when
the CSMS selects the other version at a handshake (sim/versions.py). ``Engines`` holds what stays
across those: a RetryingStore per version for the station's life (writes a failing disk made
it keep survive the new engine), the configuration defaults per version, and the version the
CSMS selected last (document ``sim-protocol``), which an auto station starts with next time.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any

from ocpp_core import ChargePoint
from ocpp_core.store import RetryingStore
from sim.cert_verifier import CertificateVerifier
from sim.connectors import wire
from sim.link import ping_interval
from sim.meter import NOMINAL_VOLTAGE_V
from sim.station_keys import StationKeyPairs
from sim.versions import AUTH_KEY, AUTO, PING_INTERVAL, VERSIONS, version_store

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from ocpp_core.clock import Clock
    from ocpp_core.store import Store
    from sim.connectors import Hardware, MeterRegisters
    from sim.settings import StationSettings

__all__ = ["PROTOCOL_DOCUMENT", "Engines"]

PROTOCOL_DOCUMENT = "sim-protocol"
KEY_PAIRS = StationKeyPairs()  # certificate renewal's key pairs, shared by every engine
"""The version the CSMS selected last (auto): the engine a station starts with next time."""


# The read-only AdditionalRootCertificateCheck of each version, set by the station's settings.
ROOT_CHECK_KEYS = {
    "1.6": "AdditionalRootCertificateCheck",
    "2.0.1": "SecurityCtrlr.AdditionalRootCertificateCheck",
}


class Engines:
    """Builds a station's engines, each on its version's own Store namespace.

    ``config_defaults`` holds keys of the settings' version, or is given per version
    (``{"1.6": {...}, "2.0.1": {...}}``, which auto needs: ValueError otherwise).
    """

    def __init__(
        self,
        settings: StationSettings,
        store: Store,
        config_defaults: Mapping[str, str] | Mapping[str, Mapping[str, str]] | None,
    ) -> None:
        self.settings = settings
        self.root = RetryingStore(store)
        """1.6's store (the Store's own names) and the station's own documents (meters)."""
        self._stores = {
            version: self.root if view is store else RetryingStore(view)
            for version in VERSIONS
            for view in (version_store(store, version),)
        }
        self._defaults = _per_version(config_defaults, settings.ocpp_version)
        if settings.additional_root_certificate_check:
            for version, key in ROOT_CHECK_KEYS.items():
                self._defaults.setdefault(version, {}).setdefault(key, "true")

    def first_version(self) -> str:
        """The version to start with: the settings', or with auto the one the CSMS selected
        last (before any: the one offered first)."""
        if self.settings.ocpp_version != AUTO:
            return self.settings.ocpp_version
        stored = self.root.load(PROTOCOL_DOCUMENT)
        last = stored.get("version") if isinstance(stored, dict) else None
        return last if last in VERSIONS else VERSIONS[-1]

    def selected(self, version: str) -> None:
        """The CSMS selected ``version``: an auto station starts with it next time."""
        stored = self.root.load(PROTOCOL_DOCUMENT)
        if not isinstance(stored, dict) or stored.get("version") != version:
            self.root.save(PROTOCOL_DOCUMENT, {"version": version})

    def build(
        self,
        version: str,
        clock: Clock,
        *,
        previous: ChargePoint | None,
        reset_handler: Callable[[str], bool],
        diagnostics_log: Callable[[], str],
        hardware: list[Hardware],
        registers: MeterRegisters,
    ) -> ChargePoint:
        """A new ChargePoint of ``version`` on its Store, wired to the hardware."""
        settings = self.settings
        options: dict[str, Any] = {}
        if previous is not None and previous.version == version:
            # What the user set on the engine survives the reboot (a new ChargePoint).
            options["firmware_simulation"] = previous.firmware_simulation
            options["diagnostics_simulation"] = previous.diagnostics_simulation
        engine = ChargePoint(
            identity=settings.identity(),
            connectors=settings.connectors,
            store=self._stores[version],
            version=version,
            clock=clock,
            reset_handler=reset_handler,
            config_defaults=self._defaults.get(version),
            resume_transactions_after_restart=settings.resume_transactions_after_restart,
            **options,
        )
        # Smart charging converts W and A and fills schedule gaps with the station's supply.
        engine.set_supply(NOMINAL_VOLTAGE_V, settings.phases, settings.max_current_a)
        engine.set_diagnostics_log(diagnostics_log)
        engine.certificate_store.verifier = CertificateVerifier()
        renewal = engine.certificate_renewal  # A02/A03: CSRs with ECDSA P-256 keys
        renewal.key_pairs, renewal.common_name = KEY_PAIRS, settings.charge_box_id
        soc = settings.ev_capacity_kwh is not None
        for hw in hardware:
            wire(engine, hw, soc=soc, register=partial(registers.report, hw))
        return engine

    def auth_key(self, engine: ChargePoint) -> str | None:
        """The Basic auth password: the settings' wins; without one, the key the CSMS set
        earlier through the version's write-only key (stored)."""
        stored = engine.get_configuration(AUTH_KEY[engine.version])
        return self.settings.auth_key or stored or None

    @staticmethod
    def is_auth_key(engine: ChargePoint, key: str) -> bool:
        """Whether configuration key ``key`` is the engine's Basic auth password."""
        return key == AUTH_KEY[engine.version]

    @staticmethod
    def ping_interval_s(engine: ChargePoint) -> float | None:
        """The WebSocket ping interval the engine's configuration asks for (None: none)."""
        return ping_interval(engine.get_configuration(PING_INTERVAL[engine.version]))

    def save_kept_writes(self) -> int:
        """Store now the writes a failing Store made the engines keep; how many are left."""
        return sum(store.flush() for store in {id(s): s for s in self._stores.values()}.values())


def _per_version(
    defaults: Mapping[str, str] | Mapping[str, Mapping[str, str]] | None, choice: str
) -> dict[str, dict[str, str]]:
    """Configuration defaults per version: given per version, or as keys of ``choice``."""
    if not defaults:
        return {}
    if all(isinstance(value, str) for value in defaults.values()):
        if choice == AUTO:
            raise ValueError("with OCPP auto, give the configuration defaults per version")
        return {choice: {str(key): str(value) for key, value in defaults.items()}}
    return {
        str(version): {str(key): str(value) for key, value in keys.items()}  # type: ignore[union-attr]
        for version, keys in defaults.items()
    }
