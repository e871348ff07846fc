"""Charging sessions, transactions and remote control (OCPP 1.6 §3.6, §3.10, §4.8, §4.10, §5.11,
§5.12, §5.18, errata 3.5/3.17/3.18; MicroOcpp tests/ChargingSessions.cpp,
tests/ConfigurationBehavior.cpp and tests/RemoteStartTransaction.cpp)."""

from __future__ import annotations

import pytest
from block_peers import block_of, rewire
from fake_csms import SILENT, WALL_START, Error
from tx_rig import Rig, start_session

from ocpp_core import (
    AuthorizationResult,
    SessionCancelled,
    SessionStarted,
    SessionStopped,
    TransactionInfo,
)
from ocpp_core.clock import format_datetime
from ocpp_core.v16.transactions import TransactionBlock


def stamp(now: float) -> str:
    return format_datetime(WALL_START + now)


# ---------------------------------------------------------------------- ChargingSessions.cpp


def test_check_idle_state() -> None:
    rig = Rig(boot=False)
    rig.csms.connect()
    statuses = ["StatusNotification"] * 3
    assert rig.actions() == ["BootNotification", *statuses, "SecurityEventNotification"]
    assert [rig.statuses(c) for c in (0, 1, 2)] == [["Available"]] * 3
    assert rig.cp.transaction(1) is None
    assert rig.cp.queue_length() == 0


def test_start_tx_directly_without_a_plug_input() -> None:
    rig = Rig(connectors=1)
    rig.cp.connector(1).plugged = None  # no plug sensor: authorized is enough
    assert rig.cp.begin_transaction(1, "TAG1", rig.now)
    rig.pump()
    assert rig.actions() == ["Authorize", "StatusNotification", "StartTransaction"]
    assert rig.payloads("StartTransaction") == [
        {"connectorId": 1, "idTag": "TAG1", "meterStart": 1000, "timestamp": stamp(0)}
    ]
    info = rig.cp.transaction(1)
    assert info == TransactionInfo(
        1, "running", "TAG1", None, 1001, info.local_id, 1000, stamp(0), None, None
    )
    assert rig.statuses() == ["Charging"]


def test_start_tx_session_management_plug_first() -> None:
    rig = Rig()
    rig.plug()
    assert rig.statuses() == ["Preparing"]
    rig.card("TAG1")
    assert rig.actions() == [
        "StatusNotification",
        "Authorize",
        "StatusNotification",
        "StartTransaction",
    ]
    assert rig.statuses() == ["Preparing", "Charging"]
    assert rig.locks == [(1, True)]
    [started] = rig.events_of(SessionStarted)
    assert started == SessionStarted(1, started.local_id, "TAG1", 1000, stamp(0))


def test_start_tx_session_management_authorize_first() -> None:
    rig = Rig()
    rig.card("TAG1")
    assert rig.actions() == ["Authorize", "StatusNotification"]
    assert rig.statuses() == ["Preparing"]
    assert rig.cp.transaction(1).state == "preparing"
    rig.csms.advance(10)
    rig.plug()
    assert rig.actions()[-2:] == ["StatusNotification", "StartTransaction"]
    assert rig.statuses() == ["Preparing", "Charging"]
    assert rig.payloads("StartTransaction")[0]["timestamp"] == stamp(10)


def test_start_tx_no_plug_waits_in_preparing() -> None:
    rig = Rig(config={"ConnectionTimeOut": "0"})  # 0: wait for the cable as long as it takes
    rig.card("TAG1")
    rig.csms.advance(600)
    assert "StartTransaction" not in rig.actions()
    assert rig.cp.transaction(1).state == "preparing"
    assert rig.cp.status(1, rig.now) == "Preparing"


