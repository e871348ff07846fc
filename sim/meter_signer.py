"""The simulated meters sign their readings: an ECDSA P-256 key pair per connector, OCMF records.

Each connector's meter has its own key pair, made on first use and kept in the station's store
(document ``meterkeys``, the private key never leaves it: not in logs, frames or exports), and its
own pagination counter (document ``ocmfpages``), saved before the record it numbers is returned,
so a record's number is never given twice, even across a kill.

The cryptography is the pure-Python ``ecdsa`` package, imported on first use: the same code on
CPython and in the browser (where the page installs its vendored wheel offline when signing is
first switched on), deterministic signatures (RFC 6979). ``corrupt`` is the failure injection
for CSMS-side verification tests: the record's payload is altered after signing, so it no
longer verifies.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

from ocpp_core.connector import ReadingToSign, SignedMeterData
from sim.ocmf import (
    MeterIdentity,
    OcmfReading,
    identification,
    oca_public_key,
    payload_text,
    record,
    signed_meter_value,
)

if TYPE_CHECKING:
    from ocpp_core import ChargePoint
    from ocpp_core.store import Store
    from sim.settings import StationSettings

__all__ = [
    "KEYS_DOCUMENT",
    "PAGES_DOCUMENT",
    "ConnectorMeterSigner",
    "MeterSigner",
    "signing_meters",
    "station_meters",
]

# The OCMF reading reason (TX) of an OCPP reading context: begin, end, else "while charging".
_REASONS = {"Transaction.Begin": "B", "Transaction.End": "E"}

KEYS_DOCUMENT = "meterkeys"
PAGES_DOCUMENT = "ocmfpages"


class MeterSigner:
    """Signs connector readings as OCMF records with each connector's own persisted key."""

    def __init__(self, store: Store, meters: dict[int, MeterIdentity]) -> None:
        self._store = store
        self._meters = meters
        self._keys: dict[int, Any] = {}  # connector -> ecdsa.SigningKey, loaded on first use
        self.corrupt = False

    def fit(self, engine: ChargePoint) -> None:
        """Give each of the engine's connectors with a meter here its signing meter."""
        for n in self._meters:
            engine.connector(n).meter_signer = ConnectorMeterSigner(self, n)

    def public_key_der(self, connector: int) -> bytes:
        """The meter's public key (SubjectPublicKeyInfo, DER)."""
        return bytes(self._key(connector).get_verifying_key().to_der())

    def public_key(self, connector: int) -> str:
        """The meter's public key as the OCA note sends it (Base64 of ``oca:base16:asn1:...``)."""
        return oca_public_key(self.public_key_der(connector))

    def public_key_hex(self, connector: int) -> str:
        """The meter's public key, DER in hex: what a verifier (and the Control Center) shows."""
        return self.public_key_der(connector).hex().upper()

    def sign(
        self,
        connector: int,
        readings: list[OcmfReading],
        id_token: str | None,
        token_type: str | None = None,
        *,
        remote: bool = False,
    ) -> str:
        """One OCMF record of ``readings`` for the session of ``id_token``, numbered and
        signed; the next number is stored before the record is returned."""
        from ecdsa.util import sigencode_der  # type: ignore[import-untyped]

        key = self._key(connector)
        page = self._next_page(connector)
        who = identification(id_token, token_type, remote=remote)
        payload = payload_text(self._meters[connector], page, who, readings)
        signature = key.sign_deterministic(
            payload.encode("ascii"), hashfunc=hashlib.sha256, sigencode=sigencode_der
        )
        if self.corrupt:
            payload = payload.replace('"RD":[{', '"RD":[{"CL":0,', 1)
        return record(payload, bytes(signature))

    def _next_page(self, connector: int) -> int:
        pages = self._store.load(PAGES_DOCUMENT)
        pages = dict(pages) if isinstance(pages, dict) else {}
        last = pages.get(str(connector))
        page = (last if isinstance(last, int) and not isinstance(last, bool) else 0) + 1
        pages[str(connector)] = page
        self._store.save(PAGES_DOCUMENT, pages)
        return page

    def _key(self, connector: int) -> Any:
        key = self._keys.get(connector)
        if key is not None:
            return key
        if connector not in self._meters:
            raise ValueError(f"connector {connector} has no meter")
        from ecdsa import NIST256p, SigningKey  # type: ignore[import-untyped]
        from ecdsa.keys import MalformedPointError  # type: ignore[import-untyped]

        stored = self._store.load(KEYS_DOCUMENT)
        keys = dict(stored) if isinstance(stored, dict) else {}
        text = keys.get(str(connector))
        if isinstance(text, str):
            try:
                key = SigningKey.from_string(bytes.fromhex(text), curve=NIST256p)
            except (ValueError, MalformedPointError):
                key = None  # a damaged key: the meter gets a new one (its public key changes)
        if key is None:
            key = SigningKey.generate(curve=NIST256p)
            keys[str(connector)] = key.to_string().hex()
            self._store.save(KEYS_DOCUMENT, keys)
        self._keys[connector] = key
        return key


class ConnectorMeterSigner:
    """One connector's meter as the core sees it (``ocpp_core.connector.MeterSigner``): OCMF
    records with one reading each, sent as the OCA note's SignedMeterValueType."""

    __slots__ = ("_connector", "_signer")

    def __init__(self, signer: MeterSigner, connector: int) -> None:
        self._signer = signer
        self._connector = connector

    def sign(self, reading: ReadingToSign) -> SignedMeterData:
        ocmf_reading = OcmfReading(
            reading.wall_time,
            reading.synchronised,
            _REASONS.get(reading.context, "C"),
            reading.energy_wh,
        )
        text = self._signer.sign(
            self._connector, [ocmf_reading], reading.id_token, reading.id_token_type
        )
        value = signed_meter_value(text, self.public_key())
        return SignedMeterData(
            value["signedMeterData"],
            value["signingMethod"],
            value["encodingMethod"],
            value["publicKey"],
        )

    def public_key(self) -> str:
        return self._signer.public_key(self._connector)


def station_meters(settings: StationSettings) -> dict[int, MeterIdentity]:
    """The identity of each connector's meter: the station is the gateway, the meter serial is
    the station's meter serial (or its serial) with the connector number."""
    base = settings.meter_serial or settings.serial
    return {
        n: MeterIdentity(
            "SimMeter",
            "SM-AC-1",
            f"{base}-{n}"[-25:],
            "1.0",
            settings.model,
            settings.serial,
            settings.firmware_version,
        )
        for n in range(1, settings.connectors + 1)
    }


def signing_meters(store: Store, settings: StationSettings) -> MeterSigner | None:
    """The station's signing meters when its settings ask for them (None: readings unsigned)."""
    return MeterSigner(store, station_meters(settings)) if settings.signed_meter_values else None
