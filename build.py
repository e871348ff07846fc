#!/usr/bin/env python3
"""One entry point: build the wheel and the static site, serve it with the demo CSMS, run the tests.

``build`` is incremental: every step compares a fingerprint of its inputs with the one it recorded
last time and is skipped when nothing changed, so a second build finishes in seconds.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
CACHE = ROOT / ".cache"
DIST = ROOT / "dist"
WEB = ROOT / "web"
NODE_MODULES = ROOT / "node_modules"

# micropip is not in the pyodide npm package; this PyPI wheel is what we ship. Pyodide checks its
# sha256 against pyodide-lock.json, so the copied lock is rewritten to carry this hash.
MICROPIP_VERSION = "0.11.1"
MICROPIP_WHEEL = f"micropip-{MICROPIP_VERSION}-py3-none-any.whl"
MICROPIP_SHA256 = "768de165adb8e66906039d8fec4127a57f522dfdf8e6fbff877a4616941ecfd3"

# The parts of the npm packages the page loads (no source maps, type stubs or demo consoles).
PYODIDE_FILES = (
    "pyodide.mjs",
    "pyodide.asm.mjs",
    "pyodide.asm.wasm",
    "python_stdlib.zip",
    "package.json",
)
# What build steps other than copying web/ put at the top of dist/; what of web/ is not copied
# (the Control Center package goes into a wheel of its own, index.html gets its preload links).
GENERATED_IN_DIST = frozenset({"pyodide", "pyscript", "wheels", "pyscript.json", "index.html"})
NOT_COPIED_FROM_WEB = frozenset({"control_center", "index.html"})
WHEEL_SOURCES = ("ocpp_core", "sim", "pyproject.toml", "README.md", "tools/slim_wheel.py")
# The Control Center (web/control_center/) as a wheel micropip installs with ours in one call.
CONTROL_CENTER = "control_center"
CONTROL_CENTER_DIST = "ocpp_sim_control_center"
COMPILE_TOOLS = ("tools/compile_wheel.py", "tools/compile_wheels.mjs", "tools/slim_wheel.py")
# In web/index.html's <head>: where build.py writes the preload links of the files the start needs.
PRELOAD_MARKER = "<!-- preloads: written by build.py -->"
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")


class BuildError(Exception):
    """A build step failed; the message names the step (and the command) that failed."""


# --------------------------------------------------------------------------- helpers


def log(message: str) -> None:
    print(f"[build] {message}", flush=True)


def run(command: Sequence[str | os.PathLike[str]], *, cwd: Path = ROOT) -> None:
    """Run a command; a failure stops the build with the command line that failed."""
    printable = " ".join(str(part) for part in command)
    log(f"$ {printable}")
    try:
        completed = subprocess.run([str(part) for part in command], cwd=cwd, check=False)
    except FileNotFoundError as error:
        raise BuildError(f"command not found: {printable} ({error.filename})") from error
    if completed.returncode != 0:
        raise BuildError(f"command failed (exit {completed.returncode}): {printable}")


def fingerprint(paths: Iterable[Path], extra: str = "") -> str:
    """Hash of the names and contents of every file under ``paths`` (caches skipped)."""
    digest = hashlib.sha256(extra.encode())
    for path in sorted(paths):
        files = sorted(path.rglob("*")) if path.is_dir() else [path]
        for file in files:
            if file.is_file() and "__pycache__" not in file.parts and file.suffix != ".pyc":
                digest.update(str(file.relative_to(ROOT)).encode())
                digest.update(file.read_bytes())
    return digest.hexdigest()


def stamp_matches(name: str, value: str) -> bool:
    stamp = CACHE / f"{name}.stamp"
    return stamp.is_file() and stamp.read_text() == value


def write_stamp(name: str, value: str) -> None:
    CACHE.mkdir(exist_ok=True)
    (CACHE / f"{name}.stamp").write_text(value)


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def copy_if_changed(source: Path, target: Path) -> None:
    """Copy unless the target already has the same size and modification time."""
    if target.is_file():
        src, dst = source.stat(), target.stat()
        if src.st_size == dst.st_size and int(src.st_mtime) == int(dst.st_mtime):
            return
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(source, target)


def write_if_changed(target: Path, text: str) -> None:
    if not target.is_file() or target.read_text(encoding="utf-8") != text:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")


# --------------------------------------------------------------------------- environment


def in_virtualenv() -> bool:
    return sys.prefix != sys.base_prefix


def venv_python() -> Path:
    return VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def environment_identity() -> str:
    """Which environment this is: its path and when it was made (a re-created .venv is new and
    empty, so a stamp written for the old one must not match it)."""
    config = Path(sys.prefix) / "pyvenv.cfg"
    made = config.stat().st_mtime_ns if config.is_file() else 0
    return f"{sys.prefix}:{made}"


def ensure_python_environment() -> None:
    """Make sure the project and its dev extras are installed; re-run inside .venv when needed.

    Outside a virtual environment, ``.venv`` at the repo root is created (once) and this script
    re-executes itself with its interpreter. Inside one, the dev extras are installed there when
    pyproject.toml changed since the last install.
    """
    if not in_virtualenv():
        if not venv_python().exists():
            log(f"creating virtual environment {VENV}")
            run([sys.executable, "-m", "venv", VENV])
        os.execv(str(venv_python()), [str(venv_python()), str(ROOT / "build.py"), *sys.argv[1:]])
    wanted = fingerprint([ROOT / "pyproject.toml"], extra=environment_identity())
    if not stamp_matches("python-env", wanted):
        run([sys.executable, "-m", "pip", "install", "--quiet", "-e", f"{ROOT}[dev]"])
        write_stamp("python-env", wanted)


def ensure_node_modules() -> None:
    """``npm ci`` when package-lock.json changed or node_modules is missing."""
    lock = ROOT / "package-lock.json"
    wanted = fingerprint([lock])
    if NODE_MODULES.is_dir() and stamp_matches("npm", wanted):
        return
    npm = shutil.which("npm")
    if npm is None:
        raise BuildError("npm not found: install Node.js with npm (https://nodejs.org/)")
    run([npm, "ci", "--no-audit", "--no-fund"])
    write_stamp("npm", wanted)


def ensure_micropip() -> Path:
    """Download the pinned micropip wheel once and check its sha256."""
    try:
        return tool("vendor_wheels").ensure_pinned(
            "micropip", MICROPIP_WHEEL, MICROPIP_SHA256, CACHE
        )
    except (OSError, RuntimeError) as error:
        raise BuildError(f"micropip wheel: {error}") from error


def tool(name: str) -> Any:
    """The module ``tools/<name>.py`` (the tools directory is not a package)."""
    spec = importlib.util.spec_from_file_location(name, ROOT / "tools" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def slim(wheel: Path) -> None:
    """Strip docstrings and comments from the wheel's modules, every line kept where it was
    (``tools/slim_wheel.py``): the page downloads and compiles less, tracebacks stay exact."""
    module = tool("slim_wheel")
    try:
        before, after = module.slim_wheel(wheel)
    except SyntaxError as error:
        raise BuildError(f"cannot strip the wheel's modules: {error}") from error
    log(f"wheel {wheel.name}: {after:,} B ({before:,} B before docstrings and comments went)")


def build_wheel(out_dir: Path) -> Path:
    """Build our pure wheel into ``out_dir`` (which is emptied first), slim it, return its path."""
    if out_dir.exists():
        shutil.rmtree(out_dir)
    out_dir.mkdir(parents=True)
    run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--wheel-dir",
            out_dir,
            ROOT,
        ]
    )
    wheels = list(out_dir.glob("*.whl"))
    if len(wheels) != 1:
        raise BuildError(f"expected one wheel in {out_dir}, found {[w.name for w in wheels]}")
    slim(wheels[0])
    return wheels[0]


def build_control_center_wheel(out_dir: Path, version: str) -> Path:
    """web/control_center/ as a pure wheel (modules, METADATA, WHEEL, RECORD), slimmed.

    The page installs it with the simulator's wheel in the same micropip call, so the Control
    Center arrives in one request while Pyodide starts rather than module by module afterwards.
    """
    if out_dir.exists():
        shutil.rmtree(out_dir)
    out_dir.mkdir(parents=True)
    info = f"{CONTROL_CENTER_DIST}-{version}.dist-info"
    files = {
        f"{CONTROL_CENTER}/{path.name}": path.read_bytes()
        for path in sorted((WEB / CONTROL_CENTER).glob("*.py"))
    }
    files[f"{info}/METADATA"] = (
        f"Metadata-Version: 2.1\nName: {CONTROL_CENTER_DIST.replace('_', '-')}\n"
        f"Version: {version}\nSummary: The simulator's Control Center page (browser only).\n"
    ).encode()
    files[f"{info}/WHEEL"] = (
        b"Wheel-Version: 1.0\nGenerator: build.py\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    )
    files[f"{info}/RECORD"] = b""  # written anew by slim()
    wheel = out_dir / f"{CONTROL_CENTER_DIST}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w", zipfile.ZIP_DEFLATED) as out:
        for name, data in files.items():
            out.writestr(zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0)), data)
    slim(wheel)
    return wheel


def compile_with_pyodide(archives: Sequence[Path], out_dir: Path, stamp: str) -> list[Path]:
    """Copies of ``archives`` in ``out_dir`` with bytecode compiled by the Pyodide the page runs
    (``tools/compile_wheels.mjs``), so the page imports without compiling: wheels get a pyc next
    to each module, a standard library zip its modules as pycs. Redone when an input changed."""
    tools = [ROOT / name for name in COMPILE_TOOLS]
    wanted = fingerprint([*archives, *tools, NODE_MODULES / "pyodide" / "package.json"])
    copies = [out_dir / archive.name for archive in archives]
    if all(copy.is_file() for copy in copies) and stamp_matches(stamp, wanted):
        return copies
    node = shutil.which("node")
    if node is None:
        raise BuildError("node not found: install Node.js (https://nodejs.org/)")
    if out_dir.exists():
        shutil.rmtree(out_dir)
    out_dir.mkdir(parents=True)
    for archive, copy in zip(archives, copies, strict=True):
        shutil.copy2(archive, copy)
    run([node, ROOT / "tools" / "compile_wheels.mjs", NODE_MODULES / "pyodide", *copies])
    write_stamp(stamp, wanted)
    return copies


def ensure_stdlib() -> Path:
    """Pyodide's standard library zip with its modules compiled (its npm package ships sources,
    which every import compiled in WebAssembly: about half of loadPyodide()'s time)."""
    stdlib = NODE_MODULES / "pyodide" / "python_stdlib.zip"
    return compile_with_pyodide([stdlib], CACHE / "compiled-stdlib", "compiled-stdlib")[0]


