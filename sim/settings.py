"""What a user can set, declared once: ``StationSettings`` is the settings table.

Each field of ``StationSettings`` is one setting, declared with ``setting(...)``: its type (the
annotation), its default, its check (a message for the user, or None), its command-line flag and
help (``CliFlag``, read by ``sim/cli_args.py`` to build the argparse options) and its field in the
Control Center's settings form (``FormField``, read by ``web/control_center/prefs.py``). Nothing
else declares a setting's default or repeats its check. ``SETTINGS`` lists them in order.

Creating a ``StationSettings`` checks every field's type, then each field's check (a check may
read other fields, e.g. TLS files need a wss:// URL), and raises ``SettingsError`` (a ValueError)
naming the setting. A settings object is immutable, so what was checked once stays valid: the
station connects to its URL without checking it again.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from typing import Any

from ocpp_core.identity import StationIdentity
from sim.transfer_policy import DEFAULT_MAX_BYTES, SAME_CSMS, TransferPolicy
from sim.transport.base import validate_url
from sim.versions import CHOICES

__all__ = [
    "KNOWN_VERSIONS",
    "SETTINGS",
    "CliFlag",
    "FormField",
    "Setting",
    "SettingsError",
    "StationSettings",
    "form_to_json",
    "setting_named",
]

KNOWN_VERSIONS = CHOICES
"""What a user may choose: "auto" (the CSMS picks 2.0.1 or 1.6), "1.6" or "2.0.1"."""
MAX_CHARGE_BOX_ID = 48  # OCPP-J: the identity is at most 48 characters
DEFAULT_ID = "SIM-0001"
"""The default charge box id, also the default serial number."""
_MASK = "***"
_SAME = object()  # CliFlag.default: the setting's own default

Check = Callable[[Any, Any], "str | None"]
"""A setting's check: ``(value, settings) -> message`` for a value of the right type."""


class SettingsError(ValueError):
    """An unusable setting: ``name`` is the setting, ``detail`` what is wrong with its value and
    ``str(error)`` the message for the user (never repeating the URL, which may hold a password)."""

    def __init__(self, name: str, detail: str, prefix: str = "") -> None:
        super().__init__(f"{prefix}{detail}")
        self.name = name
        self.detail = detail


@dataclass(frozen=True)
class CliFlag:
    """A setting's command-line option. ``help`` may say ``{default}``; ``default`` is what the
    CLI uses when the flag is absent, when it is not the setting's own default."""

    flag: str
    help: str
    metavar: str | None = None
    default: object = _SAME
    choices: tuple[str, ...] | None = None

    @property
    def dest(self) -> str:
        """The argparse attribute of the flag (``--client-cert``: ``client_cert``)."""
        return self.flag.lstrip("-").replace("-", "_")


@dataclass(frozen=True)
class FormField:
    """A setting's field in the Control Center's settings form (``element_id`` is also its
    ``data-testid``). A ``password`` field is taken as typed; the others are stripped."""

    element_id: str
    label: str
    kind: str = "text"  # "text", "password" or "select"


@dataclass(frozen=True)
class Setting:
    """One row of the table, made from a field of ``StationSettings``."""

    name: str
    kind: str  # "str", "int", "float" or "bool"
    optional: bool  # None is a valid value
    default: object  # dataclasses.MISSING: required
    check: Check | None
    cli: CliFlag | None
    form: FormField | None
    secret: bool
    error_prefix: str

    @property
    def cli_default(self) -> object:
        if self.cli is None or self.cli.default is _SAME:
            return self.default
        return self.cli.default

    def type_problem(self, value: object) -> str | None:
        """What is wrong with the type of ``value``, or None."""
        if value is None and self.optional:
            return None
        kind = self.kind
        if kind == "str" and not isinstance(value, str):
            return f"{self.name} must be a string"
        if kind == "int" and type(value) is not int:
            return f"{self.name} must be a whole number"
        if kind == "float" and (
            isinstance(value, bool)
            or not isinstance(value, (int, float))
            or not math.isfinite(value)
        ):
            return f"{self.name} must be a number"
        if kind == "bool" and type(value) is not bool:
            return f"{self.name} must be true or false"
        return None


def setting(
    default: object = dataclasses.MISSING,
    *,
    check: Check | None = None,
    cli: CliFlag | None = None,
    form: FormField | None = None,
    secret: bool = False,
    error_prefix: str = "",
) -> Any:
    """Declare one setting as a field of ``StationSettings``."""
    metadata = {
        "setting": {
            "check": check,
            "cli": cli,
            "form": form,
            "secret": secret,
            "error_prefix": error_prefix,
        }
    }
    if default is dataclasses.MISSING:
        return dataclasses.field(metadata=metadata)
    return dataclasses.field(default=default, metadata=metadata)


