"""Configuration keys, GetConfiguration and ChangeConfiguration (OCPP 1.6 §5.3, §5.8, §9;
MicroOcpp tests/Configuration.cpp; security whitepaper AuthorizationKey)."""

from __future__ import annotations

import json
import logging

import pytest
from fake_csms import IDENTITY, booted, station

from ocpp_core import ChargePoint, ConfigurationChanged, FrameLogged
from ocpp_core.assembly import for_version
from ocpp_core.config import MAX_INTEGER, RW, Configuration, KeyDeclarer, KeyTable, R, W
from ocpp_core.store import FileStore, MemoryStore
from ocpp_core.v16 import PROFILES

AUTH_KEY = "0123456789abcdef0123456789ABCDEF"  # 16 bytes as hex

# Every standard key of the Core profile (OCPP 1.6 §9.1): required?, accessibility, type.
# "R/RW": the spec leaves the choice to the Charge Point.
CORE_KEYS = {
    "AllowOfflineTxForUnknownId": (False, RW, "bool"),
    "AuthorizationCacheEnabled": (False, RW, "bool"),
    "AuthorizeRemoteTxRequests": (True, "R/RW", "bool"),
    "BlinkRepeat": (False, RW, "int"),
    "ClockAlignedDataInterval": (True, RW, "int"),
    "ConnectionTimeOut": (True, RW, "int"),
    "ConnectorPhaseRotation": (True, RW, "csl"),
    "ConnectorPhaseRotationMaxLength": (False, R, "int"),
    "GetConfigurationMaxKeys": (True, R, "int"),
    "HeartbeatInterval": (True, RW, "int"),
    "LightIntensity": (False, RW, "int"),
    "LocalAuthorizeOffline": (True, RW, "bool"),
    "LocalPreAuthorize": (True, RW, "bool"),
    "MaxEnergyOnInvalidId": (False, RW, "int"),
    "MeterValuesAlignedData": (True, RW, "csl"),
    "MeterValuesAlignedDataMaxLength": (False, R, "int"),
    "MeterValuesSampledData": (True, RW, "csl"),
    "MeterValuesSampledDataMaxLength": (False, R, "int"),
    "MeterValueSampleInterval": (True, RW, "int"),
    "MinimumStatusDuration": (False, RW, "int"),
    "NumberOfConnectors": (True, R, "int"),
    "ResetRetries": (True, RW, "int"),
    "StopTransactionOnEVSideDisconnect": (True, RW, "bool"),
    "StopTransactionOnInvalidId": (True, RW, "bool"),
    "StopTxnAlignedData": (True, RW, "csl"),
    "StopTxnAlignedDataMaxLength": (False, R, "int"),
    "StopTxnSampledData": (True, RW, "csl"),
    "StopTxnSampledDataMaxLength": (False, R, "int"),
    "SupportedFeatureProfiles": (True, R, "csl"),
    "SupportedFeatureProfilesMaxLength": (False, R, "int"),
    "TransactionMessageAttempts": (True, RW, "int"),
    "TransactionMessageRetryInterval": (True, RW, "int"),
    "UnlockConnectorOnEVSideDisconnect": (True, RW, "bool"),
    "WebSocketPingInterval": (False, RW, "int"),
}
REQUIRED_CORE_KEYS = {name for name, (required, _, _) in CORE_KEYS.items() if required}


def get(csms, keys: list[str] | None = None) -> dict:
    return csms.result("GetConfiguration", {} if keys is None else {"key": keys})


def values(response: dict) -> dict[str, tuple[str, bool]]:
    return {e["key"]: (e["value"], e["readonly"]) for e in response["configurationKey"]}


def change(csms, key: str, value: str) -> str:
    return csms.result("ChangeConfiguration", {"key": key, "value": value})["status"]


# ---------------------------------------------------------------------- GetConfiguration