def ensure_browser_wheels(micropip: Path) -> tuple[Path, Path, Path]:
    """The wheels the page installs, compiled: the simulator, the Control Center, micropip."""
    wheel = ensure_wheel()
    version = wheel.name.split("-")[1]
    sources = [WEB / CONTROL_CENTER, ROOT / "tools" / "slim_wheel.py"]
    wanted = fingerprint(sources, extra=version)
    cc_dir = CACHE / "control-center-wheel"
    existing = list(cc_dir.glob("*.whl")) if cc_dir.is_dir() else []
    if len(existing) == 1 and stamp_matches("control-center-wheel", wanted):
        control_center = existing[0]
    else:
        control_center = build_control_center_wheel(cc_dir, version)
        write_stamp("control-center-wheel", wanted)
    inputs = [wheel, control_center, micropip]
    compiled = compile_with_pyodide(inputs, CACHE / "compiled-wheels", "compiled-wheels")
    return compiled[0], compiled[1], compiled[2]


def ensure_wheel() -> Path:
    """Rebuild the wheel only when its sources changed."""
    out_dir = CACHE / "wheel"
    wanted = fingerprint([ROOT / name for name in WHEEL_SOURCES])
    existing = list(out_dir.glob("*.whl")) if out_dir.is_dir() else []
    if len(existing) == 1 and stamp_matches("wheel", wanted):
        return existing[0]
    wheel = build_wheel(out_dir)
    write_stamp("wheel", wanted)
    return wheel


