"""Rendering: golden files per format, the report model, escaping and formula-injection safety.

Golden files live in tests/golden/; regenerate them with ``PIACHANGE_REGEN_GOLDEN=1`` and review the diff.
"""

from __future__ import annotations

import base64
import csv
import dataclasses
import datetime as dt
import hashlib
import io
import json
import os
import pathlib
import re
import subprocess
import sys
import zipfile

import openpyxl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import EXAMPLE_002, Repo
from piachange import model, render, schema
from piachange.errors import PiaError
from piachange.report import Options, build_report

ROOT = pathlib.Path(__file__).resolve().parent.parent
GOLDEN = pathlib.Path(__file__).resolve().parent / "golden"
REGEN = os.environ.get("PIACHANGE_REGEN_GOLDEN") == "1"
JST = dt.timezone(dt.timedelta(hours=9))

HANAKO = model.Commit("3f2a1c9e5b7d4f60a1b2c3d4e5f60718293a4b5c", "山田 花子", dt.datetime(2026, 3, 2, 9, 0, tzinfo=JST), "ガバメントクラウド移行に伴うリスク対策の変更\n\nPIA-Cause: 標準化", (("PIA-Cause", "標準化"),))
TARO = model.Commit("8e41d0b7a9c2f3e4d5c6b7a8998877665544332f", "佐藤 太郎", dt.datetime(2026, 3, 9, 17, 30, tzinfo=JST), "指針の名称変更を反映\n\nPIA-Cause: 法令改正", (("PIA-Cause", "法令改正"),))
KOBAYASHI = model.Commit("c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00", "小林 誠", dt.datetime(2026, 3, 10, 10, 0, tzinfo=JST), "連絡先の修正")

YOBO = "assessments/yobosesshu.toml"
KENKO = "assessments/kenko-zoshin.toml"


def _row(file: str, form: str, path: str, before: str, after: str, timing: str, reason: str, rule: str,
         commits: tuple[model.Commit, ...], kind: str = model.MODIFIED, warnings: tuple[str, ...] = (),
         override: bool = False, day: dt.date = dt.date(2026, 3, 16), assessment: str = "") -> model.Row:
    f = schema.load_form(form)
    parts = tuple(path.split("."))
    change = model.Change(
        assessment=assessment or pathlib.PurePosixPath(file).stem, file=file, form=form, path=parts,
        pattern=schema.pattern_of(f, parts), item=f.label_path(parts), kind=kind,
        star=f.star_of(schema.pattern_of(f, parts)), before=before, after=after,
        before_text=before, after_text=after, commits=commits,
    )
    return model.Row(change, day, timing, reason, rule, warnings, override)


