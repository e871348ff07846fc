"""Bundle the official OCPP JSON schemas into ``ocpp_core/schemas/v16.json`` and ``v201.json``.

The schemas ship inside the wheel, whose whole budget is ~121 KB compressed. As 206 separate
files they cost ~95 KB there (a zip compresses each entry alone and adds headers and a RECORD
line per file); as one document per version they cost ~12 KB. Each bundle is::

    {"definitions": {name: schema, ...}, "schemas": {file stem: schema, ...}}

``definitions`` pools the ``definitions`` of every file of the version (the 2.0.1 files repeat
the same types over and over). A name whose content differs between files stays local to those
files; ``#/definitions/X`` resolves locally first, then in the pool, which keeps it equivalent.

Everything that cannot change a validation result is dropped: annotations (``description``,
``title``, ``javaType``, ``comment``, ``$comment``, ``default``), ``$id`` (every ``$ref`` is
local) and keywords that are no-ops where they stand (``additionalProperties`` beside a
non-object ``type``, ``additionalItems`` beside a single ``items`` schema). ``$schema`` is kept:
draft-04 and draft-06 disagree on whether ``5.0`` is an ``integer``. Only keywords of a schema
node are stripped: the keys of ``properties`` and ``definitions`` are names, so a property
called ``description`` survives.

Usage: ``python tools/copy_schemas.py [--check]`` (``--check`` exits 1 if a bundle is stale).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCES = {
    "v16": ROOT.parent / "shared" / "spec" / "ocpp16" / "schemas",
    "v201": ROOT.parent / "shared" / "spec" / "ocpp201" / "schemas",
}
TARGET = ROOT / "ocpp_core" / "schemas"

ANNOTATIONS = frozenset(
    {"description", "title", "javaType", "comment", "$comment", "default", "$id", "id", "examples"}
)
NAME_MAPS = frozenset({"properties", "definitions", "patternProperties"})
SUBSCHEMAS = frozenset({"additionalProperties", "additionalItems", "items", "not"})

Schema = dict[str, object]


def strip_schema(node: object) -> object:
    """Return a copy of the schema node without keywords that cannot affect validation."""
    if not isinstance(node, dict):
        return node  # a boolean schema
    out: Schema = {}
    for key, value in node.items():
        if key in ANNOTATIONS or _is_noop(node, key):
            continue
        if key in NAME_MAPS:
            out[key] = {name: strip_schema(sub) for name, sub in value.items()}
        elif key in SUBSCHEMAS:
            is_list = isinstance(value, list)
            out[key] = [strip_schema(s) for s in value] if is_list else strip_schema(value)
        else:
            out[key] = value  # enum, required, type, $ref, limits: data, copied verbatim
    return out


def _is_noop(node: Schema, key: str) -> bool:
    """True for keywords that the surrounding keywords make irrelevant."""
    types = node.get("type")
    if key == "additionalProperties" and types is not None:
        return "object" not in (types if isinstance(types, list) else [types])
    if key == "additionalItems":
        return isinstance(node.get("items"), dict)
    return False


def read_source(path: Path) -> Schema:
    """Parse one published schema file; some of them start with a UTF-8 BOM."""
    return json.loads(path.read_text(encoding="utf-8-sig"))


def _canonical(node: object) -> str:
    return json.dumps(node, sort_keys=True, separators=(",", ":"))


def bundle(schemas: dict[str, Schema]) -> dict[str, object]:
    """Strip every schema and pool the definitions that are identical wherever they occur."""
    stripped = {stem: strip_schema(schemas[stem]) for stem in sorted(schemas)}
    variants: dict[str, dict[str, object]] = {}
    for schema in stripped.values():
        for name, sub in schema.get("definitions", {}).items():
            variants.setdefault(name, {})[_canonical(sub)] = sub
    pool = {n: next(iter(v.values())) for n, v in sorted(variants.items()) if len(v) == 1}
    for schema in stripped.values():
        local = {n: s for n, s in schema.pop("definitions", {}).items() if n not in pool}
        if local:
            schema["definitions"] = local
    return {"definitions": pool, "schemas": stripped}


def planned() -> dict[Path, str]:
    """Map every bundle file to the content it should have."""
    files: dict[Path, str] = {}
    for version_dir, source in SOURCES.items():
        if not source.is_dir():
            raise SystemExit(f"schema source not found: {source}")
        schemas = {p.stem: read_source(p) for p in source.glob("*.json")}
        doc = bundle(schemas)
        files[TARGET / f"{version_dir}.json"] = json.dumps(
            doc, separators=(",", ":"), ensure_ascii=False
        )
    return files


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report stale bundles")
    args = parser.parse_args(argv)
    files = planned()
    stale = [p for p, text in files.items() if not p.exists() or p.read_text("utf-8") != text]
    if args.check:
        for path in stale:
            print(f"stale: {path.relative_to(ROOT)}")
        return 1 if stale else 0
    TARGET.mkdir(parents=True, exist_ok=True)
    for path in stale:
        path.write_text(files[path], encoding="utf-8")
    for path, text in files.items():
        print(f"{path.relative_to(ROOT)}: {len(text.encode())} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
