"""The Store contract, run against every backend, plus FileStore's crash and corruption handling."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from ocpp_core.store import FileStore, MemoryStore, Store, validate_name

StoreFactory = Callable[[], Store]


@pytest.fixture(params=["memory", "file"])
def make_store(request: pytest.FixtureRequest, tmp_path: Path) -> StoreFactory:
    """A factory so tests can reopen the same backend (FileStore: the same directory)."""
    if request.param == "memory":
        store = MemoryStore()
        return lambda: store
    return lambda: FileStore(tmp_path / "store")


@pytest.fixture
def store(make_store: StoreFactory) -> Store:
    return make_store()


# --- the shared contract ------------------------------------------------------------------------


def test_backends_satisfy_the_protocol(store: Store) -> None:
    assert isinstance(store, Store)


def test_missing_document_loads_as_none(store: Store) -> None:
    assert store.load("config") is None


@pytest.mark.parametrize(
    "value",
    [
        {"HeartbeatInterval": 300, "nested": {"list": [1, 2.5, True, None, "x"]}},
        [1, "two", {"three": 3}],
        "just a string",
        42,
        -1.25,
        True,
        False,
        {},
        [],
    ],
)
def test_round_trip(store: Store, value: object) -> None:
    store.save("doc", value)
    assert store.load("doc") == value


def test_save_replaces(store: Store) -> None:
    store.save("config", {"a": 1})
    store.save("config", {"b": 2})
    assert store.load("config") == {"b": 2}


def test_unicode_content(store: Store) -> None:
    value = {"vendor": "Ladesäule ⚡ 充电桩", "emoji": "🔌", "nul": "a\u0000b"}
    store.save("unicode", value)
    assert store.load("unicode") == value


def test_stored_value_is_isolated_from_caller_mutation(store: Store) -> None:
    value = {"list": [1, 2]}
    store.save("doc", value)
    value["list"].append(3)
    loaded = store.load("doc")
    loaded["list"].append(4)
    assert store.load("doc") == {"list": [1, 2]}


def test_delete(store: Store) -> None:
    store.save("queue/000001", {"n": 1})
    store.delete("queue/000001")
    assert store.load("queue/000001") is None
    assert store.names() == []
    store.delete("queue/000001")  # absent: no error
    store.delete("never/existed")


def test_names_sorted_with_prefixes_and_nesting(store: Store) -> None:
    for name in [
        "queue/000017",
        "config",
        "tx/1/000042",
        "tx/2/000001",
        "tx/1/000007",
        "localauth",
    ]:
        store.save(name, {"name": name})
    assert store.names() == [
        "config",
        "localauth",
        "queue/000017",
        "tx/1/000007",
        "tx/1/000042",
        "tx/2/000001",
    ]
    assert store.names("tx/") == ["tx/1/000007", "tx/1/000042", "tx/2/000001"]
    assert store.names("tx/1/") == ["tx/1/000007", "tx/1/000042"]
    assert store.names("queue") == ["queue/000017"]
    assert store.names("nothing") == []


def test_document_and_directory_of_same_stem_coexist(store: Store) -> None:
    store.save("tx", {"top": True})
    store.save("tx/1", {"child": True})
    assert store.load("tx") == {"top": True}
    assert store.load("tx/1") == {"child": True}
    assert store.names("tx") == ["tx", "tx/1"]


@pytest.mark.parametrize(
    "name",
    [
        "",
        "/config",
        "config/",
        "a//b",
        "..",
        "../etc/passwd",
        "tx/../../x",
        ".hidden",
        "tx/.x",
        "a\\b",
        "with space",
        "ümlaut",
        "a:b",
        "x.json",
        "x.JSON/y",
        "a" * 201,
    ],
)
def test_bad_names_rejected(store: Store, name: str) -> None:
    with pytest.raises(ValueError, match="invalid store name"):
        store.save(name, 1)
    with pytest.raises(ValueError):
        store.load(name)
    with pytest.raises(ValueError):
        store.delete(name)


@pytest.mark.parametrize("name", ["config", "tx/1/000042", "a-b_c.d", "x" * 200, "_", "-1"])
def test_good_names_accepted(name: str) -> None:
    assert validate_name(name) == name


def test_non_string_name_rejected(store: Store) -> None:
    with pytest.raises(ValueError):
        store.save(42, 1)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "value",
    [None, {"x": object()}, {"x": float("nan")}, [float("inf")], {1, 2}, b"bytes"],
    ids=["none", "object", "nan", "inf", "set", "bytes"],
)
def test_unserializable_value_is_type_error_and_keeps_old(store: Store, value: object) -> None:
    store.save("doc", {"old": True})
    with pytest.raises(TypeError):
        store.save("doc", value)
    assert store.load("doc") == {"old": True}
    assert store.names() == ["doc"]


def test_circular_value_is_type_error(store: Store) -> None:
    loop: list[object] = []
    loop.append(loop)
    with pytest.raises(TypeError):
        store.save("loop", loop)
    assert store.load("loop") is None


def test_on_write_called_after_each_change(tmp_path: Path) -> None:
    for backend in (MemoryStore, lambda **kw: FileStore(tmp_path / "s", **kw)):
        calls: list[None] = []
        store = backend(on_write=lambda calls=calls: calls.append(None))
        store.save("a", 1)
        store.save("a", 2)
        store.delete("a")
        store.delete("a")  # nothing changed: no flush needed
        with pytest.raises(TypeError):
            store.save("b", object())
        assert len(calls) == 3


# --- FileStore specifics -------------------------------------------------------------------------


def test_file_layout(tmp_path: Path) -> None:
    store = FileStore(tmp_path)
    store.save("tx/1/000042", {"id": 42})
    path = tmp_path / "tx" / "1" / "000042.json"
    assert json.loads(path.read_text("utf-8")) == {"id": 42}


def test_persists_across_instances(tmp_path: Path) -> None:
    FileStore(tmp_path).save("localauth", {"version": 3, "list": ["ABC"]})
    reopened = FileStore(tmp_path)
    assert reopened.load("localauth") == {"version": 3, "list": ["ABC"]}
    assert reopened.names() == ["localauth"]


def test_creates_missing_directory(tmp_path: Path) -> None:
    store = FileStore(tmp_path / "a" / "b")
    assert store.directory.is_dir()
    assert store.names() == []


def test_crash_during_replace_keeps_old_content(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = FileStore(tmp_path)
    store.save("config", {"version": 1})

    def crash(src: object, dst: object) -> None:
        raise OSError("simulated power cut")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="simulated"):
        store.save("config", {"version": 2})
    monkeypatch.undo()
    assert store.load("config") == {"version": 1}
    assert store.names() == ["config"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.json"]


def test_save_and_delete_are_durable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The data reaches the disk before the rename, and the rename (or unlink) is made durable
    by an fsync of the directory: what a power cut right after save() returns must not undo."""
    store = FileStore(tmp_path)
    steps: list[str] = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd: int) -> None:
        kind = "directory" if os.path.isdir(f"/proc/self/fd/{fd}") else "file"
        steps.append(f"fsync {kind}")
        real_fsync(fd)

    def replace(src: object, dst: object) -> None:
        steps.append("replace")
        real_replace(src, dst)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    store.save("config", {"version": 1})
    assert steps == ["fsync file", "replace", "fsync directory"]
    steps.clear()
    store.delete("config")
    assert steps == ["fsync directory"]


