"""Skeleton page script: proves wheel -> micropip -> Pyodide -> PyScript -> browser WebSocket.

The full Control Center replaces this later; what stays is the rule that server text is inserted as
text (``textContent``), never as HTML.
"""

import sys
from urllib.parse import urlsplit

import js
from pyodide.ffi import JsException, create_proxy

import ocpp_core
import sim


def show(testid: str, text: str, state: str | None = None) -> None:
    """Put ``text`` into the element with that data-testid, as text."""
    node = js.document.querySelector(f'[data-testid="{testid}"]')
    node.textContent = text
    if state is not None:
        node.dataset.state = state


def websocket_base() -> str:
    """ws:// or wss:// and the host the page came from: the local server hosts every endpoint."""
    scheme = "wss" if js.location.protocol == "https:" else "ws"
    return f"{scheme}://{js.location.host}"


def query_param(name: str) -> str | None:
    """A query parameter of the page URL (deep links), or None when absent."""
    params = js.URLSearchParams.new(js.location.search)
    return str(params.get(name)) if params.has(name) else None


def open_echo(url: str) -> None:
    """Open a WebSocket from Python and show what the echo endpoint sends back."""
    probe = f"hello from ocpp_core {ocpp_core.__version__}"
    parts = urlsplit(url)
    if parts.scheme not in ("ws", "wss") or not parts.netloc:
        show("echo-result", f"{url} is not a WebSocket URL (ws://host/… or wss://host/…)", "error")
        return
    try:
        socket = js.WebSocket.new(url)
    except JsException as error:
        show("echo-result", f"{url} is not a WebSocket URL: {error}", "error")
        return

    def on_open(_event: object) -> None:
        socket.send(probe)

    def on_message(event: object) -> None:
        show("echo-result", str(event.data), "received")
        socket.close()

    def on_error(_event: object) -> None:
        show("echo-result", f"could not reach {url}: is the server running?", "error")

    # The proxies live as long as the socket; the page is short-lived, so they are never destroyed.
    socket.onopen = create_proxy(on_open)
    socket.onmessage = create_proxy(on_message)
    socket.onerror = create_proxy(on_error)


def main() -> None:
    base = websocket_base()
    echo_url = query_param("echo") or f"{base}/echo"
    show("core-version", ocpp_core.__version__)
    show("sim-version", sim.__version__)
    show("python-version", sys.version.split()[0])
    show("csms-url", query_param("url") or f"{base}/ocpp")
    show("echo-url", echo_url)
    open_echo(echo_url)
    show("app-state", "Ready", "ready")


main()
