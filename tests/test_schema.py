"""Form definitions: places that print a stored item again (``copy_of``)."""

from __future__ import annotations

import re

import pytest

from piachange.document import DocumentError, load_bytes
from piachange.errors import PiaError
from piachange.schema import _parse, load_form



def _form(*nodes: dict) -> dict:
    return {"form": {"kind": "juten"}, "node": list(nodes)}


FILES = ({"path": "files", "kind": "group"}, {"path": "files.*", "kind": "repeat"},
         {"path": "files.*.name", "kind": "text", "label": "特定個人情報ファイル名"})


def test_a_copy_takes_the_kind_of_its_item_and_is_not_stored() -> None:
    form = _parse("juten", _form(*FILES, {"path": "risks", "kind": "group", "star": True},
                                 {"path": "risks.*", "kind": "repeat"},
                                 {"path": "risks.*.file_name", "copy_of": "files.*.name", "number": "1.", "label": "特定個人情報ファイル名"}), "t")
    [copy] = form.copies
    assert (copy.kind, copy.copy_of) == ("text", "files.*.name")
    assert "risks.*.file_name" not in form.by_path
    assert form.star_of("risks.*.file_name") is True
    assert form.print_order["risks.*.file_name"] > form.print_order["files.*.name"]


@pytest.mark.parametrize("copy, message", [
    ({"path": "files.*.again", "copy_of": "files.*.nmae"}, "copy_of 'files.*.nmae' is not an item of the form"),
    ({"path": "files.*.again", "copy_of": "files.*"}, "copy_of 'files.*' is not an item of the form"),
    ({"path": "other.*.x.*.y", "copy_of": "files.*.name"}, "a copy has the instances (*) of files.*.name or none"),
])
def test_a_copy_of_nothing_is_refused(copy: dict, message: str) -> None:
    nodes = [*FILES, {"path": "other", "kind": "group"}, {"path": "other.*", "kind": "repeat"},
             {"path": "other.*.x", "kind": "group"}, {"path": "other.*.x.*", "kind": "repeat"}, copy]
    with pytest.raises(PiaError, match=re.escape(message)):
        _parse("juten", _form(*nodes), "t")


def test_the_places_a_file_name_is_printed_in() -> None:
    for kind in ("juten", "zenkomoku"):
        form = load_form(kind)
        assert sorted(c.path for c in form.copies if c.copy_of == "files.*.name") == ["basic.file_names", "risks.*.file_name"]


def test_a_copy_written_into_a_document_is_an_unknown_key() -> None:
    raw = '[meta]\nform = "juten"\nschema_version = 1\n\n[risks.1]\nfile_name = "健康管理ファイル"\n'
    with pytest.raises(DocumentError) as e:
        load_bytes(raw.encode("utf-8"), "x.toml")
    assert [(p.line, p.message) for p in e.value.problems] == [
        (6, "unknown key 'risks.1.file_name': the form prints it from files.1.name; write it there")]


def test_an_annex_is_named_without_the_headings_above_it() -> None:
    assert load_form("juten").label_path(("files", "1", "records")) == "(別添1) 特定個人情報ファイル記録項目"
    assert load_form("zenkomoku").label_path(("files", "2", "records")) == "(別添2) 特定個人情報ファイル記録項目"
    assert load_form("juten").label_path(("files", "1", "name")) == "Ⅱ 特定個人情報ファイルの概要 1. 特定個人情報ファイル名"


@pytest.mark.parametrize("files", [1, 2])
def test_show_and_the_table_label_every_item_alike(files: int) -> None:
    """resolve.items (show, scopes, explain) and label_path (the 変更箇所 項目) agree, file names and annexes included."""
    from piachange.document import complete
    from piachange.resolve import items
    from piachange.schema import instance_names

    from conftest import SAMPLES

    raw = (SAMPLES / "kaigo-juten.toml").read_text(encoding="utf-8")
    if files == 2:
        raw += '\n[files.2]\nname = "介護保険受給者台帳ファイル"\n\n[[files.2.records]]\nitems = ["氏名"]\n\n[risks.2.training]\nlevel = "十分に行っている"\n'
    doc = load_bytes(raw.encode("utf-8"), "kaigo.toml")
    data = complete(doc.form, doc.data, instances=True)
    names = instance_names(doc.form, data)
    assert bool(names) == (files == 2)
    found = {it.path: it.label for it in items(doc.form.printed, data)}
    assert found and all(label == doc.form.label_path(path, names=names) for path, label in found.items())
    if files == 2:
        assert found[("files", "2", "records")] == "(別添1) 特定個人情報ファイル記録項目 (介護保険受給者台帳ファイル)"
        assert found[("risks", "2", "file_name")] == "Ⅲ リスク対策 (介護保険受給者台帳ファイル) 1. 特定個人情報ファイル名"
