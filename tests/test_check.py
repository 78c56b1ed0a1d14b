"""piachange check: every problem as one ``file:line: message`` line, exit 1, nothing written."""

from __future__ import annotations

import datetime as dt
import os
import pathlib
import re
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from piachange.cli import app

from conftest import ROOT

AS_OF = "2026-11-23"  # the samples' dates are judged on a fixed day: a test must not fail in 2030
_LINE = re.compile(r"^(?P<file>[^:]+):(?P<line>\d+): (?P<msg>.*)$")

# One problem per kind the task names: a date that does not exist, a choice not on the form,
# a misspelt key. Their lines are 7, 11 and 12.
THREE_PROBLEMS = """\
[meta]
form = "juten"
schema_version = 1

[cover]
number = "1"
published_on = "令和6年2月30日"

[basic.affair]
name = "介護保険に関する事務"
population = "10万人以上"
nmae = "重点項目評価書"
"""


def run(*args: str, cwd: pathlib.Path) -> subprocess.CompletedProcess[str]:
    """Run the real CLI in a separate process, as a user would."""
    env = {**os.environ, "PYTHONUTF8": "1", "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "piachange", *args], cwd=cwd, env=env, capture_output=True, text=True, encoding="utf-8", timeout=120
    )


def problems(stderr: str) -> list[tuple[str, int, str]]:
    """Return the ``file:line: message`` lines of an output as (file, line, message)."""
    out = []
    for line in stderr.splitlines():
        m = _LINE.match(line)
        if m:
            out.append((m["file"], int(m["line"]), m["msg"]))
    return out


def write(tmp: pathlib.Path, name: str, text: str) -> pathlib.Path:
    p = tmp / name
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(text, encoding="utf-8")
    return p


def test_three_problems_three_lines_with_their_line_numbers(tmp_path: pathlib.Path) -> None:
    bad = write(tmp_path, "bad.toml", THREE_PROBLEMS)
    before = bad.read_bytes(), bad.stat().st_mtime_ns
    done = run("check", "bad.toml", cwd=tmp_path)
    assert done.returncode == 1
    found = problems(done.stderr)
    assert [(f, n) for f, n, _ in found] == [("bad.toml", 7), ("bad.toml", 11), ("bad.toml", 12)]
    assert "2024-02-30 does not exist" in found[0][2]
    assert "'10万人以上' is not a choice" in found[1][2]
    assert "unknown key 'basic.affair.nmae'" in found[2][2]
    assert "Traceback" not in done.stderr
    assert done.stderr.splitlines()[-1] == "3 problem(s) in 1 file(s)"
    assert (bad.read_bytes(), bad.stat().st_mtime_ns) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.toml"]  # no temporary or output files


def test_the_same_through_the_typer_runner(tmp_path: pathlib.Path) -> None:
    bad = write(tmp_path, "bad.toml", THREE_PROBLEMS)
    result = CliRunner().invoke(app, ["check", str(bad)])
    assert result.exit_code == 1
    assert [n for _, n, _ in problems(result.stderr)] == [7, 11, 12]
    assert result.stdout == ""


def test_a_date_that_toml_itself_refuses_is_located(tmp_path: pathlib.Path) -> None:
    write(tmp_path, "bad.toml", '[meta]\nform = "juten"\n\n[cover]\npublished_on = 2024-02-30\n')
    done = run("check", "bad.toml", cwd=tmp_path)
    assert done.returncode == 1
    [(_, line, msg)] = problems(done.stderr)
    assert line == 5 and msg.startswith("invalid TOML")


def test_a_full_wareki_date_as_text_is_told_to_become_a_toml_date(tmp_path: pathlib.Path) -> None:
    write(tmp_path, "a.toml", '[meta]\nform = "kiso"\n\n[cover]\npublished_on = "令和7年3月14日"\n')
    [(_, line, msg)] = problems(run("check", "a.toml", cwd=tmp_path).stderr)
    assert line == 5 and "as a TOML date: 2025-03-14" in msg


