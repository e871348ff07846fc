"""The page's start-up path as build.py lays it out (issue 16, "faster page start").

What the page fetches is listed in index.html's preload links, so nothing waits for a request
until Python asks for it; the Control Center arrives as a wheel micropip installs with the
simulator's; the wheels carry bytecode; the first screen's imports leave out what it never uses.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
WEB = ROOT / "web"
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tools"))

from compile_wheel import compile_stdlib, compile_wheel, pyc_name  # noqa: E402

import build  # noqa: E402

WHEELS = [
    Path("ocpp_station_simulator-0.1.0-py3-none-any.whl"),
    Path("ocpp_sim_control_center-0.1.0-py3-none-any.whl"),
]
MICROPIP = Path("micropip-0.11.1-py3-none-any.whl")
HREF = re.compile(r'<link rel="(preload|modulepreload)" href="\./([^"]+)"')


def python(code: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a fresh CPython (the import system as a page would meet it)."""
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=cwd,
        env=env or None,
        capture_output=True,
        text=True,
        check=False,
    )


def preloaded(page: str) -> dict[str, str]:
    return {href: rel for rel, href in HREF.findall(page)}


def test_the_page_preloads_the_interpreter_micropip_and_every_wheel_pyscript_installs() -> None:
    config = json.loads(build.pyscript_config(WHEELS))
    page = build.page_with_preloads(
        (WEB / "index.html").read_text(encoding="utf-8"), build.preload_links(WHEELS, MICROPIP)
    )
    links = preloaded(page)
    installed = {package.removeprefix("./") for package in config["ocpp_sim_wheels"]}
    assert installed == {f"wheels/{wheel.name}" for wheel in WHEELS}
    assert installed <= set(links)
    assert f"pyodide/{MICROPIP.name}" in links
    # what loadPyodide() fetches itself: a preload must match the request (fetch, CORS mode)
    for name in ("pyodide.asm.wasm", "python_stdlib.zip", "pyodide-lock.json"):
        assert links[f"pyodide/{name}"] == "preload"
    assert links["pyodide/pyodide.mjs"] == "modulepreload"
    shipped = {*build.PYODIDE_FILES, "pyodide-lock.json"}
    for name in links:
        assert name.removeprefix("pyodide/") in shipped or name.endswith(".whl"), name
    head = page[: page.index("</head>")]
    assert all(f'href="./{name}"' in head for name in links)


def test_pyodide_starts_with_the_page_and_micropip_installs_on_every_visit() -> None:
    config = json.loads(build.pyscript_config(WHEELS))
    assert config["interpreter"] == "./interpreter.mjs"
    assert config["packages_cache"] == "never"
    # interpreter.mjs has micropip install the wheels; PyScript's "packages" are users' own
    assert "packages" not in config
    script = (WEB / "interpreter.mjs").read_text(encoding="utf-8")
    assert "ocpp_sim_wheels" in script and "micropip.install" in script
    page = (WEB / "index.html").read_text(encoding="utf-8")
    head = page[: page.index("</head>")]
    # the interpreter module is loaded before PyScript's, so Pyodide starts first
    assert head.index('src="./interpreter.mjs"') < head.index('src="./pyscript/core.js"')
    assert "startPyodide()" in (WEB / "interpreter.mjs").read_text(encoding="utf-8")


def test_a_page_without_the_preload_marker_is_a_build_error() -> None:
    with pytest.raises(build.BuildError, match="preloads"):
        build.page_with_preloads("<html><head></head></html>", ["<link>"])


def test_the_control_center_wheel_holds_every_module(tmp_path: Path) -> None:
    wheel = build.build_control_center_wheel(tmp_path / "out", "1.2.3")
    assert wheel.name == "ocpp_sim_control_center-1.2.3-py3-none-any.whl"
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        record = archive.read("ocpp_sim_control_center-1.2.3.dist-info/RECORD").decode()
        metadata = archive.read("ocpp_sim_control_center-1.2.3.dist-info/METADATA").decode()
    on_disk = {f"control_center/{path.name}" for path in (WEB / "control_center").glob("*.py")}
    assert {name for name in names if name.startswith("control_center/")} == on_disk
    assert "Name: ocpp-sim-control-center" in metadata and "Version: 1.2.3" in metadata
    assert {line.split(",")[0] for line in record.splitlines()} == names
    # the modules are importable from the installed wheel (plain ones, on CPython)
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(tmp_path / "site")
    code = "import control_center.fmt, control_center.chart; print(control_center.fmt.__file__)"
    result = python(code, tmp_path, PYTHONPATH=f"{tmp_path / 'site'}:{ROOT}")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(str(tmp_path / "site"))


def test_compiled_wheels_carry_bytecode_the_importer_uses_without_the_source(
    tmp_path: Path,
) -> None:
    wheel = tmp_path / "demo-1.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr("demo/__init__.py", "VALUE = 'compiled'\n")
        archive.writestr("demo-1.0.dist-info/METADATA", "Metadata-Version: 2.1\nName: demo\n")
        archive.writestr("demo-1.0.dist-info/RECORD", "")
    compile_wheel(wheel)
    tag = sys.implementation.cache_tag
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        record = archive.read("demo-1.0.dist-info/RECORD").decode()
        archive.extractall(tmp_path / "site")
    assert names.index(pyc_name("demo/__init__.py", tag)) == names.index("demo/__init__.py") + 1
    assert f"demo/__pycache__/__init__.{tag}.pyc,sha256=" in record
    # unzipping loses the dates: the bytecode is unchecked, so the importer takes it as it is
    # (a changed source proves that the module came from the .pyc)
    (tmp_path / "site" / "demo" / "__init__.py").write_text("VALUE = 'source'\n")
    result = python("import demo; print(demo.VALUE)", tmp_path / "site")
    assert result.stdout.strip() == "compiled", result.stderr
    # compiling again replaces the bytecode rather than adding a second copy
    compile_wheel(wheel)
    with zipfile.ZipFile(wheel) as archive:
        assert archive.namelist() == names


def test_the_standard_library_zip_holds_bytecode_zipimport_loads(tmp_path: Path) -> None:
    archive = tmp_path / "python_stdlib.zip"
    with zipfile.ZipFile(archive, "w") as out:
        out.writestr("demo_std/__init__.py", "VALUE = 'compiled'\n")
        out.writestr("old_syntax.py", "print 'python 2'\n")
        out.writestr("demo_std/data.txt", "kept")
    compile_stdlib(archive)
    with zipfile.ZipFile(archive) as compiled:
        names = compiled.namelist()
    assert names == ["demo_std/__init__.pyc", "old_syntax.py", "demo_std/data.txt"]
    code = f"import sys; sys.path.insert(0, {str(archive)!r}); import demo_std as d; print(d.VALUE)"
    result = python(code, tmp_path)
    assert result.stdout.strip() == "compiled", result.stderr


def test_the_first_screen_imports_no_http_client_or_email() -> None:
    """urllib.request drags in http.client and email: ~0.3 s of the page's start in Pyodide.
    Only the CPython transfer host needs it, and imports it when it is built."""
    code = (
        "import sys, ocpp_core, sim.station, sim.transfer, sim.settings\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('email', 'http')"
        " or m == 'urllib.request')\n"
        "print(' '.join(heavy))"
    )
    result = python(code, ROOT)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""
