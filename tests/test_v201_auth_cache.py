"""OCPP 2.0.1 Authorization Cache: storing idTokenInfo (C10), ClearCache (C11), starting with a
cached idToken (C12), AuthCacheCtrlr; part 6 TC_C_08..13, TC_C_32..38, TC_C_46, TC_C_57.

"Memory State: IdTokenCached" is set up as the station stores it (the ``authcache`` document).
"""

from __future__ import annotations

import logging

import pytest
from fake_csms201 import booted201
from tx_rig201 import Rig201

from ocpp_core.authorization_cache import CAPACITY
from ocpp_core.authorization_list import document_size
from ocpp_core.store import FileStore, MemoryStore
from ocpp_core.v201 import auth_cache

CARD = {"idToken": "CARD1", "type": "ISO14443"}
PRE_AUTHORIZE = {"AuthCtrlr.LocalPreAuthorize": "true"}


def token(value: str) -> dict:
    return {"idToken": value, "type": "ISO14443"}


def seeded(*entries: tuple[str, dict], config: dict | None = None) -> Rig201:
    """A booted station whose cache holds ``entries`` ((idToken, idTokenInfo), oldest first)."""
    store = MemoryStore()
    items = [{"idToken": token(t), "idTokenInfo": info} for t, info in entries]
    store.save(auth_cache.DOCUMENT, items)
    return Rig201(store=store, config=config)


def cached(rig: Rig201) -> dict[str, str]:
    """idToken -> cached status, oldest first."""
    stored = rig.store.load(auth_cache.DOCUMENT) or []
    return {item["idToken"]["idToken"]: item["idTokenInfo"]["status"] for item in stored}


def answer_authorize(rig: Rig201, status: str, **info) -> None:
    rig.csms.handlers["Authorize"] = lambda payload: {"idTokenInfo": {"status": status, **info}}


def answer_transaction_event(rig: Rig201, status: str) -> None:
    def answer(payload: dict) -> dict:
        return {"idTokenInfo": {"status": status}} if "idToken" in payload else {}

    rig.csms.handlers["TransactionEvent"] = answer


def authorized_events(rig: Rig201) -> list[dict]:
    return [p for p in rig.events_tx() if p["triggerReason"] == "Authorized"]


def set_variable(rig: Rig201, component: str, name: str, value: str) -> None:
    answer = rig.csms.result(
        "SetVariables",
        {
            "setVariableData": [
                {
                    "component": {"name": component},
                    "variable": {"name": name},
                    "attributeValue": value,
                }
            ]
        },
    )
    assert answer["setVariableResult"][0]["attributeStatus"] == "Accepted", answer


# ------------------------------------------------------------------ C12 start with a cached idToken


def test_TC_C_08_CS_cached_accepted_idtoken_starts_without_authorize() -> None:
    rig = seeded(("CARD1", {"status": "Accepted"}), config=PRE_AUTHORIZE)
    rig.plug()  # EVConnectedPreSession
    rig.card("CARD1")
    assert "Authorize" not in rig.actions()
    assert authorized_events(rig)[0]["idToken"] == CARD
    assert rig.cp.charging(1, rig.now)  # energy transfer is started


@pytest.mark.parametrize(
    ("tc", "status"), [("TC_C_09", "Invalid"), ("TC_C_10", "Blocked"), ("TC_C_11", "Expired")]
)
def test_TC_C_09_10_11_CS_cached_not_accepted_idtoken_is_asked_about(tc: str, status: str) -> None:
    """C12.FR.05, C10.FR.03: a cached idToken that is not Accepted is authorized by the CSMS."""
    rig = seeded(("CARD1", {"status": status}), config=PRE_AUTHORIZE)
    rig.plug()
    answer_authorize(rig, status)
    rig.card("CARD1")
    assert rig.payloads("Authorize") == [{"idToken": CARD}]
    assert not authorized_events(rig)
    assert not rig.cp.charging(1, rig.now)


def test_TC_C_11_CS_cached_entry_past_cacheExpiryDateTime_counts_as_expired() -> None:
    rig = seeded(
        ("CARD1", {"status": "Accepted", "cacheExpiryDateTime": "2000-01-01T00:00:00Z"}),
        config=PRE_AUTHORIZE,
    )
    rig.plug()
    answer_authorize(rig, "Expired")
    rig.card("CARD1")
    assert rig.payloads("Authorize") == [{"idToken": CARD}]
    assert not authorized_events(rig)
    assert cached(rig) == {"CARD1": "Expired"}