@pytest.mark.parametrize(
    ("text", "line", "hint"),
    [
        ('[meta]\nform = "juten"\n\n[risks.1.acquisition.risk1]\nsufficiency = "十分でる"\n', 5, "(did you mean '十分である'?)"),
        ('[meta]\nform = "juten"\n\n[basic.affair]\nnmae = "x"\n', 5, "(did you mean 'name'?)"),
        ('[meta]\nform = "jutne"\n', 2, "(did you mean 'juten'?)"),
        ('[meta]\nfrom = "juten"\n', 1, "missing form kind"),
        ('[meta]\nform = "zenkomoku"\n\n[files.1.acquisition.sources]\nprincipal = true\ninternal_dpt = true\n', 6, "(did you mean 'internal_dept'?)"),
    ],
    ids=["choice", "key", "form-kind", "meta-key", "checkbox"],
)
def test_suggestions(tmp_path: pathlib.Path, text: str, line: int, hint: str) -> None:
    write(tmp_path, "a.toml", text)
    done = run("check", "a.toml", cwd=tmp_path)
    assert done.returncode == 1
    found = problems(done.stderr)
    assert (found[0][1], hint in found[0][2]) == (line, True), done.stderr


def test_a_file_without_a_form_kind(tmp_path: pathlib.Path) -> None:
    write(tmp_path, "a.toml", '# 下書き\n\n[cover]\nnumber = "1"\n')
    done = run("check", "a.toml", cwd=tmp_path)
    assert done.returncode == 1
    [(name, line, msg)] = problems(done.stderr)
    assert (name, line) == ("a.toml", 1)
    assert msg.startswith("missing form kind: add [meta] form")


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ('[meta]\nform = "juten"\n\n[cover]\nnumber = "1\ntitle = "x"\n', 5),  # string not closed on its line
        ('[meta]\nform = "juten"\n\n[cover]\nnumber = "1"\nnumber = "2"\n', 6),  # key defined twice
        ('[meta]\nform = "juten"\n\n[cover\nnumber = "1"\n', 4),  # header not closed
        ('[meta]\nform = "juten"\ndescription = \'\'\'\n一行目\n二行目\n', 3),  # ''' that never ends: where it starts
    ],
    ids=["unclosed-string", "duplicate-key", "unclosed-header", "unterminated-multiline"],
)
def test_invalid_toml_is_located(tmp_path: pathlib.Path, text: str, line: int) -> None:
    write(tmp_path, "a.toml", text)
    done = run("check", "a.toml", cwd=tmp_path)
    assert done.returncode == 1
    [(name, found_line, msg)] = problems(done.stderr)
    assert (name, found_line) == ("a.toml", line), done.stderr
    assert msg.startswith("invalid TOML")
    assert "Traceback" not in done.stderr


def test_problems_in_one_file_do_not_hide_the_others(tmp_path: pathlib.Path) -> None:
    write(tmp_path, "assessments/a-invalid.toml", '[meta]\nform = "juten"\n[cover\n')
    write(tmp_path, "assessments/b-three.toml", THREE_PROBLEMS)
    write(tmp_path, "assessments/c-good.toml", (ROOT / "assessments" / "jido-teate-kiso.toml").read_text(encoding="utf-8"))
    write(tmp_path, "assessments/sub/d-nokind.toml", "[cover]\n")
    done = run("check", "--as-of", AS_OF, cwd=tmp_path)  # default: assessments/
    assert done.returncode == 1
    found = problems(done.stderr)
    files = [f for f, _, _ in found]
    a, b, d = (os.path.join("assessments", n) for n in ("a-invalid.toml", "b-three.toml", os.path.join("sub", "d-nokind.toml")))
    assert files == [a, b, b, b, d]
    assert done.stderr.splitlines()[-1] == "5 problem(s) in 4 file(s)"


