"""Semantic diff: one change per item, instances by number, data compared (never text)."""

from __future__ import annotations

import datetime as dt

import pytest

from piachange import model
from piachange.diff import diff_documents
from piachange.document import Document, load_bytes
from piachange.values import Style, changed_blocks

from docs_factory import base, text, with_systems


def doc(data: dict, file: str = "assessments/kenko.toml") -> Document:
    return load_bytes(text(data).encode("utf-8"), file)


def test_deleting_system2_of_4_is_one_change_for_system2_only() -> None:
    old = with_systems(4)
    new = with_systems(4)
    del new["basic"]["systems"]["2"]
    changes = diff_documents(doc(old), doc(new))
    assert [(c.kind, c.path) for c in changes] == [(model.INSTANCE_REMOVED, ("basic", "systems", "2"))]
    ch = changes[0]
    assert ch.item == "Ⅰ 基本情報 2. 特定個人情報ファイルを取り扱う事務において使用するシステム システム2"
    assert "①システムの名称: 業務システム2" in ch.before_text
    assert ch.after_text == "（削除）"
    assert ch.pattern == "basic.systems.*"


def test_added_instance_is_one_change_not_one_per_leaf() -> None:
    old = base()
    new = base()
    new["files"]["1"]["outsourcing"]["items"]["2"] = {
        "title": "健診結果通知書の印刷", "contractor": "株式会社みなと印刷", "subcontract": "再委託しない",
    }
    changes = diff_documents(doc(old), doc(new))
    assert len(changes) == 1
    ch = changes[0]
    assert ch.kind == model.INSTANCE_ADDED
    assert ch.item.endswith("4. 特定個人情報ファイルの取扱いの委託 委託事項2")
    assert ch.before_text == "記載なし"
    assert "③委託先名: 株式会社みなと印刷" in ch.after_text
    assert "再委託 ④再委託の有無: [ 再委託しない ]" in ch.after_text


def test_checkbox_group_prints_only_the_changed_option() -> None:
    old = base()
    new = base()
    new["basic"]["systems"]["1"]["connections"]["info_network"] = True
    [ch] = diff_documents(doc(old), doc(new))
    assert ch.kind == model.TICKED
    assert ch.options == ("info_network",)
    assert ch.before_text == "[ ] 情報提供ネットワークシステム"
    assert ch.after_text == "[○] 情報提供ネットワークシステム"
    assert ch.item.endswith("システム1 ③他のシステムとの接続")


def test_checkbox_tick_and_untick_is_checks_changed() -> None:
    old = base()
    new = base()
    conn = new["basic"]["systems"]["1"]["connections"]
    assert conn["intra_linkage"] is True
    conn["intra_linkage"], conn["tax"] = False, True
    [ch] = diff_documents(doc(old), doc(new))
    assert ch.kind == model.CHECKS
    assert ch.after_text == "[ ] 庁内連携システム\n[○] 税務システム"


def test_kinds_texts_and_star() -> None:
    old = base()
    new = base()
    new["basic"]["department"]["head_title"] = "健康推進課長"
    new["basic"]["linkage"]["legal_basis"] = ""
    new["basic"]["other_bodies"]["names"] = "広島県"
    new["risks"]["1"]["use"]["risk1"]["sufficiency"] = "特に力を入れている"
    changes = {c.path[-1]: c for c in diff_documents(doc(old), doc(new))}
    assert set(changes) == {"head_title", "legal_basis", "names", "sufficiency"}
    assert (changes["head_title"].kind, changes["head_title"].star) == (model.MODIFIED, False)
    assert changes["head_title"].item == "Ⅰ 基本情報 6. 評価実施機関における担当部署 ②所属長の役職名"
    assert (changes["legal_basis"].kind, changes["legal_basis"].star) == (model.REMOVED, True)
    assert changes["legal_basis"].after_text == "（削除）"
    assert (changes["names"].kind, changes["names"].before_text) == (model.ADDED, "記載なし")
    assert changes["sufficiency"].kind == model.CHOICE
    assert changes["sufficiency"].before_text == "[ 十分である ]"
    assert changes["sufficiency"].after_text == "[ 特に力を入れている ]"


def test_changes_are_in_form_order() -> None:
    old = base()
    new = base()
    new["risks"]["1"]["use"]["risk1"]["measures"] = "措置を見直した"
    new["cover"]["title"] = "健康増進事業に関する事務"
    new["basic"]["department"]["head_title"] = "健康推進課長"
    assert [c.path[0] for c in diff_documents(doc(old), doc(new))] == ["cover", "basic", "risks"]


def test_blank_and_removed_texts_are_configurable() -> None:
    old = base()
    new = base()
    new["basic"]["other_bodies"]["names"] = "広島県"
    new["basic"]["department"]["head_title"] = ""
    style = Style(blank="-", removed="削除")
    texts = {c.path[-1]: (c.before_text, c.after_text) for c in diff_documents(doc(old), doc(new), style)}
    assert texts == {"names": ("-", "広島県"), "head_title": ("福祉保健課長", "削除")}