def sample_report() -> model.Report:
    """Return a report shaped like seed 004's (別添3) table plus a 重点 assessment: fixed, realistic data."""
    law = "重要な変更に当たらないため、事前の公表・提出が義務付けられない。（法令改正等による変更）"
    rows = (
        _row(YOBO, "zenkomoku", "risks.1.outsourcing.risk1.provision_rules_onward",
             "越谷市個人情報取扱事務の委託に関する指針に基づき、越谷市の指示又は承諾があったときを除き、委託契約事務に係る個人情報を第三者に提供することを禁止している。また、必要に応じて委託先に対し報告を求める又は検査等を行う。",
             "越谷市保有個人情報の適切な管理に関する指針に基づき、越谷市の指示又は承諾があったときを除き、委託契約事務に係る個人情報を第三者に提供することを禁止している。また、必要に応じて委託先に対し報告を求める又は検査等を行う。",
             "事後", law, "cause:法令改正", (TARO,)),
        _row(YOBO, "zenkomoku", "risks.1.storage.risk1.physical_measures",
             "<越谷市における処置>\n・大部分のシステムについては、停電への備えや耐震性能を備えた強固なデータセンターへサーバを移設している。\n・庁内サーバ室、データセンターの出入口には生体認証による入退室管理設備を設置している。",
             "<ガバメントクラウドにおける措置>\n①ガバメントクラウドについては政府情報システムのセキュリティ制度 (ISMAP) のリストに登録されたクラウドサービスから調達することとしており、システムのサーバー等は、クラウド事業者が保有・管理する環境に構築し、その環境には認可された者だけがアクセス出来るよう適切な入退室管理策を行っている。\n・庁内サーバ室、データセンターの出入口には生体認証による入退室管理設備を設置している。",
             "事前", "標準化に伴う変更", "cause:標準化", (HANAKO,)),
        _row(YOBO, "zenkomoku", "risks.1.storage.risk1.technical_measures", "記載なし",
             "<ガバメントクラウドにおける措置>\n①国及びクラウド事業者は利用者のデータにアクセスしない契約等となっている。",
             "事前", "標準化に伴う変更", "cause:標準化", (HANAKO,), kind=model.ADDED),
        _row(YOBO, "zenkomoku", "basic.systems.4.connections",
             "[ ] 情報提供ネットワークシステム\n[○] 庁内連携システム\n[○] その他 (中間サーバー)",
             "[○] 情報提供ネットワークシステム\n[○] 庁内連携システム\n[○] その他 (中間サーバー・プラットフォーム)",
             "事前", "", "same-revision", (HANAKO,), kind=model.CHECKS,
             warnings=("※のない項目ですが、同じ改訂の事前の変更に連動しています",)),
        _row(YOBO, "zenkomoku", "disclosure.request.register_place", "第二庁舎2階 情報公開センター",
             "越谷市役所エントランス棟2階 行政資料コーナー", "事後", "軽微な修正", "heuristic:contact", (TARO,)),
        _row(YOBO, "zenkomoku", "disclosure.inquiry.contact", "保健医療部健康づくり推進課\nTEL 048-963-9111 | FAX 048-963-9112",
             "保健医療部市民健康課\nTEL 048-963-9111 | FAX 048-963-9113", "事後", "軽微な修正", "heuristic:contact", (KOBAYASHI,)),
        _row(YOBO, "zenkomoku", "procedure.basic_assessment.conducted_on", "令和2年12月15日", "令和8年3月16日",
             "事前", "評価の再実施に伴う変更", "procedure:follow-revision", (HANAKO,)),
        _row(KENKO, "juten", "files.1.outsourcing.items.2.contractor", "株式会社呉情報サービス",
             "株式会社くれ情報サービス", "事後", "軽微な修正", "override", (KOBAYASHI, TARO),
             override=True, day=dt.date(2026, 3, 10), assessment="34202-kenko"),
    )
    return model.Report(
        since="v2025.1", until="3f2a1c9e5b7d", per_commit=False, rows=rows,
        assessments=(
            {"assessment": "yobosesshu", "file": YOBO, "form": "zenkomoku",
             "title": "新型インフルエンザ等対策特別措置法による予防接種の実施に関する事務", "number": "1320"},
            {"assessment": "34202-kenko", "file": KENKO, "form": "juten",
             "title": "健康増進法による健康増進事業の実施に関する事務", "number": ""},
        ),
        findings=(model.Finding("yobosesshu", YOBO, "基礎項目評価 ①実施日から5年以上が経過していました（令和2年12月15日）"),),
        has_jizen=True,
    )


SCRIPT = "<script>alert('x')</script>"
IMG = '"><img src=x onerror=alert(1)>'
JINJA = "{{ 7*7 }} {% if true %}yes{% endif %} {# c #}"
FORMULAS = ("=HYPERLINK(\"http://evil.example\",\"x\")", "+1+2", "-", "@SUM(A1)", "\tx", "\rx", "-1")


