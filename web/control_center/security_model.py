"""The "Security" panel's model (plain Python): the installed certificates (Station.certificates,
1.6 security whitepaper and 2.0.1 M03-M05) as rows of text, hash data included, so a CSMS tester
can compare what GetInstalledCertificateIds will report.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from ocpp_core.certificate_renewal import RenewalRow
    from ocpp_core.certificate_store import CertificateRow

__all__ = ["CertificateLine", "RenewalLine", "certificate_lines", "renewal_lines"]

_KINDS = {
    "CSMSRootCertificate": "CSMS root",
    "ManufacturerRootCertificate": "Manufacturer root",
    "V2GRootCertificate": "V2G root",
    "MORootCertificate": "MO root",
    "V2GCertificateChain": "V2G chain",
    "ChargingStationCertificate": "Station certificate",
}


class CertificateLine(NamedTuple):
    """One installed certificate: its test id suffix and its cells."""

    key: str  # "certificate-1"
    kind: str  # "CSMS root", "CSMS root (fallback)"
    subject: str
    issuer: str
    validity: str  # "2023-01-01 to 2040-01-01"
    hash_data: str  # "SHA256 name … key … serial …"


def _day(timestamp: str) -> str:
    return timestamp[:10]


def certificate_lines(rows: list[CertificateRow]) -> list[CertificateLine]:
    """The installed certificates in the station's order (the order they were installed)."""
    lines = []
    for number, row in enumerate(rows, start=1):
        kind = _KINDS.get(row.kind, row.kind)
        if row.fallback:
            kind += " (fallback)"
        data = row.hash_data
        hash_text = (
            f"{data['hashAlgorithm']} issuerNameHash {data['issuerNameHash']} "
            f"issuerKeyHash {data['issuerKeyHash']} serialNumber {data['serialNumber']}"
        )
        lines.append(
            CertificateLine(
                f"certificate-{number}",
                kind,
                row.subject,
                row.issuer,
                f"{_day(row.valid_from)} to {_day(row.valid_to)} · {row.key}",
                hash_text,
            )
        )
    return lines


_SIGNING_KINDS = {"ChargingStationCertificate": "Station certificate", "V2GCertificate": "V2G"}


class RenewalLine(NamedTuple):
    """One certificate kind's renewal (A02/A03): its test id suffix and its cells."""

    key: str  # "renewal-1"
    kind: str  # "Station certificate" / "V2G"
    state: str  # "renewal pending (1 CSR sent)" / "no renewal pending"
    status: str  # the latest outcome: "installed: CN=...", "CertificateSigned rejected: ..."


def renewal_lines(rows: list[RenewalRow]) -> list[RenewalLine]:
    """The renewals the CSMS (or the station) started, in the station's order."""
    return [
        RenewalLine(
            f"renewal-{number}",
            _SIGNING_KINDS.get(row.kind, row.kind),
            f"renewal pending ({row.requests} CSR sent)" if row.pending else "no renewal pending",
            row.status,
        )
        for number, row in enumerate(rows, start=1)
    ]
