"""What the settings form holds, how it is saved in the browser and how deep links change it.

Saved in ``localStorage`` as one JSON document (``STORAGE_KEY``), the authorization key
included: like a password manager, the page remembers it for this browser profile so that a
reload (a simulated power cut) reconnects with it; it is never rendered, logged or exported.
"Forget settings" removes the document. No DOM here (tested on CPython).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sim.settings import KNOWN_VERSIONS, SETTINGS, form_to_json

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


def _form_text(default: object) -> str:
    """A setting's default as its form field holds it: text as is, a bool as the select's
    "true" / "false", anything else an empty field."""
    if isinstance(default, bool):
        return "true" if default else "false"
    return default if isinstance(default, str) else ""


FORM_FIELDS = tuple(item.name for item in SETTINGS if item.form is not None)
"""The settings the form shows, in the table's order (sim/settings.py)."""
FIELD_IDS = {item.name: item.form.element_id for item in SETTINGS if item.form is not None}
"""Setting name -> the id (and data-testid) of its form field."""
_DEFAULTS = {item.name: _form_text(item.default) for item in SETTINGS if item.form is not None}
_SECRETS = frozenset(item.name for item in SETTINGS if item.form is not None and item.secret)


class FormValues:
    """The settings form, field by field (text as typed); fields left out hold the setting's
    default (an empty field for a setting without a text default). Immutable."""

    __slots__ = ("_values",)

    def __init__(self, **values: str) -> None:
        unknown = sorted(set(values) - set(FORM_FIELDS))
        if unknown:
            raise TypeError(f"no form field {', '.join(unknown)}")
        self._values = {**_DEFAULTS, **values}

    def __getattr__(self, name: str) -> str:
        try:
            return self._values[name]  # type: ignore[no-any-return]
        except KeyError:
            raise AttributeError(name) from None

    def as_dict(self) -> dict[str, str]:
        return dict(self._values)

    def replace(self, **changes: str) -> FormValues:
        return FormValues(**{**self._values, **changes})

    def __eq__(self, other: object) -> bool:
        return isinstance(other, FormValues) and other._values == self._values

    def __hash__(self) -> int:
        return hash(tuple(self._values.items()))

    def __repr__(self) -> str:  # the key never shows up in a repr (and so in a traceback)
        shown = {k: ("***" if k in _SECRETS and v else v) for k, v in self._values.items()}
        return f"FormValues({shown})"


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
    if values.get("ocpp_version") not in KNOWN_VERSIONS:
        values.pop("ocpp_version", None)
    return base.replace(**values)


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
    return json.dumps({"form": prefs.form.as_dict(), "connect_on_load": prefs.connect_on_load})


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
        changes: dict[str, str] = {}
        if self.csms_url is not None:
            changes["csms_url"] = self.csms_url
        if self.charge_box_id is not None:
            changes["charge_box_id"] = self.charge_box_id
        if self.ocpp_version is not None:
            changes["ocpp_version"] = self.ocpp_version
        return form.replace(**changes)


_TRUE = ("1", "true", "yes", "on")
_VERSION_ALIASES = {
    "auto": "auto",
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
            problems.append(f"ocpp={raw_version!r} is not an OCPP version (use auto, 1.6 or 2.0.1)")
    url = query.get("url")
    charge_box_id = query.get("id")
    return DeepLink(
        csms_url=url.strip() if url is not None else None,
        charge_box_id=charge_box_id.strip() if charge_box_id is not None else None,
        ocpp_version=version,
        autoconnect=query.get("autoconnect", "").strip().lower() in _TRUE,
        problems=tuple(problems),
    )


def station_settings_json(form: FormValues | Mapping[str, str]) -> dict[str, Any]:
    """The form as ``StationSettings.from_json`` input (sim/settings.py ``form_to_json``: text
    stripped, a password as typed, an empty optional field such as the key unset)."""
    values = form.as_dict() if isinstance(form, FormValues) else form
    return form_to_json(values)
