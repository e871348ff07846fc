"""OCPP 2.0.1 A01 on the station's side: SetVariables SecurityCtrlr.BasicAuthPassword changes the
HTTP Basic password, the station reconnects with the new one (TC_A_09_CS); a password the station
cannot take (fewer than 16 characters) is Rejected and the old one stays in use (TC_A_10_CS). The
password never shows in what the station logs or emits (A01.FR.12)."""

from __future__ import annotations

from station_fakes import FakeBackend, Rig

OLD = "old-password-0123456789"
NEW = "new-password-ABCDEFGHIJ"


def set_password(backend: FakeBackend, rig: Rig, value: str) -> str:
    message_id = backend.call(
        "SetVariables",
        {
            "setVariableData": [
                {
                    "component": {"name": "SecurityCtrlr"},
                    "variable": {"name": "BasicAuthPassword"},
                    "attributeValue": value,
                }
            ]
        },
    )
    rig.run(0.0)
    return backend.replies[message_id][2]["setVariableResult"][0]["attributeStatus"]


def test_TC_A_09_CS_the_station_reconnects_with_the_new_password() -> None:
    backend = FakeBackend(password=OLD)
    rig = Rig(backend, ocpp_version="2.0.1", auth_key=OLD).boot()
    assert set_password(backend, rig, NEW) in ("Accepted", "RebootRequired")
    backend.password = NEW  # the CSMS takes only the new credentials from now on
    rig.run(5.0)
    assert backend.connections[-1].auth_key == NEW
    assert rig.station.engine.is_connected
    assert NEW not in repr(rig.events) and OLD not in repr(rig.events)


def test_TC_A_10_CS_a_short_password_is_rejected_and_the_old_one_stays() -> None:
    backend = FakeBackend(password=OLD)
    rig = Rig(backend, ocpp_version="2.0.1", auth_key=OLD).boot()
    connections = len(backend.connections)
    assert set_password(backend, rig, "too-short") == "Rejected"
    rig.run(5.0)
    assert len(backend.connections) == connections  # no reconnect: nothing changed
    assert backend.connections[-1].auth_key == OLD
    rig.station.disconnect()
    rig.run(0.0)
    rig.station.connect()
    rig.run(1.0)
    assert backend.connections[-1].auth_key == OLD
    assert rig.station.engine.is_connected
