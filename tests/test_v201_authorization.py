"""OCPP 2.0.1 authorization: Authorize and its statuses (C01, C04, C06), idToken types and
additionalInfo, GroupId (C09), offline rules (C13, C15), master pass (C16), AuthCtrlr; part 6
TC_C_02, 04, 05, 06, 07, 56, 15-18, 26, 39, 41, 42, 44, 45, 49.
"""

from __future__ import annotations

import pytest
from block_peers import block_of
from fake_csms import SILENT, Error
from tx_rig201 import Rig201

from ocpp_core.events import AuthorizationResult
from ocpp_core.store import MemoryStore
from ocpp_core.v201 import auth_cache
from ocpp_core.v201.authorization import AuthorizationBlock

GROUP = {"idToken": "FAMILY", "type": "Central"}
MASTER = {"idToken": "POLICE", "type": "Central"}
PRE_AUTHORIZE = {"AuthCtrlr.LocalPreAuthorize": "true"}
TIMEOUT = 30  # OCPPCommCtrlr.MessageTimeout


def token(value: str, kind: str = "ISO14443") -> dict:
    return {"idToken": value, "type": kind}


def answers(rig: Rig201, infos: dict[str, dict]) -> None:
    """The CSMS answers AuthorizeRequests and TransactionEvents with these idTokenInfos."""

    def info(payload: dict) -> dict:
        return infos.get(payload["idToken"]["idToken"], {"status": "Invalid"})

    rig.csms.handlers["Authorize"] = lambda p: {"idTokenInfo": info(p)}
    rig.csms.handlers["TransactionEvent"] = lambda p: (
        {"idTokenInfo": info(p)} if "idToken" in p else {}
    )


def grouped(rig: Rig201, **statuses: str) -> None:
    """The CSMS answers these idTokens with these statuses, all of GROUP."""
    answers(rig, {t: {"status": st, "groupIdToken": GROUP} for t, st in statuses.items()})


def seeded(*entries: tuple[str, dict], config: dict | None = None) -> Rig201:
    store = MemoryStore()
    store.save(auth_cache.DOCUMENT, [{"idToken": token(t), "idTokenInfo": i} for t, i in entries])
    return Rig201(store=store, config=config)


def energy_transfer_started(rig: Rig201, token_value: str = "TOKEN1", evse: int = 1) -> None:
    rig.plug(evse)
    rig.card(token_value, evse=evse)
    rig.advance(2, charging_w=7000)
    assert rig.cp.charging(evse, rig.now)
    rig.csms.clear()


def tx_events(rig: Rig201, evse: int | None = None) -> list[dict]:
    return [
        p
        for p in rig.events_tx()
        if evse is None or p.get("evse", {}).get("id", evse) == evse or "evse" not in p
    ]


def decisions(rig: Rig201) -> list[tuple[str, str, str]]:
    return [(e.id_tag, e.status, e.source) for e in rig.events_of(AuthorizationResult)]


# ------------------------------------------------------------------ C01 local start, not accepted


@pytest.mark.parametrize(
    ("tc", "status"),
    [
        ("TC_C_02", "Invalid"),
        ("TC_C_06", "Blocked"),
        ("TC_C_07", "Expired"),
        ("TC_C_56", "Unknown"),
    ],
)
def test_TC_C_02_06_07_56_CS_local_start_not_accepted(tc: str, status: str) -> None:
    """C01.FR.02: an idToken the CSMS does not accept starts no transaction."""
    rig = Rig201()
    rig.plug()  # EVConnectedPreSession
    answers(rig, {"BAD": {"status": status}})
    rig.card("BAD", token_type="KeyCode")
    assert rig.payloads("Authorize") == [{"idToken": token("BAD", "KeyCode")}]
    rig.advance(TIMEOUT)
    assert rig.events_tx() == []
    assert not rig.cp.charging(1, rig.now)
    assert decisions(rig)[-1] == ("BAD", status, "csms")


def test_TC_C_05_CS_local_start_invalid_with_cable_lock_card_first() -> None:
    rig = Rig201()
    answers(rig, {})
    rig.card("BAD")
    assert rig.payloads("Authorize") == [{"idToken": token("BAD")}]
    rig.advance(TIMEOUT)
    rig.plug()
    assert rig.events_tx() == []
    assert not rig.cp.charging(1, rig.now)


def test_TC_C_04_CS_a_different_idtoken_does_not_stop_the_transaction() -> None:
    rig = Rig201()
    energy_transfer_started(rig)
    rig.card("OTHER")
    assert rig.payloads("Authorize") == [{"idToken": token("OTHER")}]
    rig.advance(TIMEOUT, charging_w=7000)
    assert rig.payloads("Authorize") == [{"idToken": token("OTHER")}]
    assert [p["eventType"] for p in rig.events_tx()] in ([], ["Updated"] * len(rig.events_tx()))
    assert all(p["triggerReason"] != "StopAuthorized" for p in rig.events_tx())
    assert rig.cp.charging(1, rig.now)


