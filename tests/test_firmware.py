"""Firmware management (OCPP 1.6 §5.19, §4.5, errata 3.47-3.49, 3.63).

The first tests follow MicroOcpp's FirmwareManagement.cpp scenarios (reference §8.2); the rest
cover what this station adds: real downloads through a transfer host, the reboot into the new
firmwareVersion, persistence and the GUI's progress events.
"""

from __future__ import annotations

import pytest
from block_peers import rewire
from fake_csms import IDENTITY, WALL_START, FakeCsms, booted
from test_status import Hardware, Sessions

from ocpp_core import (
    ChargePoint,
    FirmwareProgress,
    FirmwareSimulation,
    ResetRequested,
    StationIdentity,
)
from ocpp_core.clock import format_datetime
from ocpp_core.store import MemoryStore
from ocpp_core.transfer import HOST_TRANSFER_LIMIT, file_name_of, scheme_of, shown
from ocpp_core.v16.file_transfer import DEFAULT_RETRY_INTERVAL
from ocpp_core.v16.firmware import DOCUMENT, REBOOT_WAIT

IMAGE = "https://fw.example.com/images/fw-2.0.0.bin"
FAST = FirmwareSimulation(download_s=5, install_s=5)


def update(csms: FakeCsms, location: str = IMAGE, delay: float = 0, **extra: int) -> None:
    """Send an UpdateFirmware whose retrieveDate is ``delay`` seconds from now."""
    retrieve = format_datetime(WALL_START + csms.now + delay)
    payload = {"location": location, "retrieveDate": retrieve, **extra}
    assert csms.result("UpdateFirmware", payload) == {}


def statuses(csms: FakeCsms) -> list[str]:
    return [p["status"] for p in csms.payloads("FirmwareStatusNotification")]


def timeline(csms: FakeCsms) -> list[tuple[str, float]]:
    return [
        (payload["status"], at)
        for _, action, payload, at in csms.calls
        if action == "FirmwareStatusNotification"
    ]


def trigger_status(csms: FakeCsms, connector: int | None = None) -> str:
    payload: dict = {"requestedMessage": "FirmwareStatusNotification"}
    if connector is not None:
        payload["connectorId"] = connector
    before = len(statuses(csms))
    assert csms.result("TriggerMessage", payload) == {"status": "Accepted"}
    [status] = statuses(csms)[before:]
    return status


class Rebooter:
    """A reset hook that reboots like the station: a new ChargePoint on the same Store."""

    def __init__(self, store: MemoryStore, identity: StationIdentity = IDENTITY) -> None:
        self.store = store
        self.identity = identity
        self.kinds: list[str] = []
        self.stations: list[ChargePoint] = []

    def __call__(self, kind: str) -> None:
        self.kinds.append(kind)
        self.stations.append(self.build())

    def build(self) -> ChargePoint:
        return ChargePoint(
            identity=self.identity, store=self.store, reset_handler=self, firmware_simulation=FAST
        )


def rebootable(**options: object) -> tuple[ChargePoint, FakeCsms, Rebooter]:
    store = MemoryStore()
    hook = Rebooter(store)
    cp, csms = booted(store=store, reset_handler=hook, firmware_simulation=FAST, **options)
    return cp, csms, hook


def boot_again(cp: ChargePoint, now: float) -> FakeCsms:
    """Connect a (rebooted) station to a fresh CSMS and let it boot."""
    csms = FakeCsms(cp, now=now)
    csms.connect()
    return csms


class FakeHost:
    """A transfer host that records what the core asks and lets the test answer."""

    def __init__(self) -> None:
        self.downloads: list[tuple[str, float]] = []

    def start_download(self, location: str, now: float) -> None:
        self.downloads.append((location, now))

    def start_upload(self, location: str, file_name: str, content: bytes, now: float) -> None:
        raise AssertionError("no upload expected")


# ---------------------------------------------------------------- FirmwareManagement.cpp