def hostile_report() -> model.Report:
    """Return a report whose every text field tries to break out of its output format."""
    rows = tuple(
        _row("assessments/x.toml", "juten", "disclosure.inquiry.contact", text, f"{SCRIPT}|{IMG}\n{JINJA}",
             "事後", text, text, (HANAKO,), warnings=(SCRIPT,), assessment=IMG)
        for text in (SCRIPT, IMG, JINJA, *FORMULAS)
    )
    return model.Report(since=SCRIPT, until=JINJA, per_commit=True, rows=rows,
                        assessments=({"assessment": IMG, "file": "assessments/x.toml", "form": "juten", "title": SCRIPT, "number": JINJA},),
                        findings=(model.Finding(IMG, "assessments/x.toml", SCRIPT, "error"),))


def check_golden(name: str, text: str) -> None:
    """Compare text with tests/golden/<name>, or rewrite it when regenerating."""
    path = GOLDEN / name
    if REGEN:
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(text.encode("utf-8"))
    assert path.exists(), f"missing golden file {path}; run with PIACHANGE_REGEN_GOLDEN=1"
    assert text == path.read_bytes().decode("utf-8")


def xlsx_readback(raw: bytes) -> dict:
    """Return what a reviewer sees in the workbook: sheets, cells, types, fills, layout."""
    wb = openpyxl.load_workbook(io.BytesIO(raw))
    out: dict = {"sheets": wb.sheetnames}
    for ws in wb.worksheets:
        out[ws.title] = {
            "freeze": ws.freeze_panes,
            "filter": ws.auto_filter.ref,
            "widths": {k: v.width for k, v in sorted(ws.column_dimensions.items())},
            "rows": [[c.value for c in r] for r in ws.iter_rows()],
            "types": sorted({c.data_type for r in ws.iter_rows() for c in r}),
            "filled": [r[0].row for r in ws.iter_rows(min_row=2) if r[0].fill.fgColor.rgb not in (None, "00000000")],
            "wrapped": all(c.alignment.wrap_text for r in ws.iter_rows() for c in r),
        }
    return out


# ───────── golden files ─────────


@pytest.mark.parametrize("fmt", ["md", "html", "csv", "json"])
def test_golden_text_formats(fmt: str) -> None:
    check_golden(f"report.{fmt}", render.render(sample_report(), fmt).decode("utf-8"))


def test_golden_xlsx_read_back() -> None:
    got = xlsx_readback(render.render(sample_report(), "xlsx"))
    check_golden("report.xlsx.json", json.dumps(got, ensure_ascii=False, indent=1) + "\n")


# ───────── the model ─────────


def test_report_json_names_are_stable() -> None:
    data = render.report_json(sample_report())
    assert list(data) == ["since", "until", "per_commit", "has_jizen", "findings", "assessments", "rows"]
    assert list(data["rows"][0]) == ["assessment", "file", "path", "item", "date", "date_wareki", "before", "after",
                                     "timing", "reason", "rule", "commits", "author", "warnings", "override", "form", "kind", "star",
                                     "copy_of"]
    row = data["rows"][7]
    assert row["path"] == "files.1.outsourcing.items.2.contractor"
    assert row["date"] == "2026-03-10" and row["date_wareki"] == "令和8年3月10日"
    assert row["commits"] == [KOBAYASHI.sha, TARO.sha] and row["author"] == "小林 誠, 佐藤 太郎"
    assert data["rows"][1]["star"] is True and data["rows"][1]["item"].startswith("Ⅲ ")
    assert json.loads(render.render(sample_report(), "json")) == data


def test_every_row_has_an_assessment_entry_and_jizen_is_not_lost() -> None:
    r = sample_report()
    bare = model.Report(since="a", until="b", per_commit=False, rows=r.rows)  # builder forgot both
    data = render.report_json(bare)
    assert [a["assessment"] for a in data["assessments"]] == ["yobosesshu", "34202-kenko"]
    assert data["assessments"][1]["annex"] == "(別添2) 変更箇所"
    assert data["has_jizen"] is True
    md = render.render(bare, "md").decode()
    assert "この提出には事前の提出が必要な変更が含まれます" in md
    assert sum(line.startswith("| 令和8年") for line in md.splitlines()) == len(r.rows)


