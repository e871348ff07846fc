"""OCPP 1.6 security whitepaper (edition 2) A02/A03, "Update Charge Point Certificate":
ExtendedTriggerMessage SignChargePointCertificate, SignCertificate.req with a real PKCS#10 CSR,
CertificateSigned.req checked and installed or Rejected (the event InvalidChargePointCertificate).

Requirement ids are the whitepaper's (A02.FR.xx of its Table 19, A03.FR.xx of Table 21). The CA
side is the independent ``cryptography`` library (tests/renewal_ca.py). Every frame is
schema-checked (tests/conftest.py).
"""

from __future__ import annotations

import datetime as dt

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from renewal_ca import CHARGE_BOX_ID, ORGANIZATION, Ca, RenewRig16, pem, read_csr, subject_of


@pytest.fixture(scope="module")
def ca() -> Ca:
    return Ca()


def rig_with_root(ca: Ca, **config: str) -> RenewRig16:
    rig = RenewRig16(config=config or None)
    rig.csms.handlers["SignCertificate"] = lambda payload: {"status": "Accepted"}
    rig.csms.handlers["SecurityEventNotification"] = lambda payload: {}
    answer = rig.csms.result(
        "InstallCertificate",
        {"certificateType": "CentralSystemRootCertificate", "certificate": ca.root.pem},
    )
    assert answer["status"] == "Accepted"
    rig.csms.clear()
    return rig


def trigger(rig: RenewRig16) -> str:
    payload = {"requestedMessage": "SignChargePointCertificate"}
    return rig.csms.result("ExtendedTriggerMessage", payload)["status"]


def signed(rig: RenewRig16, chain: str) -> str:
    return rig.csms.result("CertificateSigned", {"certificateChain": chain})["status"]


def csr_of(rig: RenewRig16):  # type: ignore[no-untyped-def]
    (request,) = rig.csms.payloads("SignCertificate")
    assert set(request) == {"csr"}
    return read_csr(request["csr"])


def test_A02_FR_02_FR_03_FR_13_csr_after_extended_trigger(ca: Ca) -> None:
    """ExtendedTriggerMessage Accepted, then SignCertificate.req: a PEM PKCS#10 CSR of a new
    P-256 key, its subject's O the CpoName key (A02.FR.13), CN the station's identity
    (A00.FR.511)."""
    rig = rig_with_root(ca)
    assert trigger(rig) == "Accepted"
    assert rig.csms.actions() == ["SignCertificate"]
    assert subject_of(csr_of(rig)) == {"CN": CHARGE_BOX_ID, "O": ORGANIZATION}


def test_A02_FR_06_FR_08_certificate_installed(ca: Ca) -> None:
    """CertificateSigned.req with root -> intermediate -> leaf for the CSR's key: Accepted,
    and the station's certificate (for the next mTLS connection) is the new one."""
    rig = rig_with_root(ca)
    trigger(rig)
    chain = ca.chain(ca.issue(csr_of(rig)))
    assert signed(rig, chain) == "Accepted"
    mine = rig.cp.station_certificate()
    assert mine is not None and mine.certificate_chain == chain
    assert "BEGIN PRIVATE KEY" in mine.private_key
    assert "ChargingStationCertificate" in [r.kind for r in rig.cp.certificates()]


def test_A02_FR_05_key_never_sent_and_kept_across_restart(ca: Ca) -> None:
    rig = rig_with_root(ca)
    trigger(rig)
    csr = csr_of(rig)
    rig.restart()
    chain = ca.chain(ca.issue(csr))
    assert signed(rig, chain) == "Accepted"
    rig.restart()
    mine = rig.cp.station_certificate()
    assert mine is not None and mine.certificate_chain == chain
    body = "".join(mine.private_key.splitlines()[1:-1])
    assert all(body[:40] not in frame for frame in rig.csms.sent)


@pytest.mark.parametrize("case", ["wrong key", "expired", "broken chain", "uninstalled root"])
def test_A02_FR_07_invalid_certificate_rejected_with_event(ca: Ca, case: str) -> None:
    """Rejected, discarded, and the security event InvalidChargePointCertificate logged (the
    whitepaper's table does not make it critical: logged, not sent)."""
    rig = rig_with_root(ca)
    trigger(rig)
    csr = csr_of(rig)
    if case == "wrong key":
        chain = ca.chain(ca.issue(csr, key=ec.generate_private_key(ec.SECP256R1()).public_key()))
    elif case == "expired":
        old = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
        chain = ca.chain(ca.issue(csr, not_before=old, not_after=old + dt.timedelta(days=30)))
    elif case == "broken chain":
        chain = pem(ca.issue(csr, issuer=Ca("Other").intermediate)) + ca.intermediate.pem
    else:
        other = Ca("Other")
        chain = other.chain(other.issue(csr))
    assert signed(rig, chain) == "Rejected"
    assert rig.cp.station_certificate() is None
    logged = [e.type for e in rig.cp.security_events()]
    assert "InvalidChargePointCertificate" in logged


def test_A03_FR_02_renewal_initiated_by_the_charge_point(ca: Ca) -> None:
    rig = rig_with_root(ca)
    assert rig.cp.renew_certificate(now=rig.now) == "Accepted"
    rig.pump()
    assert signed(rig, ca.chain(ca.issue(csr_of(rig)))) == "Accepted"


def test_A02_prerequisite_cpo_name_must_be_set() -> None:
    """ "The configuration variable CpoName MUST be set": unset, the trigger is Rejected."""
    rig = RenewRig16(config={"CpoName": ""})
    assert trigger(rig) == "Rejected"
    rig.pump()
    assert "SignCertificate" not in rig.csms.actions()


def test_A02_no_repetition_in_16(ca: Ca) -> None:
    """1.6 has no CertSigningWaitMinimum: the CSR is not repeated (error handling: "NOT
    RECOMMENDED to let the Charge Point retry"); its key stays pending."""
    rig = rig_with_root(ca)
    trigger(rig)
    csr = csr_of(rig)
    rig.csms.advance(7200, step=60)
    assert rig.csms.actions().count("SignCertificate") == 1
    assert signed(rig, ca.chain(ca.issue(csr))) == "Accepted"


def test_A02_cpo_name_is_a_configuration_key() -> None:
    rig = RenewRig16()
    answer = rig.csms.result("ChangeConfiguration", {"key": "CpoName", "value": "Other CPO"})
    assert answer == {"status": "Accepted"}
    got = rig.csms.result("GetConfiguration", {"key": ["CpoName"]})
    assert got["configurationKey"][0]["value"] == "Other CPO"


def test_A03_FR_02_renewal_when_the_certificate_expires_in_a_month(ca: Ca) -> None:
    """A03.FR.02: a month before the Charge Point certificate expires, a new key pair and a
    SignCertificate.req, unasked."""
    rig = rig_with_root(ca)
    trigger(rig)
    soon = dt.datetime(2023, 12, 1, tzinfo=dt.UTC)  # within a month of the CSMS clock's start
    first = csr_of(rig)
    assert signed(rig, ca.chain(ca.issue(first, not_after=soon))) == "Accepted"
    rig.csms.advance(5)
    _, request = rig.csms.payloads("SignCertificate")  # at once: it expires within a month
    second = read_csr(request["csr"])
    assert subject_of(second)["CN"] == CHARGE_BOX_ID
    assert second.public_key().public_numbers() != first.public_key().public_numbers()
