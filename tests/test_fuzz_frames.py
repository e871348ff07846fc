"""Issues 11, 18 and 13: seeded fuzzing of OCPP 1.6 and 2.0.1 frames through the engine and the
station, on a FileStore.

Engine level: every CSMS-initiated action, valid and mutated one defect at a time (wrong types,
missing and unknown fields, enum and length violations, bad dates, lone surrogates, 1e400 and
10**400, deep nesting), hostile framing, hostile-but-valid CSMS answers (lone surrogates in
idTagInfo), with plugs, cards, time and reboots in between. No exception escapes; every CALL
gets exactly one reply with the code its defect deserves; every store write succeeds and reads
back; every store file stays loadable; every transactionId the CSMS issued ends with exactly
one StopTransaction. The 2.0.1 engine gets the same treatment on its own actions and codes
(draft-06 integers written 5.0 included): every transaction it started ends with exactly one
Ended event.

Station level (issue 18): ``sim.Station`` on a Runtime and a VirtualClock, with Reset Soft/Hard
frames (reboots), restarts on the same store (a kill), a CSMS that goes silent or away, and the
CLI's ``--log`` writer attached. Counts spins (a tick that asks for the same instant again with
no input since the tick before, which also did) and lost log lines (a frame on the wire missing
from the FrameLogged events or from the --log lines); both must be 0.

``OCPP_FUZZ=long`` runs many more steps; ``OCPP_FUZZ_SEED`` picks the seed.
"""

from __future__ import annotations

import collections
import contextlib
import io
import itertools
import json
import os
import random
import tempfile
import types
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fuzz_frames import RESULT, SURROGATES, V201, VALID, Fuzzed, fuzzed_call, hostile_id_tag_info
from station_fakes import WALL, FakeBackend, MemoryTransport
from tx_rig import Rig
from tx_rig201 import Rig201

from ocpp_core import FileStore, FrameLogged
from ocpp_core.engine import _WITHHELD
from sim.cli_output import Output as _Output
from sim.cli_output import Watcher as _Watcher
from sim.runtime import Runtime, VirtualClock
from sim.settings import StationSettings
from sim.station import Station
from sim.transport.base import ConnectionState, TransportConfig, TransportListener

LONG = os.environ.get("OCPP_FUZZ") == "long"
SEED = int(os.environ.get("OCPP_FUZZ_SEED", "2024"))
ENGINE_STEPS = 4000 if not LONG else 60_000
STATION_STEPS = 4000 if not LONG else 20_000


@pytest.fixture
def store_dir(tmp_path: Path) -> Iterator[Path]:
    """In RAM when /dev/shm exists (thousands of fsyncs would measure the disk, not us)."""
    shm = Path("/dev/shm")
    if shm.is_dir() and os.access(shm, os.W_OK):
        with tempfile.TemporaryDirectory(prefix="ocpp-fuzz-", dir=shm) as root:
            yield Path(root)
    else:
        yield tmp_path


def canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=True)


