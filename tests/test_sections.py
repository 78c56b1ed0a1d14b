"""Versions built section by section are exactly what load_bytes makes of them, or the same error."""

from __future__ import annotations

import copy
import functools
import os
import pathlib
import random
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from piachange.document import Document, load_bytes
from piachange.errors import DocumentError
from piachange.sections import Builder

from conftest import EXAMPLE_002, ROOT, SAMPLES
from docs_factory import base, system, text, with_systems

BASE = text(base())


def same(a: Any, b: Any, path: tuple = ()) -> None:
    """Assert equal values of the same types with keys in the same order (== alone forgives 1 == True)."""
    assert type(a) is type(b), path
    if isinstance(a, dict):
        assert list(a) == list(b), path
        for k in a:
            same(a[k], b[k], (*path, k))
    elif isinstance(a, list):
        assert len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b)):
            same(x, y, (*path, i))
    else:
        assert a == b, path


def outcome(load: Any, raw: bytes) -> Document | str:
    try:
        return load(raw, "a.toml", "c0ffee")
    except DocumentError as e:
        return "\n".join(str(p) for p in e.problems)


def check(builder: Builder, raw: bytes) -> Document | str:
    got, want = outcome(builder.load, raw), outcome(load_bytes, raw)
    if isinstance(want, str):
        assert got == want
    else:
        assert isinstance(got, Document) and got.form is want.form
        same(got.data, want.data)
    return got


def samples() -> list[pathlib.Path]:
    return [*sorted(SAMPLES.glob("*.toml")), EXAMPLE_002, *sorted((ROOT / "tests" / "cases").glob("*/*.toml")),
            *sorted((ROOT / "tests" / "bad").glob("*.toml"))]


def test_every_sample_and_bad_input_alone_and_after_the_others() -> None:
    shared = Builder()
    for p in samples():
        raw = p.read_bytes()
        check(Builder(), raw)
        check(shared, raw)


EDITS = {
    "header inside a multi-line string": ("description = '''\n", "description = '''\n[cover]\nnumber = \"9\"\n"),
    "array line at column 0": ("name = \"健康管理システム\"", "name = \"健康管理システム\"\nx = [\n[1]\n]"),
    "dotted key": ("organization = \"呉市長\"", "organization = \"呉市長\"\nextra.key = 1"),
    "dotted key into a later table": ("[basic.affair]", "basic.department.head = \"x\"\n[basic.affair]"),
    "inline checkbox table": ("[basic.systems.1.connections]", "[basic.systems.9]\nconnections = { tax = true }\n[basic.systems.1.connections]"),
    "table declared twice": ("[basic.linkage]", "[cover]\n[basic.linkage]"),
    "table reopened apart": ("[disclosure.request]", "[basic.extra]\n[disclosure.request]"),
    "super-table after its sub-table": ("[basic.affair]", "[basic.affair.x]\n[basic.affair]"),
    "key then table of the same name": ("[basic.linkage]", "[basic.other_bodies.x]\n[basic.linkage]"),
    "array of tables then a subtable": ("[risks.1]", "[[files.1.records]]\n[files.1.records.x]\n[risks.1]"),
    "keys before the first header": ("[meta]", "title = \"x\"\n[meta]"),
    "comment before the first header": ("[meta]", "# 評価書\n\n[meta]"),
    "unknown key": ("organization =", "organisation = \"x\"\norganization ="),
    "wrong type": ("number = \"27\"", "number = 27"),
    "bad choice": ("population = \"10万人以上30万人未満\"", "population = \"たくさん\""),
    "unknown form": ("form = \"juten\"", "form = \"jutten\""),
    "no meta": ("[meta]\nform = \"juten\"", "[meta2]\nform = \"juten\""),
    "bad TOML in one table": ("[basic.linkage]", "[basic.linkage]\nx = = 1"),
    "bad header": ("[basic.linkage]", "[basic.linkage"),
    "empty header": ("[basic.linkage]", "[]"),
    "quoted key": ("[basic.linkage]", "[\"basic\".'linkage']"),
    "invalid UTF-8": ("呉市長", "呉市\udcff"),
    "NUL": ("呉市長", "呉\x00市長"),
    "CRLF": ("\n", "\r\n"),
}


@pytest.mark.parametrize("name", sorted(EDITS))
def test_unusual_texts_are_loaded_as_load_bytes_loads_them(name: str) -> None:
    old, new = EDITS[name]
    assert old in BASE
    edited = BASE.replace(old, new, 1 if name != "CRLF" else -1).encode("utf-8", "surrogateescape")
    builder = Builder()
    check(builder, BASE.encode())  # the unchanged sections are known already
    check(builder, edited)
    check(builder, b"\xef\xbb\xbf" + edited)
    check(Builder(), edited)