# --------------------------------------------------------------------------- the static site


def patched_pyodide_lock(micropip: Path) -> str:
    """Pyodide's lock with the micropip entry pointing at the wheel we ship, with its real hash."""
    lock = json.loads((NODE_MODULES / "pyodide" / "pyodide-lock.json").read_text(encoding="utf-8"))
    entry = lock["packages"]["micropip"]
    entry["file_name"] = micropip.name
    entry["version"] = MICROPIP_VERSION
    entry["sha256"] = sha256_of(micropip)
    return json.dumps(lock, separators=(",", ":"))


def pyscript_config(wheels: Sequence[Path]) -> str:
    """The page's PyScript config: the local interpreter and the wheels that were just built.

    ``interpreter.mjs`` is Pyodide, started as soon as the page loads (web/interpreter.mjs); it has
    micropip install ``ocpp_sim_wheels`` as soon as Pyodide is up, before PyScript is ready to.
    A ``packages`` list is for users' own packages (PyScript has micropip install them after);
    ``packages_cache: never``: PyScript's cache would hand a frozen lock to ``loadPyodide``, which
    the early start does not take.
    """
    config = {
        "interpreter": "./interpreter.mjs",
        "ocpp_sim_wheels": [f"./wheels/{wheel.name}" for wheel in wheels],
        "packages_cache": "never",
    }
    return json.dumps(config, indent=2) + "\n"


