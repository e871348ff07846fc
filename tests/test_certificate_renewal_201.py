"""OCPP 2.0.1 A02/A03, the station's certificate renewed: TriggerMessage
SignChargingStationCertificate / SignV2GCertificate, SignCertificate with a real PKCS#10 CSR,
CertificateSigned checked and installed or Rejected, the CSR repeated after
CertSigningWaitMinimum (doubled) up to CertSigningRepeatTimes; after part 6's TC_A_11_CS,
TC_A_14_CS, TC_A_15_CS and TC_A_23_CS.

The CA side is the independent ``cryptography`` library (tests/renewal_ca.py): the CSR the station
sent is parsed and its signature and subject checked, a leaf for its key is issued from a test
root -> intermediate. Every frame is schema-checked (tests/conftest.py). Requirement ids are the
ones part 6 ties to the test cases (A02.FR.02/03/06/08/09, A02.FR.07, A02.FR.17/18); part 2's body
is not in ../shared, so the other checks are named after their use case.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from cert_factory import make
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from fake_csms import WALL_START
from renewal_ca import CHARGE_BOX_ID, ORGANIZATION, Ca, RenewRig201, pem, read_csr, subject_of

from ocpp_core.certificate_renewal import DOCUMENT
from ocpp_core.store import MemoryStore

STATION = "ChargingStationCertificate"


@pytest.fixture(scope="module")
def ca() -> Ca:
    return Ca()


def rig_with_root(ca: Ca, **config: str) -> RenewRig201:
    rig = RenewRig201(config=config or None)
    rig.csms.handlers["SignCertificate"] = lambda payload: {"status": "Accepted"}
    answer = rig.csms.result(
        "InstallCertificate", {"certificateType": "CSMSRootCertificate", "certificate": ca.root.pem}
    )
    assert answer["status"] == "Accepted"
    rig.csms.clear()
    return rig


def trigger(rig: RenewRig201, message: str = "SignChargingStationCertificate") -> str:
    return rig.csms.result("TriggerMessage", {"requestedMessage": message})["status"]


def signed(rig: RenewRig201, chain: str, kind: str | None = STATION) -> dict:
    payload = {"certificateChain": chain}
    if kind is not None:
        payload["certificateType"] = kind
    return rig.csms.result("CertificateSigned", payload)


def events(rig: RenewRig201) -> list[str]:
    return [p["type"] for p in rig.csms.payloads("SecurityEventNotification")]


def renew(rig: RenewRig201, ca: Ca) -> str:
    """One successful renewal; the chain installed."""
    assert trigger(rig) == "Accepted"
    (request,) = rig.csms.payloads("SignCertificate")
    chain = ca.chain(ca.issue(read_csr(request["csr"])))
    assert signed(rig, chain) == {"status": "Accepted"}
    rig.csms.clear()
    return chain


# ---------------------------------------------------------------- A02 success


def test_TC_A_11_CS_A02_FR_02_FR_03_the_csr(ca: Ca) -> None:
    """TriggerMessage Accepted, then SignCertificate with certificateType and a PEM PKCS#10
    CSR signed by its own P-256 key; subject CN = the station's identity, O =
    SecurityCtrlr.OrganizationName."""
    rig = rig_with_root(ca)
    assert trigger(rig) == "Accepted"
    assert rig.csms.actions() == ["SignCertificate"]
    (request,) = rig.csms.payloads("SignCertificate")
    assert request["certificateType"] == STATION
    csr = read_csr(request["csr"])
    assert subject_of(csr) == {"CN": CHARGE_BOX_ID, "O": ORGANIZATION}
    (row,) = rig.cp.certificate_renewals()
    assert row.kind == STATION and row.pending and row.requests == 1


def test_TC_A_11_CS_A02_FR_06_FR_08_installed_and_used(ca: Ca) -> None:
    """CertificateSigned with a leaf for the CSR's key (root -> intermediate -> leaf): Accepted;
    the station's certificate is the new chain with the CSR's private key (for mTLS)."""
    rig = rig_with_root(ca)
    assert rig.cp.station_certificate() is None
    chain = renew(rig, ca)
    mine = rig.cp.station_certificate()
    assert mine is not None
    assert mine.certificate_chain == chain
    assert mine.subject == f"CN={CHARGE_BOX_ID}, O={ORGANIZATION}"
    assert mine.issuer.startswith("CN=Renewal Sub-CA")
    key = serialization.load_pem_private_key(mine.private_key.encode(), password=None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    leaf = x509.load_pem_x509_certificate(chain.encode())
    assert leaf.public_key().public_numbers() == key.public_key().public_numbers()
    (row,) = rig.cp.certificate_renewals()
    assert not row.pending and row.status.startswith("installed")
    kinds = [r.kind for r in rig.cp.certificates()]
    assert STATION in kinds
    assert events(rig) == []


def test_TC_A_11_CS_A02_FR_09_newest_certificate_replaces(ca: Ca) -> None:
    """A second renewal: its certificate and key replace the first (one station certificate)."""
    rig = rig_with_root(ca)
    first = renew(rig, ca)
    second = renew(rig, ca)
    assert first != second
    mine = rig.cp.station_certificate()
    assert mine is not None and mine.certificate_chain == second
    assert [r.kind for r in rig.cp.certificates()].count(STATION) == 1


def test_A02_FR_02_a_fresh_key_for_every_request(ca: Ca) -> None:
    rig = rig_with_root(ca)
    trigger(rig)
    trigger(rig)
    first, second = (read_csr(p["csr"]) for p in rig.csms.payloads("SignCertificate"))
    assert first.public_key().public_numbers() != second.public_key().public_numbers()


def test_A02_FR_05_the_private_key_never_leaves(ca: Ca) -> None:
    rig = rig_with_root(ca)
    renew(rig, ca)
    mine = rig.cp.station_certificate()
    assert mine is not None
    body = "".join(mine.private_key.splitlines()[1:-1])
    report = rig.csms.result("GetBaseReport", {"requestId": 1, "reportBase": "FullInventory"})
    assert report["status"] == "Accepted"
    rig.csms.pump()
    assert all(body[:40] not in frame for frame in rig.csms.sent)


def test_A03_renewal_initiated_by_the_station(ca: Ca) -> None:
    """The station starts a renewal itself (A03; ChargePoint.renew_certificate)."""
    rig = rig_with_root(ca)
    assert rig.cp.renew_certificate(now=rig.now) == "Accepted"
    rig.pump()
    (request,) = rig.csms.payloads("SignCertificate")
    chain = ca.chain(ca.issue(read_csr(request["csr"])))
    assert signed(rig, chain)["status"] == "Accepted"


def test_A02_certificate_type_absent_means_station_certificate(ca: Ca) -> None:
    rig = rig_with_root(ca)
    trigger(rig)
    (request,) = rig.csms.payloads("SignCertificate")
    chain = ca.chain(ca.issue(read_csr(request["csr"])))
    assert signed(rig, chain, kind=None)["status"] == "Accepted"


def test_A02_v2g_certificate(ca: Ca) -> None:
    """SignV2GCertificate: a CSR of type V2GCertificate; its chain installed as the
    V2GCertificateChain (listed by GetInstalledCertificateIds), checked under a V2G root."""
    v2g = Ca("V2G")
    rig = rig_with_root(ca)
    rig.csms.result(
        "InstallCertificate", {"certificateType": "V2GRootCertificate", "certificate": v2g.root.pem}
    )
    assert trigger(rig, "SignV2GCertificate") == "Accepted"
    (request,) = rig.csms.payloads("SignCertificate")
    assert request["certificateType"] == "V2GCertificate"
    csr = read_csr(request["csr"])
    wrong = ca.chain(ca.issue(csr))  # under the CSMS root, not the V2G root
    assert signed(rig, wrong, "V2GCertificate")["status"] == "Rejected"
    assert signed(rig, v2g.chain(v2g.issue(csr)), "V2GCertificate")["status"] == "Accepted"
    listed = rig.csms.result(
        "GetInstalledCertificateIds", {"certificateType": ["V2GCertificateChain"]}
    )
    assert listed["status"] == "Accepted"
    assert rig.cp.station_certificate("V2GCertificate") is not None
    assert rig.cp.station_certificate() is None


def test_A02_chain_without_an_installed_root(ca: Ca) -> None:
    """No CSMS root installed (security profile 1): the chain's own links are checked only."""
    rig = RenewRig201()
    rig.csms.handlers["SignCertificate"] = lambda payload: {"status": "Accepted"}
    assert trigger(rig) == "Accepted"
    (request,) = rig.csms.payloads("SignCertificate")
    csr = read_csr(request["csr"])
    other = Ca("Other")
    broken = pem(ca.issue(csr, issuer=other.intermediate)) + ca.intermediate.pem
    assert signed(rig, broken)["status"] == "Rejected"
    assert signed(rig, ca.chain(ca.issue(csr)))["status"] == "Accepted"