def test_start_tx_connection_timeout_cancels_the_session() -> None:
    rig = Rig(config={"ConnectionTimeOut": "30"})
    rig.card("TAG1")
    rig.csms.advance(29)
    assert rig.cp.transaction(1).state == "preparing"
    rig.csms.advance(1)
    assert rig.cp.transaction(1) is None
    assert rig.statuses() == ["Preparing", "Available"]
    assert rig.events_of(SessionCancelled) == [SessionCancelled(1, "TAG1", "ConnectionTimeOut")]
    rig.plug()
    assert "StartTransaction" not in rig.actions()


def test_connection_timeout_does_not_apply_once_plugged() -> None:
    rig = Rig(config={"ConnectionTimeOut": "5"})
    rig.plug()
    rig.csms.handlers["Authorize"] = lambda payload: SILENT  # the CSMS is slow
    rig.card("TAG1")
    rig.csms.advance(20)  # the Authorize times out (MessageTimeout 30 s) later
    assert rig.cp.transaction(1).state == "authorizing"


def test_stop_tx_directly() -> None:
    rig = Rig()
    transaction_id = start_session(rig)
    rig.csms.advance(60)
    rig.energy[1] += 500
    assert rig.cp.end_transaction(1, rig.now)
    rig.pump()
    assert rig.payloads("StopTransaction") == [
        {
            "meterStop": 1500,
            "timestamp": stamp(60),
            "reason": "Local",
            "transactionId": transaction_id,
        }
    ]
    assert rig.cp.end_transaction(1, rig.now) is False  # nothing left to end


def test_stop_tx_deauthorize_with_the_same_card() -> None:
    rig = Rig()
    transaction_id = start_session(rig)
    rig.clear()
    rig.card("TAG1")
    # The same idTag stops without an Authorize (§4.1).
    assert rig.actions() == ["StatusNotification", "StopTransaction"]
    assert rig.payloads("StopTransaction")[0] == {
        "meterStop": 1000,
        "timestamp": stamp(0),
        "reason": "Local",
        "idTag": "TAG1",
        "transactionId": transaction_id,
    }
    assert rig.statuses() == ["Finishing"]
    assert rig.locks == [(1, False)]
    assert rig.events_of(SessionStopped) == [SessionStopped(1, 1, "Local", 1000, stamp(0))]
    rig.unplug()
    assert rig.statuses() == ["Finishing", "Available"]


def test_stop_tx_deauthorize_first_cancels_before_the_start() -> None:
    rig = Rig()
    rig.card("TAG1")
    rig.card("tag1")  # idTags are case-insensitive (CiString20)
    assert rig.cp.transaction(1) is None
    assert rig.events_of(SessionCancelled) == [SessionCancelled(1, "TAG1", "Local")]
    rig.plug()
    assert "StartTransaction" not in rig.actions()


def test_stop_tx_plug_out_stops_with_ev_disconnected() -> None:
    rig = Rig()
    start_session(rig)
    rig.clear()
    rig.unplug()
    assert rig.payloads("StopTransaction")[0]["reason"] == "EVDisconnected"
    assert "idTag" not in rig.payloads("StopTransaction")[0]
    assert rig.locks == [(1, False)]  # UnlockConnectorOnEVSideDisconnect is true
    assert rig.statuses() == ["Available"]


def test_preboot_transaction_is_held_until_the_boot_is_accepted() -> None:
    rig = Rig(boot=False, config={"AllowOfflineTxForUnknownId": "true"})
    rig.csms.handlers["BootNotification"] = lambda payload: {
        "status": "Pending",
        "currentTime": rig.csms.wall_text(),
        "interval": 30,
    }
    rig.csms.connect()
    rig.plug()
    rig.card("TAG1")  # not accepted yet: the offline rules authorize
    assert rig.cp.transaction(1).state == "running"
    rig.csms.advance(10)
    assert "StartTransaction" not in rig.actions()
    assert rig.cp.queue_length() == 1
    rig.csms.handlers["BootNotification"] = rig.csms._boot
    rig.csms.advance(30)
    assert rig.actions().count("StartTransaction") == 1
    assert rig.cp.transaction(1).transaction_id == 1001


