"""OCPP 2.0.1 transactions (E01-E15), named after the part 6 test cases (TC_E_*_CS).

Each test follows its test case's steps against the in-process CSMS, with the station's
TxStartPoint / TxStopPoint set as the test case's "Before" asks. Where the station reports a
step in one event that the tool accepts in either of two forms, the test says which form.
"""

from __future__ import annotations

import itertools

import pytest
from fake_csms import SILENT, Error
from tx_rig201 import TOKEN, Rig201

from ocpp_core.events import MessageDiscarded, SessionCancelled, SessionStopped

START, STOP = "TxCtrlr.TxStartPoint", "TxCtrlr.TxStopPoint"
OFFLINE_TX = {"AuthCtrlr.OfflineTxForUnknownIdEnabled": "true"}  # a card taken while offline


def rig(start: str = "PowerPathClosed", stop: str = "EVConnected,Authorized", **config: str):
    return Rig201(config={START: start, STOP: stop, **config})


def answer_token(status: str):
    """A TransactionEvent handler answering every event that carries an idToken with it."""
    return lambda payload: {"idTokenInfo": {"status": status}} if "idToken" in payload else {}


def energy_started(r: Rig201, evse: int = 1) -> str:
    """Reusable states Authorized + EVConnectedPreSession / EnergyTransferStarted: card, cable,
    charging. Returns the transactionId."""
    r.card(evse=evse)
    r.plug(evse)
    info = r.cp.transaction(evse)
    assert info is not None and info.state == "running"
    assert r.cp.charging(evse, r.now)
    return str(info.transaction_id)


# ---------------------------------------------------------------------- E01 start points


def test_TC_E_01_CS_start_PowerPathClosed() -> None:
    r = rig("PowerPathClosed")
    r.card()
    assert r.events_tx() == []  # authorized, no cable: no transaction yet
    r.plug()
    started = r.events_tx()[0]
    assert started["eventType"] == "Started" and started["seqNo"] == 0
    assert started["triggerReason"] in ("CablePluggedIn", "ChargingStateChanged")
    assert started["evse"] == {"id": 1, "connectorId": 1}
    assert started["idToken"] == TOKEN
    assert r.summary()[1] == ("Updated", "ChargingStateChanged", "Charging")


def test_TC_E_02_CS_start_EnergyTransfer() -> None:
    r = rig("EnergyTransfer")
    r.ev_ready[1] = False
    r.card()
    r.plug()
    assert r.events_tx() == []  # power path closed, the EV takes no energy: no transaction
    r.ev_ready[1] = True
    r.csms.pump()
    (started,) = r.events_tx()
    assert started["eventType"] == "Started"
    assert started["triggerReason"] in ("ChargingStateChanged", "Authorized")
    assert started["idToken"] == TOKEN
    assert started["evse"]["connectorId"] == 1
    assert started["transactionInfo"]["chargingState"] == "Charging"


def test_TC_E_09_CS_start_EVConnected() -> None:
    r = rig("EVConnected")
    r.plug()
    (started,) = r.events_tx()
    assert started["eventType"] == "Started"
    assert started["triggerReason"] in ("CablePluggedIn", "ChargingStateChanged")
    assert started["evse"] == {"id": 1, "connectorId": 1}
    assert started["transactionInfo"]["chargingState"] == "EVConnected"
    assert "idToken" not in started


def test_TC_E_10_CS_start_Authorized_local() -> None:
    r = rig("Authorized")
    r.card()
    started = r.events_tx()[0]
    assert started["eventType"] == "Started" and started["triggerReason"] == "Authorized"
    assert started["idToken"] == TOKEN
    assert started["transactionInfo"]["chargingState"] == "Idle"


def test_TC_E_12_CS_start_ParkingBayOccupied() -> None:
    r = rig("ParkingBayOccupancy", "ParkingBayOccupancy")
    r.occupied[1] = True
    r.csms.pump()
    (started,) = r.events_tx()
    assert started["eventType"] == "Started" and started["triggerReason"] == "EVDetected"


def test_TC_E_13_CS_start_Authorized_remote() -> None:
    r = rig("Authorized")
    answer = r.csms.result(
        "RequestStartTransaction", {"idToken": TOKEN, "remoteStartId": 77, "evseId": 1}
    )
    assert answer["status"] == "Accepted"
    started = r.events_tx()[0]
    assert started["eventType"] == "Started" and started["triggerReason"] == "RemoteStart"
    assert started["idToken"] == TOKEN
    assert started["transactionInfo"]["remoteStartId"] == 77


# ---------------------------------------------------------------------- E02/E03 local start


def test_TC_E_03_CS_cable_plugin_first() -> None:
    r = rig("EVConnected")
    r.plug()  # EVConnectedPreSession
    r.card()  # Authorized (local)
    assert r.summary() == [
        ("Started", "CablePluggedIn", "EVConnected"),
        ("Updated", "Authorized", "EVConnected"),
        ("Updated", "ChargingStateChanged", "Charging"),  # EnergyTransferStarted
    ]
    assert r.events_tx()[1]["idToken"] == TOKEN
    assert [p["seqNo"] for p in r.events_tx()] == [0, 1, 2]
    assert len({p["transactionInfo"]["transactionId"] for p in r.events_tx()}) == 1


