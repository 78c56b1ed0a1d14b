"""Fuzzing the document layer: whatever the bytes, only PiaError, and every problem is located.

Inputs: random bytes, TOML-looking token soup, and random mutations of the real samples.
Properties: ``load_bytes`` and ``check_paths`` raise nothing but ``PiaError`` (``DocumentError``);
every Problem names its file and a line between 0 and the end of the file; a document that
loads also formats, and its canonical text loads back to the same data.
200 examples per test by default; ``HYPOTHESIS_PROFILE=long`` runs 5000.
"""

from __future__ import annotations

import json
import os
import pathlib
import re
import tempfile

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from piachange.document import Document, load_bytes
from piachange.errors import PiaError, Problem
from piachange.fmt import format_document
from piachange.schema import FORM_KINDS, load_form
from piachange.workspace import check_paths

from conftest import EXAMPLE_002, SAMPLES

_HEALTH = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example, HealthCheck.filter_too_much]
try:  # another test module may have registered it first
    settings.get_profile("long")
except InvalidArgument:
    settings.register_profile("long", max_examples=3000, deadline=None, suppress_health_check=_HEALTH)
LONG = os.environ.get("HYPOTHESIS_PROFILE") == "long"
FUZZ = settings(max_examples=5000 if LONG else 200, deadline=None, suppress_health_check=_HEALTH, database=None)

SAMPLE_BYTES = [EXAMPLE_002.read_bytes(), *(p.read_bytes() for p in sorted(SAMPLES.glob("*.toml")))]
FILE = "assessments/fuzz.toml"

# ---------------------------------------------------------------- strategies

_KEYS = sorted({part for kind in FORM_KINDS for n in load_form(kind).nodes for part in n.path.split(".")} | {"meta", "form", "rows"})
_TOKENS = [
    "[", "]", "[[", "]]", "=", " = ", ".", ",", "{", "}", "\n", "\r\n", "\r", "#", "# コメント", '"', "'", '"""', "'''",
    "\\", "\\n", "\\u00e9", "\\U0001F600", "\\q", "true", "false", "0", "01", "-1", "1_000", "0x1F", "1e400", "nan", "inf",
    "2024-04-01", "2024-02-30", "2024-04-01T09:00:00+09:00", "09:00", "令和6年4月1日", "平成36年", "令和0年",
    '"juten"', '"zenkomoku"', '"kiso"', "ｔｉｔｌｅ", "２", "\ufeff", "\x00", "\x7f", "\u3000", " ", "\t",
    "事前", "十分である",
]
_token = st.one_of(st.sampled_from(_TOKENS), st.sampled_from(_KEYS), st.text(max_size=4))
toml_soup = st.lists(_token, max_size=80).map("".join)
headed_soup = st.tuples(st.sampled_from(FORM_KINDS), toml_soup).map(lambda t: f'[meta]\nform = "{t[0]}"\n{t[1]}')

# well-formed TOML over the forms' own paths with values of random kinds: reaches the validator
_PATHS = sorted({n.path for kind in FORM_KINDS for n in load_form(kind).nodes})
_INSTANCE = st.sampled_from(["1", "2", "3", "20", "21", "0", "01", "２", "a", ""])
_VALUE = st.one_of(
    st.sampled_from(['""', '"x"', '"十分である"', '"令和6年2月30日"', '"平成36年"', "2024-04-01", "1800-01-01", "09:00:00",
                     "2024-04-01T09:00:00", "0", "-1", "1.5", "true", "[]", '["a", 1]', "[[]]", "{}", "{ a = 1 }",
                     '[{ heading = "h", items = ["x"] }]', '{ rows = [{ timing = "事中" }] }', "nan"]),
    st.text(max_size=6).map(lambda s: _quoted(s)),
)


def _quoted(s: str) -> str:
    """Return a TOML basic string (JSON's escapes are TOML's, except that DEL must be escaped too)."""
    return json.dumps(s, ensure_ascii=False).replace("\x7f", "\\u007f")


def _key(part: str) -> str:
    return part if re.fullmatch(r"[A-Za-z0-9_-]+", part) else _quoted(part)


@st.composite
def structured_doc(draw: st.DrawFn) -> str:
    """Return valid TOML syntax whose keys are (mostly) form paths and whose values are of any kind."""
    lines = ["[meta]", f'form = "{draw(st.sampled_from(FORM_KINDS))}"']
    seen: set[str] = set()
    for _ in range(draw(st.integers(0, 12))):
        parts = [draw(_INSTANCE) if p == "*" else p for p in draw(st.sampled_from(_PATHS)).split(".")]
        if draw(st.booleans()):
            parts.append(draw(st.sampled_from(_KEYS)))
        table, key = ".".join(map(_key, parts[:-1])), _key(parts[-1])
        if not table or table in seen or any(s.startswith(table + ".") or table.startswith(s + ".") for s in seen):
            continue  # keep it valid TOML: one header per table, no key/table clashes
        seen.add(table)
        lines += ["", f"[{table}]", f"{key} = {draw(_VALUE)}"]
    return "\n".join(lines) + "\n"