def test_two_municipalities_with_the_same_title_are_told_apart() -> None:
    title = "健康増進法による健康増進事業の実施に関する事務"
    rows = tuple(_row(f"assessments/{f}.toml", "juten", "basic.department.name", "福祉保健部", "保健部", "事後", "", "x", (TARO,),
                      assessment=f"{org} 5") for f, org in (("kure", "呉市長"), ("hiroshima", "広島市長")))
    report = model.Report(since="a", until="b", per_commit=False, rows=rows, assessments=tuple(
        {"assessment": f"{org} 5", "file": f"assessments/{f}.toml", "form": "juten", "title": title, "number": "5", "organization": org}
        for f, org in (("kure", "呉市長"), ("hiroshima", "広島市長"))))
    html = render.render(report, "html").decode()
    assert f'<option value="呉市長 5">{title}（呉市長 5）</option>' in html
    assert f'<option value="広島市長 5">{title}（広島市長 5）</option>' in html
    for fmt in ("md", "html"):
        page = render.render(report, fmt).decode()
        assert "評価実施機関名 呉市長 ・ 評価書番号 5" in page and "評価実施機関名 広島市長 ・ 評価書番号 5" in page, fmt


def test_no_jizen_no_notice_and_empty_report() -> None:
    r = sample_report()
    jigo = model.Report(since="a", until="b", per_commit=False, rows=tuple(x for x in r.rows if x.timing == "事後"), assessments=r.assessments)
    for fmt in ("md", "html"):
        assert "事前の提出が必要" not in render.render(jigo, fmt).decode()
    empty = model.Report(since="a", until="a", per_commit=False, rows=())
    assert "変更はありません" in render.render(empty, "md").decode()
    assert "変更はありません" in render.render(empty, "html").decode()
    assert render.render(empty, "csv").decode("utf-8-sig").count("\r\n") == 1


def test_unknown_format_is_a_user_error() -> None:
    with pytest.raises(PiaError, match="unknown report format 'pdf'"):
        render.render(sample_report(), "pdf")


# ───────── markdown ─────────


def test_markdown_cells_cannot_break_the_table() -> None:
    md = render.render(hostile_report(), "md").decode()
    assert "<script>" not in md and "<img" not in md
    assert "&lt;script&gt;alert('x')&lt;/script&gt;" in md
    table = [line for line in md.splitlines() if line.startswith("| 令和")]
    assert len(table) == len(hostile_report().rows)
    header_cells = len(re.split(r"(?<!\\)\|", md.splitlines()[md.splitlines().index(next(x for x in md.splitlines() if x.startswith("| 変更日")))]))
    for line in table:  # same number of unescaped pipes as the header: no cell leaked into the next
        assert len(re.split(r"(?<!\\)\|", line)) == header_cells
    assert "\\|" in md and "<br>" in md
    assert "{{ 7\\*7 }}" in md


def test_md_cell() -> None:
    assert render.md_cell("a|b\r\nc\nd") == "a\\|b<br>c<br>d"
    assert render.md_cell("[○] x *y* `z` <b>&") == "\\[○\\] x \\*y\\* \\`z\\` &lt;b&gt;&amp;"
    assert render.md_cell("連絡先 @minatodai 担当@it kojin@example.lg.jp ＠全角 @") == (
        "連絡先 @<!-- -->minatodai 担当@<!-- -->it kojin@example.lg.jp ＠全角 @")


# ───────── html ─────────


def test_html_shows_hostile_text_literally() -> None:
    html = render.render(hostile_report(), "html").decode()
    body = html.split("<body>", 1)[1].rsplit("<script>", 1)[0]
    assert "<script" not in body and "<img" not in body and "onerror=alert(1)>" not in body
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in body
    assert "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;" in body
    assert "{{ 7*7 }} {% if true %}yes{% endif %} {# c #}" in body and "49" not in body
    assert html.count("<script>") == 1


