"""piachange import: published assessments (extracted PDF/HTML text) to canonical TOML."""

from __future__ import annotations

import datetime as dt
import functools
import json
import pathlib
import subprocess
import sys
import tomllib
from typing import Any

import pytest

from conftest import EXAMPLE_002, SEEDS
from piachange.document import Document, load_bytes
from piachange.errors import PiaError
from piachange.fmt import format_document
from piachange.importer import ImportResult, detect_form, import_text
from piachange.importer.review import leaves
from piachange.importer.text import strip_html

EXPECTED = pathlib.Path(__file__).parent / "import_expected"


def seed(n: str) -> pathlib.Path:
    return next(SEEDS.glob(f"{n}_*.txt"))


@functools.cache
def imported(n: str) -> ImportResult:
    p = seed(n)
    return import_text(p.read_text(encoding="utf-8"), source=p.name)


def checked(result: ImportResult, name: str = "imported.toml") -> Document:
    """Load the imported text exactly as `piachange check` does (raises on any problem)."""
    return load_bytes(result.text.encode("utf-8"), name)


def subtree(data: dict, dotted: str) -> Any:
    for key in dotted.split("."):
        data = data[key]
    return data


def reviews_for(result: ImportResult, item: str) -> list[str]:
    return [f"[{r.kind}] {r.message}" for r in result.reviews if r.item == item]


# ------------------------------------------------------------------ the seeds


@pytest.mark.parametrize("n", ["000", "001", "002", "003", "004"])
def test_every_seed_imports_to_a_document_check_accepts(n: str) -> None:
    doc = checked(imported(n))
    assert doc.form.kind == {"000": "zenkomoku", "004": "zenkomoku"}.get(n, "juten")


@pytest.mark.parametrize("n", ["000", "001", "002", "003", "004"])
def test_import_is_already_canonical(n: str) -> None:
    result = imported(n)
    assert format_document(checked(result)) == result.text


def test_seed_002_equals_the_worked_example() -> None:
    doc = checked(imported("002"))
    example = load_bytes(EXAMPLE_002.read_bytes(), str(EXAMPLE_002))
    assert doc.data == example.data


def _notes(example: Document) -> dict[tuple[str, ...], str]:
    """Return the NOTE(…) comments of example-002 by the form item (leaf or checkbox group) they sit on."""
    out: dict[tuple[str, ...], str] = {}
    for path, comments in example.scan.comments.items():
        for c in comments:
            if "NOTE(" not in c:
                continue
            p = tuple(str(x) for x in path)
            while example.form.node(p) is None or not example.form.node(p).is_leaf:
                p = p[:-1]
            out[p] = c
    return out


def test_every_extraction_note_of_the_example_is_on_the_review_list() -> None:
    """Where example-002 records a judgement, the import keeps the printed value and asks a person."""
    example = load_bytes(EXAMPLE_002.read_bytes(), str(EXAMPLE_002))
    notes = _notes(example)
    assert len(notes) == 7, notes
    result = imported("002")
    for path, note in notes.items():
        item = example.form.label_path(path)
        assert reviews_for(result, item), f"{item}: no review entry for {note}"


def test_seed_002_review_says_why() -> None:
    result = imported("002")
    kinds = {(r.item.split(" ")[-1], r.kind) for r in result.reviews}
    assert ("使用者数", "outside-brackets") in kinds
    assert ("従業者に対する教育・啓発", "outside-brackets") in kinds
    assert ("主な記録項目", "no-tick") in kinds
    assert ("①実施の有無", "no-tick") in kinds
    cut = [r for r in result.reviews if r.kind == "cut-off"]
    assert [r.item.split(" ")[-1] for r in cut] == ["情報提供ネットワークシステムとの接続に伴うその他のリスク及びそのリスクに対する措置"]
    label = [r for r in result.reviews if r.kind == "label"]
    assert len(label) == 1 and "事務に必要な情報" in label[0].message and "事務に必要のない情報" in label[0].message
    assert result.unplaced == ()


