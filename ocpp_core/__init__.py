"""ocpp_core: the charge-point side of OCPP 1.6-J and 2.0.1 as a sans-IO engine (standard library only)."""

__version__ = "0.1.0"