def test_firmware_service_initialized() -> None:
    cp, csms = booted()
    profiles = cp.get_configuration("SupportedFeatureProfiles").split(",")
    assert "FirmwareManagement" in profiles
    assert cp.firmware_status == "Idle"
    assert trigger_status(csms) == "Idle"


def test_unconfigured_fw_service_simulates_the_update() -> None:
    """No transfer host and no reset hook: everything is simulated; Installed is reported at
    once and the new version comes with the next boot (the "manual reboot" branch)."""
    store = MemoryStore()
    cp, csms = booted(store=store, firmware_simulation=FAST)
    update(csms)
    csms.advance(12)
    assert statuses(csms) == ["Downloading", "Downloaded", "Installing", "Installed"]
    assert cp.firmware_version == "1.0.0"
    rebooted = ChargePoint(identity=IDENTITY, store=store)
    assert rebooted.firmware_version == "2.0.0"
    csms = boot_again(rebooted, csms.now)
    assert csms.payloads("BootNotification")[0]["firmwareVersion"] == "2.0.0"
    assert statuses(csms) == []  # Installed was confirmed before the reboot


def test_download_phase_only() -> None:
    """The host downloads the image; its size and SHA-256 reach the GUI."""
    cp, csms, _hook = rebootable()
    host = FakeHost()
    cp.set_transfer_host(host)
    events: list[object] = []
    cp.subscribe(events.append)
    update(csms)
    assert host.downloads == [(IMAGE, 0.0)]
    assert statuses(csms) == ["Downloading"]
    assert cp.firmware_status == "Downloading"
    cp.firmware_download_progress(512, 1024, now=csms.now)
    digest = "ab" * 32
    cp.firmware_download_finished(True, "downloaded 1024 bytes", 1024, digest, now=csms.now)
    csms.pump()
    assert statuses(csms) == ["Downloading", "Downloaded", "Installing"]
    progress = [e for e in events if isinstance(e, FirmwareProgress)]
    assert FirmwareProgress("Downloading", 50, f"downloading {IMAGE}: 512 bytes") in progress
    assert FirmwareProgress("Downloaded", 100, "downloaded 1024 bytes", 1024, digest) in progress


def test_installation_phase_only() -> None:
    """An ftp:// image is simulated (a browser cannot do FTP); the installation takes
    install_s, then the station reboots (Hard) once the Installing notice has left."""
    cp, csms, hook = rebootable()
    cp.set_transfer_host(FakeHost())  # never asked: not http(s)
    cp.set_firmware_simulation(FirmwareSimulation(download_s=0, install_s=20))
    events: list[object] = []
    cp.subscribe(events.append)
    update(csms, "ftp://user:secret@fw.example.com/fw-3.1.bin")
    assert timeline(csms) == [("Downloading", 0), ("Downloaded", 0), ("Installing", 0)]
    csms.advance(19)
    assert hook.kinds == []
    csms.advance(1)
    assert hook.kinds == ["Hard"]
    assert ResetRequested("Hard") in events
    details = " ".join(e.detail for e in events if isinstance(e, FirmwareProgress))
    assert "not possible in a browser" in details
    assert "secret" not in details


def test_download_and_install() -> None:
    """The full update: reboot into the new version, Installed after the new boot."""
    _cp, csms, hook = rebootable()
    update(csms)
    csms.advance(30)
    assert timeline(csms) == [("Downloading", 0), ("Downloaded", 5), ("Installing", 5)]
    [rebooted] = hook.stations
    assert rebooted.firmware_version == "2.0.0"
    csms = boot_again(rebooted, csms.now)
    actions = csms.actions()
    assert actions[0] == "BootNotification"
    assert csms.payloads("BootNotification")[0]["firmwareVersion"] == "2.0.0"
    assert actions.index("FirmwareStatusNotification") > 0
    assert statuses(csms) == ["Installed"]
    assert rebooted.firmware_status == "Idle"
    # Every later boot keeps the installed version and reports nothing more.
    again = boot_again(hook.build(), csms.now)
    assert again.payloads("BootNotification")[0]["firmwareVersion"] == "2.0.0"
    assert statuses(again) == []