class CheckedStore:
    """A FileStore whose every write must succeed and read back equal."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.inner = FileStore(root)
        self.failures: list[str] = []

    def load(self, name: str) -> Any | None:
        return self.inner.load(name)

    def save(self, name: str, value: Any) -> None:
        try:
            self.inner.save(name, value)
        except Exception as exc:
            self.failures.append(f"save {name!r} failed: {exc!r}")
            raise
        if canonical(self.inner.load(name)) != canonical(value):
            self.failures.append(f"{name!r} does not read back as saved")

    def delete(self, name: str) -> None:
        self.inner.delete(name)

    def names(self, prefix: str = "") -> list[str]:
        return self.inner.names(prefix)

    def unloadable(self) -> list[str]:
        """Files that are not UTF-8 JSON, and documents that do not load."""
        bad = []
        for path in self.root.rglob("*"):
            if path.is_file():
                try:
                    json.loads(path.read_bytes().decode("utf-8"))
                except (UnicodeDecodeError, ValueError) as exc:
                    bad.append(f"{path.relative_to(self.root)}: {exc}")
        bad += [f"{name}: does not load" for name in self.names() if self.load(name) is None]
        return bad


class Ledger:
    """The transactionIds a CSMS issued (repeated Starts recognised by message id) and the
    message ids of the StopTransactions it received for each."""

    def __init__(self) -> None:
        self.tids = itertools.count(1001)
        self.by_start_id: dict[str, int] = {}
        self.stops: dict[int, set[str]] = collections.defaultdict(set)
        self.unknown_stops: list[Any] = []
        self.resent_starts = 0

    def start(self, message_id: str) -> int:
        tid = self.by_start_id.get(message_id)
        if tid is None:
            tid = self.by_start_id[message_id] = next(self.tids)
        else:
            self.resent_starts += 1
        return tid

    def stop(self, message_id: str, payload: dict[str, Any]) -> None:
        tid = payload.get("transactionId")
        if tid in self.by_start_id.values():
            self.stops[tid].add(message_id)
        else:
            self.unknown_stops.append(tid)

    def problems(self) -> list[str]:
        issued = set(self.by_start_id.values())
        found = [f"transaction {t} never stopped" for t in sorted(issued) if not self.stops[t]]
        found += [
            f"transaction {t} stopped {len(ids)} times (distinct message ids)"
            for t, ids in sorted(self.stops.items())
            if len(ids) > 1
        ]
        found += [f"StopTransaction for an unknown transactionId {t!r}" for t in self.unknown_stops]
        return found


def _assert_none(**found: list[Any]) -> None:
    """Fail with every kind of problem at once (the first few of each), not just the first."""
    lines = [f"{name} ({len(items)}): {items[:4]}" for name, items in found.items() if items]
    assert not lines, "\n".join(lines)


# --------------------------------------------------------------------------- engine level


def _engine_csms(rig: Rig, ledger: Ledger, rng: random.Random) -> None:
    """A CSMS that recognises repeated Starts and answers idTagInfo with lone surrogates."""
    csms = rig.csms

    def current_id() -> str:
        return csms.calls[-1][0]  # FakeCsms records the CALL before asking its handler

    def start(payload: dict[str, Any]) -> dict[str, Any]:
        info = hostile_id_tag_info(rng)
        return {"transactionId": ledger.start(current_id()), "idTagInfo": info}

    def stop(payload: dict[str, Any]) -> dict[str, Any]:
        ledger.stop(current_id(), payload)
        return {"idTagInfo": hostile_id_tag_info(rng)} if rng.random() < 0.5 else {}

    csms.handlers["StartTransaction"] = start
    csms.handlers["StopTransaction"] = stop
    csms.handlers["Authorize"] = lambda payload: {"idTagInfo": hostile_id_tag_info(rng)}


def _replies_to(frames: list[str], message_id: str) -> list[list[Any]]:
    found = []
    for text in frames:
        frame = json.loads(text)
        if frame[0] in (3, 4) and frame[1] == message_id:
            found.append(frame)
    return found


def _check_reply(fuzzed: Fuzzed, frames: list[str]) -> str | None:
    """None when the station answered ``fuzzed`` as it must; else what went wrong."""
    if fuzzed.message_id is None:
        return None
    replies = _replies_to(frames, fuzzed.message_id)
    if fuzzed.expected is None:
        return None if not replies else f"{fuzzed.kind}: answered {replies}"
    if len(replies) != 1:
        return f"{fuzzed.kind}: {len(replies)} replies to {fuzzed.text[:200]!r}"
    reply = replies[0]
    got = RESULT if reply[0] == 3 else reply[2]
    if got not in fuzzed.expected:
        return f"{fuzzed.kind}: got {reply!r} for {fuzzed.text[:300]!r}, expected {fuzzed.expected}"
    return None


def test_engine_fuzz_on_a_file_store(store_dir: Path, report_counts: Callable[[str], None]) -> None:
    rng = random.Random(SEED)
    store = CheckedStore(store_dir)
    ledger = Ledger()
    rig = Rig(store=store, config={"MeterValueSampleInterval": "30"})
    _engine_csms(rig, ledger, rng)
    kinds: collections.Counter[str] = collections.Counter()
    codes: collections.Counter[str] = collections.Counter()
    actions: collections.Counter[str] = collections.Counter()
    problems: list[str] = []
    crashes: list[str] = []
    reboots = 0

    def guarded(what: str, action: Callable[[], Any]) -> Any:
        try:
            return action()
        except Exception as exc:
            crashes.append(f"{what}: {exc!r}")
            return None

    for step in range(ENGINE_STEPS):
        roll = rng.random()
        connector = rng.randint(1, 2)
        if roll < 0.06:
            guarded("plug", lambda c=connector: rig.plug(c))
        elif roll < 0.10:
            guarded("unplug", lambda c=connector: rig.unplug(c))
        elif roll < 0.14:
            tag = rng.choice(["CARD-1", "CARD-2", "LOCAL-1"])
            guarded("card", lambda c=connector, t=tag: rig.card(t, c))
        elif roll < 0.18:
            seconds = rng.choice([1.0, 10.0, 45.0, 200.0])
            guarded("time", lambda s=seconds: rig.advance(s, charging_w=7000.0))
        elif roll < 0.20:
            reboots += 1
            guarded("reboot", rig.restart)
        else:
            message_id = rng.choice([f"fz{step}", f"fz{step}\ud800"])
            fuzzed = fuzzed_call(rng, message_id)
            kinds[fuzzed.kind.split(":")[-1]] += 1
            actions[fuzzed.kind.split(":")[0]] += 1
            guarded(fuzzed.kind, lambda t=fuzzed.text: rig.cp.receive(t, rig.now))
            frames = guarded(fuzzed.kind, rig.pump) or []
            problem = _check_reply(fuzzed, frames)
            if problem is not None:
                problems.append(problem)
            for reply in _replies_to(frames, message_id):
                codes[RESULT if reply[0] == 3 else reply[2]] += 1
    # The end of the day: every car leaves, time passes, one more reboot delivers the rest.
    for connector in (1, 2):
        guarded("unplug", lambda c=connector: rig.unplug(c))
    guarded("time", lambda: rig.advance(600.0))
    guarded("reboot", rig.restart)
    guarded("time", lambda: rig.advance(600.0))
    tx_problems = ledger.problems()
    report_counts(
        f"engine fuzz (seed {SEED}): {sum(kinds.values())} frames, {reboots} reboots,"
        f" {len(ledger.by_start_id)} transactions, {ledger.resent_starts} re-sent starts;"
        f" kinds {dict(sorted(kinds.items()))}; replies {dict(sorted(codes.items()))};"
        f" {len(crashes)} exceptions, {len(store.failures)} store failures,"
        f" {len(problems)} wrong replies, {len(tx_problems)} transaction problems"
    )
    _assert_none(
        exceptions=crashes,
        store_failures=store.failures,
        unloadable_documents=store.unloadable(),
        wrong_replies=problems,
        transaction_problems=tx_problems,
        undelivered=[f"{rig.cp.queue_length()} messages queued"] if rig.cp.queue_length() else [],
    )
    assert set(VALID) <= set(actions), set(VALID) - set(actions)  # every action had its turn


class Ledger201:
    """The transactions a 2.0.1 station started (its own transactionIds) and the message ids of
    the Ended events the CSMS received for each."""

    def __init__(self) -> None:
        self.started: set[str] = set()
        self.ended: dict[str, set[str]] = collections.defaultdict(set)
        self.events = 0

    def event(self, message_id: str, payload: dict[str, Any]) -> None:
        self.events += 1
        tid = payload["transactionInfo"]["transactionId"]
        if payload["eventType"] == "Started":
            self.started.add(tid)
        elif payload["eventType"] == "Ended":
            self.ended[tid].add(message_id)

    def problems(self) -> list[str]:
        found = [f"transaction {t} never ended" for t in sorted(self.started) if not self.ended[t]]
        found += [
            f"transaction {t} ended {len(ids)} times (distinct message ids)"
            for t, ids in sorted(self.ended.items())
            if len(ids) > 1
        ]
        return found


def _engine_csms_201(rig: Rig201, ledger: Ledger201, rng: random.Random) -> None:
    """A 2.0.1 CSMS that keeps the transaction ledger and answers with lone surrogates."""
    csms = rig.csms

    def hostile_info() -> dict[str, Any]:
        info: dict[str, Any] = {"status": rng.choice(["Accepted", "Accepted", "Invalid"])}
        if rng.random() < 0.5:
            info["personalMessage"] = {"format": "UTF8", "content": rng.choice(SURROGATES)}
        return info

    def event(payload: dict[str, Any]) -> dict[str, Any]:
        ledger.event(csms.calls[-1][0], payload)
        return {"idTokenInfo": hostile_info()} if "idToken" in payload else {}

    csms.handlers["TransactionEvent"] = event
    csms.handlers["Authorize"] = lambda payload: {"idTokenInfo": hostile_info()}


def test_engine_fuzz_201_on_a_file_store(
    store_dir: Path, report_counts: Callable[[str], None]
) -> None:
    rng = random.Random(SEED + 201)
    store = CheckedStore(store_dir)
    ledger = Ledger201()
    rig = Rig201(store=store, config={"SampledDataCtrlr.TxUpdatedInterval": "30"})
    _engine_csms_201(rig, ledger, random.Random(rng.random()))  # answers: their own rng
    kinds: collections.Counter[str] = collections.Counter()
    codes: collections.Counter[str] = collections.Counter()
    actions: collections.Counter[str] = collections.Counter()
    problems: list[str] = []
    crashes: list[str] = []
    reboots = 0

    def guarded(what: str, action: Callable[[], Any]) -> Any:
        try:
            return action()
        except Exception as exc:
            crashes.append(f"{what}: {exc!r}")
            return None

    for step in range(ENGINE_STEPS):
        roll = rng.random()
        evse = rng.randint(1, 2)
        if roll < 0.06:
            guarded("plug", lambda e=evse: rig.plug(e))
        elif roll < 0.10:
            guarded("unplug", lambda e=evse: rig.unplug(e))
        elif roll < 0.14:
            token = rng.choice(["CARD-1", "CARD-2", "LOCAL-1"])
            guarded("card", lambda e=evse, t=token: rig.card(t, evse=e))
        elif roll < 0.18:
            seconds = rng.choice([1.0, 10.0, 45.0, 200.0])
            guarded("time", lambda s=seconds: rig.advance(s, charging_w=7000.0))
        elif roll < 0.20:
            reboots += 1
            guarded("reboot", rig.restart)
        else:
            message_id = rng.choice([f"fz{step}", f"fz{step}\ud800"])
            fuzzed = fuzzed_call(rng, message_id, V201)
            kinds[fuzzed.kind.split(":")[-1]] += 1
            actions[fuzzed.kind.split(":")[0]] += 1
            guarded(fuzzed.kind, lambda t=fuzzed.text: rig.cp.receive(t, rig.now))
            frames = guarded(fuzzed.kind, rig.pump) or []
            problem = _check_reply(fuzzed, frames)
            if problem is not None:
                problems.append(problem)
            for reply in _replies_to(frames, message_id):
                codes[RESULT if reply[0] == 3 else reply[2]] += 1
    # The end of the day: every car leaves, time passes, one more reboot delivers the rest.
    for evse in (1, 2):
        guarded("unplug", lambda e=evse: rig.unplug(e))
        guarded("end", lambda e=evse: rig.cp.end_transaction(e, rig.now, reason="Local"))
    guarded("time", lambda: rig.advance(600.0))
    guarded("reboot", rig.restart)
    guarded("time", lambda: rig.advance(600.0))
    tx_problems = ledger.problems()
    report_counts(
        f"engine fuzz 2.0.1 (seed {SEED + 201}): {sum(kinds.values())} frames, {reboots} reboots,"
        f" {len(ledger.started)} transactions, {ledger.events} TransactionEvents;"
        f" kinds {dict(sorted(kinds.items()))}; replies {dict(sorted(codes.items()))};"
        f" {len(crashes)} exceptions, {len(store.failures)} store failures,"
        f" {len(problems)} wrong replies, {len(tx_problems)} transaction problems"
    )
    _assert_none(
        exceptions=crashes,
        store_failures=store.failures,
        unloadable_documents=store.unloadable(),
        wrong_replies=problems,
        transaction_problems=tx_problems,
        undelivered=[f"{rig.cp.queue_length()} messages queued"] if rig.cp.queue_length() else [],
    )
    assert set(V201.valid) <= set(actions), set(V201.valid) - set(actions)
    assert ledger.started, "no transaction was started: the fuzz did not reach the sessions"


# --------------------------------------------------------------------------- station level


class WireBackend(FakeBackend):
    """The FakeBackend, recording every frame on the wire (per station instance) and able to
    go silent (CALLs recorded, never answered)."""

    def __init__(
        self, ledger: Ledger, rng: random.Random, ledger201: Ledger201 | None = None
    ) -> None:
        super().__init__(subprotocols=("ocpp1.6",) if ledger201 is None else ("ocpp2.0.1",))
        self.ledger = ledger
        self.rng = rng
        self.silent = False
        self.wire: list[tuple[str, str]] = []  # (direction seen by the station, text)
        self.handlers["StartTransaction"] = self._start
        self.handlers["StopTransaction"] = self._stop
        if ledger201 is not None:
            self.handlers["TransactionEvent"] = self._event
        self.ledger201 = ledger201
        self._current: str = ""

    def transport_factory(
        self, config: TransportConfig, listener: TransportListener
    ) -> MemoryTransport:
        return MemoryTransport(config, _Recording(listener, self.wire), self)

    def received(self, transport: MemoryTransport, text: str) -> None:
        self.wire.append(("out", text))
        frame = json.loads(text)
        if frame[0] == 2:
            self._current = frame[1]
            if self.silent:
                self.calls.append((frame[2], frame[3]))
                return
        super().received(transport, text)

    def _start(self, payload: dict[str, Any]) -> dict[str, Any]:
        tid = self.ledger.start(self._current)
        return {"transactionId": tid, "idTagInfo": hostile_id_tag_info(self.rng)}

    def _stop(self, payload: dict[str, Any]) -> dict[str, Any]:
        self.ledger.stop(self._current, payload)
        return {}

    def _event(self, payload: dict[str, Any]) -> dict[str, Any]:
        assert self.ledger201 is not None
        self.ledger201.event(self._current, payload)
        return {"idTokenInfo": {"status": "Accepted"}} if "idToken" in payload else {}

    def send_raw(self, text: str) -> bool:
        transport = self.live
        if transport is None:
            return False
        transport.listener.on_message(text)
        return True


class _Recording:
    """A TransportListener that records the frames the transport delivers to the station."""

    def __init__(self, inner: TransportListener, wire: list[tuple[str, str]]) -> None:
        self.inner, self.wire = inner, wire

    def on_open(self, subprotocol: str) -> None:
        self.inner.on_open(subprotocol)

    def on_message(self, text: str) -> None:
        self.wire.append(("in", text))
        self.inner.on_message(text)

    def on_close(self, reason: str) -> None:
        self.inner.on_close(reason)

    def on_state(self, state: ConnectionState, detail: str) -> None:
        self.inner.on_state(state, detail)


class Life:
    """One station process: a Station on its own Runtime and clock, the CLI's --log writer
    attached, its ticks watched for spins."""

    def __init__(
        self, backend: WireBackend, store: CheckedStore, log: io.TextIOBase, version: str = "1.6"
    ) -> None:
        settings = StationSettings(
            "ws://csms.test/ocpp", charge_box_id="FUZZ-1", connectors=2, ocpp_version=version
        )
        self.station = Station(
            settings,
            store=store,
            transport_factory=backend.transport_factory,
            clock_start_wall=WALL,
        )
        self.events: list[tuple[str, str]] = []
        self.station.subscribe(self._on_event)
        cli = types.SimpleNamespace(
            output=_Output(log, io.StringIO(), frames=True),
            log_time=lambda now: "t",
            idtag=None,
            plugged=[],
            frames_in=0,  # the run's count of frames received (its end-of-run progress)
        )
        _Watcher(self.station, cli)  # type: ignore[arg-type]
        self.clock = VirtualClock()
        self.runtime = Runtime([self.station], clock=self.clock)
        cli.runtime = self.runtime
        self.inputs = 0
        self.spins = 0
        self._last: tuple[float, float | None, int] | None = None  # (now, wake, inputs before)
        waker = self.station.waker
        assert waker is not None

        def wake() -> None:
            self.inputs += 1
            waker()

        self.station.waker = wake
        tick = self.station.tick

        def watched(now: float) -> float | None:
            before = self.inputs
            wake_at = tick(now)
            last = self._last
            again = wake_at is not None and wake_at <= now
            idle = last is not None and last[0] == now and last[2] == before
            if again and idle and last[1] is not None and last[1] <= now:  # type: ignore[index]
                self.spins += 1  # asked for this instant again, and nothing came in
            self._last = (now, wake_at, before)
            return wake_at

        self.station.tick = watched  # type: ignore[method-assign]
        self.dropped_at_reboot: list[str] = []
        reboot = self.station._do_reboot

        def rebooting(kind: str, now: float) -> None:
            # The frames a synchronous fake delivered during the rebooting tick are for the
            # discarded engine (a real transport delivers between ticks only): like a kill.
            inbox = self.station._link.inbox
            self.dropped_at_reboot += [value for kind, value in inbox if kind == "message"]
            reboot(kind, now)

        self.station._do_reboot = rebooting  # type: ignore[method-assign]

    def _on_event(self, event: object) -> None:
        if isinstance(event, FrameLogged):
            self.events.append((event.direction, event.text))

    def run(self, seconds: float) -> bool:
        """False when the station kept asking for the same instant (a livelock)."""
        try:
            self.runtime.run_for(seconds)
        except RuntimeError as exc:
            if "same instant" not in str(exc):
                raise
            self.spins += 1
            return False
        return True

    def unprocessed(self) -> list[str]:
        """Frames delivered but never taken in: still waiting (a kill now loses them, rightly
        unlogged) or dropped with the engine a reboot discarded."""
        waiting = [value for kind, value in self.station._link.inbox if kind == "message"]
        return self.dropped_at_reboot + waiting


def _key(text: Any) -> str:
    if isinstance(text, str):
        with contextlib.suppress(ValueError, RecursionError):
            text = json.loads(text)
    try:
        return canonical(text)
    except RecursionError:
        return repr(text)


def _lost(wire: list[tuple[str, str]], logged: list[tuple[str, Any]]) -> list[tuple[str, str]]:
    """Wire frames with no logged counterpart (multiset difference). A malformed frame that
    might spell a write-only key through JSON escapes is logged as withheld: that counts."""
    have = collections.Counter((d, _key(f)) for d, f in logged)
    unmatched = []
    for direction, text in wire:
        key = (direction, _key(text))
        if have[key]:
            have[key] -= 1
        else:
            unmatched.append((direction, text))
    withheld = have[("in", _key(_WITHHELD))]
    missing = []
    for direction, text in unmatched:
        if direction == "in" and withheld and not _well_formed(text):
            withheld -= 1
        else:
            missing.append((direction, text[:120]))
    return missing


def _well_formed(text: str) -> bool:
    try:
        frame = json.loads(text)
    except (ValueError, RecursionError):
        return False
    return isinstance(frame, list) and len(frame) >= 3 and frame[0] in (2, 3, 4)


# The Reset types of each version (a reboot), and its frames.
RESET_TYPES = {"1.6": ["Soft", "Hard"], "2.0.1": ["Immediate", "OnIdle"]}
FLAVOURS = {"1.6": None, "2.0.1": V201}


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
def test_station_fuzz_with_reboots_has_no_spins_and_no_lost_log_lines(
    store_dir: Path, report_counts: Callable[[str], None], version: str
) -> None:
    rng = random.Random(SEED + 1 if version == "1.6" else SEED + 202)
    store = CheckedStore(store_dir)
    ledger = Ledger()
    ledger201 = None if version == "1.6" else Ledger201()
    backend = WireBackend(ledger, random.Random(rng.random()), ledger201)
    raw_log = io.BytesIO()
    log = io.TextIOWrapper(raw_log, encoding="utf-8", errors="strict", line_buffering=True)
    flavour = FLAVOURS[version]
    life = Life(backend, store, log, version)
    lives = [life]
    life.station.connect()
    kills = resets = frames_sent = livelocks = 0
    crashes: list[str] = []
    for step in range(STATION_STEPS):
        roll = rng.random()
        station = life.station
        n = rng.randint(1, 2)
        try:
            if roll < 0.08:
                station.set_ev_ready(n, True)
                station.plug(n)
            elif roll < 0.12:
                station.unplug(n)
            elif roll < 0.20:
                station.present_card(n, rng.choice(["CARD-1", "CARD-2"]))
            elif roll < 0.26:
                reset = {"type": rng.choice(RESET_TYPES[version])}
                resets += backend.send_raw(json.dumps([2, f"r{step}", "Reset", reset]))
            elif roll < 0.30:
                backend.silent = not backend.silent
            elif roll < 0.32:
                backend.go_down() if backend.up else backend.go_up()
            elif roll < 0.35:
                # A kill: the station is abandoned as it is; a new one opens the same store.
                kills += 1
                for transport in backend.transports:
                    transport.close("killed", ConnectionState.CLOSED)
                life = Life(backend, store, log, version)
                lives.append(life)
                life.station.connect()
            elif roll < 0.60:
                if not life.run(rng.choice([0.0, 0.5, 5.0, 30.0, 120.0])):
                    livelocks += 1
                    break
            else:
                if flavour is None:
                    fuzzed = fuzzed_call(rng, f"s{step}")
                else:
                    fuzzed = fuzzed_call(rng, f"s{step}", flavour)
                frames_sent += backend.send_raw(fuzzed.text)
            if rng.random() < 0.5 and not life.run(0.0):
                livelocks += 1
                break
        except Exception as exc:
            crashes.append(f"step {step}: {exc!r}")
    else:
        # The CSMS behaves again, every car leaves, and a last restart delivers the rest.
        backend.silent = False
        if not backend.up:
            backend.go_up()
        for n in (1, 2):
            life.station.unplug(n)
        life.run(600.0)
        for transport in backend.transports:
            transport.close("killed", ConnectionState.CLOSED)
        life = Life(backend, store, log, version)
        lives.append(life)
        life.station.connect()
        life.run(600.0)
    # A life's inbox gets no message once its transport is closed: collecting at the end is
    # the same as collecting when it was abandoned.
    events = [frame for each in lives for frame in each.events]
    unprocessed = [text for each in lives for text in each.unprocessed()]
    spins = sum(each.spins for each in lives)
    log.flush()
    lines = raw_log.getvalue().decode("utf-8").splitlines()
    logged = [(r["direction"], r["frame"]) for r in map(json.loads, lines) if "direction" in r]
    wire = [(d, t) for d, t in backend.wire if not (d == "in" and t in unprocessed)]
    dropped = len(backend.wire) - len(wire)
    tx_problems = ledger.problems() if ledger201 is None else ledger201.problems()
    transactions = len(ledger.by_start_id) if ledger201 is None else len(ledger201.started)
    lost_events = _lost(wire, events)
    lost_lines = _lost(wire, logged)
    seed = SEED + 1 if version == "1.6" else SEED + 202
    label = "station fuzz" if version == "1.6" else "station fuzz 2.0.1"
    report_counts(
        f"{label} (seed {seed}): {STATION_STEPS} steps, {frames_sent} fuzzed frames,"
        f" {resets} Reset frames, {kills} kills/restarts, {transactions}"
        f" transactions; {len(backend.wire)} frames on the wire ({dropped} never taken in: at a"
        f" kill or with the engine a reboot discards); {spins} spins"
        f" ({livelocks} livelocks), {len(lost_events)} frames missing from FrameLogged,"
        f" {len(lost_lines)} lost --log lines, {len(crashes)} exceptions,"
        f" {len(store.failures)} store failures, {len(tx_problems)} transaction problems"
    )
    _assert_none(
        exceptions=crashes,
        transaction_problems=tx_problems,
        spins=[f"{spins} spins, {livelocks} livelocks"] if spins or livelocks else [],
        frames_missing_from_events=lost_events,
        lost_log_lines=lost_lines,
        store_failures=store.failures,
        unloadable_documents=store.unloadable(),
    )
