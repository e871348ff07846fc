"""Authorization: Authorize, the Authorization Cache, ClearCache and the offline rules (OCPP 1.6
§3.5, §3.5.1, §3.5.4, §4.1, §5.4, §9.1; errata 3.4/3.23; MicroOcpp
tests/ConfigurationBehavior.cpp AllowOfflineTxForUnknownId / LocalPreAuthorize)."""

from __future__ import annotations

import pytest
from fake_csms import SILENT, WALL_START, Error
from tx_rig import Rig, start_session

from ocpp_core import AuthorizationResult, SessionCancelled
from ocpp_core.clock import format_datetime
from ocpp_core.v16 import auth_cache


def results(rig: Rig) -> list[tuple[str, str, str]]:
    return [(e.id_tag, e.status, e.source) for e in rig.events_of(AuthorizationResult)]


def answer(rig: Rig, status: str, **info: str) -> None:
    rig.csms.handlers["Authorize"] = lambda payload: {"idTagInfo": {"status": status, **info}}


def cached(rig: Rig) -> dict[str, dict]:
    return {e["idTag"]: e["idTagInfo"] for e in rig.store.load(auth_cache.DOCUMENT) or []}


# ---------------------------------------------------------------------- Authorize


def test_authorize_accepted_is_reported() -> None:
    rig = Rig()
    start_session(rig)
    assert rig.payloads("Authorize") == [{"idTag": "TAG1"}]
    assert results(rig) == [("TAG1", "Accepted", "csms")]


@pytest.mark.parametrize("status", ["Blocked", "Expired", "Invalid", "ConcurrentTx"])
def test_authorize_not_accepted_cancels_the_session(status: str) -> None:
    rig = Rig()
    answer(rig, status)
    rig.plug()
    rig.card("TAG1")
    assert rig.cp.transaction(1) is None
    assert "StartTransaction" not in rig.actions()
    assert results(rig) == [("TAG1", status, "csms")]
    assert rig.events_of(SessionCancelled) == [SessionCancelled(1, "TAG1", "Rejected")]


@pytest.mark.parametrize(("allow", "outcome"), [("false", None), ("true", "running")])
def test_authorize_timeout_applies_the_offline_rules(allow: str, outcome: str | None) -> None:
    rig = Rig(config={"AllowOfflineTxForUnknownId": allow, "MessageTimeout": "20"})
    rig.csms.handlers["Authorize"] = lambda payload: SILENT
    rig.plug()
    rig.card("TAG1")
    rig.csms.advance(19)
    assert rig.cp.transaction(1).state == "authorizing"
    rig.csms.advance(1)
    info = rig.cp.transaction(1)
    assert (info and info.state) == outcome
    status = "Accepted" if allow == "true" else "Unknown"
    assert results(rig) == [("TAG1", status, "offline")]


def test_authorize_callerror_applies_the_offline_rules() -> None:
    rig = Rig(config={"AllowOfflineTxForUnknownId": "true"})
    rig.csms.handlers["Authorize"] = lambda payload: Error("InternalError")
    start_session(rig)
    assert results(rig) == [("TAG1", "Accepted", "offline")]


def test_authorize_lost_with_the_connection_applies_the_offline_rules() -> None:
    rig = Rig()
    rig.csms.handlers["Authorize"] = lambda payload: SILENT
    rig.card("TAG1")
    assert rig.cp.transaction(1).state == "authorizing"
    rig.offline()
    rig.pump()
    assert rig.cp.transaction(1) is None
    assert results(rig) == [("TAG1", "Unknown", "offline")]
    rig.online()
    assert rig.actions().count("Authorize") == 1  # not sent again: decided already


def test_authorize_deadline_counts_from_the_presentation() -> None:
    rig = Rig(config={"MessageTimeout": "30", "ConnectionTimeOut": "0"})
    rig.csms.handlers["DataTransfer"] = lambda payload: SILENT  # blocks the outbox for 30 s
    rig.cp.send_data_transfer("Vendor", now=rig.now)
    rig.pump()
    rig.csms.advance(10)
    rig.csms.handlers["Authorize"] = lambda payload: SILENT
    rig.card("TAG1")
    rig.csms.advance(20)  # the DataTransfer times out; 10 s are left for the Authorize
    assert [now for _, action, _, now in rig.csms.calls if action == "Authorize"] == [30]
    assert rig.cp.transaction(1).state == "authorizing"
    rig.csms.advance(10)
    assert rig.cp.transaction(1) is None
    assert results(rig) == [("TAG1", "Unknown", "offline")]