def test_download_failure_tries_2_times() -> None:
    cp, csms = booted(firmware_simulation=FAST._replace(fail_download=True))
    cp.change_configuration("HeartbeatInterval", "0")
    update(csms, retries=1, retryInterval=60)
    csms.advance(200)
    assert timeline(csms) == [
        ("Downloading", 0),
        ("DownloadFailed", 5),
        ("Downloading", 65),
        ("DownloadFailed", 70),
    ]
    assert cp.firmware_status == "Idle"
    assert cp.next_wakeup(csms.now) is None


def test_installation_failure_tries_2_times() -> None:
    cp, csms, hook = rebootable()
    cp.set_firmware_simulation(FAST._replace(fail_install=True))
    update(csms, retries=1, retryInterval=30)
    csms.advance(100)
    assert statuses(csms) == [
        "Downloading",
        "Downloaded",
        "Installing",
        "InstallationFailed",
        "Downloading",
        "Downloaded",
        "Installing",
        "InstallationFailed",
    ]
    assert [at for status, at in timeline(csms) if status == "Downloading"] == [0, 40]
    assert hook.kinds == []
    assert cp.firmware_version == "1.0.0"


def test_wait_for_retrieve_date_and_charging_sessions_end() -> None:
    cp, csms, hook = rebootable()
    sessions = Sessions()
    sessions.running.add(2)
    rewire(cp, sessions=sessions)
    cp.change_configuration("HeartbeatInterval", "0")
    events: list[object] = []
    cp.subscribe(events.append)
    update(csms, delay=3600)
    assert cp.next_wakeup(csms.now) == pytest.approx(csms.now + 3600)
    csms.advance(3599, step=60)
    assert statuses(csms) == []
    assert trigger_status(csms) == "Idle"  # not busy downloading or installing yet
    csms.advance(100)
    assert statuses(csms)[1:] == ["Downloading", "Downloaded"]
    assert (
        FirmwareProgress("Downloaded", 100, "downloaded; waiting for the charging sessions to end")
        in events
    )
    csms.advance(600, step=60)
    assert statuses(csms)[-1] == "Downloaded"
    assert trigger_status(csms) == "Downloaded"
    sessions.running.clear()
    csms.advance(10)
    assert statuses(csms)[-2:] == ["Downloaded", "Installing"]
    assert hook.kinds == ["Hard"]


def test_installation_waits_for_a_real_transaction_to_end() -> None:
    """The same wait, with the transaction block behind the SessionView seam."""
    cp, csms, hook = rebootable()
    Hardware(cp, 1).plugged = True
    assert cp.begin_transaction(1, "TAG-1", csms.now)
    csms.advance(2)
    update(csms)
    csms.advance(60)
    assert statuses(csms) == ["Downloading", "Downloaded"]
    assert cp.end_transaction(1, csms.now)
    csms.advance(10)
    assert statuses(csms) == ["Downloading", "Downloaded", "Installing"]
    sequence = [payload.get("status", action) for _, action, payload, _ in csms.calls]
    assert sequence.index("StopTransaction") < sequence.index("Installing")
    assert hook.kinds == ["Hard"]


def test_a_session_begun_while_installing_ends_with_the_reboot() -> None:
    cp, csms, hook = rebootable()
    cp.set_firmware_simulation(FAST._replace(install_s=30))
    update(csms)
    csms.advance(10)
    assert statuses(csms)[-1] == "Installing"
    Hardware(cp, 2).plugged = True
    assert cp.begin_transaction(2, "TAG-2", csms.now)
    csms.advance(40)
    [stop] = csms.payloads("StopTransaction")
    assert stop["reason"] == "Reboot"
    assert hook.kinds == ["Hard"]
    after = boot_again(hook.stations[0], csms.now)
    assert "StopTransaction" not in after.actions()  # delivered before the reboot


# ---------------------------------------------------------------- requests and retries