# ---------------------------------------------------------------- A02 rejections


def _leaf(ca: Ca, csr, case: str) -> str:  # type: ignore[no-untyped-def]
    if case == "wrong key":
        other = ec.generate_private_key(ec.SECP256R1()).public_key()
        return ca.chain(ca.issue(csr, key=other))
    if case == "expired":
        return ca.chain(
            ca.issue(
                csr,
                not_before=dt.datetime(2020, 1, 1, tzinfo=dt.UTC),
                not_after=dt.datetime(2021, 1, 1, tzinfo=dt.UTC),
            )
        )
    if case == "broken chain":  # the leaf is signed by another CA's intermediate
        return pem(ca.issue(csr, issuer=Ca("Other").intermediate)) + ca.intermediate.pem
    if case == "uninstalled root":
        other = Ca("Other")
        return other.chain(other.issue(csr))
    if case == "ca leaf":
        return ca.chain(ca.issue(csr, ca=True))
    if case == "not a certificate":
        return "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"
    raise AssertionError(case)


CASES = [
    "wrong key",
    "expired",
    "broken chain",
    "uninstalled root",
    "ca leaf",
    "not a certificate",
]


@pytest.mark.parametrize("case", CASES)
def test_TC_A_14_CS_A02_FR_07_invalid_certificate_rejected(ca: Ca, case: str) -> None:
    """Rejected with statusInfo InvalidCertificate, the security event
    InvalidChargingStationCertificate sent, the certificate discarded (the one installed
    before stays the station's)."""
    rig = rig_with_root(ca)
    before = renew(rig, ca)
    assert trigger(rig) == "Accepted"
    (request,) = rig.csms.payloads("SignCertificate")
    answer = signed(rig, _leaf(ca, read_csr(request["csr"]), case))
    assert answer["status"] == "Rejected"
    assert answer["statusInfo"]["reasonCode"] == "InvalidCertificate"
    rig.csms.pump()
    assert events(rig) == ["InvalidChargingStationCertificate"]
    mine = rig.cp.station_certificate()
    assert mine is not None and mine.certificate_chain == before
    (row,) = rig.cp.certificate_renewals()
    assert row.pending and "rejected" in row.status


