"""asyncio.run in a fresh thread, for tests that run a coroutine from a plain test function.

The e2e tests' Playwright fixtures keep an event loop running in the main thread, and pytest may
order a tests/ file after them (session fixtures regroup tests): asyncio.run there would refuse
to start ("cannot be called from a running event loop")."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

__all__ = ["run_async"]

T = TypeVar("T")


def run_async(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run ``coroutine`` to its end on a new loop in a new thread; its result."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()
