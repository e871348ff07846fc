"""The CLI's authorization key out of argv (issue 18.4) and its transfer limits (issue 18.5).

The key given by file (--auth-key-file) or environment (OCPP_SIM_AUTH_KEY) reaches a CSMS as
HTTP Basic auth checked by the websockets library, and never appears in the process's command
line; the CSMS-set key is stored readable by the owner only. --transfer-allow and
--transfer-max-bytes reach the transfer host of a real run.
"""

from __future__ import annotations

import asyncio
import os
import signal
import stat
import sys
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fake_csms import booted as booted_station
from file_server import serving
from test_cli import ROOT, bare_csms, cli, run_firmware_update
from websockets.asyncio.server import basic_auth

from ocpp_core import FileStore
from sim.cli_args import AUTH_KEY_ENV, build_parser

STATION, KEY = "SEC-KEY", "pw-from-a-safe-place-42"


def booted(seen: types.SimpleNamespace) -> Callable[[], bool]:
    return lambda: any(call[2] == "BootNotification" for call in seen.calls)


def key_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "auth.key"
    path.write_text(text, encoding="utf-8", newline="")
    path.chmod(0o600)
    return path


async def against_basic_auth(argv: list[str], key: str = KEY) -> tuple[Any, ...]:
    """The CLI against a CSMS whose Basic auth check is websockets' own."""
    async with bare_csms(process_request=basic_auth(credentials=(STATION, key))) as seen:
        result = await cli(["--url", seen.url, "--id", STATION, *argv], booted(seen))
        return result, list(seen.opened)


# --------------------------------------------------------------------------- the key


@pytest.mark.parametrize("text", [KEY, KEY + "\n", KEY + "\r\n"])
def test_the_key_from_a_file_is_the_basic_auth_password(tmp_path: Path, text: str) -> None:
    path = key_file(tmp_path, text)
    (code, out, err), opened = asyncio.run(against_basic_auth(["--auth-key-file", str(path)]))
    assert code == 0, err
    assert opened == [(STATION, "ocpp1.6")]  # the library authenticated the charge box id
    assert KEY not in out + err


def test_only_one_trailing_newline_is_taken_off(tmp_path: Path) -> None:
    path = key_file(tmp_path, KEY + "\n\n")
    (code, _out, err), opened = asyncio.run(against_basic_auth(["--auth-key-file", str(path)]))
    assert code == 1 and opened == []  # the key ends with a newline: refused by the CSMS
    assert "HTTP 401" in err


def test_the_key_from_the_environment_is_the_basic_auth_password(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(AUTH_KEY_ENV, KEY)
    (code, out, err), opened = asyncio.run(against_basic_auth([]))
    assert code == 0, err
    assert opened == [(STATION, "ocpp1.6")]
    assert KEY not in out + err


def test_an_option_wins_over_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(AUTH_KEY_ENV, "pw-wrong-456")
    path = key_file(tmp_path, KEY)
    (code, _out, err), _ = asyncio.run(against_basic_auth(["--auth-key-file", str(path)]))
    assert code == 0, err
    (code, _out, err), _ = asyncio.run(against_basic_auth(["--auth-key", KEY]))
    assert code == 0, err


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "cannot read {path}: No such file or directory"),
        ("", "{path} is empty"),
        ("\n", "{path} is empty"),
        (b"\xff\xfe-not-utf-8", "cannot read {path}: 'utf-8' codec can't decode"),
        ("x" * 5000, "{path} is too large for a key"),
    ],
)
def test_an_unusable_key_file_is_a_usage_error(
    tmp_path: Path, content: str | bytes | None, message: str
) -> None:
    path = tmp_path / "auth.key"
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content, encoding="utf-8")
    argv = ["--url", "ws://127.0.0.1:9/ocpp", "--auth-key-file", str(path)]
    code, _out, err = asyncio.run(cli(argv))
    assert code == 2
    assert err.startswith(f"error: --auth-key-file: {message.format(path=path)}")


def test_a_key_path_that_is_no_file_is_a_usage_error(tmp_path: Path) -> None:
    code, _out, err = asyncio.run(cli(["--auth-key-file", str(tmp_path)]))
    assert code == 2
    assert err == f"error: --auth-key-file: cannot read {tmp_path}: Is a directory\n"


def test_an_empty_environment_key_is_a_usage_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(AUTH_KEY_ENV, "")
    code, _out, err = asyncio.run(cli(["--url", "ws://127.0.0.1:9/ocpp"]))
    assert code == 2
    assert err == f"error: {AUTH_KEY_ENV} is set but empty (unset it for no key)\n"