def test_TC_E_04_CS_authorization_first() -> None:
    r = rig()
    r.card()
    assert r.cp.transaction(1).state == "preparing"
    r.plug()
    assert r.summary() == [
        ("Started", "CablePluggedIn", "EVConnected"),
        ("Updated", "ChargingStateChanged", "Charging"),
    ]
    assert r.cp.charging(1, r.now)


def test_TC_E_05_CS_authorization_first_cable_plugin_timeout() -> None:
    """Start point PowerPathClosed: the authorization lapses, no transaction was started; the
    EVSE then takes the next authorization."""
    r = rig(**{"TxCtrlr.EVConnectionTimeOut": "30"})
    r.card()
    r.advance(31)
    assert r.cp.transaction(1) is None
    assert [e.reason for e in r.events if isinstance(e, SessionCancelled)] == ["ConnectionTimeOut"]
    assert r.events_tx() == []
    r.card()  # step 3: Authorized (local) again
    assert r.cp.transaction(1).state == "preparing"


def test_TC_E_39_CS_deauthorized_timeout() -> None:
    r = rig("Authorized", "Authorized", **{"TxCtrlr.EVConnectionTimeOut": "30"})
    r.card()
    assert r.summary() == [("Started", "Authorized", "Idle")]
    assert r.cp.next_wakeup(r.now) == pytest.approx(30.0)
    r.advance(31)
    ended = r.last()
    assert ended["eventType"] == "Ended" and ended["triggerReason"] == "EVConnectTimeout"
    assert ended["transactionInfo"]["stoppedReason"] == "Timeout"


def test_TC_E_38_CS_ev_not_ready() -> None:
    r = rig()
    r.ev_ready[1] = False
    r.card()
    r.plug()
    assert r.summary() == [
        ("Started", "CablePluggedIn", "EVConnected"),
        ("Updated", "ChargingStateChanged", "SuspendedEV"),
    ]
    assert not r.cp.charging(1, r.now)
    r.ev_ready[1] = True
    r.csms.pump()
    assert r.summary()[-1] == ("Updated", "ChargingStateChanged", "Charging")


# ---------------------------------------------------------------------- E06 stop points


def test_TC_E_06_CS_local_stop_accepted() -> None:
    """StopAuthorized (local), EVConnectedPostSession, EVDisconnected with TxStopPoint
    EVConnected only: the card stops the energy, the cable ends the transaction (Local)."""
    r = rig(stop="EVConnected")
    transaction_id = energy_started(r)
    r.card()
    assert r.summary()[-1] == ("Updated", "StopAuthorized", "EVConnected")
    assert r.last()["idToken"] == TOKEN
    assert not r.cp.charging(1, r.now)
    r.unplug()
    ended = r.last()
    assert (ended["eventType"], ended["triggerReason"]) == ("Ended", "EVCommunicationLost")
    assert ended["transactionInfo"]["chargingState"] == "Idle"
    assert ended["transactionInfo"]["stoppedReason"] == "Local"
    assert ended["transactionInfo"]["transactionId"] == transaction_id


def test_TC_E_07_CS_stop_PowerPathClosed_local() -> None:
    r = rig(stop="PowerPathClosed")
    energy_started(r)
    r.card()
    ended = r.last()
    assert (ended["eventType"], ended["triggerReason"]) == ("Ended", "StopAuthorized")
    assert ended["transactionInfo"]["stoppedReason"] == "Local"
    assert ended["transactionInfo"]["chargingState"] == "EVConnected"


def test_TC_E_35_CS_stop_PowerPathClosed_remote() -> None:
    r = rig(stop="PowerPathClosed")
    transaction_id = energy_started(r)
    answer = r.csms.result("RequestStopTransaction", {"transactionId": transaction_id})
    assert answer["status"] == "Accepted"
    ended = r.last()
    assert (ended["eventType"], ended["triggerReason"]) == ("Ended", "RemoteStop")
    assert ended["transactionInfo"]["stoppedReason"] == "Remote"


def test_TC_E_21_CS_stop_StopAuthorized_remote() -> None:
    r = rig(stop="Authorized")
    transaction_id = energy_started(r)
    assert r.csms.result("RequestStopTransaction", {"transactionId": transaction_id}) == {
        "status": "Accepted"
    }
    ended = r.last()
    assert (ended["eventType"], ended["triggerReason"]) == ("Ended", "RemoteStop")
    assert ended["transactionInfo"]["stoppedReason"] == "Remote"


def test_TC_E_15_CS_stop_StopAuthorized_local() -> None:
    r = rig(stop="Authorized")
    energy_started(r)
    r.advance(10)
    r.card()
    ended = r.last()
    assert (ended["eventType"], ended["triggerReason"]) == ("Ended", "StopAuthorized")
    assert ended["transactionInfo"]["stoppedReason"] == "Local"


def test_TC_E_08_CS_stop_EnergyTransfer_StopAuthorized() -> None:
    """The card is reported (StopAuthorized), the transaction ends as the energy stops."""
    r = rig(stop="EnergyTransfer")
    energy_started(r)
    r.card()
    assert r.summary()[-2:] == [
        ("Updated", "StopAuthorized", "EVConnected"),
        ("Ended", "ChargingStateChanged", "EVConnected"),
    ]
    assert r.last()["transactionInfo"]["stoppedReason"] == "Local"