def test_get_all_keys_lists_every_readable_key() -> None:
    _cp, csms = booted()
    listed = values(get(csms))
    assert listed.keys() >= REQUIRED_CORE_KEYS
    assert "AuthorizationKey" not in listed
    assert listed["HeartbeatInterval"] == ("300", False)
    assert listed["NumberOfConnectors"] == ("2", True)
    assert listed["GetConfigurationMaxKeys"] == ("64", True)
    assert listed["StopTransactionOnInvalidId"] == ("true", False)
    assert listed["LocalPreAuthorize"] == ("false", False)
    assert listed["MeterValuesSampledData"] == ("Energy.Active.Import.Register", False)
    assert len(listed) <= 64


def test_every_core_key_of_section_9_1_is_declared_with_its_access_and_type() -> None:
    assert len(CORE_KEYS) == 34  # 9.1.1 .. 9.1.34
    table = for_version("1.6").keys
    for name, (_required, access, kind) in CORE_KEYS.items():
        key = table.by_name.get(name)
        assert key is not None, name
        assert key.type == kind, name
        assert key.access in ((R, RW) if access == "R/RW" else (access,)), name
    _cp, csms = booted()
    listed = values(get(csms))
    for name in CORE_KEYS:
        assert listed[name][1] is (table.by_name[name].access == R), name


def test_lights_keys_are_plain_stored_keys() -> None:
    store = MemoryStore()
    _cp, csms = booted(store=store)
    assert values(get(csms, ["BlinkRepeat", "LightIntensity"])) == {
        "BlinkRepeat": ("3", False),
        "LightIntensity": ("100", False),
    }
    assert change(csms, "LightIntensity", "101") == "Rejected"
    assert change(csms, "LightIntensity", "-1") == "Rejected"
    assert change(csms, "LightIntensity", "0") == "Accepted"
    assert change(csms, "BlinkRepeat", "10") == "Accepted"
    assert change(csms, "BlinkRepeat", "-1") == "Rejected"
    rebooted = ChargePoint(identity=IDENTITY, store=store)
    assert rebooted.get_configuration("LightIntensity") == "0"
    assert rebooted.get_configuration("BlinkRepeat") == "10"


def test_supported_feature_profiles_max_length_bounds_the_list() -> None:
    cp, csms = booted()
    assert values(get(csms, ["SupportedFeatureProfilesMaxLength"])) == {
        "SupportedFeatureProfilesMaxLength": ("6", True)
    }
    assert len(PROFILES) == 6
    assert len(cp.get_configuration("SupportedFeatureProfiles").split(",")) <= 6


def test_empty_key_list_means_all_keys() -> None:
    _cp, csms = booted()
    assert get(csms, []) == get(csms)


def test_get_specific_keys_and_unknown_keys() -> None:
    _cp, csms = booted()
    response = get(csms, ["HeartbeatInterval", "NoSuchKey", "NumberOfConnectors", "Other"])
    assert response == {
        "configurationKey": [
            {"key": "HeartbeatInterval", "readonly": False, "value": "300"},
            {"key": "NumberOfConnectors", "readonly": True, "value": "2"},
        ],
        "unknownKey": ["NoSuchKey", "Other"],
    }


def test_only_unknown_keys() -> None:
    _cp, csms = booted()
    assert get(csms, ["Nope"]) == {"configurationKey": [], "unknownKey": ["Nope"]}


def test_key_names_are_case_insensitive() -> None:
    cp, csms = booted()
    response = get(csms, ["heartbeatinterval", "HEARTBEATINTERVAL"])
    assert response == {
        "configurationKey": [{"key": "HeartbeatInterval", "readonly": False, "value": "300"}]
    }
    assert change(csms, "heartBeatInterval", "60") == "Accepted"
    assert cp.get_configuration("HeartbeatInterval") == "60"


