"""OCPP 1.6's names for the version-neutral transfer helpers (ocpp_core/file_transfer.py)."""

from __future__ import annotations

from ocpp_core.file_transfer import (
    DEFAULT_RETRIES,
    DEFAULT_RETRY_INTERVAL,
    NoticeSource,
    TransferBlock,
    retry_policy,
    wall_time,
)

__all__ = [
    "DEFAULT_RETRIES",
    "DEFAULT_RETRY_INTERVAL",
    "NoticeSource",
    "TransferBlock",
    "retry_policy",
    "wall_time",
]
