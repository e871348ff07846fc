"""The built site names nothing outside itself (no browser needed, but the built dist/ is).

The vendored Pyodide and PyScript bundles carry CDN addresses as their own defaults; the page
overrides every one of them (``interpreter`` and the packages point into dist/), and
``test_deep_link_autoconnects_to_the_demo_csms`` proves in Chromium that no request leaves
the local server. What we write ourselves must not name an outside host at all.
"""

from __future__ import annotations

import hashlib
import json
import re
import zipfile
from html.parser import HTMLParser

from conftest import DIST

OWN_FILES = ("index.html", "boot.js", "interpreter.mjs", "app.css", "main.py", "pyscript.json")
# An address with a real host name (placeholders such as ws://host:port are fine).
URL = re.compile(r"\b(?:https?|wss?|ftp)://[a-z0-9-]+(?:\.[a-z0-9-]+)+", re.IGNORECASE)


class _References(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in ("src", "href", "config") and value:
                self.found.append(value)


def test_our_files_name_no_outside_host() -> None:
    own = [DIST / name for name in OWN_FILES]
    for path in own:
        text = path.read_text(encoding="utf-8")
        assert not URL.search(text), f"{path.relative_to(DIST)} names an outside address"
    for wheel in sorted((DIST / "wheels").glob("ocpp_sim_control_center-*.whl")):
        with zipfile.ZipFile(wheel) as archive:
            for name in archive.namelist():
                if name.endswith(".py"):
                    text = archive.read(name).decode("utf-8")
                    assert not URL.search(text), f"{name} in {wheel.name} names an outside address"


def test_the_page_loads_only_local_files() -> None:
    parser = _References()
    parser.feed((DIST / "index.html").read_text(encoding="utf-8"))
    assert parser.found, "no references found: the parser missed the page"
    for reference in parser.found:
        if reference.startswith(("#", "data:")):
            continue
        assert reference.startswith("./"), reference
        assert (DIST / reference[2:]).is_file(), f"{reference} is not in dist/"


def test_pyscript_config_points_into_dist() -> None:
    config = json.loads((DIST / "pyscript.json").read_text(encoding="utf-8"))
    # Pyodide, started by the page at once (web/interpreter.mjs imports the local copy).
    assert config["interpreter"] == "./interpreter.mjs"
    assert '"./pyodide/pyodide.mjs"' in (DIST / "interpreter.mjs").read_text(encoding="utf-8")
    assert (DIST / "pyodide" / "pyodide.mjs").is_file()
    for package in config["ocpp_sim_wheels"] + config.get("packages", []):
        assert package.startswith("./wheels/") and (DIST / package[2:]).is_file(), package
    lock = json.loads((DIST / "pyodide" / "pyodide-lock.json").read_text(encoding="utf-8"))
    for name, entry in lock["packages"].items():
        assert not URL.search(entry["file_name"]), f"{name} would be fetched from elsewhere"
    # Pyodide checks this hash before it installs micropip: it must be the wheel we ship.
    micropip = lock["packages"]["micropip"]
    shipped = (DIST / "pyodide" / micropip["file_name"]).read_bytes()
    assert micropip["sha256"] == hashlib.sha256(shipped).hexdigest()


# The upstream defaults the vendored Pyodide and PyScript bundles carry as strings. None is used:
# the page names its interpreter and packages in dist/, and the deep-link e2e test records that
# no request leaves the local server. This list makes an upgrade that adds one visible.
KNOWN_VENDOR_DEFAULTS = {
    "https://cdn.jsdelivr.net/npm/@micropython/micropython-webassembly-pyscript@${e}/micropython.mjs",
    "https://cdn.jsdelivr.net/pyodide/v${U}/full/",
    "https://cdn.jsdelivr.net/pyodide/v${e}/full/pyodide.mjs",
    "https://packages.pyscript.net/?q=${r}",
}
CDN = re.compile(
    r"https?://(?:cdn\.jsdelivr\.net|unpkg\.com|cdnjs\.[a-z.]+|esm\.sh|[a-z.]*pyscript\.net)[^\"'`\s)]*"
)


def test_vendored_files_name_only_their_known_cdn_defaults() -> None:
    found: set[str] = set()
    for folder in ("pyodide", "pyscript"):
        for path in sorted((DIST / folder).iterdir()):
            if path.suffix in (".js", ".mjs", ".css", ".json", ".html"):
                text = path.read_text(encoding="utf-8", errors="replace")
                found.update(CDN.findall(text))
    found.discard("https://docs.pyscript.net/latest/faq/#sharedarraybuffer")  # a help link
    assert found == KNOWN_VENDOR_DEFAULTS