def test_more_keys_than_get_configuration_max_keys_is_refused() -> None:
    _cp, csms = booted()
    reply = csms.call("GetConfiguration", {"key": [f"K{n}" for n in range(65)]})
    assert reply[:3] == [4, reply[1], "OccurenceConstraintViolation"]
    assert reply[4] == {"GetConfigurationMaxKeys": 64}
    assert len(get(csms, [f"K{n}" for n in range(64)])["unknownKey"]) == 64


def test_supported_feature_profiles_lists_only_complete_profiles() -> None:
    cp, _csms = booted()
    assembly = for_version("1.6")
    implemented = set(assembly.routes).union(*(block.sends for block in assembly.block_types))
    listed = cp.get_configuration("SupportedFeatureProfiles").split(",")
    assert listed == [name for name, messages in PROFILES.items() if messages <= implemented]
    # All six OCPP 1.6 profiles, in the spec's names.
    assert sorted(listed) == [
        "Core", "FirmwareManagement", "LocalAuthListManagement", "RemoteTrigger", "Reservation",
        "SmartCharging",
    ]  # fmt: skip


def test_number_of_connectors_follows_the_station() -> None:
    _cp, csms = booted(connectors=5)
    assert values(get(csms, ["NumberOfConnectors"]))["NumberOfConnectors"] == ("5", True)


# ---------------------------------------------------------------------- ChangeConfiguration


def test_change_accepted_applies_and_persists() -> None:
    store = MemoryStore()
    cp, csms = booted(store=store)
    events: list[object] = []
    cp.subscribe(events.append)
    assert change(csms, "MinimumStatusDuration", "5") == "Accepted"
    assert cp.get_configuration("MinimumStatusDuration") == "5"
    assert ConfigurationChanged("MinimumStatusDuration", "5", False) in events
    rebooted = ChargePoint(identity=IDENTITY, store=store)
    assert rebooted.get_configuration("MinimumStatusDuration") == "5"


def test_configuration_persists_in_files_and_a_broken_file_means_defaults(tmp_path, caplog) -> None:
    """MicroOcpp's "Persistency on filesystem": a change survives a restart on the atomic file
    store; a file broken by hand is moved aside and the defaults apply, with a warning."""
    _cp, csms = booted(store=FileStore(tmp_path))
    assert change(csms, "MinimumStatusDuration", "5") == "Accepted"
    rebooted = ChargePoint(identity=IDENTITY, store=FileStore(tmp_path))
    assert rebooted.get_configuration("MinimumStatusDuration") == "5"
    [document] = [p for p in tmp_path.iterdir() if "config" in p.name]
    document.write_text('{"MinimumStatusDuration": ', encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="ocpp_core"):
        fresh = ChargePoint(identity=IDENTITY, store=FileStore(tmp_path))
    assert fresh.get_configuration("MinimumStatusDuration") == "0"
    assert "corrupt" in caplog.text.lower() or "invalid" in caplog.text.lower()
    assert any(".corrupt" in p.name for p in tmp_path.iterdir())


def test_unknown_key_is_not_supported() -> None:
    _cp, csms = booted()
    assert change(csms, "NoSuchKey", "1") == "NotSupported"