def test_TC_E_22_CS_stop_EnergyTransfer_SuspendedEV() -> None:
    r = rig(stop="EnergyTransfer")
    energy_started(r)
    r.ev_ready[1] = False  # the EV suspends the energy transfer
    r.csms.pump()
    ended = r.last()
    assert (ended["eventType"], ended["triggerReason"]) == ("Ended", "ChargingStateChanged")
    assert ended["transactionInfo"]["chargingState"] == "EVConnected"
    assert ended["transactionInfo"]["stoppedReason"] == "StoppedByEV"


def test_TC_E_14_CS_stop_EVDisconnected_station_side() -> None:
    r = rig(stop="EVConnected")
    energy_started(r)
    r.card()  # StopAuthorized, EVConnectedPostSession
    r.unplug()
    ended = r.last()
    assert (ended["eventType"], ended["triggerReason"]) == ("Ended", "EVCommunicationLost")
    assert ended["transactionInfo"]["chargingState"] == "Idle"
    assert ended["transactionInfo"]["stoppedReason"] in ("Local", "EVDisconnected")


@pytest.mark.parametrize("stop", ["EVConnected", "PowerPathClosed"])
def test_TC_E_20_CS_and_TC_E_37_CS_stop_EVDisconnected_ev_side(stop: str) -> None:
    r = rig(stop=stop, **{"TxCtrlr.StopTxOnEVSideDisconnect": "false"})
    energy_started(r)
    r.ev_ready[1] = False  # EnergyTransferSuspended
    r.csms.pump()
    r.unplug()
    ended = r.last()
    assert (ended["eventType"], ended["triggerReason"]) == ("Ended", "EVCommunicationLost")
    assert ended["transactionInfo"]["chargingState"] == "Idle"
    assert ended["transactionInfo"]["stoppedReason"] == "EVDisconnected"


def ev_side_rig(*, unlock: str) -> Rig201:
    """TxStopPoint Authorized, StopTxOnEVSideDisconnect true, UnlockOnEVSideDisconnect as given."""
    return rig(
        stop="Authorized",
        **{
            "TxCtrlr.StopTxOnEVSideDisconnect": "true",
            "OCPPCommCtrlr.UnlockOnEVSideDisconnect": unlock,
        },
    )


def test_TC_E_17_CS_deauthorized_ev_side_disconnect() -> None:
    r = ev_side_rig(unlock="false")
    energy_started(r)
    r.ev_ready[1] = False
    r.csms.pump()
    r.unplug()
    ended = r.last()
    assert (ended["eventType"], ended["triggerReason"]) == ("Ended", "EVCommunicationLost")
    assert ended["transactionInfo"]["chargingState"] == "Idle"
    assert ended["transactionInfo"]["stoppedReason"] == "EVDisconnected"
    assert r.locks[-1] == (1, True)  # UnlockOnEVSideDisconnect false: the cable stays locked


def test_TC_E_24_CS_ev_side_disconnect_unlocks() -> None:
    r = ev_side_rig(unlock="true")
    energy_started(r)
    r.unplug()
    assert r.summary()[-1] == ("Ended", "EVCommunicationLost", "Idle")
    assert r.locks[-1] == (1, False)


def test_TC_E_25_CS_ev_side_disconnect_keeps_lock() -> None:
    r = ev_side_rig(unlock="false")
    energy_started(r)
    r.unplug()
    assert r.summary()[-1] == ("Ended", "EVCommunicationLost", "Idle")
    assert (1, False) not in r.locks
    r.card("SOMEONE")  # another idToken does not release the cable
    assert (1, False) not in r.locks
    r.card()  # the idToken of the transaction does
    assert r.locks[-1] == (1, False)


def test_TC_E_26_CS_ev_side_disconnect_suspends() -> None:
    r = rig(stop="Authorized", **{"TxCtrlr.StopTxOnEVSideDisconnect": "false"})
    energy_started(r)
    r.unplug()
    assert r.summary()[-1] == ("Updated", "EVCommunicationLost", "Idle")
    assert r.cp.transaction(1).state == "running"
    r.plug()
    assert r.summary()[-2:] == [
        ("Updated", "CablePluggedIn", "EVConnected"),
        ("Updated", "ChargingStateChanged", "Charging"),
    ]


def test_TC_E_27_CS_ev_side_disconnect_suspends_then_times_out() -> None:
    r = rig(
        stop="Authorized",
        **{"TxCtrlr.StopTxOnEVSideDisconnect": "false", "TxCtrlr.EVConnectionTimeOut": "20"},
    )
    energy_started(r)
    r.unplug()
    assert r.summary()[-1] == ("Updated", "EVCommunicationLost", "Idle")
    r.advance(21)
    ended = r.last()
    assert (ended["eventType"], ended["triggerReason"]) == ("Ended", "EVConnectTimeout")
    assert ended["transactionInfo"]["stoppedReason"] == "Timeout"