def test_mix_preboot_and_offline_transactions() -> None:
    rig = Rig(boot=False, config={"AllowOfflineTxForUnknownId": "true"})
    rig.plug(1)
    rig.card("PRE", 1)  # never connected yet
    rig.card("PRE", 1)
    rig.plug(2)
    rig.card("OFF", 2)
    rig.csms.connect()
    assert [a for a, _ in rig.tx_messages()] == [
        "StartTransaction",
        "StopTransaction",
        "StartTransaction",
    ]
    assert rig.payloads("StopTransaction")[0]["transactionId"] == 1001


def test_set_unavailable_during_a_transaction_is_scheduled() -> None:
    rig = Rig()
    start_session(rig)
    reply = rig.csms.result("ChangeAvailability", {"connectorId": 1, "type": "Inoperative"})
    assert reply == {"status": "Scheduled"}
    assert rig.cp.status(1, rig.now) == "Charging"
    rig.card("TAG1")
    assert rig.statuses()[-1] == "Unavailable"
    assert rig.cp.begin_transaction(1, "TAG2", rig.now) is False
    reply = rig.csms.result("RemoteStartTransaction", {"connectorId": 1, "idTag": "TAG2"})
    assert reply == {"status": "Rejected"}


def test_a_preparing_session_ends_when_the_connector_becomes_unavailable() -> None:
    rig = Rig()
    rig.card("TAG1")
    rig.csms.result("ChangeAvailability", {"connectorId": 1, "type": "Inoperative"})
    assert rig.cp.transaction(1) is None
    assert rig.events_of(SessionCancelled) == [SessionCancelled(1, "TAG1", "Unavailable")]


def test_unlock_connector_ends_the_transaction_and_unlocks() -> None:
    rig = Rig()
    start_session(rig)
    rig.clear()
    assert rig.csms.result("UnlockConnector", {"connectorId": 1}) == {"status": "Unlocked"}
    rig.pump()
    assert rig.payloads("StopTransaction")[0]["reason"] == "UnlockCommand"
    assert rig.locks == [(1, False)]
    assert rig.cp.transaction(1) is None  # the StopTransaction is answered already


def test_unlock_connector_without_transaction_drives_the_lock() -> None:
    rig = Rig()
    assert rig.csms.result("UnlockConnector", {"connectorId": 2}) == {"status": "Unlocked"}
    assert rig.locks == [(2, False)]
    rig.lock_result = False  # the lock reports a failure
    assert rig.csms.result("UnlockConnector", {"connectorId": 2}) == {"status": "UnlockFailed"}


def test_unlock_connector_unknown_or_without_lock_is_not_supported() -> None:
    rig = Rig()
    for connector in (0, 3):
        reply = rig.csms.result("UnlockConnector", {"connectorId": connector})
        assert reply == {"status": "NotSupported"}
    rig.cp.connector(1).lock = None
    assert rig.csms.result("UnlockConnector", {"connectorId": 1}) == {"status": "NotSupported"}


def test_unlock_connector_with_a_raising_lock_fails() -> None:
    rig = Rig()

    def broken(locked: bool) -> None:
        raise OSError("stuck")

    rig.cp.connector(1).lock = broken
    assert rig.csms.result("UnlockConnector", {"connectorId": 1}) == {"status": "UnlockFailed"}


def test_status_notification_full_sequence() -> None:
    rig = Rig(config={"ConnectionTimeOut": "10"})
    rig.plug()
    rig.unplug()
    rig.card("TAG1")
    rig.csms.advance(10)  # ConnectionTimeOut
    rig.plugged[1] = True
    rig.cp.present_card(1, "TAG1", rig.now)  # plug and card in the same moment
    rig.pump()
    rig.ev_ready[1] = False
    rig.pump()
    rig.evse_ready[1] = False
    rig.pump()
    rig.ev_ready[1] = rig.evse_ready[1] = True
    rig.pump()
    rig.card("TAG1")
    rig.unplug()
    assert rig.statuses() == [
        "Preparing",
        "Available",
        "Preparing",
        "Available",
        "Charging",
        "SuspendedEV",
        "SuspendedEVSE",
        "Charging",
        "Finishing",
        "Available",
    ]