def test_annex_rows_and_meta_are_never_changes() -> None:
    old = base()
    new = base()
    new["meta"]["source"] = "再取込"
    new["changes"]["rows"] = [{"date": "令和6年4月", "item": "表紙", "before": "a", "after": "b", "timing": "事後", "reason": ""}]
    assert diff_documents(doc(old), doc(new)) == []


def test_reformatting_and_comments_are_not_changes() -> None:
    canonical = text(base())
    messy = "# 手で編集した版\n" + canonical.replace("  # ", "    # 注: ", 20).replace(" = ", "=", 30)
    a, b = load_bytes(canonical.encode(), "a.toml"), load_bytes(messy.encode(), "a.toml")
    assert a.data == b.data and canonical != messy
    assert diff_documents(a, b) == []


def test_record_order_is_significant() -> None:
    old = base()
    new = base()
    items = new["files"]["1"]["records"][0]["items"]
    items[0], items[1] = items[1], items[0]
    [ch] = diff_documents(doc(old), doc(new))
    assert (ch.kind, ch.path) == (model.MODIFIED, ("files", "1", "records"))
    assert ch.before_text.startswith("・個人番号\n・宛名番号")
    assert ch.after_text.startswith("・宛名番号\n・個人番号")


def test_whole_file_added_removed_and_renamed() -> None:
    d = doc(base())
    [added] = diff_documents(None, d)
    assert (added.kind, added.path, added.after_text, added.assessment) == (model.FILE_ADDED, (), "（新規作成）", "呉市長 27")
    assert added.number == "27"
    [removed] = diff_documents(d, None)
    assert (removed.kind, removed.after_text) == (model.FILE_REMOVED, "（削除）")
    new = base()
    new["basic"]["department"]["head_title"] = "健康推進課長"
    [renamed] = diff_documents(d, doc(new, "assessments/kenko-zoshin.toml"))
    assert (renamed.file, renamed.old_file, renamed.kind) == ("assessments/kenko-zoshin.toml", "assessments/kenko.toml", model.MODIFIED)


def test_assessment_is_named_by_organization_and_number_else_by_file() -> None:
    # a 評価書番号 is unique within its 評価実施機関 only: one repository may keep several municipalities
    d = base()
    d["cover"]["organization"] = ""
    [ch] = diff_documents(None, doc(d))
    assert ch.assessment == "27"
    [ch] = diff_documents(None, doc(base(number=""), "assessments/kure/kenko.toml"))
    assert (ch.assessment, ch.number) == ("assessments/kure/kenko.toml", "")


def test_attachment_table_is_one_item() -> None:
    old = base()
    new = base()
    new["attachments"] = {"besshi1": {"title": "別紙1 提供先一覧", "columns": ["提供先", "根拠"], "rows": [["広島県", "番号法第19条第8号"]]}}
    [ch] = diff_documents(doc(old), doc(new))
    assert (ch.kind, ch.path, ch.item) == (model.ADDED, ("attachments", "besshi1"), "別紙1 提供先一覧")
    assert ch.after_text == "別紙1 提供先一覧\n提供先｜根拠\n広島県｜番号法第19条第8号"


def test_unchanged_document_is_empty() -> None:
    d = doc(base())
    assert diff_documents(d, doc(base())) == []


def test_a_renamed_file_changes_every_place_that_prints_its_name() -> None:
    old = base()
    new = base()
    new["files"]["1"]["name"] = "健康増進ファイル"
    changes = diff_documents(doc(old), doc(new))
    assert [(".".join(c.path), c.star, c.before_text, c.after_text) for c in changes] == [
        ("basic.file_names", False, "健康管理ファイル", "健康増進ファイル"),
        ("files.1.name", False, "健康管理ファイル", "健康増進ファイル"),
        ("risks.1.file_name", True, "健康管理ファイル", "健康増進ファイル"),
    ]
    assert [c.item for c in changes] == [
        "Ⅰ 基本情報 3. 特定個人情報ファイル名",
        "Ⅱ 特定個人情報ファイルの概要 1. 特定個人情報ファイル名",
        "Ⅲ リスク対策 1. 特定個人情報ファイル名",
    ]
    assert [c.copy_of for c in changes] == [(("files", "1", "name"),), (), (("files", "1", "name"),)]


