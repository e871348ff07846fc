"""Small DOM helpers for Pyodide. Text goes in through ``textContent`` only, never as HTML.

Every text and attribute value passes ``printable`` here, the one place Python text reaches the
page: a lone surrogate a CSMS sent (valid JSON) shows as its escape, not as a replacement mark.

Writes are cached per node: the view calls ``Binder.text`` on every frame and only real
changes reach the DOM (no layout work, no flicker, cheap FFI). Pass the same node object each
time (look nodes up once): a fresh proxy of the same element is a different cache entry.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import js
from pyodide.ffi import create_proxy

from sim.events import printable

try:
    from pyodide.ffi import jsnull  # JS null since Pyodide 0.27 (None before)
except ImportError:  # pragma: no cover - older Pyodide
    jsnull = None

__all__ = ["Binder", "absent", "by_id", "listen", "make"]


def absent(value: Any) -> bool:
    """True for JS null and undefined (``jsnull`` / None in Python)."""
    return value is None or value is jsnull


_PROXIES: list[Any] = []  # listeners live as long as the page: keep their proxies alive


_BY_ID: dict[str, Any] = {}


def by_id(element_id: str) -> Any:
    """The element with that id (the page's static elements: looked up once, then cached)."""
    node = _BY_ID.get(element_id)
    if node is None:
        node = js.document.getElementById(element_id)
        if absent(node):
            raise LookupError(f"the page has no element #{element_id}")
        _BY_ID[element_id] = node
    return node


def listen(node: Any, event: str, handler: Callable[[Any], None], *, capture: bool = False) -> None:
    proxy = create_proxy(handler)
    _PROXIES.append(proxy)
    node.addEventListener(event, proxy, capture)


def make(tag: str, class_name: str = "", text: str | None = None) -> Any:
    node = js.document.createElement(tag)
    if class_name:
        node.className = class_name
    if text is not None:
        node.textContent = printable(text)
    return node


class Binder:
    """Remembers what was last written to each node so unchanged values cost nothing."""

    def __init__(self) -> None:
        # (id(node), key) -> (node, value); holding the node keeps its id from being reused
        self._last: dict[tuple[int, str], tuple[Any, object]] = {}

    def _changed(self, node: Any, key: str, value: object) -> bool:
        slot = (id(node), key)
        previous = self._last.get(slot)
        if previous is not None and previous[1] == value:
            return False
        self._last[slot] = (node, value)
        return True

    def text(self, node: Any, value: str) -> None:
        if self._changed(node, "#text", value):
            node.textContent = printable(value)

    def attr(self, node: Any, name: str, value: str | None) -> None:
        if self._changed(node, name, value):
            if value is None:
                node.removeAttribute(name)
            else:
                node.setAttribute(name, printable(value))

    def prop(self, node: Any, name: str, value: object) -> None:
        if self._changed(node, "." + name, value):
            setattr(node, name, value)

    def forget(self, node: Any) -> None:
        for slot in [slot for slot in self._last if slot[0] == id(node)]:
            del self._last[slot]
