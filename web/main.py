"""Page entry point: start the Control Center.

PyScript runs this one file once micropip has installed the wheels pyscript.json lists: the
simulator's and the Control Center's (web/control_center/, packed by build.py), both fetched
while Pyodide starts. ``performance`` marks time the start (bench/bench_browser.py --phases).
"""

import asyncio
import traceback

import js


async def main() -> None:
    try:
        js.performance.mark("ocpp-sim:main")
        js.ocppSimInternals.progress(80, "Loading the Control Center…")
        from control_center.startup import start

        js.performance.mark("ocpp-sim:imported")
        await start()
    except Exception as exc:
        js.console.error("ocpp-sim: start-up failed\n" + traceback.format_exc())
        js.ocppSimInternals.fail(f"The simulator could not start: {exc}")


_startup = asyncio.ensure_future(main())
_startup.add_done_callback(lambda task: None)