def test_the_names_of_all_files_print_in_one_place() -> None:
    old = base()
    old["files"]["2"] = {"name": "予防接種ファイル"}
    old["risks"]["2"] = {}
    new = dict(old, files={**old["files"], "2": {"name": "予防接種台帳ファイル"}})
    changes = {".".join(c.path): c for c in diff_documents(doc(old), doc(new))}
    assert sorted(changes) == ["basic.file_names", "files.2.name", "risks.2.file_name"]
    whole = changes["basic.file_names"]
    assert (whole.before_text, whole.after_text) == ("健康管理ファイル\n予防接種ファイル", "健康管理ファイル\n予防接種台帳ファイル")
    assert whole.copy_of == (("files", "2", "name"),)


def test_a_new_file_is_one_instance_and_a_new_name_among_the_files() -> None:
    old = base()
    new = base()
    new["files"]["2"] = {"name": "予防接種ファイル"}
    new["risks"]["2"] = {}
    changes = diff_documents(doc(old), doc(new))
    assert [(".".join(c.path), c.kind) for c in changes] == [
        ("basic.file_names", model.MODIFIED), ("files.2", model.INSTANCE_ADDED), ("risks.2", model.INSTANCE_ADDED),
    ]
    assert changes[0].after_text == "健康管理ファイル\n予防接種ファイル"


def test_in_a_document_with_several_files_each_file_s_items_name_the_file() -> None:
    old = base()
    old["files"]["2"] = {"name": "予防接種ファイル", "records": [{"items": ["氏名"]}]}
    old["risks"]["2"] = {}
    new = base()
    new["files"]["2"] = {"name": "予防接種ファイル", "records": [{"items": ["氏名", "住所"]}], "profile": {"held_since": dt.date(2024, 4, 1)}}
    new["risks"]["2"] = {"acquisition": {"other_risks": "・誤入力を防ぐため、入力時に確認している。"}}
    new["files"]["1"]["profile"]["held_since"] = dt.date(2024, 4, 2)
    items = {".".join(c.path): c.item for c in diff_documents(doc(old), doc(new))}
    assert items["files.1.profile.held_since"] == "Ⅱ 特定個人情報ファイルの概要 (健康管理ファイル) 2. 基本情報 ⑤保有開始日"
    assert items["files.2.profile.held_since"] == "Ⅱ 特定個人情報ファイルの概要 (予防接種ファイル) 2. 基本情報 ⑤保有開始日"
    assert items["files.2.records"] == "(別添1) 特定個人情報ファイル記録項目 (予防接種ファイル)"
    assert items["risks.2.acquisition.other_risks"].startswith("Ⅲ リスク対策 (予防接種ファイル) 2. ")


def test_a_new_file_is_named_and_one_file_alone_is_not() -> None:
    old = base()
    new = base()
    new["files"]["2"] = {"name": "予防接種ファイル"}
    new["risks"]["2"] = {}
    items = {".".join(c.path): c.item for c in diff_documents(doc(old), doc(new))}
    assert items["files.2"] == "Ⅱ 特定個人情報ファイルの概要 (予防接種ファイル)"
    assert items["risks.2"] == "Ⅲ リスク対策 (予防接種ファイル)"
    alone = base()
    alone["files"]["1"]["profile"]["held_since"] = dt.date(2024, 4, 2)
    [ch] = diff_documents(doc(base()), doc(alone))
    assert ch.item == "Ⅱ 特定個人情報ファイルの概要 2. 基本情報 ⑤保有開始日"


def test_a_file_without_a_name_leaves_the_names_printed_together_as_they_were() -> None:
    old = base()
    old["files"]["2"] = {"name": ""}
    old["risks"]["2"] = {}
    changes = diff_documents(doc(old), doc(base()))
    assert [(".".join(c.path), c.kind) for c in changes] == [
        ("files.2", model.INSTANCE_REMOVED), ("risks.2", model.INSTANCE_REMOVED),
    ]


@pytest.mark.parametrize(("before", "after", "expected"), [
    ("<A市における措置>\n・一\n<B>\n・二", "<A市における措置>\n・一\n<B>\n・二改", (("<B>",), "<B>\n・二", "<B>\n・二改")),
    ("（本市における措置）\n・一", "（本市における措置）\n・一\n【物理的対策】\n・新", (("【物理的対策】",), "", "【物理的対策】\n・新")),
    ("前文\n<A>\n・一\n<B>\n・二", "前文改\n<A>\n・一\n<B>\n・二", ((), "前文", "前文改")),  # before the first heading
    ("<A>\n・一\n<A>\n・二", "<A>\n・一\n<A>\n・二改", (("<A>",), "<A>\n・二", "<A>\n・二改")),  # a heading printed twice
    ("<A>\n・一\n<B>\n・二", "<A>\n・一改\n<B>\n・二改", None),  # every block changed: the whole texts
    ("一行目\n二行目", "一行目\n三行目", None),  # no heading
    ("<A>は対象外とする。\n・一", "<A>は対象外とする。\n・二", None),  # a line that only starts with brackets
])
def test_changed_blocks_of_a_long_text(before: str, after: str, expected: object) -> None:
    assert changed_blocks(before, after) == expected
