"""The page's notice line (browser only): an error stays until the next notice, an info fades
after NOTICE_INFO_MS; and what the browser storage reports (a failing write, saved again)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import js

from control_center.dom import by_id

__all__ = ["NOTICE_INFO_MS", "Notices"]

logger = logging.getLogger("control_center")

NOTICE_INFO_MS = 8000


class Notices:
    """Shows notices in ``#notice``; text only (textContent)."""

    def __init__(self, proxy: Callable[[Any], Any]) -> None:
        self._timer: Any = None
        self._store_problem: str | None = None
        self._hide_proxy = proxy(self._hide)

    def show(self, text: str, tone: str = "error") -> None:
        node = by_id("notice")
        node.textContent = text
        node.dataset.tone = tone
        node.hidden = False
        if self._timer is not None:
            js.clearTimeout(self._timer)
            self._timer = None
        if tone == "info":
            self._timer = js.setTimeout(self._hide_proxy, NOTICE_INFO_MS)

    def _hide(self) -> None:
        self._timer = None
        by_id("notice").hidden = True

    def store_problem(self, problem: str | None) -> None:
        """A store write failed (``problem``) or everything is saved again (None)."""
        if problem is not None:
            logger.error("browser storage: %s", problem)
            self.show(f"Browser storage problem: {problem}.", "error")
        elif self._store_problem is not None:
            logger.warning("browser storage: every change is saved again")
            self.show("Browser storage works again: every change is saved.", "info")
        self._store_problem = problem
