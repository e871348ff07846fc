"""OCPP 2.0.1 Local Authorization List: SendLocalList (D01), GetLocalListVersion (D02), its use
for authorization online (C14) and offline (C13), LocalAuthListCtrlr, persistence.

Part 6 has no TC_D_*_CS test cases yet ("intentionally blank"), so the tests are named after
the use cases and requirements.
"""

from __future__ import annotations

import logging

import pytest
from fake_csms201 import booted201
from tx_rig201 import Rig201

from ocpp_core.store import FileStore, MemoryStore
from ocpp_core.v201 import local_list

CARD = {"idToken": "CARD1", "type": "ISO14443"}


def entry(token: str, status: str | None = "Accepted", kind: str = "ISO14443", **info) -> dict:
    item: dict = {"idToken": {"idToken": token, "type": kind}}
    if status is not None:
        item["idTokenInfo"] = {"status": status, **info}
    return item


def send(csms, version: int, update: str, *items: dict) -> dict:
    payload: dict = {"versionNumber": version, "updateType": update}
    if items:
        payload["localAuthorizationList"] = list(items)
    return csms.result("SendLocalList", payload)


def list_version(csms) -> int:
    return csms.result("GetLocalListVersion", {})["versionNumber"]


def variable(csms, name: str) -> str:
    answer = csms.result(
        "GetVariables",
        {
            "getVariableData": [
                {"component": {"name": "LocalAuthListCtrlr"}, "variable": {"name": name}}
            ]
        },
    )
    result = answer["getVariableResult"][0]
    assert result["attributeStatus"] == "Accepted", result
    return result["attributeValue"]


def listed(rig: Rig201, *tokens: dict) -> None:
    """The rig's CSMS installs a Full list (version 1) and forgets the traffic so far."""
    assert send(rig.csms, 1, "Full", *tokens)["status"] == "Accepted"
    rig.csms.clear()


# ------------------------------------------------------------------ D02 GetLocalListVersion


def test_D02_FR_02_no_list_installed_is_version_0() -> None:
    _cp, csms = booted201()
    assert list_version(csms) == 0
    assert variable(csms, "Entries") == "0"


# ------------------------------------------------------------------ D01 SendLocalList


def test_D01_FR_01_full_list_is_installed_with_its_version() -> None:
    _cp, csms = booted201()
    answer = send(csms, 3, "Full", entry("A"), entry("B", "Blocked"))
    assert answer == {"status": "Accepted"}
    assert list_version(csms) == 3
    assert variable(csms, "Entries") == "2"
    assert int(variable(csms, "Storage")) > 0


def test_D01_full_list_replaces_the_previous_one() -> None:
    cp, csms = booted201()
    send(csms, 1, "Full", entry("A"), entry("B"))
    assert send(csms, 2, "Full", entry("C"))["status"] == "Accepted"
    stored = cp._engine.ctx.store.load(local_list.DOCUMENT)
    assert [item["idToken"]["idToken"] for item in stored["localAuthorizationList"]] == ["C"]
    assert stored["versionNumber"] == 2


def test_D01_full_list_without_entries_empties_the_list() -> None:
    _cp, csms = booted201()
    send(csms, 1, "Full", entry("A"))
    assert send(csms, 5, "Full")["status"] == "Accepted"
    assert variable(csms, "Entries") == "0"
    assert list_version(csms) == 5  # a list, empty, with the version the CSMS gave it


def test_D01_differential_updates_adds_and_removes_entries() -> None:
    cp, csms = booted201()
    send(csms, 1, "Full", entry("A"), entry("B"))
    answer = send(csms, 2, "Differential", entry("A", "Blocked"), entry("B", None), entry("C"))
    assert answer["status"] == "Accepted"
    stored = cp._engine.ctx.store.load(local_list.DOCUMENT)
    items = {
        i["idToken"]["idToken"]: i["idTokenInfo"]["status"]
        for i in stored["localAuthorizationList"]
    }
    assert items == {"A": "Blocked", "C": "Accepted"}
    assert list_version(csms) == 2


@pytest.mark.parametrize("new_version", [4, 3])
def test_D01_differential_not_above_the_current_version_is_VersionMismatch(
    new_version: int,
) -> None:
    _cp, csms = booted201()
    send(csms, 4, "Full", entry("A"))
    answer = send(csms, new_version, "Differential", entry("B"))
    assert answer["status"] == "VersionMismatch"
    assert list_version(csms) == 4
    assert variable(csms, "Entries") == "1"


@pytest.mark.parametrize("bad_version", [0, -1])
def test_D01_FR_18_version_must_be_above_0(bad_version: int) -> None:
    _cp, csms = booted201()
    send(csms, 2, "Full", entry("A"))
    answer = send(csms, bad_version, "Full", entry("B"))
    assert answer == {"status": "Failed", "statusInfo": {"reasonCode": "ValuePositiveOnly"}}
    assert list_version(csms) == 2


