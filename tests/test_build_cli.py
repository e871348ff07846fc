"""build.py's command line and its failure modes: usage errors, failed commands, busy ports."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import buildscript
import pytest

ROOT = Path(__file__).resolve().parent.parent
IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc")


def run_build_py(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "build.py"), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def test_help_lists_the_three_commands() -> None:
    result = run_build_py("--help")
    assert result.returncode == 0
    for command in ("build", "serve", "test"):
        assert command in result.stdout


def test_unknown_subcommand_prints_usage_and_exits_2() -> None:
    result = run_build_py("frobnicate")
    assert result.returncode == 2
    assert "usage:" in result.stderr
    assert "frobnicate" in result.stderr


def test_failed_command_names_the_command() -> None:
    build = buildscript.load()
    with pytest.raises(build.BuildError, match=r"command failed \(exit 3\): .*SystemExit\(3\)"):
        build.run([sys.executable, "-c", "raise SystemExit(3)"])


def test_missing_program_is_reported() -> None:
    build = buildscript.load()
    with pytest.raises(build.BuildError, match="command not found: no-such-program-xyz"):
        build.run(["no-such-program-xyz"])


def test_failed_npm_ci_stops_the_build(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    build = buildscript.load()
    monkeypatch.setattr(build, "CACHE", tmp_path / "cache")
    monkeypatch.setattr(build, "NODE_MODULES", tmp_path / "node_modules")
    monkeypatch.setattr(build.shutil, "which", lambda _name: "/bin/false")
    with pytest.raises(build.BuildError, match=r"command failed \(exit 1\): /bin/false ci"):
        build.ensure_node_modules()


def test_failed_download_stops_the_build(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    build = buildscript.load()
    monkeypatch.setattr(build, "CACHE", tmp_path)
    monkeypatch.setattr(build, "MICROPIP_VERSION", "0.0.0.999")
    monkeypatch.setattr(build, "MICROPIP_WHEEL", "micropip-0.0.0.999-py3-none-any.whl")
    with pytest.raises(
        build.BuildError, match=r"command failed .*pip download .*micropip==0\.0\.0\.999"
    ):
        build.ensure_micropip()


def test_download_with_wrong_hash_is_refused(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    build = buildscript.load()
    monkeypatch.setattr(build, "CACHE", tmp_path)
    monkeypatch.setattr(build, "MICROPIP_SHA256", "0" * 64)

    def fake_run(command):
        dest = Path(command[command.index("--dest") + 1])
        (dest / build.MICROPIP_WHEEL).write_bytes(b"not the real wheel")

    monkeypatch.setattr(build, "run", fake_run)
    with pytest.raises(build.BuildError, match="sha256 mismatch"):
        build.ensure_micropip()
    assert not (tmp_path / build.MICROPIP_WHEEL).exists()


@pytest.mark.parametrize("port", ["70000", "-1", "http"])
def test_serve_with_an_impossible_port_is_a_usage_error(port: str) -> None:
    result = run_build_py("serve", "--port", port)
    assert result.returncode == 2
    assert "--port" in result.stderr and (
        "0..65535" in result.stderr or "not a port" in result.stderr
    )


def test_a_recreated_venv_is_installed_again(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The install stamp names the environment and when it was made: deleting .venv and
    creating it anew (while .cache stays) must not skip the install into the empty one."""
    build = buildscript.load()
    monkeypatch.setattr(build, "CACHE", tmp_path / "cache")
    prefix = tmp_path / "venv"
    prefix.mkdir()
    (prefix / "pyvenv.cfg").write_text("home = /usr/bin\n")
    monkeypatch.setattr(build.sys, "prefix", str(prefix))
    monkeypatch.setattr(build, "in_virtualenv", lambda: True)
    installs: list[list[str]] = []
    monkeypatch.setattr(build, "run", lambda command: installs.append(command))
    build.ensure_python_environment()
    build.ensure_python_environment()
    assert len(installs) == 1  # up to date: no second install
    (prefix / "pyvenv.cfg").unlink()
    (prefix / "pyvenv.cfg").write_text("home = /usr/bin\n")
    stat = (prefix / "pyvenv.cfg").stat()
    os.utime(prefix / "pyvenv.cfg", ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    build.ensure_python_environment()
    assert len(installs) == 2 and installs[-1][1:4] == ["-m", "pip", "install"]


def test_no_chromium_says_how_to_get_one(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    build = buildscript.load()
    monkeypatch.setattr(build, "build", lambda: None)
    monkeypatch.setattr(build, "find_chromium", lambda: None)
    monkeypatch.setattr(
        build.subprocess, "run", lambda *a, **k: pytest.fail("pytest ran without a browser")
    )
    assert build.test([]) == 1
    err = capsys.readouterr().err
    assert "apt-get install chromium" in err and "playwright install chromium" in err


def test_a_chromium_variable_naming_nothing_finds_nothing(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    build = buildscript.load()
    monkeypatch.setenv("CHROMIUM", str(tmp_path / "no-such-chromium"))
    assert build.find_chromium() is None
    fake = tmp_path / "chromium"
    fake.write_text("")
    monkeypatch.setenv("CHROMIUM", str(fake))
    assert build.find_chromium() == fake


@pytest.mark.parametrize(("pytest_code", "expected"), [(0, 0), (1, 1), (5, 1)])
def test_the_test_command_fails_when_no_test_ran(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    pytest_code: int,
    expected: int,
) -> None:
    build = buildscript.load()
    monkeypatch.setattr(build, "build", lambda: None)
    monkeypatch.setattr(build, "find_chromium", lambda: Path("/usr/bin/chromium"))
    monkeypatch.setattr(build, "type_check", lambda: None)
    commands: list[list[str]] = []

    def fake_run(command, **_kwargs):
        commands.append(command)
        return subprocess.CompletedProcess(command, pytest_code)

    monkeypatch.setattr(build.subprocess, "run", fake_run)
    assert build.test(["-k", "x"]) == expected
    assert commands[0][1:] == ["-m", "pytest", "tests", "e2e", "-k", "x"]
    assert ("no test ran" in capsys.readouterr().err) == (pytest_code == 5)


@pytest.fixture(scope="module")
def core_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of ocpp_core and pyproject.toml (its mypy cache shared by the tests using it)."""
    root = tmp_path_factory.mktemp("typecheck")
    shutil.copytree(ROOT / "ocpp_core", root / "ocpp_core", ignore=IGNORED)
    shutil.copy2(ROOT / "pyproject.toml", root / "pyproject.toml")
    return root


@pytest.mark.parametrize("broken", [False, True], ids=["clean", "type-error"])
def test_a_type_error_fails_the_test_command_before_pytest(
    monkeypatch: pytest.MonkeyPatch,
    core_copy: Path,
    capfd: pytest.CaptureFixture[str],
    broken: bool,
) -> None:
    """`build.py test` type-checks ocpp_core first: a copy of the core with one wrong
    annotation makes the command fail with the type error shown, and pytest never starts; the
    same copy without it goes on to pytest."""
    module = core_copy / "ocpp_core" / "clock.py"
    lines = (ROOT / "ocpp_core" / "clock.py").read_text(encoding="utf-8").splitlines()
    if broken:
        lines.append('INJECTED_TYPE_ERROR: int = "not a number"')
    module.write_text("\n".join(lines) + "\n", encoding="utf-8")
    build = buildscript.load()
    monkeypatch.setattr(build, "ROOT", core_copy)
    monkeypatch.setattr(build, "build", lambda: None)
    monkeypatch.setattr(build, "find_chromium", lambda: Path("/usr/bin/chromium"))
    real_run = subprocess.run
    ran: list[str] = []

    def mypy_only(command, **kwargs):
        ran.append(command[2])
        if command[1:3] == ["-m", "mypy"]:
            return real_run(command, **kwargs)
        return subprocess.CompletedProcess(command, 0)  # pytest: not run for real

    monkeypatch.setattr(build.subprocess, "run", mypy_only)
    code = build.main(["test"])
    out, err = capfd.readouterr()
    if broken:
        assert code == 1 and ran == ["mypy"]
        assert f"ocpp_core/clock.py:{len(lines)}: error: Incompatible types in assignment" in out
        assert "error: type check failed" in err
    else:
        assert code == 0 and ran == ["mypy", "pytest"], out + err
        assert "Success: no issues found" in out


def test_serve_on_a_busy_port_says_so_and_fails() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = run_build_py("serve", "--port", str(port), timeout=300)
    assert result.returncode != 0
    assert f"cannot serve on 127.0.0.1:{port}" in result.stderr


def test_second_build_with_nothing_changed_runs_no_command(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    build = buildscript.load()
    build.build()  # brings everything up to date (a no-op after `build.py test` built it)

    def refuse(command):
        raise AssertionError(f"an up-to-date build ran {command}")

    monkeypatch.setattr(build, "run", refuse)
    build.build()
    assert (build.DIST / "pyscript.json").is_file()
