"""OCPP 1.6 security whitepaper (edition 2) A02/A03: the Charge Point certificate renewed through
SignCertificate.req and CertificateSigned.req; ExtendedTriggerMessage SignChargePointCertificate
(v16/trigger.py EXTENDED_SENDERS maps it to this block's SignCertificate sender).

The logic is ocpp_core/certificate_renewal.py (shared with 2.0.1). Key (whitepaper §7.5): CpoName
(RW; the CSR's O, A02.FR.13; the use cases' prerequisite "MUST be set": empty, the trigger is
Rejected). 1.6 has no CertSigningWaitMinimum / CertSigningRepeatTimes: a CSR is not repeated
(the whitepaper's error handling: "NOT RECOMMENDED to let the Charge Point retry"); its key stays
pending until a certificate for it arrives or the next trigger starts a new round.
CertificateSigned.conf has only a status: an invalid chain is Rejected and the security event
InvalidChargePointCertificate raised (A02.FR.07 / A03.FR.07).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ocpp_core.block import on, trigger
from ocpp_core.certificate_renewal import STATION, RenewalBlock
from ocpp_core.config import RW, KeyDeclarer

if TYPE_CHECKING:
    from ocpp_core.v16.payloads import CertificateSignedRequest, CertificateSignedResponse

__all__ = ["CertificateRenewalBlock"]

_keys = KeyDeclarer(__name__)
_keys.string("CpoName", "", access=RW)


class CertificateRenewalBlock(RenewalBlock):
    """SignCertificate (sent), CertificateSigned, the ExtendedTriggerMessage sender."""

    __slots__ = ()

    keys = tuple(_keys.keys)
    sends = ("SignCertificate",)
    organization_key = "CpoName"

    def sign_payload(self, kind: str, csr: str) -> dict[str, object]:
        return {"csr": csr}

    @trigger("SignCertificate")
    def trigger_sign_certificate(self, connector_id: int | None, now: float) -> str:
        return self.start(STATION, now)

    @on("CertificateSigned")
    def certificate_signed_request(
        self, payload: CertificateSignedRequest, now: float
    ) -> CertificateSignedResponse:
        problem = self.certificate_signed(STATION, payload["certificateChain"], now)
        return {"status": "Rejected" if problem else "Accepted"}