def test_D01_more_items_than_ItemsPerMessage_is_Failed() -> None:
    _cp, csms = booted201(config_defaults={"LocalAuthListCtrlr.ItemsPerMessage": "2"})
    answer = send(csms, 1, "Full", entry("A"), entry("B"), entry("C"))
    assert answer == {"status": "Failed", "statusInfo": {"reasonCode": "TooManyElements"}}
    assert list_version(csms) == 0


def test_D01_a_request_above_BytesPerMessage_is_Failed() -> None:
    _cp, csms = booted201(config_defaults={"LocalAuthListCtrlr.BytesPerMessage": "150"})
    answer = send(csms, 1, "Full", *(entry(f"TOKEN{n:04}") for n in range(5)))
    assert answer == {"status": "Failed", "statusInfo": {"reasonCode": "TooLargeElement"}}
    assert send(csms, 1, "Full", entry("A"))["status"] == "Accepted"


def test_D01_FR_12_no_more_entries_than_the_maxLimit_of_Entries() -> None:
    _cp, csms = booted201()
    per_message = int(variable(csms, "ItemsPerMessage"))
    total = 0
    version = 1
    while total < local_list.MAX_ENTRIES:
        count = min(per_message, local_list.MAX_ENTRIES - total)
        items = [entry(f"T{total + n}") for n in range(count)]
        answer = send(csms, version, "Full" if version == 1 else "Differential", *items)
        assert answer["status"] == "Accepted"
        total, version = total + count, version + 1
    answer = send(csms, version, "Differential", entry("ONE-TOO-MANY"))
    assert answer == {"status": "Failed", "statusInfo": {"reasonCode": "OutOfStorage"}}
    assert variable(csms, "Entries") == str(local_list.MAX_ENTRIES)
    assert list_version(csms) == version - 1


def test_D01_disabled_list_refuses_updates_and_is_not_used() -> None:
    rig = Rig201(config={"AuthCtrlr.LocalPreAuthorize": "true"})
    listed(rig, entry("CARD1"))
    rig.csms.result(
        "SetVariables",
        {
            "setVariableData": [
                {
                    "component": {"name": "LocalAuthListCtrlr"},
                    "variable": {"name": "Enabled"},
                    "attributeValue": "false",
                }
            ]
        },
    )
    answer = send(rig.csms, 2, "Full", entry("OTHER"))
    assert answer == {"status": "Failed", "statusInfo": {"reasonCode": "NotEnabled"}}
    rig.card("CARD1")
    assert rig.payloads("Authorize") == [{"idToken": CARD}]  # the list is not looked at


def test_D01_a_list_the_store_cannot_save_is_Failed_and_nothing_changes() -> None:
    class Full(MemoryStore):
        def save(self, name, value):
            if name == local_list.DOCUMENT:
                raise OSError(28, "No space left on device")
            super().save(name, value)

    _cp, csms = booted201(store=Full())
    answer = send(csms, 1, "Full", entry("A"))
    assert answer == {"status": "Failed", "statusInfo": {"reasonCode": "OutOfStorage"}}
    assert list_version(csms) == 0
    assert variable(csms, "Entries") == "0"


def test_D01_the_list_survives_a_restart() -> None:
    rig = Rig201(config={"AuthCtrlr.LocalPreAuthorize": "true"})
    send(rig.csms, 7, "Full", entry("CARD1"))
    rig.restart()
    rig.csms.clear()
    assert list_version(rig.csms) == 7
    rig.card("CARD1")
    rig.plug()
    assert "Authorize" not in rig.actions()
    assert rig.events_tx()[0]["idToken"] == CARD


def test_D01_an_accepted_list_is_on_disk_before_the_answer_leaves(tmp_path) -> None:
    """Durability: a station killed right after answering Accepted still has the list."""
    _cp, csms = booted201(store=FileStore(tmp_path))
    csms.send(
        "SendLocalList",
        {"versionNumber": 4, "updateType": "Full", "localAuthorizationList": [entry("A")]},
    )
    # Killed before the answer is even polled: a new engine reads the directory afresh.
    _cp2, csms2 = booted201(store=FileStore(tmp_path))
    assert list_version(csms2) == 4
    assert variable(csms2, "Entries") == "1"


def test_D01_a_version_sent_as_5_0_is_kept_as_5_across_a_restart(tmp_path) -> None:
    """Draft-06 integers: 5.0 is a valid versionNumber; the stored list must read back."""
    _cp, csms = booted201(store=FileStore(tmp_path))
    answer = csms.result(
        "SendLocalList",
        {"versionNumber": 5.0, "updateType": "Full", "localAuthorizationList": [entry("A")]},
    )
    assert answer == {"status": "Accepted"}
    assert send(csms, 6.0, "Differential", entry("B"))["status"] == "Accepted"
    _cp2, csms2 = booted201(store=FileStore(tmp_path))
    assert csms2.result("GetLocalListVersion", {}) == {"versionNumber": 6}
    assert variable(csms2, "Entries") == "2"


