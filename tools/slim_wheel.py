"""Make the browser's wheel smaller: docstrings and comments out of its modules, lines kept.

The page downloads and compiles every module it imports, so what only a reader of the source
needs (docstrings, comments) is dead weight there. Each ``.py`` file of the wheel is rewritten so
that every remaining line keeps its number and its text: a docstring becomes blank lines (or
``...`` where its body would otherwise be empty, or where code shares its line), a comment is cut
off its line. A traceback from the installed wheel therefore names the same file, line and column
as the repository's source, and shows the same line. ``#!`` and ``# -*- coding`` lines are kept.

Everything else in the wheel is copied byte for byte, in the same order, with the same dates; RECORD
gets the new hashes and sizes. The result depends only on the input wheel (a deterministic build).

Usage: ``python tools/slim_wheel.py WHEEL`` rewrites WHEEL in place and prints both sizes.
"""

from __future__ import annotations

import ast
import base64
import csv
import hashlib
import io
import re
import sys
import tokenize
import zipfile
from collections.abc import Callable
from pathlib import Path

# What a docstring becomes when no line of its own is free: the body needs a statement, or code
# shares its line.
PLACEHOLDER = "..."
COMPRESSLEVEL = 9


def _is_text_statement(node: ast.stmt) -> bool:
    """A bare string literal as a statement: a docstring, or a string the compiler drops anyway."""
    return (
        isinstance(node, ast.Expr)
        and isinstance(node.value, ast.Constant)
        and isinstance(node.value.value, str)
    )


def _statement_lists(tree: ast.Module) -> list[tuple[list[ast.stmt], bool]]:
    """Every list of statements (bodies, else/finally branches, handlers, cases), each with
    whether it must keep one statement (all but the module's)."""
    lists: list[tuple[list[ast.stmt], bool]] = []
    for node in ast.walk(tree):
        for field in ("body", "orelse", "finalbody"):
            value = getattr(node, field, None)
            if isinstance(value, list) and value and isinstance(value[0], ast.stmt):
                lists.append((value, node is not tree))
    return lists


def _lines(text: str) -> list[str]:
    """The lines as the tokenizer counts them (``str.splitlines`` also splits at form feeds and
    other separators a string literal may hold), each with its line ending."""
    return re.findall(r"[^\n]*\n|[^\n]+\Z", text)


def _char_col(line: str, byte_col: int) -> int:
    """ast counts columns in UTF-8 bytes; the text counts characters."""
    return len(line.encode("utf-8")[:byte_col].decode("utf-8"))


def strip_docstrings(source: str, name: str = "<source>") -> str:
    """Docstrings and other string statements out, every line kept (see ``strip_source``)."""
    lines = _lines(source)
    edits: list[tuple[int, int, int, int, str]] = []  # start row/col, end row/col (0-based), text
    for statements, needs_one in _statement_lists(ast.parse(source, name)):
        texts = [node for node in statements if _is_text_statement(node)]
        if not texts:
            continue
        body_empties = needs_one and len(texts) == len(statements)
        for index, node in enumerate(texts):
            assert node.end_lineno is not None and node.end_col_offset is not None
            first, last = node.lineno - 1, node.end_lineno - 1
            start = _char_col(lines[first], node.col_offset)
            end = _char_col(lines[last], node.end_col_offset)
            before = lines[first][:start]
            after = lines[last][end:].strip()
            shares_line = bool(before.strip()) or (bool(after) and not after.startswith("#"))
            if shares_line and first != last and after and not after.startswith("#"):
                continue  # code after a multi-line string on its last line: leave it alone
            needs_placeholder = shares_line or (body_empties and index == 0)
            text = PLACEHOLDER if needs_placeholder else ""
            if after and not after.startswith("#"):  # code follows: keep its column
                text = text.ljust(end - start)
            edits.append((first, start, last, end, text + "\n" * (last - first)))
    for first, start, last, end, text in sorted(edits, reverse=True):
        merged = lines[first][:start] + text + lines[last][end:]
        lines[first : last + 1] = [
            line if line.strip() else line[len(line.rstrip("\r\n")) :] for line in _lines(merged)
        ]
    return "".join(lines)