def test_TC_E_19_CS_stop_ParkingBayUnoccupied() -> None:
    r = rig(
        "ParkingBayOccupancy",
        "ParkingBayOccupancy",
        **{"TxCtrlr.StopTxOnEVSideDisconnect": "false"},
    )
    r.occupied[1] = True
    energy_started(r)
    r.card()  # StopAuthorized
    r.unplug()  # EVDisconnected: the bay is still occupied
    assert r.last()["eventType"] == "Updated"
    r.occupied[1] = False  # the EV leaves
    r.csms.pump()
    ended = r.last()
    assert (ended["eventType"], ended["triggerReason"]) == ("Ended", "EVDeparted")
    assert ended["transactionInfo"]["stoppedReason"] == "Local"


# ---------------------------------------------------------------------- E05 invalid idToken


def test_TC_E_16_CS_deauthorized_invalid_idToken() -> None:
    """StartOfflineTransaction, then the CSMS answers the idToken Invalid: StopTxOnInvalidId."""
    r = rig(
        stop="Authorized,PowerPathClosed", **{"TxCtrlr.StopTxOnInvalidId": "true"}, **OFFLINE_TX
    )
    r.csms.disconnect()
    energy_started(r)
    r.csms.handlers["TransactionEvent"] = answer_token("Invalid")
    r.csms.connect()
    offline = [p for p in r.events_tx() if p["eventType"] != "Ended"]
    assert offline and all(p["offline"] is True for p in offline)
    ended = r.last()
    assert (ended["eventType"], ended["triggerReason"]) == ("Ended", "Deauthorized")
    assert ended["transactionInfo"]["stoppedReason"] == "DeAuthorized"
    assert "offline" not in ended


def test_E05_invalid_idToken_without_StopTxOnInvalidId_suspends() -> None:
    """E05 (TC_C_17's steps): StopTxOnInvalidId false, MaxEnergyOnInvalidId 0: the energy
    offer stops at once (SuspendedEVSE), the transaction goes on."""
    r = rig(**{"TxCtrlr.StopTxOnInvalidId": "false"})
    r.csms.handlers["TransactionEvent"] = answer_token("Invalid")
    r.card()
    r.plug()
    assert r.summary()[-1] == ("Updated", "Deauthorized", "SuspendedEVSE")
    assert r.cp.transaction(1).state == "running"
    assert not r.cp.charging(1, r.now)


def test_E05_MaxEnergyOnInvalidId_then_SuspendedEVSE() -> None:
    """E05 (TC_C_15's steps): StopTxOnInvalidId false, MaxEnergyOnInvalidId 500 Wh: the EV
    charges on until 500 Wh more have flowed, then the energy offer stops."""
    r = rig(**{"TxCtrlr.StopTxOnInvalidId": "false", "TxCtrlr.MaxEnergyOnInvalidId": "500"})
    r.csms.handlers["TransactionEvent"] = answer_token("Invalid")
    r.card()
    r.plug()
    r.advance(30, charging_w=36_000)  # 300 Wh
    assert r.cp.charging(1, r.now)
    assert all(p["triggerReason"] != "Deauthorized" for p in r.events_tx())
    r.advance(30, charging_w=36_000)  # 600 Wh
    assert ("Updated", "Deauthorized", "SuspendedEVSE") in r.summary()
    assert not r.cp.charging(1, r.now)
    assert r.cp.transaction(1).state == "running"


def test_E05_StopTxOnInvalidId_ends_at_once_whatever_MaxEnergyOnInvalidId() -> None:
    """E05 (TC_C_18's steps): StopTxOnInvalidId true deauthorizes at once, MaxEnergyOnInvalidId
    notwithstanding."""
    r = rig(**{"TxCtrlr.StopTxOnInvalidId": "true", "TxCtrlr.MaxEnergyOnInvalidId": "500"})
    r.csms.handlers["TransactionEvent"] = answer_token("Invalid")
    r.card()
    r.plug()
    ended = r.last()
    assert (ended["eventType"], ended["triggerReason"]) == ("Ended", "Deauthorized")
    assert ended["transactionInfo"]["stoppedReason"] == "DeAuthorized"
    assert "offline" not in ended


# ---------------------------------------------------------------------- E11-E14 queue, status


def test_TC_E_28_CS_status_unknown_transactionId() -> None:
    r = rig()
    assert r.csms.result("GetTransactionStatus", {"transactionId": "not-a-transaction"}) == {
        "ongoingIndicator": False,
        "messagesInQueue": False,
    }


def test_TC_E_29_CS_status_ongoing_with_messages_in_queue() -> None:
    r = rig(**{"SampledDataCtrlr.TxUpdatedInterval": "10"})
    transaction_id = energy_started(r)
    sent = len(r.events_tx())
    r.csms.disconnect()
    r.advance(25, charging_w=7000)  # periodic samples journaled while offline
    r.cp.connected(r.now)
    answer = r.csms.result("GetTransactionStatus", {"transactionId": transaction_id})
    assert answer == {"ongoingIndicator": True, "messagesInQueue": True}
    r.csms.pump()
    queued = r.events_tx()[sent:]
    assert queued and all(p["eventType"] == "Updated" and p["offline"] for p in queued)
    assert all("meterValue" in p and p["triggerReason"] == "MeterValuePeriodic" for p in queued)


def test_TC_E_30_CS_status_ongoing_without_messages_in_queue() -> None:
    r = rig()
    transaction_id = energy_started(r)
    assert r.csms.result("GetTransactionStatus", {"transactionId": transaction_id}) == {
        "ongoingIndicator": True,
        "messagesInQueue": False,
    }


