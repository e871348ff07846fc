"""What the settings form holds, how it is saved in the browser and how deep links change it.

Saved in ``localStorage`` as one JSON document (``STORAGE_KEY``), the authorization key
included: like a password manager, the page remembers it for this browser profile so that a
reload (a simulated power cut) reconnects with it; it is never rendered, logged or exported.
"Forget settings" removes the document. No DOM here (tested on CPython).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

__all__ = [
    "FORM_FIELDS",
    "STORAGE_KEY",
    "DeepLink",
    "FormValues",
    "Prefs",
    "dump_prefs",
    "load_prefs",
    "parse_deep_link",
    "station_settings_json",
]

STORAGE_KEY = "ocpp-sim:prefs:v1"
VERSIONS = ("1.6", "2.0.1")


@dataclass(frozen=True)
class FormValues:
    """The settings form, field by field (text as typed)."""

    csms_url: str = ""
    charge_box_id: str = "SIM-0001"
    auth_key: str = ""
    ocpp_version: str = "1.6"
    vendor: str = "OpenSim"
    model: str = "Sim-AC22"
    serial: str = "SIM-0001"
    firmware_version: str = "0.1.0"

    def __repr__(self) -> str:  # the key never shows up in a repr (and so in a traceback)
        shown = {k: ("***" if k == "auth_key" and v else v) for k, v in asdict(self).items()}
        return f"FormValues({shown})"


FORM_FIELDS = tuple(field.name for field in fields(FormValues))


@dataclass(frozen=True)
class Prefs:
    form: FormValues
    connect_on_load: bool = False  # the station was connected when the page went away


def _clean_form(data: object, default_url: str) -> FormValues:
    base = FormValues(csms_url=default_url)
    if not isinstance(data, dict):
        return base
    values: dict[str, str] = {}
    for name in FORM_FIELDS:
        value = data.get(name)
        if isinstance(value, str):
            values[name] = value
    if values.get("ocpp_version") not in VERSIONS:
        values.pop("ocpp_version", None)
    return replace(base, **values)


def load_prefs(text: str | None, default_url: str) -> Prefs:
    """The saved preferences; anything missing or broken falls back to the defaults."""
    if not text:
        return Prefs(FormValues(csms_url=default_url))
    try:
        data = json.loads(text)
    except ValueError:
        return Prefs(FormValues(csms_url=default_url))
    if not isinstance(data, dict):
        return Prefs(FormValues(csms_url=default_url))
    return Prefs(
        form=_clean_form(data.get("form"), default_url),
        connect_on_load=data.get("connect_on_load") is True,
    )


def dump_prefs(prefs: Prefs) -> str:
    return json.dumps({"form": asdict(prefs.form), "connect_on_load": prefs.connect_on_load})


@dataclass(frozen=True)
class DeepLink:
    """What the page URL's query asked for: ``url``, ``id``, ``ocpp``, ``autoconnect=1``."""

    csms_url: str | None = None
    charge_box_id: str | None = None
    ocpp_version: str | None = None
    autoconnect: bool = False
    problems: tuple[str, ...] = ()

    @property
    def any(self) -> bool:
        return any(
            value is not None for value in (self.csms_url, self.charge_box_id, self.ocpp_version)
        )

    def apply(self, form: FormValues) -> FormValues:
        changes: dict[str, Any] = {}
        if self.csms_url is not None:
            changes["csms_url"] = self.csms_url
        if self.charge_box_id is not None:
            changes["charge_box_id"] = self.charge_box_id
        if self.ocpp_version is not None:
            changes["ocpp_version"] = self.ocpp_version
        return replace(form, **changes)


_TRUE = ("1", "true", "yes", "on")
_VERSION_ALIASES = {
    "1.6": "1.6",
    "16": "1.6",
    "ocpp1.6": "1.6",
    "1.6j": "1.6",
    "2.0.1": "2.0.1",
    "201": "2.0.1",
    "ocpp2.0.1": "2.0.1",
}


def parse_deep_link(query: dict[str, str]) -> DeepLink:
    """Read the query parameters (first value of each); unknown ones are ignored."""
    problems: list[str] = []
    version = None
    raw_version = query.get("ocpp")
    if raw_version is not None:
        version = _VERSION_ALIASES.get(raw_version.strip().lower())
        if version is None:
            problems.append(f"ocpp={raw_version!r} is not an OCPP version (use 1.6 or 2.0.1)")
    url = query.get("url")
    charge_box_id = query.get("id")
    return DeepLink(
        csms_url=url.strip() if url is not None else None,
        charge_box_id=charge_box_id.strip() if charge_box_id is not None else None,
        ocpp_version=version,
        autoconnect=query.get("autoconnect", "").strip().lower() in _TRUE,
        problems=tuple(problems),
    )


def station_settings_json(form: FormValues) -> dict[str, Any]:
    """The form as ``StationSettings.from_json`` input (an empty key means no key)."""
    return {
        "csms_url": form.csms_url.strip(),
        "charge_box_id": form.charge_box_id.strip(),
        "auth_key": form.auth_key or None,
        "ocpp_version": form.ocpp_version,
        "vendor": form.vendor.strip(),
        "model": form.model.strip(),
        "serial": form.serial.strip(),
        "firmware_version": form.firmware_version.strip(),
    }