def test_status_restored_across_a_reboot_mid_transaction() -> None:
    rig = Rig(resume_transactions_after_restart=True)
    start_session(rig)
    rig.restart()
    assert rig.statuses()[-1] == "Charging"
    plain = Rig()
    start_session(plain)
    plain.restart()  # stopped with PowerLoss: the cable is still in
    assert plain.statuses(1)[-1] == "Finishing"
    plain.unplug()
    plain.plug()
    assert plain.statuses(1)[-2:] == ["Available", "Preparing"]


# ---------------------------------------------------------------------- every stop reason


def test_stop_reason_remote() -> None:
    rig = Rig()
    transaction_id = start_session(rig)
    reply = rig.csms.result("RemoteStopTransaction", {"transactionId": transaction_id})
    assert reply == {"status": "Accepted"}
    rig.pump()
    assert rig.payloads("StopTransaction")[0]["reason"] == "Remote"
    assert "idTag" not in rig.payloads("StopTransaction")[0]
    assert rig.locks[-1] == (1, False)


def test_remote_stop_of_an_unknown_transaction_is_rejected() -> None:
    rig = Rig()
    transaction_id = start_session(rig)
    reply = rig.csms.result("RemoteStopTransaction", {"transactionId": transaction_id + 1})
    assert reply == {"status": "Rejected"}
    assert rig.cp.transaction(1).state == "running"


@pytest.mark.parametrize("kind", ["Soft", "Hard"])
def test_stop_reason_reset(kind: str) -> None:
    resets: list[str] = []
    rig = Rig(reset_handler=resets.append)
    start_session(rig)
    assert rig.csms.result("Reset", {"type": kind}) == {"status": "Accepted"}
    rig.pump()
    assert rig.payloads("StopTransaction")[0]["reason"] == f"{kind}Reset"
    rig.csms.advance(3)
    assert resets == [kind]


def test_stop_reason_power_loss_after_a_restart() -> None:
    rig = Rig()
    start_session(rig)
    rig.energy[1] = 1800
    rig.restart()
    [stop] = rig.payloads("StopTransaction")
    assert stop == {
        "meterStop": 1800,
        "timestamp": stamp(0),
        "reason": "PowerLoss",
        "transactionId": 1001,
    }


def test_power_loss_meter_stop_is_the_last_reading_even_if_delivered() -> None:
    rig = Rig(config={"MeterValueSampleInterval": "10"})
    start_session(rig)
    rig.advance(60, charging_w=3600)  # MeterValues up to 1060 Wh, all delivered
    assert rig.cp.queue_length() == 0
    rig.meter = False  # the meter cannot be read after the restart
    rig.restart()
    [stop] = rig.payloads("StopTransaction")
    assert stop["reason"] == "PowerLoss" and stop["meterStop"] == 1060


def test_power_loss_meter_stop_counts_readings_journaled_before_the_start_was_answered() -> None:
    rig = Rig(config={"MeterValueSampleInterval": "10", "AllowOfflineTxForUnknownId": "true"})
    rig.offline()
    rig.plug()
    rig.card("TAG1")
    rig.advance(30, charging_w=3600)  # queued behind the unanswered StartTransaction
    rig.online()  # the record is written with the highest reading so far, then all delivered
    assert rig.cp.queue_length() == 0
    rig.meter = False
    rig.restart()
    assert rig.payloads("StopTransaction")[0]["meterStop"] == 1030


@pytest.mark.parametrize("reason", ["EmergencyStop", "Other", "Reboot", "DeAuthorized"])
def test_stop_reason_given_by_the_station(reason: str) -> None:
    rig = Rig()
    start_session(rig)
    assert rig.cp.end_transaction(1, rig.now, reason=reason)
    rig.pump()
    assert rig.payloads("StopTransaction")[0]["reason"] == reason