def test_valid_files_pass_and_warnings_do_not_fail(tmp_path: pathlib.Path) -> None:
    text = (ROOT / "assessments" / "kaigo-juten.toml").read_text(encoding="utf-8")
    write(tmp_path, "ok.toml", text)
    warn = text.replace("count = 2  # 委託の有無 件数 ※", "count = 3  # 委託の有無 件数 ※")
    write(tmp_path, "warn.toml", warn.replace('number = "7"', 'number = "99"'))
    done = run("check", "ok.toml", "warn.toml", "--as-of", AS_OF, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    [(name, line, msg)] = problems(done.stderr)
    assert name == "warn.toml" and msg.startswith("warning: 委託の有無 says (3) 件 but 2 委託事項")
    assert text.splitlines()[line - 1].startswith("count = 2")
    assert done.stderr.splitlines()[-1] == "2 file(s) ok, 1 warning(s)"


def test_two_files_of_one_assessment_are_a_problem(tmp_path: pathlib.Path) -> None:
    # a report takes files with the same 評価実施機関名 and 評価書番号 for one assessment
    text = (ROOT / "assessments" / "kaigo-juten.toml").read_text(encoding="utf-8")
    write(tmp_path, "assessments/kaigo.toml", text)
    write(tmp_path, "assessments/kaigo-copy.toml", text)
    write(tmp_path, "assessments/other-city/kaigo.toml", text.replace('organization = "みなと台市長"', 'organization = "さくら町長"'))
    done = run("check", "--as-of", AS_OF, cwd=tmp_path)
    assert done.returncode == 1
    [(name, line, msg)] = problems(done.stderr)
    assert name == os.path.join("assessments", "kaigo.toml")  # the second one read (sorted: kaigo-copy first)
    assert text.splitlines()[line - 1].startswith('number = "7"')
    assert msg == ("評価書番号 '7' of みなと台市長 is also the number of " + os.path.join("assessments", "kaigo-copy.toml")
                   + ": a report would take the two for one assessment")


def test_a_missing_path_is_one_line(tmp_path: pathlib.Path) -> None:
    done = run("check", "nowhere.toml", cwd=tmp_path)
    assert done.returncode == 1
    assert done.stderr.splitlines()[0] == "nowhere.toml: no such file or directory"
    assert "Traceback" not in done.stderr


# ---------------------------------------------------------------- what reviewers check by hand (rules.md §7)

def _warnings(tmp_path: pathlib.Path, sample: str, *edits: tuple[str, str], today: dt.date | None = None) -> list[tuple[int, str]]:
    """Return (line, message) of the warnings of a bundled sample with ``edits`` applied (each must apply),
    checked on ``today`` when given."""
    from piachange.workspace import check_paths

    text = (ROOT / "assessments" / sample).read_text(encoding="utf-8")
    for old, new in edits:
        assert old in text, old
        text = text.replace(old, new, 1)
    write(tmp_path, sample, text)
    out = check_paths([str(tmp_path / sample)], today=today)
    assert not out.problems, out.problems
    return [(w.line, w.message) for w in out.warnings]


def test_the_samples_agree_with_themselves(tmp_path: pathlib.Path) -> None:
    for sample in ("jido-teate-kiso.toml", "kaigo-juten.toml", "yobosesshu-zenkomoku.toml"):
        assert _warnings(tmp_path, sample) == []


def test_a_kiso_threshold_result_that_the_counts_do_not_give(tmp_path: pathlib.Path) -> None:
    # 1万人以上10万人未満 with 500人以上 取扱者 gives 基礎 + 重点, not 基礎 alone
    [(line, msg)] = _warnings(tmp_path, "jido-teate-kiso.toml", ('count = "500人未満"', 'count = "500人以上"'))
    assert msg == ("warning: しきい値判断結果 is 「基礎項目評価の実施が義務付けられる」 but 対象人数, 取扱者数 and 重大事故 give "
                   "「基礎項目評価及び重点項目評価の実施が義務付けられる」 (docs/rules.md §7)")
    assert (ROOT / "assessments" / "jido-teate-kiso.toml").read_text(encoding="utf-8").splitlines()[line - 1].startswith("result = ")


def test_a_threshold_result_left_open_by_a_blank_count_is_checked_against_both_columns(tmp_path: pathlib.Path) -> None:
    blank = ('count = "500人未満"', 'count = ""')
    # 1万人以上10万人未満 is 基礎, or 基礎 + 重点 with 500人以上 取扱者: the 基礎 stated is still possible
    assert _warnings(tmp_path, "jido-teate-kiso.toml", blank) == []
    # 10万人以上30万人未満 is never 基礎 alone, whatever 取扱者数 is
    [(_, msg)] = _warnings(tmp_path, "jido-teate-kiso.toml", ('count = "1万人以上10万人未満"', 'count = "10万人以上30万人未満"'), blank)
    assert msg.endswith("give 「基礎項目評価及び重点項目評価の実施が義務付けられる」 or 「基礎項目評価及び全項目評価の実施が義務付けられる」"
                        " (docs/rules.md §7)")


@pytest.mark.parametrize(("sample", "edits", "allowed"), [
    # a 重点 of 10万人以上30万人未満 stating 基礎 alone (its form adds 「(任意に重点項目評価を実施)」)
    ("kaigo-juten.toml", [('threshold = "基礎項目評価及び重点項目評価の実施が義務付けられる"',
                           'threshold = "基礎項目評価の実施が義務付けられる(任意に重点項目評価を実施)"')],
     "「基礎項目評価及び重点項目評価の実施が義務付けられる」 or 「基礎項目評価及び全項目評価の実施が義務付けられる」"),
    # a 全項目 of 30万人以上 stating 基礎 + 重点
    ("yobosesshu-zenkomoku.toml", [('population = "10万人以上30万人未満"', 'population = "30万人以上"'),
                                   ('threshold = "基礎項目評価及び全項目評価の実施が義務付けられる"',
                                    'threshold = "基礎項目評価及び重点項目評価の実施が義務付けられる(任意に全項目評価を実施)"')],
     "「基礎項目評価及び全項目評価の実施が義務付けられる」"),
])
def test_a_juten_or_zenkomoku_threshold_result_is_checked_against_its_population(
        tmp_path: pathlib.Path, sample: str, edits: list[tuple[str, str]], allowed: str) -> None:
    [(line, msg)] = _warnings(tmp_path, sample, *edits)
    assert msg.startswith("warning: しきい値判断結果 is 「") and msg.endswith(f"gives {allowed} (docs/rules.md §7)")
    assert (tmp_path / sample).read_text(encoding="utf-8").splitlines()[line - 1].startswith("threshold = ")


def test_subcontracting_without_subcontracted_work_and_an_assurance_that_denies_it(tmp_path: pathlib.Path) -> None:
    warnings = _warnings(tmp_path, "kaigo-juten.toml",
                         ('subcontract_work = "法改正に伴うプログラム修正のうち、帳票レイアウト変更に係る開発作業"', 'subcontract_work = ""'),
                         ('subcontract_assurance = "十分に行っている"', 'subcontract_assurance = "再委託していない"'))
    assert [m for _, m in warnings] == [
        "warning: 委託事項1 says 再委託する but no 再委託事項 is written",
        "warning: 再委託先の適切な取扱い says 再委託していない but 委託事項1、2 say 再委託する",
    ]


@pytest.mark.parametrize("work", ["", "なし", "－"])
def test_subcontracting_with_a_subcontracted_work_that_says_there_is_none(tmp_path: pathlib.Path, work: str) -> None:
    warnings = _warnings(tmp_path, "kaigo-juten.toml",
                         ('subcontract_work = "法改正に伴うプログラム修正のうち、帳票レイアウト変更に係る開発作業"', f'subcontract_work = "{work}"'))
    assert [m for _, m in warnings] == ["warning: 委託事項1 says 再委託する but no 再委託事項 is written"]


@pytest.mark.parametrize(("sample", "edit", "item"), [
    ("yobosesshu-zenkomoku.toml", ('subcontract_work = "なし"', 'subcontract_work = "システムの運用業務における技術支援作業"'), "1"),
    ("kaigo-juten.toml", ('subcontract = "再委託する"', 'subcontract = "再委託しない"'), "1"),
], ids=["zenkomoku", "juten"])
def test_no_subcontracting_with_subcontracted_work(tmp_path: pathlib.Path, sample: str, edit: tuple[str, str], item: str) -> None:
    [(line, msg)] = _warnings(tmp_path, sample, edit)
    assert msg == f"warning: 委託事項{item} says 再委託しない but a 再委託事項 is written"
    assert (tmp_path / sample).read_text(encoding="utf-8").splitlines()[line - 1].startswith('subcontract = "再委託しない"')


@pytest.mark.parametrize("work", ["", "　", "該当なし", "無し", "－"])
def test_no_subcontracting_with_a_subcontracted_work_that_says_there_is_none(tmp_path: pathlib.Path, work: str) -> None:
    # the sample writes 「なし」 there; a blank or another way of saying none agrees with 再委託しない too
    assert _warnings(tmp_path, "yobosesshu-zenkomoku.toml", ('subcontract_work = "なし"', f'subcontract_work = "{work}"')) == []


# ---------------------------------------------------------------- the 5-year re-assessment (規則第15条)

_DUE = "is 5 years old or more; 規則第15条 asks for a re-assessment within 5 years"


@pytest.mark.parametrize(("sample", "label", "day", "key"), [
    ("jido-teate-kiso.toml", "表紙 公表日", dt.date(2025, 3, 14), "published_on"),
    ("kaigo-juten.toml", "Ⅴ 評価実施手続 1. 基礎項目評価 ①実施日", dt.date(2025, 5, 30), "conducted_on"),
    ("yobosesshu-zenkomoku.toml", "Ⅵ 評価実施手続 1. 基礎項目評価 ①実施日", dt.date(2025, 7, 15), "conducted_on"),
], ids=["kiso", "juten", "zenkomoku"])
def test_a_last_assessment_5_years_old_is_a_warning(tmp_path: pathlib.Path, sample: str, label: str, day: dt.date, key: str) -> None:
    five = day.replace(year=day.year + 5)
    assert _warnings(tmp_path, sample, today=five - dt.timedelta(days=1)) == []
    [(line, msg)] = _warnings(tmp_path, sample, today=five)  # the same day 5 years on counts
    assert msg == f"warning: {label} {day.isoformat()} {_DUE}"
    assert (tmp_path / sample).read_text(encoding="utf-8").splitlines()[line - 1].startswith(f"{key} = {day.isoformat()}")
    assert len(_warnings(tmp_path, sample, today=five.replace(year=five.year + 3))) == 1


def test_29_february_is_5_years_old_on_28_february(tmp_path: pathlib.Path) -> None:
    leap = ("conducted_on = 2025-05-30", "conducted_on = 2020-02-29")
    assert _warnings(tmp_path, "kaigo-juten.toml", leap, today=dt.date(2025, 2, 27)) == []
    [(_, msg)] = _warnings(tmp_path, "kaigo-juten.toml", leap, today=dt.date(2025, 2, 28))
    assert msg.endswith(f"①実施日 2020-02-29 {_DUE}")


@pytest.mark.parametrize("value", ['""', '"未定"', '"令和2年4月"'])
def test_a_last_assessment_without_a_full_date_is_not_judged(tmp_path: pathlib.Path, value: str) -> None:
    edit = ("conducted_on = 2025-05-30", f"conducted_on = {value}")
    assert _warnings(tmp_path, "kaigo-juten.toml", edit, today=dt.date(2099, 1, 1)) == []


def test_the_age_is_checked_by_check_only(tmp_path: pathlib.Path) -> None:
    # validation also runs over every old version a report reads: an old date there is no warning
    from piachange.document import load_bytes

    text = (ROOT / "assessments" / "kaigo-juten.toml").read_text(encoding="utf-8").replace("conducted_on = 2025-05-30", "conducted_on = 2015-04-01", 1)
    assert load_bytes(text.encode("utf-8"), "kaigo.toml").warnings == ()
    write(tmp_path, "kaigo.toml", text)
    done = run("check", "kaigo.toml", cwd=tmp_path)  # the command checks against the date today
    assert done.returncode == 0, done.stderr
    [(name, line, msg)] = problems(done.stderr)
    assert (name, msg) == ("kaigo.toml", f"warning: Ⅴ 評価実施手続 1. 基礎項目評価 ①実施日 2015-04-01 {_DUE}")
    assert text.splitlines()[line - 1].startswith("conducted_on = 2015-04-01")
    assert done.stderr.splitlines()[-1] == "1 file(s) ok, 1 warning(s)"
    assert _warnings(tmp_path, "kaigo-juten.toml", ("conducted_on = 2025-05-30", "conducted_on = 2015-04-01")) == []


def test_as_of_judges_the_age_on_another_day(tmp_path: pathlib.Path) -> None:
    write(tmp_path, "kaigo.toml", (ROOT / "assessments" / "kaigo-juten.toml").read_text(encoding="utf-8"))
    assert run("check", "kaigo.toml", "--as-of", "2030-05-29", cwd=tmp_path).stderr.strip() == "1 file(s) ok"
    due = run("check", "kaigo.toml", "--as-of", "令和12年5月30日", cwd=tmp_path)
    assert (due.returncode, due.stderr.splitlines()[-1]) == (0, "1 file(s) ok, 1 warning(s)")
    bad = run("check", "kaigo.toml", "--as-of", "2030-02-30", cwd=tmp_path)
    assert (bad.returncode, bad.stderr.strip()) == (1, "Error: --as-of: '2030-02-30' is not a date: day is out of range for month")
    empty = run("check", "kaigo.toml", "--as-of", "", cwd=tmp_path)  # an unset variable in a script: not today
    assert (empty.returncode, empty.stderr.strip()) == (1, "Error: --as-of: '' is not a 和暦 date (expected e.g. 令和6年4月1日)")


@pytest.mark.parametrize("day", ["9999-12-31", "9996-02-29"])
def test_a_last_assessment_in_the_last_years_a_date_can_have_is_not_due(tmp_path: pathlib.Path, day: str) -> None:
    edit = ("conducted_on = 2025-05-30", f"conducted_on = {day}")
    assert _warnings(tmp_path, "kaigo-juten.toml", edit, today=dt.date(9999, 12, 31)) == []


def test_two_files_of_the_same_name_are_a_warning_at_the_second(tmp_path: pathlib.Path) -> None:
    from piachange.workspace import check_paths

    text = (ROOT / "assessments" / "kaigo-juten.toml").read_text(encoding="utf-8")
    name = "介護保険情報ファイル"
    assert f'name = "{name}"  # 1. 特定個人情報ファイル名' in text
    write(tmp_path, "x.toml", text + f'\n[files.2]\nname = "{name}"\n\n[risks.2]\n')
    out = check_paths([str(tmp_path / "x.toml")])
    assert not out.problems, out.problems
    [w] = [w for w in out.warnings if "both named" in w.message]
    assert w.message == f"warning: 特定個人情報ファイル1 and 2 are both named 「{name}」: the 変更箇所 table could not tell their rows apart"
    assert (tmp_path / "x.toml").read_text(encoding="utf-8").splitlines()[w.line - 1] == f'name = "{name}"'
