"""OCPP 2.0.1 availability: StatusNotification (G01, G02) and ChangeAvailability of the station,
an EVSE or a connector (G03, G04), after part 6's TC_G_* steps; offline status (B04)."""

from __future__ import annotations

from fake_csms201 import booted201
from tx_rig201 import Rig201

from ocpp_core import ErrorRecord
from ocpp_core.store import MemoryStore

EVSE1 = {"id": 1}
CONNECTOR1 = {"id": 1, "connectorId": 1}


def change(csms, operational: str, evse: dict | None = None) -> str:  # type: ignore[no-untyped-def]
    payload: dict = {"operationalStatus": operational}
    if evse is not None:
        payload["evse"] = evse
    return csms.result("ChangeAvailability", payload)["status"]


def reported(csms, evse: int | None = None) -> list[str]:  # type: ignore[no-untyped-def]
    return [
        p["connectorStatus"]
        for p in csms.payloads("StatusNotification")
        if evse is None or p["evseId"] == evse
    ]


def by_evse(csms) -> dict[int, str]:  # type: ignore[no-untyped-def]
    return {p["evseId"]: p["connectorStatus"] for p in csms.payloads("StatusNotification")}


def test_TC_G_01_CS_available_to_occupied() -> None:
    r = Rig201()
    r.plug(1)
    assert reported(r.csms) == ["Occupied"]
    payload = r.csms.payloads("StatusNotification")[0]
    assert (payload["evseId"], payload["connectorId"]) == (1, 1)
    assert r.cp.status(1, r.now) == "Occupied" and r.cp.status(2, r.now) == "Available"


def test_TC_G_02_CS_occupied_to_available() -> None:
    r = Rig201()
    r.plug(1)
    r.clear()
    r.unplug(1)
    assert reported(r.csms, 1) == ["Available"]


def test_G01_parking_bay_occupied_and_authorization_make_it_occupied() -> None:
    r = Rig201()
    r.occupied[2] = True
    r.pump()
    assert by_evse(r.csms) == {2: "Occupied"}
    r.occupied[2] = False
    r.pump()
    assert by_evse(r.csms) == {2: "Available"}


def test_G01_a_faulted_connector_and_a_faulted_station() -> None:
    cp, csms = booted201()
    fault = [None]
    cp.connector(1).errors = [lambda: fault[0]]
    fault[0] = ErrorRecord("GroundFailure")
    csms.pump()
    assert by_evse(csms) == {1: "Faulted"}
    assert cp.status(1, csms.now) == "Faulted"
    fault[0] = None
    csms.pump()
    assert by_evse(csms) == {1: "Available"}
    csms.clear()
    cp.connector(0).errors = [lambda: ErrorRecord("PowerMeterFailure")]
    csms.pump()
    assert by_evse(csms) == {1: "Faulted", 2: "Faulted"}


def test_G01_a_warning_is_not_a_fault() -> None:
    cp, csms = booted201()
    cp.connector(1).errors = [lambda: ErrorRecord("HighTemperature", faulted=False)]
    csms.pump()
    assert csms.payloads("StatusNotification") == []
    assert cp.status(1, csms.now) == "Available"


def test_TC_G_03_CS_evse_operative_to_inoperative() -> None:
    cp, csms = booted201()
    assert change(csms, "Inoperative", EVSE1) == "Accepted"
    assert by_evse(csms) == {1: "Unavailable"}
    assert cp.status(1, csms.now) == "Unavailable" and cp.status(0, csms.now) == "Available"


def test_TC_G_04_CS_evse_inoperative_to_operative() -> None:
    _cp, csms = booted201()
    change(csms, "Inoperative", EVSE1)
    csms.clear()
    assert change(csms, "Operative", EVSE1) == "Accepted"
    assert by_evse(csms) == {1: "Available"}


def test_TC_G_05_CS_station_operative_to_inoperative() -> None:
    cp, csms = booted201()
    assert change(csms, "Inoperative") == "Accepted"
    assert by_evse(csms) == {1: "Unavailable", 2: "Unavailable"}
    assert cp.status(0, csms.now) == "Unavailable"


def test_TC_G_06_CS_station_inoperative_to_operative() -> None:
    cp, csms = booted201()
    change(csms, "Inoperative")
    csms.clear()
    assert change(csms, "Operative") == "Accepted"
    assert by_evse(csms) == {1: "Available", 2: "Available"}
    assert cp.status(0, csms.now) == "Available"


