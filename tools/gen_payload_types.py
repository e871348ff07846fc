"""Generate typed payloads (TypedDicts) from the bundled OCPP schemas, for the type checker.

Every request and response schema of ``ocpp_core/schemas/v16.json`` becomes a TypedDict in
``ocpp_core/v16/payloads.py``, and those of ``v201.json`` in ``ocpp_core/v201/payloads.py``:

* 1.6 request ``X`` -> ``XRequest``, ``XResponse`` -> ``XResponse``; 2.0.1 stems keep their name.
* A property the schema does not require is ``NotRequired[...]``.
* A string ``enum`` becomes a ``Literal`` alias. A ``$ref`` definition keeps its schema name
  (``IdTokenType``, ``ChargingProfileType``). The 1.6 schemas nest their types inline; such a type
  is named after the property that holds it, or after the 1.6 spec's name for it where the two
  differ (``configurationKey`` holds a ``KeyValue``). An inline enum is named after its owner and
  property (``IdTagInfoStatus``; ``ChargingProfilePurpose``, not ``ChargingProfileChargingProfile
  Purpose``). Identical inline types share one name; a name that would cover two different
  shapes is prefixed with the type that holds it.
* JSON types: string -> ``str``, integer -> ``int``, number -> ``float``, boolean -> ``bool``,
  array -> ``list[...]``, object without properties -> ``dict[str, object]``, no type ->
  ``object``. Value constraints (lengths, formats, limits) stay the validator's job.

The modules are only for the type checker: handlers import them under ``TYPE_CHECKING``, so the
browser never loads them. They are importable all the same (the test imports them).

Usage: ``python tools/gen_payload_types.py [--check] [--out DIR]``. ``--check`` writes nothing and
exits 1 if a committed module is stale; ``--out`` writes ``DIR/v16/payloads.py`` and
``DIR/v201/payloads.py`` instead of into the package.
"""

from __future__ import annotations

import argparse
import json
import keyword
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCHEMAS = ROOT / "ocpp_core" / "schemas"
PACKAGE = ROOT / "ocpp_core"
LINE_LENGTH = 100

# version label, bundle stem, package directory of the output
VERSIONS = (("1.6", "v16"), ("2.0.1", "v201"))

# The 1.6 spec's names (OCPP 1.6 §7) for inline types whose property is named differently.
SPEC_TYPE_NAMES = {
    "configurationKey": "KeyValue",
    "csChargingProfiles": "ChargingProfile",
    "localAuthorizationList": "AuthorizationData",
}

PRIMITIVES = {"string": "str", "integer": "int", "number": "float", "boolean": "bool"}

Schema = dict[str, object]


class GeneratorError(Exception):
    """A schema uses something this generator cannot express; fix the generator, not the output."""


@dataclass
class Emitted:
    """One generated name: its shape (to share identical types) and its source lines."""

    shape: str
    lines: list[str]


@dataclass
class Module:
    """The types of one protocol version, in the order they must be defined."""

    version: str
    pool: dict[str, Schema]
    names: dict[str, Emitted] = field(default_factory=dict)
    order: list[str] = field(default_factory=list)
    defining: set[str] = field(default_factory=set)

    # ------------------------------------------------------------------ schema -> annotation

    def annotation(self, node: object, owner: str, prop: str) -> str:
        """The annotation of a schema node held by property ``prop`` of type ``owner``."""
        if node is True or node == {}:
            return "object"
        if not isinstance(node, dict):
            raise GeneratorError(f"{owner}.{prop}: unsupported schema {node!r:.60}")
        if "$ref" in node:
            return self.definition(_ref_name(node["$ref"]))
        if "enum" in node:
            return self.enum(_enum_values(node, owner, prop), _enum_name(owner, prop))
        types = node.get("type")
        if isinstance(types, list):
            return " | ".join(self.annotation({**node, "type": t}, owner, prop) for t in types)
        if types in PRIMITIVES:
            return PRIMITIVES[str(types)]
        if types == "array":
            items = node.get("items", True)
            return f"list[{self.annotation(items, owner, prop)}]"
        if types == "object":
            if not node.get("properties"):
                return "dict[str, object]"
            name = SPEC_TYPE_NAMES.get(prop) or _capitalized(prop)
            return self.typed_dict(node, name, owner)
        if types is None:
            return "object"
        raise GeneratorError(f"{owner}.{prop}: unsupported type {types!r}")

    def definition(self, name: str) -> str:
        """A ``#/definitions/`` type, emitted once under its own name."""
        if name in self.defining:
            return f'"{name}"'  # a recursive type: a forward reference
        if name in self.names:
            return name
        node = self.pool.get(name)
        if not isinstance(node, dict):
            raise GeneratorError(f"unresolved definition {name!r}")
        if "enum" in node:
            return self.enum(_enum_values(node, name, ""), name)
        if node.get("type") == "object" and node.get("properties"):
            return self.typed_dict(node, name, owner=None)
        target = self.annotation(node, name, "")
        self.add(name, f"alias:{target}", [f"{name} = {target}"])
        return name

    def enum(self, values: list[str], name: str) -> str:
        shape = "enum:" + json.dumps(values)
        return self.add(
            name, shape, _wrapped(f"{name} = Literal[", [json.dumps(v) for v in values], "]")
        )

    def typed_dict(self, node: Schema, name: str, owner: str | None) -> str:
        """A TypedDict for an object node; identical inline shapes share one class."""
        shape = "object:" + json.dumps(node, sort_keys=True)
        existing = self.names.get(name)
        if existing is not None and existing.shape != shape:
            if owner is None:
                raise GeneratorError(f"two different definitions named {name!r}")
            name = owner + name
            existing = self.names.get(name)
            if existing is not None and existing.shape != shape:
                raise GeneratorError(f"two different types named {name!r}")
        if name in self.defining:
            return f'"{name}"'  # a recursive type: a forward reference
        if existing is not None:
            return name
        self.defining.add(name)
        properties = node.get("properties", {})
        required = node.get("required", [])
        if not isinstance(properties, dict) or not isinstance(required, list):
            raise GeneratorError(f"{name}: malformed properties or required")
        body: list[str] = []
        for prop in properties:
            if not prop.isidentifier() or keyword.iskeyword(prop):
                raise GeneratorError(f"{name}: property {prop!r} is not a Python identifier")
            annotation = self.annotation(properties[prop], name, prop)
            if prop not in required:
                annotation = f"NotRequired[{annotation}]"
            body.append(f"    {prop}: {annotation}")
        self.defining.discard(name)
        lines = [f"class {name}(TypedDict):", *(body or ['    """No fields."""'])]
        return self.add(name, shape, lines)

    def add(self, name: str, shape: str, lines: list[str]) -> str:
        existing = self.names.get(name)
        if existing is not None:
            if existing.shape != shape:
                raise GeneratorError(f"two different types named {name!r}")
            return name
        for line in lines:
            if len(line) > LINE_LENGTH:
                raise GeneratorError(f"{name}: generated line longer than {LINE_LENGTH}: {line}")
        self.names[name] = Emitted(shape, lines)
        self.order.append(name)  # after every type it uses: those were added while building it
        return name

    # ------------------------------------------------------------------ messages

    def message(self, class_name: str, schema: Schema) -> None:
        if schema.get("type") != "object":
            raise GeneratorError(f"{class_name}: a payload schema must be an object")
        if class_name in self.names:
            raise GeneratorError(f"{class_name}: message name taken by a nested type")
        self.typed_dict(schema, class_name, owner=None)