@pytest.mark.parametrize(
    "key",
    [
        "NumberOfConnectors",
        "GetConfigurationMaxKeys",
        "SupportedFeatureProfiles",
        "SupportedFeatureProfilesMaxLength",
    ],
)
def test_read_only_key_is_rejected(key: str) -> None:
    cp, csms = booted()
    before = cp.get_configuration(key)
    assert change(csms, key, "3") == "Rejected"
    assert cp.get_configuration(key) == before


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("HeartbeatInterval", "abc"),
        ("HeartbeatInterval", "1.9"),
        ("HeartbeatInterval", ""),
        ("HeartbeatInterval", "-5"),
        ("HeartbeatInterval", "99999999999999"),
        ("HeartbeatInterval", "٣"),  # a non-ASCII digit
        ("MessageTimeout", "0"),
        ("MessageTimeout", "3601"),
        ("LocalPreAuthorize", "yes"),
        ("LocalPreAuthorize", "1"),
        ("MeterValuesSampledData", "Energy.Active.Import.Register,Colour"),
        ("MeterValuesSampledData", "Voltage.L4"),
        ("MeterValuesSampledData", "Voltage,,SoC"),
        ("MeterValuesSampledData", "Voltage,Voltage"),
        (
            "MeterValuesSampledData",
            ",".join(
                ["Voltage"]
                + [f"Voltage.L{n}" for n in (1, 2, 3)]
                + ["SoC", "RPM", "Frequency", "Temperature", "Power.Factor"]
            ),
        ),
        ("ConnectorPhaseRotation", "1.XYZ"),
        ("ConnectorPhaseRotation", "0.RST,1.RST,2.RST,3.RST"),
    ],
)
def test_invalid_value_is_rejected_and_the_old_value_stays(key: str, value: str) -> None:
    cp, csms = booted()
    before = cp.get_configuration(key)
    assert change(csms, key, value) == "Rejected"
    assert cp.get_configuration(key) == before


@pytest.mark.parametrize(
    ("text", "shown"), [("TRUE", "true"), ("False", "false"), (" true ", "true")]
)
def test_booleans_are_case_insensitive(text: str, shown: str) -> None:
    cp, csms = booted()
    assert change(csms, "LocalPreAuthorize", text) == "Accepted"
    assert cp.get_configuration("LocalPreAuthorize") == shown


def test_lists_are_validated_member_by_member_and_stored_canonically() -> None:
    cp, csms = booted()
    io = cp.connector(1)  # measurands are accepted only with a meter input (OCPP 1.6 §3.16.4)
    io.energy_wh = lambda: 0
    io.add_meter_input("Voltage", lambda: 230, phase="L1")
    io.add_meter_input("Current.Import", lambda: 16, phase="L2-N")
    value = "Energy.Active.Import.Register, Voltage.L1 ,Current.Import.L2-N"
    assert change(csms, "MeterValuesSampledData", value) == "Accepted"
    assert cp.get_configuration("MeterValuesSampledData") == (
        "Energy.Active.Import.Register,Voltage.L1,Current.Import.L2-N"
    )
    assert change(csms, "StopTxnSampledData", "") == "Accepted"
    assert change(csms, "ConnectorPhaseRotation", "0.RST, 1.RTS, 2.Unknown") == "Accepted"
    assert cp.get_configuration("ConnectorPhaseRotation") == "0.RST,1.RTS,2.Unknown"


def test_value_over_500_characters_is_a_property_violation() -> None:
    _cp, csms = booted()
    reply = csms.call("ChangeConfiguration", {"key": "HeartbeatInterval", "value": "1" * 501})
    assert reply[2] == "PropertyConstraintViolation"


def test_setting_the_default_again_removes_the_stored_value() -> None:
    store = MemoryStore()
    _cp, csms = booted(store=store)
    assert change(csms, "MinimumStatusDuration", "5") == "Accepted"
    assert store.load("config") == {"HeartbeatInterval": 300, "MinimumStatusDuration": 5}
    assert change(csms, "MinimumStatusDuration", "0") == "Accepted"
    assert store.load("config") == {"HeartbeatInterval": 300}


def test_store_failure_answers_internal_error_and_keeps_the_old_value() -> None:
    class BrokenStore(MemoryStore):
        def save(self, name: str, value: object) -> None:
            raise OSError("disk full")

    cp, csms = station(store=BrokenStore())
    csms.heartbeat_interval = 0
    csms.connect()
    reply = csms.call("ChangeConfiguration", {"key": "MinimumStatusDuration", "value": "5"})
    assert reply[2] == "InternalError"
    assert cp.get_configuration("MinimumStatusDuration") == "0"


def test_local_change_uses_the_same_rules() -> None:
    cp, _csms = booted()
    assert cp.change_configuration("HeartbeatInterval", "30") == "Accepted"
    assert cp.change_configuration("NumberOfConnectors", "3") == "Rejected"
    assert cp.change_configuration("Nope", "3") == "NotSupported"
    assert cp.get_configuration("Nope") is None


