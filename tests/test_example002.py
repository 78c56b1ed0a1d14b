"""A real published assessment (seed 002, 呉市) in the canonical scheme passes check and fmt."""

from piachange.document import load_bytes, load_path
from piachange.fmt import format_document
from piachange.resolve import resolve

from conftest import EXAMPLE_002


def test_example_002_is_valid_and_formats_losslessly() -> None:
    doc = load_path(str(EXAMPLE_002))
    assert doc.form.kind == "juten"
    assert doc.number == "27"
    text = format_document(doc)
    again = load_bytes(text.encode(), "formatted")
    assert again.data == doc.data
    assert format_document(again) == text
    # the extraction notes of the original survive formatting
    assert "NOTE(extraction): both boxes of ①実施の有無 are unchecked" in text


def test_example_002_items_resolve_by_official_name() -> None:
    doc = load_path(str(EXAMPLE_002))
    item = resolve(doc.form, doc.data, "Ⅱ-4委託事項1③委託先名")
    assert item.path == ("files", "1", "outsourcing", "items", "1", "contractor")
    assert resolve(doc.form, doc.data, "II-3①入手元").label == "Ⅱ 特定個人情報ファイルの概要 3. 特定個人情報の入手・使用 ①入手元"
