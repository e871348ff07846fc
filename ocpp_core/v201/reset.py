"""Reset (OCPP 2.0.1 B11, B12): the station, or one EVSE, restarts.

The station reboots through the hook it provides (the shared ResetRunner, ocpp_core/resets.py:
the hook runs with "Immediate" or "OnIdle" once the ResetResponse has left and the transaction
messages are delivered, within limits; a failing hook is retried ``OCPPCommCtrlr.ResetRetries``
times). Without a hook a station reset is Rejected.

* Immediate: every transaction is ended (stoppedReason ImmediateReset, triggerReason
  ResetCommand, B12.FR.02/04), then the reboot; Accepted. It replaces a scheduled OnIdle one.
* OnIdle: Accepted and rebooted at once when no transaction runs (B11.FR.01); otherwise
  Scheduled (B12.FR.01/03) and rebooted when the last transaction has ended.
* The next BootNotification says RemoteReset, or ScheduledReset for a reset that had to wait
  for the transactions (TC_B_21); recorded before the hook runs, dropped if it is given up.

An EVSE (``evseId``) restarts without the rest of the station: Immediate ends its transaction
(ImmediateReset); OnIdle answers Scheduled while one runs there (B12.FR.07/08) and waits for it;
an unknown EVSE is Rejected. Once the EVSE is idle it comes back as after a restart: its
connector status is reported to the CSMS again (B11.FR.08).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ocpp_core.block import Block, on
from ocpp_core.resets import ResetRunner
from ocpp_core.v201.boot import DOCUMENT as BOOT_REASON
from ocpp_core.v201.boot import next_boot_reason
from ocpp_core.v201.variables import VariableDeclarer

if TYPE_CHECKING:
    from ocpp_core.context import BlockContext
    from ocpp_core.v201.payloads import ResetRequest, ResetResponse, ResetStatusEnumType
    from ocpp_core.v201.status import StatusBlock
    from ocpp_core.v201.transactions import TransactionBlock

__all__ = ["RESET_RETRIES", "ResetBlock"]

RESET_RETRIES = "OCPPCommCtrlr.ResetRetries"
IMMEDIATE, ON_IDLE = "Immediate", "OnIdle"

_vars = VariableDeclarer(__name__, "OCPPCommCtrlr")
_vars.integer("ResetRetries", 2)


class ResetBlock(Block):
    """A pending station reset, EVSE resets waiting for their transaction, and the attempts."""

    __slots__ = ("_evses_waiting", "_on_idle", "_runner", "sessions", "status")

    keys = tuple(_vars.keys)

    def __init__(
        self, ctx: BlockContext, *, sessions: TransactionBlock, status: StatusBlock
    ) -> None:
        super().__init__(ctx)
        self.sessions = sessions  # stops transactions, tells when their messages are delivered
        self.status = status  # reports a restarted EVSE again
        self._runner = ResetRunner(
            ctx, settled=self._settled, retries_key=RESET_RETRIES, gave_up=self._gave_up
        )
        self._on_idle = False  # a station OnIdle reset waits for the transactions
        self._evses_waiting: set[int] = set()  # EVSE resets waiting for their transaction

    @on("Reset")
    def reset(self, payload: ResetRequest, now: float) -> ResetResponse:
        kind, evse = payload["type"], payload.get("evseId")
        if evse is not None:
            return {"status": self._reset_evse(evse, kind, now)}
        if self.ctx.reset_handler is None:
            return {"status": "Rejected"}
        if kind == IMMEDIATE:
            self._on_idle = False
            if self._runner.kind != IMMEDIATE:
                self.sessions.stop_all("ImmediateReset", now)
                self._reboot(IMMEDIATE, "RemoteReset", now)
            return {"status": "Accepted"}
        if self._runner.kind is not None:
            return {"status": "Accepted"}  # a reset is on its way already
        if self._busy(range(1, len(self.ctx.connectors))):
            self._on_idle = True
            return {"status": "Scheduled"}
        self._reboot(ON_IDLE, "RemoteReset", now)
        return {"status": "Accepted"}

    def _reset_evse(self, evse: int, kind: str, now: float) -> ResetStatusEnumType:
        if not 1 <= evse < len(self.ctx.connectors):
            return "Rejected"
        if kind == IMMEDIATE:
            self.sessions.stop_evse(evse, "ImmediateReset", now)
        elif self._busy((evse,)):
            self._evses_waiting.add(evse)
            return "Scheduled"
        self._evses_waiting.add(evse)  # restarts at the next poll, once idle
        return "Accepted"

    def _busy(self, evses: range | tuple[int, ...]) -> bool:
        running = self.sessions.transaction_running
        return any(running(evse) for evse in evses)

    def _reboot(self, kind: str, reason: str, now: float) -> None:
        next_boot_reason(self.ctx, reason)
        self._runner.schedule(kind, now, settle=True)

    def tick(self, now: float) -> None:
        if self._evses_waiting:
            for evse in sorted(self._evses_waiting):
                if not self._busy((evse,)):
                    self._evses_waiting.discard(evse)
                    self.status.rereport(evse)
        if self._on_idle and not self._busy(range(1, len(self.ctx.connectors))):
            self._on_idle = False
            self._reboot(ON_IDLE, "ScheduledReset", now)
        self._runner.tick(now)

    def timer(self, now: float) -> float | None:
        return self._runner.timer(now)

    def _settled(self) -> bool:
        return self.sessions.settled()

    def _gave_up(self, kind: str, now: float) -> None:
        self.ctx.store.delete(BOOT_REASON)  # no reboot: the next boot is not a remote reset