def test_TC_A_14_CS_a_valid_certificate_after_an_invalid_one(ca: Ca) -> None:
    """The CSR's key stays pending after a rejected chain: the right one is then Accepted."""
    rig = rig_with_root(ca)
    trigger(rig)
    (request,) = rig.csms.payloads("SignCertificate")
    csr = read_csr(request["csr"])
    assert signed(rig, _leaf(ca, csr, "expired"))["status"] == "Rejected"
    assert signed(rig, ca.chain(ca.issue(csr)))["status"] == "Accepted"


def test_TC_A_15_CS_sign_certificate_rejected(ca: Ca) -> None:
    """SignCertificateResponse Rejected: the round ends, nothing is repeated, its key is
    dropped (a certificate for it is then Rejected)."""
    rig = rig_with_root(ca, **{"SecurityCtrlr.CertSigningWaitMinimum": "10"})
    rig.csms.handlers["SignCertificate"] = lambda payload: {"status": "Rejected"}
    assert trigger(rig) == "Accepted"
    (request,) = rig.csms.payloads("SignCertificate")
    rig.csms.advance(600, step=5)
    assert rig.csms.actions().count("SignCertificate") == 1
    (row,) = rig.cp.certificate_renewals()
    assert not row.pending and "Rejected" in row.status
    assert signed(rig, ca.chain(ca.issue(read_csr(request["csr"]))))["status"] == "Rejected"


