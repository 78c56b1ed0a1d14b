"""tomlparse agrees with tomllib: the same values (types, key order, time zones) or the same error.

rtoml reads TOML 1.1 and differs from tomllib in known ways; tomlparse must hide every one of
them. Differential tests on generated documents, the samples and a list of edge cases compare
``tomlparse.loads`` with ``tomllib.loads``, and the fallback is checked when rtoml refuses,
panics or is missing.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
import pathlib
import tomllib
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from piachange import tomlparse

from conftest import EXAMPLE_002, ROOT, SAMPLES
from test_fuzz_documents import FUZZ, mutated_sample, structured_doc, toml_soup


def outcome(text: str) -> tuple[Any, ...]:
    """Return what ``tomllib.loads`` makes of text: ("ok", typed tree) or ("error", type, message)."""
    return _run(tomllib.loads, text)


def _run(loads: Any, text: str) -> tuple[Any, ...]:
    try:
        return ("ok", _typed(loads(text)))
    except (ValueError, RecursionError) as e:
        return ("error", type(e).__name__, str(e))


def _typed(v: Any) -> Any:
    """Return a tree that compares equal only if types, key order, NaN, -0.0 and tzinfo classes agree."""
    if isinstance(v, dict):
        return ("table", [(k, _typed(x)) for k, x in v.items()])
    if isinstance(v, list):
        return ("array", [_typed(x) for x in v])
    if isinstance(v, float):
        return ("float", "nan" if math.isnan(v) else repr(v))
    if isinstance(v, dt.datetime):
        return ("datetime", repr(v), type(v.tzinfo).__name__)
    return (type(v).__name__, repr(v))


def assert_agrees(text: str) -> None:
    assert _run(tomlparse.loads, text) == outcome(text), repr(text)


# ---------------------------------------------------------------- generated documents

_NEWLINE = st.sampled_from(["\n", "\r\n", "\r\r\n"])
_SPELLING = {"a": ["a", '"a"', " a "], "b": ["b", "'b'"], "c.d": ['"c.d"', "'c.d'"], "": ['""', "''"]}
_TREE = [p for n in (1, 2, 3) for p in itertools.product(_SPELLING, repeat=n)]


@st.composite
def headed_doc(draw: st.DrawFn) -> str:
    """Return tables declared in any order (often after their descendants), some as arrays of tables."""
    lines = []
    for path in draw(st.lists(st.sampled_from(_TREE), unique=True, max_size=8)):
        head = ".".join(draw(st.sampled_from(_SPELLING[k])) for k in path)
        lines.append(draw(st.sampled_from([f"[{head}]", f"[{head}]", f"[[{head}]]", f"  [{head}] # c"])))
        lines.append(draw(st.sampled_from(["k = 1", "b.k = 2", "s = '''\n[a]\n'''", "[[a]]", ""])))
    return draw(_NEWLINE).join(lines)


_PLAIN = st.one_of(
    st.integers(-(2**70), 2**70).map(str),
    st.floats().map(repr),
    st.from_regex(r"[+-]?(0|[1-9](_?[0-9]){0,20})(\.[0-9](_?[0-9]){0,20})?([eE][+-]?[0-9]{1,3})?", fullmatch=True),
    st.from_regex(r"0x[0-9a-fA-F_]{1,20}|0o[0-7_]{1,25}|0b[01_]{1,70}", fullmatch=True),
    st.dates().map(str),
    st.text(max_size=12).map(lambda s: '"' + s.replace('"', "").replace("\\", "") + '"'),
    st.text(max_size=12).map(lambda s: "'''" + s.replace("'", "") + "'''"),
)
# each of these is a reason for tomlparse to leave the document to tomllib
_SPECIAL = st.one_of(
    st.tuples(st.datetimes(), st.sampled_from(["", "Z", "+09:00", "-00:30"])).map(lambda t: t[0].isoformat() + t[1]),
    st.times().map(str),
    st.sampled_from(["09:00", "2024-01-02T09:00", "2024-01-02 09:00:00+09:00"]),
    st.sampled_from(['"\\e"', '"\\x41"', '"\\u00e9\\n"', '"""\\e"""']),
    st.sampled_from(["{ x = 1 }", "{ x = 1, }", "{\nx = 1\n}", "{ x = { y = 2, } }", "[{ x = 1 }]"]),
    st.sampled_from(["'''\r\nx\r\ny'''", '"""x\r\ny"""', "'''x\ry'''"]),
)


@st.composite
def scalar_doc(draw: st.DrawFn) -> str:
    """Return keys with values of every kind, one of them special, and now and then a BOM or CRs."""
    values = draw(st.lists(_PLAIN, max_size=5))
    values.insert(draw(st.integers(0, len(values))), draw(_SPECIAL))
    newline = draw(st.sampled_from(["\n", "\n", "\n", "\r\n", "\r\r\n"]))
    return draw(st.sampled_from(["", "", "", "\ufeff"])) + "".join(f"k{i} = {v}{newline}" for i, v in enumerate(values))


@FUZZ
@given(headed_doc())
def test_tables_in_any_order_parse_as_tomllib_parses_them(text: str) -> None:
    assert_agrees(text)


@FUZZ
@given(scalar_doc())
def test_values_of_every_kind_parse_as_tomllib_parses_them(text: str) -> None:
    assert_agrees(text)


@FUZZ
@given(st.one_of(toml_soup, structured_doc()))
def test_token_soup_and_form_shaped_documents_parse_as_tomllib_parses_them(text: str) -> None:
    assert_agrees(text)


@FUZZ
@given(mutated_sample())
def test_mutated_samples_parse_as_tomllib_parses_them(raw: bytes) -> None:
    assert_agrees(raw.decode("utf-8", "surrogateescape"))


# ---------------------------------------------------------------- the samples: same values, fast path taken


SAMPLE_FILES = [EXAMPLE_002, *sorted(SAMPLES.glob("*.toml")), *sorted((ROOT / "tests" / "cases").rglob("*.toml"))]


@pytest.mark.parametrize("path", SAMPLE_FILES, ids=lambda p: str(p.relative_to(p.parents[1])))
def test_samples_parse_as_tomllib_parses_them(path: pathlib.Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert_agrees(text)
    assert_agrees(text.replace("\n", "\r\n"))


@pytest.mark.parametrize("newline", ["\n", "\r\n"], ids=["LF", "CRLF"])
@pytest.mark.parametrize("path", [EXAMPLE_002, *sorted(SAMPLES.glob("*.toml"))], ids=lambda p: p.name)
def test_canonical_files_take_the_fast_path(path: pathlib.Path, newline: str, monkeypatch: pytest.MonkeyPatch) -> None:
    text = path.read_text(encoding="utf-8").replace("\n", newline)
    expected = tomllib.loads(text)
    monkeypatch.setattr(tomlparse.tomllib, "loads", _must_not_run)
    assert tomlparse.loads(text) == expected


def _must_not_run(text: str) -> Any:
    raise AssertionError("fell back to tomllib")


# ---------------------------------------------------------------- edge cases

EDGE_CASES = [
    # TOML 1.1, which rtoml reads and tomllib refuses
    "a = {b = 1,}", "a = {\nb = 1\n}", "a = {b = 1, # c\n}", 'a = "\\e"', 'a = "\\x41"', 'a = """\\x41"""',
    "a = 03:04", "a = 2024-01-02T03:04", "a = 2024-01-02 03:04+09:00", "\ufeffa = 1",
    # values whose Python form differs: CRLF in multi-line strings, tzinfo, overflow
    "a = '''x\r\ny'''", 'a = """x\r\ny"""', "a = '''\r\nx'''", "a = 2024-01-02T03:04:05+09:00", "a = 2024-01-02T03:04:05Z",
    "a = 2024-01-02T03:04:05-00:00", "a = 1979-05-27T07:32:00.999999999+01:00", "a = 2024-01-02T03:04:05.1234567",
    "a = 03:04:05.5", "a = 2024-01-02 03:04:05", "a = 2024-01-02", "a = 1e400", "a = -1e400", "a = 1e-400",
    "a = 18446744073709551616", "a = -9223372036854775809", "a = 0x" + "f" * 40, "a = " + "9" * 100, "a = " + "9" * 5000,
    "a = nan", "a = -nan", "a = +inf", "a = -0.0", "a = 5e-324", "a = 3.14159265358979323846",
    "s = '8:30～17:15'\n", "s = '8:30'\nt = 08:30:00", "s = '8:30'\nt = 2024-01-01T08:30:00+09:00",
    # tables declared after their descendants: rtoml moves them, and lets dotted keys into arrays
    "[a.b]\n[c]\n[a]", "[c.d]\n[a.b]\n[c]", "[p]\n[p.a.b]\n[p.c]\n[p.a]", "[[x._]]\n[y]\n[x]", '["".a]\n[z]\n[""]',
    "[[a.b]]\n[a]\nb.c = 1", "[[a]]\n[a.b.c]\n[a.z]\n[a.b]", "[a.b.c]\n  z = 9\n[a]\n  b.c.t = 1", "[ a . b ]\n[z]\n[ a ]",
    "[a.b]\ns = '''\n[[a]]\n'''\n[z]\n[a]", "['a.b'.c]\n[z]\n['a.b']", "[[a]]\n[a.b]\n[[a]]\n[a.b]",
    # errors both must report, tomllib's message standing
    "a = 1\na = 2", "[a]\n[a]", "[a]\nb=1\n[a.b]", "a.b = 1\n[a]", "a = 01", "a = 1__0", "a = 1.", "a = NaN",
    "a = 0O7", "a = -0x1", "a = 0x_ff", 'a = "a\rb"', 'a = "a\x7fb"', "# c\x01\na=1", "a = 1\rb = 2", "a = 1\r\r\n",
    'a = "\\uD800"', 'a = "\\u00"', "a = True", "a = [1 2]", "[]", "[a.]", "[ [a] ]", "[a]b=1", "[[a]]\n[a]",
    "a = [1]\n[[a]]", "a = 2024-02-30", "a = 0000-01-01", "a = 24:00:00", "a = 23:59:60", "キー = 1",
    "a = [{ b = 1 }]\n[a.c]", "a = 1 b = 2", "a = 1\n\n\x00", "a = '''x", 'a = "x',
    # deep nesting: rtoml stops early, tomllib's RecursionError (or value) stands
    "a = " + "[" * 90 + "]" * 90, "a = " + "[" * 10_000 + "]" * 10_000, "a = " + "[" * 10_000,
    # the empty and the plain
    "", "\n", "# only a comment", "a = 1", "a = 1\r\n", 'k = "値"\n[表]\n', '"表" = 1', "a = \"\ud800\"",
]


@pytest.mark.parametrize("text", EDGE_CASES, ids=lambda t: repr(t)[1:41])
def test_edge_cases_parse_as_tomllib_parses_them(text: str) -> None:
    assert_agrees(text)


def test_offset_datetimes_carry_the_standard_timezone() -> None:
    value = tomlparse.loads("a = 2024-01-02T03:04:05+09:00")["a"]
    assert type(value.tzinfo) is dt.timezone  # the cache unpickles only the standard datetime types


# ---------------------------------------------------------------- the fallback


class _Refusing:
    def __init__(self, error: BaseException) -> None:
        self.error = error
        self.asked = 0

    def loads(self, text: str) -> Any:
        self.asked += 1
        raise self.error


class _Panic(BaseException):
    """Like pyo3's PanicException, which is not an Exception."""