def test_html_is_self_contained_and_csp_allows_only_its_script() -> None:
    html = render.render(sample_report(), "html").decode()
    assert not re.search(r"""(src|href)\s*=|<link|@import|url\(""", html, re.I)
    script = re.search(r"<script>(.*?)</script>", html, re.S).group(1)  # type: ignore[union-attr]
    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    assert f"script-src 'sha256-{digest}'" in html
    assert "@media print" in html and 'id="filters" class="filters" hidden' in html
    # 令和10年12月31日 (5 kanji, 6 digits) and the 提出時期 header fit their columns without a break
    assert "col.date { width: 10em; }" in html and "td.date { white-space: nowrap; }" in html and "col.timing { width: 5.5em; }" in html
    assert '<td class="date">令和8年3月16日</td>' in html


def test_html_marks_jizen_rows_and_changed_characters() -> None:
    html = render.render(sample_report(), "html").decode()
    assert html.count('<tr class="jizen"') == 4 and html.count('<tr class="jigo"') == 4
    assert "越谷市個人情報<del>取扱事務の委託</del>に関する指針" in html
    assert "越谷市<ins>保有</ins>個人情報<ins>の適切な管理</ins>に関する指針" in html
    assert "[<del> </del>] 情報提供ネットワークシステム" in html and "[<ins>○</ins>] 情報提供ネットワークシステム" in html


# ───────── character diff ─────────


def test_char_diff_marks_only_what_changed() -> None:
    d = render.char_diff("番号法第19条第7号に基づく", "番号法第19条第8号に基づく")
    assert d["before"] == [{"text": "番号法第19条第", "changed": False}, {"text": "7", "changed": True}, {"text": "号に基づく", "changed": False}]
    assert [s["text"] for s in d["after"] if s["changed"]] == ["8"]
    d = render.char_diff("令和2年12月15日", "令和8年3月16日")  # 年 between two edits is absorbed, 月1 is kept
    assert [s["text"] for s in d["before"] if s["changed"]] == ["2年12", "5"]
    assert [s["text"] for s in d["after"] if s["changed"]] == ["8年3", "6"]
    assert render.char_diff("", "") == {"before": [], "after": []}


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet="あいうの。\n<>&xyz", max_size=60), st.text(alphabet="あいうの。\n<>&xyz", max_size=60))
def test_char_diff_segments_rebuild_both_texts(a: str, b: str) -> None:
    d = render.char_diff(a, b)
    assert "".join(s["text"] for s in d["before"]) == a
    assert "".join(s["text"] for s in d["after"]) == b
    assert all(s["text"] for s in d["before"] + d["after"])
    assert all(x["changed"] != y["changed"] for seg in d.values() for x, y in zip(seg, seg[1:]))


def test_char_diff_long_texts_align_by_sentence() -> None:
    a = "".join(f"第{i}条の規定により措置を講じる。" for i in range(400))
    b = a.replace("第200条の規定により", "第200条及び第201条の規定により")
    assert len(a) * len(b) > render._DIFF_LIMIT
    d = render.char_diff(a, b)
    assert not [s for s in d["before"] if s["changed"]]
    assert [s["text"] for s in d["after"] if s["changed"]] in (["及び第201条"], ["条及び第201"])  # same edit, either alignment


def test_char_diff_long_text_with_every_line_edited_marks_the_edits() -> None:
    # A 別紙 table whose every row cites the renumbered law: no line is unchanged to align on.
    a = "\n".join(f"{i}｜都道府県知事等｜番号法第19条第7号に基づく主務省令第2条の表{i}の項｜生活保護法による保護の決定及び実施に関する事務" for i in range(1, 80))
    b = a.replace("第7号", "第8号")
    assert len(a) * len(b) > render._DIFF_LIMIT
    d = render.char_diff(a, b)
    assert [s["text"] for s in d["before"] if s["changed"]] == ["7"] * 79
    assert [s["text"] for s in d["after"] if s["changed"]] == ["8"] * 79