def test_trigger_rejected_without_organization_name() -> None:
    """SecurityCtrlr.OrganizationName is required for the CSR's O: unset, Rejected."""
    rig = RenewRig201(config={"SecurityCtrlr.OrganizationName": ""})
    assert trigger(rig) == "Rejected"
    rig.pump()
    assert "SignCertificate" not in rig.csms.actions()


def test_trigger_rejected_without_key_pairs() -> None:
    rig = RenewRig201()
    rig.cp.certificate_renewal.key_pairs = None
    assert trigger(rig) == "Rejected"


# ---------------------------------------------------------------- A02.FR.17/18 repetitions


def _times(rig: RenewRig201) -> list[float]:
    return [when for _, action, _, when in rig.csms.calls if action == "SignCertificate"]


def test_TC_A_23_CS_A02_FR_17_FR_18_repeated_after_the_wait_doubled(ca: Ca) -> None:
    """No CertificateSigned: a new SignCertificate after CertSigningWaitMinimum, the next after
    twice that (part 6 steps 3, 6, 9), then none (CertSigningRepeatTimes 2); a certificate
    for the CSR of step 3 is still Accepted (step 12)."""
    config = {
        "SecurityCtrlr.CertSigningWaitMinimum": "30",
        "SecurityCtrlr.CertSigningRepeatTimes": "2",
    }
    rig = rig_with_root(ca, **config)
    start = rig.now
    trigger(rig)
    rig.csms.advance(29)
    assert _times(rig) == [start]
    rig.csms.advance(1)
    assert _times(rig) == [start, start + 30]
    rig.csms.advance(59)
    assert len(_times(rig)) == 2
    rig.csms.advance(1)
    assert _times(rig) == [start, start + 30, start + 90]
    rig.csms.advance(1000, step=10)
    assert len(_times(rig)) == 3
    first = read_csr(rig.csms.payloads("SignCertificate")[0]["csr"])
    others = [read_csr(p["csr"]) for p in rig.csms.payloads("SignCertificate")[1:]]
    assert all(
        o.public_key().public_numbers() != first.public_key().public_numbers() for o in others
    )  # "generating another CSR"
    assert signed(rig, ca.chain(ca.issue(first)))["status"] == "Accepted"


@pytest.mark.parametrize("repeats", [0, 1])
def test_A02_FR_17_repeat_times_limits_the_repetitions(ca: Ca, repeats: int) -> None:
    config = {
        "SecurityCtrlr.CertSigningWaitMinimum": "10",
        "SecurityCtrlr.CertSigningRepeatTimes": str(repeats),
    }
    rig = rig_with_root(ca, **config)
    trigger(rig)
    rig.csms.advance(1000, step=5)
    assert len(_times(rig)) == 1 + repeats


def test_A02_FR_17_no_repetition_once_installed(ca: Ca) -> None:
    config = {"SecurityCtrlr.CertSigningWaitMinimum": "10"}
    rig = rig_with_root(ca, **config)
    renew(rig, ca)
    rig.csms.advance(1000, step=5)
    assert "SignCertificate" not in rig.csms.actions()


# ---------------------------------------------------------------- persistence


def test_A02_FR_05_pending_key_kept_across_a_restart(ca: Ca) -> None:
    """The CSR's key is stored before SignCertificate leaves; after a restart the certificate
    for it is Accepted and, after another restart, still the station's with its key."""
    rig = rig_with_root(ca, **{"SecurityCtrlr.CertSigningRepeatTimes": "0"})
    trigger(rig)
    (request,) = rig.csms.payloads("SignCertificate")
    assert "BEGIN PRIVATE KEY" in str(rig.store.load(DOCUMENT))
    rig.restart()
    chain = ca.chain(ca.issue(read_csr(request["csr"])))
    assert signed(rig, chain)["status"] == "Accepted"
    rig.restart()
    mine = rig.cp.station_certificate()
    assert mine is not None and mine.certificate_chain == chain