@pytest.mark.parametrize("error", [ValueError("refused"), RuntimeError("bug"), _Panic("panicked")], ids=lambda e: type(e).__name__)
@pytest.mark.parametrize("text", ["a = 1\n[b]\nc = 2024-01-01\n", "a = 1\na = 2\n", "a = [\n"])
def test_tomllib_answers_when_rtoml_raises(text: str, error: BaseException, monkeypatch: pytest.MonkeyPatch) -> None:
    refusing = _Refusing(error)
    monkeypatch.setattr(tomlparse, "rtoml", refusing)
    assert_agrees(text)
    assert refusing.asked == 1


def test_an_interrupt_is_not_a_refusal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tomlparse, "rtoml", _Refusing(KeyboardInterrupt()))
    with pytest.raises(KeyboardInterrupt):
        tomlparse.loads("a = 1")


@pytest.mark.parametrize("text", ["a = 1\n[b]\nc = 2024-01-01\n", "a = 1\na = 2\n", EXAMPLE_002.read_text(encoding="utf-8")])
def test_without_rtoml_tomllib_does_it_all(text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tomlparse, "rtoml", None)
    assert_agrees(text)


def test_only_tomlparse_imports_rtoml() -> None:
    importers = [p.name for p in (ROOT / "piachange").rglob("*.py") if "import rtoml" in p.read_text(encoding="utf-8")]
    assert importers == ["tomlparse.py"]


@pytest.mark.parametrize(("raw", "line"), [
    (b'[meta]\rform = "juten"\r', 1),  # every line (an old Mac file)
    (b'[meta]\nform = "juten"\r\n\n[cover]\rtitle = "x"\n', 4),  # one line among LF and CRLF ones
])
def test_a_line_ending_in_cr_alone_is_named(raw: bytes, line: int) -> None:
    from piachange.document import load_bytes
    from piachange.errors import DocumentError

    with pytest.raises(DocumentError) as e:
        load_bytes(raw, "a.toml")
    (problem,) = e.value.problems
    assert problem.line == line
    assert problem.message.endswith("a line ends with CR alone (as on old Macs); save the file with LF or CRLF line endings")