# ───────── csv ─────────


def test_csv_opens_in_excel_and_cannot_run_formulas() -> None:
    raw = render.render(hostile_report(), "csv")
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
    assert rows[0][:6] == ["変更日", "項目", "変更前の記載", "変更後の記載", "提出時期", "提出時期に係る説明"]
    befores = [r[2] for r in rows[1:]]
    assert befores == [SCRIPT, IMG, JINJA, *("'" + f for f in FORMULAS)]  # 「-」 too: documented
    assert all(not cell.startswith(("=", "+", "-", "@", "\t", "\r")) for r in rows for cell in r)


def test_csv_official_columns_then_reviewer_columns() -> None:
    rows = list(csv.reader(io.StringIO(render.render(sample_report(), "csv").decode("utf-8-sig"), newline="")))
    assert rows[0] == [h for _, h in render.OFFICIAL + render.REVIEW]
    assert rows[4][2].splitlines()[0] == "[ ] 情報提供ネットワークシステム"
    assert rows[8][11] == f"{KOBAYASHI.sha} {TARO.sha}" and rows[8][9] == "○"


def test_csv_commit_ids_are_whole_so_excel_keeps_them_as_text() -> None:
    """Excel opens a CSV cell 012345678 as the number 12345678 and 1234567e8 as 1.23E+14: short ids
    can be all digits (one in 70), whole ones practically never."""
    digits = model.Commit("012345678" + "a" * 31, "x", dt.datetime(2026, 3, 10, 10, 0, tzinfo=JST), "m")
    report = dataclasses.replace(sample_report(), rows=tuple(dataclasses.replace(r, change=dataclasses.replace(r.change, commits=(digits,)))
                                                             for r in sample_report().rows[:1]))
    rows = list(csv.reader(io.StringIO(render.render(report, "csv").decode("utf-8-sig"), newline="")))
    assert rows[1][11] == digits.sha


# ───────── xlsx ─────────


def test_xlsx_stores_text_as_text() -> None:
    wb = openpyxl.load_workbook(io.BytesIO(render.render(hostile_report(), "xlsx")))
    ws = wb["変更箇所"]
    cells = [c for r in ws.iter_rows(min_row=2) for c in r if c.value is not None]
    assert {c.data_type for c in cells} == {"s"}
    befores = [r[2] for r in ws.iter_rows(min_row=2)]
    # Exact text, nothing prefixed (XML reads a bare CR back as LF).
    assert [c.value for c in befores] == [SCRIPT, IMG, JINJA, *(f.replace("\r", "\n") for f in FORMULAS)]
    assert [c.quotePrefix for c in befores] == [False] * 3 + [True] * len(FORMULAS)
    assert wb["確認事項"]["D2"].value == SCRIPT


def test_xlsx_layout() -> None:
    wb = openpyxl.load_workbook(io.BytesIO(render.render(sample_report(), "xlsx")))
    ws = wb["変更箇所"]
    assert ws.freeze_panes == "C2" and ws.print_title_rows == "$1:$1"
    assert ws["E3"].value == "事前" and ws["E3"].font.bold and ws["E3"].fill.fgColor.rgb.endswith("FCE4D6")
    assert ws["E2"].value == "事後" and not ws["E2"].font.bold


