"""The seam between the sans-IO core and the host that moves files (firmware, diagnostics).

The core owns everything OCPP says about a transfer: when it may start, how many attempts it
gets, which status the CSMS hears and when. Moving the bytes is I/O, so the host does it: the
station registers a TransferHost (``ChargePoint.set_transfer_host``), the core asks it to start
a transfer, and the host reports the outcome back through the ChargePoint, on the thread and
loop that drive the engine, with its own ``now``.

Only http(s) locations go to the host: a browser can do nothing else (no FTP), and one behaviour
on both platforms keeps the simulator predictable. Any other scheme, or no host at all, makes
the core simulate the transfer (see FirmwareSimulation and DiagnosticsSimulation).
"""

from __future__ import annotations

from typing import NamedTuple, Protocol

__all__ = [
    "HOST_TRANSFER_LIMIT",
    "DiagnosticsSimulation",
    "FirmwareSimulation",
    "TransferHost",
    "check_diagnostics_simulation",
    "check_duration",
    "check_firmware_simulation",
    "file_name_of",
    "is_http",
    "scheme_of",
    "shown",
    "simulated_because",
]

# Seconds the core waits for a host to report a transfer before it counts the attempt as failed,
# so a host that never answers cannot stall an update forever.
HOST_TRANSFER_LIMIT = 1800.0

_BROWSERLESS = frozenset({"ftp", "ftps", "sftp"})


class FirmwareSimulation(NamedTuple):
    """How simulated firmware updates behave; ``ChargePoint.set_firmware_simulation`` changes it.

    ``download_s`` applies to simulated downloads only (a real one takes what it takes), as does
    ``fail_download``; ``install_s`` and ``fail_install`` to every installation. ``version`` is
    the firmwareVersion after the update; None takes the version number in the image's file
    name (``fw-1.2.3.bin`` gives ``1.2.3``), else the file name without its extension.
    """

    download_s: float = 5.0
    install_s: float = 5.0
    fail_download: bool = False
    fail_install: bool = False
    version: str | None = None


class DiagnosticsSimulation(NamedTuple):
    """How simulated uploads behave; ``ChargePoint.set_diagnostics_simulation`` changes it."""

    upload_s: float = 3.0
    fail_upload: bool = False


class TransferHost(Protocol):
    """What the station implements to perform real HTTP(S) transfers for the core."""

    def start_download(self, location: str, now: float) -> None:
        """Fetch the firmware image at ``location``; report the outcome with
        ``ChargePoint.firmware_download_finished`` (progress, optionally, with
        ``ChargePoint.firmware_download_progress``). Must not block."""
        ...

    def start_upload(self, location: str, file_name: str, content: bytes, now: float) -> None:
        """Store ``content`` as ``file_name`` in the directory ``location``; report the outcome
        with ``ChargePoint.diagnostics_upload_finished``. Must not block."""
        ...


# Plain string handling rather than urllib.parse: the locations are schema-checked URIs, and
# urllib.parse (with ipaddress) would double the import time of the blocks that need this.


def scheme_of(location: str) -> str:
    """The URI scheme, lower case ("" without one)."""
    scheme, colon, _ = location.partition(":")
    return scheme.lower() if colon else ""


def is_http(location: str) -> bool:
    """Whether a host may transfer ``location`` (an http or https URL)."""
    return scheme_of(location) in ("http", "https")


def _authority_and_path(location: str) -> tuple[str, str]:
    """``//authority`` and the path of a URI, query and fragment dropped."""
    rest = location.partition(":")[2].partition("#")[0].partition("?")[0]
    if not rest.startswith("//"):
        return "", rest
    authority, slash, path = rest[2:].partition("/")
    return authority, slash + path


def file_name_of(location: str) -> str:
    """The last path segment of a URI ("" for a directory or no path)."""
    return _authority_and_path(location)[1].rpartition("/")[2]


def shown(location: str) -> str:
    """``location`` without its user information: a password in a URL is never shown."""
    authority = _authority_and_path(location)[0]
    if "@" not in authority:
        return location
    return location.replace(authority.rpartition("@")[0] + "@", "", 1)


def simulated_because(location: str) -> str:
    """Why a transfer of ``location`` is simulated, for the detail the user sees."""
    scheme = scheme_of(location)
    if scheme in ("http", "https"):
        return "simulated: no transfer host is registered"
    if scheme in _BROWSERLESS:
        return f"simulated: {scheme}:// is not possible in a browser, only http(s)"
    return f"simulated: {scheme}:// is not supported, only http(s)"


def check_duration(value: float, name: str) -> float:
    """A simulated duration in seconds: finite and not negative (ValueError otherwise)."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value < 1e9:
        raise ValueError(f"{name} must be a number of seconds from 0 to 1e9")
    return float(value)


def check_firmware_simulation(simulation: FirmwareSimulation) -> FirmwareSimulation:
    """``simulation`` if usable, else ValueError saying which field is wrong."""
    if not isinstance(simulation, FirmwareSimulation):
        raise ValueError("expected a FirmwareSimulation")
    check_duration(simulation.download_s, "download_s")
    check_duration(simulation.install_s, "install_s")
    version = simulation.version
    if version is not None and (not isinstance(version, str) or not 0 < len(version) <= 50):
        raise ValueError("version must be None or a string of 1 to 50 characters")
    return simulation


def check_diagnostics_simulation(simulation: DiagnosticsSimulation) -> DiagnosticsSimulation:
    """``simulation`` if usable, else ValueError saying which field is wrong."""
    if not isinstance(simulation, DiagnosticsSimulation):
        raise ValueError("expected a DiagnosticsSimulation")
    check_duration(simulation.upload_s, "upload_s")
    return simulation