# ---------------------------------------------------------------------- persistence


def test_corrupt_configuration_document_falls_back_to_defaults(caplog) -> None:
    store = MemoryStore()
    store.save("config", ["not", "an", "object"])
    with caplog.at_level(logging.WARNING, logger="ocpp_core"):
        cp = ChargePoint(identity=IDENTITY, store=store)
    assert cp.get_configuration("HeartbeatInterval") == "86400"
    assert "stored configuration is not an object" in caplog.text


@pytest.mark.parametrize("stored", ["300", -5, True, 1.5, None, [1]])
def test_invalid_stored_value_uses_the_default(stored: object, caplog) -> None:
    store = MemoryStore()
    store.save("config", {"HeartbeatInterval": stored, "MinimumStatusDuration": 7})
    with caplog.at_level(logging.WARNING, logger="ocpp_core"):
        cp = ChargePoint(identity=IDENTITY, store=store)
    assert cp.get_configuration("HeartbeatInterval") == "86400"
    assert cp.get_configuration("MinimumStatusDuration") == "7"
    assert "HeartbeatInterval is invalid" in caplog.text


def test_stored_huge_integer_is_refused_and_the_default_used(caplog) -> None:
    store = MemoryStore()
    store.save("config", {"HeartbeatInterval": 10**400, "MessageTimeout": 10**15})
    with caplog.at_level(logging.WARNING, logger="ocpp_core"):
        cp = ChargePoint(identity=IDENTITY, store=store)
    assert cp.get_configuration("HeartbeatInterval") == "86400"
    assert cp.get_configuration("MessageTimeout") == "30"
    cp.connected(0.0)
    assert json.loads(cp.poll(0.0)[0])[2] == "BootNotification"


def test_stored_keys_nobody_declares_are_ignored() -> None:
    store = MemoryStore()
    store.save("config", {"Cst_Removed": True, "NumberOfConnectors": 9, "HeartbeatInterval": 60})
    cp = ChargePoint(identity=IDENTITY, store=store)
    assert cp.get_configuration("Cst_Removed") is None
    assert cp.get_configuration("NumberOfConnectors") == "2"
    assert cp.get_configuration("HeartbeatInterval") == "60"


# ---------------------------------------------------------------------- AuthorizationKey


def test_authorization_key_is_write_only() -> None:
    store = MemoryStore()
    cp, csms = booted(store=store)
    assert change(csms, "AuthorizationKey", AUTH_KEY) == "Accepted"
    assert AUTH_KEY not in json.dumps(get(csms))
    assert get(csms, ["AuthorizationKey"]) == {
        "configurationKey": [],
        "unknownKey": ["AuthorizationKey"],
    }
    assert cp.get_configuration("AuthorizationKey") == AUTH_KEY  # the station's own transport
    rebooted = ChargePoint(identity=IDENTITY, store=store)
    assert rebooted.get_configuration("AuthorizationKey") == AUTH_KEY


@pytest.mark.parametrize(
    "value",
    [
        "0123456789abcdef0123456789abcde",  # 31 digits
        "0123456789abcdef0123456789abcdef0",  # odd length
        "0123456789abcdef0123456789abcdef012345678",  # 41 digits
        "0123456789abcdef0123456789abcdef01234567" + "89",  # 42 digits: 21 bytes
        "0123456789abcdef0123456789abcdeg",  # not hex
        "",
    ],
)
def test_authorization_key_must_be_16_to_20_bytes_of_hex(value: str) -> None:
    _cp, csms = booted()
    assert change(csms, "AuthorizationKey", value) == "Rejected"


def test_authorization_key_of_20_bytes_is_accepted() -> None:
    _cp, csms = booted()
    assert change(csms, "AuthorizationKey", "ab" * 20) == "Accepted"


