"""Who the station is: the fields of the BootNotification."""

from __future__ import annotations

__all__ = ["StationIdentity"]

# Field -> (OCPP 1.6 BootNotification property, maximum length from its schema).
_V16_FIELDS = {
    "vendor": ("chargePointVendor", 20),
    "model": ("chargePointModel", 20),
    "serial_number": ("chargePointSerialNumber", 25),
    "charge_box_serial_number": ("chargeBoxSerialNumber", 25),
    "firmware_version": ("firmwareVersion", 50),
    "iccid": ("iccid", 20),
    "imsi": ("imsi", 20),
    "meter_type": ("meterType", 25),
    "meter_serial_number": ("meterSerialNumber", 25),
}


class StationIdentity:
    """Vendor, model and the optional serials; lengths are checked here, not at the CSMS."""

    __slots__ = tuple(_V16_FIELDS)

    def __init__(
        self,
        *,
        vendor: str,
        model: str,
        serial_number: str | None = None,
        charge_box_serial_number: str | None = None,
        firmware_version: str | None = None,
        iccid: str | None = None,
        imsi: str | None = None,
        meter_type: str | None = None,
        meter_serial_number: str | None = None,
    ) -> None:
        values = locals()
        for field, (_, limit) in _V16_FIELDS.items():
            value = values[field]
            if value is None and field not in ("vendor", "model"):
                continue
            if not isinstance(value, str) or len(value) > limit:
                raise ValueError(f"{field} must be a string of at most {limit} characters")
        self.vendor = vendor
        self.model = model
        self.serial_number = serial_number
        self.charge_box_serial_number = charge_box_serial_number
        self.firmware_version = firmware_version
        self.iccid = iccid
        self.imsi = imsi
        self.meter_type = meter_type
        self.meter_serial_number = meter_serial_number

    def __repr__(self) -> str:
        fields = (f"{name}={getattr(self, name)!r}" for name in _V16_FIELDS)
        return f"StationIdentity({', '.join(fields)})"

    def boot_notification_v16(self) -> dict[str, str]:
        """The OCPP 1.6 BootNotification payload (absent fields left out)."""
        payload = {}
        for field, (name, _) in _V16_FIELDS.items():
            value = getattr(self, field)
            if value is not None:
                payload[name] = value
        return payload