@pytest.mark.parametrize(
    "kind", ["ISO14443", "ISO15693", "KeyCode", "eMAID", "Central", "Local", "MacAddress"]
)
def test_C01_C04_C06_every_idtoken_type_is_authorized_by_the_CSMS(kind: str) -> None:
    rig = Rig201()
    rig.plug()
    rig.card("ID-1", token_type=kind)
    assert rig.payloads("Authorize") == [{"idToken": token("ID-1", kind)}]
    assert rig.events_tx()[0]["idToken"] == token("ID-1", kind)


def test_C02_NoAuthorization_starts_without_authorize() -> None:
    rig = Rig201()
    rig.plug()
    rig.card("BUTTON", token_type="NoAuthorization")
    assert "Authorize" not in rig.actions()
    assert rig.events_tx()[0]["idToken"] == token("BUTTON", "NoAuthorization")
    assert decisions(rig) == [("BUTTON", "Accepted", "unauthorized")]


def test_AuthCtrlr_Enabled_false_authorizes_every_idtoken_without_asking() -> None:
    rig = Rig201(config={"AuthCtrlr.Enabled": "false"})
    rig.csms.handlers["Authorize"] = lambda p: {"idTokenInfo": {"status": "Invalid"}}
    rig.plug()
    rig.card("ANY")
    assert "Authorize" not in rig.actions()
    assert rig.cp.charging(1, rig.now)


def test_AuthCtrlr_DisableRemoteAuthorization_uses_only_list_and_cache() -> None:
    rig = seeded(
        ("CACHED", {"status": "Accepted"}), config={"AuthCtrlr.DisableRemoteAuthorization": "true"}
    )
    rig.plug(2)
    rig.card("UNKNOWN", evse=2)
    assert not rig.cp.charging(2, rig.now)
    rig.plug()
    rig.card("CACHED")
    assert rig.cp.charging(1, rig.now)  # even without LocalPreAuthorize
    assert "Authorize" not in rig.actions()
    assert decisions(rig) == [("UNKNOWN", "Unknown", "not-found"), ("CACHED", "Accepted", "cache")]


def test_C01_idTokenInfo_evseId_limits_the_idtoken_to_those_evses() -> None:
    rig = Rig201()
    answers(rig, {"CARD": {"status": "Accepted", "evseId": [2]}})
    rig.plug()
    rig.card("CARD")
    assert not rig.cp.charging(1, rig.now)
    rig.plug(2)
    rig.card("CARD", evse=2)
    assert rig.cp.charging(2, rig.now)


def test_C01_additionalInfo_is_sent_within_AdditionalInfoItemsPerMessage() -> None:
    rig = Rig201(config={"AuthCtrlr.AdditionalInfoItemsPerMessage": "2"})
    block = block_of(rig.cp, AuthorizationBlock)
    extra = [{"additionalIdToken": f"X{n}", "type": "contract"} for n in range(3)]
    got = []
    block.authorize(
        1, {**token("CARD"), "additionalInfo": extra}, rig.now, lambda d, at: got.append(d)
    )
    rig.pump()
    assert rig.payloads("Authorize") == [
        {"idToken": {**token("CARD"), "additionalInfo": extra[:2]}}
    ]
    assert got[0].accepted and got[0].source == "csms"


# ------------------------------------------------------------------ no usable answer: offline rules


def test_C15_no_answer_within_MessageTimeout_is_decided_offline_unknown() -> None:
    rig = Rig201()
    rig.csms.handlers["Authorize"] = lambda p: SILENT
    rig.plug()
    rig.card("CARD")
    rig.advance(TIMEOUT + 1)
    assert decisions(rig) == [("CARD", "Unknown", "offline")]
    assert not rig.cp.charging(1, rig.now)


def test_C15_a_callerror_with_OfflineTxForUnknownIdEnabled_authorizes() -> None:
    rig = Rig201(config={"AuthCtrlr.OfflineTxForUnknownIdEnabled": "true"})
    rig.csms.handlers["Authorize"] = lambda p: Error("InternalError")
    rig.plug()
    rig.card("CARD")
    assert decisions(rig) == [("CARD", "Accepted", "offline")]
    assert rig.cp.charging(1, rig.now)