@pytest.mark.parametrize(
    "n, roots",
    [
        ("000", ["cover", "basic.linkage", "files.1.outsourcing.items.3"]),
        ("003", ["cover", "basic.systems.2", "files.1.outsourcing", "attachments.besshi2"]),
        ("004", ["cover", "basic.systems.4", "files.1.outsourcing"]),
    ],
)
def test_hand_checked_fragments(n: str, roots: list[str]) -> None:
    doc = checked(imported(n))
    expected = tomllib.loads((EXPECTED / f"{n}.toml").read_text(encoding="utf-8"))
    for root in roots:
        assert subtree(doc.data, root) == subtree(expected, root), root
    rows = doc.data["changes"]["rows"]
    for row in expected.get("change_rows", []):
        i = row.pop("index")
        assert rows[i] == row
    if "change_rows" in expected.get("expect", {}):
        assert len(rows) == expected["expect"]["change_rows"]
    if "outsourcing_count" in expected.get("expect", {}):
        assert doc.data["files"]["1"]["outsourcing"]["count"] == expected["expect"]["outsourcing_count"]


def test_seed_000_reviews_the_garbled_and_english() -> None:
    result = imported("000")
    kinds = [r.kind for r in result.reviews]
    assert "garbled-count" in kinds
    english = [r for r in result.reviews if r.kind == "english"]
    assert any("unnecessary" in r.message for r in english)
    assert any("that" in r.message for r in english)  # in the リスク3 title
    risk3 = [r for r in result.reviews if r.kind == "label" and "リスク3" in r.item]
    assert risk3 and "closest form label 「リスク3: 入手した特定個人情報が不正確であるリスク」" in risk3[0].message
    assert any("(別添1) diagram" in r.message for r in result.reviews if r.kind == "unplaced")


def test_seed_003_cut_label_radio_ticks_and_detail_without_tick() -> None:
    result = imported("003")
    doc = checked(result)
    risk = doc.data["risks"]["1"]["storage"]["risk1"]
    assert risk["serious_incident"] == "発生なし"  # label printed over two lines
    assert any(r.kind == "label" and "cut off" in r.message for r in result.reviews)
    assert doc.data["risks"]["1"]["audit"] == {"self_check": True, "internal_audit": True, "external_audit": False}
    assert sum(r.kind == "radio-tick" for r in result.reviews) == 6
    sources = doc.data["files"]["1"]["acquisition"]["sources"]
    assert sources["internal_dept"] is False and sources["internal_dept_detail"].startswith("市民課")
    assert any(r.kind == "no-tick" and "評価実施機関内の他部署 (市民課" in r.message for r in result.reviews)
    assert doc.data["procedure"]["third_party"]["conducted_on"] == ""
    assert len(doc.data["files"]["1"]["records"]) == 15 and doc.data["files"]["1"]["records"][1]["heading"] == "<宛名>"


def test_a_count_beside_an_unticked_box_is_reviewed() -> None:
    """003 prints 「[ ] 移転を行っている (6) 件」: the count is kept, the box stays unticked, a person is asked."""
    doc, result = doc_of("提供・移転の有無\t[<input checked=\"\" type=\"checkbox\"/>] 提供を行っている (33) 件 [<input type=\"checkbox\"/>] 移転を行っている (6) 件 [] 行っていない\n")
    status = doc.data["files"]["1"]["provision"]["status"]
    assert status["transfer"] is False and status["transfer_count"] == 6 and status["provide"] is True
    unticked = [r for r in result.reviews if r.kind == "unticked-detail"]
    assert len(unticked) == 1 and "移転を行っている (6) 件" in unticked[0].message


def test_seed_004_variants_and_change_table() -> None:
    result = imported("004")
    assert any(r.kind == "label-variant" and "5情報" in r.message for r in result.reviews)
    assert checked(result).data["files"]["1"]["profile"]["main_items"]["basic_info"] is False


def test_seed_001_pdf_order_is_best_effort_and_says_so() -> None:
    result = imported("001")
    doc = checked(result)
    assert result.layout == "pdf"
    assert doc.data["cover"]["organization"] == "会津若松市長"
    assert doc.data["cover"]["published_on"] == dt.date(2024, 4, 1)
    assert doc.data["changes"]["rows"] == []
    kinds = {r.kind for r in result.reviews}
    assert {"layout", "unplaced", "era-overflow"} <= kinds
    overflow = next(r for r in result.reviews if r.kind == "era-overflow")
    assert "平成36年2月1日" in overflow.message and "令和6年2月1日" in overflow.message
    assert any("変更箇所" in r.item and "PDF reading order" in r.message for r in result.reviews)
    block = result.text.split("UNPLACED (piachange import)")[1]
    assert "Ⅱ-3①入手元" in block and "（削除）" in block