@st.composite
def mutated_sample(draw: st.DrawFn) -> bytes:
    """Return a real sample with a few random edits: cut, insert, duplicate, swap, overwrite, truncate."""
    raw = bytearray(draw(st.sampled_from(SAMPLE_BYTES)))
    for _ in range(draw(st.integers(1, 4))):
        n = len(raw)
        at = draw(st.integers(0, n))
        op = draw(st.sampled_from(["cut", "insert", "dup-line", "swap-lines", "overwrite", "truncate"]))
        if op == "cut":
            del raw[at : at + draw(st.integers(1, 40))]
        elif op == "insert":
            piece = draw(st.one_of(_token.map(lambda s: s.encode("utf-8", "surrogatepass")), st.binary(max_size=8)))
            raw[at:at] = piece
        elif op in ("dup-line", "swap-lines"):
            lines = bytes(raw).split(b"\n")
            i, j = draw(st.integers(0, len(lines) - 1)), draw(st.integers(0, len(lines) - 1))
            if op == "dup-line":
                lines.insert(j, lines[i])
            else:
                lines[i], lines[j] = lines[j], lines[i]
            raw = bytearray(b"\n".join(lines))
        elif op == "overwrite" and n:
            raw[min(at, n - 1)] = draw(st.integers(0, 255))
        elif op == "truncate":
            del raw[at:]
    return bytes(raw)


any_input = st.one_of(st.binary(max_size=2000), toml_soup.map(str.encode), structured_doc().map(str.encode), mutated_sample())

# ---------------------------------------------------------------- properties


def assert_located(problems: list[Problem], file: str, raw: bytes) -> None:
    assert problems, "an error without a problem"
    last = raw.count(b"\n") + 1
    for p in problems:
        assert p.file == file, p
        assert 0 <= p.line <= last, (p, last)
        assert p.message, p
        shown = str(p)  # what the user sees: one line, however the file is made
        assert shown.startswith(file) and "\n" not in shown and "\x1b" not in shown, p


def load_or_problems(raw: bytes) -> Document | None:
    """Load ``raw``; assert that a failure is a located PiaError (anything else fails the test)."""
    try:
        return load_bytes(raw, FILE)
    except PiaError as e:
        assert_located(e.problems, FILE, raw)
        return None


def assert_formats(doc: Document) -> None:
    text = format_document(doc)
    again = load_bytes(text.encode("utf-8"), FILE)
    assert again.data == doc.data
    assert format_document(again) == text


@FUZZ
@given(st.binary(max_size=4000))
def test_random_bytes(raw: bytes) -> None:
    load_or_problems(raw)


@FUZZ
@given(st.one_of(toml_soup, headed_soup))
def test_toml_looking_text(text: str) -> None:
    raw = text.encode("utf-8", "surrogatepass")
    doc = load_or_problems(raw)
    if doc is not None:
        assert_formats(doc)


@FUZZ
@given(structured_doc())
def test_structured_documents(text: str) -> None:
    doc = load_or_problems(text.encode("utf-8"))
    if doc is not None:
        assert_formats(doc)


@FUZZ
@given(mutated_sample())
def test_mutated_samples(raw: bytes) -> None:
    doc = load_or_problems(raw)
    if doc is not None:
        assert_formats(doc)


@settings(FUZZ, max_examples=max(20, FUZZ.max_examples // 5))  # each example writes real files
@given(st.lists(any_input, min_size=1, max_size=4))
def test_check_paths_over_real_files(inputs: list[bytes]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        paths = []
        for i, raw in enumerate(inputs):
            p = pathlib.Path(tmp, f"{i}.toml")
            p.write_bytes(raw)
            paths.append(str(p))
        out = check_paths([tmp])  # a run over files reports, it does not raise
        assert out.files == len(inputs)
        for p in [*out.problems, *out.warnings]:
            assert p.file in paths, p
            raw = inputs[paths.index(p.file)]
            assert 0 <= p.line <= raw.count(b"\n") + 1, p
        # a file with the 評価書番号 of another is a problem of the two together, not of its own
        failed = {p.file for p in out.problems if "is also the number of" not in p.message}
        for path, raw in zip(paths, inputs):
            assert (path in failed) == (load_or_problems(raw) is None), path


def test_fmt_is_stable_when_meta_is_not_the_first_table() -> None:
    # found by the long profile (a line swap moved [[files.1.records]] above the head comments)
    doc = load_bytes(b'[cover]\ntitle = "x"\n\n# about meta\n[meta]\nform = "juten"\n', FILE)
    assert_formats(doc)


def test_a_changes_table_without_rows_is_completed() -> None:
    # found by the long profile: a cut joined "rows = []" to the comment of the [changes] header, and the
    # formatter wrote back the rows = [] the loaded data did not have
    from piachange.sections import Builder

    raw = EXAMPLE_002.read_bytes()
    assert raw.endswith(b"\nrows = []\n")
    cut = raw[: -len(b"\nrows = []\n")] + b"rows = []\n"
    doc = load_bytes(cut, FILE)
    assert doc.data["changes"] == {"rows": []}
    assert_formats(doc)
    built = Builder()
    built.load(raw, FILE)
    assert built.load(cut, FILE).data == doc.data == load_bytes(raw, FILE).data