def test_offline_cards_are_decided_locally_without_authorize() -> None:
    rig = Rig(config={"AllowOfflineTxForUnknownId": "true"})
    rig.offline()
    rig.plug()
    rig.card("TAG1")
    assert rig.cp.transaction(1).state == "running"
    rig.online()
    assert "Authorize" not in rig.actions()
    assert rig.payloads("StartTransaction")[0]["idTag"] == "TAG1"


def test_allow_offline_tx_for_unknown_id_false_rejects_offline() -> None:
    rig = Rig(config={"AllowOfflineTxForUnknownId": "false"})
    rig.offline()
    rig.plug()
    rig.card("TAG1")
    assert rig.cp.transaction(1) is None
    assert results(rig) == [("TAG1", "Unknown", "offline")]
    rig.online()
    assert "StartTransaction" not in rig.actions()


def test_before_the_boot_is_accepted_the_offline_rules_apply() -> None:
    rig = Rig(boot=False, config={"AllowOfflineTxForUnknownId": "false"})
    rig.csms.handlers["BootNotification"] = lambda payload: {
        "status": "Pending",
        "currentTime": rig.csms.wall_text(),
        "interval": 60,
    }
    rig.csms.connect()
    rig.card("TAG1")
    assert results(rig) == [("TAG1", "Unknown", "offline")]
    assert "Authorize" not in rig.actions()


# ---------------------------------------------------------------------- Authorization Cache


def test_authorization_cache_authorizes_offline() -> None:
    rig = Rig(config={"AllowOfflineTxForUnknownId": "false"})
    answer(rig, "Accepted", parentIdTag="FAMILY")
    rig.card("TAG1")
    rig.card("TAG1")
    assert cached(rig) == {"TAG1": {"status": "Accepted", "parentIdTag": "FAMILY"}}
    rig.offline()
    rig.clear()
    rig.plug()
    rig.card("TAG1")
    assert results(rig) == [("TAG1", "Accepted", "cache")]
    assert rig.cp.transaction(1).parent_id_tag == "FAMILY"


def test_authorization_cache_not_valid_entry_rejects_offline() -> None:
    rig = Rig(config={"AllowOfflineTxForUnknownId": "true"})
    answer(rig, "Blocked")
    rig.card("TAG1")
    rig.offline()
    rig.clear()
    rig.card("TAG1")
    assert results(rig) == [("TAG1", "Blocked", "cache")]  # §3.5.4: MUST be rejected
    assert rig.cp.transaction(1) is None


def test_authorization_cache_entries_are_checked_again_online() -> None:
    rig = Rig()
    answer(rig, "Blocked")
    rig.card("TAG1")
    answer(rig, "Accepted")
    rig.card("TAG1")  # §3.5.1: a NOT-valid entry online -> Authorize
    assert rig.actions().count("Authorize") == 2
    assert rig.cp.transaction(1).state == "preparing"
    assert cached(rig)["TAG1"] == {"status": "Accepted"}


@pytest.mark.parametrize("pre_authorize", [True, False])
def test_local_pre_authorize(pre_authorize: bool) -> None:
    rig = Rig(config={"LocalPreAuthorize": str(pre_authorize).lower()})
    rig.card("TAG1")
    rig.card("TAG1")
    rig.clear()
    rig.plug()
    rig.card("TAG1")
    assert rig.cp.transaction(1).state == "running"
    assert ("Authorize" in rig.actions()) is not pre_authorize
    source = "cache" if pre_authorize else "csms"
    assert results(rig) == [("TAG1", "Accepted", source)]


def test_local_authorize_offline_false_ignores_the_cache_offline() -> None:
    rig = Rig(config={"LocalAuthorizeOffline": "false"})
    rig.card("TAG1")
    rig.card("TAG1")
    rig.offline()
    rig.clear()
    rig.card("TAG1")
    assert results(rig) == [("TAG1", "Unknown", "offline")]