def test_unchanged_subtrees_are_shared_between_versions() -> None:
    builder = Builder()
    d = base()
    a = check(builder, text(d).encode())
    d["basic"]["department"]["head_title"] = "健康推進課長"
    b = check(builder, text(d).encode())
    assert isinstance(a, Document) and isinstance(b, Document)
    assert a.data["basic"]["department"] is not b.data["basic"]["department"]
    assert a.data["basic"]["affair"] is b.data["basic"]["affair"]
    assert a.data["files"] is b.data["files"]
    # a version the validator rejects leaves nothing behind that a later valid version could reuse
    d["basic"]["department"]["head_title"] = 5
    check(builder, text(d).encode())
    d["basic"]["department"]["head_title"] = "健康推進課長"
    check(builder, text(d).encode())


def test_a_builder_is_freed_without_the_collector() -> None:
    """No reference cycle holds a builder: a report's parsed sections go when its history does,
    not whenever the cyclic collector next runs (at exit, with large histories: 0.2 s)."""
    import gc
    import weakref

    from piachange import sections

    kept: list[int] = []
    real = sections.Builder._keep
    gc.disable()
    try:
        builder = Builder()
        builder._keep = functools.partial(lambda b, last: kept.append(1) or real(b, last), builder)  # type: ignore[method-assign]
        for n, title in ((2, "健康推進課長"), (2, "健康づくり課長"), (3, "健康づくり課長"), (3, "保健課長")):
            d = with_systems(n)  # a version patched, then one built whole (a system added)
            d["basic"]["department"]["head_title"] = title
            assert isinstance(check(builder, text(d).encode()), Document)
        assert kept  # the patched versions' subtrees were kept: the code that made the cycle ran
        del builder._keep
        ref = weakref.ref(builder)
        del builder
        assert ref() is None
    finally:
        gc.enable()


# ---------------------------------------------------------------- successive versions of one file

def _leaves(d: Any, path: tuple = ()) -> list[tuple]:
    """Return the paths of the str and bool leaves of a tree (not [meta])."""
    if isinstance(d, dict):
        return [p for k, v in d.items() if path or k != "meta" for p in _leaves(v, (*path, k))]
    return [path] if isinstance(d, (str, bool)) else []


def _edit(d: dict[str, Any], rnd: random.Random, value: str) -> None:
    """Make one edit of the kind commits make: a value, a flag, an instance added or removed, a key dropped."""
    kind = rnd.choice(["value", "value", "value", "flag", "add system", "drop system", "drop key"])
    systems = d["basic"]["systems"]
    if kind == "add system":
        systems[str(max(map(int, systems), default=0) + 1)] = system(len(systems) + 1)
    elif kind == "drop system" and len(systems) > 1:
        del systems[max(systems, key=int)]
    else:
        leaves = [p for p in _leaves(d) if isinstance(_at(d, p), bool) == (kind == "flag")]
        p = rnd.choice(leaves)
        parent = _at(d, p[:-1])
        if kind == "drop key":
            del parent[p[-1]]
        else:
            parent[p[-1]] = (not parent[p[-1]]) if kind == "flag" else value


def _hand_edit(raw: str, rnd: random.Random) -> str:
    """Edit a canonical text as a person might: a line dropped, two lines swapped, a key added."""
    lines = raw.split("\n")
    keys = [i for i, line in enumerate(lines) if " = " in line and not line.startswith((" ", "#", "[", "\"", "'"))]
    i, j = rnd.choice(keys), rnd.choice(keys)
    kind = rnd.choice(["drop", "swap", "add", "none", "none"])
    if kind == "drop":
        del lines[i]
    elif kind == "swap":
        lines[i], lines[j] = lines[j], lines[i]
    elif kind == "add":
        lines.insert(i, 'remarks = ""')
    return "\n".join(lines)


def _at(d: Any, path: tuple) -> Any:
    for k in path:
        d = d[k]
    return d


_VALUES = st.one_of(st.sampled_from(["", "健康推進課長", "10万人以上30万人未満", "たくさん", "[cover]", "a\nb", "'''", "\"\"\"\n[x]"]),
                    st.text(st.characters(codec="utf-8"), max_size=12))


@settings(max_examples=int(os.environ.get("SECTIONS_EXAMPLES", "40")), deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32), values=st.lists(_VALUES, min_size=1, max_size=8))
def test_successive_versions_of_one_file_are_what_load_bytes_makes_of_each(seed: int, values: list[str]) -> None:
    """Versions that differ in a few sections are patched from the last one; any edit, including one
    that makes the version invalid or not canonical, gives what a fresh load gives."""
    rnd = random.Random(seed)
    builder = Builder()
    d = with_systems(2)
    check(builder, text(d).encode())
    for value in values:
        d = copy.deepcopy(d)
        for _ in range(rnd.randint(1, 3)):
            _edit(d, rnd, value)
        check(builder, _hand_edit(text(d), rnd).encode())
