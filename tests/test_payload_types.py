"""The generated payload types: not stale, faithful to the schemas, never loaded at run time."""

from __future__ import annotations

import ast
import importlib
import importlib.util
import json
import subprocess
import sys
import typing
import zipfile
from pathlib import Path
from types import ModuleType

import buildscript
import pytest

from ocpp_core import validation

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = {"1.6": "v16", "2.0.1": "v201"}


def generator() -> ModuleType:
    name = "ocpp_gen_payload_types"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, ROOT / "tools" / "gen_payload_types.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def payloads(version: str) -> ModuleType:
    return importlib.import_module(f"ocpp_core.{PACKAGES[version]}.payloads")


def bundle(version: str) -> dict[str, dict[str, object]]:
    path = ROOT / "ocpp_core" / "schemas" / f"{PACKAGES[version]}.json"
    return json.loads(path.read_text(encoding="utf-8"))


def class_name(version: str, stem: str) -> str:
    return stem + "Request" if version == "1.6" and not stem.endswith("Response") else stem


def test_the_committed_modules_are_what_the_generator_writes(tmp_path: Path) -> None:
    assert generator().main(["--out", str(tmp_path)]) == 0
    for stem in PACKAGES.values():
        written = (tmp_path / stem / "payloads.py").read_text(encoding="utf-8")
        committed = (ROOT / "ocpp_core" / stem / "payloads.py").read_text(encoding="utf-8")
        assert written == committed, (
            f"ocpp_core/{stem}/payloads.py is stale: run python tools/gen_payload_types.py"
        )
    assert generator().main(["--check"]) == 0