def test_xlsx_control_characters_and_oversized_cells() -> None:
    odd = model.Report(since="a", until="b", per_commit=False, rows=(_row(YOBO, "zenkomoku", "disclosure.inquiry.contact", "a\x07b", "c", "事後", "", "x", ()),))
    ws = openpyxl.load_workbook(io.BytesIO(render.render(odd, "xlsx"))).active
    assert ws["C2"].value == "a\u2407b"
    huge = model.Report(since="a", until="b", per_commit=False, rows=(_row(YOBO, "zenkomoku", "disclosure.inquiry.contact", "あ" * 40000, "c", "事後", "", "x", ()),))
    with pytest.raises(PiaError, match=r"^assessments/yobosesshu.toml: .*連絡先: 変更前の記載 has 40000 characters"):
        render.render(huge, "xlsx")
    # Excel counts in UTF-16: 𠮷 (a name's 吉) is two of its 32,767
    wide = model.Report(since="a", until="b", per_commit=False, rows=(_row(YOBO, "zenkomoku", "disclosure.inquiry.contact", "𠮷" * 20000, "c", "事後", "", "x", ()),))
    with pytest.raises(PiaError, match=r"変更前の記載 has 40000 characters"):
        render.render(wide, "xlsx")


def test_xlsx_keeps_text_that_looks_like_an_ooxml_escape() -> None:
    # Excel reads _xHHHH_ in a string as the character U+HHHH (椄 for _x6904_) unless its _ is escaped
    odd = model.Report(since="a", until="b", per_commit=False, rows=(_row(YOBO, "zenkomoku", "disclosure.inquiry.contact", "renkei_x6904_.csv", "c", "事後", "", "x", ()),))
    with zipfile.ZipFile(io.BytesIO(render.render(odd, "xlsx"))) as z:
        sheet = z.read("xl/worksheets/sheet1.xml").decode("utf-8")
    assert "renkei_x005F_x6904_.csv" in sheet and "renkei_x6904_" not in sheet


# ───────── user templates ─────────


def test_user_template_gets_the_same_model(tmp_path: pathlib.Path) -> None:
    t = tmp_path / "summary.txt"
    t.write_text("{{ report.rows | length }} {{ report.rows[0].date_wareki }} {{ report.rows[0].before }}\n", encoding="utf-8")
    assert render.render(hostile_report(), "md", str(t)).decode() == f"{len(FORMULAS) + 3} 令和8年3月16日 {SCRIPT}\n"
    h = tmp_path / "mine.html.j2"
    h.write_text("<p>{{ report.rows[0].before }}</p>{% for s in diff('ab', 'ac').after %}{{ s.text }}{% endfor %}", encoding="utf-8")
    assert render.render(hostile_report(), "html", str(h)).decode() == "<p>&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;</p>ac"


def test_user_template_can_extend_the_builtin_page(tmp_path: pathlib.Path) -> None:
    t = tmp_path / "page.html"
    t.write_text('{% extends "report.html.jinja" %}', encoding="utf-8")
    assert render.render(sample_report(), "html", str(t)) == render.render(sample_report(), "html")


@pytest.mark.parametrize(("text", "message"), [
    ("line one\n{% if %}\n", r"bad\.md:2: "),
    ("a\n\n{{ report.nope }}\n", r"bad\.md:3: .*nope"),
    ("{{ ''.__class__ }}", r"bad\.md(:1)?: .*unsafe"),
    ("\n{{ 1 / 0 }}", r"bad\.md:2: ZeroDivisionError: division by zero"),
])
def test_user_template_errors_name_file_and_line(tmp_path: pathlib.Path, text: str, message: str) -> None:
    t = tmp_path / "bad.md"
    t.write_text(text, encoding="utf-8")
    with pytest.raises(PiaError, match=message):
        render.render(sample_report(), "md", str(t))


def test_missing_user_template(tmp_path: pathlib.Path) -> None:
    with pytest.raises(PiaError, match="nope.md: template not found"):
        render.render(sample_report(), "md", str(tmp_path / "nope.md"))


# ───────── packaging and boundaries ─────────


def test_builtin_templates_are_found() -> None:
    d = render.templates_dir()
    assert all((d / n).is_file() for n in ("report.md.jinja", "report.html.jinja", "report.js"))