def test_TC_C_12_CS_cached_invalid_but_accepted_by_the_CSMS_starts() -> None:
    rig = seeded(("CARD1", {"status": "Invalid"}), config=PRE_AUTHORIZE)
    rig.plug()
    rig.card("CARD1")  # the fake CSMS answers Accepted
    assert rig.payloads("Authorize") == [{"idToken": CARD}]
    assert authorized_events(rig)[0]["idToken"] == CARD
    assert rig.cp.charging(1, rig.now)
    assert cached(rig) == {"CARD1": "Accepted"}  # C12.FR.06


def test_TC_C_13_CS_cached_accepted_idtoken_before_the_cable() -> None:
    rig = seeded(("CARD1", {"status": "Accepted"}), config=PRE_AUTHORIZE)
    rig.card("CARD1")
    assert "Authorize" not in rig.actions()
    assert not rig.cp.charging(1, rig.now)  # no cable, no energy
    rig.plug()
    started = rig.events_tx()[0]
    assert started["eventType"] == "Started"
    assert started["idToken"] == CARD
    assert rig.cp.charging(1, rig.now)


def test_TC_C_57_CS_DisablePostAuthorize_refuses_a_cached_invalid_idtoken() -> None:
    rig = seeded(
        ("CARD1", {"status": "Invalid"}),
        config={**PRE_AUTHORIZE, "AuthCacheCtrlr.DisablePostAuthorize": "true"},
    )
    rig.plug()
    rig.card("CARD1")
    assert "Authorize" not in rig.actions()
    assert not authorized_events(rig)
    assert not rig.cp.charging(1, rig.now)


# ------------------------------------------------------------------ C10 store authorization data


def test_TC_C_32_CS_the_cache_persists_over_a_reboot() -> None:
    rig = Rig201(config=PRE_AUTHORIZE)
    rig.card("CARD1", evse=2)  # learnt from the AuthorizeResponse
    assert cached(rig) == {"CARD1": "Accepted"}
    rig.restart()  # Booted
    rig.csms.clear()
    rig.card("CARD1")
    assert "Authorize" not in rig.actions()
    rig.plug()  # TxStartPoint PowerPathClosed: the transaction starts with the cable
    assert rig.events_tx()[0]["idToken"] == CARD
    assert rig.cp.charging(1, rig.now)


def test_TC_C_33_CS_cache_updated_on_authorize_and_transaction_event_responses() -> None:
    rig = Rig201(config=PRE_AUTHORIZE)
    rig.plug()
    rig.card("CARD1")
    assert rig.payloads("Authorize") == [{"idToken": CARD}]  # not known yet
    assert cached(rig) == {"CARD1": "Accepted"}  # C10.FR.04
    rig.advance(5, charging_w=7000)
    rig.unplug()
    rig.csms.clear()
    answer_transaction_event(rig, "Invalid")
    rig.plug()
    rig.card("CARD1")  # known: no AuthorizeRequest
    assert "Authorize" not in rig.actions()
    assert authorized_events(rig)[0]["idToken"] == CARD
    assert cached(rig) == {"CARD1": "Invalid"}  # C10.FR.05


def test_TC_C_34_CS_cache_updated_on_transaction_event_response_then_asked_again() -> None:
    rig = seeded(
        ("CARD1", {"status": "Accepted"}),
        config={**PRE_AUTHORIZE, "TxCtrlr.StopTxOnInvalidId": "true"},
    )
    rig.plug()
    answer_transaction_event(rig, "Invalid")
    rig.card("CARD1")
    assert authorized_events(rig)[0]["idToken"] == CARD
    assert cached(rig) == {"CARD1": "Invalid"}
    rig.unplug()
    rig.csms.clear()
    rig.plug()
    answer_authorize(rig, "Invalid")
    rig.card("CARD1")
    assert rig.payloads("Authorize") == [{"idToken": CARD}]