def test_end_transaction_rejects_unknown_reasons_and_connectors() -> None:
    rig = Rig()
    with pytest.raises(ValueError, match="reason"):
        rig.cp.end_transaction(1, rig.now, reason="Bored")
    with pytest.raises(ValueError, match="connector"):
        rig.cp.end_transaction(0, rig.now)
    with pytest.raises(ValueError, match="id_tag"):
        rig.cp.present_card(1, "X" * 21, rig.now)
    with pytest.raises(ValueError, match="id_tag"):
        rig.cp.begin_transaction(1, "", rig.now)


# ---------------------------------------------------------------------- parentIdTag (§3.10)


def grouped(rig: Rig, groups: dict[str, str | None]) -> None:
    def authorize(payload: dict) -> dict:
        info: dict = {"status": "Accepted"}
        parent = groups.get(payload["idTag"])
        if parent is not None:
            info["parentIdTag"] = parent
        return {"idTagInfo": info}

    rig.csms.handlers["Authorize"] = authorize


def test_another_card_of_the_same_group_stops_the_transaction() -> None:
    rig = Rig()
    grouped(rig, {"MUM": "FAMILY", "DAD": "FAMILY"})
    start_session(rig, "MUM")
    assert rig.cp.transaction(1).parent_id_tag == "FAMILY"
    rig.clear()
    rig.card("DAD")
    assert rig.actions() == ["Authorize", "StatusNotification", "StopTransaction"]
    assert rig.payloads("StopTransaction")[0]["idTag"] == "DAD"
    assert rig.payloads("StopTransaction")[0]["reason"] == "Local"


def test_a_card_of_another_group_does_not_stop_the_transaction() -> None:
    rig = Rig()
    grouped(rig, {"MUM": "FAMILY", "BOB": "WORK", "EVE": None})
    start_session(rig, "MUM")
    rig.clear()
    rig.card("BOB")
    rig.card("EVE")
    assert rig.cp.transaction(1).state == "running"
    assert "StopTransaction" not in rig.actions()
    assert rig.events_of(AuthorizationResult) == [
        AuthorizationResult(1, "BOB", "Accepted", "csms"),
        AuthorizationResult(1, "EVE", "Accepted", "csms"),
    ]


def test_the_group_of_a_transaction_can_come_from_the_start_transaction_answer() -> None:
    rig = Rig()
    grouped(rig, {"KID": "FAMILY"})
    rig.csms.handlers["StartTransaction"] = lambda payload: {
        "transactionId": 7,
        "idTagInfo": {"status": "Accepted", "parentIdTag": "FAMILY"},
    }
    start_session(rig, "MUM")
    assert rig.cp.transaction(1).parent_id_tag == "FAMILY"
    rig.card("KID")
    assert rig.payloads("StopTransaction")[0]["idTag"] == "KID"


def test_end_transaction_with_an_id_tag_checks_it() -> None:
    rig = Rig()
    start_session(rig, "MUM")
    assert rig.cp.end_transaction(1, rig.now, id_tag="STRANGER") is False
    assert rig.cp.end_transaction(1, rig.now, id_tag="mum") is True


# ---------------------------------------------------------------------- ConfigurationBehavior.cpp


def test_stop_transaction_on_ev_side_disconnect_true() -> None:
    rig = Rig(config={"StopTransactionOnEVSideDisconnect": "true"})
    start_session(rig)
    rig.unplug()
    assert rig.payloads("StopTransaction")[0]["reason"] == "EVDisconnected"


def test_stop_transaction_on_ev_side_disconnect_false() -> None:
    rig = Rig(config={"StopTransactionOnEVSideDisconnect": "false"})
    start_session(rig)
    rig.clear()
    rig.unplug()
    assert rig.cp.transaction(1).state == "running"
    assert rig.statuses() == ["SuspendedEV"]
    assert rig.locks == []  # §4.10: the cable stays locked
    rig.plug()
    assert rig.statuses() == ["SuspendedEV", "Charging"]
    assert "StopTransaction" not in rig.actions()