def test_TC_E_31_CS_status_ended_with_messages_in_queue() -> None:
    r = rig()
    transaction_id = energy_started(r)
    r.csms.disconnect()
    r.card()
    r.unplug()
    r.cp.connected(r.now)
    answer = r.csms.result("GetTransactionStatus", {"transactionId": transaction_id})
    assert answer == {"ongoingIndicator": False, "messagesInQueue": True}
    r.csms.pump()
    assert r.last()["eventType"] == "Ended" and r.last()["offline"] is True


def test_TC_E_32_CS_status_ended_without_messages_in_queue() -> None:
    r = rig()
    transaction_id = energy_started(r)
    r.card()
    r.unplug()
    assert r.csms.result("GetTransactionStatus", {"transactionId": transaction_id}) == {
        "ongoingIndicator": False,
        "messagesInQueue": False,
    }


def test_TC_E_33_CS_status_without_id_with_messages_in_queue() -> None:
    r = rig()
    energy_started(r)
    r.csms.disconnect()
    r.ev_ready[1] = False
    r.csms.pump()  # nothing leaves while offline
    r.cp.connected(r.now)
    assert r.csms.result("GetTransactionStatus", {}) == {"messagesInQueue": True}
    r.csms.pump()
    assert r.last()["offline"] is True


def test_TC_E_34_CS_status_without_id_without_messages_in_queue() -> None:
    r = rig()
    assert r.csms.result("GetTransactionStatus", {}) == {"messagesInQueue": False}


def test_TC_E_40_CS_connection_loss_during_transaction() -> None:
    r = rig()
    energy_started(r)
    sent = len(r.events_tx())
    r.csms.disconnect()
    r.ev_ready[1] = False
    r.csms.pump()
    r.ev_ready[1] = True
    r.csms.pump()
    assert len(r.events_tx()) == sent
    r.csms.connect()
    queued = r.events_tx()[sent:]
    assert [p["transactionInfo"]["chargingState"] for p in queued] == ["SuspendedEV", "Charging"]
    assert all(p["offline"] is True for p in queued)
    assert [p["seqNo"] for p in r.events_tx()] == list(range(len(r.events_tx())))


def test_TC_E_43_CS_transaction_during_offline_period() -> None:
    r = rig(**OFFLINE_TX)
    r.csms.disconnect()
    energy_started(r)
    r.card()
    r.unplug()
    assert r.events_tx() == []
    r.csms.connect()
    events = r.events_tx()
    assert all(p["offline"] is True for p in events)
    assert events[0]["eventType"] == "Started" and events[-1]["eventType"] == "Ended"


def test_TC_E_44_CS_stop_transaction_during_offline_period() -> None:
    r = rig()
    energy_started(r)
    r.csms.disconnect()
    r.card()
    r.unplug()
    r.csms.connect()
    ended = r.last()
    assert ended["eventType"] == "Ended" and ended["offline"] is True
    assert ended["transactionInfo"]["stoppedReason"] == "Local"


def test_TC_E_41_CS_retry_until_max_attempts_no_answer() -> None:
    """E13: unanswered, the event is sent MessageAttempts times, each after
    MessageAttemptInterval x the sends before it + MessageTimeout, then given up."""
    attempts = 3
    r = rig(
        **{
            "OCPPCommCtrlr.MessageAttempts[TransactionEvent]": str(attempts),
            "OCPPCommCtrlr.MessageAttemptInterval[TransactionEvent]": "10",
        }
    )
    r.csms.handlers["TransactionEvent"] = lambda p: SILENT
    r.card()
    r.plug()
    r.advance(400)
    started = [
        (p, at) for _, a, p, at in r.csms.calls if a == "TransactionEvent" and p["seqNo"] == 0
    ]
    assert len(started) == attempts
    gaps = [b[1] - a[1] for a, b in itertools.pairwise(started)]
    assert gaps == [30 + 10 * 1, 30 + 10 * 2]  # MessageTimeout 30 s
    assert {d.reason for d in r.cp.discarded_messages()} == {"no response"}


def test_TC_E_42_CS_retry_success_before_max() -> None:
    r = rig(**{"OCPPCommCtrlr.MessageAttempts[TransactionEvent]": "3"})
    answers = iter([SILENT])
    r.csms.handlers["TransactionEvent"] = lambda p: next(answers, {})
    r.card()
    r.plug()
    r.advance(200)
    ids = [m for m, a, p, _ in r.csms.calls if a == "TransactionEvent" and p["seqNo"] == 0]
    assert len(ids) == 2 and ids[0] == ids[1]  # the same message, under the same id
    assert r.cp.queue_length() == 0 and r.cp.discarded_messages() == []


@pytest.mark.parametrize("attempts", [2, 3])
def test_TC_E_50_CS_retry_until_max_attempts_callerror(attempts: int) -> None:
    r = rig(
        **{
            "OCPPCommCtrlr.MessageAttempts[TransactionEvent]": str(attempts),
            "OCPPCommCtrlr.MessageAttemptInterval[TransactionEvent]": "5",
        }
    )
    r.csms.handlers["TransactionEvent"] = lambda p: Error("InternalError")
    r.card()
    r.plug()
    r.advance(100)
    sends = [p for _, a, p, _ in r.csms.calls if a == "TransactionEvent" and p["seqNo"] == 0]
    assert len(sends) == attempts
    discarded = r.cp.discarded_messages()
    assert discarded and discarded[0].attempts == attempts