def test_orphaned_temp_files_ignored_then_cleaned(tmp_path: Path) -> None:
    store = FileStore(tmp_path)
    store.save("tx/1/000001", {"ok": True})
    orphan = tmp_path / "tx" / "1" / ".000002.json.abc123.tmp"
    orphan.write_text('{"half": ', "utf-8")
    top_orphan = tmp_path / ".config.json.xyz.tmp"
    top_orphan.write_text("", "utf-8")
    assert store.names() == ["tx/1/000001"]
    FileStore(tmp_path)
    assert not orphan.exists()
    assert not top_orphan.exists()
    assert store.load("tx/1/000001") == {"ok": True}


def test_foreign_files_not_listed(tmp_path: Path) -> None:
    store = FileStore(tmp_path)
    (tmp_path / "notes.txt").write_text("hi", "utf-8")
    (tmp_path / "bad name.json").write_text("{}", "utf-8")
    (tmp_path / "config.json.corrupt-1").write_text("{", "utf-8")
    store.save("config", {})
    assert store.names() == ["config"]


@pytest.mark.parametrize(
    "content",
    [b'{"truncated": ', b"\xff\xfe not utf-8", b"", b"NaN", b"{} trailing"],
    ids=["json", "utf8", "empty", "nan", "trailing"],
)
def test_corrupt_file_moved_aside(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, content: bytes
) -> None:
    store = FileStore(tmp_path)
    (tmp_path / "config.json").write_bytes(content)
    with caplog.at_level(logging.WARNING, logger="ocpp_core.store"):
        assert store.load("config") is None
    assert not (tmp_path / "config.json").exists()
    assert (tmp_path / "config.json.corrupt-1").read_bytes() == content
    assert any(
        r.name == "ocpp_core.store" and r.levelno == logging.WARNING and "config.json" in r.message
        for r in caplog.records
    )
    assert store.names() == []


def test_second_corrupt_file_gets_new_suffix(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = FileStore(tmp_path)
    for attempt in (b"first{", b"second{"):
        (tmp_path / "tx" / "1").mkdir(parents=True, exist_ok=True)
        (tmp_path / "tx" / "1" / "000042.json").write_bytes(attempt)
        with caplog.at_level(logging.WARNING, logger="ocpp_core.store"):
            assert store.load("tx/1/000042") is None
    folder = tmp_path / "tx" / "1"
    assert (folder / "000042.json.corrupt-1").read_bytes() == b"first{"
    assert (folder / "000042.json.corrupt-2").read_bytes() == b"second{"
    assert len([r for r in caplog.records if r.name == "ocpp_core.store"]) == 2


def test_corrupt_then_saved_again(tmp_path: Path) -> None:
    store = FileStore(tmp_path)
    (tmp_path / "config.json").write_bytes(b"{")
    assert store.load("config") is None
    store.save("config", {"fresh": True})
    assert store.load("config") == {"fresh": True}


def test_unreadable_file_is_none(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    store = FileStore(tmp_path)
    store.save("config", {})

    def refuse(self: Path) -> bytes:
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "read_bytes", refuse)
    with caplog.at_level(logging.WARNING, logger="ocpp_core.store"):
        assert store.load("config") is None
    monkeypatch.undo()
    assert "unreadable" in caplog.text
    assert (tmp_path / "config.json.corrupt-1").exists()