def test_authorization_key_never_reaches_logs_or_events(caplog) -> None:
    cp, csms = booted()
    events: list[object] = []
    cp.subscribe(events.append)
    with caplog.at_level(logging.DEBUG):
        change(csms, "AuthorizationKey", AUTH_KEY)
        change(csms, "authorizationkey", "zz" + AUTH_KEY[2:])  # rejected: not hex
        csms.call("ChangeConfiguration", {"key": "AuthorizationKey", "value": 12345678})
        cp.receive('[2,"x","ChangeConfiguration",{"key":"AuthorizationKey","value":"' + AUTH_KEY, 1)
        cp.receive(
            '[2,"y","ChangeConfiguration",{"key":"\\u0041uthorizationKey","value":"'
            + AUTH_KEY
            + '"},{}]',
            1,
        )
        cp.poll(csms.now)
    shown = repr(events) + caplog.text + "".join(csms.sent)
    assert AUTH_KEY not in shown
    assert AUTH_KEY[2:] not in shown
    assert "12345678" not in shown
    frames_in = [e.text for e in events if isinstance(e, FrameLogged) and e.direction == "in"]
    assert '"value":"********"' in frames_in[0]
    assert ConfigurationChanged("AuthorizationKey", None, False) in events


# ---------------------------------------------------------------------- registry design


def test_key_definitions_are_shared_and_idle_engines_hold_no_values() -> None:
    first = ChargePoint(identity=IDENTITY)
    second = ChargePoint(identity=IDENTITY)
    assert first._engine.ctx.config.table is second._engine.ctx.config.table
    assert first._engine.ctx.config._values == {}


def test_keys_record_their_owner_module() -> None:
    cp = ChargePoint(identity=IDENTITY)
    table = cp._engine.ctx.config.table
    assert table.find("HeartbeatInterval").owner == "ocpp_core.v16.heartbeat"
    assert table.find("StopTransactionOnInvalidId").owner == "ocpp_core.v16.transactions_keys"
    assert table.find("MeterValuesSampledData").owner == "ocpp_core.v16.metering"
    assert table.find("AuthorizationKey").access == W


class _Context:
    watched = False


def test_reboot_required_keys_answer_reboot_required() -> None:
    keys = KeyDeclarer("tests")
    keys.string("Cst_BackendUrl", "ws://a", reboot=True)
    keys.integer("Cst_Level", 1, access=R)
    keys.boolean("Cst_Flag", False, access=RW, persist=False)
    store = MemoryStore()
    config = Configuration(KeyTable(keys.keys), store, _Context())
    assert config.change("Cst_BackendUrl", "ws://b") == "RebootRequired"
    assert config.get("Cst_BackendUrl") == "ws://b"
    assert config.change("Cst_Flag", "true") == "Accepted"
    assert store.load("config") == {"Cst_BackendUrl": "ws://b"}  # Cst_Flag is not persisted


def test_validators_can_refuse_values() -> None:
    keys = KeyDeclarer("tests")
    keys.integer("Cst_Even", 2, check=lambda value: value % 2 == 0)
    config = Configuration(KeyTable(keys.keys), MemoryStore(), _Context())
    assert config.change("Cst_Even", "3") == "Rejected"
    assert config.change("Cst_Even", "4") == "Accepted"
    assert config.get("Cst_Even") == 4


def test_a_key_declared_twice_is_an_error() -> None:
    keys = KeyDeclarer("tests")
    keys.integer("Twice", 1)
    keys.integer("Twice", 2)
    with pytest.raises(ValueError, match="Twice"):
        KeyTable(keys.keys)


# ---------------------------------------------------------------------- factory defaults