def test_check_mode_reports_a_stale_module(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    gen = generator()
    assert gen.main(["--out", str(tmp_path)]) == 0
    stale = tmp_path / "v16" / "payloads.py"
    stale.write_text(stale.read_text(encoding="utf-8").replace("idTag: str", "idTag: int", 1))
    assert gen.main(["--check", "--out", str(tmp_path)]) == 1
    assert f"stale: {stale}" in capsys.readouterr().out


def test_the_generated_modules_are_ruff_clean() -> None:
    files = [str(ROOT / "ocpp_core" / stem / "payloads.py") for stem in PACKAGES.values()]
    for command in (["check"], ["format", "--check"]):
        result = subprocess.run(
            [sys.executable, "-m", "ruff", *command, *files],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("version", list(PACKAGES))
def test_every_schema_has_a_typeddict_with_its_required_and_optional_fields(version: str) -> None:
    module = payloads(version)
    schemas = bundle(version)["schemas"]
    for stem, schema in schemas.items():
        typed = getattr(module, class_name(version, stem))
        properties = set(schema.get("properties", {}))
        required = set(schema.get("required", []))
        assert typed.__required_keys__ == required, stem
        assert typed.__optional_keys__ == properties - required, stem


@pytest.mark.parametrize("version", list(PACKAGES))
def test_the_action_literal_lists_every_action(version: str) -> None:
    assert set(typing.get_args(payloads(version).Action)) == validation.actions(version)


def test_nested_types_and_enums_follow_the_schema() -> None:
    v16 = payloads("1.6")
    start = typing.get_type_hints(v16.RemoteStartTransactionRequest)
    assert start["connectorId"] is int  # NotRequired is what __optional_keys__ shows
    assert start["chargingProfile"] is v16.ChargingProfile
    assert (
        v16.SetChargingProfileRequest.__annotations__["csChargingProfiles"] is v16.ChargingProfile
    )
    schedule = typing.get_type_hints(v16.ChargingSchedule)
    assert schedule["chargingSchedulePeriod"] == list[v16.ChargingSchedulePeriod]
    assert typing.get_type_hints(v16.ChargingSchedulePeriod)["limit"] is float
    status = typing.get_type_hints(v16.IdTagInfo)["status"]
    assert typing.get_args(status) == ("Accepted", "Blocked", "Expired", "Invalid", "ConcurrentTx")
    # StopTransaction's sampled values allow no "Hertz" unit: a type of their own, not MeterValue's
    units = typing.get_args(typing.get_type_hints(v16.SampledValue)["unit"])
    tx_units = typing.get_args(typing.get_type_hints(v16.TransactionDataSampledValue)["unit"])
    assert "Hertz" in units and "Hertz" not in tx_units

    v201 = payloads("2.0.1")
    authorize = typing.get_type_hints(v201.AuthorizeRequest)
    assert authorize["idToken"] is v201.IdTokenType
    assert "ISO14443" in typing.get_args(typing.get_type_hints(v201.IdTokenType)["type"])


def test_an_unsupported_schema_fails_the_generator_loudly() -> None:
    gen = generator()
    broken = {
        "definitions": {},
        "schemas": {"Odd": {"type": "object", "properties": {"x": {"enum": [1, 2]}}}},
    }
    with pytest.raises(gen.GeneratorError, match="only string enums"):
        gen.render("1.6", broken)
    dangling = {"x": {"$ref": "#/definitions/Missing"}}
    unresolved = {"definitions": {}, "schemas": {"Odd": {"type": "object", "properties": dangling}}}
    with pytest.raises(gen.GeneratorError, match="unresolved definition 'Missing'"):
        gen.render("1.6", unresolved)


def _runtime_imports_of_payloads(path: Path) -> list[int]:
    """Lines of ``path`` that import a payloads module outside an ``if TYPE_CHECKING:`` block."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    guarded: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and ast.unparse(node.test) in (
            "TYPE_CHECKING",
            "typing.TYPE_CHECKING",
        ):
            for inner in node.body:
                guarded.update(id(n) for n in ast.walk(inner))
    found = []
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.ImportFrom):
            names = [node.module or "", *(f"{node.module}.{a.name}" for a in node.names)]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        if any(n.endswith("payloads") for n in names) and id(node) not in guarded:
            found.append(node.lineno)
    return found


def test_the_core_imports_payload_types_only_for_the_type_checker() -> None:
    offenders = {
        str(path.relative_to(ROOT)): lines
        for path in (ROOT / "ocpp_core").rglob("*.py")
        if path.name != "payloads.py" and (lines := _runtime_imports_of_payloads(path))
    }
    assert offenders == {}


def test_a_charging_session_never_loads_the_payload_modules() -> None:
    """What the browser runs (engine, blocks, a whole session) costs no payload-type import."""
    code = """
import sys
from tx_rig import Rig, start_session
rig = Rig()
start_session(rig)
rig.advance(60, charging_w=7000)
rig.csms.result("GetConfiguration", {})
rig.csms.result("TriggerMessage", {"requestedMessage": "MeterValues", "connectorId": 1})
rig.csms.result("RemoteStopTransaction", {"transactionId": rig.cp.transaction(1).transaction_id})
rig.pump()
assert rig.actions()[-1] == "StopTransaction", rig.actions()
print(sorted(m for m in sys.modules if m.endswith("payloads")))
"""
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT / "tests",
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_the_wheel_leaves_the_payload_types_out(tmp_path: Path) -> None:
    wheel = buildscript.load().build_wheel(tmp_path)
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
    assert "ocpp_core/v16/__init__.py" in names
    assert not [name for name in names if name.endswith("payloads.py")]


def test_every_v16_handler_is_typed_with_its_actions_payloads() -> None:
    """The checker verifies fields against the annotations; this ties each annotation to the
    action the handler is routed for (a handler typed for another action fails here)."""
    from ocpp_core.assembly import for_version

    routes = for_version("1.6").routes
    assert routes, "no handlers"
    for action, (_index, handler) in routes.items():
        annotations = handler.__annotations__
        assert annotations.get("payload") == f"{action}Request", (action, annotations)
        assert annotations.get("return") == f"{action}Response", (action, annotations)


def test_the_stop_reasons_the_engine_accepts_are_the_schemas_reason_enum() -> None:
    # The engine keeps its own set at run time (the payload modules are never imported there);
    # this pins it to OCPP 1.6 §7.40 Reason as the schema spells it.
    from ocpp_core.v16.tx_session import STOP_REASONS

    reasons = typing.get_args(payloads("1.6").StopTransactionRequestReason)
    assert frozenset(reasons) == STOP_REASONS


def test_the_201_stop_reasons_and_id_token_types_are_the_schemas_enums() -> None:
    # Operations201 keeps its own copies at run time; these pin them to ReasonEnumType and
    # IdTokenEnumType as the 2.0.1 schemas spell them (the default type, ISO14443, first).
    from ocpp_core.v201.operations import STOP_REASONS, Operations201

    types = payloads("2.0.1")
    assert frozenset(typing.get_args(types.ReasonEnumType)) == STOP_REASONS
    assert frozenset(typing.get_args(types.IdTokenEnumType)) == frozenset(
        Operations201.id_token_types
    )
    assert Operations201.id_token_types[0] == "ISO14443"
