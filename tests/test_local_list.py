"""Local Authorization List (OCPP 1.6 §3.5.2-3.5.4, §5.10, §5.15, §9.2, errata 3.52; MicroOcpp
tests/LocalAuthList.cpp)."""

from __future__ import annotations

import pytest
from fake_csms import WALL_START
from tx_rig import Rig, start_session

from ocpp_core import AuthorizationResult
from ocpp_core.clock import format_datetime
from ocpp_core.v16 import auth_cache, local_list


def entry(id_tag: str, status: str | None = "Accepted", **info: str) -> dict:
    item: dict = {"idTag": id_tag}
    if status is not None:
        item["idTagInfo"] = {"status": status, **info}
    return item


def send(rig: Rig, version: int, update: str, *entries: dict) -> list:
    payload: dict = {"listVersion": version, "updateType": update}
    if entries:
        payload["localAuthorizationList"] = list(entries)
    return rig.csms.call("SendLocalList", payload)


def status_of(reply: list) -> str:
    assert reply[0] == 3, reply
    return reply[2]["status"]


def version(rig: Rig) -> int:
    return rig.csms.result("GetLocalListVersion", {})["listVersion"]


def results(rig: Rig) -> list[tuple[str, str, str]]:
    return [(e.id_tag, e.status, e.source) for e in rig.events_of(AuthorizationResult)]


def started(rig: Rig) -> list[str]:
    """The idTags of the StartTransactions the CSMS received."""
    return [p["idTag"] for p in rig.payloads("StartTransaction")]


def conflicts(rig: Rig) -> list[dict]:
    return [p for p in rig.payloads("StatusNotification") if p["errorCode"] == "LocalListConflict"]


# ---------------------------------------------------------------------- basic local auth


def test_basic_local_auth_local_pre_authorize() -> None:
    rig = Rig(config={"LocalPreAuthorize": "true"})
    status_of(send(rig, 1, "Full", entry("LISTED", parentIdTag="P")))
    rig.plug()
    rig.card("LISTED")
    assert "Authorize" not in rig.actions()
    assert results(rig) == [("LISTED", "Accepted", "local-list")]
    assert rig.cp.transaction(1).parent_id_tag == "P"


def test_basic_local_auth_local_authorize_offline() -> None:
    rig = Rig(config={"LocalAuthorizeOffline": "true", "AllowOfflineTxForUnknownId": "false"})
    status_of(send(rig, 1, "Full", entry("LISTED")))
    rig.offline()
    rig.plug()
    rig.card("LISTED")
    assert results(rig) == [("LISTED", "Accepted", "local-list")]
    assert rig.cp.transaction(1).state == "running"
    rig.online()
    assert started(rig) == ["LISTED"]
    assert rig.cp.transaction(1).transaction_id == 1001


def test_basic_local_auth_allow_offline_tx_for_unknown_id() -> None:
    rig = Rig(config={"AllowOfflineTxForUnknownId": "true"})
    status_of(send(rig, 1, "Full", entry("LISTED")))
    rig.offline()
    rig.plug()
    rig.card("STRANGER")
    assert results(rig) == [("STRANGER", "Accepted", "offline")]
    rig.online()
    assert started(rig) == ["STRANGER"]
    assert rig.cp.transaction(1).transaction_id == 1001


def test_local_auth_checks_the_online_status() -> None:
    rig = Rig(config={"LocalPreAuthorize": "false"})
    status_of(send(rig, 1, "Full", entry("LISTED")))
    rig.card("LISTED")  # online and no pre-authorization: the CSMS is asked
    assert rig.payloads("Authorize") == [{"idTag": "LISTED"}]
    assert results(rig) == [("LISTED", "Accepted", "csms")]


@pytest.mark.parametrize("status", ["Blocked", "Expired", "Invalid"])
def test_local_auth_unauthorized_entry_is_rejected_offline(status: str) -> None:
    rig = Rig(config={"AllowOfflineTxForUnknownId": "true"})
    status_of(send(rig, 1, "Full", entry("LISTED", status)))
    rig.offline()
    rig.plug()
    rig.card("LISTED")
    assert results(rig) == [("LISTED", status, "local-list")]  # §3.5.4 MUST be rejected
    assert rig.cp.transaction(1) is None
    rig.online()
    assert started(rig) == []


def test_local_auth_entry_expired_by_date_is_rejected_offline() -> None:
    rig = Rig(config={"AllowOfflineTxForUnknownId": "true", "LocalPreAuthorize": "true"})
    expiry = format_datetime(WALL_START + 100)
    status_of(send(rig, 1, "Full", entry("LISTED", expiryDate=expiry)))
    rig.card("LISTED")
    assert results(rig) == [("LISTED", "Accepted", "local-list")]
    rig.card("LISTED")
    rig.csms.advance(100)
    rig.offline()
    rig.plug()
    rig.card("LISTED")
    assert results(rig)[-1] == ("LISTED", "Expired", "local-list")
    assert rig.cp.transaction(1) is None
    rig.online()
    assert started(rig) == []