def test_TC_E_51_CS_retry_success_before_max_callerror() -> None:
    r = rig(**{"OCPPCommCtrlr.MessageAttemptInterval[TransactionEvent]": "5"})
    answers = iter([Error("InternalError")])
    r.csms.handlers["TransactionEvent"] = lambda p: next(answers, {})
    r.card()
    r.plug()
    r.advance(20)
    sends = [p for _, a, p, _ in r.csms.calls if a == "TransactionEvent" and p["seqNo"] == 0]
    assert len(sends) == 2
    assert r.cp.queue_length() == 0 and r.cp.discarded_messages() == []


# ---------------------------------------------------------------------- restarts, API


def test_E_restart_mid_transaction_ends_it_with_PowerLoss() -> None:
    r = rig()
    transaction_id = energy_started(r)
    seq = r.last()["seqNo"]
    r.restart()
    ended = r.last()
    assert ended["transactionInfo"]["transactionId"] == transaction_id
    assert (ended["eventType"], ended["triggerReason"]) == ("Ended", "AbnormalCondition")
    assert ended["transactionInfo"]["stoppedReason"] == "PowerLoss"
    assert ended["seqNo"] == seq + 1
    assert r.cp.transaction(1) is None


def test_E_restart_resumes_a_transaction_when_asked() -> None:
    r = rig()
    transaction_id = energy_started(r)
    seq = r.last()["seqNo"]
    r.restart(resume_transactions_after_restart=True)
    info = r.cp.transaction(1)
    assert info.state == "running" and info.transaction_id == transaction_id
    assert r.cp.charging(1, r.now)
    r.card()
    ended = r.last()
    assert ended["eventType"] == "Ended" and ended["seqNo"] == seq + 1


def test_E_restart_while_offline_keeps_order_and_seqNo() -> None:
    r = rig(**OFFLINE_TX)
    r.csms.disconnect()
    energy_started(r)
    r.restart(connect=False)
    r.csms.connect()
    events = r.events_tx()
    assert [p["seqNo"] for p in events] == list(range(len(events)))
    assert events[-1]["transactionInfo"]["stoppedReason"] == "PowerLoss"
    assert r.cp.queue_length() == 0


def test_E_master_pass_stops_every_transaction() -> None:
    r = rig()
    energy_started(r, 1)
    energy_started(r, 2)
    sessions = r.cp._ops.sessions
    sessions.stop_all("MasterPass", r.now)
    r.csms.pump()
    ended = [p for p in r.events_tx() if p["eventType"] == "Ended"]
    assert len(ended) == 2
    assert {p["transactionInfo"]["stoppedReason"] for p in ended} == {"MasterPass"}
    assert {p["triggerReason"] for p in ended} == {"StopAuthorized"}


@pytest.mark.parametrize(
    ("reason", "trigger"),
    [
        ("ImmediateReset", "ResetCommand"),
        ("Reboot", "ResetCommand"),
        ("EmergencyStop", "AbnormalCondition"),
        ("TimeLimitReached", "TimeLimitReached"),
        ("EnergyLimitReached", "EnergyLimitReached"),
        ("Other", "AbnormalCondition"),
    ],
)
def test_E_end_with_any_reason(reason: str, trigger: str) -> None:
    r = rig()
    energy_started(r)
    assert r.cp.end_transaction(1, r.now, reason=reason)
    r.csms.pump()
    ended = r.last()
    assert ended["triggerReason"] == trigger
    assert ended["transactionInfo"]["stoppedReason"] == reason
    stopped = [e for e in r.events if isinstance(e, SessionStopped)]
    assert stopped[-1].reason == reason


def test_E_transaction_info_shows_id_and_seqNo() -> None:
    r = rig()
    transaction_id = energy_started(r)
    info = r.cp.transaction(1)
    assert info.transaction_id == transaction_id
    assert info.seq_no == r.last()["seqNo"]
    assert info.id_token_type == "ISO14443"


def test_TC_F_13_CS_trigger_TransactionEvent_specific_evse() -> None:
    r = rig()
    energy_started(r, 2)
    answer = r.csms.result(
        "TriggerMessage", {"requestedMessage": "TransactionEvent", "evse": {"id": 2}}
    )
    assert answer["status"] == "Accepted"
    triggered = r.last()
    assert (triggered["eventType"], triggered["triggerReason"]) == ("Updated", "Trigger")
    assert triggered["evse"]["id"] == 2
    assert triggered["transactionInfo"]["chargingState"] == "Charging"
    assert triggered["meterValue"][0]["sampledValue"][0]["context"] == "Trigger"


def test_TC_F_14_CS_trigger_TransactionEvent_all_evse() -> None:
    r = rig()
    energy_started(r, 1)
    energy_started(r, 2)
    sent = len(r.events_tx())
    answer = r.csms.result("TriggerMessage", {"requestedMessage": "TransactionEvent"})
    assert answer["status"] == "Accepted"
    triggered = r.events_tx()[sent:]
    assert sorted(p["evse"]["id"] for p in triggered) == [1, 2]
    assert {p["triggerReason"] for p in triggered} == {"Trigger"}
    assert all(p["meterValue"][0]["sampledValue"][0]["context"] == "Trigger" for p in triggered)