def test_an_expired_cache_entry_is_marked_expired() -> None:
    rig = Rig()
    expiry = format_datetime(WALL_START + 60)
    answer(rig, "Accepted", expiryDate=expiry)
    rig.card("TAG1")
    rig.card("TAG1")
    rig.csms.advance(61)
    rig.offline()
    rig.clear()
    rig.card("TAG1")
    assert results(rig) == [("TAG1", "Expired", "cache")]
    assert cached(rig)["TAG1"]["status"] == "Expired"


def test_the_cache_learns_from_start_and_stop_transaction_answers() -> None:
    rig = Rig()
    rig.csms.handlers["StartTransaction"] = lambda payload: {
        "transactionId": 1,
        "idTagInfo": {"status": "Accepted", "parentIdTag": "P"},
    }
    rig.csms.handlers["StopTransaction"] = lambda payload: {"idTagInfo": {"status": "Expired"}}
    start_session(rig)
    assert cached(rig)["TAG1"] == {"status": "Accepted", "parentIdTag": "P"}
    rig.card("TAG1")
    assert cached(rig)["TAG1"] == {"status": "Expired"}


def test_the_cache_survives_a_restart() -> None:
    rig = Rig()
    rig.card("TAG1")
    rig.card("TAG1")
    rig.restart(connect=False)
    rig.card("TAG1")
    assert results(rig)[-1] == ("TAG1", "Accepted", "cache")


def test_the_cache_can_be_disabled() -> None:
    rig = Rig(config={"AuthorizationCacheEnabled": "false"})
    rig.card("TAG1")
    rig.card("TAG1")
    assert rig.store.load(auth_cache.DOCUMENT) is None
    rig.offline()
    rig.card("TAG1")
    assert results(rig)[-1] == ("TAG1", "Unknown", "offline")


def test_a_full_cache_drops_not_valid_entries_first_then_the_oldest() -> None:
    rig = Rig()
    statuses = {"BAD": "Blocked"}
    rig.csms.handlers["Authorize"] = lambda payload: {
        "idTagInfo": {"status": statuses.get(payload["idTag"], "Accepted")}
    }
    tags = ["OLD", "BAD"] + [f"T{n}" for n in range(auth_cache.CAPACITY - 2)]
    for tag in tags:
        rig.card(tag)
        rig.card(tag)
    assert len(cached(rig)) == auth_cache.CAPACITY
    for tag in ("NEW1", "NEW2"):
        rig.card(tag)
        rig.card(tag)
    entries = cached(rig)
    assert "BAD" not in entries and "OLD" not in entries
    assert {"NEW1", "NEW2", "T0"} <= entries.keys()


def test_clear_cache_clears_the_cache_and_nothing_else() -> None:
    rig = Rig(config={"HeartbeatInterval": "123"})
    rig.csms.result(
        "SendLocalList",
        {
            "listVersion": 3,
            "updateType": "Full",
            "localAuthorizationList": [{"idTag": "LISTED", "idTagInfo": {"status": "Accepted"}}],
        },
    )
    rig.card("TAG1")
    rig.card("TAG1")
    rig.offline()
    rig.plug(2)
    rig.card("OFF", 2)  # cached? no: unknown, but a transaction is queued meanwhile
    rig.cp.begin_transaction(2, "LISTED", rig.now)
    rig.online()
    before = {name: rig.store.load(name) for name in rig.store.names()}
    assert rig.csms.result("ClearCache", {}) == {"status": "Accepted"}
    after = {name: rig.store.load(name) for name in rig.store.names()}
    assert set(before) - set(after) == {auth_cache.DOCUMENT}
    assert all(after[name] == before[name] for name in after)
    assert rig.csms.result("GetLocalListVersion", {}) == {"listVersion": 3}
    rig.offline()
    rig.clear()
    rig.card("TAG1")
    assert results(rig) == [("TAG1", "Unknown", "offline")]


def test_the_optional_keys_announce_their_features() -> None:
    rig = Rig()
    listed = {
        e["key"]: (e["value"], e["readonly"])
        for e in rig.csms.result("GetConfiguration", {})["configurationKey"]
    }
    assert listed["AuthorizationCacheEnabled"] == ("true", False)
    assert listed["MaxEnergyOnInvalidId"] == ("0", False)
    assert listed["AllowOfflineTxForUnknownId"] == ("false", False)
    assert listed["LocalAuthListEnabled"] == ("true", False)
    assert listed["LocalAuthListMaxLength"][1] is True
    assert listed["SendLocalListMaxLength"][1] is True
