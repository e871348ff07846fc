"""Certificate management of OCPP 2.0.1: M03 GetInstalledCertificateIds, M04 DeleteCertificate,
M05 InstallCertificate (CSMS, Manufacturer, V2G and MO roots).

The store and its rules are ocpp_core/certificate_store.py (shared with 1.6). Variables:
SecurityCtrlr.CertificateEntries (ReadOnly, live: the CA certificates installed; its maxLimit is
the most the station keeps, a full store answers Rejected as 1.6's M05.FR.03 says) and
SecurityCtrlr.AdditionalRootCertificateCheck (ReadOnly, set by the factory configuration; part 6
ties M05.FR.10/11, FR.13 and FR.14 to it: TC_M_09, TC_M_30, TC_M_31). An install is stored
before the answer leaves; a Rejected or Failed answer carries statusInfo: InvalidCertificate (not a
certificate, expired, not yet valid, not a CA, bad self-signature, not signed by the CSMS root in
force) or OutOfStorage (store full, store refused the write). GetInstalledCertificateIds without
certificateType lists every installed type (TC_M_18_CS); a certificate installed with the rest of
its chain (a V2GCertificateChain from CertificateSigned) lists it as childCertificateHashData.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from ocpp_core.block import on
from ocpp_core.certificate_store import MAX_CERTIFICATES, CertificateBlock, installed_count
from ocpp_core.v201.variables import VariableDeclarer

if TYPE_CHECKING:
    from ocpp_core.v201.payloads import (
        CertificateHashDataChainType,
        DeleteCertificateRequest,
        DeleteCertificateResponse,
        GetInstalledCertificateIdsRequest,
        GetInstalledCertificateIdsResponse,
        InstallCertificateRequest,
        InstallCertificateResponse,
    )

__all__ = ["CertificatesBlock"]

_vars = VariableDeclarer(__name__, "SecurityCtrlr")
_vars.integer(
    "CertificateEntries",
    0,
    live=lambda state, definition, now: installed_count(state.ctx.store),
    max_limit=MAX_CERTIFICATES,
)
_vars.boolean("AdditionalRootCertificateCheck", False, mutability="ReadOnly")


class CertificatesBlock(CertificateBlock):
    """InstallCertificate, GetInstalledCertificateIds, DeleteCertificate."""

    __slots__ = ()

    keys = tuple(_vars.keys)
    root_check_key = "SecurityCtrlr.AdditionalRootCertificateCheck"

    @on("InstallCertificate")
    def install_certificate(
        self, payload: InstallCertificateRequest, now: float
    ) -> InstallCertificateResponse:
        outcome = self.install(payload["certificateType"], payload["certificate"], now)
        answer: dict[str, object] = {"status": outcome.status}
        if outcome.reason is not None:
            answer["statusInfo"] = {"reasonCode": outcome.reason, "additionalInfo": outcome.info}
        return cast("InstallCertificateResponse", answer)

    @on("GetInstalledCertificateIds")
    def get_installed_certificate_ids(
        self, payload: GetInstalledCertificateIdsRequest, now: float
    ) -> GetInstalledCertificateIdsResponse:
        chains = self.certificates.chains(payload.get("certificateType"))
        if not chains:
            return {"status": "NotFound"}
        return {
            "status": "Accepted",
            "certificateHashDataChain": cast("list[CertificateHashDataChainType]", chains),
        }

    @on("DeleteCertificate")
    def delete_certificate(
        self, payload: DeleteCertificateRequest, now: float
    ) -> DeleteCertificateResponse:
        status = self.certificates.delete(cast("dict[str, object]", payload["certificateHashData"]))
        return cast("DeleteCertificateResponse", {"status": status})