def test_defaults_are_one_retry_after_180_seconds() -> None:
    _cp, csms = booted(firmware_simulation=FAST._replace(fail_download=True))
    update(csms)
    csms.advance(400, step=5)
    failures = [at for status, at in timeline(csms) if status == "DownloadFailed"]
    assert len(failures) == 2
    assert failures[1] - failures[0] == pytest.approx(DEFAULT_RETRY_INTERVAL + 5, abs=5)


@pytest.mark.parametrize("value", [-1, 2**31, 10**400])
@pytest.mark.parametrize("field", ["retries", "retryInterval"])
def test_retry_settings_beyond_32_bits_are_a_property_violation(field: str, value: int) -> None:
    _cp, csms = booted()
    payload = {"location": IMAGE, "retrieveDate": format_datetime(WALL_START), field: value}
    reply = csms.call("UpdateFirmware", payload)
    assert reply[2] == "PropertyConstraintViolation"


def test_an_absurd_retrieve_date_is_a_property_violation() -> None:
    _cp, csms = booted()
    payload = {"location": IMAGE, "retrieveDate": "0001-01-01T00:00:00+01:00"}
    assert csms.call("UpdateFirmware", payload)[2] == "PropertyConstraintViolation"


def test_retries_as_a_number_with_a_fraction_is_a_type_violation() -> None:
    """OCPP-J errata 2.4: retries and retryInterval are integers."""
    _cp, csms = booted()
    payload = {"location": IMAGE, "retrieveDate": format_datetime(WALL_START), "retries": 1.5}
    assert csms.call("UpdateFirmware", payload)[2] == "TypeConstraintViolation"


def test_a_new_update_replaces_a_waiting_one() -> None:
    _cp, csms = booted(firmware_simulation=FAST)
    update(csms, "https://fw.example.com/fw-9.bin", delay=3600)
    update(csms, "https://fw.example.com/fw-3.0.0.bin", delay=10)
    csms.advance(30)
    assert statuses(csms) == ["Downloading", "Downloaded", "Installing", "Installed"]


def test_an_update_during_a_download_is_ignored() -> None:
    cp, csms = booted(firmware_simulation=FAST)
    host = FakeHost()
    cp.set_transfer_host(host)
    update(csms)
    csms.advance(1)
    update(csms, "https://fw.example.com/other-5.0.bin")
    cp.firmware_download_finished(True, now=csms.now)
    csms.advance(10)
    assert [location for location, _ in host.downloads] == [IMAGE]
    assert statuses(csms)[-1] == "Installed"


def test_trigger_reports_the_latest_status_and_ignores_connector_id() -> None:
    _cp, csms = booted(firmware_simulation=FAST._replace(fail_download=True))
    update(csms, retries=1, retryInterval=60)
    csms.advance(2)
    assert trigger_status(csms, connector=7) == "Downloading"
    csms.advance(10)
    assert trigger_status(csms) == "DownloadFailed"  # busy: the retry is pending
    csms.advance(100)
    assert trigger_status(csms, connector=-3) == "Idle"


# ---------------------------------------------------------------- the transfer host


def test_a_failed_host_download_is_retried() -> None:
    cp, csms = booted(firmware_simulation=FAST)
    host = FakeHost()
    cp.set_transfer_host(host)
    events: list[object] = []
    cp.subscribe(events.append)
    update(csms, retries=1, retryInterval=10)
    csms.advance(1)
    cp.firmware_download_finished(False, "HTTP 404 Not Found", now=csms.now)
    csms.advance(11)
    assert len(host.downloads) == 2
    assert statuses(csms) == ["Downloading", "DownloadFailed", "Downloading"]
    failed = [e for e in events if isinstance(e, FirmwareProgress) and e.status == "DownloadFailed"]
    assert failed[0].detail == "HTTP 404 Not Found; next attempt in 10 s"