def test_unlock_connector_on_ev_side_disconnect_false_keeps_the_cable_until_the_card() -> None:
    rig = Rig(config={"UnlockConnectorOnEVSideDisconnect": "false"})
    start_session(rig, "MUM")
    rig.clear()
    rig.unplug()
    assert rig.payloads("StopTransaction")[0]["reason"] == "EVDisconnected"
    assert rig.locks == []
    rig.card("OTHER")  # another card neither opens the lock nor starts a transaction
    assert rig.locks == []
    assert rig.cp.transaction(1) is None
    rig.card("MUM")  # the owner's card opens the lock, and starts nothing
    assert rig.locks == [(1, False)]
    assert rig.cp.transaction(1) is None


def invalid_start(rig: Rig, status: str = "Invalid") -> None:
    rig.csms.handlers["StartTransaction"] = lambda payload: {
        "transactionId": 99,
        "idTagInfo": {"status": status},
    }


def test_stop_transaction_on_invalid_id_true() -> None:
    rig = Rig(config={"StopTransactionOnInvalidId": "true"})
    invalid_start(rig)
    rig.plug()
    rig.card("TAG1")
    [stop] = rig.payloads("StopTransaction")
    assert stop["reason"] == "DeAuthorized" and stop["transactionId"] == 99
    # errata 3.5: the cable stays locked until the same idTag is presented
    assert rig.locks == [(1, True)]
    rig.card("OTHER")
    assert rig.locks == [(1, True)]
    rig.card("TAG1")
    assert rig.locks[-1] == (1, False)


def test_stop_transaction_on_invalid_id_false_suspends_the_energy_offer() -> None:
    rig = Rig(config={"StopTransactionOnInvalidId": "false"})
    invalid_start(rig, "Blocked")
    rig.plug()
    rig.card("TAG1")
    assert rig.cp.transaction(1).state == "running"
    assert rig.statuses() == ["Preparing", "Charging", "SuspendedEVSE"]
    assert "StopTransaction" not in rig.actions()


def test_max_energy_on_invalid_id_lets_the_ev_take_a_little_first() -> None:
    rig = Rig(config={"StopTransactionOnInvalidId": "true", "MaxEnergyOnInvalidId": "500"})
    invalid_start(rig)
    rig.plug()
    rig.card("TAG1")
    assert rig.cp.transaction(1).state == "running"
    rig.energy[1] += 499
    rig.pump()
    assert "StopTransaction" not in rig.actions()
    rig.energy[1] += 1
    rig.pump()
    assert rig.payloads("StopTransaction")[0]["reason"] == "DeAuthorized"
    assert rig.payloads("StopTransaction")[0]["meterStop"] == 1500


def test_max_energy_on_invalid_id_then_suspends_without_stop_on_invalid_id() -> None:
    rig = Rig(config={"StopTransactionOnInvalidId": "false", "MaxEnergyOnInvalidId": "100"})
    invalid_start(rig)
    rig.plug()
    rig.card("TAG1")
    rig.energy[1] += 150
    rig.pump()
    assert rig.statuses()[-1] == "SuspendedEVSE"
    assert rig.cp.transaction(1).state == "running"


def test_an_invalid_transaction_resumed_after_a_restart_stays_suspended() -> None:
    rig = Rig(
        config={"StopTransactionOnInvalidId": "false"}, resume_transactions_after_restart=True
    )
    invalid_start(rig)
    rig.plug()
    rig.card("TAG1")
    assert not block_of(rig.cp, TransactionBlock).permits_charge(1)
    rig.restart()
    rig.advance(2)
    assert rig.cp.transaction(1).state == "running"
    assert not block_of(rig.cp, TransactionBlock).permits_charge(1)
    assert rig.statuses()[-1] == "SuspendedEVSE"
    assert "StopTransaction" not in rig.actions()


