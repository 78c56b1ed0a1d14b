"""Versions built section by section are exactly what load_bytes makes of them, or the same error."""

from __future__ import annotations

import pathlib
from typing import Any

import pytest

from piachange.document import Document, load_bytes
from piachange.errors import DocumentError
from piachange.sections import Builder

from conftest import EXAMPLE_002, ROOT, SAMPLES
from docs_factory import base, text

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
