"""Connector status and StatusNotification (OCPP 1.6 §4.9, §7.6, §7.7; MicroOcpp §4.7 and the
status parts of tests/ChargingSessions.cpp and tests/ChargePointError.cpp)."""

from __future__ import annotations

from block_peers import rewire
from fake_csms import SILENT, WALL_START, Error, booted, station

from ocpp_core import ErrorRecord, StatusChanged
from ocpp_core.clock import format_datetime
from ocpp_core.sessions import ReservationView, SessionView


class Hardware:
    """Switchable inputs for one connector."""

    def __init__(self, cp, connector: int = 1) -> None:
        self.plugged = False
        self.ev_ready = True
        self.evse_ready = True
        self.occupied = False
        self.error: str | ErrorRecord | None = None
        io = cp.connector(connector)
        io.plugged = lambda: self.plugged
        io.ev_ready = lambda: self.ev_ready
        io.evse_ready = lambda: self.evse_ready
        io.occupied = lambda: self.occupied
        io.add_error_input(lambda: self.error)


class Sessions(SessionView):
    """A stand-in for the transaction block (issue 4) behind the SessionView seam."""

    def __init__(self) -> None:
        self.running: set[int] = set()
        self.denied: set[int] = set()
        self.prepared: set[int] = set()
        self.ended: set[int] = set()

    def transaction_running(self, connector: int) -> bool:
        return connector in self.running

    def permits_charge(self, connector: int) -> bool:
        return connector not in self.denied

    def preparing(self, connector: int) -> bool:
        return connector in self.prepared

    def finishing(self, connector: int) -> bool:
        return connector in self.ended


class Reservations(ReservationView):
    def __init__(self) -> None:
        self.reserved_connectors: set[int] = set()

    def reserved(self, connector: int) -> bool:
        return connector in self.reserved_connectors


def reported(csms, connector: int = 1) -> list[str]:
    return [
        p["status"] for p in csms.payloads("StatusNotification") if p["connectorId"] == connector
    ]


def with_sessions(cp) -> Sessions:
    sessions = Sessions()
    rewire(cp, sessions=sessions)
    return sessions


def test_idle_station_reports_available_for_every_connector() -> None:
    cp, csms = station()
    csms.connect()
    assert [
        (p["connectorId"], p["status"], p["errorCode"]) for p in csms.payloads("StatusNotification")
    ] == [
        (0, "Available", "NoError"),
        (1, "Available", "NoError"),
        (2, "Available", "NoError"),
    ]
    assert [cp.status(n, csms.now) for n in range(3)] == ["Available"] * 3


def test_plug_makes_preparing_and_unplug_available() -> None:
    cp, csms = booted()
    hw = Hardware(cp)
    hw.plugged = True
    csms.advance(1)
    hw.plugged = False
    csms.advance(1)
    assert reported(csms) == ["Preparing", "Available"]


def test_occupied_input_makes_preparing_without_a_plug() -> None:
    cp, csms = booted()
    hw = Hardware(cp)
    hw.occupied = True
    csms.advance(1)
    assert reported(csms) == ["Preparing"]


def test_full_status_sequence_of_a_charging_session() -> None:
    cp, csms = booted()
    hw = Hardware(cp)
    sessions = with_sessions(cp)
    steps = [
        lambda: setattr(hw, "plugged", True),  # Preparing
        lambda: setattr(hw, "plugged", False),  # Available
        lambda: setattr(hw, "plugged", True),  # Preparing
        lambda: sessions.running.add(1),  # Charging
        lambda: setattr(hw, "ev_ready", False),  # SuspendedEV
        lambda: setattr(hw, "evse_ready", False),  # SuspendedEVSE (precedence over SuspendedEV)
        lambda: (setattr(hw, "ev_ready", True), setattr(hw, "evse_ready", True)),  # Charging
        lambda: sessions.running.discard(1),  # Finishing (still plugged)
        lambda: setattr(hw, "plugged", False),  # Available
    ]
    for step in steps:
        step()
        csms.advance(1)
    assert reported(csms) == [
        "Preparing",
        "Available",
        "Preparing",
        "Charging",
        "SuspendedEV",
        "SuspendedEVSE",
        "Charging",
        "Finishing",
        "Available",
    ]