@pytest.mark.parametrize("n", ["000", "001", "002", "003", "004"])
def test_every_text_value_is_printed_in_the_source(n: str) -> None:
    """Nothing is invented: each text (spaces and line breaks aside) stands in the source as printed."""
    src = seed(n).read_text(encoding="utf-8")
    flat = "".join(strip_html(src).replace("- ", "").split())
    doc = checked(imported(n))
    texts = [v for node, _, v in leaves(doc.form, doc.data) if node.kind in ("text", "period") and v]
    texts += [row[k] for row in doc.data["changes"]["rows"] for k in ("item", "before", "after", "reason") if row[k]]
    assert texts
    for text in texts:
        assert "".join(text.replace("- ", "").split()) in flat, text[:80]


@pytest.mark.parametrize("n", ["000", "001", "002", "003", "004"])
def test_nothing_is_dropped_silently(n: str) -> None:
    """Every unplaced text is in the TOML comment block and behind a review entry."""
    result = imported(n)
    if not result.unplaced:
        assert "UNPLACED" not in result.text
        return
    block = result.text.split("UNPLACED (piachange import)")[1]
    for _, text in result.unplaced:
        assert text.split("\n")[0] in block
    assert any(r.kind in ("unplaced", "extra-text") for r in result.reviews)


# ------------------------------------------------------------------ small sources

HEAD = "特定個人情報保護評価書(重点項目評価書)\n\n"


def doc_of(body: str, head: str = HEAD) -> tuple[Document, ImportResult]:
    result = import_text(head + body)
    return checked(result), result


def test_blank_cells_stay_blank_and_nothing_is_invented() -> None:
    doc, result = doc_of("I 基本情報\n\n1. 特定個人情報ファイルを取り扱う事務\t\n①事務の名称\t\n②事務の内容\tある事務\n")
    assert doc.data["basic"]["affair"] == {"name": "", "description": "ある事務", "population": ""}
    assert doc.data["files"] == {} and doc.data["cover"]["title"] == ""


def test_angle_text_is_content_and_entities_are_decoded() -> None:
    doc, _ = doc_of("保管場所 ※\t<p>&lt;本市における措置&gt;</p> <p>サーバー室 <b>で</b>保管 A&amp;B</p> <本市2> ・施錠\n")
    assert doc.data["files"]["1"]["storage"]["location"] == "<本市における措置>\nサーバー室 で保管 A&B\n<本市2>\n・施錠"


def test_choice_found_outside_brackets_is_taken_and_reviewed() -> None:
    doc, result = doc_of("9. 従業者に対する教育・啓発\t\n従業者に対する教育・啓発\t[] 十分に行っている <選択肢> 1) 特に力を入れて行っている 2) 十分に行っている\n")
    assert doc.data["risks"]["1"]["training"]["level"] == "十分に行っている"
    assert [r.kind for r in result.reviews] == ["outside-brackets"]


def test_unknown_choice_is_left_blank_and_kept() -> None:
    doc, result = doc_of("②対象となる本人の数\t[ 約10万人 ] <選択肢> 1) 1万人未満\n")
    assert doc.data["files"]["1"]["profile"]["subjects_count"] == ""
    assert any(r.kind == "bad-choice" for r in result.reviews)
    assert "約10万人" in result.text.split("UNPLACED")[1]


def test_era_overflow_is_corrected_and_reviewed() -> None:
    doc, result = doc_of("V 評価実施手続\n1. 基礎項目評価\t\n①実施日\t平成36年2月1日\n")
    assert doc.data["procedure"]["basic_assessment"]["conducted_on"] == dt.date(2024, 2, 1)
    assert [r.kind for r in result.reviews] == ["era-overflow"]


