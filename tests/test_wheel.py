"""The wheel is pure, holds both import packages with their py.typed markers, and nothing else."""

from __future__ import annotations

import zipfile
from email.parser import Parser
from pathlib import Path

import buildscript
import pytest

import ocpp_core


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return buildscript.load().build_wheel(tmp_path_factory.mktemp("wheel"))


def names(wheel: Path) -> list[str]:
    with zipfile.ZipFile(wheel) as archive:
        return archive.namelist()


def metadata(wheel: Path):
    with zipfile.ZipFile(wheel) as archive:
        info = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        return Parser().parsestr(archive.read(info).decode())


def test_wheel_is_pure_and_versioned(wheel: Path) -> None:
    assert wheel.name == f"ocpp_station_simulator-{ocpp_core.__version__}-py3-none-any.whl"


def test_wheel_holds_both_packages_and_typing_markers(wheel: Path) -> None:
    files = set(names(wheel))
    for required in (
        "ocpp_core/__init__.py",
        "ocpp_core/py.typed",
        "sim/__init__.py",
        "sim/py.typed",
    ):
        assert required in files


def test_wheel_holds_nothing_stray(wheel: Path) -> None:
    for name in names(wheel):
        top = name.split("/", 1)[0]
        assert top in ("ocpp_core", "sim") or top.endswith(".dist-info"), name
        assert "__pycache__" not in name and not name.endswith(".pyc"), name
        assert not name.startswith(("ocpp_core/tests", "sim/tests")), name
        if top in ("ocpp_core", "sim"):
            # code, typing markers and the bundled schemas: no notes or stray documents
            assert name.endswith((".py", "py.typed", ".json")), name


def test_core_has_no_runtime_dependency(wheel: Path) -> None:
    meta = metadata(wheel)
    assert meta["Requires-Python"] == ">=3.11"
    unconditional = [req for req in meta.get_all("Requires-Dist") or [] if "extra ==" not in req]
    assert unconditional == []