def test_C13_FR_04_offline_a_cached_idtoken_is_not_unknown() -> None:
    """Errata C13.FR.04: only an idToken in neither the cache nor the list is 'unknown'."""
    rig = seeded(
        ("BLOCKED", {"status": "Blocked"}),
        config={"AuthCtrlr.OfflineTxForUnknownIdEnabled": "true"},
    )
    rig.offline()
    rig.plug()
    rig.card("BLOCKED")
    assert decisions(rig) == [("BLOCKED", "Blocked", "cache")]
    assert not rig.cp.charging(1, rig.now)


def test_C15_a_card_presented_then_offline_before_sending_is_decided_offline() -> None:
    rig = seeded(("CARD", {"status": "Accepted"}))
    rig.plug()
    rig.cp.present_card(1, "CARD", rig.now)  # not polled: the AuthorizeRequest is not sent yet
    rig.offline()
    assert decisions(rig) == [("CARD", "Accepted", "cache")]  # LocalAuthorizeOffline
    assert rig.cp.charging(1, rig.now)


def test_TC_C_26_CS_offline_transaction_for_an_unknown_id() -> None:
    rig = Rig201(
        config={
            "AuthCtrlr.LocalPreAuthorize": "true",
            "AuthCtrlr.OfflineTxForUnknownIdEnabled": "true",
            "TxCtrlr.StopTxOnInvalidId": "false",
            "TxCtrlr.MaxEnergyOnInvalidId": "0",
        }
    )
    rig.offline()
    rig.plug()
    rig.card("STRANGER")  # StartOfflineTransaction: unknown, authorized offline
    rig.advance(3, charging_w=7000)
    assert rig.cp.charging(1, rig.now)
    answers(rig, {})  # the CSMS answers the idToken with Invalid
    rig.online()
    offline_events = rig.events_tx()
    assert len(offline_events) >= 2
    assert all(p["offline"] is True for p in offline_events[:2])  # the queued ones
    assert any(p["transactionInfo"].get("chargingState") == "SuspendedEVSE" for p in offline_events)
    assert not rig.cp.charging(1, rig.now)
    rig.card("STRANGER")  # the idToken of the transaction, presented again
    rig.unplug()
    stop = [p for p in rig.events_tx() if p["triggerReason"] == "StopAuthorized"]
    assert stop and stop[0]["eventType"] == "Ended"


# ------------------------------------------------------- C12 offline with the cache (TC_C_15..18)


def offline_cached_start(config: dict) -> Rig201:
    rig = seeded(
        ("TOKEN1", {"status": "Accepted"}),
        config={**PRE_AUTHORIZE, "AuthCtrlr.LocalAuthorizeOffline": "true", **config},
    )
    rig.plug()
    rig.offline()  # the OCTT closes the connection
    rig.card("TOKEN1")
    rig.advance(5, charging_w=7000)
    assert rig.cp.charging(1, rig.now)
    answers(rig, {"TOKEN1": {"status": "Invalid"}})
    rig.online()
    return rig


def test_TC_C_16_CS_cached_offline_start_then_invalid_with_StopTxOnInvalidId() -> None:
    rig = offline_cached_start({"TxCtrlr.StopTxOnInvalidId": "true"})
    sent = rig.events_tx()
    authorized = [p for p in sent if p["triggerReason"] == "Authorized"]
    assert (
        authorized
        and authorized[0]["offline"] is True
        and authorized[0]["idToken"] == token("TOKEN1")
    )
    assert any(p["triggerReason"] == "Deauthorized" for p in sent)
    assert not rig.cp.charging(1, rig.now)  # energy flow stops on status Invalid


def test_TC_C_17_CS_cached_offline_start_then_invalid_without_StopTxOnInvalidId() -> None:
    rig = offline_cached_start({"TxCtrlr.StopTxOnInvalidId": "false"})
    sent = rig.events_tx()
    assert any(p["transactionInfo"].get("chargingState") == "SuspendedEVSE" for p in sent)
    assert not any(p["triggerReason"] == "SuspendedEVSE" for p in sent)  # not a triggerReason
    assert all(p["eventType"] != "Ended" for p in sent)  # suspended, not stopped
    assert not rig.cp.charging(1, rig.now)


def test_TC_C_15_CS_without_StopTxOnInvalidId_MaxEnergyOnInvalidId_is_delivered() -> None:
    rig = offline_cached_start(
        {"TxCtrlr.StopTxOnInvalidId": "false", "TxCtrlr.MaxEnergyOnInvalidId": "500"}
    )
    assert rig.cp.charging(1, rig.now)  # up to 500 Wh more
    assert not any(p["triggerReason"] == "Deauthorized" for p in rig.events_tx())
    rig.advance(600, charging_w=7000)  # 1167 Wh offered
    assert not rig.cp.charging(1, rig.now)