def test_partial_and_undecided_dates_are_kept_as_text() -> None:
    doc, _ = doc_of("⑤保有開始日\t平成27年11月\n⑥事務担当部署\t介護保険課\n3. 特定個人情報の入手・使用\t\n⑥使用開始日\t令和3年04月01日\n")
    assert doc.data["files"]["1"]["profile"]["held_since"] == "平成27年11月"
    assert doc.data["files"]["1"]["acquisition"]["started_on"] == dt.date(2021, 4, 1)


def test_label_variants_match_with_a_review() -> None:
    body = (
        "Ⅲ リスク対策\n4. 特定個人情報ファイルの取扱いの委託\t\t[○] 委託しない\n"
        "委託契約書中の特定個人情報ファイルの取扱いに関する規程\t[定めている]\n"
        "規程の内容\t・目的外使用の禁止\n"
        "再委託先による特定個人情報ファイルの適切な取扱いの確保\t[再委託していない]\n"
        "その他の措置の内容の内容\t—\n"
        "ＩＶ　開示請求、問合せ\n１．特定個人情報の開示・訂正・利用停止請求\t\n①請求先\t市役所\n"
    )
    doc, result = doc_of(body)
    risk = doc.data["risks"]["1"]["outsourcing"]
    assert risk["not_applicable"] is True
    assert risk["risk1"]["contract_rules"] == "定めている"
    assert risk["risk1"]["contract_rules_content"] == "・目的外使用の禁止"
    assert risk["risk1"]["subcontract_assurance"] == "再委託していない"
    assert risk["risk1"]["other_measures"] == "—"  # a garbled repeat in the label; the value is kept as printed
    assert doc.data["disclosure"]["request"]["to"] == "市役所"
    label = {r.item.split(" ")[-1]: r.message for r in result.reviews if r.kind == "label"}
    assert set(label) == {"委託契約書中の特定個人情報ファイルの取扱いに関する規定", "規定の内容", "再委託先による特定個人情報ファイルの適切な取扱いの担保", "その他の措置の内容"}
    assert "確保" in label["再委託先による特定個人情報ファイルの適切な取扱いの担保"]
    assert "closest form label 「その他の措置の内容」" in label["その他の措置の内容"]


def test_english_words_inside_japanese_are_reviewed() -> None:
    _, result = doc_of("③使用目的 ※\t住民の unnecessaryな情報は使わない。web上でも同じ。\n")
    english = [r for r in result.reviews if r.kind == "english"]
    assert len(english) == 1 and "unnecessary" in english[0].message and "web" not in english[0].message


def test_unplaced_line_goes_to_the_marked_block() -> None:
    doc, result = doc_of("①事務の名称\t介護保険に関する事務\n\n謎の注記がここにある\n\n②事務の内容\tある事務\n")
    assert doc.data["basic"]["affair"]["name"] == "介護保険に関する事務"
    assert result.unplaced == ((5, "謎の注記がここにある"),)  # HEAD is two lines
    assert "# line 5: 謎の注記がここにある" in result.text
    assert any(r.kind == "unplaced" and r.line == 5 for r in result.reviews)


def test_change_table_rows_are_kept_as_printed() -> None:
    body = (
        "変更日\t項目\t変更前の記載\t変更後の記載\t提出時期\t提出時期に係る説明\n"
        "令和6年4月1日\tⅠ-6①部署\t<p>健康福祉部</p>\t健康増進課\t事後\t組織改正\n"
        "平成31年4月1日\tⅡ-4委託事項\t-\t-\t事前(予定)\t\n"
    )
    doc, result = doc_of(body)
    rows = doc.data["changes"]["rows"]
    assert rows[0] == {"date": dt.date(2024, 4, 1), "item": "Ⅰ-6①部署", "before": "健康福祉部", "after": "健康増進課", "timing": "事後", "reason": "組織改正"}
    assert rows[1]["timing"] == "" and any(r.kind == "bad-timing" for r in result.reviews)


def test_form_detection() -> None:
    assert detect_form("# 特定個人情報保護評価書（全項目評価書）\n") == "zenkomoku"
    assert detect_form("\n[平成30年５月　様式３]\n") == "juten"
    with pytest.raises(PiaError):
        detect_form("何かの文書\n")


# ------------------------------------------------------------------ command line