def test_running_transaction_with_unplugged_cable_is_suspended_ev() -> None:
    cp, csms = booted()
    hw = Hardware(cp)
    sessions = with_sessions(cp)
    hw.plugged = True
    sessions.running.add(1)
    csms.advance(1)
    hw.plugged = False
    csms.advance(1)
    assert reported(csms)[-2:] == ["Charging", "SuspendedEV"]


def test_charging_not_permitted_by_ocpp_is_suspended_evse() -> None:
    cp, csms = booted()
    hw = Hardware(cp)
    sessions = with_sessions(cp)
    hw.plugged = True
    sessions.running.add(1)
    sessions.denied.add(1)
    csms.advance(1)
    assert reported(csms) == ["SuspendedEVSE"]


def test_transaction_without_plug_input_charges() -> None:
    cp, csms = booted()
    sessions = with_sessions(cp)
    sessions.running.add(2)
    csms.advance(1)
    assert reported(csms, 2) == ["Charging"]


def test_session_prepared_without_plug_is_preparing_and_ended_session_finishing() -> None:
    cp, csms = booted()
    sessions = with_sessions(cp)
    sessions.prepared.add(1)
    csms.advance(1)
    sessions.ended.add(1)
    csms.advance(1)
    assert reported(csms) == ["Preparing", "Finishing"]


def test_reserved_connector() -> None:
    cp, csms = booted()
    reservations = Reservations()
    rewire(cp, reservations=reservations)
    reservations.reserved_connectors.add(2)
    csms.advance(1)
    assert reported(csms, 2) == ["Reserved"]


def test_error_code_input_faults_the_connector_and_recovers() -> None:
    cp, csms = booted()
    hw = Hardware(cp)
    hw.plugged = True
    csms.advance(1)
    hw.error = "GroundFailure"
    csms.advance(1)
    hw.error = None
    csms.advance(1)
    notes = [(p["status"], p["errorCode"]) for p in csms.payloads("StatusNotification")]
    assert notes == [
        ("Preparing", "NoError"),
        ("Faulted", "GroundFailure"),
        ("Preparing", "NoError"),
    ]


def test_warning_keeps_the_status_and_reports_the_error_once() -> None:
    cp, csms = booted()
    hw = Hardware(cp)
    hw.error = ErrorRecord("HighTemperature", info="62 C", vendor_id="com.acme", faulted=False)
    csms.advance(3)
    hw.error = None
    csms.advance(3)
    assert csms.payloads("StatusNotification") == [
        {
            "connectorId": 1,
            "errorCode": "HighTemperature",
            "status": "Available",
            "timestamp": format_datetime(WALL_START + 1),
            "info": "62 C",
            "vendorId": "com.acme",
        },
        {
            "connectorId": 1,
            "errorCode": "NoError",
            "status": "Available",
            "timestamp": format_datetime(WALL_START + 4),
        },
    ]


def test_error_details_are_cut_to_the_schema_lengths() -> None:
    cp, csms = booted()
    hw = Hardware(cp)
    hw.error = ErrorRecord(
        "OtherError", info="i" * 80, vendor_id="v" * 300, vendor_error_code="e" * 60
    )
    csms.advance(1)
    [note] = csms.payloads("StatusNotification")
    assert (len(note["info"]), len(note["vendorId"]), len(note["vendorErrorCode"])) == (50, 255, 50)


def test_unknown_error_code_becomes_other_error() -> None:
    cp, csms = booted()
    hw = Hardware(cp)
    hw.error = "RelayWelded"
    csms.advance(1)
    [note] = csms.payloads("StatusNotification")
    assert (note["status"], note["errorCode"], note["vendorErrorCode"]) == (
        "Faulted",
        "OtherError",
        "RelayWelded",
    )


def test_first_faulted_error_wins_over_warnings() -> None:
    cp, csms = booted()
    io = cp.connector(1)
    io.add_error_input(lambda: ErrorRecord("WeakSignal", faulted=False))
    io.add_error_input(lambda: "NoError")
    io.add_error_input(lambda: "OverVoltage")
    io.add_error_input(lambda: "UnderVoltage")
    csms.advance(1)
    [note] = csms.payloads("StatusNotification")
    assert (note["status"], note["errorCode"]) == ("Faulted", "OverVoltage")


