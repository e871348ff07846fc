"""Developer tools for `build.py serve`: the page, a demo CSMS and an echo endpoint on one port.

Not shipped in the wheel; needs the dev dependencies `websockets` and `ocpp`.
"""