def preload_links(wheels: Sequence[Path], micropip: Path) -> list[str]:
    """What the page fetches before any Python runs, so each request starts with the page
    instead of waiting for the one before it (PyScript, then Pyodide, then micropip)."""
    links = ['<link rel="modulepreload" href="./pyodide/pyodide.mjs">']
    fetched = [
        "pyodide/pyodide.asm.wasm",
        "pyodide/python_stdlib.zip",
        "pyodide/pyodide-lock.json",
        f"pyodide/{micropip.name}",
        *(f"wheels/{wheel.name}" for wheel in wheels),
    ]
    links += [f'<link rel="preload" href="./{name}" as="fetch" crossorigin>' for name in fetched]
    return links


def page_with_preloads(page: str, links: Sequence[str]) -> str:
    """web/index.html with the preload links where its marker is (a build error without one)."""
    lines = page.splitlines(keepends=True)
    for number, line in enumerate(lines):
        if line.strip() == PRELOAD_MARKER:
            indent = line[: len(line) - len(line.lstrip())]
            lines[number] = "".join(f"{indent}{link}\n" for link in links)
            return "".join(lines)
    raise BuildError(f"web/index.html has no {PRELOAD_MARKER} line in its <head>")


def sync_tree(
    source: Path,
    target: Path,
    *,
    skip_suffixes: tuple[str, ...] = (),
    skip: frozenset[str] = frozenset(),
    keep: frozenset[str] = frozenset(),
) -> None:
    """Mirror the files of ``source`` (but those under the top-level names in ``skip``) into
    ``target``; delete the target's other files except those under the top-level names in
    ``keep`` (what other steps put there)."""
    wanted = {
        path.relative_to(source)
        for path in source.rglob("*")
        if path.is_file()
        and "__pycache__" not in path.parts
        and not path.name.endswith(skip_suffixes)
        and path.relative_to(source).parts[0] not in skip
    }
    for relative in wanted:
        copy_if_changed(source / relative, target / relative)
    if target.is_dir():
        for path in target.rglob("*"):
            relative = path.relative_to(target)
            if path.is_file() and relative not in wanted and relative.parts[0] not in keep:
                path.unlink()


def assemble_dist(wheels: Sequence[Path], micropip: Path, stdlib: Path) -> None:
    pyodide_src = NODE_MODULES / "pyodide"
    pyodide_dst = DIST / "pyodide"
    for name in PYODIDE_FILES:
        source = stdlib if name == stdlib.name else pyodide_src / name
        copy_if_changed(source, pyodide_dst / name)
    copy_if_changed(micropip, pyodide_dst / micropip.name)
    write_if_changed(pyodide_dst / "pyodide-lock.json", patched_pyodide_lock(micropip))

    sync_tree(
        NODE_MODULES / "@pyscript" / "core" / "dist", DIST / "pyscript", skip_suffixes=(".map",)
    )
    sync_tree(WEB, DIST, skip=NOT_COPIED_FROM_WEB, keep=GENERATED_IN_DIST)
    target = DIST / "wheels"
    target.mkdir(parents=True, exist_ok=True)
    # Installed by the page only when a feature first needs them (tools/vendor_wheels.py).
    vendor_wheels = tool("vendor_wheels")
    try:
        vendored = vendor_wheels.ensure_vendored(CACHE / "vendored")
    except (OSError, RuntimeError) as error:
        raise BuildError(f"vendored wheels: {error}") from error
    for stale in target.glob("*.whl"):
        if stale.name not in {wheel.name for wheel in (*wheels, *vendored)}:
            stale.unlink()
    for wheel in (*wheels, *vendored):
        copy_if_changed(wheel, target / wheel.name)
    write_if_changed(target / vendor_wheels.INDEX_NAME, vendor_wheels.index_json())
    write_if_changed(DIST / "pyscript.json", pyscript_config(wheels))
    page = (WEB / "index.html").read_text(encoding="utf-8")
    write_if_changed(DIST / "index.html", page_with_preloads(page, preload_links(wheels, micropip)))


