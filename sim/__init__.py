"""sim: a mocked charging station bound to ocpp_core, its WebSocket transports and a CLI."""

from ocpp_core import __version__

__all__ = ["__version__"]