def test_mix_local_authorization_modes() -> None:
    rig = Rig(config={"LocalPreAuthorize": "true", "AllowOfflineTxForUnknownId": "false"})
    status_of(send(rig, 1, "Full", entry("LISTED")))
    rig.card("CACHED")  # authorized by the CSMS, then cached
    rig.card("CACHED")
    rig.card("LISTED", 1)
    rig.card("CACHED", 2)
    rig.card("STRANGER", 2)  # busy connector: judged for stopping only
    assert results(rig) == [
        ("CACHED", "Accepted", "csms"),
        ("LISTED", "Accepted", "local-list"),
        ("CACHED", "Accepted", "cache"),
        ("STRANGER", "Accepted", "csms"),
    ]
    assert rig.payloads("Authorize") == [{"idTag": "CACHED"}, {"idTag": "STRANGER"}]


def test_list_entries_are_not_added_to_the_cache() -> None:
    rig = Rig()
    status_of(send(rig, 1, "Full", entry("LISTED")))
    rig.card("LISTED")
    assert rig.store.load(auth_cache.DOCUMENT) is None


def test_the_list_takes_priority_over_the_cache() -> None:
    rig = Rig(config={"AllowOfflineTxForUnknownId": "false"})
    rig.card("TAG1")  # cached as Accepted
    rig.card("TAG1")
    status_of(send(rig, 1, "Full", entry("TAG1", "Blocked")))
    rig.offline()
    rig.card("TAG1")
    assert results(rig)[-1] == ("TAG1", "Blocked", "local-list")


# ---------------------------------------------------------------------- conflicts


def test_deauthorize_a_locally_authorized_transaction() -> None:
    rig = Rig(config={"StopTransactionOnInvalidId": "true"})
    status_of(send(rig, 1, "Full", entry("LISTED")))
    rig.offline()
    rig.plug()
    rig.card("LISTED")
    rig.csms.handlers["StartTransaction"] = lambda payload: {
        "transactionId": 3,
        "idTagInfo": {"status": "Invalid"},
    }
    rig.online()
    assert [a for a, _ in rig.tx_messages()] == ["StartTransaction", "StopTransaction"]
    assert rig.payloads("StopTransaction")[0]["reason"] == "DeAuthorized"
    assert len(conflicts(rig)) == 1  # §3.5.2: the list said Accepted


def test_local_list_conflict_on_authorize() -> None:
    rig = Rig()
    status_of(send(rig, 1, "Full", entry("LISTED", parentIdTag="P")))
    rig.csms.handlers["Authorize"] = lambda payload: {
        "idTagInfo": {"status": "Accepted", "parentIdTag": "OTHER"}
    }
    rig.card("LISTED")
    [conflict] = conflicts(rig)
    assert conflict["connectorId"] == 0
    rig.csms.handlers["Authorize"] = lambda payload: {
        "idTagInfo": {"status": "ConcurrentTx", "parentIdTag": "p"}
    }
    rig.card("LISTED", 2)  # ConcurrentTx counts as valid, the group matches: no conflict
    assert len(conflicts(rig)) == 1


# ---------------------------------------------------------------------- SendLocalList


def test_send_local_list_full_replaces_the_list() -> None:
    rig = Rig()
    assert version(rig) == 0
    assert status_of(send(rig, 5, "Full", entry("A"), entry("B"))) == "Accepted"
    assert version(rig) == 5
    assert status_of(send(rig, 6, "Full", entry("C"), entry("IGNORED", None))) == "Accepted"
    stored = rig.store.load(local_list.DOCUMENT)
    assert stored["listVersion"] == 6
    assert [item["idTag"] for item in stored["localAuthorizationList"]] == ["C"]


def test_send_local_list_differential_updates_and_deletes() -> None:
    rig = Rig(config={"LocalPreAuthorize": "true"})
    status_of(send(rig, 1, "Full", entry("A"), entry("B")))
    reply = send(rig, 2, "Differential", entry("A", "Blocked"), entry("B", None), entry("C"))
    assert status_of(reply) == "Accepted"
    assert version(rig) == 2
    rig.card("C", 1)
    rig.card("B", 2)
    assert results(rig) == [("C", "Accepted", "local-list"), ("B", "Accepted", "csms")]
    items = rig.store.load(local_list.DOCUMENT)["localAuthorizationList"]
    assert {i["idTag"]: i["idTagInfo"]["status"] for i in items} == {
        "A": "Blocked",
        "C": "Accepted",
    }


