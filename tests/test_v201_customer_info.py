"""OCPP 2.0.1 CustomerInformation (N09 get, N10 clear) and NotifyCustomerInformation paging,
after part 6's TC_N_27/28/30/31/32/62_CS.

"Memory State" (IdTokenCached, IdTokenLocalAuthList, a stored customerIdentifier) is set up as
the station stores it. Every frame the station sends is schema-checked (tests/conftest.py).
"""

from __future__ import annotations

import pytest
from fake_csms import Error
from tx_rig201 import Rig201

from ocpp_core.store import MemoryStore
from ocpp_core.v201 import auth_cache, customer_info, local_list

TOKEN = {"idToken": "CUSTOMER1", "type": "ISO14443"}
OTHER = {"idToken": "SOMEONE", "type": "ISO14443"}
CONFIG = {
    "LocalAuthListCtrlr.Enabled": "true",
    "AuthCtrlr.LocalPreAuthorize": "true",
    "AuthCacheCtrlr.Enabled": "true",
}
CERTIFICATE = {
    "hashAlgorithm": "SHA256",
    "issuerNameHash": "a" * 64,
    "issuerKeyHash": "b" * 64,
    "serialNumber": "01",
}


def station(*, cached: bool = True, listed: bool = True, customers: dict | None = None) -> Rig201:
    store = MemoryStore()
    if cached:
        store.save(
            auth_cache.DOCUMENT,
            [
                {"idToken": TOKEN, "idTokenInfo": {"status": "Accepted"}},
                {"idToken": OTHER, "idTokenInfo": {"status": "Accepted"}},
            ],
        )
    if customers is not None:
        store.save(customer_info.DOCUMENT, customers)
    rig = Rig201(store=store, config=CONFIG)
    if listed:
        entry = {"idToken": TOKEN, "idTokenInfo": {"status": "Accepted"}}
        payload = {"versionNumber": 1, "updateType": "Full", "localAuthorizationList": [entry]}
        assert rig.csms.result("SendLocalList", payload) == {"status": "Accepted"}
    rig.clear()
    return rig


def ask(rig: Rig201, request_id: int = 1, *, report: bool, clear: bool, **reference: object) -> str:
    payload = {"requestId": request_id, "report": report, "clear": clear, **reference}
    return rig.csms.result("CustomerInformation", payload)["status"]


def pages(rig: Rig201) -> list[dict]:
    return rig.payloads("NotifyCustomerInformation")


def data(rig: Rig201) -> str:
    return "".join(page["data"] for page in pages(rig))


def cached_tokens(rig: Rig201) -> list[str]:
    return [item["idToken"]["idToken"] for item in rig.store.load(auth_cache.DOCUMENT) or []]


def test_local_list_seed_is_what_the_station_reads() -> None:
    rig = station()
    assert rig.store.load(local_list.DOCUMENT) is not None
    assert "local authorization list" in _report(rig)


def _report(rig: Rig201) -> str:
    assert ask(rig, 99, report=True, clear=False, idToken=TOKEN) == "Accepted"
    return pages(rig)[-1]["data"]


def test_TC_N_27_CS_report_with_data() -> None:
    rig = station()
    assert ask(rig, 27, report=True, clear=False, idToken=TOKEN) == "Accepted"
    (page,) = pages(rig)
    assert page["requestId"] == 27 and page["seqNo"] == 0 and "tbc" not in page
    assert page["generatedAt"]
    assert "CUSTOMER1" in page["data"]
    assert "authorization cache" in page["data"]
    assert "local authorization list" in page["data"]
    assert cached_tokens(rig) == ["CUSTOMER1", "SOMEONE"]  # a report clears nothing


def test_TC_N_28_CS_report_without_data() -> None:
    rig = station(cached=False, listed=False)
    assert ask(rig, 28, report=True, clear=False, idToken=TOKEN) == "Accepted"
    (page,) = pages(rig)
    assert page["data"] == "" and not page.get("tbc", False)


def test_TC_N_30_CS_clear_and_report_with_data_keeps_the_local_list() -> None:
    rig = station()
    assert ask(rig, 30, report=True, clear=True, idToken=TOKEN) == "Accepted"
    first = data(rig)
    assert "authorization cache" in first and "cleared: authorization cache entry" in first
    assert cached_tokens(rig) == ["SOMEONE"]  # really forgotten, persisted
    assert "CUSTOMER1" in str(rig.store.load(local_list.DOCUMENT))  # the CSMS manages the list
    rig.clear()
    assert ask(rig, 31, report=True, clear=False, idToken=TOKEN) == "Accepted"
    (page,) = pages(rig)
    assert "authorization cache" not in page["data"]
    assert "local authorization list" in page["data"]
    assert not page.get("tbc", False)
    # The cleared entry is gone after a restart too.
    rig.restart()
    assert cached_tokens(rig) == ["SOMEONE"]


