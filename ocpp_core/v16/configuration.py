"""GetConfiguration and ChangeConfiguration (OCPP 1.6 §5.3, §5.8, §9).

GetConfiguration without keys lists every readable key. With keys, it answers each recognised one
and lists the others under ``unknownKey``; a write-only key (AuthorizationKey) counts as unknown
there, since its value must never be read back. Asking for more than GetConfigurationMaxKeys keys
is an OccurenceConstraintViolation: §5.8 lets the station limit the number of requested keys, and
the request's key list then breaks that occurrence limit. The limit is set above the number of
declared keys, so a CSMS that asks for every key by name is still answered.

The station's own view of the keys (ChargePoint.variables / set_variable) lists them as rows of
the version-neutral device-model view: no components, every value "Actual", write-only keys
without their value; a change follows ChangeConfiguration's rules.

This module also owns the Core keys no other block acts on: SupportedFeatureProfilesMaxLength,
BlinkRepeat and LightIntensity (OCPP 1.6 §9.1.30, §9.1.4, §9.1.11).

ChangeConfiguration follows §5.3 and §9: unknown key -> NotSupported; read-only -> Rejected;
unparsable or out-of-range value -> Rejected (the old value stays); a key whose change needs a
reboot -> RebootRequired; else Accepted. The new value is persisted before the answer is sent.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ocpp_core.block import Block, CallRefused, on
from ocpp_core.config import BOOL, CSL, INT, KeyDeclarer, R, W
from ocpp_core.operations import VariableRow

if TYPE_CHECKING:
    from collections.abc import Iterable

    from ocpp_core.config import Configuration, KeyDef
    from ocpp_core.v16.payloads import (
        ChangeConfigurationRequest,
        ChangeConfigurationResponse,
        GetConfigurationRequest,
        GetConfigurationResponse,
        KeyValue,
    )


__all__ = ["GET_CONFIGURATION_MAX_KEYS", "ConfigurationBlock"]

# KeyDef access -> part 2 MutabilityEnumType, for the version-neutral rows.
_MUTABILITY = {R: "ReadOnly", W: "WriteOnly"}

GET_CONFIGURATION_MAX_KEYS = 64

_keys = KeyDeclarer(__name__)
_keys.integer("GetConfigurationMaxKeys", GET_CONFIGURATION_MAX_KEYS, access=R)
_keys.csl(
    "SupportedFeatureProfiles",
    "",
    access=R,
    compute=lambda ctx: ctx.assembly.supported_profiles,
)
# §9.1.30: at most the six feature profiles of OCPP 1.6 (§3.3) can ever be listed.
_keys.integer("SupportedFeatureProfilesMaxLength", 6, access=R)
# §9.1.4 BlinkRepeat (times) and §9.1.11 LightIntensity (percent): the simulated station has no
# lights, so these are plain stored RW keys a CSMS can read and set; nothing acts on them.
_keys.integer("BlinkRepeat", 3)
_keys.integer("LightIntensity", 100, maximum=100)


class ConfigurationBlock(Block):
    """The CSMS's view of the configuration registry."""

    __slots__ = ()

    keys = tuple(_keys.keys)

    @on("GetConfiguration")
    def get_configuration(
        self, payload: GetConfigurationRequest, now: float
    ) -> GetConfigurationResponse:
        config = self.ctx.config
        requested = payload.get("key")
        if not requested:
            present = (key for key in config.table.readable if config.present(key))
            return {"configurationKey": _entries(config, present)}
        limit = config.integer("GetConfigurationMaxKeys")
        if len(requested) > limit:
            raise CallRefused(
                f"More than GetConfigurationMaxKeys ({limit}) keys requested",
                kind="occurrence",
                details={"GetConfigurationMaxKeys": limit},
            )
        found: dict[str, KeyDef] = {}
        unknown: list[str] = []
        for name in requested:
            key = config.table.find(name)
            if key is None or key.secret or not config.present(key):
                if name not in unknown:
                    unknown.append(name)
            else:
                found.setdefault(key.name, key)
        response: GetConfigurationResponse = {"configurationKey": _entries(config, found.values())}
        if unknown:
            response["unknownKey"] = unknown
        return response

    def rows(self, now: float) -> list[VariableRow]:
        """Every key as a row of the version-neutral device-model view (ChargePoint.variables)."""
        config = self.ctx.config
        return [
            VariableRow(
                key.name,
                "",
                key.name,
                "Actual",
                None if key.secret else config.text(key),
                _MUTABILITY.get(key.access, "ReadWrite"),
                _data_type(key),
                None,
                tuple(sorted(key.members)) if isinstance(key.members, frozenset) else None,
            )
            for key in config.table.by_name.values()
            if config.present(key)
        ]

    def set(self, address: str, value: str, now: float) -> str:
        """Change a key (ChargePoint.set_variable) by ChangeConfiguration's rules; its status."""
        return self.ctx.config.change(address, value)

    @on("ChangeConfiguration")
    def change_configuration(
        self, payload: ChangeConfigurationRequest, now: float
    ) -> ChangeConfigurationResponse:
        return {"status": self.ctx.config.change(payload["key"], payload["value"])}


def _data_type(key: KeyDef) -> str:
    """The part 2 DataEnumType a 1.6 key's values have (a CSL of fixed members: MemberList)."""
    if key.type == INT:
        return "integer"
    if key.type == BOOL:
        return "boolean"
    if key.type == CSL:
        return "MemberList" if isinstance(key.members, frozenset) else "SequenceList"
    return "string"


def _entries(config: Configuration, keys: Iterable[KeyDef]) -> list[KeyValue]:
    """GetConfiguration ``KeyValue`` objects of readable keys."""
    return [
        {"key": key.name, "readonly": key.access == R, "value": config.text(key)} for key in keys
    ]
