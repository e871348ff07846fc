"""One settings table (sim/settings.py) for the CLI, the Control Center form and the station API,
and the shape of sim/ and web/ that the table and the split of station.py allow (issue 12)."""

from __future__ import annotations

import argparse
import ast
import re
import sys
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from station_fakes import URL, Rig

import sim.settings
from ocpp_core.transfer import TransferHost
from sim.cli_args import build_parser, station_settings
from sim.settings import SETTINGS, SettingsError, StationSettings, form_to_json, setting_named
from sim.station import Station

ROOT = Path(__file__).resolve().parent.parent
WEB = ROOT / "web"
sys.path.insert(0, str(WEB))

from control_center.prefs import FIELD_IDS, FormValues, station_settings_json  # noqa: E402

# ------------------------------------------------------------------ the table drives the CLI


def _actions() -> dict[str, argparse.Action]:
    return {
        option: action for action in build_parser()._actions for option in action.option_strings
    }


def test_every_setting_with_a_flag_is_an_option_with_the_tables_default_and_type() -> None:
    actions = _actions()
    flagged = [item for item in SETTINGS if item.cli is not None]
    assert {item.cli.flag for item in flagged} <= set(actions)  # type: ignore[union-attr]
    for item in flagged:
        assert item.cli is not None
        action = actions[item.cli.flag]
        assert action.dest == item.cli.dest
        assert action.default == item.cli_default, item.name
        if item.kind == "bool":
            assert isinstance(action, argparse._StoreTrueAction)
        else:
            assert action.type is {"int": int, "float": float, "str": str}[item.kind]
        assert "{" not in (action.help or ""), "a help placeholder was left unfilled"


def test_the_cli_makes_the_settings_from_the_table() -> None:
    args = build_parser().parse_args(
        ["--id", "CB-9", "--vendor", "V", "--connectors", "3", "--transfer-allow", "same-csms"]
    )
    (settings,) = station_settings(args)
    assert (settings.charge_box_id, settings.vendor, settings.connectors) == ("CB-9", "V", 3)
    assert settings.serial == "CB-9" and settings.transfer_allow == "same-csms"
    assert settings.model == setting_named("model").default  # the table's default, not a copy


def test_defaults_are_declared_once() -> None:
    """Each default appears once in the source of sim/ and web/ (the settings table)."""
    sources = [*ROOT.joinpath("sim").rglob("*.py"), *WEB.rglob("*.py"), WEB / "index.html"]
    for literal in ('"SIM-0001"', '"OpenSim"', '"Sim-AC22"', '"0.1.0"'):
        found = [path for path in sources if literal in path.read_text(encoding="utf-8")]
        assert found == [ROOT / "sim" / "settings.py"], (literal, found)
        assert (ROOT / "sim" / "settings.py").read_text().count(literal) == 1, literal


# ------------------------------------------------------------------ the table drives the form


