"""Page entry point: fetch the Control Center modules served next to this file, then start it.

PyScript runs this one file; the Control Center is a small package (web/control_center/) that
this loader copies from the same origin into Pyodide's file system, so it can be split into
modules and unit-tested on CPython. ``MODULES`` lists its files (a test keeps it complete).
"""

import asyncio
import sys
import traceback
from pathlib import Path

import js
from pyodide.http import pyfetch

MODULES = (
    "__init__",
    "app",
    "chart",
    "console",
    "device_panel",
    "display_model",
    "display_panel",
    "dom",
    "fmt",
    "form",
    "maintenance",
    "messages",
    "monitoring_model",
    "monitoring_panel",
    "prefs",
    "security_model",
    "security_panel",
    "signing_panel",
    "startup",
    "storage",
    "ticking",
    "variables",
    "views",
)
PACKAGE = "control_center"
TARGET = Path("/home/pyodide/web-modules")


async def fetch_module(name: str) -> None:
    response = await pyfetch(f"./{PACKAGE}/{name}.py", cache="no-cache")
    if not response.ok:
        raise RuntimeError(f"could not load {PACKAGE}/{name}.py (HTTP {response.status})")
    (TARGET / PACKAGE / f"{name}.py").write_text(await response.string(), encoding="utf-8")


async def main() -> None:
    try:
        js.ocppSimInternals.progress(80, "Loading the Control Center…")
        (TARGET / PACKAGE).mkdir(parents=True, exist_ok=True)
        await asyncio.gather(*(fetch_module(name) for name in MODULES))
        sys.path.insert(0, str(TARGET))
        from control_center.startup import start

        await start()
    except Exception as exc:
        js.console.error("ocpp-sim: start-up failed\n" + traceback.format_exc())
        js.ocppSimInternals.fail(f"The simulator could not start: {exc}")


_startup = asyncio.ensure_future(main())
_startup.add_done_callback(lambda task: None)
