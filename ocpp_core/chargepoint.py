"""The public face of the engine: one ChargePoint per station, sans-IO.

    cp = ChargePoint(identity=StationIdentity(vendor="Acme", model="AC-22"), connectors=2)
    cp.connected(now)               # the transport opened
    cp.receive(text, now)           # a text frame arrived
    for frame in cp.poll(now):      # timers and inputs run; frames to send come out
        transport.send(frame)

``now`` is the caller's monotonic time in seconds. Hardware is attached per connector
(``cp.connector(1).plugged = lambda: ...``) and sampled during ``poll``; call ``poll`` after an
input changes, and at the latest at ``next_wakeup(now)``.

The API is the same whatever the protocol version: what is version-specific (sessions,
reservations, smart charging, data transfer, file transfers, stop reasons) comes from the
version's wiring as an ``ocpp_core.operations.Operations``; this module imports no version.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ocpp_core.assembly import for_version
from ocpp_core.certificate_renewal import STATION, RenewalBlock
from ocpp_core.clock import Clock
from ocpp_core.engine import Engine, check_now
from ocpp_core.rpc import DEFAULT_MAX_FRAME_BYTES, new_message_id

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from ocpp_core.certificate_renewal import RenewalRow, StationCertificate
    from ocpp_core.certificate_store import CertificateRow, CertificateStore
    from ocpp_core.connector import ConnectorIO
    from ocpp_core.events import Event, MessageDiscarded
    from ocpp_core.identity import StationIdentity
    from ocpp_core.operations import (
        DataTransferResult,
        DisplayScreen,
        MonitorEventRow,
        MonitorRow,
        Operations,
        Sessions,
        VariableRow,
    )
    from ocpp_core.rpc import JsonObject
    from ocpp_core.security_events import SecurityEventRecord, SecurityEventsBlock
    from ocpp_core.sessions import ReservationInfo, TransactionInfo
    from ocpp_core.store import Store
    from ocpp_core.transfer import DiagnosticsSimulation, FirmwareSimulation, TransferHost

__all__ = ["ChargePoint"]


class ChargePoint:
    """An OCPP charge point with ``connectors`` connectors (1..N; 0 is the station itself).

    ``store`` keeps configuration and availability across restarts (a new ChargePoint on the same
    Store is a reboot); by default a MemoryStore. ``clock`` maps ``now`` to wall time until the
    CSMS sets it. ``message_ids`` makes CALL ids (default: random UUIDs). ``max_frame_bytes``
    bounds received frames. ``reset_handler(kind)`` performs a reset (the application discards
    this ChargePoint and creates a new one; ``kind``: 1.6 "Soft"/"Hard", 2.0.1
    "Immediate"/"OnIdle"); returning False reports a failure. Without it, a station Reset is
    Rejected. ``config_defaults`` replaces declared defaults of configuration keys (text as in
    ChangeConfiguration; never persisted, stored values win).
    ``firmware_simulation`` / ``diagnostics_simulation`` shape simulated transfers (see
    ``set_transfer_host``); a reboot builds a new ChargePoint, so pass them again.
    ``resume_transactions_after_restart``: a transaction that was running when the previous
    ChargePoint on this Store went away continues (default: it is stopped with reason PowerLoss
    and the last known meter value).
    """

    __slots__ = ("_engine", "_ops", "version")

    def __init__(
        self,
        *,
        identity: StationIdentity,
        connectors: int = 2,
        store: Store | None = None,
        version: str = "1.6",
        clock: Clock | None = None,
        message_ids: Callable[[], str] | None = None,
        max_frame_bytes: int = DEFAULT_MAX_FRAME_BYTES,
        reset_handler: Callable[[str], bool | None] | None = None,
        config_defaults: Mapping[str, str] | None = None,
        firmware_simulation: FirmwareSimulation | None = None,
        diagnostics_simulation: DiagnosticsSimulation | None = None,
        resume_transactions_after_restart: bool = False,
    ) -> None:
        if type(connectors) is not int or not 1 <= connectors <= 99:
            raise ValueError("connectors must be an int from 1 to 99")
        assembly = for_version(version)
        if store is None:
            from ocpp_core.store import MemoryStore

            store = MemoryStore()
        self.version = version
        self._engine = Engine(
            assembly,
            identity=identity,
            connectors=connectors,
            store=store,
            clock=Clock() if clock is None else clock,
            new_id=new_message_id if message_ids is None else message_ids,
            max_frame_bytes=max_frame_bytes,
            reset_handler=reset_handler,
            config_defaults=config_defaults,
        )
        self._ops: Operations = self._engine.operations
        self._ops.sessions.resume_after_restart = bool(resume_transactions_after_restart)
        if firmware_simulation is not None:
            self.set_firmware_simulation(firmware_simulation)
        if diagnostics_simulation is not None:
            self.set_diagnostics_simulation(diagnostics_simulation)

    # ------------------------------------------------------------------ transport

    def connected(self, now: float) -> None:
        """The WebSocket is open."""
        self._engine.on_connected(now)

    def disconnected(self, now: float) -> None:
        """The WebSocket closed (the outstanding CALL is re-sent or failed, see outbox)."""
        self._engine.on_disconnected(now)

    def receive(self, text: str, now: float) -> None:
        """One received text frame."""
        self._engine.receive(text, now)

    def poll(self, now: float) -> list[str]:
        """Run timers and sample inputs; return the frames to send now, in order."""
        return self._engine.poll(now)

    def next_wakeup(self, now: float) -> float | None:
        """When ``poll`` next has timed work (None: only after input or a received frame)."""
        return self._engine.next_wakeup(now)

    @property
    def is_connected(self) -> bool:
        """Whether the transport is open (as reported by connected/disconnected)."""
        return self._engine.connected

    # ------------------------------------------------------------------ application

    def subscribe(self, callback: Callable[[Event], None]) -> Callable[[], None]:
        """Receive every event (see ocpp_core.events); returns the unsubscribe function."""
        return self._engine.subscribe(callback)

    def connector(self, connector: int) -> ConnectorIO:
        """The inputs and outputs of a connector (0 = the charge point as a whole)."""
        return self._engine.ctx.connectors[self._index(connector)]

    def status(self, connector: int, now: float) -> str:
        """The current status of a connector (1.6 ChargePointStatus, 2.0.1 ConnectorStatus)."""
        return self._ops.status(self._index(connector), check_now(now))

    def _index(self, connector: int) -> int:
        if type(connector) is not int or not 0 <= connector < len(self._engine.ctx.connectors):
            raise ValueError(f"no connector {connector!r}")
        return connector

    # ------------------------------------------------------------------ sessions

    def present_card(
        self, connector: int, id_tag: str, now: float, *, token_type: str | None = None
    ) -> None:
        """An RFID card at a connector, like a real charger's reader.

        No session: authorize ``id_tag`` and begin one (plug-first or authorize-first). A
        session (authorizing, preparing or running): end it if ``id_tag`` is its idTag or one
        of its group (same parentIdTag; an Authorize asks the CSMS when needed), reason Local.
        A cable kept locked after DeAuthorized opens for its idTag or group. Whatever else
        happens is reported by an AuthorizationResult event.

        ``token_type`` is the card's idToken type, one of ``id_token_types`` (None: the
        version's default); a ValueError for a version whose idTags have no type (1.6).
        """
        outlet, tag, kind = self._outlet(connector), self._id_tag(id_tag), self._kind(token_type)
        self._sessions().present_card(outlet, tag, check_now(now), kind)

    def begin_transaction(
        self, connector: int, id_tag: str, now: float, *, token_type: str | None = None
    ) -> bool:
        """Begin a session for ``id_tag`` with authorization (False: the connector is busy,
        inoperative, faulted or reserved for someone else)."""
        outlet, tag, kind = self._outlet(connector), self._id_tag(id_tag), self._kind(token_type)
        return self._sessions().begin(outlet, tag, check_now(now), kind)

    @property
    def id_token_types(self) -> tuple[str, ...]:
        """The idToken types a card may have, the default first (empty: 1.6, untyped idTags)."""
        return self._ops.id_token_types

    def _kind(self, token_type: str | None) -> str | None:
        if token_type is None or token_type in self._ops.id_token_types:
            return token_type
        allowed = ", ".join(self._ops.id_token_types) or "none in OCPP " + self.version
        raise ValueError(f"unknown idToken type {token_type!r} (allowed: {allowed})")

    def charging(self, connector: int, now: float) -> bool:
        """Whether the protocol lets energy flow on connector 1..N now (the meter may run)."""
        return self._sessions().charging(self._outlet(connector), check_now(now))

    def end_transaction(
        self, connector: int, now: float, *, id_tag: str | None = None, reason: str = "Local"
    ) -> bool:
        """End the connector's session (False: none, or ``id_tag`` may not end it).

        Without ``id_tag`` the station ends it; with one, only that idTag or one known locally
        to share its parentIdTag. ``reason`` is a stop reason of the version (OCPP 1.6 §7.40).
        """
        if reason not in self._ops.stop_reasons:
            raise ValueError(f"unknown stop reason {reason!r}")
        tag = None if id_tag is None else self._id_tag(id_tag)
        return self._sessions().end(self._outlet(connector), check_now(now), tag, reason)

    def transaction(self, connector: int) -> TransactionInfo | None:
        """The connector's session or transaction (running, else one still stopping)."""
        return self._sessions().current(self._outlet(connector))

    def energy_floor(self, connector: int) -> int:
        """The highest energy register (Wh) the Store's transactions of connector 1..N hold
        (meterStart, MeterValues, meterStop not yet delivered or still on record): a station
        whose meter register was saved earlier than its last report starts it no lower
        (OCPP 1.6 §7.31: register values never decrease). Read before the first poll."""
        return self._sessions().energy_floor(self._outlet(connector))

    def queue_length(self) -> int:
        """Transaction-related messages waiting in the journal."""
        return self._sessions().queue_length()

    def discarded_messages(self) -> list[MessageDiscarded]:
        """Transaction-related messages given up after their last attempt (kept in the Store)."""
        return self._sessions().discards()

    def reservations(self) -> list[ReservationInfo]:
        """The reservations the CSMS holds on this station, in the order they were made."""
        return self._ops.reservations.reservations()

    def reservation(self, connector: int) -> ReservationInfo | None:
        """The reservation that makes connector 1..N show Reserved (by id, else connector 0)."""
        return self._ops.reservations.reservation_on(self._outlet(connector))

    def display(self, connector: int, now: float) -> DisplayScreen:
        """What connector 1..N's display shows now (2.0.1: display messages in priority
        order, tariff and cost; 1.6: nothing)."""
        return self._ops.display.screen(self._outlet(connector), now)

    def monitors(self) -> list[MonitorRow]:
        """The variable monitors in force (2.0.1 N02-N08; 1.6: none)."""
        return self._ops.monitoring.monitor_rows()

    def monitor_events(self) -> list[MonitorEventRow]:
        """The latest events the monitors raised, oldest first (2.0.1 NotifyEvent)."""
        return self._ops.monitoring.event_rows()

    def certificates(self) -> list[CertificateRow]:
        """The installed certificates: type, subject, issuer, validity, hash data (M03-M05)."""
        return self._ops.certificates.rows()

    @property
    def certificate_store(self) -> CertificateStore:
        """The certificate store: its ``verifier`` seam (signature checks, set by the host),
        ``trust_anchors()`` and ``connected_with(der)`` for the TLS side."""
        return self._ops.certificates

    @property
    def certificate_renewal(self) -> RenewalBlock:
        """The station certificate's renewal (A02/A03): the host sets its ``key_pairs`` seam
        (key generation and CSR signatures) and ``common_name`` (the CSR's CN)."""
        return next(b for b in self._engine.blocks if isinstance(b, RenewalBlock))

    def station_certificate(self, kind: str = STATION) -> StationCertificate | None:
        """The station's installed certificate of ``kind`` (ChargingStationCertificate,
        V2GCertificate) as PEM chain and PEM private key, for the TLS client certificate of
        security profile 3 (None: none installed with a key the station holds)."""
        return self.certificate_renewal.station_certificate(kind)

    def certificate_renewals(self) -> list[RenewalRow]:
        """Each certificate kind's renewal: pending or not, requests sent, latest outcome."""
        return self.certificate_renewal.rows()

    def renew_certificate(self, *, now: float, kind: str = STATION) -> str:
        """Renew the station's certificate now (A03, initiated by the station): "Accepted"
        (a CSR is queued) or "Rejected" (no key seam, identity or organization name)."""
        renewal = self.certificate_renewal
        return renewal.start(kind, check_now(now), renewal.ctx.queue)

    def security_events(self) -> list[SecurityEventRecord]:
        """The security log, oldest first (1.6 whitepaper and 2.0.1 A04, N01.FR.05)."""
        return self._security().events()

    def security_event(self, name: str, tech_info: str = "", *, now: float) -> None:
        """Report a security event the host observed (2.0.1 name, e.g. TamperDetectionActivated,
        FailedToAuthenticateAtCsms, InvalidTLSVersion): logged, and sent if critical.
        ``tech_info`` must hold no secret. ValueError for an unknown name."""
        self._security().raise_event(name, check_now(now), tech_info)

    def clear_security_log(self, *, now: float) -> None:
        """Empty the security log (a SecurityLogWasCleared event follows)."""
        self._security().clear(check_now(now))

    def _security(self) -> SecurityEventsBlock:
        security = self._engine.security
        assert security is not None  # every version wires one
        return security

    def charging_profiles(self) -> list[tuple[int, JsonObject]]:
        """Installed charging profiles as ``(connectorId, csChargingProfiles)``, as received."""
        return self._ops.smart_charging.installed()

    def composite_schedule(
        self, connector: int, duration: int, now: float, unit: str | None = None
    ) -> Mapping[str, object]:
        """What GetCompositeSchedule would answer now: the limits of the next ``duration`` s
        for connector 0..N, in ``unit`` ("A" / "W"; None: the profiles' own)."""
        if type(duration) is not int or duration < 0:
            raise ValueError(f"duration must be a non-negative int, got {duration!r}")
        if unit not in (None, "A", "W"):
            raise ValueError(f"unit must be 'A', 'W' or None, got {unit!r}")
        return self._ops.smart_charging.composite_payload(
            self._index(connector), duration, unit, check_now(now)
        )

    def set_supply(self, voltage_v: float, phases: int, max_current_a: float) -> None:
        """The station's nominal voltage, phases and maximum current per connector: what
        smart charging converts W and A with and fills schedule gaps with."""
        self._ops.smart_charging.set_supply(voltage_v, phases, max_current_a)

    def external_limit(self, connector: int) -> tuple[float, str] | None:
        """The external limit on connector 1..N (0: the station), as (limit, "A" / "W")."""
        return self._ops.smart_charging.external_limit(self._index(connector))

    def set_external_limit(
        self, connector: int, limit: float, unit: str, now: float, *, grid_critical: bool = False
    ) -> bool:
        """A local energy manager limits connector 1..N (0: the whole station) to ``limit`` A or
        W until ``clear_external_limit`` (2.0.1: NotifyChargingLimit, source EMS); False: ignored
        (2.0.1 SmartChargingCtrlr.ExternalControlSignalsEnabled false). ValueError: bad input."""
        return self._ops.smart_charging.set_external_limit(
            self._index(connector), limit, unit, check_now(now), grid_critical=bool(grid_critical)
        )

    def clear_external_limit(self, connector: int, now: float) -> bool:
        """The local energy manager releases its limit (2.0.1: ClearedChargingLimit); whether
        there was one."""
        return self._ops.smart_charging.clear_external_limit(self._index(connector), check_now(now))

    def _sessions(self) -> Sessions:
        return self._ops.sessions

    def _outlet(self, connector: int) -> int:
        if type(connector) is not int or not 1 <= connector < len(self._engine.ctx.connectors):
            raise ValueError(f"no connector {connector!r} (1..N)")
        return connector

    def _id_tag(self, id_tag: str) -> str:
        """An idTag as the version allows it (OCPP 1.6: CiString20), not empty."""
        longest = self._ops.id_tag_length
        if not isinstance(id_tag, str) or not 1 <= len(id_tag) <= longest:
            raise ValueError(f"id_tag must be a string of 1 to {longest} characters")
        return id_tag

    @property
    def registration(self) -> str | None:
        """The last BootNotification answer: None, "Pending", "Rejected" or "Accepted"."""
        return self._ops.registration

    @property
    def clock(self) -> Clock:
        """Wall time as set by the CSMS."""
        return self._engine.ctx.clock

    def on_data_transfer(
        self,
        vendor_id: str,
        handler: Callable[[str | None, str | None], str | tuple[str, str | None]],
        message_id: str | None = None,
    ) -> None:
        """Answer incoming DataTransfer for a vendor (and message id) with
        ``handler(message_id, data) -> status | (status, data)``."""
        self._ops.data_transfer.register(vendor_id, handler, message_id)

    def send_data_transfer(
        self,
        vendor_id: str,
        message_id: str | None = None,
        data: str | None = None,
        *,
        callback: Callable[[DataTransferResult], None] | None = None,
        now: float,
    ) -> None:
        """Send a DataTransfer.req once registered; ``callback`` gets the DataTransferResult."""
        self._ops.data_transfer.send(vendor_id, message_id, data, callback, now)

    def get_configuration(self, key: str) -> str | None:
        """A key's value as text, write-only keys included (None if not declared).

        For the station itself, e.g. the transport reading AuthorizationKey; never sent out.
        """
        config = self._engine.ctx.config
        found = config.table.find(key)
        return None if found is None else config.text(found)

    def change_configuration(self, key: str, value: str) -> str:
        """Change a key locally with the same rules as ChangeConfiguration; returns its status."""
        return self._engine.ctx.config.change(key, value)

    def variables(self, now: float) -> list[VariableRow]:
        """Every variable (2.0.1: each attribute of the device model; 1.6: each configuration
        key) with its value now, write-only ones without; for a settings view."""
        return self._ops.device_model.rows(check_now(now))

    def set_variable(self, address: str, value: str, now: float) -> str:
        """Set the variable at a row's ``address`` locally, by the rules the CSMS's request
        follows (2.0.1 SetVariables, 1.6 ChangeConfiguration); returns that request's status."""
        return self._ops.device_model.set(address, value, check_now(now))

    # ------------------------------------------------------------------ firmware and diagnostics

    def set_transfer_host(self, host: TransferHost | None) -> None:
        """Let ``host`` perform http(s) firmware downloads and diagnostics uploads (None: every
        transfer is simulated). The host reports back with ``firmware_download_finished`` and
        ``diagnostics_upload_finished`` on the thread that drives this ChargePoint."""
        self._ops.firmware.host = host
        self._ops.diagnostics.host = host

    def firmware_download_progress(self, received: int, total: int | None, *, now: float) -> None:
        """The host's download progress in bytes (``total`` None: unknown); for the GUI."""
        self._ops.firmware.download_progress(received, total, check_now(now))

    def firmware_download_finished(
        self,
        ok: bool,
        detail: str = "",
        size: int | None = None,
        sha256: str | None = None,
        *,
        now: float,
    ) -> None:
        """The host's firmware download ended: ``ok``, why in words, the image's size and
        SHA-256 (hex). Ignored when no download awaits a result."""
        self._ops.firmware.download_finished(ok, detail, size, sha256, check_now(now))

    def diagnostics_upload_finished(self, ok: bool, detail: str = "", *, now: float) -> None:
        """The host's diagnostics upload ended. Ignored when no upload awaits a result."""
        self._ops.diagnostics.upload_finished(ok, detail, check_now(now))

    @property
    def firmware_simulation(self) -> FirmwareSimulation:
        """How simulated firmware updates behave."""
        return self._ops.firmware.simulation

    def set_firmware_simulation(self, simulation: FirmwareSimulation) -> None:
        """Change durations and failure injection, also during an update (ValueError if
        invalid); e.g. ``cp.set_firmware_simulation(cp.firmware_simulation._replace(...))``."""
        self._ops.set_firmware_simulation(simulation)

    @property
    def diagnostics_simulation(self) -> DiagnosticsSimulation:
        """How simulated diagnostics uploads behave."""
        return self._ops.diagnostics.simulation

    def set_diagnostics_simulation(self, simulation: DiagnosticsSimulation) -> None:
        """Change the simulated upload's duration and failure injection (ValueError if invalid)."""
        self._ops.set_diagnostics_simulation(simulation)

    def set_diagnostics_log(
        self, source: Callable[[float | None, float | None], str] | None
    ) -> None:
        """Where the diagnostics file's log comes from: ``source(start, stop)`` returns the log
        lines between two wall times (epoch seconds; None: unbounded). Write-only values are
        masked in it anyway."""
        self._ops.diagnostics.log_source = source

    @property
    def last_diagnostics(self) -> tuple[str, bytes] | None:
        """The latest diagnostics file built (name, content), e.g. to show a simulated upload."""
        return self._ops.diagnostics.last_file

    @property
    def firmware_status(self) -> str:
        """The FirmwareStatus a TriggerMessage would report now."""
        return self._ops.firmware.status

    @property
    def diagnostics_status(self) -> str:
        """The DiagnosticsStatus a TriggerMessage would report now."""
        return self._ops.diagnostics.status

    @property
    def firmware_version(self) -> str | None:
        """The firmwareVersion this ChargePoint boots with (an installed update's, if any)."""
        return self._engine.ctx.identity.firmware_version
