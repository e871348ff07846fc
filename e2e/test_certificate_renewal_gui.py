"""Station certificate renewal in real Chromium (issue 15, 2.0.1 A02, TC_A_15_CS's flow).

The CSMS installs a CSMS root (the page then installs its vendored ``ecdsa`` wheels in the
background, never at start) and sets SecurityCtrlr.OrganizationName; TriggerMessage
SignChargingStationCertificate is Accepted and the page sends a SignCertificate whose CSR, made
in the browser with a fresh P-256 key, is parsed and checked by ``cryptography`` (signature,
subject CN = the charge box id, O = the organization). The demo CSMS has no CA and answers
Rejected: the Security panel shows the round ended (TC_A_15_CS). The "Renew" button starts
another (A03). Every frame the page sent is schema-checked afterwards (conftest).
"""

from __future__ import annotations

import sys
from pathlib import Path

from ocpp.v201 import call
from pagekit import open_app, screenshot
from playwright.sync_api import Page, expect

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from cert_factory import make
from renewal_ca import read_csr, subject_of


def test_A02_TC_A_15_CS_renewal_in_the_browser(page: Page, csms, console) -> None:
    cb_id = "E2E-201-RENEWAL"
    wheels: list[str] = []
    page.on("request", lambda request: wheels.append(request.url))
    open_app(page, csms.page, url=csms.csms, id=cb_id, ocpp="2.0.1", autoconnect="1")
    expect(page.get_by_test_id("registration")).to_have_text("Accepted")
    expect(page.get_by_test_id("security-renewals")).to_have_text("No renewal requested")
    root = make("E2E Renewal Root")
    answer = csms.call(
        cb_id, call.InstallCertificate(certificate_type="CSMSRootCertificate", certificate=root.pem)
    )
    assert answer.status == "Accepted"
    for _ in range(100):  # the wheels the CSR needs, fetched once a certificate is installed
        if [url for url in wheels if "ecdsa" in url]:
            break
        page.wait_for_timeout(100)
    page.wait_for_timeout(1000)
    result = csms.call(
        cb_id,
        call.SetVariables(
            set_variable_data=[
                {
                    "attribute_value": "E2E CPO",
                    "component": {"name": "SecurityCtrlr"},
                    "variable": {"name": "OrganizationName"},
                }
            ]
        ),
    )
    assert result.set_variable_result[0]["attribute_status"] == "Accepted"
    answer = csms.call(
        cb_id, call.TriggerMessage(requested_message="SignChargingStationCertificate")
    )
    assert answer.status == "Accepted"
    csms.wait_for(lambda: bool(csms.calls_now(cb_id, "SignCertificate")))
    ((_, request),) = csms.calls(cb_id, "SignCertificate")
    assert request["certificateType"] == "ChargingStationCertificate"
    assert subject_of(read_csr(request["csr"])) == {"CN": cb_id, "O": "E2E CPO"}
    expect(page.get_by_test_id("renewal-1-kind")).to_have_text("Station certificate")
    expect(page.get_by_test_id("renewal-1-state")).to_have_text("no renewal pending")
    expect(page.get_by_test_id("renewal-1-status")).to_have_text(
        "SignCertificate Rejected by the CSMS"
    )
    page.get_by_test_id("security-renew").click()
    csms.wait_for(lambda: len(csms.calls_now(cb_id, "SignCertificate")) == 2)
    first, second = (read_csr(p["csr"]) for _, p in csms.calls(cb_id, "SignCertificate"))
    assert first.public_key().public_numbers() != second.public_key().public_numbers()
    screenshot(page, "certificate-renewal")
    assert console.errors == []