def test_jinja2_and_openpyxl_only_in_render() -> None:
    pattern = re.compile(r"^\s*(import|from)\s+(jinja2|openpyxl|markupsafe)\b", re.M)
    users = sorted(p.name for p in (ROOT / "piachange").rglob("*.py") if pattern.search(p.read_text(encoding="utf-8")))
    assert users == ["render.py"]


@pytest.mark.skipif(not pathlib.Path("/usr/bin/chromium").exists(), reason="needs /usr/bin/chromium")
def test_screenshot_script(tmp_path: pathlib.Path) -> None:
    out = tmp_path / "shot.png"
    subprocess.run([sys.executable, str(ROOT / "scripts" / "screenshot-html.py"), str(out)], check=True, timeout=120, capture_output=True)
    data = out.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000
    assert int.from_bytes(data[16:20], "big") == 1400  # IHDR width = --window-size


@pytest.mark.skipif(not pathlib.Path("/usr/bin/chromium").exists(), reason="needs /usr/bin/chromium")
def test_hostile_page_in_a_real_browser(tmp_path: pathlib.Path) -> None:
    page = tmp_path / "hostile.html"
    page.write_bytes(render.render(hostile_report(), "html"))
    cmd = ["/usr/bin/chromium", "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
           "--disable-component-update", "--disable-sync", f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom", page.as_uri()]
    dom = subprocess.run(cmd, check=True, timeout=120, capture_output=True, text=True).stdout
    assert '<form id="filters" class="filters">' in dom  # our script ran: its CSP hash matches
    assert "<img" not in dom and dom.count("<script>") == 1
    assert "{{ 7*7 }}" in dom


# ───────── end to end: a real repository through the report builder ─────────


def test_every_format_shows_every_row_of_a_real_report(repo: Repo) -> None:
    text = EXAMPLE_002.read_text(encoding="utf-8")
    repo.write("assessments/kenko.toml", text)
    first = repo.commit("評価書を登録")
    edited = text.replace(
        "・本市は、情報資産の状況について、検査を行うことができる。",
        "・本市は、情報資産の状況について、検査を行うことができる。\n・=HYPERLINK(\"x\") <script>alert(1)</script> {{ 7*7 }}",
    ).replace('contact = "呉市福祉保健部福祉保健課', 'contact = "-呉市福祉保健部健康増進課')
    assert edited.count("\n") == text.count("\n") + 1
    repo.write("assessments/kenko.toml", edited)
    last = repo.commit("委託契約の規定に追記し、連絡先を変更\n\nPIA-Cause: 標準化")
    report = build_report(Options(since=first, repo=str(repo.path)))
    assert len(report.rows) >= 2
    n = len(report.rows)

    data = json.loads(render.render(report, "json"))
    assert len(data["rows"]) == n and all(r["commits"] == [last] and r["author"] == "山田 花子" for r in data["rows"])
    assert {r["date_wareki"] for r in data["rows"]} == {"令和8年1月6日"}
    md = render.render(report, "md").decode()
    assert sum(line.startswith("| 令和8年1月6日 |") for line in md.splitlines()) == n
    assert "<script>" not in md
    html = render.render(report, "html").decode()
    assert html.count('<tr class="ji') == n and "<script>alert" not in html and "{{ 7*7 }}" in html
    assert "<ins>\n・=HYPERLINK(&#34;x&#34;) &lt;script&gt;alert(1)&lt;/script&gt; {{ 7*7 }}</ins>" in html
    rows = list(csv.reader(io.StringIO(render.render(report, "csv").decode("utf-8-sig"), newline="")))
    assert len(rows) == n + 1 and "'-呉市福祉保健部健康増進課" in {c[3].split(" ")[0] for c in rows}
    ws = openpyxl.load_workbook(io.BytesIO(render.render(report, "xlsx")))["変更箇所"]
    assert ws.max_row == n + 1 and {c.data_type for r in ws.iter_rows() for c in r if c.value is not None} == {"s"}