def test_a_host_that_never_answers_fails_the_attempt() -> None:
    cp, csms = booted(firmware_simulation=FAST)
    cp.set_transfer_host(FakeHost())
    cp.change_configuration("HeartbeatInterval", "0")
    update(csms, retries=0)
    csms.advance(1)
    assert cp.next_wakeup(csms.now) == pytest.approx(HOST_TRANSFER_LIMIT)
    csms.advance(HOST_TRANSFER_LIMIT, step=100)
    assert statuses(csms) == ["Downloading", "DownloadFailed"]
    cp.firmware_download_finished(True, now=csms.now)  # too late: ignored
    csms.pump()
    assert statuses(csms) == ["Downloading", "DownloadFailed"]


def test_a_host_that_raises_fails_the_attempt() -> None:
    class Broken(FakeHost):
        def start_download(self, location: str, now: float) -> None:
            raise OSError("no network")

    cp, csms = booted(firmware_simulation=FAST)
    cp.set_transfer_host(Broken())
    update(csms, retries=0)
    csms.advance(1)
    assert statuses(csms) == ["Downloading", "DownloadFailed"]


def test_a_result_without_a_download_is_ignored() -> None:
    cp, csms = booted()
    cp.firmware_download_finished(True, now=csms.now)
    csms.pump()
    assert statuses(csms) == []


# ---------------------------------------------------------------- reboot and persistence


def test_the_reboot_waits_for_the_installing_notice_within_a_limit() -> None:
    cp, csms, hook = rebootable()
    cp.set_firmware_simulation(FirmwareSimulation(download_s=1, install_s=5))
    update(csms)
    csms.disconnect()  # the Downloaded and Installing notices cannot leave
    csms.advance(6 + REBOOT_WAIT - 1)
    assert hook.kinds == []
    csms.advance(1)
    assert hook.kinds == ["Hard"]


def test_a_failed_reboot_reports_installed_at_once() -> None:
    store = MemoryStore()
    _cp, csms = booted(store=store, reset_handler=lambda kind: False, firmware_simulation=FAST)
    update(csms)
    csms.advance(15)
    assert statuses(csms)[-1] == "Installed"
    assert ChargePoint(identity=IDENTITY, store=store).firmware_version == "2.0.0"


def test_an_update_resumes_after_a_reboot() -> None:
    store = MemoryStore()
    cp, csms = booted(store=store, firmware_simulation=FAST)
    cp.set_transfer_host(FakeHost())
    update(csms)
    csms.advance(1)
    assert store.load(DOCUMENT)["update"]["phase"] == "downloading"
    rebooted = ChargePoint(identity=IDENTITY, store=store, firmware_simulation=FAST)
    csms = boot_again(rebooted, csms.now)
    csms.advance(20)
    assert statuses(csms) == ["Downloading", "Downloaded", "Installing", "Installed"]


def test_a_station_that_changes_its_own_version_wins() -> None:
    _cp, csms, hook = rebootable()
    update(csms)
    csms.advance(20)
    assert hook.stations[0].firmware_version == "2.0.0"
    newer = StationIdentity(vendor="TestVendor", model="TestModel", firmware_version="7.0")
    assert ChargePoint(identity=newer, store=hook.store).firmware_version == "7.0"
    assert ChargePoint(identity=IDENTITY, store=hook.store).firmware_version == "1.0.0"


def test_a_second_update_still_replaces_the_configured_version() -> None:
    _cp, csms, hook = rebootable()
    update(csms)
    csms.advance(20)
    csms = boot_again(hook.stations[0], csms.now)
    update(csms, "https://fw.example.com/fw-3.0.0.bin")
    csms.advance(20)
    assert hook.stations[1].firmware_version == "3.0.0"
    assert hook.build().firmware_version == "3.0.0"


def test_invalid_stored_state_is_ignored() -> None:
    store = MemoryStore()
    store.save(DOCUMENT, {"update": {"phase": "downloading"}, "installed": {"version": 7}})
    cp = ChargePoint(identity=IDENTITY, store=store)
    assert cp.firmware_version == "1.0.0"
    assert cp.firmware_status == "Idle"
    store.save(DOCUMENT, ["not", "an", "object"])
    assert ChargePoint(identity=IDENTITY, store=store).firmware_status == "Idle"


