"""OCPP 2.0.1 remote control: RequestStartTransaction, RequestStopTransaction, UnlockConnector
(F01-F03, F05; part 6 TC_F_01..TC_F_10 _CS).

Block-level tests first, against ``Sessions``, a stand-in for the transaction block behind the
``RemoteSessions`` seam (what remote control decides itself: unknown EVSEs and connectors,
profiles, every UnlockConnector status); then the part 6 test cases with the real transaction
block against the fake CSMS.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest
from block_peers import block_of
from ev201 import Ev, tx_events
from fake_csms201 import booted201, station201

from ocpp_core import ChargePoint
from ocpp_core.v201.remote_control import RemoteControlBlock

TOKEN = {"idToken": "RFID-1", "type": "ISO14443"}
TX_PROFILE = {
    "id": 7,
    "stackLevel": 0,
    "chargingProfilePurpose": "TxProfile",
    "chargingProfileKind": "Relative",
    "chargingSchedule": [
        {
            "id": 1,
            "chargingRateUnit": "A",
            "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 6.0, "numberPhases": 3}],
        }
    ],
}


class Sessions:
    """A stand-in for the transaction block: records the requests, answers as configured."""

    def __init__(self, cp: ChargePoint) -> None:
        block_of(cp, RemoteControlBlock).transactions = self
        self.starts: list[tuple[Any, ...]] = []
        self.stops: list[str] = []
        self.start_answer: tuple[str, str | None] = ("Accepted", None)
        self.authorized: set[int] = set()

    def remote_start(
        self,
        evse: int | None,
        id_token: dict[str, Any],
        remote_start_id: int,
        group_id_token: dict[str, Any] | None,
        charging_profile: dict[str, Any] | None,
        now: float,
    ) -> tuple[str, str | None]:
        self.starts.append((evse, id_token, remote_start_id, group_id_token, charging_profile))
        return self.start_answer

    def remote_stop(self, transaction_id: str, now: float) -> str:
        self.stops.append(transaction_id)
        return "Accepted" if transaction_id == "tx-1" else "Rejected"

    def authorized_transaction(self, evse: int) -> bool:
        return evse in self.authorized


def stub() -> tuple[ChargePoint, Any, Sessions]:
    cp, csms = booted201()
    return cp, csms, Sessions(cp)


# ---------------------------------------------------------------------- RequestStartTransaction


def test_F01_request_start_hands_every_field_to_the_transaction_block() -> None:
    _cp, csms, sessions = stub()
    group = {"idToken": "GROUP", "type": "Central"}
    request = {
        "remoteStartId": 42,
        "idToken": TOKEN,
        "evseId": 2,
        "groupIdToken": group,
        "chargingProfile": TX_PROFILE,
    }
    assert csms.result("RequestStartTransaction", request) == {"status": "Accepted"}
    assert sessions.starts == [(2, TOKEN, 42, group, TX_PROFILE)]
    assert csms.result("RequestStartTransaction", {"remoteStartId": 43, "idToken": TOKEN}) == {
        "status": "Accepted"
    }
    assert sessions.starts[-1] == (None, TOKEN, 43, None, None)  # the block picks the EVSE


def test_F01_a_transaction_already_running_is_named_in_the_answer() -> None:
    _cp, csms, sessions = stub()
    sessions.start_answer = ("Accepted", "tx-9")
    answer = csms.result("RequestStartTransaction", {"remoteStartId": 1, "idToken": TOKEN})
    assert answer == {"status": "Accepted", "transactionId": "tx-9"}
    sessions.start_answer = ("Rejected", None)
    answer = csms.result("RequestStartTransaction", {"remoteStartId": 2, "idToken": TOKEN})
    assert answer == {"status": "Rejected"}


@pytest.mark.parametrize("evse", [0, 3, 999])
def test_F01_request_start_on_an_evse_the_station_lacks_is_rejected(evse: int) -> None:
    _cp, csms, sessions = stub()
    answer = csms.result(
        "RequestStartTransaction", {"remoteStartId": 1, "idToken": TOKEN, "evseId": evse}
    )
    assert answer["status"] == "Rejected"
    assert sessions.starts == []


@pytest.mark.parametrize(
    "change",
    [{"chargingProfilePurpose": "TxDefaultProfile"}, {"transactionId": "tx-1"}],
    ids=["not a TxProfile", "names a transaction"],
)
def test_F01_a_charging_profile_that_cannot_be_the_new_transactions_is_rejected(
    change: dict[str, Any],
) -> None:
    _cp, csms, sessions = stub()
    request = {"remoteStartId": 1, "idToken": TOKEN, "chargingProfile": {**TX_PROFILE, **change}}
    assert csms.result("RequestStartTransaction", request)["status"] == "Rejected"
    assert sessions.starts == []


# ---------------------------------------------------------------------- RequestStopTransaction


def test_F03_request_stop_asks_the_transaction_block() -> None:
    _cp, csms, sessions = stub()
    assert csms.result("RequestStopTransaction", {"transactionId": "tx-1"}) == {
        "status": "Accepted"
    }
    assert csms.result("RequestStopTransaction", {"transactionId": "other"}) == {
        "status": "Rejected"
    }
    assert sessions.stops == ["tx-1", "other"]


# ---------------------------------------------------------------------- UnlockConnector


def unlock(csms: Any, evse: float = 1, connector: float = 1) -> str:
    answer = csms.result("UnlockConnector", {"evseId": evse, "connectorId": connector})
    return str(answer["status"])


@pytest.mark.parametrize(("evse", "connector"), [(0, 1), (3, 1), (1, 2), (1, 999), (1, 0)])
def test_F05_FR_03_unknown_evse_or_connector(evse: int, connector: int) -> None:
    _cp, csms, _sessions = stub()
    assert unlock(csms, evse, connector) == "UnknownConnector"


def test_F05_FR_02_an_authorized_transaction_keeps_its_connector_locked() -> None:
    cp, csms, sessions = stub()
    driven: list[bool] = []
    cp.connector(1).lock = driven.append
    sessions.authorized.add(1)
    assert unlock(csms, 1) == "OngoingAuthorizedTransaction"
    assert driven == []
    assert unlock(csms, 2) == "Unlocked"  # the other EVSE has none


def test_F05_FR_04_unlocked_by_driving_the_lock_open() -> None:
    cp, csms, _sessions = stub()
    driven: list[bool] = []
    cp.connector(2).lock = driven.append
    assert unlock(csms, 2) == "Unlocked"
    assert driven == [False]


def test_F05_a_lock_that_does_not_open_is_unlock_failed(caplog: pytest.LogCaptureFixture) -> None:
    cp, csms, _sessions = stub()
    cp.connector(1).lock = lambda locked: False
    assert unlock(csms, 1) == "UnlockFailed"

    def jammed(locked: bool) -> None:
        raise OSError("motor stalled")

    cp.connector(1).lock = jammed
    with caplog.at_level(logging.ERROR):
        assert unlock(csms, 1) == "UnlockFailed"
    assert "lock output of connector 1 failed" in caplog.text


def test_F05_no_lock_fitted_is_unlocked() -> None:
    cp, csms, _sessions = stub()
    assert cp.connector(1).lock is None
    assert unlock(csms, 1) == "Unlocked"


# ---------------------------------------------------------------------- part 6 test cases


def authorized_remote(csms: Any, evse: int = 1, remote_start_id: int = 42) -> dict[str, Any]:
    """Reusable state Authorized (remote): RequestStartTransaction, Accepted."""
    request = {"remoteStartId": remote_start_id, "idToken": TOKEN, "evseId": evse}
    answer = csms.result("RequestStartTransaction", request)
    assert answer["status"] == "Accepted"
    return dict(answer)


def first_after_remote_start(csms: Any, remote_start_id: int = 42) -> dict[str, Any]:
    """The first TransactionEvent after a RequestStartTransaction: RemoteStart, its id, the
    idToken (part 6 general tool rules)."""
    event = tx_events(csms)[0]
    assert event["triggerReason"] == "RemoteStart"
    assert event["transactionInfo"]["remoteStartId"] == remote_start_id
    assert event["idToken"] == TOKEN
    return event


def energy_transfer_started(csms: Any, cp: ChargePoint, evse: int = 1) -> None:
    """Reusable state EnergyTransferStarted: the transaction reports chargingState Charging."""
    csms.pump()
    assert cp.charging(evse, csms.now)
    states = [e["transactionInfo"].get("chargingState") for e in tx_events(csms)]
    assert "Charging" in states


def test_TC_F_01_CS_remote_start_transaction_cable_plugin_first() -> None:
    cp, csms = booted201()
    ev = Ev(cp, 1)
    ev.plugged = True  # EVConnectedPreSession
    csms.pump()
    csms.clear()
    authorized_remote(csms)
    csms.pump()
    assert "Authorize" not in csms.actions()  # AuthorizeRemoteStart false (the default)
    event = first_after_remote_start(csms)
    assert event["eventType"] == "Started"
    assert event["evse"] == {"id": 1, "connectorId": 1}
    energy_transfer_started(csms, cp)


def test_TC_F_01_CS_a_transaction_already_started_by_the_cable_is_named_in_the_answer() -> None:
    """F01: TxStartPoint EVConnected started the transaction before the remote start."""
    cp, csms = booted201(config_defaults={"TxCtrlr.TxStartPoint": "EVConnected"})
    ev = Ev(cp, 1)
    ev.plugged = True
    csms.pump()
    (started,) = tx_events(csms, "Started")
    csms.clear()
    answer = authorized_remote(csms)
    assert answer["transactionId"] == started["transactionInfo"]["transactionId"]
    csms.pump()
    event = first_after_remote_start(csms)
    assert event["eventType"] == "Updated"
    energy_transfer_started(csms, cp)


def test_TC_F_02_CS_remote_start_first_authorize_remote_start_true() -> None:
    cp, csms = booted201(config_defaults={"AuthCtrlr.AuthorizeRemoteStart": "true"})
    ev = Ev(cp, 1)
    authorized_remote(csms)
    csms.pump()
    assert csms.payloads("Authorize") == [{"idToken": TOKEN}]
    ev.plugged = True  # within EVConnectionTimeOut
    csms.pump()
    first_after_remote_start(csms)
    energy_transfer_started(csms, cp)


def test_TC_F_03_CS_remote_start_first_authorize_remote_start_false() -> None:
    cp, csms = booted201(config_defaults={"AuthCtrlr.AuthorizeRemoteStart": "false"})
    ev = Ev(cp, 1)
    authorized_remote(csms)
    csms.advance(5)
    ev.plugged = True
    csms.pump()
    assert "Authorize" not in csms.actions()
    first_after_remote_start(csms)
    energy_transfer_started(csms, cp)


def test_TC_F_04_CS_remote_start_first_cable_plugin_timeout() -> None:
    config = {"TxCtrlr.EVConnectionTimeOut": "30", "TxCtrlr.TxStartPoint": "Authorized"}
    cp, csms = booted201(config_defaults=config)
    ev = Ev(cp, 1)
    authorized_remote(csms)
    csms.pump()
    first_after_remote_start(csms)
    csms.advance(31)
    (ended,) = tx_events(csms, "Ended")
    assert ended["triggerReason"] == "EVConnectTimeout"
    csms.clear()
    authorized_remote(csms, remote_start_id=43)  # step 3: the EVSE takes another session
    csms.pump()
    first_after_remote_start(csms, 43)
    ev.plugged = True
    energy_transfer_started(csms, cp)


def started_transaction(evse: int = 1) -> tuple[ChargePoint, Any, Ev, str]:
    """Reusable state EnergyTransferStarted after a card: the transaction and its id."""
    cp, csms = booted201()
    ev = Ev(cp, evse)
    ev.plugged = True
    csms.pump()
    cp.present_card(evse, "RFID-1", csms.now)
    energy_transfer_started(csms, cp, evse)
    info = cp.transaction(evse)
    assert info is not None and isinstance(info.transaction_id, str)
    csms.clear()
    return cp, csms, ev, info.transaction_id


def test_TC_F_05_CS_remote_unlock_connector_with_ongoing_transaction() -> None:
    cp, csms, _, _ = started_transaction()
    driven: list[bool] = []
    cp.connector(1).lock = driven.append
    assert unlock(csms, 1, 1) == "OngoingAuthorizedTransaction"
    assert driven == []
    assert cp.charging(1, csms.now) and tx_events(csms) == []


def test_TC_F_06_CS_remote_unlock_connector_without_ongoing_transaction_accepted() -> None:
    cp, csms = booted201()
    ev = Ev(cp, 2)
    ev.plugged = True  # a cable in, no transaction
    csms.pump()
    driven: list[bool] = []
    cp.connector(2).lock = driven.append
    assert unlock(csms, 2, 1) == "Unlocked"
    assert driven == [False]


def test_TC_F_07_CS_remote_unlock_connector_without_ongoing_transaction_no_cable() -> None:
    cp, csms = booted201()
    Ev(cp, 1)
    driven: list[bool] = []
    cp.connector(1).lock = driven.append
    assert unlock(csms, 1, 1) == "Unlocked"
    assert driven == [False]


def test_TC_F_08_CS_remote_stop_transaction_success() -> None:
    cp, csms, _, transaction_id = started_transaction()
    answer = csms.result("RequestStopTransaction", {"transactionId": transaction_id})
    assert answer == {"status": "Accepted"}
    csms.pump()
    stop = tx_events(csms)[0]
    assert stop["triggerReason"] == "RemoteStop"
    assert stop["transactionInfo"]["transactionId"] == transaction_id
    (ended,) = tx_events(csms, "Ended")
    assert ended["transactionInfo"]["stoppedReason"] == "Remote"
    assert not cp.charging(1, csms.now)


def test_TC_F_09_CS_remote_stop_transaction_rejected() -> None:
    cp, csms, _, transaction_id = started_transaction()
    answer = csms.result("RequestStopTransaction", {"transactionId": transaction_id[::-1]})
    assert answer == {"status": "Rejected"}
    csms.pump()
    assert tx_events(csms) == [] and cp.charging(1, csms.now)


def test_TC_F_10_CS_remote_unlock_connector_unknown_connector() -> None:
    _, csms = booted201()
    assert unlock(csms, 1, 999) == "UnknownConnector"


def test_F01_a_remote_start_with_a_tx_profile_starts_and_keeps_the_profile() -> None:
    """F01: a RequestStartTransaction with a TxProfile starts the transaction; the profile stays
    with the session (TransactionInfo.charging_profile) for the smart-charging block."""
    cp, csms = booted201()
    ev = Ev(cp, 1)
    ev.plugged = True  # EVConnectedPreSession
    csms.pump()
    csms.clear()
    request = {"remoteStartId": 5, "idToken": TOKEN, "evseId": 1, "chargingProfile": TX_PROFILE}
    assert csms.result("RequestStartTransaction", request)["status"] == "Accepted"
    csms.pump()
    first_after_remote_start(csms, 5)
    energy_transfer_started(csms, cp)
    info = cp.transaction(1)
    assert info is not None and info.charging_profile == TX_PROFILE


def test_B02_request_start_while_the_boot_is_pending_is_rejected() -> None:
    """TC_B_02_CS step 12: a station not yet registered starts nothing for the CSMS."""
    cp, csms = station201()
    csms.handlers["BootNotification"] = lambda payload: {
        "status": "Pending",
        "currentTime": csms.wall_text(),
        "interval": 60,
    }
    csms.connect()
    assert cp.registration == "Pending"
    request = {"remoteStartId": 1, "idToken": TOKEN, "evseId": 1}
    assert csms.result("RequestStartTransaction", request)["status"] == "Rejected"
    assert cp.transaction(1) is None
    csms.handlers["BootNotification"] = csms._boot
    csms.advance(61)
    assert cp.registration == "Accepted"
    assert csms.result("RequestStartTransaction", request)["status"] == "Accepted"


def test_integers_written_as_decimals_are_integers() -> None:
    """JSON schema integers may be written 1.0: answered as 1, never an InternalError."""
    _cp, csms, sessions = stub()
    assert unlock(csms, 1.0, 1.0) == "Unlocked"
    sessions.authorized.add(2)
    assert unlock(csms, 2.0, 1) == "OngoingAuthorizedTransaction"
    request = {"remoteStartId": 7.0, "idToken": TOKEN, "evseId": 2.0}
    assert csms.result("RequestStartTransaction", request)["status"] == "Accepted"
    assert sessions.starts[-1][:3] == (2, TOKEN, 7)
    assert type(sessions.starts[-1][0]) is int and type(sessions.starts[-1][2]) is int