def _ref_name(ref: object) -> str:
    prefix = "#/definitions/"
    if not isinstance(ref, str) or not ref.startswith(prefix):
        raise GeneratorError(f"unsupported $ref {ref!r}")
    return ref[len(prefix) :]


def _enum_values(node: Schema, owner: str, prop: str) -> list[str]:
    values = node.get("enum")
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise GeneratorError(f"{owner}.{prop}: only string enums are supported")
    return [str(v) for v in values]


def _capitalized(prop: str) -> str:
    return prop[:1].upper() + prop[1:]


def _enum_name(owner: str, prop: str) -> str:
    """``IdTagInfo`` + ``status`` -> ``IdTagInfoStatus``; no stutter when the property already
    starts with the owner's name (``ChargingProfile`` + ``chargingProfileKind``)."""
    field_name = _capitalized(prop)
    return field_name if field_name.startswith(owner) else owner + field_name


def _wrapped(head: str, items: list[str], tail: str) -> list[str]:
    """``head items tail`` on one line if it fits, else one item per line (as ruff formats it)."""
    line = head + ", ".join(items) + tail
    if len(line) <= LINE_LENGTH:
        return [line]
    return [head, *(f"    {item}," for item in items), tail]


def message_classes(version: str, schemas: dict[str, Schema]) -> list[tuple[str, str, Schema]]:
    """(action, class name, schema) of every request and response, requests first per action."""
    found: list[tuple[str, str, Schema]] = []
    for stem in sorted(schemas):
        if version == "1.6":
            action = stem.removesuffix("Response")
            name = stem if stem.endswith("Response") else stem + "Request"
        else:
            action = stem.removesuffix("Request").removesuffix("Response")
            name = stem
        found.append((action, name, schemas[stem]))
    return found


def render(version: str, bundle: dict[str, object]) -> str:
    """The source of the payload module of one version."""
    pool = bundle["definitions"]
    schemas = bundle["schemas"]
    if not isinstance(pool, dict) or not isinstance(schemas, dict):
        raise GeneratorError("a bundle has 'definitions' and 'schemas' objects")
    module = Module(version, pool)
    messages = message_classes(version, schemas)
    for _action, name, schema in messages:
        module.message(name, schema)
    actions = sorted({action for action, _name, _schema in messages})
    stem = dict(VERSIONS)[version]
    out = [
        f'"""Typed payloads of OCPP {version}, one TypedDict per request and response schema.',
        "",
        f"Generated by tools/gen_payload_types.py from ocpp_core/schemas/{stem}.json: do not edit.",
        "Only the type checker reads this module: import it under ``TYPE_CHECKING``.",
        '"""',
        "",
        "from typing import Literal, NotRequired, TypedDict",
        "",
        *_wrapped("Action = Literal[", [json.dumps(a) for a in actions], "]"),
    ]
    for name in module.order:
        out.extend(["", "", *module.names[name].lines])
    return "\n".join(out) + "\n"


def planned(out_dir: Path) -> dict[Path, str]:
    files: dict[Path, str] = {}
    for version, stem in VERSIONS:
        bundle = json.loads((SCHEMAS / f"{stem}.json").read_text(encoding="utf-8"))
        files[out_dir / stem / "payloads.py"] = render(version, bundle)
    return files


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report stale modules")
    parser.add_argument("--out", type=Path, default=PACKAGE, help="package root to write into")
    args = parser.parse_args(argv)
    files = planned(args.out)
    stale = [p for p, text in files.items() if not p.is_file() or p.read_text("utf-8") != text]
    if args.check:
        for path in stale:
            print(f"stale: {path} (run python tools/gen_payload_types.py)")
        return 1 if stale else 0
    for path in stale:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(files[path], encoding="utf-8")
    for path, text in files.items():
        print(f"{path}: {text.count(chr(10))} lines{' (written)' if path in stale else ''}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
