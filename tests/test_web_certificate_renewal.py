"""The Control Center's view of certificate renewal (A02/A03, issue 15): the Security panel's
plain-Python renewal rows (control_center/security_model.py renewal_lines) and the Station API it
reads (Station.certificate_renewals, station_certificate, renew_certificate), for 1.6 and 2.0.1,
on a simulated station whose engine gets the sim's key pairs (sim/engines.py) against a fake
backend; the CA side is ``cryptography`` (tests/renewal_ca.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from renewal_ca import Ca, read_csr, subject_of
from station_fakes import FakeBackend, Rig

from ocpp_core import MemoryStore
from ocpp_core.certificate_renewal import RenewalRow

WEB = Path(__file__).resolve().parent.parent / "web"
sys.path.insert(0, str(WEB))

from control_center.security_model import certificate_lines, renewal_lines  # noqa: E402

ROOT_TYPE = {"1.6": "CentralSystemRootCertificate", "2.0.1": "CSMSRootCertificate"}
TRIGGER = {
    "1.6": ("ExtendedTriggerMessage", "SignChargePointCertificate"),
    "2.0.1": ("TriggerMessage", "SignChargingStationCertificate"),
}


def test_renewal_lines() -> None:
    rows = [
        RenewalRow("ChargingStationCertificate", True, 2, "SignCertificate 2: Accepted, waiting"),
        RenewalRow("V2GCertificate", False, 0, "installed: CN=CS-1, O=CPO"),
    ]
    first, second = renewal_lines(rows)
    assert (first.key, first.kind, first.state) == (
        "renewal-1",
        "Station certificate",
        "renewal pending (2 CSR sent)",
    )
    assert (second.key, second.kind, second.state, second.status) == (
        "renewal-2",
        "V2G",
        "no renewal pending",
        "installed: CN=CS-1, O=CPO",
    )


def _organization(rig: Rig, backend: FakeBackend, version: str) -> None:
    if version == "1.6":
        backend.call("ChangeConfiguration", {"key": "CpoName", "value": "Panel CPO"})
    else:
        item = {
            "component": {"name": "SecurityCtrlr"},
            "variable": {"name": "OrganizationName"},
            "attributeValue": "Panel CPO",
        }
        backend.call("SetVariables", {"setVariableData": [item]})
    rig.run(1.0)


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
def test_renewal_through_the_station(version: str) -> None:
    """Triggered by the CSMS: the CSR names the charge box id and the organization; the
    certificate for it becomes the station's (shown as 'Station certificate'), with its key."""
    backend = FakeBackend()
    backend.handlers["SignCertificate"] = lambda payload: {"status": "Accepted"}
    rig = Rig(backend, store=MemoryStore(), ocpp_version=version).boot()
    ca = Ca("Panel")
    backend.call(
        "InstallCertificate", {"certificateType": ROOT_TYPE[version], "certificate": ca.root.pem}
    )
    _organization(rig, backend, version)
    assert renewal_lines(rig.station.certificate_renewals()) == []
    action, message = TRIGGER[version]
    backend.call(action, {"requestedMessage": message})
    rig.run(1.0)
    (request,) = backend.payloads("SignCertificate")
    csr = read_csr(request["csr"])
    assert subject_of(csr) == {"CN": rig.settings.charge_box_id, "O": "Panel CPO"}
    (line,) = renewal_lines(rig.station.certificate_renewals())
    assert line.state == "renewal pending (1 CSR sent)"
    backend.call("CertificateSigned", {"certificateChain": ca.chain(ca.issue(csr))})
    rig.run(1.0)
    (line,) = renewal_lines(rig.station.certificate_renewals())
    assert line.state == "no renewal pending" and line.status.startswith("installed: CN=")
    kinds = [c.kind for c in certificate_lines(rig.station.certificates())]
    assert "Station certificate" in kinds
    mine = rig.station.station_certificate()
    assert mine is not None and mine.subject.startswith(f"CN={rig.settings.charge_box_id}")


def test_renew_button_starts_a_renewal() -> None:
    backend = FakeBackend()
    backend.handlers["SignCertificate"] = lambda payload: {"status": "Accepted"}
    rig = Rig(backend, store=MemoryStore(), ocpp_version="2.0.1").boot()
    assert rig.station.renew_certificate() == "Rejected"  # no OrganizationName yet
    (line,) = renewal_lines(rig.station.certificate_renewals())
    assert "OrganizationName is not set" in line.status
    _organization(rig, backend, "2.0.1")
    assert rig.station.renew_certificate() == "Accepted"
    rig.run(1.0)
    assert len(backend.payloads("SignCertificate")) == 1
