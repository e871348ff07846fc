"""CustomerInformation (OCPP 2.0.1 N09 get, N10 clear), answered by paged NotifyCustomerInformation.

The request names one customer by exactly one of ``idToken``, ``customerCertificate`` or
``customerIdentifier``; none or more than one is Invalid (N09.FR.09, errata 2023-12). Asking
neither to report nor to clear is Rejected (nothing to do). Otherwise Accepted, and the
information is taken at that moment and sent as NotifyCustomerInformation pages of at most
PAGE_CHARACTERS characters of text: the request's ``requestId``, ``seqNo`` 0, 1, ...,
``generatedAt`` of the request and ``tbc`` true on every page but the last (N09.FR.02).

What the station holds about a customer:

* by idToken: its Authorization Cache entry, its Local Authorization List entry and the idToken
  stored in the records of finished transactions whose Ended event the CSMS has not confirmed
  yet (a running transaction's idToken is reported, and kept: it authorizes the stop);
* by customerIdentifier: what the station's operator recorded for it (``remember``, e.g. a
  contract number noted at the station);
* by customerCertificate: nothing: the station stores no customer certificates before the
  security issue (ISO 15118 contract certificates), so the report is empty.

``report`` sends that information (N09.FR.05; nothing found: one page with empty data,
N09.FR.06). ``clear`` really forgets it, persisted before the first page leaves (N10.FR.01):
the cache entry is removed, the finished transactions' records lose the idToken, the
customerIdentifier record is deleted; the Local Authorization List is left alone, since the
CSMS manages it (N10.FR: "except the Local Authorization List", TC_N_30_CS). A clear adds a
line saying what was cleared, so clear without report still sends one page (N10.FR.06). At most
MAX_PENDING requests wait for their pages; one more is Rejected.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from ocpp_core.block import Block, on
from ocpp_core.log import logger
from ocpp_core.outbox import PRIORITY_CALLS, Request, RequestSource
from ocpp_core.v201.id_tokens import token_key

if TYPE_CHECKING:
    from collections.abc import Callable

    from ocpp_core.context import BlockContext
    from ocpp_core.outbox import CallFailure
    from ocpp_core.rpc import JsonObject
    from ocpp_core.v201.auth_cache import AuthCacheBlock
    from ocpp_core.v201.local_list import LocalListBlock
    from ocpp_core.v201.payloads import (
        CustomerInformationRequest,
        CustomerInformationResponse,
        NotifyCustomerInformationRequest,
    )
    from ocpp_core.v201.transactions import TransactionBlock

    Forget = Callable[[], list[str]]  # clears what a request found; says what it cleared

__all__ = ["DOCUMENT", "MAX_PENDING", "PAGE_CHARACTERS", "CustomerInfoBlock"]

DOCUMENT = "customers"  # customerIdentifier -> what the station's operator recorded
PAGE_CHARACTERS = 512  # NotifyCustomerInformationRequest.data is string[0..512]
MAX_PENDING = 4
_REFERENCES = ("idToken", "customerCertificate", "customerIdentifier")
_MAX_RECORD = 2000  # characters of one customerIdentifier record


class CustomerInfoBlock(Block, RequestSource):
    """CustomerInformation requests, the customer records and the pages that answer."""

    __slots__ = ("_customers", "_pages", "auth_cache", "local_list", "transactions")

    priority = PRIORITY_CALLS

    def __init__(
        self,
        ctx: BlockContext,
        *,
        auth_cache: AuthCacheBlock,
        local_list: LocalListBlock,
        transactions: TransactionBlock,
    ) -> None:
        super().__init__(ctx)
        self.auth_cache = auth_cache
        self.local_list = local_list
        self.transactions = transactions
        self._pages: list[list[Request]] = []  # the pages of each answered request, in order
        stored = ctx.store.load(DOCUMENT)
        valid = isinstance(stored, dict) and all(isinstance(v, str) for v in stored.values())
        if stored is not None and not valid:
            logger().warning("stored customer records are invalid; ignored")
        self._customers: dict[str, str] = dict(stored) if valid else {}  # type: ignore[arg-type]

    # ------------------------------------------------------------------ the station's records

    def remember(self, identifier: str, data: str) -> None:
        """Record what the station keeps about customer ``identifier`` (its operator's note)."""
        if not 0 < len(identifier) <= 64 or len(data) > _MAX_RECORD:
            raise ValueError("customerIdentifier is 1 to 64 characters, its data at most 2000")
        self._customers[identifier] = data
        self.ctx.store.save(DOCUMENT, dict(self._customers))

    def customers(self) -> dict[str, str]:
        """Every customerIdentifier record (a copy)."""
        return dict(self._customers)

    # ------------------------------------------------------------------ OCPP

    @on("CustomerInformation")
    def customer_information(
        self, payload: CustomerInformationRequest, now: float
    ) -> CustomerInformationResponse:
        named = [field for field in _REFERENCES if field in payload]
        if len(named) != 1:
            return {
                "status": "Invalid",
                "statusInfo": {
                    "reasonCode": "InvalidValue",
                    "additionalInfo": "exactly one of idToken, customerCertificate, "
                    "customerIdentifier",
                },
            }
        report, clear = payload["report"], payload["clear"]
        if not (report or clear):
            return {"status": "Rejected", "statusInfo": {"reasonCode": "NoReportNoClear"}}
        if len(self._pages) >= MAX_PENDING:
            return {"status": "Rejected", "statusInfo": {"reasonCode": "OutOfMemory"}}
        if "idToken" in payload:
            found, forget = self._by_id_token(dict(payload["idToken"]))
        elif "customerIdentifier" in payload:
            found, forget = self._by_identifier(payload["customerIdentifier"])
        else:  # no customer certificates are stored
            found, forget = [], None
        lines = found if report else []
        if clear:
            cleared = forget() if forget is not None else []
            if cleared:
                lines = [*lines, "cleared: " + ", ".join(cleared)]
            else:
                lines = [*lines, "no data found; nothing to clear"]
        generated_at = self.ctx.clock.timestamp(now)
        self._pages.append(_pages(payload["requestId"], generated_at, "\n".join(lines)))
        return {"status": "Accepted"}

    # ------------------------------------------------------------------ what is held

    def _by_id_token(self, id_token: JsonObject) -> tuple[list[str], Forget | None]:
        key = token_key(id_token)
        lines: list[str] = []
        cached = self.auth_cache.entry(id_token)
        if cached is not None:
            lines.append(f"authorization cache: {_text(cached)}")
        listed = self.local_list.entry(id_token)
        if listed is not None:
            lines.append(f"local authorization list (managed by the CSMS): {_text(listed)}")
        records = self.transactions.records
        held = [tx for tx in records.transactions.values() if _same(tx.id_token, key)]
        for tx in sorted(held, key=lambda tx: tx.local_id):
            state = "ended" if tx.ended else "running"
            lines.append(
                f"transaction {tx.transaction_id}: EVSE {tx.evse}, started {tx.start}, {state}"
            )
        if lines:
            lines.insert(0, f"idToken {id_token['type']} {id_token['idToken']}")

        def forget() -> list[str]:
            cleared = []
            if self.auth_cache.forget(id_token):
                cleared.append("authorization cache entry")
            finished = records.forget_id_token(lambda token: _same(token, key))
            if finished:
                cleared.append(f"idToken of {finished} finished transaction(s)")
            return cleared

        return lines, forget

    def _by_identifier(self, identifier: str) -> tuple[list[str], Forget | None]:
        data = self._customers.get(identifier)
        if data is None:
            return [], None

        def forget() -> list[str]:
            del self._customers[identifier]
            store = self.ctx.store
            if self._customers:
                store.save(DOCUMENT, dict(self._customers))
            else:
                store.delete(DOCUMENT)
            return [f"customer record {identifier}"]

        return [f"customerIdentifier {identifier}: {data}"], forget

    # ------------------------------------------------------------------ NotifyCustomerInformation

    def take(self, now: float) -> Request | None:
        pages = self._pages
        while pages and not pages[0]:
            pages.pop(0)
        if not pages:
            return None
        request = pages[0].pop(0)
        if not pages[0]:
            pages.pop(0)
        return request

    def give_back(self, request: Request, now: float) -> None:
        self._pages.insert(0, [request])

    def wakeup(self, now: float) -> float | None:
        return now if self._pages else None


def _pages(request_id: int, generated_at: str, data: str) -> list[Request]:
    """The NotifyCustomerInformation pages carrying ``data`` (one, empty, for no data)."""
    chunks = [
        data[start : start + PAGE_CHARACTERS] for start in range(0, len(data), PAGE_CHARACTERS)
    ]
    chunks = chunks or [""]
    pages = []
    for seq_no, chunk in enumerate(chunks):
        page: NotifyCustomerInformationRequest = {
            "data": chunk,
            "seqNo": seq_no,
            "generatedAt": generated_at,
            "requestId": request_id,
        }
        if seq_no < len(chunks) - 1:
            page["tbc"] = True
        pages.append(Request("NotifyCustomerInformation", page, on_failure=_page_failed))
    return pages


def _page_failed(failure: CallFailure, now: float) -> None:
    logger().warning("a NotifyCustomerInformation page got no answer (%s)", failure.kind)


def _same(token: object, key: str) -> bool:
    """Whether a stored idToken is the customer's (by type and value, ignoring case)."""
    try:
        return token_key(token) == key
    except (KeyError, TypeError):
        return False


def _text(info: JsonObject) -> str:
    return json.dumps(info, sort_keys=True, separators=(",", ":"))