@pytest.mark.parametrize(
    "document",
    [
        {"versionNumber": "nine", "localAuthorizationList": []},
        {"versionNumber": 3, "localAuthorizationList": [{"idToken": "A"}]},
        {"versionNumber": 3, "localAuthorizationList": [{"idToken": {"idToken": 1, "type": 2}}]},
        ["not", "a", "list"],
        "garbage",
    ],
)
def test_a_corrupt_stored_list_means_an_empty_list_and_an_error(document, caplog) -> None:
    store = MemoryStore()
    store.save(local_list.DOCUMENT, document)
    with caplog.at_level(logging.ERROR):
        _cp, csms = booted201(store=store)
    assert "local authorization list is unreadable" in caplog.text
    assert list_version(csms) == 0
    assert (variable(csms, "Entries"), variable(csms, "Storage")) == ("0", "0")
    assert send(csms, 1, "Full", entry("A"))["status"] == "Accepted"


def test_LocalAuthListCtrlr_variables_are_reported() -> None:
    cp, _csms = booted201()
    rows = {row.variable: row for row in cp.variables(0.0) if row.component == "LocalAuthListCtrlr"}
    assert set(rows) >= {
        "Enabled",
        "Available",
        "Entries",
        "ItemsPerMessage",
        "BytesPerMessage",
        "Storage",
        "DisablePostAuthorize",
    }
    assert rows["Entries"].mutability == "ReadOnly"
    assert rows["Enabled"].mutability == "ReadWrite"
    assert rows["Available"].value == "true"


# ------------------------------------------------------------------ C14 online, C13 offline


def test_C14_FR_02_listed_accepted_token_starts_without_authorize() -> None:
    rig = Rig201(config={"AuthCtrlr.LocalPreAuthorize": "true"})
    listed(rig, entry("card1"))  # idTokens are case insensitive
    rig.plug()
    rig.card("CARD1")
    assert "Authorize" not in rig.actions()
    started = [p for p in rig.events_tx() if p.get("idToken")]
    assert started[0]["idToken"] == CARD
    assert rig.cp.charging(1, rig.now) or rig.cp.transaction(1) is not None


def test_C14_without_LocalPreAuthorize_the_CSMS_is_asked() -> None:
    rig = Rig201()
    listed(rig, entry("CARD1"))
    rig.card("CARD1")
    assert rig.payloads("Authorize") == [{"idToken": CARD}]


def test_C14_listed_token_of_another_type_is_not_that_token() -> None:
    rig = Rig201(config={"AuthCtrlr.LocalPreAuthorize": "true"})
    listed(rig, entry("CARD1", kind="KeyCode"))
    rig.card("CARD1")
    assert rig.payloads("Authorize") == [{"idToken": CARD}]


def test_C14_FR_03_listed_token_not_accepted_is_asked_about_again() -> None:
    rig = Rig201(config={"AuthCtrlr.LocalPreAuthorize": "true"})
    listed(rig, entry("CARD1", "Blocked"))
    rig.card("CARD1")
    assert rig.payloads("Authorize") == [{"idToken": CARD}]
    rig.plug()
    assert [p for p in rig.events_tx() if p.get("idToken")]  # the CSMS said Accepted


def test_C14_FR_03_DisablePostAuthorize_refuses_a_listed_token_not_accepted() -> None:
    rig = Rig201(
        config={
            "AuthCtrlr.LocalPreAuthorize": "true",
            "LocalAuthListCtrlr.DisablePostAuthorize": "true",
        }
    )
    listed(rig, entry("CARD1", "Blocked"))
    rig.plug()
    rig.card("CARD1")
    assert "Authorize" not in rig.actions()
    assert not [p for p in rig.events_tx() if p.get("idToken")]


def test_C13_offline_listed_token_starts_with_LocalAuthorizeOffline() -> None:
    rig = Rig201()
    listed(rig, entry("CARD1"))
    rig.offline()
    rig.plug()
    rig.card("CARD1")
    rig.online()
    assert "Authorize" not in rig.actions()
    started = [p for p in rig.events_tx() if p.get("idToken")]
    assert started and started[0]["idToken"] == CARD
    assert all(p.get("offline") for p in started[:1])


@pytest.mark.parametrize(
    ("status", "config"),
    [
        ("Accepted", {"AuthCtrlr.LocalAuthorizeOffline": "false"}),
        ("Blocked", {"AuthCtrlr.OfflineTxForUnknownIdEnabled": "true"}),  # listed: not unknown
    ],
)
def test_C13_offline_listed_token_is_refused(status: str, config: dict) -> None:
    rig = Rig201(config=config)
    listed(rig, entry("CARD1", status))
    rig.offline()
    rig.plug()
    rig.card("CARD1")
    rig.online()
    assert not [p for p in rig.events_tx() if p.get("idToken")]


def test_idTokenInfo_of_a_listed_token_is_not_cached() -> None:
    rig = Rig201()
    listed(rig, entry("CARD1"))
    rig.card("CARD1")
    assert rig.payloads("Authorize")
    assert rig.store.load("authcache") is None
