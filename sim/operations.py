"""Firmware update and diagnostics upload as the station shows them, and their failure switches.

The core runs both operations; the station keeps their latest progress, the image a real download
produced, and the recent frames that make the log of a diagnostics file.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING

from ocpp_core.clock import format_datetime
from ocpp_core.events import DiagnosticsProgress, FirmwareProgress
from sim.events import FirmwareImage, TransferFailures

if TYPE_CHECKING:
    from ocpp_core import ChargePoint

__all__ = ["DIAGNOSTICS_LOG_FRAMES", "Operations", "failures_of", "set_failures"]

DIAGNOSTICS_LOG_FRAMES = 500  # the frames a diagnostics file shows, at most


class Operations:
    """The latest firmware and diagnostics progress and the frames a diagnostics file shows."""

    def __init__(self, frames: int = DIAGNOSTICS_LOG_FRAMES) -> None:
        self.firmware: FirmwareProgress | None = None
        self.firmware_image: FirmwareImage | None = None
        self.diagnostics: DiagnosticsProgress | None = None
        # The recent frames (wall time, direction, text): the log of a diagnostics file.
        self._recent: deque[tuple[float, str, str]] = deque(maxlen=frames)

    def observe(self, event: FirmwareProgress | DiagnosticsProgress) -> None:
        match event:
            case FirmwareProgress():
                if event.sha256 is not None:
                    self.firmware_image = FirmwareImage(event.size, event.sha256)
                elif event.status == "Downloading" and (
                    self.firmware is None or self.firmware.status != "Downloading"
                ):
                    self.firmware_image = None  # a new download: the old image is gone
                self.firmware = event
            case DiagnosticsProgress():
                self.diagnostics = event

    def record_frame(self, wall: float, direction: str, text: str) -> None:
        self._recent.append((wall, direction, text))

    def diagnostics_log(self, start: float | None, stop: float | None) -> str:
        """The frames sent and received between two wall times, one per line (newest last;
        write-only configuration values are already masked by the core)."""
        lines = [
            f"{format_datetime(wall)} {direction} {text}"
            for wall, direction, text in self._recent
            if (start is None or wall >= start) and (stop is None or wall <= stop)
        ]
        return "\n".join(lines) if lines else "(no frames in this window)"


def failures_of(engine: ChargePoint) -> TransferFailures:
    """The failure injection set on the engine's simulated transfers."""
    firmware = engine.firmware_simulation
    diagnostics = engine.diagnostics_simulation
    return TransferFailures(firmware.fail_download, firmware.fail_install, diagnostics.fail_upload)


def set_failures(engine: ChargePoint, failures: TransferFailures) -> None:
    """Make the engine's next simulated transfers fail as ``failures`` says."""
    engine.set_firmware_simulation(
        engine.firmware_simulation._replace(
            fail_download=bool(failures.firmware_download),
            fail_install=bool(failures.firmware_install),
        )
    )
    engine.set_diagnostics_simulation(
        engine.diagnostics_simulation._replace(fail_upload=bool(failures.diagnostics_upload))
    )