def test_TC_C_36_CS_without_LocalPreAuthorize_the_cache_is_not_used_online() -> None:
    rig = seeded(("CARD1", {"status": "Accepted"}))
    answer_authorize(rig, "Invalid")
    rig.plug()
    rig.card("CARD1")
    assert rig.payloads("Authorize") == [{"idToken": CARD}]  # C10.FR.11
    assert not authorized_events(rig)
    assert cached(rig) == {"CARD1": "Invalid"}


def test_TC_C_46_CS_an_entry_unused_for_LifeTime_is_dropped() -> None:
    rig = Rig201(config={**PRE_AUTHORIZE, "AuthCacheCtrlr.LifeTime": "60"})
    rig.card("CARD1", evse=2)
    assert cached(rig) == {"CARD1": "Accepted"}
    rig.advance(61)
    rig.csms.clear()
    rig.card("CARD1")
    assert rig.payloads("Authorize") == [{"idToken": CARD}]  # C10.FR.08: not known any more


def test_C10_an_entry_used_within_LifeTime_is_kept() -> None:
    rig = Rig201(config={**PRE_AUTHORIZE, "AuthCacheCtrlr.LifeTime": "60"})
    rig.card("CARD1", evse=2)
    rig.card("CARD1", evse=2)  # ends that authorization: a use of the cache entry
    rig.advance(40)
    rig.card("CARD1", evse=2)
    rig.card("CARD1", evse=2)
    rig.advance(40)
    rig.csms.clear()
    rig.card("CARD1")
    assert "Authorize" not in rig.actions()


def test_C10_a_full_cache_drops_not_accepted_entries_first_then_the_least_recently_used() -> None:
    entries = [("OLD", {"status": "Accepted"}), ("BAD", {"status": "Blocked"})]
    entries += [(f"T{n}", {"status": "Accepted"}) for n in range(CAPACITY - 2)]
    rig = seeded(*entries, config=PRE_AUTHORIZE)
    rig.card("NEW1", evse=2)
    assert "BAD" not in cached(rig) and "OLD" in cached(rig)
    rig.card("NEW2", evse=1)
    assert "OLD" not in cached(rig)
    assert len(cached(rig)) == CAPACITY
    assert list(cached(rig))[-2:] == ["NEW1", "NEW2"]


def test_C10_LFU_drops_the_least_frequently_used() -> None:
    store = MemoryStore()
    items = [
        {
            "idToken": token(f"T{n}"),
            "idTokenInfo": {"status": "Accepted"},
            "uses": 1 if n == 50 else 5,
        }
        for n in range(CAPACITY)
    ]
    store.save(auth_cache.DOCUMENT, items)
    rig = Rig201(store=store, config={**PRE_AUTHORIZE, "AuthCacheCtrlr.Policy": "LFU"})
    rig.card("NEW")
    assert "T50" not in cached(rig)  # used once: the least frequently used
    assert "T0" in cached(rig)  # the least recently used, but used five times
    assert "NEW" in cached(rig)


def test_C10_the_cache_stays_within_the_maxLimit_of_Storage() -> None:
    rig = Rig201(config=PRE_AUTHORIZE)
    message = {"format": "UTF8", "content": "x" * 500}
    answer_authorize(rig, "Accepted", personalMessage=message)
    for n in range(80):
        rig.card(f"BIG{n}", evse=1 + n % 2)
    stored = rig.store.load(auth_cache.DOCUMENT)
    size = document_size(stored)
    assert 0 < size <= auth_cache.MAX_STORAGE
    assert list(cached(rig))[-1] == "BIG79"
    rows = {r.variable: r for r in rig.cp.variables(rig.now) if r.component == "AuthCacheCtrlr"}
    assert int(rows["Storage"].value) == size


def test_C10_NoAuthorization_tokens_are_not_cached() -> None:
    rig = Rig201(config=PRE_AUTHORIZE)
    rig.card("BUTTON", token_type="NoAuthorization")
    assert "Authorize" not in rig.actions()
    assert cached(rig) == {}


def test_C10_a_disabled_cache_is_neither_read_nor_written() -> None:
    rig = seeded(
        ("CARD1", {"status": "Accepted"}),
        config={**PRE_AUTHORIZE, "AuthCacheCtrlr.Enabled": "false"},
    )
    rig.card("CARD1")
    rig.card("OTHER", evse=2)
    assert rig.payloads("Authorize") == [{"idToken": CARD}, {"idToken": token("OTHER")}]
    assert cached(rig) == {"CARD1": "Accepted"}