def strip_comments(source: str) -> str:
    """Comments cut off their lines, but for ``#!`` and the encoding declaration."""
    lines = _lines(source)
    tokens = tokenize.generate_tokens(io.StringIO(source).readline)
    for token in tokens:
        if token.type != tokenize.COMMENT:
            continue
        row, col = token.start
        if row == 1 and token.string.startswith("#!"):
            continue
        if row <= 2 and col == 0 and "coding" in token.string:
            continue  # PEP 263: the encoding declaration is read by the interpreter
        line = lines[row - 1]
        ending = line[len(line.rstrip("\r\n")) :]
        lines[row - 1] = line[:col].rstrip() + ending
    return "".join(lines)


def strip_source(source: str, name: str = "<source>") -> str:
    """``source`` without docstrings, string statements and comments, every line where it was;
    a SyntaxError names the file as ``name``."""
    lines = _lines(strip_comments(strip_docstrings(source, name)))
    while lines and not lines[-1].strip():
        lines.pop()  # trailing blank lines hold nothing a traceback can point at
    return "".join(lines)


def _record_hash(data: bytes) -> str:
    digest = hashlib.sha256(data).digest()
    return "sha256=" + base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def record_line(name: str, data: bytes) -> str:
    """The RECORD row of one file of a wheel: name, hash, size (csv, newline-terminated)."""
    row = io.StringIO()
    csv.writer(row, lineterminator="\n").writerow([name, _record_hash(data), len(data)])
    return row.getvalue()


def rewrite_wheel(
    wheel: Path,
    target: Path,
    change: Callable[[str, bytes], bytes | None],
    compresslevel: int | None = COMPRESSLEVEL,
) -> None:
    """Write ``target``: ``wheel`` with each entry's data passed through ``change(name, data)``
    (None leaves the entry out), RECORD made anew, order and dates kept; ``compresslevel`` None
    is zlib's default, the one the wheel was built with."""
    with zipfile.ZipFile(wheel) as source:
        entries = [(info, source.read(info)) for info in source.infolist()]
    record_name = next(info.filename for info, _ in entries if info.filename.endswith("/RECORD"))
    kept: list[tuple[zipfile.ZipInfo, bytes]] = []
    for info, data in entries:
        changed = data if info.filename == record_name else change(info.filename, data)
        if changed is not None:
            kept.append((info, changed))
    record = io.StringIO()
    for info, data in kept:
        if info.filename == record_name:
            record.write(f"{info.filename},,\n")
        else:
            record.write(record_line(info.filename, data))
    with zipfile.ZipFile(target, "w") as out:
        for info, data in kept:
            copy = zipfile.ZipInfo(info.filename, date_time=info.date_time)
            copy.external_attr = info.external_attr
            copy.create_system = info.create_system
            copy.compress_type = zipfile.ZIP_DEFLATED
            if info.filename == record_name:
                data = record.getvalue().encode("utf-8")
            out.writestr(copy, data, compresslevel=compresslevel)


def strip_module(name: str, data: bytes) -> bytes:
    """A wheel entry with its modules stripped (``strip_source``), other files as they are."""
    if name.endswith(".py") and ".dist-info/" not in name:
        return strip_source(data.decode("utf-8"), name).encode("utf-8")
    return data


def slim_wheel(wheel: Path) -> tuple[int, int]:
    """Rewrite ``wheel`` in place with stripped modules; return its size before and after."""
    before = wheel.stat().st_size
    slim = wheel.with_suffix(".slim")
    rewrite_wheel(wheel, slim, strip_module)
    slim.replace(wheel)
    return before, wheel.stat().st_size


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python tools/slim_wheel.py WHEEL", file=sys.stderr)
        return 2
    before, after = slim_wheel(Path(argv[0]))
    print(f"{argv[0]}: {before:,} B -> {after:,} B")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
