"""The explicit wiring (issue 12): each version's wire(ctx) builds its blocks with their peers,
states the order of their work, and is the only place that knows the blocks together."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from fake_csms import IDENTITY

from ocpp_core import ChargePoint
from ocpp_core.assembly import VERSIONS, for_version
from ocpp_core.block import Block
from ocpp_core.outbox import RequestSource
from ocpp_core.v16.wiring import BLOCK_TYPES
from ocpp_core.wiring import Wiring

CORE = Path(__file__).resolve().parent.parent / "ocpp_core"


def _imports(path: Path) -> set[str]:
    """Every module a source file imports, also under TYPE_CHECKING."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def _overrides(block: Block, name: str) -> bool:
    return any(name in vars(klass) for klass in type(block).__mro__[:-1] if klass is not Block)


def test_the_engine_builds_one_block_of_each_type_in_the_assembly_order() -> None:
    engine = ChargePoint(identity=IDENTITY)._engine
    assert tuple(type(block) for block in engine.blocks) == BLOCK_TYPES
    assert for_version("1.6").block_types == BLOCK_TYPES


def _wired(monkeypatch: pytest.MonkeyPatch) -> tuple[ChargePoint, Wiring]:
    """A ChargePoint and the Wiring its engine was built from."""
    assembly = for_version("1.6")
    real, seen = assembly.wire, []

    def capture(ctx):  # type: ignore[no-untyped-def]
        seen.append(real(ctx))
        return seen[-1]

    monkeypatch.setattr(assembly, "wire", capture)
    return ChargePoint(identity=IDENTITY), seen[0]


def test_every_tick_timer_source_and_disconnect_a_block_has_is_wired_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    cp, wiring = _wired(monkeypatch)
    ticks = [tick.__self__ for tick in wiring.ticks]
    timers = [timer.__self__ for timer in wiring.timers]
    disconnects = [hook.__self__ for hook in wiring.disconnects]
    for block in wiring.blocks:
        name = type(block).__name__
        assert ticks.count(block) == _overrides(block, "tick"), name
        assert timers.count(block) == _overrides(block, "timer"), name
        assert disconnects.count(block) == _overrides(block, "disconnected"), name
        assert wiring.sources.count(block) == isinstance(block, RequestSource), name
    ctx = cp._engine.ctx
    assert wiring.sources[:2] == (ctx.triggered, ctx.queue)


def test_ticks_run_in_the_order_the_wiring_states(monkeypatch: pytest.MonkeyPatch) -> None:
    # The status tick derives from sessions and reservations: theirs run first.
    _cp, wiring = _wired(monkeypatch)
    order = [type(tick.__self__).__name__ for tick in wiring.ticks]
    assert order.index("TransactionBlock") < order.index("StatusBlock")
    assert order.index("ReservationBlock") < order.index("StatusBlock")
    assert order.index("TransactionBlock") < order.index("MeteringBlock")


def test_late_peers_are_the_blocks_built_after_them() -> None:
    engine = ChargePoint(identity=IDENTITY)._engine
    by_type = {type(block).__name__: block for block in engine.blocks}
    transactions = by_type["TransactionBlock"]
    for name in ("AvailabilityBlock", "StatusBlock", "MeteringBlock", "SmartChargingBlock"):
        assert by_type[name].sessions is transactions, name
    assert by_type["StatusBlock"].reservations is by_type["ReservationBlock"]
    assert by_type["TriggerBlock"].blocks is engine.blocks


def test_no_block_finds_a_peer_at_run_time_and_the_engine_holds_no_views() -> None:
    engine = ChargePoint(identity=IDENTITY)._engine
    for name in ("block", "sessions", "reservations", "metering", "smart_charging"):
        assert not hasattr(engine, name), name
        assert not hasattr(engine.ctx, name), name
    for path in CORE.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert ".block(" not in text, path
        assert "self.engine" not in text, path


def test_a_wiring_that_does_not_build_the_assembly_blocks_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assembly = for_version("1.6")
    real = assembly.wire

    def reordered(ctx):  # type: ignore[no-untyped-def]
        wiring = real(ctx)
        return wiring._replace(blocks=wiring.blocks[::-1])

    monkeypatch.setattr(assembly, "wire", reordered)
    with pytest.raises(TypeError, match="does not build the assembly's blocks"):
        ChargePoint(identity=IDENTITY)


def test_chargepoint_and_engine_import_no_version_package() -> None:
    for module in ("chargepoint.py", "engine.py", "context.py", "wiring.py", "operations.py"):
        imported = _imports(CORE / module)
        for package in VERSIONS.values():
            assert not any(name.startswith(package) for name in imported), (module, imported)
    assert not any(
        name.startswith(package)
        for name in _imports(CORE / "block.py")
        for package in VERSIONS.values()
    )


def test_an_unknown_version_is_refused_with_the_supported_ones() -> None:
    with pytest.raises(
        ValueError, match=r"'9\.9' is not implemented \(supported: '1\.6', '2\.0\.1'\)"
    ):
        ChargePoint(identity=IDENTITY, version="9.9")


def test_two_blocks_sending_one_triggered_message_is_an_error_at_start_up() -> None:
    from ocpp_core.assembly import Assembly
    from ocpp_core.block import trigger

    class First(Block):
        @trigger("Heartbeat")
        def send(self, connector: int | None, now: float) -> str:
            return "Accepted"

    class Second(Block):
        @trigger("Heartbeat")
        def send(self, connector: int | None, now: float) -> str:
            return "Accepted"

    with pytest.raises(ValueError, match="two blocks send Heartbeat"):
        Assembly("x", (First, Second), (), {}, wire=None, timeout_key="T", mask=None)  # type: ignore[arg-type]
