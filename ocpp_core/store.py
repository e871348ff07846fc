"""Persistence of small JSON documents (configuration, local auth list, queued messages).

The interface is deliberately tiny (load / save / delete / names) so that it maps onto a file
tree on CPython and onto IndexedDB in the browser. Documents are addressed by names such as
``"config"`` or ``"tx/1/000042"``: slash-separated segments of ``[A-Za-z0-9_.-]`` that never
start with a dot and never end in ``.json``. So a name can never escape the store's directory,
never collide with the store's own temporary (dot-prefixed) files, and the file ``a.json`` of
document ``a`` never collides with a directory ``a.json/`` that ``a.json/b`` would need.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from ocpp_core.events import StoreFailed, StoreRecovered

__all__ = [
    "FileStore",
    "MemoryStore",
    "RetryingStore",
    "Store",
    "validate_name",
    "write",
]

log = logging.getLogger("ocpp_core.store")

_SEGMENT = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9_.-]*", re.ASCII)
# Room for the ".json", ".json.corrupt-N" and temp-file decorations within common 255-byte limits.
_MAX_SEGMENT = 200
_SUFFIX = ".json"
_TEMP_SUFFIX = ".tmp"

RETRY_FIRST_S = 1.0
RETRY_MAX_S = 60.0
MAX_PENDING = 10_000
"""Kept writes beyond which RetryingStore keeps only the last write of each document."""


@runtime_checkable
class Store(Protocol):
    """Where the engine keeps its JSON documents between runs."""

    def load(self, name: str) -> Any | None:
        """Return the stored document, or None if it is absent or unusable."""
        ...

    def save(self, name: str, value: Any) -> None:
        """Replace the document atomically (a reader sees the old or the new one, never a mix)."""
        ...

    def delete(self, name: str) -> None:
        """Remove the document; no error if it is absent."""
        ...

    def names(self, prefix: str = "") -> list[str]:
        """Return the sorted names of the stored documents that start with ``prefix``."""
        ...


def validate_name(name: str) -> str:
    """Return ``name`` if it is a valid document name, else raise ValueError (no path traversal)."""
    if not isinstance(name, str) or not name:
        raise ValueError(f"invalid store name {name!r}: expected a non-empty string")
    for segment in name.split("/"):
        bad = len(segment) > _MAX_SEGMENT or not _SEGMENT.fullmatch(segment)
        if bad or segment.lower().endswith(_SUFFIX):
            raise ValueError(
                f"invalid store name {name!r}: each '/'-separated segment must be 1-{_MAX_SEGMENT}"
                " characters of [A-Za-z0-9_.-], not start with '.' and not end with '.json'"
            )
    return name


def _serialize(value: Any) -> str:
    """Encode ``value`` as JSON text; anything JSON cannot represent faithfully is a TypeError."""
    if value is None:
        raise TypeError("None cannot be stored: load() uses None to mean 'absent'")
    try:
        # ASCII, with JSON's own escapes: every JSON string round-trips, even a lone surrogate
        # (a CSMS may send the escape \ud800 alone), which UTF-8 cannot encode. Documents
        # written earlier in UTF-8 still load.
        return json.dumps(value, allow_nan=False, separators=(",", ":"))
    except (TypeError, ValueError, RecursionError) as exc:
        # ValueError covers NaN/Infinity and circular references: still "not serializable".
        raise TypeError(f"value is not JSON-serializable: {exc}") from exc


def _reject_constant(token: str) -> Any:
    """Refuse NaN/Infinity on load, as they are not JSON and save() never writes them."""
    raise ValueError(f"non-standard JSON constant {token}")


def _deserialize(text: str) -> Any:
    return json.loads(text, parse_constant=_reject_constant)


class MemoryStore:
    """A Store in a dict, for tests and for runs that need no persistence.

    Documents are kept as JSON text: that proves they are serializable and isolates the stored copy
    from later mutation of the caller's objects (and of objects returned by load()).
    """

    def __init__(self, *, on_write: Callable[[], None] | None = None) -> None:
        self._docs: dict[str, str] = {}
        self._on_write = on_write

    def load(self, name: str) -> Any | None:
        text = self._docs.get(validate_name(name))
        return None if text is None else _deserialize(text)

    def save(self, name: str, value: Any) -> None:
        validate_name(name)
        self._docs[name] = _serialize(value)
        self._notify()

    def delete(self, name: str) -> None:
        if self._docs.pop(validate_name(name), None) is not None:
            self._notify()

    def names(self, prefix: str = "") -> list[str]:
        return sorted(name for name in self._docs if name.startswith(prefix))

    def _notify(self) -> None:
        if self._on_write is not None:
            self._on_write()


class FileStore:
    """A Store with one ``<directory>/<name>.json`` file per document, written atomically.

    A save writes a dot-prefixed temporary file in the target directory, fsyncs it, renames it over
    the target with os.replace (atomic on POSIX and Windows) and then fsyncs the directory so the
    rename itself survives a power cut. Temporary files orphaned by a crash are invisible to names()
    and are removed when the next FileStore opens the directory.
    """

    def __init__(
        self, directory: str | os.PathLike[str], *, on_write: Callable[[], None] | None = None
    ) -> None:
        self._root = Path(directory)
        self._root.mkdir(parents=True, exist_ok=True)
        self._on_write = on_write
        self._remove_temp_files()

    @property
    def directory(self) -> Path:
        """The directory that holds the documents."""
        return self._root

    def load(self, name: str) -> Any | None:
        path = self._path(name)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            self._quarantine(path, f"unreadable: {exc}")
            return None
        try:
            return _deserialize(data.decode("utf-8"))
        except UnicodeDecodeError as exc:
            self._quarantine(path, f"invalid UTF-8: {exc}")
            return None
        except (ValueError, RecursionError) as exc:
            self._quarantine(path, f"invalid JSON: {exc}")
            return None

    def save(self, name: str, value: Any) -> None:
        path = self._path(name)
        data = _serialize(value).encode("ascii")  # fails before anything touches the disk
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=_TEMP_SUFFIX, dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temp)
            raise
        _fsync_directory(path.parent)
        self._notify()

    def delete(self, name: str) -> None:
        path = self._path(name)
        try:
            path.unlink()
        except FileNotFoundError:
            return
        _fsync_directory(path.parent)
        self._notify()

    def names(self, prefix: str = "") -> list[str]:
        found = []
        for dirpath, dirnames, filenames in os.walk(self._root):
            dirnames[:] = [d for d in dirnames if not d.startswith(".")]
            relative = Path(dirpath).relative_to(self._root).parts
            for filename in filenames:
                name = self._name_of(relative, filename)
                if name is not None and name.startswith(prefix):
                    found.append(name)
        return sorted(found)

    def _path(self, name: str) -> Path:
        parts = validate_name(name).split("/")
        parts[-1] += _SUFFIX
        return self._root.joinpath(*parts)

    @staticmethod
    def _name_of(relative: tuple[str, ...], filename: str) -> str | None:
        """Map a file back to its document name; None for temp, corrupt and foreign files."""
        if not filename.endswith(_SUFFIX):
            return None
        name = "/".join((*relative, filename[: -len(_SUFFIX)]))
        try:
            return validate_name(name)
        except ValueError:
            return None

    def _quarantine(self, path: Path, reason: str) -> None:
        """Move a corrupt document aside (kept for inspection); the caller starts from defaults."""
        target = _free_corrupt_path(path)
        try:
            os.replace(path, target)
        except OSError as exc:
            log.warning("store document %s is %s; could not move it aside: %s", path, reason, exc)
            return
        log.warning("store document %s is %s; moved to %s", path, reason, target.name)

    def _remove_temp_files(self) -> None:
        for dirpath, dirnames, filenames in os.walk(self._root):
            dirnames[:] = [d for d in dirnames if not d.startswith(".")]
            for filename in filenames:
                if filename.startswith(".") and filename.endswith(_TEMP_SUFFIX):
                    with contextlib.suppress(OSError):
                        os.unlink(os.path.join(dirpath, filename))

    def _notify(self) -> None:
        if self._on_write is not None:
            self._on_write()


class RetryingStore:
    """A Store in front of another that survives its write failures (OSError: disk full,
    quota exceeded, permissions) without losing what the station must keep.

    While writes work, each goes straight through. Once one fails, it and every later write are
    kept in memory, in order (loads and names() see them), and replayed in that order by
    ``retry(now)`` — the engine calls it on each poll; the delay grows from RETRY_FIRST_S to
    RETRY_MAX_S — so the documents on disk always show a state the station went through. A
    write that replaces the last kept one replaces it in place; beyond MAX_PENDING kept writes
    only each document's last is kept (a crash during that replay may then mix documents).

    ``save_now`` / ``delete_now`` (through ``write(..., refusable=True)``) are for changes a CSMS
    asked for that can be refused instead (a configuration value, the local list, a charging
    profile): they store now, after the kept writes, or raise the OSError, so the caller answers
    with a failure and changes nothing.

    ``report(event)`` (set by the engine) receives StoreFailed and StoreRecovered; failures
    and recoveries are logged too. Other exceptions (TypeError, ValueError) pass through.
    """

    def __init__(self, inner: Store) -> None:
        self.inner = inner
        self.report: Callable[[StoreFailed | StoreRecovered], None] | None = None
        self._kept: list[tuple[str, str | None]] = []  # (name, JSON text or None: delete)
        self._latest: dict[str, str | None] = {}  # the last kept write of each document
        self._failing = False
        self._written = 0  # kept writes stored since the failure began
        self._delay = RETRY_FIRST_S
        self._retry_at: float | None = None  # set at the first retry() after a failure

    @property
    def pending(self) -> int:
        """The number of writes kept in memory, waiting for the inner Store."""
        return len(self._kept)

    def load(self, name: str) -> Any | None:
        if name in self._latest:
            text = self._latest[name]
            return None if text is None else _deserialize(text)
        return self.inner.load(name)

    def names(self, prefix: str = "") -> list[str]:
        found = set(self.inner.names(prefix))
        for name, text in self._latest.items():
            if name.startswith(prefix):
                if text is None:
                    found.discard(name)
                else:
                    found.add(name)
        return sorted(found)

    def save(self, name: str, value: Any) -> None:
        if not self._kept:
            try:
                self.inner.save(name, value)
            except OSError as exc:
                self._keep(name, _serialize(value))
                self._failed(name, exc, kept=True)
            else:
                self._succeeded()
            return
        self._keep(validate_name(name), _serialize(value))

    def delete(self, name: str) -> None:
        if not self._kept:
            try:
                self.inner.delete(name)
            except OSError as exc:
                self._keep(name, None)
                self._failed(name, exc, kept=True)
            else:
                self._succeeded()
            return
        self._keep(validate_name(name), None)

    def save_now(self, name: str, value: Any) -> None:
        """Store ``value`` now (after the kept writes) or raise OSError, keeping nothing."""
        self._now(name, lambda: self.inner.save(name, value))

    def delete_now(self, name: str) -> None:
        """Delete the document now (after the kept writes) or raise OSError, keeping nothing."""
        self._now(name, lambda: self.inner.delete(name))

    def _now(self, name: str, write: Callable[[], None]) -> None:
        try:
            if self._kept:
                self._replay()
            write()
        except OSError as exc:
            self._failed(name, exc, kept=False)
            raise
        self._succeeded()

    def flush(self) -> int:
        """Replay the kept writes now, whatever the backoff (before the process ends); returns
        how many are still kept."""
        if self._kept:
            try:
                self._replay()
            except OSError as exc:
                log.error("store still failing (%s): %d writes not stored", exc, len(self._kept))
            else:
                self._succeeded()
        return len(self._kept)

    def next_retry(self, now: float) -> float | None:
        """When ``retry`` next has work (None: nothing is kept)."""
        if not self._kept:
            return None
        if self._retry_at is None:
            self._retry_at = now + self._delay
        return self._retry_at

    def retry(self, now: float) -> None:
        """Replay the kept writes if their time has come; cheap when nothing is kept."""
        if not self._kept:
            return
        if self._retry_at is None:
            self._retry_at = now + self._delay
        if now < self._retry_at:
            return
        try:
            self._replay()
        except OSError as exc:
            self._delay = min(self._delay * 2, RETRY_MAX_S)
            self._retry_at = now + self._delay
            log.warning(
                "store still failing (%s); %d writes kept, next try in %g s",
                exc,
                len(self._kept),
                self._delay,
            )
            return
        self._succeeded()

    def _replay(self) -> None:
        """Write the kept writes in order; on a failure, keep the rest and raise."""
        kept = self._kept
        done = 0
        try:
            for name, text in kept:
                if text is None:
                    self.inner.delete(name)
                else:
                    self.inner.save(name, _deserialize(text))
                done += 1
        finally:
            if done:
                self._written += done
                del kept[:done]
                self._latest = dict(kept)

    def _keep(self, name: str, text: str | None) -> None:
        kept = self._kept
        if kept and kept[-1][0] == name:
            kept[-1] = (name, text)  # the state in between was never on disk: no gap
        else:
            kept.append((name, text))
        self._latest[name] = text
        if len(kept) > MAX_PENDING:
            self._kept = list(self._latest.items())  # each document's last write
            log.warning("over %d store writes kept: only each document's last one", MAX_PENDING)

    def _failed(self, name: str, exc: OSError, *, kept: bool) -> None:
        self._failing = True  # (a kept write is always the first: later ones wait behind it)
        if kept:
            log.error("store write of %s failed (%s): kept in memory, retrying", name, exc)
        else:
            log.error("store write of %s failed (%s): the change is refused", name, exc)
        self._tell(StoreFailed(name, str(exc), len(self._kept), kept))

    def _succeeded(self) -> None:
        if not self._failing or self._kept:
            return
        self._failing = False
        self._delay = RETRY_FIRST_S
        self._retry_at = None
        written, self._written = self._written, 0
        log.warning("store writable again: %d kept writes stored", written)
        self._tell(StoreRecovered(written))

    def _tell(self, event: StoreFailed | StoreRecovered) -> None:
        if self.report is not None:
            try:
                self.report(event)
            except Exception:
                log.exception("store failure report failed")


def write(store: Store, name: str, value: Any | None, *, refusable: bool = False) -> None:
    """Save ``value`` as ``name`` (None: delete it). ``refusable``: a change a CSMS asked for,
    stored now or refused (OSError raised) rather than kept by a RetryingStore for later."""
    if refusable and isinstance(store, RetryingStore):
        if value is None:
            store.delete_now(name)
        else:
            store.save_now(name, value)
    elif value is None:
        store.delete(name)
    else:
        store.save(name, value)


def _free_corrupt_path(path: Path) -> Path:
    """Return ``<file>.corrupt-N`` with the smallest N not already taken, so none is clobbered."""
    number = 1
    while True:
        candidate = path.with_name(f"{path.name}.corrupt-{number}")
        if not candidate.exists():
            return candidate
        number += 1


def _fsync_directory(directory: Path) -> None:
    """Make a rename durable; skipped where a directory cannot be opened (Windows, browsers)."""
    flags = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0)
    try:
        fd = os.open(directory, flags)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