def test_max_energy_on_invalid_id_still_counts_after_a_resumed_restart() -> None:
    config = {"StopTransactionOnInvalidId": "true", "MaxEnergyOnInvalidId": "500"}
    rig = Rig(config=config, resume_transactions_after_restart=True)
    invalid_start(rig)
    rig.plug()
    rig.card("TAG1")
    rig.energy[1] += 300
    rig.restart()
    rig.advance(2)
    assert rig.cp.transaction(1).state == "running"  # 300 of the 500 Wh taken
    rig.energy[1] += 200
    rig.pump()
    [stop] = rig.payloads("StopTransaction")
    assert stop["reason"] == "DeAuthorized" and stop["meterStop"] == 1500


def test_authorize_remote_tx_requests_false_starts_without_authorize() -> None:
    rig = Rig(config={"AuthorizeRemoteTxRequests": "false"})
    rig.plug()
    reply = rig.csms.result("RemoteStartTransaction", {"connectorId": 1, "idTag": "APP"})
    assert reply == {"status": "Accepted"}
    assert "Authorize" not in rig.actions()
    assert rig.payloads("StartTransaction")[0]["idTag"] == "APP"
    reply_at = next(i for i, text in enumerate(rig.csms.sent) if text.startswith("[3,"))
    start_at = next(i for i, text in enumerate(rig.csms.sent) if "StartTransaction" in text)
    assert reply_at < start_at  # the reply leaves before the StartTransaction


def test_authorize_remote_tx_requests_true_authorizes_first() -> None:
    rig = Rig(config={"AuthorizeRemoteTxRequests": "true"})
    rig.plug()
    rig.csms.handlers["Authorize"] = lambda payload: {"idTagInfo": {"status": "Blocked"}}
    reply = rig.csms.result("RemoteStartTransaction", {"connectorId": 1, "idTag": "APP"})
    assert reply == {"status": "Accepted"}  # accepted to try (errata 3.32)
    assert rig.actions()[-1] == "Authorize"
    assert "StartTransaction" not in rig.actions()
    assert rig.events_of(SessionCancelled) == [SessionCancelled(1, "APP", "Rejected")]


# ---------------------------------------------------------------------- RemoteStartTransaction.cpp


def test_remote_start_basic_accepted() -> None:
    rig = Rig()
    profile = {
        "chargingProfileId": 1,
        "stackLevel": 0,
        "chargingProfilePurpose": "TxProfile",
        "chargingProfileKind": "Relative",
        "chargingSchedule": {
            "chargingRateUnit": "A",
            "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 16}],
        },
    }
    reply = rig.csms.result(
        "RemoteStartTransaction", {"connectorId": 2, "idTag": "APP", "chargingProfile": profile}
    )
    assert reply == {"status": "Accepted"}
    info = rig.cp.transaction(2)
    assert info.state == "preparing" and info.charging_profile == profile
    rig.plug(2)
    assert rig.payloads("StartTransaction")[0]["connectorId"] == 2
    assert rig.cp.transaction(2).charging_profile == profile


def test_remote_start_same_connector_rejected_when_a_transaction_is_active() -> None:
    rig = Rig()
    start_session(rig)
    reply = rig.csms.result("RemoteStartTransaction", {"connectorId": 1, "idTag": "APP"})
    assert reply == {"status": "Rejected"}


def test_remote_start_connector_zero_rejected() -> None:
    rig = Rig()
    for connector in (0, 3):
        reply = rig.csms.result("RemoteStartTransaction", {"connectorId": connector, "idTag": "A"})
        assert reply == {"status": "Rejected"}


def test_remote_start_no_free_connector_rejected() -> None:
    rig = Rig()
    start_session(rig, "ONE", 1)
    start_session(rig, "TWO", 2)
    assert rig.csms.result("RemoteStartTransaction", {"idTag": "APP"}) == {"status": "Rejected"}


def test_remote_start_without_connector_prefers_a_plugged_one() -> None:
    rig = Rig()
    rig.plug(2)
    assert rig.csms.result("RemoteStartTransaction", {"idTag": "APP"}) == {"status": "Accepted"}
    assert rig.payloads("StartTransaction")[0]["connectorId"] == 2
    assert rig.csms.result("RemoteStartTransaction", {"idTag": "APP2"}) == {"status": "Accepted"}
    assert rig.cp.transaction(1).state == "preparing"