def test_C10_FR_02_a_learnt_idtoken_is_on_disk_when_the_decision_is_made(tmp_path) -> None:
    rig = Rig201(store=FileStore(tmp_path), config=PRE_AUTHORIZE)
    rig.card("CARD1", evse=2)
    # Killed now: a new engine on the same directory knows the idToken without asking.
    again = Rig201(store=FileStore(tmp_path), config=PRE_AUTHORIZE)
    again.card("CARD1")
    assert "Authorize" not in again.actions()


@pytest.mark.parametrize(
    "document",
    [
        [{"idToken": "CARD1", "idTokenInfo": {"status": "Accepted"}}],
        [{"idToken": token("CARD1"), "idTokenInfo": {}}],
        [{"idToken": token("CARD1"), "idTokenInfo": {"status": "Accepted"}, "lastUsed": "x"}],
        {"not": "a list"},
        7,
    ],
)
def test_a_corrupt_stored_cache_means_an_empty_cache_and_an_error(document, caplog) -> None:
    store = MemoryStore()
    store.save(auth_cache.DOCUMENT, document)
    with caplog.at_level(logging.ERROR):
        rig = Rig201(store=store, config=PRE_AUTHORIZE)
    assert "authorization cache is unreadable" in caplog.text
    storage = [r for r in rig.cp.variables(rig.now) if r.address == "AuthCacheCtrlr.Storage"]
    assert storage[0].value == "0"
    rig.card("CARD1")
    assert rig.payloads("Authorize") == [{"idToken": CARD}]
    assert cached(rig) == {"CARD1": "Accepted"}


# ---------------------------------------------------------------------- C11 ClearCache


def test_TC_C_37_CS_clear_cache_accepted_then_the_idtoken_is_asked_about() -> None:
    rig = seeded(("CARD1", {"status": "Accepted"}), config=PRE_AUTHORIZE)
    assert rig.csms.result("ClearCache", {}) == {"status": "Accepted"}
    assert rig.store.load(auth_cache.DOCUMENT) is None
    rig.plug()
    rig.card("CARD1")
    assert rig.payloads("Authorize") == [{"idToken": CARD}]
    assert authorized_events(rig)[0]["idToken"] == CARD
    assert rig.cp.charging(1, rig.now)


def test_TC_C_38_CS_clear_cache_rejected_while_the_cache_is_disabled() -> None:
    rig = seeded(("CARD1", {"status": "Accepted"}), config={"AuthCacheCtrlr.Enabled": "false"})
    answer = rig.csms.result("ClearCache", {})
    assert answer == {"status": "Rejected", "statusInfo": {"reasonCode": "NotEnabled"}}
    assert cached(rig) == {"CARD1": "Accepted"}  # C11.FR.04: nothing cleared


def test_C11_clear_cache_the_store_refuses_is_rejected() -> None:
    class Stuck(MemoryStore):
        def delete(self, name):
            if name == auth_cache.DOCUMENT:
                raise OSError(30, "Read-only file system")
            super().delete(name)

    _cp, csms = booted201(store=Stuck())
    answer = csms.result("ClearCache", {})
    assert answer == {"status": "Rejected", "statusInfo": {"reasonCode": "OutOfStorage"}}


def test_AuthCacheCtrlr_variables_are_reported_and_settable() -> None:
    rig = Rig201()
    rows = {r.variable: r for r in rig.cp.variables(rig.now) if r.component == "AuthCacheCtrlr"}
    assert set(rows) >= {
        "Available",
        "Enabled",
        "LifeTime",
        "Policy",
        "Storage",
        "DisablePostAuthorize",
    }
    assert rows["Policy"].values_list == ("LRU", "LFU")
    assert rows["LifeTime"].unit == "s"
    assert rows["Storage"].mutability == "ReadOnly"
    set_variable(rig, "AuthCacheCtrlr", "Policy", "LFU")
    rig.restart()
    rows = {r.variable: r for r in rig.cp.variables(rig.now) if r.component == "AuthCacheCtrlr"}
    assert rows["Policy"].value == "LFU"