def test_factory_defaults_replace_declared_defaults_without_being_stored() -> None:
    store = MemoryStore()
    defaults = {
        "HeartbeatInterval": "120",
        "MeterValueSampleInterval": "15",
        "LocalPreAuthorize": "TRUE",
    }
    cp = ChargePoint(identity=IDENTITY, store=store, config_defaults=defaults)
    assert cp.get_configuration("HeartbeatInterval") == "120"
    assert cp.get_configuration("LocalPreAuthorize") == "true"
    assert store.load("config") is None
    assert cp.change_configuration("MeterValueSampleInterval", "30") == "Accepted"
    assert store.load("config") == {"MeterValueSampleInterval": 30}
    assert cp.change_configuration("MeterValueSampleInterval", "15") == "Accepted"
    assert store.load("config") is None  # back to the factory default: nothing to keep


def test_stored_values_win_over_factory_defaults() -> None:
    store = MemoryStore()
    cp = ChargePoint(identity=IDENTITY, store=store)
    cp.change_configuration("HeartbeatInterval", "45")
    rebooted = ChargePoint(
        identity=IDENTITY, store=store, config_defaults={"HeartbeatInterval": "120"}
    )
    assert rebooted.get_configuration("HeartbeatInterval") == "45"


def test_factory_default_of_a_read_only_capability() -> None:
    cp = ChargePoint(identity=IDENTITY, config_defaults={"MeterValuesSampledDataMaxLength": "4"})
    assert cp.change_configuration(
        "MeterValuesSampledData", "Voltage,SoC,RPM,Frequency,Temperature"
    ) == ("Rejected")


@pytest.mark.parametrize(
    "defaults",
    [
        {"NoSuchKey": "1"},
        {"HeartbeatInterval": "-1"},
        {"HeartbeatInterval": 60},
        {"NumberOfConnectors": "3"},
    ],
)
def test_invalid_factory_defaults_are_refused(defaults: dict) -> None:
    with pytest.raises(ValueError):
        ChargePoint(identity=IDENTITY, config_defaults=defaults)


# ---------------------------------------------------------------------- bounds and internal set


def test_every_integer_key_is_bounded_to_32_bits() -> None:
    for key in for_version("1.6").keys.by_name.values():
        if key.type == "int":
            assert key.maximum is not None, key.name
            assert key.maximum <= MAX_INTEGER == 2**31 - 1, key.name
            assert key.minimum is not None, key.name
            assert key.minimum >= -(2**31), key.name
    keys = KeyDeclarer("tests")
    keys.integer("Cst_Count", 1)
    assert keys.keys[0].maximum == MAX_INTEGER
    assert keys.keys[0].minimum == 0


@pytest.mark.parametrize("value", [10**400, 10**15, 2**31, -1, "300", 1.5, None, True])
def test_internal_set_validates_like_a_change(value: object) -> None:
    store = MemoryStore()
    cp = ChargePoint(identity=IDENTITY, store=store)
    config = cp._engine.ctx.config
    with pytest.raises(ValueError, match="invalid value for HeartbeatInterval"):
        config.set("HeartbeatInterval", value)
    assert cp.get_configuration("HeartbeatInterval") == "86400"
    assert store.load("config") is None


def test_clamp_brings_a_number_into_the_key_range(caplog) -> None:
    config = ChargePoint(identity=IDENTITY)._engine.ctx.config
    with caplog.at_level(logging.WARNING, logger="ocpp_core"):
        assert config.clamp("HeartbeatInterval", 10**400) == 2**31 - 1
        assert config.clamp("HeartbeatInterval", -5) == 0
        assert config.clamp("LightIntensity", 250) == 100
    assert "out of range" in caplog.text
    assert config.clamp("HeartbeatInterval", 60) == 60


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("HeartbeatInterval", None),
        ("HeartbeatInterval", 5),
        ("HeartbeatInterval", b"5"),
        (None, "5"),
        (5, "5"),
    ],
)
def test_local_change_with_wrong_types_is_a_clear_type_error(key: object, value: object) -> None:
    cp, _csms = booted()
    with pytest.raises(TypeError, match="must be a string"):
        cp.change_configuration(key, value)
    assert cp.get_configuration("HeartbeatInterval") == "300"