def test_remote_start_waits_for_the_cable_within_connection_timeout() -> None:
    rig = Rig(config={"ConnectionTimeOut": "20"})
    rig.csms.result("RemoteStartTransaction", {"connectorId": 1, "idTag": "APP"})
    rig.csms.advance(20)
    assert rig.cp.transaction(1) is None
    assert rig.events_of(SessionCancelled) == [SessionCancelled(1, "APP", "ConnectionTimeOut")]


def test_begin_transaction_refuses_a_busy_or_faulted_connector() -> None:
    rig = Rig()
    assert rig.cp.begin_transaction(1, "A", rig.now)
    assert rig.cp.begin_transaction(1, "B", rig.now) is False
    rig.cp.connector(2).add_error_input(lambda: "GroundFailure")
    assert rig.cp.begin_transaction(2, "B", rig.now) is False


def test_a_faulted_connector_waits_to_start_until_the_fault_clears() -> None:
    rig = Rig(config={"ConnectionTimeOut": "0"})
    fault = ["OverCurrentFailure"]
    rig.card("TAG1")
    rig.cp.connector(1).add_error_input(lambda: fault[0])
    rig.plug()
    assert "StartTransaction" not in rig.actions()
    fault[0] = None
    rig.pump()
    assert rig.actions().count("StartTransaction") == 1


def test_a_failing_metering_block_never_costs_a_transaction() -> None:
    rig = Rig()

    class Broken:
        def energy_wh(self, connector: int) -> int:
            raise RuntimeError("meter gone")

        def transaction_started(self, connector: int, now: float) -> None:
            raise RuntimeError("meter gone")

        def transaction_stopped(self, connector: int, now: float) -> list:
            raise RuntimeError("meter gone")

    rewire(rig.cp, metering=Broken())
    start_session(rig)
    rig.card("TAG1")
    assert [a for a, _ in rig.tx_messages()] == ["StartTransaction", "StopTransaction"]
    assert rig.payloads("StopTransaction")[0]["meterStop"] == 0


def test_stop_transaction_carries_the_metering_transaction_data() -> None:
    rig = Rig(config={"StopTxnSampledData": "Energy.Active.Import.Register"})
    start_session(rig)
    rig.energy[1] = 1234
    rig.card("TAG1")
    data = rig.payloads("StopTransaction")[0]["transactionData"]
    contexts = [mv["sampledValue"][0]["context"] for mv in data]
    assert contexts == ["Transaction.Begin", "Transaction.End"]
    assert [mv["sampledValue"][0]["value"] for mv in data] == ["1000", "1234"]


def test_periodic_meter_values_of_a_transaction_go_through_the_journal() -> None:
    rig = Rig(config={"MeterValueSampleInterval": "60"})
    start_session(rig)
    rig.csms.handlers["MeterValues"] = lambda payload: SILENT  # unanswered: it stays queued
    rig.advance(60, charging_w=3600)
    [meter_values] = rig.payloads("MeterValues")
    assert meter_values["transactionId"] == 1001
    assert meter_values["meterValue"][0]["sampledValue"][0]["value"] == "1060"
    assert rig.cp.queue_length() == 1
    assert rig.cp.transaction(1).transaction_id == 1001


def test_start_transaction_answered_with_a_callerror_is_retried() -> None:
    rig = Rig(config={"TransactionMessageRetryInterval": "10"})
    answers = [Error("InternalError")]

    def start(payload: dict) -> object:
        return (
            answers.pop() if answers else {"transactionId": 5, "idTagInfo": {"status": "Accepted"}}
        )

    rig.csms.handlers["StartTransaction"] = start
    rig.plug()
    rig.card("TAG1")
    assert rig.cp.transaction(1).transaction_id is None
    rig.csms.advance(10)
    assert rig.cp.transaction(1).transaction_id == 5
    assert rig.actions().count("StartTransaction") == 2