def piachange(*args: str, cwd: pathlib.Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "piachange", *args], cwd=cwd, capture_output=True, text=True, encoding="utf-8")


def test_cli_writes_toml_and_report(tmp_path: pathlib.Path) -> None:
    out, report = tmp_path / "kenko.toml", tmp_path / "review.json"
    run = piachange("import", str(seed("002")), "-o", str(out), "--report", str(report), cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert run.stdout == ""
    assert "review [outside-brackets]" in run.stderr and "imported" in run.stderr.splitlines()[-1]
    assert out.read_text(encoding="utf-8") == imported("002").text
    data = json.loads(report.read_text(encoding="utf-8"))
    assert data["form"] == "juten" and len(data["reviews"]) == len(imported("002").reviews)
    assert piachange("check", str(out), cwd=tmp_path).returncode == 0
    out.write_text("# kept\n", encoding="utf-8")
    again = piachange("import", str(seed("002")), "-o", str(out), cwd=tmp_path)
    assert again.returncode == 1 and "already exists" in again.stderr and out.read_text(encoding="utf-8") == "# kept\n"


def test_a_source_saved_as_utf16_is_said_to_be_so(tmp_path: pathlib.Path) -> None:
    """Windows PowerShell 5.1 writes `pdftotext x.pdf - > x.txt` as UTF-16 with a byte order
    mark: the error says what the file is and what to do, not that it is no text file."""
    src = tmp_path / seed("002").name
    src.write_bytes(seed("002").read_text(encoding="utf-8").replace("\n", "\r\n").encode("utf-16"))
    run = piachange("import", str(src), cwd=tmp_path)
    assert run.returncode == 1 and run.stdout == ""
    assert run.stderr == f"{src}:1: not UTF-8 but UTF-16 text (as Windows PowerShell's > and Out-File write it); save the file as UTF-8\n"
    src.write_bytes(seed("002").read_text(encoding="utf-8").replace("\n", "\r\n").encode("utf-8"))
    assert piachange("import", str(src), cwd=tmp_path).stdout == imported("002").text  # the same text in UTF-8 is read


def test_cli_prints_to_stdout_without_output(tmp_path: pathlib.Path) -> None:
    run = piachange("import", str(seed("004")), cwd=tmp_path)
    assert run.returncode == 0
    assert run.stdout == imported("004").text


def test_cli_bad_input_is_one_line_and_writes_nothing(tmp_path: pathlib.Path) -> None:
    src = tmp_path / "x.txt"
    src.write_text("ただのメモ\n", encoding="utf-8")
    out = tmp_path / "x.toml"
    run = piachange("import", str(src), "-o", str(out), cwd=tmp_path)
    assert run.returncode == 1 and run.stderr.startswith("Error: cannot tell the form kind")
    assert "Traceback" not in run.stderr and not out.exists()
    run = piachange("import", str(src), "--form", "juten", "-o", str(out), "--report", str(tmp_path / "no" / "r.json"), cwd=tmp_path)
    assert run.returncode == 1 and "does not exist" in run.stderr and not out.exists()
    src.write_bytes(b"\xff\xfe")
    run = piachange("import", str(src), cwd=tmp_path)
    assert run.returncode == 1 and "not UTF-8" in run.stderr


def test_a_label_split_over_two_lines_and_taken_for_a_value_is_reviewed() -> None:
    """A PDF may split a label over two lines (「④個人情報ファイル簿への不」 / 「記載等」, seed 001): it is
    not recognised, its lines become the value of the item above it, and the review list says so."""
    from piachange.importer import import_text

    result = import_text("特定個人情報保護評価書（重点項目評価書）\n\nⅣ　開示請求、問合せ\n １．特定個人情報の開示・訂正・利用停止請求\n\n"
                         " ③法令による特別の手続\n\n ④個人情報ファイル簿への不\n記載等\n\n-\n\n-\n")
    assert result.data["disclosure"]["request"]["special_procedure"] == "④個人情報ファイル簿への不\n記載等"  # kept as placed
    [review] = [r for r in result.reviews if r.kind == "label-as-value"]
    assert review.item.endswith("③法令による特別の手続")
    assert "「④個人情報ファイル簿への不記載等」" in review.message
