"""WebSocket transports of the station: one interface, a CPython and a browser implementation.

Import the implementation you need from its own module (``sim.transport.cpython`` needs
``websockets``, ``sim.transport.browser`` needs Pyodide's ``js``); this package only re-exports
the pure, shared part so it imports everywhere.
"""

from sim.transport.base import (
    Backoff,
    ConnectionState,
    Transport,
    TransportConfig,
    TransportListener,
    build_station_url,
    validate_url,
)

__all__ = [
    "Backoff",
    "ConnectionState",
    "Transport",
    "TransportConfig",
    "TransportListener",
    "build_station_url",
    "validate_url",
]