def test_G04_an_evse_made_inoperative_on_its_own_stays_so_when_the_station_comes_back() -> None:
    cp, csms = booted201()
    change(csms, "Inoperative", {"id": 2})
    change(csms, "Inoperative")
    csms.clear()
    change(csms, "Operative")
    assert by_evse(csms) == {1: "Available"}
    assert cp.status(2, csms.now) == "Unavailable"


def test_TC_G_07_CS_connector_operative_to_inoperative() -> None:
    _cp, csms = booted201()
    assert change(csms, "Inoperative", CONNECTOR1) == "Accepted"
    assert by_evse(csms) == {1: "Unavailable"}


def test_TC_G_08_CS_connector_inoperative_to_operative() -> None:
    _cp, csms = booted201()
    change(csms, "Inoperative", CONNECTOR1)
    csms.clear()
    assert change(csms, "Operative", CONNECTOR1) == "Accepted"
    assert by_evse(csms) == {1: "Available"}


def test_TC_G_09_CS_evse_operative_to_operative() -> None:
    _cp, csms = booted201()
    assert change(csms, "Operative", EVSE1) == "Accepted"
    assert csms.payloads("StatusNotification") == []


def test_TC_G_10_CS_evse_inoperative_to_inoperative() -> None:
    _cp, csms = booted201()
    change(csms, "Inoperative", EVSE1)
    csms.clear()
    assert change(csms, "Inoperative", EVSE1) == "Accepted"
    assert csms.payloads("StatusNotification") == []


def test_TC_G_12_CS_station_operative_to_operative() -> None:
    _cp, csms = booted201()
    assert change(csms, "Operative") == "Accepted"
    assert csms.payloads("StatusNotification") == []


def test_TC_G_13_CS_station_inoperative_to_inoperative() -> None:
    _cp, csms = booted201()
    change(csms, "Inoperative")
    csms.clear()
    assert change(csms, "Inoperative") == "Accepted"
    assert csms.payloads("StatusNotification") == []


def test_TC_G_15_CS_connector_operative_to_operative() -> None:
    _cp, csms = booted201()
    assert change(csms, "Operative", CONNECTOR1) == "Accepted"
    assert csms.payloads("StatusNotification") == []


def test_TC_G_16_CS_connector_inoperative_to_inoperative() -> None:
    _cp, csms = booted201()
    change(csms, "Inoperative", CONNECTOR1)
    csms.clear()
    assert change(csms, "Inoperative", CONNECTOR1) == "Accepted"
    assert csms.payloads("StatusNotification") == []


def test_G03_unknown_evse_or_connector_is_rejected_and_changes_nothing() -> None:
    cp, csms = booted201()
    for evse in ({"id": 3}, {"id": 1, "connectorId": 2}, {"id": 0, "connectorId": 1}):
        assert change(csms, "Inoperative", evse) == "Rejected"
    assert csms.payloads("StatusNotification") == []
    assert change(csms, "Inoperative", {"id": 0}) == "Accepted"  # EVSE 0: the station
    assert cp.status(0, csms.now) == "Unavailable"


def running(r: Rig201, evse: int = 1) -> None:
    """EnergyTransferStarted on ``evse``."""
    r.card("TOKEN1", evse=evse)
    r.plug(evse)
    assert r.cp.transaction(evse) is not None
    assert r.cp.transaction(evse).state == "running"


def ended_by_card(r: Rig201, evse: int = 1) -> None:
    """StopAuthorized: the same card again."""
    r.card("TOKEN1", evse=evse)
    assert r.events_tx()[-1]["eventType"] == "Ended"


def test_TC_G_11_CS_evse_inoperative_with_ongoing_transaction_is_scheduled() -> None:
    r = Rig201()
    running(r)
    r.clear()
    assert change(r.csms, "Inoperative", EVSE1) == "Scheduled"
    assert r.cp.status(1, r.now) == "Occupied"  # the transaction goes on
    assert r.events_tx() == []
    ended_by_card(r)
    assert reported(r.csms, 1)[-1] == "Unavailable"  # the cable is still in
    r.unplug(1)
    assert reported(r.csms, 1)[-1] == "Unavailable"
    assert r.cp.begin_transaction(1, "TOKEN2", r.now) is False


