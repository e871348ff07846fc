"""Certificate management in the Control Center, in real Chromium (issue 15, 2.0.1 M03-M05).

The CSMS installs a CSMS root and a Manufacturer root made with ``cryptography``
(InstallCertificate); the Security panel lists both with the hash data that
GetInstalledCertificateIds reports, which match the OCSP CertID cryptography computes; an expired
one is Rejected; after a reload (the store is persisted) the CSMS deletes the CSMS root
(DeleteCertificate) and the panel follows. Every frame the page sent is schema-checked afterwards
(conftest).
"""

from __future__ import annotations

import sys
from pathlib import Path

from ocpp.v201 import call
from pagekit import open_app, screenshot, wait_ready
from playwright.sync_api import Page, expect

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from cert_factory import expired, make


def test_M05_M03_M04_certificates_in_the_security_panel(page: Page, csms, console) -> None:
    cb_id = "E2E-201-CERTIFICATES"
    wheels: list[str] = []
    page.on("request", lambda request: wheels.append(request.url))
    open_app(page, csms.page, url=csms.csms, id=cb_id, ocpp="2.0.1", autoconnect="1")
    expect(page.get_by_test_id("registration")).to_have_text("Accepted")
    expect(page.get_by_test_id("security-panel")).to_be_visible()
    expect(page.get_by_test_id("security-certificates")).to_have_text("No certificate installed")

    # The signature library is not fetched at start, only once a certificate is installed.
    assert not [url for url in wheels if "ecdsa" in url]
    root, manufacturer = make("E2E CSMS Root"), make("E2E Manufacturer Root", key_type="rsa")
    for kind, made in (
        ("CSMSRootCertificate", root),
        ("ManufacturerRootCertificate", manufacturer),
    ):
        answer = csms.call(
            cb_id, call.InstallCertificate(certificate_type=kind, certificate=made.pem)
        )
        assert answer.status == "Accepted"
    answer = csms.call(
        cb_id,
        call.InstallCertificate(certificate_type="CSMSRootCertificate", certificate=expired().pem),
    )
    assert answer.status == "Rejected"
    assert answer.status_info["reason_code"] == "InvalidCertificate"

    expect(page.get_by_test_id("certificate-1-kind")).to_have_text("CSMS root")
    expect(page.get_by_test_id("certificate-1-subject")).to_have_text(
        "CN=E2E CSMS Root, O=Test PKI, C=NL"
    )
    expect(page.get_by_test_id("certificate-2-kind")).to_have_text("Manufacturer root")
    expected = root.hash_data()
    expect(page.get_by_test_id("certificate-1-hash-data")).to_contain_text(
        expected["issuerKeyHash"]
    )

    listed = csms.call(cb_id, call.GetInstalledCertificateIds())
    assert listed.status == "Accepted"
    by_type = {
        item["certificate_type"]: item["certificate_hash_data"]
        for item in listed.certificate_hash_data_chain
    }
    assert by_type["CSMSRootCertificate"] == {
        "hash_algorithm": "SHA256",
        "issuer_name_hash": expected["issuerNameHash"],
        "issuer_key_hash": expected["issuerKeyHash"],
        "serial_number": expected["serialNumber"],
    }
    screenshot(page, "certificates")
    for _ in range(100):
        if [url for url in wheels if "ecdsa" in url]:
            break
        page.wait_for_timeout(100)
    assert [url for url in wheels if "ecdsa" in url], wheels

    page.reload()  # the store is persisted
    wait_ready(page)
    expect(page.get_by_test_id("registration")).to_have_text("Accepted")
    expect(page.get_by_test_id("certificate-2-kind")).to_have_text("Manufacturer root")
    hash_data = by_type["CSMSRootCertificate"]
    answer = csms.call(cb_id, call.DeleteCertificate(certificate_hash_data=hash_data))
    assert answer.status == "Accepted"
    expect(page.get_by_test_id("certificate-1-kind")).to_have_text("Manufacturer root")
    expect(page.get_by_test_id("certificate-2")).to_have_count(0)
    assert console.errors == []