class _Form(HTMLParser):
    """The settings form of web/index.html: each field's tag and attributes, each label's text."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: dict[str, tuple[str, dict[str, str | None]]] = {}
        self.labels: dict[str, str] = {}
        self._label: str | None = None
        self._in_form = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "form" and found.get("id") == "settings-form":
            self._in_form = True
        elif self._in_form and tag in ("input", "select") and found.get("id"):
            self.fields[str(found["id"])] = (tag, found)
        elif self._in_form and tag == "label":
            self._label = found.get("for")
            if self._label is not None:
                self.labels[self._label] = ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._in_form = False
        elif tag == "label":
            self._label = None

    def handle_data(self, data: str) -> None:
        if self._label is not None:
            self.labels[self._label] += data


def test_the_page_form_has_exactly_the_tables_form_fields() -> None:
    form = _Form()
    form.feed((WEB / "index.html").read_text(encoding="utf-8"))
    shown = [item for item in SETTINGS if item.form is not None]
    assert {item.form.element_id for item in shown} == set(form.fields)  # type: ignore[union-attr]
    for item in shown:
        assert item.form is not None
        tag, attrs = form.fields[item.form.element_id]
        assert attrs["name"] == item.name and attrs["data-testid"] == item.form.element_id
        assert form.labels[item.form.element_id].strip() == item.form.label
        if item.form.kind == "select":
            assert tag == "select"
        else:
            assert tag == "input" and attrs["type"] == item.form.kind


def test_form_values_take_their_fields_and_defaults_from_the_table() -> None:
    assert set(FIELD_IDS) == {item.name for item in SETTINGS if item.form is not None}
    blank = FormValues()
    for name in FIELD_IDS:
        default = setting_named(name).default
        if isinstance(default, bool):  # a select of "false" / "true"
            assert getattr(blank, name) == str(default).lower()
        else:
            assert getattr(blank, name) == (default if isinstance(default, str) else "")
    with pytest.raises(TypeError, match="no form field phases"):
        FormValues(phases="3")
    data = station_settings_json(FormValues(csms_url=f" {URL} ", auth_key=" k "))
    assert data == form_to_json(FormValues(csms_url=URL, auth_key=" k ").as_dict())
    assert data["csms_url"] == URL and data["auth_key"] == " k "  # a password as typed
    assert StationSettings.from_json(data).vendor == setting_named("vendor").default
    assert StationSettings.from_json(data).signed_meter_values is False
    signing = station_settings_json(FormValues(signed_meter_values="true"))
    assert StationSettings.from_json(signing).signed_meter_values is True


# ------------------------------------------------------------------ checks


def test_a_settings_error_names_its_setting() -> None:
    with pytest.raises(SettingsError) as caught:
        StationSettings(URL, transfer_allow="a/b")
    assert caught.value.name == "transfer_allow"
    assert str(caught.value).startswith("transfers: ") and not caught.value.detail.startswith(
        "transfers"
    )


def test_a_url_is_checked_once_per_connect(monkeypatch: pytest.MonkeyPatch) -> None:
    """The settings check the URL when they are made; the station connects without checking it
    again (its settings are immutable)."""
    calls: list[str] = []
    check = sim.settings.validate_url

    def counted(url: str) -> str | None:
        calls.append(url)
        return check(url)

    for name, module in list(sys.modules.items()):
        if name.split(".")[0] == "sim" and getattr(module, "validate_url", None) is check:
            monkeypatch.setattr(module, "validate_url", counted)
    rig = Rig()
    assert calls == [URL]
    rig.boot()
    assert calls == [URL]
    unset = Station(
        StationSettings(""), store=rig.store, transport_factory=rig.backend.transport_factory
    )
    with pytest.raises(ValueError, match="enter the CSMS URL"):
        unset.connect()  # the one URL a settings object allows and a station cannot use


# ------------------------------------------------------------------ what the GUI and CLI use


def test_the_station_gives_what_the_gui_and_the_cli_need() -> None:
    rig = Rig(speed=1.0).boot()
    station = rig.station
    assert station.queue_length == 0
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", station.timestamp(0.0))
    made: list[tuple[Any, Any]] = []

    class Host:
        def start_download(self, location: str, now: float) -> None: ...

        def start_upload(
            self, location: str, file_name: str, content: bytes, now: float
        ) -> None: ...

    def factory(target: Any, policy: Any) -> TransferHost:
        made.append((target, policy))
        return Host()

    station.set_transfer_host_factory(factory)
    assert len(made) == 1 and made[0][1] == station.settings.transfer_policy()


def _python_files(*folders: str) -> list[Path]:
    return [path for folder in folders for path in (ROOT / folder).rglob("*.py")]


def test_nothing_outside_sim_reaches_into_the_engine_nor_dispatches_on_type_names() -> None:
    users = [*WEB.rglob("*.py"), *ROOT.joinpath("sim").glob("cli*.py")]
    for path in users:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute):
                assert node.attr != "engine", f"{path.name}:{node.lineno} uses .engine"
                if node.attr == "__name__" and isinstance(node.value, ast.Call):
                    raise AssertionError(f"{path.name}:{node.lineno} dispatches on a type name")


def test_no_file_in_sim_or_web_is_over_600_lines() -> None:
    long = {
        str(path.relative_to(ROOT)): lines
        for path in _python_files("sim", "web")
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > 600
    }
    assert long == {}
