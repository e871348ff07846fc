"""Acceptance of logs, firmware and customer information (issue 14): ``python -m sim --ocpp
2.0.1`` against the independent, validating OCPP 2.0.1 CSMS of tests/test_v201_acceptance.py
(the ``ocpp`` package's v201 classes check every frame both ways), with a real HTTP file server
(tests/file_server.py).

The CSMS asks for the diagnostics log (GetLog: the file arrives at the server, Uploading then
Uploaded with the requestId), for what the station holds about a card (CustomerInformation:
NotifyCustomerInformation), then updates the firmware from the server (UpdateFirmware:
Downloading, Downloaded, Installing, InstallRebooting, the reboot, BootNotification reason
FirmwareUpdate with the new firmwareVersion, Installed). The station is then killed (SIGKILL)
and started again on the same --store: it still boots with the new version. Every frame is also
checked by the suite's independent schema checker (FrameChecker).
"""

from __future__ import annotations

import asyncio
import signal
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from file_server import serving
from ocpp.routing import on
from ocpp.v201 import call, call_result
from ocpp.v201.enums import Action
from test_v201_acceptance import Csms, World, _now, csms_url, station, until


class TransferCsms(Csms):
    """The acceptance CSMS, taking the firmware, log and customer notifications."""

    @on(Action.firmware_status_notification)
    def on_firmware_status(self, **_: Any) -> call_result.FirmwareStatusNotification:
        return call_result.FirmwareStatusNotification()

    @on(Action.log_status_notification)
    def on_log_status(self, **_: Any) -> call_result.LogStatusNotification:
        return call_result.LogStatusNotification()

    @on(Action.notify_customer_information)
    def on_customer_information(self, **_: Any) -> call_result.NotifyCustomerInformation:
        return call_result.NotifyCustomerInformation()


class TransferWorld(World):
    csms_type = TransferCsms


def statuses(world: World, action: str) -> list[tuple[str, int | None]]:
    return [(p["status"], p.get("requestId")) for _, p in world.calls(action)]


def boots(world: World) -> list[tuple[str, str | None]]:
    return [
        (p["reason"], p["chargingStation"].get("firmwareVersion"))
        for _, p in world.calls("BootNotification")
    ]


def test_acceptance_logs_customer_information_and_firmware_across_a_kill(tmp_path: Path) -> None:
    world = TransferWorld()
    store = tmp_path / "store"

    async def scenario(base: str, stored: dict[str, bytes]) -> None:
        async with csms_url(world) as url:
            first = await station(url, store)
            try:
                await until(lambda: world.boots >= 2, "accepted after Pending")
                live = world.live
                assert live is not None
                log = await live.call(
                    call.GetLog(
                        log={"remote_location": f"{base}/logs"},
                        log_type="DiagnosticsLog",
                        request_id=61,
                    )
                )
                assert log.status == "Accepted" and log.filename
                await until(
                    lambda: ("Uploaded", 61) in statuses(world, "LogStatusNotification"),
                    "the log uploaded",
                )
                assert stored[f"/logs/{log.filename}"].startswith(b"OCPP 2.0.1 diagnostics")

                info = await live.call(
                    call.CustomerInformation(
                        request_id=62,
                        report=True,
                        clear=True,
                        id_token={"id_token": "CARD-X", "type": "ISO14443"},
                    )
                )
                assert info.status == "Accepted"
                await until(
                    lambda: bool(world.calls("NotifyCustomerInformation")),
                    "the customer information",
                )

                update = await live.call(
                    call.UpdateFirmware(
                        request_id=63,
                        firmware={"location": f"{base}/fw-3.1.0.bin", "retrieve_date_time": _now()},
                        retries=0,
                    )
                )
                assert update.status == "Accepted"
                await until(
                    lambda: ("Installed", 63) in statuses(world, "FirmwareStatusNotification"),
                    "the firmware installed after the reboot",
                )
            finally:
                first.kill()  # SIGKILL: a power cut
                await first.wait()

            second = await station(url, store)
            try:
                await until(lambda: len(boots(world)) >= 4, "the restart booted")
            finally:
                second.send_signal(signal.SIGINT)
                try:
                    async with asyncio.timeout(20):
                        await second.wait()
                except TimeoutError:
                    second.kill()
                    await second.wait()

    def run() -> None:
        with serving() as files:
            asyncio.run(scenario(files.base, files.stored))

    # In a fresh thread: the e2e tests' Playwright fixtures keep a loop running in this one.
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(run).result()

    assert statuses(world, "LogStatusNotification") == [("Uploading", 61), ("Uploaded", 61)]
    pages = [p for _, p in world.calls("NotifyCustomerInformation")]
    assert [(p["requestId"], p["seqNo"], p.get("tbc", False)) for p in pages] == [(62, 0, False)]
    firmware = statuses(world, "FirmwareStatusNotification")
    assert firmware == [
        ("Downloading", 63),
        ("Downloaded", 63),
        ("Installing", 63),
        ("InstallRebooting", 63),
        ("Installed", 63),
    ]
    booted = boots(world)
    assert booted[2] == ("FirmwareUpdate", "3.1.0")
    assert booted[-1][1] == "3.1.0"  # after the kill: still the new version
    assert booted[0][1] != "3.1.0"
    print(f"\ntransfer acceptance: boots {booted}, firmware {firmware}, {len(world.frames)} frames")
    world.check_frames()
