"""Load-test a CSMS with simulated charging stations: one Locust user is one station.

    pip install '.[locust]'
    locust -f examples/locustfile.py --headless -u 1000 -r 50 --run-time 5m \\
        --host ws://127.0.0.1:8000/ocpp --atg examples/atg.toml

Without --headless, Locust serves its web UI (http://localhost:8089) where the number of users,
the ramp, the host and the options below are set. Options of the stations (see `locust -f
examples/locustfile.py --help`): --atg PROFILE.toml, --ocpp-version 1.6|2.0.1|auto,
--connectors N, --station-prefix PREFIX, --auth-key KEY. Every CALL a station sends is a request
of type OCPP named after its action; connection attempts are WebSocket/connect.
"""

from sim.locust import StationUser


class ChargingStation(StationUser):
    """The stations of this test: every option comes from the command line (or the web UI).

    Class attributes fix them for this class instead, e.g. ``connectors = 1`` or
    ``atg = sim.atg.AtgProfile(charge_s=(60.0, 120.0))``; add more classes with their own
    ``weight`` for a mixed fleet.
    """
