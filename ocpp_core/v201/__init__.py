"""OCPP 2.0.1: its typed payloads so far (``payloads``); its blocks and wiring come next."""