def test_TC_C_18_CS_with_StopTxOnInvalidId_and_MaxEnergyOnInvalidId_deauthorized_online() -> None:
    rig = offline_cached_start(
        {"TxCtrlr.StopTxOnInvalidId": "true", "TxCtrlr.MaxEnergyOnInvalidId": "500"}
    )
    deauthorized = [p for p in rig.events_tx() if p["triggerReason"] == "Deauthorized"]
    assert deauthorized and deauthorized[0].get("offline", False) is False
    assert not rig.cp.charging(1, rig.now)


# ------------------------------------------------------------------ C09 GroupId


def test_TC_C_39_CS_an_idtoken_of_the_same_group_stops_the_transaction() -> None:
    rig = Rig201()
    grouped(rig, TOKEN1="Accepted", TOKEN2="Accepted")
    energy_transfer_started(rig)
    rig.card("TOKEN2")
    assert rig.payloads("Authorize") == [{"idToken": token("TOKEN2")}]
    stop = [p for p in rig.events_tx() if p["triggerReason"] == "StopAuthorized"]
    assert stop and stop[0]["idToken"] == token("TOKEN2")
    rig.unplug()
    assert rig.events_tx()[-1]["eventType"] == "Ended"


def test_TC_C_41_CS_same_group_from_the_cache_stops_without_authorize() -> None:
    rig = seeded(
        ("TOKEN1", {"status": "Accepted", "groupIdToken": GROUP}),
        ("TOKEN2", {"status": "Accepted", "groupIdToken": GROUP}),
        config=PRE_AUTHORIZE,
    )
    energy_transfer_started(rig)
    rig.card("TOKEN2")
    assert "Authorize" not in rig.actions()
    assert any(p["triggerReason"] == "StopAuthorized" for p in rig.events_tx())
    assert not rig.cp.charging(1, rig.now)


def test_TC_C_42_CS_an_invalid_idtoken_of_the_group_does_not_stop() -> None:
    rig = Rig201()
    grouped(rig, TOKEN1="Accepted", BAD="Invalid")
    energy_transfer_started(rig)
    rig.card("BAD")
    assert rig.payloads("Authorize") == [{"idToken": token("BAD")}]
    rig.advance(TIMEOUT, charging_w=7000)
    assert all(p["triggerReason"] != "StopAuthorized" for p in rig.events_tx())
    assert rig.cp.charging(1, rig.now)  # C09.FR.11


def test_TC_C_44_CS_an_invalid_cached_idtoken_of_the_group_is_asked_about_and_does_not_stop() -> (
    None
):
    rig = seeded(
        ("TOKEN1", {"status": "Accepted", "groupIdToken": GROUP}),
        ("BAD", {"status": "Invalid", "groupIdToken": GROUP}),
        config=PRE_AUTHORIZE,
    )
    grouped(rig, TOKEN1="Accepted", BAD="Invalid")
    energy_transfer_started(rig)
    rig.card("BAD")
    assert rig.payloads("Authorize") == [{"idToken": token("BAD")}]
    assert all(p["triggerReason"] != "StopAuthorized" for p in rig.events_tx())
    assert rig.cp.charging(1, rig.now)


# ------------------------------------------------------------------ C16 master pass


def test_TC_C_45_CS_a_master_pass_does_not_start_a_transaction() -> None:
    rig = Rig201(config={"AuthCtrlr.MasterPassGroupId": "police"})  # any case
    answers(rig, {"MASTER": {"status": "Accepted", "groupIdToken": MASTER}})
    rig.card("MASTER")
    assert rig.payloads("Authorize") == [{"idToken": token("MASTER")}]
    rig.plug()  # EVConnectedPreSession
    rig.advance(5)
    assert not rig.cp.charging(1, rig.now)
    assert not any(
        p["transactionInfo"].get("chargingState") == "Charging" for p in rig.events_tx()
    )  # C16.FR.03


def test_TC_C_49_CS_a_master_pass_without_UI_stops_every_transaction() -> None:
    rig = Rig201(config={"AuthCtrlr.MasterPassGroupId": "POLICE"})
    answers(
        rig,
        {
            "TOKEN1": {"status": "Accepted"},
            "TOKEN2": {"status": "Accepted"},
            "MASTER": {"status": "Accepted", "groupIdToken": MASTER},
        },
    )
    energy_transfer_started(rig, "TOKEN1", evse=1)
    energy_transfer_started(rig, "TOKEN2", evse=2)
    rig.card("MASTER")
    assert rig.payloads("Authorize") == [{"idToken": token("MASTER")}]
    ended = [
        p for p in rig.events_tx() if p["transactionInfo"].get("stoppedReason") == "MasterPass"
    ]
    assert len({p["transactionInfo"]["transactionId"] for p in ended}) == 2
    assert not rig.cp.charging(1, rig.now) and not rig.cp.charging(2, rig.now)