def test_N10_a_cleared_cache_entry_no_longer_authorizes_offline() -> None:
    rig = station(listed=False)
    ask(rig, report=False, clear=True, idToken=TOKEN)
    rig.offline()
    rig.card("CUSTOMER1", evse=1)
    rig.plug(1)
    assert rig.cp.transaction(1) is None or rig.cp.transaction(1).state != "running"


def test_TC_N_31_CS_clear_and_report_without_data() -> None:
    rig = station(cached=False, listed=False)
    assert ask(rig, 31, report=True, clear=True, idToken=TOKEN) == "Accepted"
    (page,) = pages(rig)
    assert page["data"] == "no data found; nothing to clear"


def test_TC_N_32_CS_clear_without_report_sends_one_notification() -> None:
    rig = station(listed=False)
    assert ask(rig, 32, report=False, clear=True, idToken=TOKEN) == "Accepted"
    (page,) = pages(rig)
    assert page["data"] == "cleared: authorization cache entry"
    assert cached_tokens(rig) == ["SOMEONE"]


def test_TC_N_62_CS_clear_and_report_by_customer_identifier() -> None:
    rig = station(customers={"CUST-0042": "contract 7, invoice address on file"})
    assert ask(rig, 62, report=True, clear=True, customerIdentifier="CUST-0042") == "Accepted"
    assert "contract 7" in data(rig)
    assert rig.store.load(customer_info.DOCUMENT) is None
    rig.clear()
    assert ask(rig, 63, report=True, clear=False, customerIdentifier="CUST-0042") == "Accepted"
    (page,) = pages(rig)
    assert page["data"] == ""


def test_N09_customer_certificate_no_certificates_are_stored() -> None:
    rig = station()
    assert ask(rig, 5, report=True, clear=True, customerCertificate=CERTIFICATE) == "Accepted"
    (page,) = pages(rig)
    assert page["data"] == "no data found; nothing to clear"
    assert cached_tokens(rig) == ["CUSTOMER1", "SOMEONE"]


@pytest.mark.parametrize(
    "reference",
    [{}, {"idToken": TOKEN, "customerIdentifier": "CUST-1"}],
    ids=["none", "two"],
)
def test_N09_FR_09_none_or_more_than_one_reference_is_invalid(reference: dict) -> None:
    rig = station()
    assert ask(rig, report=True, clear=True, **reference) == "Invalid"
    rig.advance(2)
    assert pages(rig) == []
    assert cached_tokens(rig) == ["CUSTOMER1", "SOMEONE"]


def test_N09_neither_report_nor_clear_is_rejected() -> None:
    rig = station()
    assert ask(rig, report=False, clear=False, idToken=TOKEN) == "Rejected"
    assert pages(rig) == []


def test_N09_FR_02_FR_05_long_information_is_paged_with_tbc() -> None:
    record = "".join(f"line {n:04d} of the customer record\n" for n in range(60))[:2000]
    rig = station(customers={"BIG": record})
    assert ask(rig, 7, report=True, clear=False, customerIdentifier="BIG") == "Accepted"
    sent = pages(rig)
    assert len(sent) == 4
    assert [p["seqNo"] for p in sent] == [0, 1, 2, 3]
    assert [p.get("tbc", False) for p in sent] == [True, True, True, False]
    assert {p["requestId"] for p in sent} == {7}
    assert len({p["generatedAt"] for p in sent}) == 1
    assert all(len(p["data"]) <= customer_info.PAGE_CHARACTERS for p in sent)
    assert data(rig) == f"customerIdentifier BIG: {record}"


def test_N10_finished_transactions_forget_the_idToken() -> None:
    rig = Rig201(config=CONFIG)
    # The CSMS cannot take the Ended event yet: the finished transaction's record stays.
    rig.csms.handlers["TransactionEvent"] = lambda payload: (
        Error("InternalError")
        if payload["eventType"] == "Ended"
        else {"idTokenInfo": {"status": "Accepted"}}
    )
    rig.card("CUSTOMER1", evse=1)
    rig.plug(1)
    rig.unplug(1)
    records = [rig.store.load(name) for name in rig.documents("tx/")]
    assert [r["idToken"]["idToken"] for r in records] == ["CUSTOMER1"]
    rig.clear()
    assert ask(rig, 9, report=True, clear=True, idToken=TOKEN) == "Accepted"
    text = data(rig)
    assert "transaction" in text and "ended" in text
    assert "idToken of 1 finished transaction(s)" in text
    records = [rig.store.load(name) for name in rig.documents("tx/")]
    assert records and all("idToken" not in r for r in records)


def test_N10_a_running_transaction_keeps_its_idToken() -> None:
    rig = Rig201(config=CONFIG)
    rig.card("CUSTOMER1", evse=1)
    rig.plug(1)
    rig.clear()
    assert ask(rig, 10, report=True, clear=True, idToken=TOKEN) == "Accepted"
    assert "running" in data(rig)
    records = [rig.store.load(name) for name in rig.documents("tx/")]
    assert [r["idToken"]["idToken"] for r in records] == ["CUSTOMER1"]
