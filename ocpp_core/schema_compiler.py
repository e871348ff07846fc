"""Compile a JSON schema node into a check (see ``schema_checks``), resolving ``$ref``.

Only the JSON-Schema subset the OCPP 1.6 and 2.0.1 schemas use is supported: ``type`` (also a
list), ``properties``, ``required``, ``additionalProperties``, ``enum``, ``minLength``/
``maxLength``, ``minimum``/``maximum``, ``multipleOf``, ``format`` (``date-time``, ``uri``),
``items``, ``minItems``/``maxItems``, ``$ref`` to ``#/definitions/...``. Any other keyword makes
compiling fail loudly instead of being silently ignored.
"""

from __future__ import annotations

from ocpp_core.schema_checks import (
    Check,
    SchemaError,
    accept,
    array_check,
    boolean_check,
    generic_check,
    int_keyword,
    null_check,
    number_check,
    object_check,
    string_check,
)

_IGNORED = frozenset(
    {"$schema", "$id", "id", "title", "description", "default", "examples", "javaType", "comment"}
    | {"$comment", "definitions", "additionalItems"}
)
_STRING_KEYS = frozenset({"maxLength", "minLength", "format"})
_NUMBER_KEYS = frozenset({"minimum", "maximum", "multipleOf"})
_OBJECT_KEYS = frozenset({"properties", "required", "additionalProperties"})
_ARRAY_KEYS = frozenset({"items", "minItems", "maxItems"})
_KNOWN = _IGNORED | _STRING_KEYS | _NUMBER_KEYS | _OBJECT_KEYS | _ARRAY_KEYS | {"type", "enum"}
_JSON_TYPES = frozenset({"string", "integer", "number", "boolean", "object", "array", "null"})


class Compiler:
    """Turns one schema (plus its definitions) into checks; lives only while compiling."""

    def __init__(
        self,
        lenient: bool,
        local: dict[str, object],
        pool: dict[str, object],
        shared: dict[str, Check],
    ) -> None:
        self.lenient = lenient
        self.local = local
        self.pool = pool
        self.shared = shared  # compiled pool definitions, reused by every schema of the version
        self.local_checks: dict[str, Check] = {}

    def compile(self, node: object) -> Check:
        """Compile a schema node; the type-specific builders avoid dispatch at run time."""
        if node is True or node == {}:
            return accept
        if not isinstance(node, dict):
            raise SchemaError(f"unsupported schema {node!r:.60}")
        unknown = node.keys() - _KNOWN - {"$ref"}
        if unknown:
            raise SchemaError(f"unsupported keywords {sorted(unknown)}")
        if "$ref" in node:
            return self.ref(node["$ref"])
        types = node.get("type")
        if types == "string" or (isinstance(types, str) and "enum" not in node):
            return self.typed(types, node)
        return self.generic(types, node)

    def ref(self, ref: object) -> Check:
        """Resolve ``#/definitions/X`` (local definitions first, then the version's pool)."""
        prefix = "#/definitions/"
        if not isinstance(ref, str) or not ref.startswith(prefix):
            raise SchemaError(f"unsupported $ref {ref!r}")
        name = ref[len(prefix) :]
        if name in self.local:
            return self._definition(name, self.local, self.local_checks)
        if name in self.pool:
            return self._definition(name, self.pool, self.shared)
        raise SchemaError(f"unresolved $ref {ref!r}")

    def _definition(self, name: str, raw: dict[str, object], cache: dict[str, Check]) -> Check:
        check = cache.get(name)
        if check is None:
            slot: list[Check] = []
            cache[name] = lambda value: slot[0](value)  # stands in while a cycle compiles
            try:
                check = self.compile(raw[name])
            except BaseException:
                del cache[name]  # never leave a placeholder that has nothing behind it
                raise
            slot.append(check)
            cache[name] = check
        return check

    def typed(self, kind: str, node: dict[str, object]) -> Check:
        """A check for a node with exactly one type (every node of the OCPP schemas)."""
        if kind == "string":
            return string_check(node)
        if kind in ("integer", "number"):
            return number_check(node, integer=kind == "integer", lenient=self.lenient)
        if kind == "boolean":
            return boolean_check
        if kind == "object":
            return self.compile_object(node)
        if kind == "array":
            return self.compile_array(node)
        if kind == "null":
            return null_check
        raise SchemaError(f"unknown type {kind!r}")

    def generic(self, types: object, node: dict[str, object]) -> Check:
        """A node with a list of types, no type, or an enum of non-strings."""
        allowed = _type_set(types)
        per_kind: dict[str, Check] = {}
        if node.keys() & _STRING_KEYS:
            per_kind["string"] = string_check({k: node[k] for k in _STRING_KEYS & node.keys()})
        if node.keys() & _NUMBER_KEYS:
            numeric = {k: node[k] for k in _NUMBER_KEYS & node.keys()}
            per_kind["number"] = per_kind["integer"] = number_check(numeric, False, self.lenient)
        if node.keys() & _OBJECT_KEYS:
            per_kind["object"] = self.compile_object(node)
        if node.keys() & _ARRAY_KEYS:
            per_kind["array"] = self.compile_array(node)
        enum = node.get("enum")
        return generic_check(allowed, per_kind, enum, self.lenient)

    def compile_object(self, node: dict[str, object]) -> Check:
        props = {k: self.compile(s) for k, s in _mapping(node.get("properties", {})).items()}
        required = _names(node.get("required", ()))
        extra = node.get("additionalProperties", True)
        extra_check = None if extra is False else self.compile(extra)
        return object_check(props, required, extra_check)

    def compile_array(self, node: dict[str, object]) -> Check:
        items = node.get("items", True)
        if isinstance(items, list):
            raise SchemaError("tuple-form items are not supported")
        item_check = self.compile(items)
        return array_check(
            None if item_check is accept else item_check,
            int_keyword(node, "minItems", 0) or 0,
            int_keyword(node, "maxItems", None),
        )


def _mapping(value: object) -> dict[str, object]:
    if not isinstance(value, dict):
        raise SchemaError(f"expected an object in the schema, got {value!r:.60}")
    return value


def _names(value: object) -> tuple[str, ...]:
    if not isinstance(value, list | tuple) or not all(isinstance(n, str) for n in value):
        raise SchemaError(f"required must list property names, got {value!r:.60}")
    return tuple(n for n in value if isinstance(n, str))


def _type_set(types: object) -> frozenset[str] | None:
    if types is None:
        return None
    names = [types] if isinstance(types, str) else types
    if not isinstance(names, list) or not set(names) <= _JSON_TYPES:
        raise SchemaError(f"unsupported type {types!r}")
    return frozenset(names)