GROUP = {"idToken": "GROUP1", "type": "Central"}


def test_TC_E_45_CS_stop_offline_same_GroupId() -> None:
    """Authorized with a groupIdToken, then offline: another idToken of that group, known from
    the local list, stops the transaction (C09); the Ended leaves once online."""
    r = rig()
    r.csms.handlers["Authorize"] = lambda p: {
        "idTokenInfo": {"status": "Accepted", "groupIdToken": GROUP}
    }
    other = {"idToken": "TOKEN2", "type": "ISO14443"}
    listed = {"idToken": other, "idTokenInfo": {"status": "Accepted", "groupIdToken": GROUP}}
    answer = r.csms.result(
        "SendLocalList",
        {"versionNumber": 1, "updateType": "Full", "localAuthorizationList": [listed]},
    )
    assert answer["status"] == "Accepted"
    energy_started(r)
    r.csms.disconnect()
    r.card("TOKEN2")
    assert r.cp.transaction(1).state == "stopping"
    r.unplug()
    r.csms.connect()
    ended = r.last()
    assert ended["eventType"] == "Ended" and ended["offline"] is True
    assert ended["triggerReason"] == "StopAuthorized"
    assert ended["idToken"] == other


def test_C16_master_pass_card_stops_every_transaction_and_starts_none() -> None:
    r = rig(**{"AuthCtrlr.MasterPassGroupId": "MASTER"})
    energy_started(r, 1)
    energy_started(r, 2)
    master = {"idToken": "MASTER", "type": "Central"}
    r.csms.handlers["Authorize"] = lambda p: {
        "idTokenInfo": {"status": "Accepted", "groupIdToken": master}
    }
    r.card("BOSS", evse=1)
    ended = [p for p in r.events_tx() if p["eventType"] == "Ended"]
    assert {p["transactionInfo"]["stoppedReason"] for p in ended} == {"MasterPass"}
    assert len(ended) == 2
    r.card("BOSS", evse=1)  # C16.FR.03: a master pass starts nothing
    assert r.cp.transaction(1) is None
    assert len([p for p in r.events_tx() if p["eventType"] == "Started"]) == 2


def test_E_TxBeforeAcceptedEnabled_false_refuses_cards_before_Accepted() -> None:
    r = Rig201(boot=False, config={START: "PowerPathClosed"})
    r.plug()
    r.cp.present_card(1, "TOKEN1", r.now)
    assert r.cp.transaction(1) is None


def test_E_TxBeforeAcceptedEnabled_true_queues_until_Accepted() -> None:
    r = Rig201(boot=False, config={"TxCtrlr.TxBeforeAcceptedEnabled": "true", **OFFLINE_TX})
    r.plug()
    r.cp.present_card(1, "TOKEN1", r.now)
    assert r.cp.transaction(1).state == "running"
    assert r.events_tx() == []
    r.csms.connect()
    assert [p["eventType"] for p in r.events_tx()][:1] == ["Started"]
    actions = r.csms.actions()
    assert actions.index("BootNotification") < actions.index("TransactionEvent")


def test_E_meter_values_of_Started_and_Ended() -> None:
    """J02 through the metering block: Transaction.Begin in Started, Transaction.End in Ended."""
    r = rig()
    energy_started(r)
    r.advance(10, charging_w=3600)
    r.card()
    started, ended = r.events_tx()[0], r.last()
    begin = started["meterValue"][0]["sampledValue"][0]
    end = ended["meterValue"][-1]["sampledValue"][0]
    assert begin["context"] == "Transaction.Begin" and end["context"] == "Transaction.End"
    assert end["value"] > begin["value"]


def test_C10_idTokenInfo_of_a_TransactionEventResponse_updates_the_cache() -> None:
    """The CSMS answers the idToken Blocked in a TransactionEventResponse: the cache learns it,
    so offline the same card is refused although unknown idTokens would be accepted."""
    r = rig(**{"TxCtrlr.StopTxOnInvalidId": "true"}, **OFFLINE_TX)
    r.csms.handlers["TransactionEvent"] = answer_token("Blocked")
    r.card()
    r.plug()
    assert r.last()["transactionInfo"]["stoppedReason"] == "DeAuthorized"
    r.unplug()
    r.csms.disconnect()
    r.card("UNKNOWN", evse=2)
    assert r.cp.transaction(2).state == "preparing"  # an unknown idToken: accepted offline
    r.card(evse=1)
    assert r.cp.transaction(1) is None
    assert r.events_of_cancelled()[-1].reason == "Rejected"


def test_TC_E_52_CS_authorization_first_DisableRemoteAuthorization() -> None:
    r = rig(**{"AuthCtrlr.DisableRemoteAuthorization": "true"})
    r.card("NOTLISTED")
    assert r.csms.payloads("Authorize") == []
    assert r.cp.transaction(1) is None
    assert r.events_of_cancelled()[-1].reason == "Rejected"
    r.plug()
    assert r.events_tx() == []