def test_a_key_and_a_key_file_together_are_refused(tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as exit_:
        build_parser().parse_args(["--auth-key", KEY, "--auth-key-file", str(tmp_path / "k")])
    assert exit_.value.code == 2


def test_help_recommends_the_file_and_the_environment() -> None:
    text = build_parser().format_help()
    assert "--auth-key-file PATH" in text and AUTH_KEY_ENV in text
    assert "visible to other users" in " ".join(text.split())
    assert "ps and /proc/PID/cmdline" in text


@pytest.mark.parametrize("given", ["file", "env"])
def test_the_key_never_appears_in_the_command_line(tmp_path: Path, given: str) -> None:
    """A real `python -m sim` process: its /proc/PID/cmdline, what `ps` shows to every user."""
    if not Path("/proc/self/cmdline").exists():
        pytest.skip("needs /proc")
    env = {k: v for k, v in os.environ.items() if k != AUTH_KEY_ENV}
    extra: list[str] = []
    if given == "file":
        extra = ["--auth-key-file", str(key_file(tmp_path, KEY + "\n"))]
    else:
        env[AUTH_KEY_ENV] = KEY

    async def scenario() -> tuple[bytes, int | None, str, list]:
        async with bare_csms(process_request=basic_auth(credentials=(STATION, KEY))) as seen:
            process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "sim", "--url", seen.url, "--id", STATION, *extra,
                cwd=ROOT, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
            )  # fmt: skip
            try:
                async with asyncio.timeout(20):
                    while not booted(seen)():
                        await asyncio.sleep(0.05)
                cmdline = Path(f"/proc/{process.pid}/cmdline").read_bytes()
            finally:
                process.send_signal(signal.SIGINT)
                out, err = await asyncio.wait_for(process.communicate(), 20)
            return cmdline, process.returncode, (out + err).decode(), list(seen.opened)

    cmdline, code, output, opened = asyncio.run(scenario())
    assert opened == [(STATION, "ocpp1.6")]  # the key worked ...
    assert b"-m\0sim\0--url" in cmdline  # ... and this is that process's command line
    assert KEY.encode() not in cmdline
    assert code == 0, output
    assert KEY not in output


def test_the_key_the_csms_sets_is_stored_for_the_owner_only(tmp_path: Path) -> None:
    """ChangeConfiguration AuthorizationKey: persisted (the next connection needs it) in a file
    no other user can read."""
    store = tmp_path / "store"
    cp, csms = booted_station(store=FileStore(store))
    new_key = "fedcba9876543210fedcba9876543210"
    reply = csms.result("ChangeConfiguration", {"key": "AuthorizationKey", "value": new_key})
    assert reply == {"status": "Accepted"}
    csms.pump()
    holding = [p for p in store.rglob("*") if p.is_file() and new_key in p.read_text("utf-8")]
    assert holding, "the key was not persisted"
    for path in holding:
        assert stat.S_IMODE(path.stat().st_mode) & 0o077 == 0, oct(path.stat().st_mode)
    assert cp.get_configuration("AuthorizationKey") == new_key  # what the next connection uses


# --------------------------------------------------------------------------- transfers


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--transfer-allow", "http://fw.example"], "--transfer-allow: 'http://fw.example' is"),
        (["--transfer-allow", ","], "--transfer-allow: the transfer allow-list names no host"),
        (["--transfer-max-bytes", "0"], "--transfer-max-bytes: the transfer size limit must"),
    ],
)
def test_transfer_options_are_checked(argv: list[str], message: str) -> None:
    code, _out, err = asyncio.run(cli(["--url", "ws://127.0.0.1:9/ocpp", *argv]))
    assert code == 2 and err.startswith(f"error: {message}")


def test_transfer_allow_refuses_another_host(tmp_path: Path) -> None:
    """The demo CSMS on 127.0.0.1 asks for an image on localhost; same-csms refuses it."""
    with serving() as files:
        location = files.base.replace("127.0.0.1", "localhost") + "/fw-2.0.0.bin"
        code, output, statuses = run_firmware_update(
            tmp_path, "FW-ALLOW", location, ["--transfer-allow", "same-csms"], "DownloadFailed"
        )
        assert files.requests == []
    assert code == 0, output
    assert statuses == ["Downloading", "DownloadFailed"]
    assert "localhost is not an allowed transfer destination (allowed: 127.0.0.1)" in output


def test_transfer_max_bytes_limits_a_download(tmp_path: Path) -> None:
    with serving() as files:
        code, output, statuses = run_firmware_update(
            tmp_path, "FW-MAX", f"{files.base}/fw-2.0.0.bin",
            ["--transfer-max-bytes", "1000"], "DownloadFailed",
        )  # fmt: skip
    assert code == 0, output
    assert statuses == ["Downloading", "DownloadFailed"]
    assert "exceed the transfer limit of 1000 bytes" in output


def test_the_settings_carry_the_transfer_policy() -> None:
    from sim.settings import StationSettings

    settings = StationSettings(
        "ws://csms.example:9000/ocpp", transfer_allow="same-csms, fw.example",
        transfer_max_bytes=4096,
    )  # fmt: skip
    policy = settings.transfer_policy()
    assert policy.hosts == frozenset({"csms.example", "fw.example"})
    assert policy.max_bytes == 4096
    assert StationSettings.from_json(settings.to_json()) == settings
    with pytest.raises(ValueError, match="transfers: 'a/b' is not a host name"):
        StationSettings("ws://csms.example/ocpp", transfer_allow="a/b")
