"""The shipped wheel's modules have no docstrings or comments, and lose nothing else: each line of
code keeps its number, column and text (so tracebacks point at the repository's lines), the
installed wheel passes the engine's and the station's tests, and the result is deterministic."""

from __future__ import annotations

import ast
import base64
import hashlib
import importlib.util
import io
import os
import subprocess
import sys
import tokenize
import zipfile
from pathlib import Path
from types import ModuleType

import buildscript
import pytest

ROOT = Path(__file__).resolve().parent.parent


def load_slim_wheel() -> ModuleType:
    spec = importlib.util.spec_from_file_location("slim_wheel", ROOT / "tools" / "slim_wheel.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


strip_source = load_slim_wheel().strip_source


class WithoutTextStatements(ast.NodeTransformer):
    """Drops string and ``...`` statements and the end positions of compound statements (a
    class whose last statement was its docstring ends earlier): what stripping may change."""

    def generic_visit(self, node: ast.AST) -> ast.AST:
        super().generic_visit(node)
        for field in ("body", "orelse", "finalbody"):
            statements = getattr(node, field, None)
            if isinstance(statements, list) and statements and isinstance(statements[0], ast.stmt):
                setattr(node, field, [s for s in statements if not is_text_or_ellipsis(s)])
        if isinstance(getattr(node, "body", None), list) and hasattr(node, "end_lineno"):
            node.end_lineno = node.end_col_offset = None
        return node


def is_text_or_ellipsis(statement: ast.stmt) -> bool:
    return (
        isinstance(statement, ast.Expr)
        and isinstance(statement.value, ast.Constant)
        and (isinstance(statement.value.value, str) or statement.value.value is Ellipsis)
    )


def code_positions(source: str) -> str:
    """Every node of the program but its text statements, with lines and columns."""
    tree = WithoutTextStatements().visit(ast.parse(source))
    return ast.dump(tree, include_attributes=True)


def comments(source: str) -> list[str]:
    tokens = tokenize.generate_tokens(io.StringIO(source).readline)
    return [token.string for token in tokens if token.type == tokenize.COMMENT]


def docstrings(source: str) -> list[str]:
    kinds = (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)
    return [
        text
        for node in ast.walk(ast.parse(source))
        if isinstance(node, kinds) and (text := ast.get_docstring(node)) is not None
    ]


def kept(line: str, source_line: str) -> bool:
    """A stripped line is blank, the start of its source line (a comment cut off), or holds the
    placeholder of a docstring."""
    return not line.strip() or source_line.startswith(line) or "..." in line


def run_both(source: str, call: str) -> tuple[object, object]:
    """``call`` evaluated in the original and in the stripped module."""
    results = []
    for text in (source, strip_source(source)):
        namespace: dict[str, object] = {}
        exec(compile(text, "<m>", "exec"), namespace)
        results.append(eval(call, namespace))
    return results[0], results[1]


# --------------------------------------------------------------------------- strip_source


SAMPLE = '''#!/usr/bin/env python3
# -*- coding: utf-8 -*-
"""Module docstring,
over two lines."""

from __future__ import annotations

import math  # why math


class Only:
    """Only a docstring: the class keeps a statement."""


class Shape:
    """A shape → with a non-ASCII docstring."""

    sides = 4  # a comment after code
    """An attribute's docstring (a string statement the compiler drops)."""

    def area(self, size: float) -> float:
        """Area; the next line has code."""
        return size**self.sides / 2  # comment

    def text(self) -> str:
        return """not a docstring: an expression value\x20\x20\x20
        # with a hash and trailing blanks   """

    def hashes(self) -> str:
        return f"#{self.sides}" + "# not a comment" + '\\u2028'


def one_liner(): """Docstring on the def line."""; return "one"


def empty():
    """Nothing but this."""


def sep():
    return "a\x0cb"  # a form feed in a string does not end a line


if math.pi > 3:
    "a string statement in a branch"
else:
    pass
'''


def test_stripped_source_has_no_docstrings_or_comments_but_the_header() -> None:
    stripped = strip_source(SAMPLE)
    assert docstrings(stripped) == []
    assert comments(stripped) == ["#!/usr/bin/env python3", "# -*- coding: utf-8 -*-"]
    assert "An attribute's docstring" not in stripped
    assert "a string statement in a branch" not in stripped


def test_every_line_of_code_keeps_its_number_column_and_text() -> None:
    stripped = strip_source(SAMPLE)
    assert code_positions(stripped) == code_positions(SAMPLE)
    original_lines = SAMPLE.split("\n")
    for number, line in enumerate(stripped.split("\n")):
        assert kept(line, original_lines[number]), (number + 1, line)
    assert len(stripped.split("\n")) <= len(original_lines)


def test_strings_that_are_values_are_kept_byte_for_byte() -> None:
    original, stripped = run_both(SAMPLE, "Shape().text()")
    assert original == stripped and original.endswith("trailing blanks   ")
    assert "   \n" in original  # the blanks at the end of a line inside the string survive
    assert run_both(SAMPLE, "Shape().hashes()") == ("#4# not a comment\u2028",) * 2


def test_behaviour_is_the_same_and_only_docstrings_are_gone() -> None:
    assert run_both(SAMPLE, "Shape().area(2.0)") == (8.0, 8.0)
    assert run_both(SAMPLE, "one_liner()") == ("one", "one")
    assert run_both(SAMPLE, "empty()") == (None, None)
    assert run_both(SAMPLE, "sep()") == ("a\x0cb", "a\x0cb")
    assert run_both(SAMPLE, "(Only.__doc__, empty.__doc__, globals().get('__doc__'))") == (
        (
            "Only a docstring: the class keeps a statement.",
            "Nothing but this.",
            "Module docstring,\nover two lines.",
        ),
        (None, None, None),
    )


def test_a_body_left_empty_gets_a_placeholder_and_code_sharing_a_line_stays() -> None:
    stripped = strip_source(SAMPLE).split("\n")
    assert stripped[SAMPLE.split("\n").index("class Only:") + 1] == "    ..."
    original = next(line for line in SAMPLE.split("\n") if line.startswith("def one_liner"))
    line = next(line for line in stripped if line.startswith("def one_liner"))
    assert line.startswith("def one_liner(): ... ") and line.endswith('; return "one"')
    assert len(line) == len(original)  # the return statement keeps its column


def test_a_string_followed_by_code_on_its_last_line_is_left_alone() -> None:
    source = 'def f():\n    """two\n    lines"""; return 1\n'
    assert strip_source(source) == source


def test_a_syntax_error_names_the_file() -> None:
    with pytest.raises(SyntaxError) as error:
        strip_source("def broken(:\n", "pkg/broken.py")
    assert error.value.filename == "pkg/broken.py"


# --------------------------------------------------------------------------- the shipped wheel


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return buildscript.load().build_wheel(tmp_path_factory.mktemp("wheel"))


def modules(wheel: Path) -> dict[str, str]:
    with zipfile.ZipFile(wheel) as archive:
        return {
            name: archive.read(name).decode("utf-8")
            for name in archive.namelist()
            if name.endswith(".py")
        }


def test_the_wheels_modules_keep_every_line_of_code_where_the_source_has_it(wheel: Path) -> None:
    shipped = modules(wheel)
    assert "ocpp_core/chargepoint.py" in shipped and "sim/station.py" in shipped
    for name, text in shipped.items():
        source = (ROOT / name).read_text(encoding="utf-8")
        assert docstrings(text) == [] and comments(text) == [], name
        assert code_positions(text) == code_positions(source), name
        source_lines = source.split("\n")
        for number, line in enumerate(text.split("\n")):
            assert kept(line, source_lines[number]), (name, number + 1)


def test_the_record_matches_the_stripped_files(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        record_name = next(n for n in archive.namelist() if n.endswith(".dist-info/RECORD"))
        rows = [line.split(",") for line in archive.read(record_name).decode().splitlines()]
        assert sorted(row[0] for row in rows) == sorted(archive.namelist())
        for name, digest, size in rows:
            if name == record_name:
                assert (digest, size) == ("", "")
                continue
            data = archive.read(name)
            expected = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
            assert digest == "sha256=" + expected.decode()
            assert int(size) == len(data)


def test_slimming_is_deterministic_and_idempotent(wheel: Path, tmp_path: Path) -> None:
    """The same input gives the same bytes (the plain wheel already did); slimming the shipped
    wheel again changes nothing."""
    slim = load_slim_wheel()
    copies = [tmp_path / "a" / wheel.name, tmp_path / "b" / wheel.name]
    for copy in copies:
        copy.parent.mkdir()
        copy.write_bytes(wheel.read_bytes())
        slim.slim_wheel(copy)
    assert copies[0].read_bytes() == copies[1].read_bytes() == wheel.read_bytes()


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel installed by pip into a directory of its own (no bytecode compiled)."""
    target = tmp_path_factory.mktemp("site")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-compile",
            "--target",
            str(target),
            str(wheel),
        ],
        check=True,
    )
    return target


def python_on(site: Path, code: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run ``code`` with ``site`` ahead of everything (the repository's source not on the path:
    no current directory, safe path)."""
    env = {**os.environ, "PYTHONPATH": str(site), "PYTHONSAFEPATH": "1"}
    env.pop("PYTHONSTARTUP", None)
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


TRACEBACK = """
import json, traceback
from ocpp_core import ChargePoint, StationIdentity
try:
    ChargePoint(identity=StationIdentity(vendor="V", model="M"), version="9.9")
except ValueError as error:
    frames = traceback.extract_tb(error.__traceback__)[1:]
    print(json.dumps([(f.filename.rsplit("ocpp_core", 1)[1], f.lineno, f.colno, f.end_colno,
                       f.line) for f in frames]))
"""


def test_a_traceback_from_the_wheel_matches_the_one_from_the_source(
    installed: Path, tmp_path: Path
) -> None:
    from_wheel = python_on(installed, TRACEBACK, tmp_path)
    from_source = python_on(ROOT, TRACEBACK, tmp_path)
    assert from_wheel.returncode == 0 and from_source.returncode == 0, from_wheel.stderr
    assert from_wheel.stdout == from_source.stdout
    assert "/assembly.py" in from_wheel.stdout and "raise ValueError(" in from_wheel.stdout


BEHAVIOUR_TESTS = (
    "test_rpc.py",
    "test_boot.py",
    "test_heartbeat.py",
    "test_transactions.py",
    "test_tx_message_ids.py",
    "test_smart_charging.py",
    "test_station.py",
)

RUN_TESTS = """
import sys, pytest, ocpp_core, sim
site = sys.argv[1]
assert ocpp_core.__file__.startswith(site) and sim.__file__.startswith(site), ocpp_core.__file__
code = pytest.main(["-q", "-p", "no:cacheprovider", "--rootdir", sys.argv[2], *sys.argv[3:]])
loaded = [m.__file__ for n, m in sys.modules.items() if n.split(".")[0] in ("ocpp_core", "sim")]
assert all(path.startswith(site) for path in loaded if path), loaded
sys.exit(code)
"""


def test_the_installed_wheel_passes_the_engine_and_station_tests(
    installed: Path, tmp_path: Path
) -> None:
    tests = [str(ROOT / "tests" / name) for name in BEHAVIOUR_TESTS]
    code = (
        RUN_TESTS.replace("sys.argv[1]", repr(str(installed)))
        .replace("sys.argv[2]", repr(str(ROOT)))
        .replace("*sys.argv[3:]", ", ".join(repr(t) for t in tests))
    )
    result = python_on(installed, code, tmp_path)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert " passed" in result.stdout and " failed" not in result.stdout