def test_E_damaged_store_documents_never_cost_a_transaction() -> None:
    """A damaged record, an unreadable journal entry and one that is no TransactionEvent: each
    is reported as discarded and never blocks the transaction that is still intact."""
    r = rig(**OFFLINE_TX)
    r.csms.disconnect()
    transaction_id = energy_started(r)
    store = r.store
    store.save("tx/0000099999", "not a record")
    store.save("txmsg/0000099998", {"action": "TransactionEvent", "payload": {"seqNo": "x"}})
    store.save("txmsg/0000099999", ["not", "an", "entry"])
    r.restart()
    events = [p for p in r.events_tx() if p["transactionInfo"]["transactionId"] == transaction_id]
    assert [p["seqNo"] for p in events] == list(range(len(events)))
    assert events[-1]["transactionInfo"]["stoppedReason"] == "PowerLoss"
    assert r.cp.queue_length() == 0
    reasons = [d.reason for d in r.cp.discarded_messages()]
    assert len(reasons) == 3, reasons
    assert not [n for n in store.names("tx") if n.endswith(("99999", "99998"))]


def test_E_events_stamped_before_the_clock_was_set_are_corrected() -> None:
    """A transaction before the BootNotification (TxBeforeAcceptedEnabled), on a clock 1000 s
    behind: its events leave with the CSMS's time, as 1.6 corrects its messages."""
    from fake_csms import WALL_START

    from ocpp_core import Clock
    from ocpp_core.clock import parse_datetime

    r = Rig201(
        boot=False,
        config={"TxCtrlr.TxBeforeAcceptedEnabled": "true", **OFFLINE_TX},
        clock=Clock(wall_at_start=WALL_START - 1000, mono_at_start=0.0),
    )
    r.plug()
    r.cp.present_card(1, "TOKEN1", r.now)
    r.csms.advance(5)
    r.csms.connect()
    started = r.events_tx()[0]
    assert abs(parse_datetime(started["timestamp"]) - WALL_START) < 1


def test_E11_queue_limit_thins_periodic_values_and_keeps_Started_and_Ended() -> None:
    """Offline for long: the journal stays within its limit by dropping periodic meter values
    (each recorded as discarded), never the Started or Ended event; the seqNos the CSMS gets
    and those discarded make up the transaction's whole range."""
    from ocpp_core.v201.tx_journal import QUEUE_LIMIT

    r = rig(**{"SampledDataCtrlr.TxUpdatedInterval": "10"}, **OFFLINE_TX)
    r.csms.disconnect()
    energy_started(r)
    r.advance(12_000, charging_w=1000)
    assert r.cp.queue_length() <= QUEUE_LIMIT
    r.card()
    r.csms.connect()
    events = r.events_tx()
    kinds = [p["eventType"] for p in events]
    assert kinds[0] == "Started" and kinds[-1] == "Ended"
    dropped = [e for e in r.events_of(MessageDiscarded) if "journal full" in e.reason]
    seq_nos = [p["seqNo"] for p in events]
    assert seq_nos == sorted(seq_nos)
    assert dropped and len(seq_nos) + len(dropped) == seq_nos[-1] + 1


def test_G03_an_EVSE_made_inoperative_drops_a_waiting_authorization() -> None:
    """An authorization waiting for the cable is cancelled when ChangeAvailability makes the
    EVSE Inoperative, and the cable then starts nothing."""
    r = rig()
    r.card()
    answer = r.csms.result(
        "ChangeAvailability", {"operationalStatus": "Inoperative", "evse": {"id": 1}}
    )
    assert answer["status"] == "Accepted"
    r.csms.pump()
    assert r.cp.transaction(1) is None
    assert r.events_of_cancelled()[-1].reason == "Unavailable"
    r.plug()
    assert r.events_tx() == []


@pytest.mark.parametrize("evse", [0, 9])
def test_E_a_record_naming_no_EVSE_of_this_station_still_ends(evse: int) -> None:
    """A transaction whose record names EVSE 0 or one the station does not have (damaged, or
    the station has fewer EVSEs now) is ended with PowerLoss all the same, nothing raised."""
    r = rig(**OFFLINE_TX)
    r.csms.disconnect()
    transaction_id = energy_started(r)
    (name,) = [n for n in r.store.names("tx/")]
    record = r.store.load(name)
    r.store.save(name, {**record, "evse": evse})
    r.restart(resume_transactions_after_restart=True)
    ended = r.last()
    assert ended["transactionInfo"]["transactionId"] == transaction_id
    assert ended["transactionInfo"]["stoppedReason"] == "PowerLoss"


def test_E_timeSpentCharging_counts_Charging_and_survives_a_restart() -> None:
    """timeSpentCharging sums the time between the events that reported Charging and the next
    event; kept in the record across a restart (the time since the last event before a restart
    is not known to the new run: not counted)."""
    r = rig()
    energy_started(r)
    r.advance(100)
    r.ev_ready[1] = False  # SuspendedEV: not charging
    r.csms.pump()
    assert r.last()["transactionInfo"]["timeSpentCharging"] == 100
    r.advance(50)
    r.ev_ready[1] = True
    r.csms.pump()
    r.advance(20)
    r.restart(resume_transactions_after_restart=True)
    r.advance(10)
    r.card()
    ended = r.last()
    assert ended["eventType"] == "Ended"
    assert ended["transactionInfo"]["timeSpentCharging"] == 110  # 100 + (20 lost) + 10