@pytest.mark.parametrize("new_version", [3, 2])
def test_send_local_list_differential_version_mismatch(new_version: int) -> None:
    rig = Rig()
    status_of(send(rig, 3, "Full", entry("A")))
    assert status_of(send(rig, new_version, "Differential", entry("B"))) == "VersionMismatch"
    assert version(rig) == 3


def test_send_local_list_failed_beyond_local_auth_list_max_length() -> None:
    rig = Rig(config={"LocalAuthListMaxLength": "2"})
    status_of(send(rig, 1, "Full", entry("A"), entry("B")))
    assert status_of(send(rig, 2, "Differential", entry("C"))) == "Failed"
    assert status_of(send(rig, 3, "Full", entry("C"), entry("D"), entry("E"))) == "Failed"
    assert version(rig) == 1


def test_send_local_list_limits() -> None:
    rig = Rig(config={"SendLocalListMaxLength": "2"})
    reply = send(rig, 1, "Full", entry("A"), entry("B"), entry("C"))
    assert reply[2:] == [
        "OccurenceConstraintViolation",
        "More than SendLocalListMaxLength (2) entries",
        {"SendLocalListMaxLength": 2},
    ]
    for bad in (0, -1):
        reply = send(rig, bad, "Full", entry("A"))
        assert reply[2] == "PropertyConstraintViolation"  # errata 3.52
    assert version(rig) == 0


def test_send_local_list_storage_failure_is_failed() -> None:
    rig = Rig()
    status_of(send(rig, 1, "Full", entry("A")))
    store = rig.store
    original = store.save

    def failing(name: str, value: object) -> None:
        if name == local_list.DOCUMENT:
            raise OSError("disk full")
        original(name, value)

    store.save = failing
    assert status_of(send(rig, 2, "Differential", entry("B"))) == "Failed"
    assert version(rig) == 1


def test_an_emptied_list_has_version_zero() -> None:
    rig = Rig()
    status_of(send(rig, 4, "Full", entry("A")))
    assert status_of(send(rig, 5, "Differential", entry("A", None))) == "Accepted"
    assert version(rig) == 0
    assert rig.store.load(local_list.DOCUMENT) is None
    assert status_of(send(rig, 7, "Full")) == "Accepted"
    assert version(rig) == 0


def test_local_auth_list_enabled_false() -> None:
    rig = Rig(config={"AllowOfflineTxForUnknownId": "false"})
    status_of(send(rig, 2, "Full", entry("LISTED")))
    rig.csms.result("ChangeConfiguration", {"key": "LocalAuthListEnabled", "value": "false"})
    assert version(rig) == -1
    assert status_of(send(rig, 3, "Full", entry("X"))) == "NotSupported"
    rig.offline()
    rig.card("LISTED")
    assert results(rig) == [("LISTED", "Unknown", "offline")]  # a disabled list is not used
    rig.online()
    rig.csms.result("ChangeConfiguration", {"key": "LocalAuthListEnabled", "value": "true"})
    assert version(rig) == 2  # kept meanwhile


def test_local_list_persistency() -> None:
    rig = Rig(config={"LocalPreAuthorize": "true"})
    status_of(send(rig, 9, "Full", entry("LISTED", parentIdTag="P")))
    rig.restart()
    assert version(rig) == 9
    rig.card("LISTED")
    assert results(rig) == [("LISTED", "Accepted", "local-list")]


def test_an_unreadable_stored_list_starts_empty() -> None:
    rig = Rig()
    rig.store.save(local_list.DOCUMENT, {"listVersion": "nine"})
    rig.restart()
    assert version(rig) == 0


def test_get_local_list_version() -> None:
    rig = Rig()
    assert version(rig) == 0
    status_of(send(rig, 42, "Full", entry("A")))
    assert version(rig) == 42


def test_the_group_of_a_listed_card_stops_without_authorize() -> None:
    rig = Rig(config={"LocalPreAuthorize": "true"})
    status_of(
        send(rig, 1, "Full", entry("MUM", parentIdTag="FAM"), entry("DAD", parentIdTag="FAM"))
    )
    start_session(rig, "MUM")
    rig.card("DAD")
    assert "Authorize" not in rig.actions()
    assert rig.payloads("StopTransaction")[0]["idTag"] == "DAD"


def test_supported_feature_profiles_announce_local_auth_list_management() -> None:
    rig = Rig()
    profiles = rig.cp.get_configuration("SupportedFeatureProfiles").split(",")
    assert "LocalAuthListManagement" in profiles
    assert "Core" in profiles