def test_error_on_connector_zero_faults_only_the_charge_point() -> None:
    cp, csms = booted()
    cp.connector(0).add_error_input(lambda: "PowerMeterFailure")
    csms.advance(1)
    notes = [(p["connectorId"], p["status"]) for p in csms.payloads("StatusNotification")]
    assert notes == [(0, "Faulted")]


def test_ev_communication_error_is_a_warning_that_suspends_charging() -> None:
    cp, csms = booted()
    hw = Hardware(cp)
    sessions = with_sessions(cp)
    hw.error = "EVCommunicationError"
    csms.advance(1)  # Available: the code is not allowed with this status (§4.9)
    hw.plugged = True
    csms.advance(1)
    sessions.running.add(1)
    csms.advance(1)
    notes = [(p["status"], p["errorCode"]) for p in csms.payloads("StatusNotification")]
    assert notes == [
        ("Preparing", "EVCommunicationError"),
        ("SuspendedEVSE", "EVCommunicationError"),
    ]


def test_minimum_status_duration_skips_short_lived_statuses() -> None:
    cp, csms = booted()
    cp.change_configuration("MinimumStatusDuration", "5")
    hw = Hardware(cp)
    hw.plugged = True
    csms.advance(2)
    hw.plugged = False
    csms.advance(10)
    assert reported(csms) == []
    hw.plugged = True
    csms.pump()
    csms.advance(4)
    assert reported(csms) == []
    csms.advance(1)
    [note] = csms.payloads("StatusNotification")
    assert note["status"] == "Preparing"
    assert note["timestamp"] == format_datetime(WALL_START + csms.now - 5)  # time of the change


def test_statuses_are_reported_in_the_order_they_arose() -> None:
    cp, csms = booted()
    cp.change_configuration("MinimumStatusDuration", "10")
    second, first = Hardware(cp, 2), Hardware(cp, 1)
    second.plugged = True
    csms.advance(3)
    first.plugged = True
    csms.advance(20)
    assert [p["connectorId"] for p in csms.payloads("StatusNotification")] == [2, 1]


def test_changes_while_offline_coalesce_into_the_current_status() -> None:
    cp, csms = booted()
    hw = Hardware(cp)
    csms.disconnect()
    for plugged in (True, False, True, False, True):
        hw.plugged = plugged
        csms.advance(1)
    assert csms.sent == []
    csms.connect()
    assert [(p["connectorId"], p["status"]) for p in csms.payloads("StatusNotification")] == [
        (1, "Preparing")
    ]


def test_unchanged_status_is_not_reported_again_after_reconnect() -> None:
    _cp, csms = booted()
    csms.disconnect()
    csms.advance(10)
    csms.connect()
    assert csms.payloads("StatusNotification") == []


def test_notification_lost_with_the_connection_is_sent_again() -> None:
    cp, csms = booted()
    hw = Hardware(cp)
    hw.plugged = True
    frames = cp.poll(csms.now)
    assert '"StatusNotification"' in frames[0]
    csms.disconnect()
    csms.connect()
    assert reported(csms) == ["Preparing"]


def test_refused_notification_is_not_repeated() -> None:
    cp, csms = booted()
    csms.handlers["StatusNotification"] = lambda payload: Error("InternalError")
    hw = Hardware(cp)
    hw.plugged = True
    csms.advance(100)
    assert reported(csms) == ["Preparing"]


def test_status_changed_events() -> None:
    cp, csms = booted()
    events: list[object] = []
    cp.subscribe(events.append)
    hw = Hardware(cp)
    hw.plugged = True
    csms.advance(1)
    hw.error = "ReaderFailure"
    csms.advance(1)
    assert [e for e in events if isinstance(e, StatusChanged)] == [
        StatusChanged(1, "Preparing", "NoError"),
        StatusChanged(1, "Faulted", "ReaderFailure"),
    ]


def test_timestamp_is_left_out_until_the_clock_is_set() -> None:
    _cp, csms = station()
    csms.handlers["BootNotification"] = lambda payload: SILENT  # the clock is never set
    csms.connect()
    csms.advance(30)
    csms.result("TriggerMessage", {"requestedMessage": "StatusNotification", "connectorId": 1})
    [note] = csms.payloads("StatusNotification")
    assert "timestamp" not in note
