"""How values look on the page: fixed decimals (no jumping digits) and human labels."""

from __future__ import annotations

__all__ = [
    "CONNECTION_LABELS",
    "auth_text",
    "connection_label",
    "current",
    "energy",
    "limit",
    "operation",
    "power",
    "profile",
    "reservation",
    "schedule",
    "seq_no",
    "soc",
    "status_note",
    "transaction",
    "voltage",
]

DASH = "—"

CONNECTION_LABELS = {
    "disconnected": "Disconnected",
    "connecting": "Connecting…",
    "connected": "Connected",
    "reconnect-wait": "Reconnecting",
    "offline": "Offline",
    "closed": "Disconnected",
}


def connection_label(state: str) -> str:
    return CONNECTION_LABELS.get(state, state.capitalize())


def power(watts: float) -> str:
    return f"{watts / 1000.0:.2f} kW"


def energy(watt_hours: float) -> str:
    return f"{watt_hours / 1000.0:.3f} kWh"


def _per_phase(values: list[float], digits: int, unit: str) -> str:
    if not values:
        return DASH
    if all(abs(value - values[0]) < 10 ** (-digits) / 2 for value in values):
        text = f"{values[0]:.{digits}f} {unit}"
        return text if len(values) == 1 else f"{text} \u00d7 {len(values)}"
    return " / ".join(f"{value:.{digits}f}" for value in values) + f" {unit}"


def current(amps: list[float]) -> str:
    return _per_phase(amps, 1, "A")


def voltage(volts: list[float]) -> str:
    return _per_phase(volts, 0, "V")


def soc(percent: float | None) -> str:
    return DASH if percent is None else f"{percent:.1f} %"


def limit(value: tuple[float, str] | None) -> str:
    if value is None:
        return "none"
    amount, unit = value
    if unit == "W":
        return f"{amount / 1000.0:.2f} kW"
    return f"{amount:.1f} A per phase"


def reservation(shown: tuple | None) -> str:
    """``#7 · TAG until 14:05 UTC``; a reservation of the whole station says so."""
    if shown is None:
        return DASH
    reservation_id, connector, id_tag, expiry_date = shown
    until = expiry_date[11:16] if len(expiry_date) >= 16 else expiry_date
    scope = " (any connector)" if connector == 0 else ""
    return f"#{reservation_id} · {id_tag}{scope} until {until} UTC"


def _duration(seconds: int) -> str:
    """``+0:05`` (h:mm) or ``+0:00:30`` when seconds matter."""
    hours, rest = divmod(int(seconds), 3600)
    minutes, secs = divmod(rest, 60)
    return f"+{hours}:{minutes:02d}" + (f":{secs:02d}" if secs else "")


def _rate(limit: float, unit: str) -> str:
    return f"{limit / 1000.0:.2f} kW" if unit == "W" else f"{limit:.1f} A"


def profile(entry: dict) -> str:
    """One installed profile: ``#3 TxProfile · stack 1 · Recurring Daily · 16.0 A, 8.0 A``
    (1.6 csChargingProfiles, or a 2.0.1 ChargingProfileType: its first schedule)."""
    schedule = entry.get("chargingSchedule") or {}
    if isinstance(schedule, list):  # 2.0.1: up to three schedules, the first one applies here
        schedule = schedule[0] if schedule else {}
    unit = schedule.get("chargingRateUnit", "A")
    periods = schedule.get("chargingSchedulePeriod", [])
    rates = [_rate(float(p.get("limit", 0)), unit) for p in periods[:3]]
    if len(periods) > 3:
        rates.append(f"… ({len(periods)} periods)")
    kind = str(entry.get("chargingProfileKind", ""))
    if entry.get("recurrencyKind"):
        kind += f" {entry['recurrencyKind']}"
    parts = [
        f"#{entry.get('chargingProfileId', entry.get('id'))} {entry.get('chargingProfilePurpose')}",
        f"stack {entry.get('stackLevel')}",
        kind,
        ", ".join(rates) or "no periods",
    ]
    if entry.get("connectorId") == 0:
        parts.append("whole station")
    if entry.get("transactionId") is not None:
        parts.append(f"tx #{entry['transactionId']}")
    return " · ".join(parts)


def schedule(payload: dict) -> list[str]:
    """The composite schedule as lines ``+0:15  10.0 A`` (a dash for no limit)."""
    if payload.get("status") != "Accepted":
        return ["not available"]
    chosen = payload.get("chargingSchedule") or payload.get("schedule") or {}  # 1.6 or 2.0.1
    unit = chosen.get("chargingRateUnit", "A")
    periods = chosen.get("chargingSchedulePeriod") or []
    lines = []
    for period in periods:
        phases = period.get("numberPhases")
        suffix = f" ({phases} phase{'s' if phases != 1 else ''})" if phases else ""
        rate = _rate(float(period["limit"]), unit)
        lines.append(f"{_duration(period['startPeriod'])}  {rate}{suffix}")
    return lines or ["no limit"]


def operation(progress: tuple | None, idle: str) -> tuple[str, int | None, str, str]:
    """(status, percent, detail, tone) of a firmware or diagnostics progress event."""
    if progress is None:
        return "Idle", None, idle, ""
    status, percent, detail = progress[0], progress[1], progress[2]
    tone = "bad" if "Failed" in status else "ok" if status in ("Installed", "Uploaded") else ""
    return status, percent, detail, tone


def transaction(
    transaction_id: object, id_tag: str | None, id_token_type: str | None = None
) -> str:
    """The card's transaction: 1.6 the CSMS's number, 2.0.1 the station's id (text as is)."""
    card = f"{id_tag} ({id_token_type})" if id_tag and id_token_type else id_tag
    if transaction_id is None:
        return f"starting ({card})" if card else DASH
    if transaction_id == -1:
        return "not accepted by the CSMS"
    return f"#{transaction_id}" + (f" · {card}" if card else "")


def seq_no(value: int | None) -> str:
    """The seqNo of the transaction's latest TransactionEvent (2.0.1)."""
    return DASH if value is None else str(value)


def auth_text(last_auth: tuple[str, str] | None) -> tuple[str, str]:
    """(text, tone) of the last authorization: tone "ok", "bad" or ""."""
    if last_auth is None:
        return DASH, ""
    id_tag, status = last_auth
    tone = "ok" if status == "Accepted" else "bad"
    return f"{status} · {id_tag}", tone


def status_note(
    error_code: str, fault: tuple | None, plugged: bool, locked: bool
) -> tuple[str, str]:
    """The line under the badge: the error code when there is one, else what the hardware does."""
    if error_code and error_code != "NoError":
        info = fault[1] if fault is not None and len(fault) > 1 and fault[1] else ""
        return (f"Error: {error_code}" + (f" — {info}" if info else ""), "error")
    parts = ["cable plugged in" if plugged else "no cable"]
    if locked:
        parts.append("cable locked")
    return ", ".join(parts).capitalize(), ""
