"""Property: for any valid document of any form kind, fmt is lossless and idempotent, and keeps comments.

Documents are generated from the form definitions (every node kind, random repeat instances,
records, attachments, 変更箇所 rows) and written as TOML by a deliberately different writer:
random string styles (basic, literal, multi-line), random key order, inline tables, dotted keys,
multi-line arrays and user comments. ``HYPOTHESIS_PROFILE=long`` runs many more examples.

A document has hundreds of leaves, so the shape and the plain values come from one seeded
``random.Random`` (few draws: fast), while the tricky texts are drawn by Hypothesis (so a
failure shrinks to the text that breaks the formatter) and spread over the leaves.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import re
import tomllib
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from piachange.document import load_bytes
from piachange.fmt import format_document
from piachange.schema import FORM_KINDS, Form, Node, load_form

_HEALTH = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example]
settings.register_profile("long", max_examples=2000, deadline=None, suppress_health_check=_HEALTH)
SETTINGS = (
    settings.get_profile("long")
    if os.environ.get("HYPOTHESIS_PROFILE") == "long"
    else settings(max_examples=60, deadline=None, suppress_health_check=_HEALTH)
)

# ---------------------------------------------------------------- texts

_JA = "あいうえおアイウエオ市長評価書特定個人情報①②⑳ⅡⅢ（）「」・、。ー〜　<>【】"
_TRICKY = ['"', "'", "''", "'''", '"""', "\\", "\\n", "\t", "\n", "\r\n", "\r", "#", " # ", "[", "]]", "=", "\x7f", "\x01", "\u2028", "\x85", "\\u0041"]
_chunk = st.one_of(
    st.text(alphabet=_JA, max_size=6),
    st.text(alphabet="abcXYZ019 .,-_/", max_size=6),
    st.sampled_from(_TRICKY),
    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=3),
)
TEXT = st.lists(_chunk, max_size=6).map("".join)
COMMENT = st.text(alphabet=_JA + "abc 019'\"#[]=\\\t", max_size=20)

# Values every document mixes in besides the drawn ones.
POOL = [
    "",
    "みなと台市健康福祉部 介護保険課",
    "番号法第9条第1項 別表の132の項",
    "・一行目\n・二行目\n<市における措置>\n①三行目",
    "ends with a quote'",
    'ends with a double quote"',
    "''' inside '''",
    '""" inside """',
    "back\\slash \\n not a newline",
    "tab\there\tand\tthere",
    "line\n\tindented\n",
    "\n starts with a newline",
    "'''\n'''",
    '"\n"""\n"',
    "ends\nwith two quotes''",
    "# not a comment",
    'key = "value"',
    "全角　スペースと（括弧）",
    "\r\nCRLF\r\n",
    "U+2028\u2028and\x1cfile separator\x85",
    "Ⅲ リスク1: 目的外の入手が行われるリスク",
]
IDS = ["1", "2", "別紙1", "a b", "x.y", "", "q\"'", "new\nline", "back\\slash"]


@dataclass
class Source:
    """Where a generated document takes its values from: a seeded random and drawn texts."""

    rnd: random.Random
    texts: list[str]
    comments: list[str]

    def text(self) -> str:
        return self.rnd.choice(self.texts if self.texts and self.rnd.random() < 0.5 else POOL)

    def comment(self) -> str:
        return self.rnd.choice(self.comments) if self.comments else ""

    def chance(self, p: float) -> bool:
        return self.rnd.random() < p


sources = st.builds(
    Source,
    st.integers(0, 2**32 - 1).map(random.Random),
    st.lists(TEXT, max_size=12),
    st.lists(COMMENT, max_size=4),
)

# ---------------------------------------------------------------- documents from the form definitions


def date_value(src: Source) -> Any:
    """Return a TOML date, a blank, 未定 or a partial 和暦 text (all accepted by the validator)."""
    r = src.rnd.random()
    if r < 0.6:
        return dt.date(1900, 1, 1) + dt.timedelta(days=src.rnd.randrange(73000))
    if r < 0.8:
        return ""
    return "未定" if r < 0.9 else f"令和{src.rnd.randint(1, 12)}年{src.rnd.randint(1, 12)}月"


def count_value(src: Source) -> Any:
    return "" if src.chance(0.3) else src.rnd.choice([0, 1, 2, 33, 10**12])


