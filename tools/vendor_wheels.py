"""The pure-Python wheels the page installs offline when a feature first needs them.

Signed meter values sign with ``ecdsa`` (which needs ``six``). The browser has no PyPI, so
``build.py`` puts these pinned wheels into ``dist/wheels/`` with ``vendored.json`` naming them;
the page installs them with micropip from there only when signing is first used, so its start
does not grow. Each wheel is downloaded once into the build cache and checked against its sha256.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import tempfile
from pathlib import Path

__all__ = ["INDEX_NAME", "VENDORED", "ensure_pinned", "ensure_vendored", "index_json"]

INDEX_NAME = "vendored.json"

# package -> (wheel file name, sha256): pure wheels, any Python.
VENDORED = {
    "ecdsa": (
        "ecdsa-0.19.2-py2.py3-none-any.whl",
        "840f5dc5e375c68f36c1a7a5b9caad28f95daa65185c9253c0c08dd952bb7399",
    ),
    "six": (
        "six-1.17.0-py2.py3-none-any.whl",
        "4721f391ed90541fddacab5acf947aa0d3dc7d27b2e1e8eda2be8970586c3274",
    ),
}


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def ensure_pinned(package: str, name: str, digest: str, cache: Path) -> Path:
    """The wheel file ``name`` of ``package`` in ``cache``, downloaded from PyPI once for
    Pyodide's Python (3.14) and checked against ``digest`` (RuntimeError names the wheel whose
    download failed or whose hash differs)."""
    target = cache / name
    if target.is_file() and _sha256(target) == digest:
        return target
    cache.mkdir(parents=True, exist_ok=True)
    version = name.split("-")[1]
    with tempfile.TemporaryDirectory() as tmp:
        command = [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--quiet",
            "--no-deps",
            "--only-binary=:all:",
            "--python-version",
            "3.14",
            "--dest",
            tmp,
            f"{package}=={version}",
        ]
        code = subprocess.run(command, check=False).returncode
        if code != 0:
            raise RuntimeError(f"command failed (exit {code}): {' '.join(command)}")
        downloaded = Path(tmp) / name
        if not downloaded.is_file():
            raise RuntimeError(f"pip download did not produce {name}")
        actual = _sha256(downloaded)
        if actual != digest:
            raise RuntimeError(f"sha256 mismatch for {name}: expected {digest}, got {actual}")
        target.write_bytes(downloaded.read_bytes())
    return target


def ensure_vendored(cache: Path) -> list[Path]:
    """Every vendored wheel in ``cache`` (``ensure_pinned``)."""
    return [
        ensure_pinned(package, name, digest, cache) for package, (name, digest) in VENDORED.items()
    ]


def index_json() -> str:
    """``vendored.json``: the package names and their wheel files, for the page."""
    return json.dumps({package: name for package, (name, _) in VENDORED.items()}, indent=1) + "\n"