def test_TC_G_14_CS_station_inoperative_with_ongoing_transaction_is_scheduled() -> None:
    r = Rig201()
    running(r)
    r.clear()
    assert change(r.csms, "Inoperative") == "Scheduled"
    assert by_evse(r.csms) == {2: "Unavailable"}  # the EVSE without a transaction at once
    assert r.cp.status(0, r.now) == "Available"  # the station still charges
    ended_by_card(r)
    assert by_evse(r.csms) == {1: "Unavailable", 2: "Unavailable"}
    assert r.cp.status(0, r.now) == "Unavailable"


def test_TC_G_17_CS_connector_inoperative_with_ongoing_transaction_is_scheduled() -> None:
    r = Rig201()
    running(r)
    r.clear()
    assert change(r.csms, "Inoperative", CONNECTOR1) == "Scheduled"
    ended_by_card(r)
    assert reported(r.csms, 1)[-1] == "Unavailable"


def reboot(r: Rig201) -> None:
    r.restart(connect=False)
    r.csms.calls.clear()
    r.csms.connect()


def test_TC_G_18_CS_evse_availability_persists_across_reboot() -> None:
    r = Rig201(store=MemoryStore())
    assert change(r.csms, "Inoperative", EVSE1) == "Accepted"
    assert by_evse(r.csms) == {1: "Unavailable"}
    reboot(r)
    assert by_evse(r.csms) == {1: "Unavailable", 2: "Available"}


def test_TC_G_19_CS_connector_availability_persists_across_reboot() -> None:
    r = Rig201(store=MemoryStore())
    assert change(r.csms, "Inoperative", {"id": 2, "connectorId": 1}) == "Accepted"
    reboot(r)
    assert by_evse(r.csms) == {1: "Available", 2: "Unavailable"}


def test_TC_G_21_CS_station_availability_persists_across_reboot() -> None:
    r = Rig201(store=MemoryStore())
    assert change(r.csms, "Inoperative") == "Accepted"
    reboot(r)
    assert by_evse(r.csms) == {1: "Unavailable", 2: "Unavailable"}
    assert r.cp.status(0, r.now) == "Unavailable"


def test_G03_corrupt_stored_availability_leaves_everything_operative() -> None:
    for corrupt in ([True, False], {"station": "no"}, {"station": True, "evse": [1]}, "x"):
        store = MemoryStore()
        store.save("availability", corrupt)
        cp, csms = booted201(store=store)
        assert [cp.status(n, csms.now) for n in range(3)] == ["Available"] * 3


def test_TC_B_51_CS_status_change_offline_beyond_threshold_reports_all_connectors() -> None:
    r = Rig201()
    r.cp.set_variable("OCPPCommCtrlr.OfflineThreshold", "60", r.now)
    r.offline()
    r.plugged[1] = True
    r.advance(61)
    r.clear()
    r.online()
    assert by_evse(r.csms) == {1: "Occupied", 2: "Available"}


def test_TC_B_52_CS_status_change_offline_within_threshold_reports_the_changed_one() -> None:
    r = Rig201()
    r.cp.set_variable("OCPPCommCtrlr.OfflineThreshold", "60", r.now)
    r.offline()
    r.plugged[1] = True
    r.advance(30)
    r.clear()
    r.online()
    assert by_evse(r.csms) == {1: "Occupied"}
    assert len(r.csms.payloads("StatusNotification")) == 1


def test_B04_changes_while_offline_coalesce_into_the_current_status() -> None:
    r = Rig201()
    r.offline()
    r.plug(1)
    r.unplug(1)
    r.plug(1)
    r.clear()
    r.online()
    assert reported(r.csms) == ["Occupied"]


def test_F06_trigger_status_notification_reports_the_current_status() -> None:
    """TC_F_20/F_23/F_24 (in test_v201_trigger.py) from the availability side: an Unavailable
    EVSE reports Unavailable when triggered."""
    _cp, csms = booted201()
    change(csms, "Inoperative", {"id": 2})
    csms.clear()
    trigger = {"requestedMessage": "StatusNotification", "evse": {"id": 2, "connectorId": 1}}
    assert csms.result("TriggerMessage", trigger) == {"status": "Accepted"}
    assert by_evse(csms) == {2: "Unavailable"}