def leaf(src: Source, node: Node) -> Any:
    """Return a valid value for a leaf node."""
    rnd, kind = src.rnd, node.kind
    if kind in ("text", "period"):
        return src.text()
    if kind == "choice":
        return rnd.choice(["", *node.choices])
    if kind == "flag":
        return src.chance(0.5)
    if kind == "count":
        return count_value(src)
    if kind == "date":
        return date_value(src)
    if kind == "checks":
        out: dict[str, Any] = {}
        for key in node.option_keys():
            if src.chance(0.1):
                continue  # an omitted box is filled in by completion
            if key.endswith("_detail"):
                out[key] = src.text()
            elif key.endswith("_count"):
                out[key] = count_value(src)
            else:
                out[key] = src.chance(0.5)
        return out
    if kind == "list":
        return [
            {"heading": src.text(), "style": rnd.choice(["bullet", "numbered", "inline"]), "items": [src.text() for _ in range(rnd.randrange(4))]}
            for _ in range(rnd.randrange(3))
        ]
    if kind == "attachments":
        out = {}
        for _ in range(rnd.randrange(3)):
            att: dict[str, Any] = {
                "title": src.text(),
                "columns": [src.text() for _ in range(rnd.randrange(4))],
                "rows": [[src.text() for _ in range(rnd.randrange(4))] for _ in range(rnd.randrange(3))],
            }
            if src.chance(0.5):
                att["note"] = src.text()
            out[rnd.choice(IDS)] = att
        return out
    if kind == "changes":
        rows = []
        for _ in range(rnd.randrange(4)):
            row: dict[str, Any] = {"date": date_value(src), "item": src.text(), "before": src.text(), "after": src.text()}
            row["timing"] = rnd.choice(["事前", "事後", ""])
            for k in ("reason", "cause", "rule"):
                if src.chance(0.5):
                    row[k] = src.text()
            for k in ("paths", "commits"):
                if src.chance(0.3):
                    row[k] = [src.text() for _ in range(rnd.randrange(3))]
            rows.append(row)
        return {"rows": rows}
    raise AssertionError(f"no generator for {kind}")


def table(src: Source, form: Form, pattern: str) -> dict[str, Any]:
    """Return values for the children of the node at ``pattern``; some are left out (completion adds them)."""
    out: dict[str, Any] = {}
    for node in form.children.get(pattern, ()):
        if node.key == "*":
            numbers = src.rnd.sample(range(1, min(node.max or 20, 12) + 1), src.rnd.choice([0, 1, 1, 2]))
            for n in sorted(numbers):  # gaps are allowed (a warning, not an error)
                out[str(n)] = table(src, form, node.path)
            continue
        if src.chance(0.08):
            continue
        out[node.key] = table(src, form, node.path) if node.kind in ("group", "repeat") else leaf(src, node)
    return out


def document(src: Source, kind: str) -> dict[str, Any]:
    """Return a valid document tree of form ``kind``."""
    form = load_form(kind)
    meta: dict[str, Any] = {"form": kind, "schema_version": form.version}
    if src.chance(0.5):
        meta["source"] = src.text()
    return {"meta": meta, **table(src, form, "")}


# ---------------------------------------------------------------- an independent TOML writer


def _escape(s: str, multiline: bool) -> str:
    out = []
    for ch in s:
        if ch == "\\":
            out.append("\\\\")
        elif ch == '"':
            out.append('\\"')
        elif ch == "\n" and multiline:
            out.append("\n")
        elif ch == "\t":
            out.append("\t" if multiline else "\\t")
        elif ch in "\n\r\b\f":
            out.append({"\n": "\\n", "\r": "\\r", "\b": "\\b", "\f": "\\f"}[ch])
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04X}")
        else:
            out.append(ch)
    return "".join(out)


_PLAIN = re.compile(r"^[^\x00-\x08\x0a-\x1f\x7f]*\Z")
_BARE = re.compile(r"[A-Za-z0-9_-]+")