# ------------------------------------------------------------------------------- the checks


def _url(value: str, _settings: Any) -> str | None:
    # "" is allowed here (not configured yet); Station.connect refuses it.
    return validate_url(value) if value else None


def _charge_box_id(value: str, _settings: Any) -> str | None:
    if not value or value != value.strip():
        return "the charge box id must not be empty nor start or end with spaces"
    if len(value) > MAX_CHARGE_BOX_ID:
        return f"the charge box id must be at most {MAX_CHARGE_BOX_ID} characters"
    if not value.isprintable():
        return "the charge box id must not contain control characters"
    return None


def _auth_key(value: str | None, settings: Any) -> str | None:
    if value is None:
        return None
    if value == "":
        return "the authorization key is empty (leave it unset for no key)"
    if ":" in settings.charge_box_id:
        return "with an authorization key the charge box id must not contain ':'"
    return None


def _version(value: str, _settings: Any) -> str | None:
    if value not in KNOWN_VERSIONS:
        return f"unknown OCPP version {value!r}: use auto, 1.6 or 2.0.1"
    return None


def _length(name: str, low: int, high: int) -> Check:
    def check(value: str | None, _settings: Any) -> str | None:
        if value is not None and not low <= len(value) <= high:
            if low == 0:
                return f"{name} must be at most {high} characters"
            return f"{name} must be {low} to {high} characters"
        return None

    return check


def _within(low: float, high: float, message: str, *, above_low: bool = False) -> Check:
    def check(value: float | None, _settings: Any) -> str | None:
        if value is None:
            return None
        inside = (low < value if above_low else low <= value) and value <= high
        return None if inside else message

    return check


def _one_of(allowed: tuple[int, ...], message: str) -> Check:
    def check(value: int, _settings: Any) -> str | None:
        return None if value in allowed else message

    return check


def _tls_file(name: str) -> Check:
    def check(value: str | None, settings: Any) -> str | None:
        if value == "":
            return f"{name} is empty (leave it unset for none)"
        if value is None:
            return None
        if name == "client_key_file" and settings.client_cert_file is None:
            return "client_key_file needs client_cert_file: give the client certificate too"
        url = settings.csms_url
        if url and not url.lower().startswith("wss://"):
            return "the CA and client certificate files need a wss:// CSMS URL"
        return None

    return check


def _transfer_allow(value: str | None, settings: Any) -> str | None:
    # Checked before a CSMS URL is set too ("same-csms" against a stand-in host then).
    try:
        TransferPolicy.parse(value, csms_url=settings.csms_url or "ws://csms.invalid/")
    except ValueError as exc:
        return str(exc)
    return None


def _transfer_max_bytes(value: int, _settings: Any) -> str | None:
    try:
        TransferPolicy.parse(None, max_bytes=value)
    except ValueError as exc:
        return str(exc)
    return None


# ------------------------------------------------------------------------------- the table

_TLS = "TLS (wss://, security profiles 2 and 3)"