def test_A02_FR_17_repetition_after_a_restart(ca: Ca) -> None:
    """A pending round waits again after a restart, then sends its next CSR."""
    config = {"SecurityCtrlr.CertSigningWaitMinimum": "30"}
    rig = rig_with_root(ca, **config)
    trigger(rig)
    rig.csms.advance(10)
    rig.restart()
    restarted = rig.now
    rig.csms.advance(40)
    times = _times(rig)
    assert len(times) == 2 and times[1] == restarted + 30


def test_installed_certificate_without_its_key_document() -> None:
    """A damaged key document: no station certificate (no key), not a crash."""
    store = MemoryStore()
    store.save(DOCUMENT, ["not", "a", "document"])
    rig = RenewRig201(store=store)
    assert rig.cp.station_certificate() is None
    assert rig.cp.certificate_renewals() == []


def test_leaf_signature_checked_with_the_issuer_key(ca: Ca) -> None:
    """A leaf naming the intermediate as issuer but signed by another key: a broken chain."""
    rig = rig_with_root(ca)
    trigger(rig)
    (request,) = rig.csms.payloads("SignCertificate")
    impostor = make("Renewal Sub-CA", ca.root)  # the intermediate's name, another key
    leaf = ca.issue(read_csr(request["csr"]), issuer=impostor)
    assert signed(rig, pem(leaf) + ca.intermediate.pem)["status"] == "Rejected"


def test_A02_FR_08_renewed_pair_loads_as_a_tls_client_certificate(ca: Ca, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """What the TLS side does with station_certificate(): Python's ssl takes the PEM chain and
    the PKCS#8 key as the client certificate (it refuses a key that does not match)."""
    import ssl

    rig = rig_with_root(ca)
    renew(rig, ca)
    mine = rig.cp.station_certificate()
    assert mine is not None
    (tmp_path / "chain.pem").write_text(mine.certificate_chain)
    (tmp_path / "key.pem").write_text(mine.private_key)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.load_cert_chain(tmp_path / "chain.pem", tmp_path / "key.pem")
    other = make("Unrelated", ca.root)
    (tmp_path / "other.pem").write_text(other.pem)
    with pytest.raises(ssl.SSLError):
        context.load_cert_chain(tmp_path / "other.pem", tmp_path / "key.pem")


def test_TC_M_23_CS_renewed_station_certificate_not_deletable(ca: Ca) -> None:
    """DeleteCertificate of the renewed station certificate (its hash data as OCSP computes
    it): Failed (M04.FR.05); it stays the station's."""
    from cert_factory import Made

    rig = rig_with_root(ca)
    chain = renew(rig, ca)
    leaf = Made(x509.load_pem_x509_certificate(chain.encode()), None)
    answer = rig.csms.result(
        "DeleteCertificate", {"certificateHashData": leaf.hash_data(ca.intermediate)}
    )
    assert answer["status"] == "Failed"
    assert rig.cp.station_certificate() is not None


def test_A03_renewal_a_month_before_expiry(ca: Ca) -> None:
    """A03: the station renews its certificate itself when it will expire in one month (30
    days before notAfter), once: a CSMS that rejects is not asked again in this run."""
    rig = rig_with_root(ca)
    trigger(rig)
    (request,) = rig.csms.payloads("SignCertificate")
    expires = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)  # the CSMS clock starts 2023-11-14T22:13:20Z
    chain = ca.chain(ca.issue(read_csr(request["csr"]), not_after=expires))
    assert signed(rig, chain)["status"] == "Accepted"
    rig.csms.clear()
    due = expires.timestamp() - 30 * 86400 - (WALL_START + rig.now)
    rig.csms.advance(due - 600, step=3600)
    assert "SignCertificate" not in rig.csms.actions()
    rig.csms.handlers["SignCertificate"] = lambda payload: {"status": "Rejected"}
    rig.csms.advance(1200, step=60)
    (request,) = rig.csms.payloads("SignCertificate")
    assert request["certificateType"] == STATION
    rig.csms.advance(86400, step=3600)
    assert rig.csms.actions().count("SignCertificate") == 1