class Writer:
    """Write a document tree as TOML in a style chosen at random, sprinkling user comments."""

    def __init__(self, src: Source) -> None:
        self.src = src
        self.lines: list[str] = []
        self.comments: list[str] = []

    def comment(self) -> str:
        text = f"# USER{len(self.comments)} {self.src.comment()}".rstrip()
        self.comments.append(text)
        return text

    def maybe_above(self) -> None:
        if self.src.chance(0.15):
            self.lines.append(self.comment())

    def trailing(self) -> str:
        return "  " + self.comment() if self.src.chance(0.15) else ""

    def string(self, s: str, inline: bool = False) -> str:
        styles = ["basic"]
        if "'" not in s and _PLAIN.match(s):
            styles.append("literal")
        if not inline:
            styles.append("ml_basic")
            if "'''" not in s and _PLAIN.match(s.replace("\n", "")):
                styles.append("ml_literal")
        style = self.src.rnd.choice(styles)
        if style == "literal":
            return f"'{s}'"
        if style == "ml_literal":
            return "'''\n" + s + "'''"
        if style == "ml_basic":
            return '"""\n' + _escape(s, True) + '"""'
        return '"' + _escape(s, False) + '"'

    def value(self, v: Any, inline: bool = False) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, int):
            return str(v)
        if isinstance(v, dt.date):
            return v.isoformat()
        if isinstance(v, str):
            return self.string(v, inline)
        if isinstance(v, list):
            return "[" + ", ".join(self.value(x, True) for x in v) + "]"
        if isinstance(v, dict):
            return "{ " + ", ".join(f"{self.key(k)} = {self.value(x, True)}" for k, x in v.items()) + " }"
        raise TypeError(type(v))

    def key(self, k: str) -> str:
        if _BARE.fullmatch(k):
            return k
        if "'" not in k and _PLAIN.match(k) and self.src.chance(0.5):
            return f"'{k}'"
        return '"' + _escape(k, False) + '"'

    def header(self, path: list[str], double: bool = False) -> None:
        self.lines.append("")
        self.maybe_above()
        name = ".".join(self.key(p) for p in path)
        self.lines.append((f"[[{name}]]" if double else f"[{name}]") + self.trailing())

    def table(self, path: list[str], tree: dict[str, Any]) -> None:
        """Write scalars (shuffled; some tables inline or as dotted keys), then sub-tables and arrays of tables."""
        scalars, subs, aots = [], [], []
        for k, v in tree.items():
            if isinstance(v, dict) and (not path or not _flat(v) or (v and self.src.chance(0.75))):
                subs.append(k)
            elif isinstance(v, list) and v and all(isinstance(x, dict) for x in v) and self.src.chance(0.5):
                aots.append(k)
            else:
                scalars.append(k)
        self.src.rnd.shuffle(scalars)
        for k in scalars:
            v = tree[k]
            if isinstance(v, dict) and v and self.src.chance(0.5):
                for sub, x in v.items():  # dotted keys: connections.tax = true
                    self.maybe_above()
                    self.lines.append(f"{self.key(k)}.{self.key(sub)} = {self.value(x)}{self.trailing()}")
                continue
            self.maybe_above()
            self.lines.append(f"{self.key(k)} = {self.multiline(v)}{self.trailing()}")
        for k in subs:
            self.header([*path, k])
            self.table([*path, k], tree[k])
        for k in aots:
            for item in tree[k]:
                self.header([*path, k], double=True)
                self.table([*path, k], item)

    def multiline(self, v: Any) -> str:
        """Write some arrays over several lines, with comments between the elements."""
        if not isinstance(v, list) or not v or self.src.chance(0.5):
            return self.value(v)
        parts = ["["]
        for x in v:
            if self.src.chance(0.25):
                parts.append("  " + self.comment())
            parts.append(f"  {self.value(x, True)},")
        parts.append("]")
        return "\n".join(parts)


def _flat(v: dict[str, Any]) -> bool:
    """Return whether a table can be written inline (no sub-tables, no arrays of tables)."""
    return all(not isinstance(x, dict) and not (isinstance(x, list) and any(isinstance(y, dict) for y in x)) for x in v.values())


def write(src: Source, tree: dict[str, Any]) -> tuple[str, list[str]]:
    """Return the TOML text of ``tree`` and the user comments written into it."""
    w = Writer(src)
    for _ in range(src.rnd.randrange(3)):
        w.lines.append(w.comment())
    w.lines += ["", "[meta]"]
    w.lines += [f"{k} = {w.value(v)}" for k, v in tree["meta"].items()]
    w.table([], {k: v for k, v in tree.items() if k != "meta"})
    if src.chance(0.5):
        w.lines += ["", w.comment()]
    return "\n".join(w.lines) + "\n", w.comments


# ---------------------------------------------------------------- properties


@pytest.mark.parametrize("kind", FORM_KINDS)
def test_fmt_is_lossless_idempotent_and_keeps_comments(kind: str) -> None:
    @SETTINGS
    @given(sources)
    def prop(src: Source) -> None:
        text, comments = write(src, document(src, kind))
        doc = load_bytes(text.encode("utf-8"), "generated.toml")
        once = format_document(doc)
        again = load_bytes(once.encode("utf-8"), "formatted.toml")
        assert again.data == doc.data, "fmt lost or changed a value"
        assert format_document(again) == once, "fmt is not idempotent"
        lines = once.split("\n")  # TOML lines end at \n only; U+2028 inside a value is not a line break
        for c in comments:
            assert c in lines, f"user comment dropped: {c!r}"

    prop()


def test_the_generator_writes_what_it_generates() -> None:
    """The test's own writer is faithful: tomllib reads back exactly the tree it was given."""

    @SETTINGS
    @given(sources, st.sampled_from(FORM_KINDS))
    def prop(src: Source, kind: str) -> None:
        tree = document(src, kind)
        text, _ = write(src, tree)
        assert tomllib.loads(text) == tree

    prop()


def test_the_generator_reaches_every_kind_of_node() -> None:
    """Every node kind of every form gets a non-blank value in some generated document."""
    for kind in FORM_KINDS:
        form = load_form(kind)
        seen: set[str] = set()
        for seed in range(40):
            src = Source(random.Random(seed), ["x\ny'''"], ["note"])
            _collect(form, "", document(src, kind), seen)
        missing = {n.path for n in form.leaves()} - seen
        assert not missing, f"{kind}: never generated {sorted(missing)[:5]}"


def _collect(form: Form, pattern: str, tree: dict[str, Any], seen: set[str]) -> None:
    for node in form.children.get(pattern, ()):
        if node.key == "*":
            for k, v in tree.items():
                if k.isdigit():
                    _collect(form, node.path, v, seen)
        elif node.key in tree:
            v = tree[node.key]
            if node.kind in ("group", "repeat"):
                _collect(form, node.path, v, seen)
            elif v not in ("", [], {}, {"rows": []}):
                seen.add(node.path)