# ---------------------------------------------------------------- the simulation


@pytest.mark.parametrize(
    ("location", "version"),
    [
        ("https://fw.example.com/a/fw-1.2.3.bin", "1.2.3"),
        ("https://fw.example.com/sim_4.0-rc1.img?token=x", "4.0-rc1"),
        ("ftp://fw.example.com/image.bin", "image"),
        ("https://fw.example.com/", "unnamed"),
    ],
)
def test_the_new_version_comes_from_the_file_name(location: str, version: str) -> None:
    store = MemoryStore()
    _cp, csms = booted(store=store, firmware_simulation=FAST)
    update(csms, location)
    csms.advance(15)
    assert ChargePoint(identity=IDENTITY, store=store).firmware_version == version


def test_the_simulation_names_the_version() -> None:
    store = MemoryStore()
    _cp, csms = booted(store=store, firmware_simulation=FAST._replace(version="sim-42"))
    update(csms)
    csms.advance(15)
    assert ChargePoint(identity=IDENTITY, store=store).firmware_version == "sim-42"


def test_simulated_progress_in_tenths() -> None:
    cp, csms = booted(firmware_simulation=FirmwareSimulation(download_s=10, install_s=0))
    events: list[object] = []
    cp.subscribe(events.append)
    update(csms)
    csms.advance(12)
    downloading = [
        e.percent for e in events if isinstance(e, FirmwareProgress) and e.status == "Downloading"
    ]
    assert downloading == [0, 10, 20, 30, 40, 50, 60, 70, 80, 90]


@pytest.mark.parametrize(
    "simulation",
    [
        FirmwareSimulation(download_s=-1),
        FirmwareSimulation(install_s=float("nan")),
        FirmwareSimulation(download_s=True),
        FirmwareSimulation(version=""),
        FirmwareSimulation(version="v" * 51),
    ],
)
def test_an_invalid_simulation_is_refused(simulation: FirmwareSimulation) -> None:
    cp, _csms = booted()
    with pytest.raises(ValueError):
        cp.set_firmware_simulation(simulation)
    assert cp.firmware_simulation == FirmwareSimulation()


@pytest.mark.parametrize(
    ("location", "scheme", "name", "shown_as"),
    [
        ("https://h.example/a/fw-1.bin?x=/y#z", "https", "fw-1.bin", None),
        ("HTTP://u:p@h.example/fw.bin", "http", "fw.bin", "HTTP://h.example/fw.bin"),
        ("ftp://u:p@ss@h.example/dir/", "ftp", "", "ftp://h.example/dir/"),
        ("https://h.example", "https", "", None),
        ("urn:isbn:123", "urn", "isbn:123", None),
    ],
)
def test_location_helpers(location: str, scheme: str, name: str, shown_as: str | None) -> None:
    assert scheme_of(location) == scheme
    assert file_name_of(location) == name
    assert shown(location) == (location if shown_as is None else shown_as)


@pytest.mark.parametrize("start", [0.3, 0.1, 7.7, 1e6 + 0.3])
@pytest.mark.parametrize("duration", [3.0, 5.0, 0.7])
def test_a_countdown_timer_always_advances_when_it_is_due(start: float, duration: float) -> None:
    """A timer set to next_at() must find progress there (rounding once left it due forever)."""
    from ocpp_core.transfer_machine import Countdown

    countdown = Countdown(start, duration)
    reported = []
    while not countdown.done(countdown.next_at()) or countdown.tenths < 9:
        at = countdown.next_at()
        percent = countdown.advance(at)
        assert percent is not None, (start, duration, countdown.tenths, at)
        reported.append(percent)
        if countdown.tenths == 9:
            break
    assert reported == [10, 20, 30, 40, 50, 60, 70, 80, 90]
    assert countdown.done(countdown.next_at())
