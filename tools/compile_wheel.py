"""Add compiled bytecode to wheels, so the page's Python imports them without compiling source.

Pyodide compiles a ``.py`` file in WebAssembly the first time it is imported, which costs the page
about as much as running it; its own package repository ships compiled wheels for that reason. This
adds, next to every module of a wheel, ``__pycache__/<name>.<cache tag>.pyc`` compiled by the
interpreter running this script, as an *unchecked hash-based* pyc (PEP 552): the importer uses it
without looking at the source's date, which unzipping does not keep. The sources stay, so
tracebacks show their lines. RECORD lists the new files; order and dates are kept, so the result
depends only on the input wheel and the interpreter.

The bytecode must come from the interpreter that will import it: ``build.py`` runs this inside
Pyodide under Node.js (``tools/compile_wheels.mjs``). On CPython it makes wheels for that CPython.

Usage: ``python tools/compile_wheel.py WHEEL...`` rewrites each WHEEL in place, prints both sizes.
"""

from __future__ import annotations

import importlib.util
import sys
import zipfile
from importlib._bootstrap_external import _code_to_hash_pyc  # type: ignore[attr-defined]
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from slim_wheel import COMPRESSLEVEL, record_line


def pyc_name(module: str, tag: str) -> str:
    """``pkg/mod.py`` -> ``pkg/__pycache__/mod.<tag>.pyc``, where the importer looks for it."""
    folder, _, file = module.rpartition("/")
    return f"{folder + '/' if folder else ''}__pycache__/{file[:-3]}.{tag}.pyc"


def bytecode(name: str, source: bytes) -> bytes:
    """The pyc of one module: compiled as the importer would, marked unchecked."""
    code = compile(source, name, "exec", dont_inherit=True)
    return bytes(_code_to_hash_pyc(code, importlib.util.source_hash(source), False))


def compile_wheel(wheel: Path) -> tuple[int, int]:
    """Rewrite ``wheel`` in place with a pyc after each module; return its size before and after."""
    tag = sys.implementation.cache_tag
    if tag is None:
        raise RuntimeError("this interpreter writes no bytecode caches")
    before = wheel.stat().st_size
    with zipfile.ZipFile(wheel) as source:
        entries = [(info, source.read(info)) for info in source.infolist()]
    record_name = next(info.filename for info, _ in entries if info.filename.endswith("/RECORD"))
    kept: list[tuple[zipfile.ZipInfo, bytes]] = []
    for info, data in entries:
        if "/__pycache__/" in f"/{info.filename}" or info.filename == record_name:
            continue  # compiled again below; RECORD is written last
        kept.append((info, data))
        if info.filename.endswith(".py") and ".dist-info/" not in info.filename:
            compiled = zipfile.ZipInfo(pyc_name(info.filename, tag), date_time=info.date_time)
            compiled.external_attr = info.external_attr
            kept.append((compiled, bytecode(info.filename, data)))
    record_info = next(info for info, _ in entries if info.filename == record_name)
    record = "".join(record_line(info.filename, data) for info, data in kept)
    kept.append((record_info, (record + f"{record_name},,\n").encode("utf-8")))
    target = wheel.with_suffix(".compiled")
    with zipfile.ZipFile(target, "w") as out:
        for info, data in kept:
            copy = zipfile.ZipInfo(info.filename, date_time=info.date_time)
            copy.external_attr = info.external_attr
            copy.compress_type = zipfile.ZIP_DEFLATED
            out.writestr(copy, data, compresslevel=COMPRESSLEVEL)
    target.replace(wheel)
    return before, wheel.stat().st_size


def compile_stdlib(archive: Path) -> tuple[int, int]:
    """Rewrite a standard library zip (Pyodide's ``python_stdlib.zip``) in place with each module
    replaced by its bytecode, ``mod.py`` -> ``mod.pyc`` where zipimport looks for it, as
    Pyodide's own distribution ships it; a module this interpreter cannot compile stays source.
    Return its size before and after."""
    before = archive.stat().st_size
    with zipfile.ZipFile(archive) as source:
        entries = [(info, source.read(info)) for info in source.infolist()]
    target = archive.with_suffix(".compiled")
    with zipfile.ZipFile(target, "w") as out:
        for info, data in entries:
            name = info.filename
            if name.endswith(".py"):
                try:
                    data = bytecode(name, data)
                    name += "c"
                except SyntaxError:
                    pass
            copy = zipfile.ZipInfo(name, date_time=info.date_time)
            copy.external_attr = info.external_attr
            copy.compress_type = zipfile.ZIP_DEFLATED
            out.writestr(copy, data, compresslevel=COMPRESSLEVEL)
    target.replace(archive)
    return before, archive.stat().st_size


def main(argv: list[str]) -> int:
    if not argv:
        print("usage: python tools/compile_wheel.py WHEEL|STDLIB.zip...", file=sys.stderr)
        return 2
    for name in argv:
        compile_file = compile_stdlib if name.endswith(".zip") else compile_wheel
        before, after = compile_file(Path(name))
        print(f"{name}: {before:,} B -> {after:,} B ({sys.implementation.cache_tag} bytecode)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