def build() -> None:
    ensure_python_environment()
    ensure_node_modules()
    wheel, control_center, micropip = ensure_browser_wheels(ensure_micropip())
    assemble_dist([wheel, control_center], micropip, ensure_stdlib())
    log(f"dist ready: {DIST} (wheels {wheel.name}, {control_center.name})")


# --------------------------------------------------------------------------- serve


def serve(host: str, port: int) -> int:
    build()
    import asyncio

    from devtools.server import main_serve

    try:
        asyncio.run(main_serve(host, port, DIST))
    except KeyboardInterrupt:
        print("\nstopped", flush=True)
    except OSError as error:
        print(f"error: cannot serve on {host}:{port}: {error}", file=sys.stderr)
        return 1
    return 0


# --------------------------------------------------------------------------- test


def playwright_chromium() -> Path | None:
    """The Chromium that ``playwright install chromium`` put in Playwright's cache, if any."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return None
    with sync_playwright() as playwright:
        path = Path(playwright.chromium.executable_path)
    return path if path.is_file() else None


def find_chromium() -> Path | None:
    """$CHROMIUM, /usr/bin/chromium, a Chromium or Chrome on PATH, else Playwright's own."""
    configured = os.environ.get("CHROMIUM")
    if configured:
        path = Path(configured)
        return path if path.is_file() else None
    if Path("/usr/bin/chromium").is_file():
        return Path("/usr/bin/chromium")
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return Path(found)
    return playwright_chromium()


def type_check() -> None:
    """Run mypy as ``[tool.mypy]`` in pyproject.toml says (strict on ``ocpp_core``).

    A type error stops ``test`` before pytest starts: the errors are printed, then a BuildError
    says that the type check failed.
    """
    root = ROOT
    command = [sys.executable, "-m", "mypy", "--config-file", str(root / "pyproject.toml")]
    log("type check: $ " + " ".join(command[1:]))
    try:
        completed = subprocess.run(command, cwd=root, check=False)
    except FileNotFoundError as error:
        raise BuildError(f"command not found: {command[0]} ({error.filename})") from error
    if completed.returncode != 0:
        raise BuildError(
            f"type check failed (mypy exit {completed.returncode}): fix the type errors listed "
            "above; `.venv/bin/mypy` reproduces them"
        )


def test(pytest_args: Sequence[str]) -> int:
    build()
    chromium = find_chromium()
    if chromium is None:
        print(
            "error: no Chromium found for the end-to-end tests.\n"
            "  Debian/Ubuntu: sudo apt-get install chromium\n"
            f"  anywhere:      {venv_python()} -m playwright install chromium\n"
            "  or point $CHROMIUM at a Chromium or Chrome binary.",
            file=sys.stderr,
        )
        return 1
    log(f"Chromium: {chromium}")
    type_check()
    env = {**os.environ, "OCPP_SIM_CHROMIUM": str(chromium), "OCPP_SIM_DIST": str(DIST)}
    command = [sys.executable, "-m", "pytest", "tests", "e2e", *pytest_args]
    log("$ " + " ".join(command))
    code = subprocess.run(command, cwd=ROOT, env=env, check=False).returncode
    if code == 5:
        print("error: no test ran", file=sys.stderr)
        return 1
    return code


# --------------------------------------------------------------------------- command line


def port_number(text: str) -> int:
    """A TCP port for argparse: 0 (any free one) to 65535."""
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"port must be 0..65535, got {port}")
    return port


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="build.py",
        description="Build, serve and test the OCPP station simulator.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser("build", help="build the wheel and the static site in dist/ (incremental)")
    serve_parser = commands.add_parser(
        "serve", help="build, then serve dist/ with the demo CSMS and an echo endpoint"
    )
    serve_parser.add_argument("--host", default="127.0.0.1", help="address to bind (127.0.0.1)")
    serve_parser.add_argument(
        "--port", type=port_number, default=8000, help="port (8000; 0 = any free)"
    )
    test_parser = commands.add_parser(
        "test",
        help="build, type-check ocpp_core (mypy), then run the unit and end-to-end tests",
    )
    test_parser.add_argument(
        "pytest_args", nargs=argparse.REMAINDER, help="extra arguments passed to pytest"
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        if args.command == "build":
            build()
            return 0
        if args.command == "serve":
            return serve(args.host, args.port)
        return test(args.pytest_args)
    except BuildError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
