"""What a Station shows of its engine beyond the connectors: the protocol it runs, the
firmware and diagnostics operations, smart charging and the device model (a mixin of Station,
which provides ``_engine``, ``_operations``, ``_hw(n)``, ``_now`` and ``_wake()``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sim.operations import failures_of, set_failures
from sim.security_failures import security_event_of

if TYPE_CHECKING:
    from ocpp_core import ChargePoint, VariableRow
    from ocpp_core.certificate_renewal import RenewalRow, StationCertificate
    from ocpp_core.certificate_store import CertificateRow
    from ocpp_core.events import DiagnosticsProgress, FirmwareProgress
    from ocpp_core.operations import DisplayScreen, MonitorEventRow, MonitorRow
    from ocpp_core.security_events import SecurityEventRecord
    from sim.connectors import Hardware
    from sim.events import FirmwareImage, TransferFailures
    from sim.operations import Operations

__all__ = ["AMBIENT_TEMPERATURE_C", "EngineViews"]

AMBIENT_TEMPERATURE_C = 25.0  # the simulated station's temperature until changed


class EngineViews:
    """The Station's views of its engine (see the module docstring)."""

    _engine: ChargePoint
    _operations: Operations
    _now: float | None
    _temperature_c: float = AMBIENT_TEMPERATURE_C  # the station's own, once set

    if TYPE_CHECKING:  # Station's

        def _hw(self, n: int) -> Hardware: ...

        def _wake(self) -> None: ...

    @property
    def ocpp_version(self) -> str:
        """The OCPP version the station runs now ("1.6" or "2.0.1"; with auto, the one the
        CSMS selected, or the one it will offer first until then)."""
        return self._engine.version

    @property
    def id_token_types(self) -> tuple[str, ...]:
        """The idToken types a card may have in the version running, the default first
        (empty in 1.6: its idTags have no type)."""
        return self._engine.id_token_types

    # ------------------------------------------------------------------ firmware, diagnostics

    @property
    def transfer_failures(self) -> TransferFailures:
        return failures_of(self._engine)

    def set_transfer_failures(self, failures: TransferFailures) -> None:
        """Make the next simulated firmware download or installation, or diagnostics upload,
        fail (kept across the station's reboots)."""
        set_failures(self._engine, failures)

    @property
    def firmware_progress(self) -> FirmwareProgress | None:
        """The latest step of the firmware update the CSMS asked for (None: none yet)."""
        return self._operations.firmware

    @property
    def firmware_image(self) -> FirmwareImage | None:
        """Size and SHA-256 of the image the current (or last) update really downloaded."""
        return self._operations.firmware_image

    @property
    def diagnostics_progress(self) -> DiagnosticsProgress | None:
        """The latest step of the diagnostics upload the CSMS asked for (None: none yet)."""
        return self._operations.diagnostics

    # ------------------------------------------------------------------ smart charging

    def charging_profiles(self, n: int) -> list[dict[str, Any]]:
        """The charging profiles that apply to connector ``n``: its own and the station-wide
        ones (connectorId 0), each as installed, with its ``connectorId``."""
        self._hw(n)
        return [
            {"connectorId": connector, **profile}
            for connector, profile in self._engine.charging_profiles()
            if connector in (0, n)
        ]

    def composite_schedule(self, n: int, duration_s: int = 3600) -> dict[str, Any]:
        """What GetCompositeSchedule would answer for connector ``n`` now, in amps."""
        self._hw(n)
        return self._engine.composite_schedule(n, duration_s, self._time(), "A")

    def external_limit(self, n: int) -> tuple[float, str] | None:
        """The local energy manager's limit on connector ``n`` (0: the station), if any."""
        return self._engine.external_limit(n)

    def set_external_limit(
        self, n: int, limit: float, unit: str = "A", *, grid_critical: bool = False
    ) -> bool:
        """Stand in for a local energy manager: limit connector ``n`` (0: the whole station) to
        ``limit`` A or W until cleared (2.0.1: NotifyChargingLimit). False: the station ignores
        external signals (2.0.1 SmartChargingCtrlr.ExternalControlSignalsEnabled false)."""
        applied = self._engine.set_external_limit(
            n, limit, unit, self._time(), grid_critical=grid_critical
        )
        self._wake()
        return applied

    def clear_external_limit(self, n: int) -> bool:
        """Release the local energy manager's limit (2.0.1: ClearedChargingLimit)."""
        cleared = self._engine.clear_external_limit(n, self._time())
        self._wake()
        return cleared

    # ------------------------------------------------------------------ display

    def display(self, n: int) -> DisplayScreen:
        """What connector ``n``'s display shows now (2.0.1: the CSMS's display messages in
        priority order, the driver's tariff, the running or final cost; 1.6: nothing)."""
        self._hw(n)
        return self._engine.display(n, self._time())

    # ------------------------------------------------------------------ monitoring

    @property
    def temperature_c(self) -> float:
        """The simulated station temperature (Celsius) its TemperatureSensor reads (2.0.1)."""
        return self._temperature_c

    def set_temperature(self, celsius: float) -> None:
        """Change the simulated temperature (ValueError outside -50..150 or not a number)."""
        if isinstance(celsius, bool) or not isinstance(celsius, (int, float)):
            raise ValueError("the temperature must be a number")
        if not -50.0 <= celsius <= 150.0:
            raise ValueError("the temperature must be within -50 and 150 Celsius")
        self._temperature_c = float(celsius)
        self._wake()

    def monitors(self) -> list[MonitorRow]:
        """The variable monitors in force (2.0.1; 1.6: none)."""
        return self._engine.monitors()

    def monitor_events(self) -> list[MonitorEventRow]:
        """The latest events the monitors raised, oldest first (2.0.1 NotifyEvent)."""
        return self._engine.monitor_events()

    # ------------------------------------------------------------------ certificates

    def certificates(self) -> list[CertificateRow]:
        """The installed certificates (kind, subject, issuer, validity, key, hash data)."""
        return self._engine.certificates()

    def station_certificate(self) -> StationCertificate | None:
        """The station's certificate (renewed by the CSMS, A02/A03) as PEM chain and PEM private
        key: the client certificate of a TLS connection in security profile 3."""
        return self._engine.station_certificate()

    def certificate_renewals(self) -> list[RenewalRow]:
        """Each certificate kind's renewal: pending or not, requests sent, latest outcome."""
        return self._engine.certificate_renewals()

    def renew_certificate(self) -> str:
        """Start a renewal of the station certificate now (A03): "Accepted" or "Rejected"."""
        status = self._engine.renew_certificate(now=self._time())
        self._wake()
        return status

    def security_events(self) -> list[SecurityEventRecord]:
        """The security log, oldest first (type, timestamp, techInfo, critical: sent)."""
        return self._engine.security_events()

    def raise_security_event(self, name: str, tech_info: str = "") -> None:
        """A security event the station's hardware observed (e.g. TamperDetectionActivated):
        logged, and sent to the CSMS if critical; ValueError for an unknown name."""
        self._engine.security_event(name, tech_info, now=self._time())
        self._wake()

    def _connection_failed(self, reason: str, now: float) -> None:
        """A connection ended or an attempt failed: log it if it is a security event."""
        event = security_event_of(reason)
        if event is not None:
            self._engine.security_event(*event, now=now)

    # ------------------------------------------------------------------ device model

    def variables(self) -> list[VariableRow]:
        """Every variable the station has now, in report order (2.0.1: each attribute of the
        device model's variables; 1.6: each configuration key); write-only values are None."""
        return self._engine.variables(self._time())

    def set_variable(self, address: str, value: str) -> str:
        """Set a variable (a row's ``address``) as the user of the station, by the rules a
        CSMS's SetVariables (1.6: ChangeConfiguration) follows; returns that status
        ("Accepted", "Rejected", "RebootRequired", ...)."""
        status = self._engine.set_variable(address, value, self._time())
        self._wake()
        return status

    def _time(self) -> float:
        return 0.0 if self._now is None else self._now
