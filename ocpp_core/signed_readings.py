"""Signed readings of the energy register, what both versions' metering shares (calibration law).

A connector whose meter signs (``ConnectorIO.meter_signer``) signs the register reading of a
transaction's Begin and End values, and, when the version's settings say so, of its periodic and
clock-aligned values. Whether the public key travels with a signed value follows
PublicKeyWithSignedMeterValue (2.0.1 OCPPCommCtrlr; the same key in 1.6 as the OCA note on signed
meter values names it): Never, OncePerTransaction (with the first signed value of each
transaction) or EveryMeterValue. A meter that fails to sign is logged once and the reading goes
unsigned: the transaction never waits for it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ocpp_core.connector import ReadingToSign, SignedMeterData
from ocpp_core.log import logger
from ocpp_core.sampling import energy_register

if TYPE_CHECKING:
    from ocpp_core.connector import ConnectorIO
    from ocpp_core.context import BlockContext
    from ocpp_core.sessions import TransactionInfo

__all__ = [
    "NEVER",
    "ONCE_PER_TRANSACTION",
    "PUBLIC_KEY_MODES",
    "SignedReadings",
    "meter_public_key",
]

NEVER, ONCE_PER_TRANSACTION, EVERY_METER_VALUE = "Never", "OncePerTransaction", "EveryMeterValue"
PUBLIC_KEY_MODES = (NEVER, ONCE_PER_TRANSACTION, EVERY_METER_VALUE)


def meter_public_key(io: ConnectorIO) -> str | None:
    """The public key of the connector's signing meter; None where no meter signs, "" while
    the meter cannot give it (e.g. its library not installed yet in the browser)."""
    signer = io.meter_signer
    if signer is None:
        return None
    try:
        return signer.public_key()
    except Exception as exc:
        logger().warning("connector %d: the meter's public key is unavailable: %s", io.number, exc)
        return ""


class SignedReadings:
    """Signs connectors' register readings and decides when the public key goes along."""

    __slots__ = ("_ctx", "_failed", "_holders", "_key_sent")

    def __init__(self, ctx: BlockContext) -> None:
        self._ctx = ctx
        self._key_sent: set[int] = set()  # connectors whose transaction has had the key
        self._failed: set[int] = set()  # connectors whose signer failed (logged once)
        # The idTag/idToken of each connector's transaction as its first signed reading saw it:
        # the End reading names it too, though the session may be gone by then.
        self._holders: dict[int, tuple[str, str | None]] = {}

    def can_sign(self) -> bool:
        """Some connector's meter signs."""
        return any(io.meter_signer is not None for io in self._ctx.connectors)

    def sign(
        self,
        connector: int,
        context: str,
        now: float,
        info: TransactionInfo | None,
        key_mode: str,
    ) -> tuple[int, SignedMeterData] | None:
        """The register reading (Wh) and its signed form, or None (no signing meter, no
        register reading, or the signer failed)."""
        io = self._ctx.connectors[connector]
        signer = io.meter_signer
        if signer is None:
            return None
        energy = energy_register(io)
        if energy is None:
            return None
        if info is not None:
            self._holders[connector] = (info.id_tag, info.id_token_type)
        id_token, id_token_type = self._holders.get(connector, (None, None))
        clock = self._ctx.clock
        reading = ReadingToSign(
            context, clock.wall(now), clock.is_synced, float(energy), id_token, id_token_type
        )
        try:
            signed = signer.sign(reading)
        except Exception as exc:
            if connector not in self._failed:
                self._failed.add(connector)
                logger().warning("connector %d: the meter could not sign: %s", connector, exc)
            return None
        self._failed.discard(connector)
        return energy, signed._replace(public_key=self._key(connector, key_mode, signed))

    def transaction_ended(self, connector: int) -> None:
        """The next transaction on the connector sends the key again (OncePerTransaction) and
        names its own holder."""
        self._key_sent.discard(connector)
        self._holders.pop(connector, None)

    def _key(self, connector: int, mode: str, signed: SignedMeterData) -> str:
        if mode == EVERY_METER_VALUE:
            return signed.public_key
        if mode == ONCE_PER_TRANSACTION and connector not in self._key_sent:
            self._key_sent.add(connector)
            return signed.public_key
        return ""
