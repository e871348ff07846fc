"""OCPP 2.0.1 A02/A03: the station's certificate renewed through SignCertificate and
CertificateSigned, TriggerMessage SignChargingStationCertificate / SignV2GCertificate (F06).

The logic is ocpp_core/certificate_renewal.py (shared with 1.6). Variables: SecurityCtrlr
.OrganizationName (declared in v201/components.py; the CSR's O, required: empty, the trigger is
Rejected), SecurityCtrlr.CertSigningWaitMinimum (s) and SecurityCtrlr.CertSigningRepeatTimes
(A02.FR.17/18: a new CSR after the wait, doubled at each repetition, at most RepeatTimes more;
0 = never repeated). A V2GCertificate CSR has the same subject (CN the station's identity, O the
organization; ISO 15118's SECC naming is not simulated). A CertificateSigned whose chain does not
pass is Rejected with statusInfo reasonCode InvalidCertificate, additionalInfo why, and the
security event InvalidChargingStationCertificate (A02.FR.07, TC_A_14).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from ocpp_core.block import on, trigger
from ocpp_core.certificate_renewal import STATION, V2G, RenewalBlock
from ocpp_core.v201.variables import VariableDeclarer

if TYPE_CHECKING:
    from ocpp_core.v201.payloads import CertificateSignedRequest, CertificateSignedResponse

__all__ = ["CertificateRenewalBlock"]

_vars = VariableDeclarer(__name__, "SecurityCtrlr")
_vars.integer("CertSigningWaitMinimum", 60, unit="s")
_vars.integer("CertSigningRepeatTimes", 3)


class CertificateRenewalBlock(RenewalBlock):
    """SignCertificate (sent), CertificateSigned, their triggers."""

    __slots__ = ()

    keys = tuple(_vars.keys)
    sends = ("SignCertificate",)
    organization_key = "SecurityCtrlr.OrganizationName"
    wait_key = "SecurityCtrlr.CertSigningWaitMinimum"
    repeat_key = "SecurityCtrlr.CertSigningRepeatTimes"

    def sign_payload(self, kind: str, csr: str) -> dict[str, object]:
        return {"csr": csr, "certificateType": kind}

    @trigger("SignChargingStationCertificate")
    def trigger_station_certificate(self, evse: int | None, now: float) -> str:
        return self.start(STATION, now)

    @trigger("SignV2GCertificate")
    def trigger_v2g_certificate(self, evse: int | None, now: float) -> str:
        return self.start(V2G, now)

    @on("CertificateSigned")
    def certificate_signed_request(
        self, payload: CertificateSignedRequest, now: float
    ) -> CertificateSignedResponse:
        kind = payload.get("certificateType", STATION)
        problem = self.certificate_signed(kind, payload["certificateChain"], now)
        if not problem:
            return {"status": "Accepted"}
        info = {"reasonCode": "InvalidCertificate", "additionalInfo": problem[:512]}
        return cast("CertificateSignedResponse", {"status": "Rejected", "statusInfo": info})
