"""Certificate management of the OCPP 1.6 security whitepaper (edition 2): M03
GetInstalledCertificateIds, M04 DeleteCertificate, M05 InstallCertificate.

The store and its rules are ocpp_core/certificate_store.py (shared with 2.0.1, whose name
CSMSRootCertificate this version calls CentralSystemRootCertificate). Keys (whitepaper §7):
CertificateStoreMaxLength (R, the most Root/CA certificates installed, M05.FR.03) and
AdditionalRootCertificateCheck (R, M05.FR.08-13), both set by the station's factory
configuration. An installed certificate is stored before the answer leaves; 1.6's
InstallCertificate.conf has no reason field, so Rejected (invalid, expired, not a CA, store
full, not signed by the root in force) and Failed (the store refused the write) say all.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from ocpp_core.block import on
from ocpp_core.certificate_store import CSMS_ROOT, MAX_CERTIFICATES, CertificateBlock
from ocpp_core.config import KeyDeclarer, R

if TYPE_CHECKING:
    from ocpp_core.v16.payloads import (
        CertificateHashDataType,
        DeleteCertificateRequest,
        DeleteCertificateResponse,
        GetInstalledCertificateIdsRequest,
        GetInstalledCertificateIdsResponse,
        InstallCertificateRequest,
        InstallCertificateResponse,
    )

__all__ = ["CertificatesBlock"]

_CENTRAL_SYSTEM_ROOT = "CentralSystemRootCertificate"

_keys = KeyDeclarer(__name__)
_keys.integer("CertificateStoreMaxLength", MAX_CERTIFICATES, access=R, minimum=0)
_keys.boolean("AdditionalRootCertificateCheck", False, access=R)


def _kind(certificate_type: str) -> str:
    """The store's kind of a 1.6 CertificateUseEnumType."""
    return CSMS_ROOT if certificate_type == _CENTRAL_SYSTEM_ROOT else certificate_type


class CertificatesBlock(CertificateBlock):
    """InstallCertificate, GetInstalledCertificateIds, DeleteCertificate."""

    __slots__ = ()

    keys = tuple(_keys.keys)
    limit_key = "CertificateStoreMaxLength"
    root_check_key = "AdditionalRootCertificateCheck"

    @on("InstallCertificate")
    def install_certificate(
        self, payload: InstallCertificateRequest, now: float
    ) -> InstallCertificateResponse:
        kind = _kind(payload["certificateType"])
        outcome = self.install(kind, payload["certificate"], now)
        return cast("InstallCertificateResponse", {"status": outcome.status})

    @on("GetInstalledCertificateIds")
    def get_installed_certificate_ids(
        self, payload: GetInstalledCertificateIdsRequest, now: float
    ) -> GetInstalledCertificateIdsResponse:
        chains = self.certificates.chains([_kind(payload["certificateType"])])
        if not chains:
            return {"status": "NotFound"}
        hash_data = [cast("CertificateHashDataType", c["certificateHashData"]) for c in chains]
        return {"status": "Accepted", "certificateHashData": hash_data}

    @on("DeleteCertificate")
    def delete_certificate(
        self, payload: DeleteCertificateRequest, now: float
    ) -> DeleteCertificateResponse:
        status = self.certificates.delete(cast("dict[str, object]", payload["certificateHashData"]))
        return cast("DeleteCertificateResponse", {"status": status})
