"""What the browser's wheel weighs and what importing it costs, plain and slimmed.

Usage: ``python bench/bench_wheel.py [--tree DIR ...] [--without PREFIX ...] [--runs N]``.
Each tree (default: this checkout; another commit: ``git worktree add /tmp/x COMMIT``) is built
with ``pip wheel`` as ``build.py`` does, then rewritten by ``tools/slim_wheel.py`` in steps:
recompressed only, docstrings out, comments out, both (what ``build.py build`` ships). Sizes are
also given without the entries under each ``--without`` prefix (``ocpp_core/v201/`` compares the
1.6 feature set with a tree that had no 2.0.1 modules). Import times are medians of fresh
interpreters on the plain and the shipped wheel, installed by pip, run interleaved; "no bytecode"
compiles every module as a page load in Pyodide does.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
spec = importlib.util.spec_from_file_location("slim_wheel", ROOT / "tools" / "slim_wheel.py")
assert spec is not None and spec.loader is not None
slim_wheel = importlib.util.module_from_spec(spec)
spec.loader.exec_module(slim_wheel)

Change = Callable[[str, bytes], bytes]


def modules_only(strip: Callable[[str], str]) -> Change:
    def change(name: str, data: bytes) -> bytes:
        if name.endswith(".py") and ".dist-info/" not in name:
            return strip(data.decode("utf-8")).encode("utf-8")
        return data

    return change


VARIANTS: dict[str, Change] = {
    "recompressed only": lambda _name, data: data,
    "docstrings out": modules_only(slim_wheel.strip_docstrings),
    "comments out": modules_only(slim_wheel.strip_comments),
    "shipped: both (build.py build)": slim_wheel.strip_module,
}

STATEMENTS = {
    "import ocpp_core": "import ocpp_core",
    "from ocpp_core import ChargePoint": "from ocpp_core import ChargePoint",
    "import + first engine (boot accepted)": (
        "from ocpp_core import ChargePoint, StationIdentity; "
        "cp = ChargePoint(identity=StationIdentity(vendor='V', model='M'), "
        "message_ids=lambda: 'b'); cp.connected(0.0); cp.poll(0.0); "
        'cp.receive(\'[3,"b",{"status":"Accepted","currentTime":"2024-01-01T00:00:00Z",'
        "\"interval\":300}]', 0.0); assert cp.registration == 'Accepted'"
    ),
    "import sim.station": "import sim.station",
}
TIMED = "import time; t = time.perf_counter(); {stmt}; print(time.perf_counter() - t)"


def build_plain(tree: Path, out: Path) -> Path:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--wheel-dir",
            str(out),
            str(tree),
        ],
        check=True,
    )
    (wheel,) = out.glob("*.whl")
    return wheel


def size_without(wheel: Path, prefixes: list[str], work: Path, level: int | None) -> int:
    target = work / "without" / wheel.name
    target.parent.mkdir(exist_ok=True)

    def drop(name: str, data: bytes) -> bytes | None:
        return None if name.startswith(tuple(prefixes)) else data

    slim_wheel.rewrite_wheel(wheel, target, drop, level)
    return target.stat().st_size


def install(wheel: Path, target: Path) -> Path:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-compile",
            "--target",
            str(target),
            str(wheel),
        ],
        check=True,
    )
    return target


def import_seconds(site: Path, stmt: str, bytecode: Path | None) -> float:
    env = {**os.environ, "PYTHONPATH": str(site), "PYTHONSAFEPATH": "1"}
    if bytecode is None:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    else:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(bytecode)
    out = subprocess.check_output(
        [sys.executable, "-c", TIMED.format(stmt=stmt)], cwd=site.parent, env=env
    )
    return float(out)


def bench_tree(tree: Path, without: list[str], runs: int) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-wheel-") as tmp:
        work = Path(tmp)
        plain = build_plain(tree, work / "plain")
        rows = [("plain (pip wheel)", plain, plain.stat().st_size)]
        for label, change in VARIANTS.items():
            target = work / label.split(":")[0].replace(" ", "-") / plain.name
            target.parent.mkdir()
            slim_wheel.rewrite_wheel(plain, target, change)
            rows.append((label, target, target.stat().st_size))
        print(f"Wheel of {tree}")
        header = f"  {'':34} {'bytes':>9} {'vs plain':>9}"
        if without:
            header += f"  {'without ' + ','.join(without):>32}"
        print(header)
        base = rows[0][2]
        for label, wheel, size in rows:
            line = f"  {label:34} {size:9,} {size / base - 1:+9.1%}"
            if without:
                level = None if label.startswith("plain") else slim_wheel.COMPRESSLEVEL
                line += f"  {size_without(wheel, without, work, level):32,}"
            print(line)
        shipped = rows[-1][1]
        sites = {
            "plain": install(plain, work / "site-plain"),
            "shipped": install(shipped, work / "site-shipped"),
        }
        caches = {name: work / f"pycache-{name}" for name in sites}
        for name, site in sites.items():
            import_seconds(site, STATEMENTS["import sim.station"], caches[name])  # warm cache
        print(f"  import times, median of {runs} interleaved fresh interpreters (ms)")
        print(f"  {'':40} {'plain':>8} {'shipped':>8}   {'':>8} {'plain':>8} {'shipped':>8}")
        for label, stmt in STATEMENTS.items():
            cold: dict[str, list[float]] = {name: [] for name in sites}
            warm: dict[str, list[float]] = {name: [] for name in sites}
            for _ in range(runs):
                for name, site in sites.items():
                    cold[name].append(import_seconds(site, stmt, None))
                    warm[name].append(import_seconds(site, stmt, caches[name]))
            c = {name: statistics.median(v) * 1e3 for name, v in cold.items()}
            w = {name: statistics.median(v) * 1e3 for name, v in warm.items()}
            print(
                f"  {label:40} {c['plain']:8.1f} {c['shipped']:8.1f}   {'bytecode':>8} "
                f"{w['plain']:8.1f} {w['shipped']:8.1f}"
            )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tree", type=Path, action="append", help="source tree (repeatable)")
    parser.add_argument("--without", action="append", default=[], help="entry prefix to leave out")
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    for tree in args.tree or [ROOT]:
        bench_tree(tree.resolve(), args.without, args.runs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