@dataclass(frozen=True, repr=False)
class StationSettings:
    """Everything a user can set in the GUI or on the CLI; JSON-(de)serialisable.

    ``csms_url`` is the CSMS base URL ("ws://127.0.0.1:8000/ocpp"): the charge box id is appended
    as its last path segment, URL-encoded. An empty URL is allowed here (not configured yet) and
    refused by ``Station.connect``; any other invalid value raises SettingsError (a ValueError)
    with a message for the user. ``auth_key`` (the HTTP Basic password of security profile 1/2)
    never appears in ``repr`` nor, unless asked, in ``to_json``. ``phases``/``max_current_a``
    describe the station, the ``ev_*`` fields the car plugged in (a fresh one at every plug);
    ``ev_capacity_kwh`` None means a car without a modelled battery (no SoC).

    TLS for a wss:// URL (security profiles 2 and 3), used by the CPython transport (CLI):
    ``ca_file`` is a PEM file of the CA certificate(s) that signed the CSMS's certificate (None:
    the system's trust store); ``client_cert_file`` the station's PEM certificate chain for
    profile 3 (mutual TLS) and ``client_key_file`` its unencrypted private key (None: the key is
    in the certificate file). The browser transport ignores all three.

    Firmware and diagnostics transfers over http(s) (``transfer_policy``): ``transfer_allow``
    lists the hosts they may reach, comma-separated, "same-csms" for the CSMS's host (None: any
    host); ``transfer_max_bytes`` bounds what one transfer moves.
    """

    csms_url: str = setting(
        check=_url,
        cli=CliFlag(
            "--url",
            "CSMS base URL, ws:// or wss:// (default: {default}, the demo CSMS of `build.py"
            " serve`); the station id is appended as the last path segment",
            default="ws://127.0.0.1:8000/ocpp",
        ),
        form=FormField("ws-url", "CSMS URL"),
    )
    charge_box_id: str = setting(
        DEFAULT_ID,
        check=_charge_box_id,
        cli=CliFlag(
            "--id",
            "charge box id (default: {default}); with --count K the ids are ID-1 .. ID-K",
            metavar="ID",
        ),
        form=FormField("charge-box-id", "Charge box id"),
    )
    auth_key: str | None = setting(
        None,
        check=_auth_key,
        secret=True,
        cli=CliFlag(
            "--auth-key",
            "the HTTP Basic password on the command line: visible to other users of this"
            " machine (ps, /proc) while the station runs; prefer --auth-key-file or {env}."
            " Never printed",
            metavar="KEY",
        ),
        form=FormField("auth-key", "Authorization key", "password"),
    )
    ocpp_version: str = setting(
        "1.6",
        check=_version,
        cli=CliFlag(
            "--ocpp",
            "OCPP version (default: {default}); auto offers ocpp2.0.1 and ocpp1.6 and runs"
            " the one the CSMS selects",
            choices=KNOWN_VERSIONS,
        ),
        form=FormField("ocpp-version", "OCPP version", "select"),
    )
    connectors: int = setting(
        2,
        check=_within(1, 99, "the number of connectors must be from 1 to 99"),
        cli=CliFlag("--connectors", "connectors per station (1..99)", metavar="N"),
    )
    vendor: str = setting(
        "OpenSim",
        check=_length("vendor", 1, 20),
        cli=CliFlag("--vendor", "default: {default}"),
        form=FormField("vendor", "Vendor"),
    )
    model: str = setting(
        "Sim-AC22",
        check=_length("model", 1, 20),
        cli=CliFlag("--model", "default: {default}"),
        form=FormField("model", "Model"),
    )
    serial: str = setting(
        DEFAULT_ID,
        check=_length("serial", 1, 25),
        cli=CliFlag("--serial", "charge point serial number (default: the id)", default=None),
        form=FormField("serial", "Serial number"),
    )
    firmware_version: str = setting(
        "0.1.0",
        check=_length("firmware_version", 0, 50),
        cli=CliFlag("--firmware-version", "default: {default}"),
        form=FormField("firmware-version", "Firmware"),
    )
    phases: int = setting(3, check=_one_of((1, 3), "the station has 1 or 3 phases"))
    max_current_a: float = setting(
        32.0,
        check=_within(0, 1000, "the station maximum current must be within 0..1000 A"),
    )
    ev_max_current_a: float = setting(
        32.0, check=_within(0, 1000, "the EV maximum current must be within 0..1000 A")
    )
    ev_phases: int = setting(3, check=_one_of((1, 3), "the EV uses 1 or 3 phases"))
    ev_capacity_kwh: float | None = setting(
        60.0,
        check=_within(
            0,
            10_000,
            "the EV battery capacity must be > 0 kWh (or unset for no battery)",
            above_low=True,
        ),
    )
    ev_soc_percent: float = setting(
        20.0, check=_within(0, 100, "the EV state of charge must be within 0..100 %")
    )
    resume_transactions_after_restart: bool = setting(
        False,
        cli=CliFlag(
            "--resume-transactions",
            "after a restart with the same --store, a transaction that was running continues"
            " instead of being stopped with reason PowerLoss",
        ),
    )
    meter_serial: str | None = setting(None, check=_length("meter_serial", 1, 25))
    signed_meter_values: bool = setting(
        False,
        cli=CliFlag(
            "--signed-meter-values",
            "the meters can sign their readings (OCMF, ECDSA P-256, a key per connector kept in"
            " the store); the CSMS switches signing on (2.0.1 SampledDataCtrlr.SignReadings);"
            " needs the signing extra (ecdsa)",
        ),
        form=FormField("signed-meter-values", "Meters", "select"),
    )
    additional_root_certificate_check: bool = setting(
        False,
        cli=CliFlag(
            "--additional-root-certificate-check",
            "a new CSMS root certificate must be signed by the installed one, which it replaces"
            " (kept as the fallback until a connection verifies with the new one): the 1.6 key /"
            " 2.0.1 SecurityCtrlr variable AdditionalRootCertificateCheck, read-only to the CSMS",
        ),
    )
    ca_file: str | None = setting(
        None,
        check=_tls_file("ca_file"),
        cli=CliFlag(
            "--ca-file",
            "PEM file with the CA certificate(s) that signed the CSMS's certificate, e.g. a"
            " private CA (security profiles 2 and 3)",
            metavar="PATH",
        ),
    )
    client_cert_file: str | None = setting(
        None,
        check=_tls_file("client_cert_file"),
        cli=CliFlag(
            "--client-cert",
            "PEM client certificate (chain) the station presents (security profile 3);"
            " it may contain the key too",
            metavar="PATH",
        ),
    )
    client_key_file: str | None = setting(
        None,
        check=_tls_file("client_key_file"),
        cli=CliFlag(
            "--client-key",
            "unencrypted PEM private key of --client-cert (security profile 3)",
            metavar="PATH",
        ),
    )
    transfer_allow: str | None = setting(
        None,
        check=_transfer_allow,
        error_prefix="transfers: ",
        cli=CliFlag(
            "--transfer-allow",
            f"hosts transfers and their redirects may reach (any port); {SAME_CSMS} stands for"
            " the host of --url (default: any host)",
            metavar="HOST[,HOST...]",
        ),
    )
    transfer_max_bytes: int = setting(
        DEFAULT_MAX_BYTES,
        check=_transfer_max_bytes,
        error_prefix="transfers: ",
        cli=CliFlag(
            "--transfer-max-bytes",
            "largest firmware image or diagnostics file moved (default: {default}, 64 MiB)",
            metavar="N",
        ),
    )

    def __post_init__(self) -> None:
        for item in SETTINGS:  # every type first: a check may read another field
            problem = item.type_problem(getattr(self, item.name))
            if problem is not None:
                raise SettingsError(item.name, problem)
        for item in SETTINGS:
            if item.check is not None:
                problem = item.check(getattr(self, item.name), self)
                if problem is not None:
                    raise SettingsError(item.name, problem, item.error_prefix)

    def __repr__(self) -> str:
        parts = []
        for item in SETTINGS:
            value = getattr(self, item.name)
            if item.secret and value is not None:
                value = _MASK
            parts.append(f"{item.name}={value!r}")
        return f"StationSettings({', '.join(parts)})"

    def to_json(self, *, include_secret: bool = False) -> dict[str, Any]:
        """A plain dict for JSON; the secret (``auth_key``) is left out unless asked."""
        return {
            item.name: getattr(self, item.name)
            for item in SETTINGS
            if include_secret or not item.secret
        }

    @classmethod
    def from_json(cls, data: object) -> StationSettings:
        """Settings from a dict as ``to_json`` makes it (missing keys take their defaults).

        Raises ValueError with a user-facing message for a non-object, an unknown key, a missing
        ``csms_url`` or any invalid value.
        """
        if not isinstance(data, dict):
            raise ValueError("the station settings must be a JSON object")
        unknown = sorted(str(key) for key in data if key not in _BY_NAME)
        if unknown:
            raise ValueError(f"unknown station setting(s): {', '.join(unknown)}")
        if "csms_url" not in data:
            raise ValueError("the station settings need csms_url")
        values = dict(data)
        for name, value in data.items():
            # JSON has one number type: 32 and 32.0 both mean 32 A.
            if type(value) is int and _BY_NAME[name].kind == "float":
                values[name] = float(value)
        return cls(**values)

    def transfer_policy(self) -> TransferPolicy:
        """What the transfer hosts of this station may do (checked when the settings were)."""
        return TransferPolicy.parse(
            self.transfer_allow,
            csms_url=self.csms_url or "ws://csms.invalid/",
            max_bytes=self.transfer_max_bytes,
        )

    def identity(self) -> StationIdentity:
        """The BootNotification fields."""
        return StationIdentity(
            vendor=self.vendor,
            model=self.model,
            serial_number=self.serial,
            charge_box_serial_number=self.serial,
            firmware_version=self.firmware_version or None,
            meter_type="Simulated AC meter",
            meter_serial_number=self.meter_serial,
        )


