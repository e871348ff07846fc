"""``python -m sim --atg PROFILE.toml``: a fleet driven by the automatic transaction generator
against the demo CSMS, and the profile's mistakes as usage errors."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from test_cli import cli, run_with_server

from devtools.server import DevServer

PROFILE = """\
seed = 11
id_tags = ["ATG-1", "ATG-2", "ATG-3"]
sessions = 2
first_plug_s = [1, 10]
card_after_s = [1, 5]
charge_s = [300, 600]
unplug_after_s = [1, 5]
pause_s = [60, 120]
fault_probability = 0.5
fault_codes = ["GroundFailure"]
fault_s = [10, 30]
"""


def test_atg_drives_every_connector_of_a_fleet(tmp_path: Path) -> None:
    """Two stations, two connectors each, two sessions per connector (seeded): eight
    transactions with the profile's cards, all stopped by the driver's card (Local)."""
    profile = tmp_path / "fleet.toml"
    profile.write_text(PROFILE)

    async def scenario(server: DevServer) -> tuple[Any, ...]:
        code, _, err = await cli(
            ["--url", server.csms_url, "--id", "ATG", "--count", "2", "--atg", str(profile),
             "--duration", "1800", "--speed", "600"]
        )  # fmt: skip
        return code, err, [server.csms.station(f"ATG-{n}") for n in (1, 2)]

    code, err, states = run_with_server(tmp_path, scenario)
    assert code == 0, err
    for state in states:
        transactions = list(state.transactions.values())
        assert len(transactions) == 4
        assert {t.id_token for t in transactions} <= {"ATG-1", "ATG-2", "ATG-3"}
        assert all(t.stop_reason == "Local" and t.meter_stop > t.meter_start for t in transactions)


def test_atg_mistakes_exit_2_with_the_reason(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("charge_s = [10]\n")
    long_tag = tmp_path / "long.toml"
    long_tag.write_text(f'id_tags = ["{"x" * 21}"]\n')
    for argv, message in (
        (["--atg", str(bad)], "--atg: " + str(bad) + ": charge_s must be [min, max]"),
        (["--atg", str(tmp_path / "none.toml")], "none.toml"),
        (["--atg", str(bad), "--plugged", "1"], "not with --plugged/--idtag"),
        (["--atg", str(long_tag)], "1 to 20 characters"),
    ):
        code, _, err = asyncio.run(cli(["--url", "ws://127.0.0.1:1/ocpp", *argv]))
        assert code == 2, (argv, err)
        assert err.startswith("error: ") and message in err, err
