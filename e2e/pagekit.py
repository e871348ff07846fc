"""Helpers for driving the Control Center page in the end-to-end tests."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

from playwright.sync_api import Page

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "e2e" / "artifacts"
AUTH_PASSWORD = "e2e-Secret-Key-7391"
"""The password of the ``auth_csms`` fixture's CSMS (user = charge box id)."""
READY_TIMEOUT_MS = 90_000
"""Pyodide's first start in a fresh browser context takes ~5-15 s; CI machines can be slower."""


def open_app(page: Page, page_url: str, **query: str) -> None:
    """Load the Control Center (with deep-link parameters) and wait until it is interactive."""
    page.goto(page_url + (f"?{urlencode(query)}" if query else ""))
    wait_ready(page)


def wait_ready(page: Page) -> None:
    page.wait_for_function(
        "document.documentElement.dataset.app !== 'loading'", timeout=READY_TIMEOUT_MS
    )
    if page.evaluate("document.documentElement.dataset.app") != "ready":
        raise AssertionError(
            f"the page did not start: {page.locator('#loader-text').text_content()}"
        )
    page.evaluate("window.ocppSim.ready.then(() => true)")


def screenshot(page: Page, name: str) -> Path:
    """A full-page screenshot under e2e/artifacts/ (git-ignored)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.evaluate("window.scrollTo(0, 0)")  # the sticky top bar stays on top of the image
    page.screenshot(path=str(path), full_page=True)
    return path


def log_records(page: Page) -> list[dict]:
    """``window.ocppSim.messages()``: every frame the page logged."""
    return json.loads(page.evaluate("JSON.stringify(window.ocppSim.messages())"))


def energy_kwh(page: Page, n: int) -> float:
    text = page.get_by_test_id(f"connector-{n}-energy").text_content() or ""
    match = re.search(r"[\d.]+", text)
    assert match, text
    return float(match.group())


@dataclass
class ConsoleRecord:
    """Everything the page wrote to the console, and its uncaught errors."""

    messages: list[str]
    errors: list[str]

    @property
    def text(self) -> str:
        return "\n".join(self.messages + self.errors)