def _row(field: dataclasses.Field[Any]) -> Setting:
    spec = field.metadata["setting"]
    kinds = str(field.type).split(" | ")
    return Setting(
        name=field.name,
        kind=kinds[0],
        optional="None" in kinds,
        default=field.default,
        check=spec["check"],
        cli=spec["cli"],
        form=spec["form"],
        secret=spec["secret"],
        error_prefix=spec["error_prefix"],
    )


SETTINGS: tuple[Setting, ...] = tuple(_row(field) for field in fields(StationSettings))
_BY_NAME = {item.name: item for item in SETTINGS}


def setting_named(name: str) -> Setting:
    """The table's row of one setting (KeyError for an unknown name)."""
    return _BY_NAME[name]


def form_to_json(values: Mapping[str, str]) -> dict[str, Any]:
    """The settings form's text, field by field, as ``StationSettings.from_json`` input: text
    stripped (a password as typed), an empty optional field unset."""
    data: dict[str, Any] = {}
    for item in SETTINGS:
        if item.form is None or item.name not in values:
            continue
        text = values[item.name]
        if item.form.kind != "password":
            text = text.strip()
        if item.kind == "bool":
            data[item.name] = text == "true"  # a select of "false" / "true"
            continue
        data[item.name] = None if item.optional and text == "" else text
    return data