def test_TC_A_11_CS_A02_FR_08_used_from_its_not_before(ca: Ca) -> None:
    """A certificate not valid yet is Accepted and becomes the station's at its notBefore
    (the previous one used until then), also across a restart."""
    rig = rig_with_root(ca)
    before = renew(rig, ca)
    trigger(rig)
    (request,) = rig.csms.payloads("SignCertificate")
    start = dt.datetime.fromtimestamp(WALL_START + rig.now + 3600, tz=dt.UTC)
    later = ca.chain(ca.issue(read_csr(request["csr"]), not_before=start))
    assert signed(rig, later)["status"] == "Accepted"
    mine = rig.cp.station_certificate()
    assert mine is not None and mine.certificate_chain == before
    (row,) = rig.cp.certificate_renewals()
    assert not row.pending and "in use from" in row.status
    rig.csms.advance(1800, step=60)
    rig.restart()
    mine = rig.cp.station_certificate()
    assert mine is not None and mine.certificate_chain == before
    rig.csms.advance(4000, step=60)
    mine = rig.cp.station_certificate()
    assert mine is not None and mine.certificate_chain == later
    assert rig.cp.certificate_renewals()[0].status.startswith("installed")


def _server_context(ca: Ca, tmp_path) -> Any:  # type: ignore[no-untyped-def]
    """A TLS server for 127.0.0.1 that requires a client certificate under ``ca``'s root."""
    import ipaddress
    import ssl

    from cryptography.hazmat.primitives import hashes

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(x509.oid.NameOID.COMMON_NAME, "127.0.0.1")])
    server = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(ca.intermediate.certificate.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(dt.datetime(2023, 1, 1, tzinfo=dt.UTC))
        .not_valid_after(dt.datetime(2040, 1, 1, tzinfo=dt.UTC))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(ca.intermediate.key, hashes.SHA256())
    )
    (tmp_path / "server.pem").write_text(pem(server) + ca.intermediate.pem)
    (tmp_path / "server.key").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    (tmp_path / "ca.pem").write_text(ca.root.pem)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tmp_path / "server.pem", tmp_path / "server.key")
    context.load_verify_locations(tmp_path / "ca.pem")
    context.verify_mode = ssl.CERT_REQUIRED
    return context


def _handshake(server_context, client_context) -> dict:  # type: ignore[no-untyped-def]
    """One TLS handshake over loopback; the certificate the server saw from the client."""
    import socket
    import threading

    listener = socket.create_server(("127.0.0.1", 0))
    seen: dict = {}

    def serve() -> None:
        connection, _ = listener.accept()
        try:
            with server_context.wrap_socket(connection, server_side=True) as tls:
                seen.update(tls.getpeercert() or {})
        except OSError as exc:
            seen["error"] = exc

    thread = threading.Thread(target=serve)
    thread.start()
    try:
        with (
            socket.create_connection(listener.getsockname()) as raw,
            client_context.wrap_socket(raw, server_hostname="127.0.0.1") as tls,
        ):
            assert tls.version() is not None
    finally:
        thread.join(10)
        listener.close()
    return seen


def test_A02_renewed_certificate_for_mutual_tls(ca: Ca, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Security profile 3 with the renewed certificate: a TLS server requiring client
    certificates under the CSMS root accepts the station's (the CN its charge box id), and
    after another renewal sees the new one."""
    import ssl

    server = _server_context(ca, tmp_path)
    rig = rig_with_root(ca)
    serials = []
    for round_ in range(2):
        renew(rig, ca)
        mine = rig.cp.station_certificate()
        assert mine is not None
        (tmp_path / f"chain{round_}.pem").write_text(mine.certificate_chain)
        (tmp_path / f"key{round_}.pem").write_text(mine.private_key)
        client = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        client.load_verify_locations(tmp_path / "ca.pem")
        client.load_cert_chain(tmp_path / f"chain{round_}.pem", tmp_path / f"key{round_}.pem")
        seen = _handshake(server, client)
        assert "error" not in seen, seen
        assert tuple(rdn for rdn in seen["subject"] if rdn[0][0] == "commonName") == (
            (("commonName", CHARGE_BOX_ID),),
        )
        serials.append(seen["serialNumber"])
    leaf = x509.load_pem_x509_certificate(mine.certificate_chain.encode())
    assert serials[0] != serials[1] == format(leaf.serial_number, "X").rjust(len(serials[1]), "0")
