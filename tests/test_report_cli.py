"""``piachange report`` over real repositories: ranges, modes, dates, files, and a read-only work tree."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import pathlib
from typing import Any

import pytest

from piachange import model
from piachange.report import Options, build_report

from conftest import SAMPLES, Repo, run_main
from docs_factory import base, text, with_systems

KENKO = "assessments/kenko.toml"


def cli(args: list[str], cwd: pathlib.Path, monkeypatch: pytest.MonkeyPatch, capsysbinary: Any) -> tuple[int, bytes, str]:
    """Run the real command line in-process; return (exit code, stdout bytes, stderr text)."""
    code = run_main(args, cwd, monkeypatch)
    out, err = capsysbinary.readouterr()
    return code, out, err.decode("utf-8")


def rows_of(out: bytes) -> list[dict[str, Any]]:
    return json.loads(out)["rows"]


@pytest.fixture
def hist(repo: Repo) -> dict[str, str]:
    """Five commits, 2026-01-05 … 01-09 at 09:00 JST; tag v1 at the first."""
    shas = {}
    repo.write(KENKO, text(with_systems(4)))
    shas["init"] = repo.commit("初版")
    repo.git("tag", "v1")
    d = with_systems(4)
    del d["basic"]["systems"]["2"]
    repo.write(KENKO, text(d))
    shas["sys2"] = repo.commit("システム2 の廃止\n\nPIA-Cause: 事務の終了")
    d["basic"]["department"]["head_title"] = "健康推進課長"
    repo.write(KENKO, text(d))
    shas["title"] = repo.commit("所属長の役職名\n\nPIA-Cause: 人事異動\nPIA-Date: 2026-04-01")
    canonical = text(d)
    repo.write(KENKO, "# 手で整えた版\n" + canonical.replace("  # ", "   # ", 40).replace(" = ", "   =   ", 40))
    shas["messy"] = repo.commit("書式の乱れ")
    repo.write(KENKO, canonical)
    shas["fmt"] = repo.commit("piachange fmt")
    d["basic"]["department"]["head_title"] = "健康づくり課長"
    repo.write(KENKO, text(d))
    shas["title2"] = repo.commit("所属長の役職名 (再)")
    return shas


def test_deleting_system2_of_4_yields_rows_for_system2_only(repo: Repo, hist: dict[str, str], monkeypatch: pytest.MonkeyPatch, capsysbinary: Any) -> None:
    code, out, err = cli(["report", "--since", "v1", "--until", hist["sys2"], "--format", "json"], repo.path, monkeypatch, capsysbinary)
    assert code == 0, err
    [row] = rows_of(out)
    assert (row["path"], row["kind"], row["after"]) == ("basic.systems.2", "instance_removed", "（削除）")
    assert row["item"].endswith("システム2")
    assert row["date"] == "2026-01-06" and row["commits"] == [hist["sys2"]]


def test_net_mode_one_row_per_item_with_every_commit(repo: Repo, hist: dict[str, str]) -> None:
    report = build_report(Options(since="v1", repo=str(repo.path)))
    rows = {r.change.path[-1]: r for r in report.rows}
    assert set(rows) == {"2", "head_title"}
    title = rows["head_title"]
    assert (title.change.before_text, title.change.after_text) == ("福祉保健課長", "健康づくり課長")
    assert [c.sha for c in title.change.commits] == [hist["title"], hist["title2"]]  # oldest first; fmt-only commits never touch
    assert title.date == dt.date(2026, 1, 10)  # the newest touching commit, which has no PIA-Date
    assert (report.since, report.until) == (hist["init"][:9], hist["title2"][:9])
    assert not report.per_commit


def test_per_commit_mode_one_row_per_item_per_commit(repo: Repo, hist: dict[str, str]) -> None:
    report = build_report(Options(since="v1", repo=str(repo.path), per_commit=True))
    got = [(r.change.path[-1], r.change.after_text, r.date, r.change.commits[0].sha) for r in report.rows]
    assert got == [
        ("2", "（削除）", dt.date(2026, 1, 6), hist["sys2"]),
        ("head_title", "健康づくり課長", dt.date(2026, 1, 10), hist["title2"]),
        ("head_title", "健康推進課長", dt.date(2026, 4, 1), hist["title"]),  # PIA-Date: rows are in date order
    ]
    assert report.per_commit


def test_fmt_only_reformatting_yields_no_rows(repo: Repo, hist: dict[str, str]) -> None:
    assert build_report(Options(since=hist["title"], until=hist["fmt"], repo=str(repo.path))).rows == ()
    assert build_report(Options(since=hist["title"], until=hist["fmt"], repo=str(repo.path), per_commit=True)).rows == ()


def test_pia_date_trailer_and_date_option(repo: Repo, hist: dict[str, str], monkeypatch: pytest.MonkeyPatch, capsysbinary: Any) -> None:
    [row] = build_report(Options(since=hist["sys2"], until=hist["title"], repo=str(repo.path))).rows
    assert row.date == dt.date(2026, 4, 1)
    code, out, err = cli(["report", "--since", hist["sys2"], "--until", hist["title"], "--date", "令和8年3月16日", "--format", "json"],
                         repo.path, monkeypatch, capsysbinary)
    assert code == 0, err
    assert [r["date"] for r in rows_of(out)] == ["2026-03-16"]
    code, _, err = cli(["report", "--since", "v1", "--date", "令和8年2月30日"], repo.path, monkeypatch, capsysbinary)
    assert code == 1 and err.startswith("Error: --date: ") and err.count("\n") == 1


@pytest.mark.parametrize("since", ["2026-01-07", "令和8年1月7日"])
def test_since_by_date(repo: Repo, hist: dict[str, str], since: str, monkeypatch: pytest.MonkeyPatch, capsysbinary: Any) -> None:
    # the day 2026-01-07 starts after the commit of 01-06 09:00 JST (システム2) and before the next
    code, out, err = cli(["report", "--since", since, "--format", "json"], repo.path, monkeypatch, capsysbinary)
    assert code == 0, err
    assert [r["path"] for r in rows_of(out)] == ["basic.department.head_title"]
    assert json.loads(out)["since"] == hist["sys2"][:9]


@pytest.mark.parametrize(("until", "last"), [("2026-01-06", "sys2"), ("令和8年1月7日", "title"), ("2026-01-09", "fmt")])
def test_until_by_date(repo: Repo, hist: dict[str, str], until: str, last: str, monkeypatch: pytest.MonkeyPatch,
                       capsysbinary: Any) -> None:
    # the day ends after its own commit at 09:00 JST: --since takes the state when a day began, --until when it ended
    code, out, err = cli(["report", "--since", "v1", "--until", until, "--format", "json"], repo.path, monkeypatch, capsysbinary)
    assert code == 0, err
    assert json.loads(out)["until"] == hist[last][:9]
    assert [r["path"] for r in rows_of(out)] == ["basic.systems.2", *(["basic.department.head_title"] if last != "sys2" else [])]


def test_until_a_date_ends_at_midnight_in_tokyo(repo: Repo) -> None:
    repo.write(KENKO, text(base()))
    first = repo.commit("初版", date="2026-01-05T09:00:00+09:00")
    late = repo.commit("深夜", date="2026-01-06T23:59:59+09:00")  # 14:59:59 UTC: still 01-06 in UTC too
    repo.commit("翌日", date="2026-01-07T00:00:00+09:00")  # 01-06 15:00 UTC: in the UTC day 01-06, not the Tokyo one
    for until, want in (("2026-01-06", late), ("2026-01-05", first)):
        assert build_report(Options(since=first, until=until, repo=str(repo.path))).until == want[:9]


@pytest.mark.parametrize("since", ["2025-12-31", "1973-03-03", "1970-01-01", "1900-01-01"])
def test_since_a_date_before_the_first_commit_is_the_empty_tree(repo: Repo, hist: dict[str, str], since: str) -> None:
    # git reads a bare number below 100000000 (1973-03-03) as something else than seconds: those once meant HEAD
    report = build_report(Options(since=since, repo=str(repo.path)))
    [row] = report.rows
    assert (row.change.kind, row.change.after_text, report.since) == (model.FILE_ADDED, "（新規作成）", "empty tree")
    # every commit that changed the document; the two formatting-only commits changed nothing
    assert [c.sha for c in row.change.commits] == [hist[k] for k in ("init", "sys2", "title", "title2")]


@pytest.mark.parametrize(("args", "message"), [
    (["--since", "nope"], "Error: unknown revision 'nope' in "),
    (["--since", "v1", "--until", "v9"], "Error: unknown revision 'v9' in "),
    (["--since", "v1", "--until", "2026-01-04"], "Error: --until 2026-01-04: no main-line commit at or before the end of that day\n"),
    (["--since", "v1", "--until", "1900-01-01"], "Error: --until 1900-01-01: no main-line commit at or before the end of that day\n"),
    (["--since", "v1", "--until", "2026-02-30"], "Error: unknown revision '2026-02-30' in "),
    (["--since", "2026-02-30"], "Error: unknown revision '2026-02-30' in "),
    (["--since", "令和8年2月30日"], "Error: unknown revision '令和8年2月30日' in "),
    (["--since", "v1", "--date", ""], "Error: --date: '' is not a 和暦 date"),
    (["--since", "v1", "../outside.toml"], "Error: ../outside.toml: outside the repository "),
    (["--since", "HEAD", "--until", "HEAD~2"], "Error: --since HEAD ("),  # reversed: once the diff backwards, 0 exit
    (["--since", "v1", "--date", "1800-01-01"], "Error: --date: 1800-01-01 is before 明治"),
    (["--since", "v1", "--date", "2026-02-30"], "Error: --date: '2026-02-30' is not a date: day is out of range for month"),
])
def test_bad_ranges_are_one_line_and_exit_1(repo: Repo, hist: dict[str, str], args: list[str], message: str,
                                            monkeypatch: pytest.MonkeyPatch, capsysbinary: Any) -> None:
    code, out, err = cli(["report", *args], repo.path, monkeypatch, capsysbinary)
    assert (code, out) == (1, b"")
    assert err.startswith(message) and err.count("\n") == 1
    if "unknown revision '20" in message or "unknown revision '令和" in message:  # meant as a date: says why it is none
        assert "is not a date" in err or "does not exist" in err


def _retitled(repo: Repo, message: str) -> str:
    """Commit a new 所属長の役職名 on the history of ``hist`` with ``message``; return the commit."""
    d = with_systems(4)
    d["basic"]["department"]["head_title"] = "健康政策課長"
    repo.write(KENKO, text(d))
    return repo.commit(message)


def test_a_pia_date_before_meiji_is_one_line(repo: Repo, hist: dict[str, str], monkeypatch: pytest.MonkeyPatch,
                                              capsysbinary: Any) -> None:
    sha = _retitled(repo, "所属長の役職名\n\nPIA-Date: 1800-01-01")
    code, out, err = cli(["report", "--since", "HEAD~1"], repo.path, monkeypatch, capsysbinary)
    assert (code, out) == (1, b"")
    assert err == f"Error: commit {sha[:9]} (所属長の役職名), message line 3: PIA-Date: 1800-01-01 is before 明治\n"


def test_a_wrong_pia_date_of_an_older_commit_of_a_net_row_fails_too(repo: Repo, hist: dict[str, str],
                                                                     monkeypatch: pytest.MonkeyPatch, capsysbinary: Any) -> None:
    """The newest commit of a net row gives its 変更日; a wrong PIA-Date of an earlier one is not
    passed over, as the per-commit report of the same commits would not pass over it."""
    older = _retitled(repo, "所属長の役職名\n\nPIA-Cause: 人事異動\nPIA-Date: 令和8年2月30日")
    d = with_systems(4)
    d["basic"]["department"]["head_title"] = "健康企画課長"
    repo.write(KENKO, text(d))
    repo.commit("所属長の役職名を再度変更\n\nPIA-Cause: 人事異動\nPIA-Date: 2026-04-01")
    for mode in ([], ["--per-commit"]):
        code, out, err = cli(["report", "--since", "HEAD~2", *mode], repo.path, monkeypatch, capsysbinary)
        assert (code, out) == (1, b""), mode
        assert err.startswith(f"Error: commit {older[:9]} (所属長の役職名), message line 4: PIA-Date: "), err
    code, out, _ = cli(["report", "--since", "HEAD~2", "--date", "2026-04-01"], repo.path, monkeypatch, capsysbinary)
    assert code == 0 and "令和8年4月1日" in out.decode("utf-8")  # --date decides every row: no trailer is read


def test_two_pia_dates_in_one_commit_are_one_line(repo: Repo, hist: dict[str, str], monkeypatch: pytest.MonkeyPatch,
                                                   capsysbinary: Any) -> None:
    sha = _retitled(repo, "所属長の役職名\n\nPIA-Cause: 人事異動\nPIA-Date: 2026-04-01\nPIA-Date: 令和8年5月1日")
    for mode in ([], ["--per-commit"]):  # once the last one was taken, silently
        code, out, err = cli(["report", "--since", "HEAD~1", *mode], repo.path, monkeypatch, capsysbinary)
        assert (code, out) == (1, b"")
        assert err == f"Error: commit {sha[:9]} (所属長の役職名), message line 5: PIA-Date: 2 trailers, 2026-04-01 and 令和8年5月1日: a commit has one 変更日, keep one\n"
    code, out, err = cli(["report", "--since", "HEAD~1", "--date", "2026-04-01"], repo.path, monkeypatch, capsysbinary)
    assert (code, err) == (0, "") and "令和8年4月1日" in out.decode("utf-8")  # --date reads no trailer


def test_not_a_repository_is_one_line(tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch, capsysbinary: Any) -> None:
    code, _, err = cli(["report", "--since", "HEAD", "--repo", str(tmp_path)], tmp_path, monkeypatch, capsysbinary)
    assert code == 1 and err == f"Error: {tmp_path}: not a git repository\n"


def test_renamed_file_with_the_same_number_is_a_content_diff(repo: Repo) -> None:
    repo.write(KENKO, text(base()))
    first = repo.commit("初版")
    os.rename(repo.path / KENKO, repo.path / "assessments/kenko-zoshin.toml")
    d = base()
    d["basic"]["department"]["head_title"] = "健康推進課長"
    repo.write("assessments/kenko-zoshin.toml", text(d))
    repo.commit("ファイル名の変更と役職名")
    for per_commit in (False, True):
        [row] = build_report(Options(since=first, repo=str(repo.path), per_commit=per_commit)).rows
        ch = row.change
        assert (ch.kind, ch.file, ch.old_file, ch.assessment) == (model.MODIFIED, "assessments/kenko-zoshin.toml", KENKO, "呉市長 27")


def per_commit_three_ways(repo: Repo, since: str) -> list[model.Report]:
    """Return the per-commit report without the cache, then cold and warm: all three must agree."""
    return [build_report(Options(since=since, repo=str(repo.path), per_commit=True, cache=cache)) for cache in (False, True, True)]


@pytest.mark.parametrize("edited_after", [True, False], ids=["edited-after-the-rename", "not-edited-after"])
def test_per_commit_rows_of_a_file_renamed_in_the_range_are_one_assessment_named_by_its_last_path(
        repo: Repo, edited_after: bool) -> None:
    """The rows before the rename name the old path, those after it the new one: the report lists the
    assessment once, under its path at the end of the range, with its title, and finds nothing shared."""
    d = base()
    repo.write(KENKO, text(d))
    first = repo.commit("初版")
    d["basic"]["department"]["head_title"] = "健康推進課長"
    repo.write(KENKO, text(d))
    repo.commit("役職名")
    os.rename(repo.path / KENKO, repo.path / "assessments/kenko-zoshin.toml")
    repo.commit("ファイル名の変更")
    if edited_after:
        d["basic"]["department"]["head_title"] = "健康づくり課長"
        repo.write("assessments/kenko-zoshin.toml", text(d))
        repo.commit("役職名")
    for report in per_commit_three_ways(repo, first):
        assert [(a["assessment"], a["file"], bool(a["title"])) for a in report.assessments] == [
            ("呉市長 27", "assessments/kenko-zoshin.toml", True)]
        assert not [f for f in report.findings if "are both assessment" in f.message]
        assert len(report.rows) == (2 if edited_after else 1)


def test_per_commit_rows_of_two_assessments_that_swapped_paths_are_each_listed_under_its_path_at_the_end(repo: Repo) -> None:
    """kenko.toml and other.toml swap paths: the rows of 呉市長 27 from before the swap name kenko.toml,
    which holds 呉市長 28 at the end; 呉市長 27 is listed under other.toml with its title all the same."""
    other = "assessments/other.toml"
    a, b = base(), base()
    b["cover"]["number"] = "28"
    repo.write(KENKO, text(a))
    repo.write(other, text(b))
    first = repo.commit("初版")
    a["basic"]["department"]["head_title"] = "健康推進課長"
    repo.write(KENKO, text(a))
    repo.commit("役職名")
    os.rename(repo.path / KENKO, repo.path / "assessments/t.toml")
    os.rename(repo.path / other, repo.path / KENKO)
    os.rename(repo.path / "assessments/t.toml", repo.path / other)
    repo.commit("ファイル名の入替え")
    b["basic"]["department"]["head_title"] = "健康づくり課長"
    repo.write(KENKO, text(b))
    repo.commit("役職名")
    for report in per_commit_three_ways(repo, first):
        assert sorted((a["assessment"], a["file"], bool(a["title"])) for a in report.assessments) == [
            ("呉市長 27", other, True), ("呉市長 28", KENKO, True)]


def test_a_name_given_to_another_assessment_after_its_own_moved_on(repo: Repo) -> None:
    """kenko.toml → kenko-zoshin.toml → kenko-2026.toml, then another assessment takes kenko.toml: the net
    report pairs the files by identity, as every commit did, not the two kenko.toml by their path."""
    repo.write(KENKO, text(base()))
    first = repo.commit("初版")
    os.rename(repo.path / KENKO, repo.path / "assessments/kenko-zoshin.toml")
    repo.commit("ファイル名の変更")
    d = base()
    d["basic"]["department"]["head_title"] = "健康推進課長"
    os.remove(repo.path / "assessments/kenko-zoshin.toml")
    repo.write("assessments/kenko-2026.toml", text(d))
    repo.commit("ファイル名の変更と役職名")
    repo.write(KENKO, text(base("28")))
    repo.commit("評価書28")
    for per_commit in (False, True):
        rows = build_report(Options(since=first, repo=str(repo.path), per_commit=per_commit)).rows
        got = {(r.change.assessment, r.change.kind, r.change.path) for r in rows}
        assert ("呉市長 27", model.MODIFIED, ("basic", "department", "head_title")) in got, per_commit
        assert ("呉市長 28", model.FILE_ADDED, ()) in got, per_commit
        assert not any(r.change.kind == model.FILE_REMOVED for r in rows), per_commit
        assert not any(r.change.path == ("cover", "number") for r in rows), per_commit


def test_two_files_that_swap_names_are_two_renames(repo: Repo) -> None:
    kaigo = "assessments/kaigo.toml"
    repo.write(KENKO, text(base("27")))
    repo.write(kaigo, text(base("28")))
    first = repo.commit("初版")
    k, c = base("27"), base("28")
    k["basic"]["department"]["head_title"] = "健康推進課長"
    repo.write(KENKO, text(c))
    repo.write(kaigo, text(k))
    repo.commit("ファイル名の入れ替えと役職名")
    for per_commit in (False, True):
        [row] = build_report(Options(since=first, repo=str(repo.path), per_commit=per_commit)).rows
        ch = row.change
        assert (ch.assessment, ch.file, ch.old_file, ch.path) == ("呉市長 27", kaigo, KENKO, ("basic", "department", "head_title"))


def test_two_files_that_swap_names_one_unreadable_for_a_commit(repo: Repo) -> None:
    # the swap's other file unreadable: kenko.toml was compared 27 → 28 in place (評価書番号 27 → 28)
    kaigo = "assessments/kaigo.toml"
    repo.write(KENKO, text(base("27")))
    repo.write(kaigo, text(base("28")))
    first = repo.commit("初版")
    repo.write(KENKO, text(base("28")))
    repo.write(kaigo, text(base("27")) + "\n[cover\n")
    repo.commit("ファイル名の入れ替え (壊れた TOML)")
    repo.write(kaigo, text(base("27")))
    repo.commit("TOML の修正")
    report = build_report(Options(since=first, repo=str(repo.path), per_commit=True))
    # 28 is renamed; 27, unreadable in between, goes and comes back, as a file alone would
    assert [(r.change.assessment, r.change.kind, r.change.file) for r in report.rows] == [
        ("呉市長 27", model.FILE_REMOVED, KENKO), ("呉市長 27", model.FILE_ADDED, kaigo)]
    assert not build_report(Options(since=first, repo=str(repo.path))).rows


def test_a_number_corrected_in_place_is_a_change_of_one_file(repo: Repo) -> None:
    repo.write(KENKO, text(base("72")))
    repo.write("assessments/kaigo.toml", text(base("28")))
    first = repo.commit("初版")
    repo.write(KENKO, text(base("27")))
    repo.write("assessments/kaigo.toml", text(base("29")))
    repo.commit("評価書番号の訂正")
    rows = build_report(Options(since=first, repo=str(repo.path))).rows
    assert sorted((r.change.file, r.change.path) for r in rows) == [
        ("assessments/kaigo.toml", ("cover", "number")), (KENKO, ("cover", "number"))]


def city(org: str, **department: str) -> dict[str, Any]:
    """Return assessment 27 of one municipality (seed 002 with its 評価実施機関名)."""
    d = base()
    d["cover"]["organization"] = org
    d["basic"]["department"].update(department)
    return d


def test_municipalities_with_the_same_number_are_different_assessments(repo: Repo) -> None:
    # A repository kept for several municipalities: each has its own 評価書番号 27.
    repo.write("assessments/kure/kenko.toml", text(city("呉市長")))
    repo.write("assessments/mihara/kenko.toml", text(city("三原市長")))
    first = repo.commit("初版")
    repo.write("assessments/kure/kenko.toml", text(city("呉市長", head_title="健康推進課長")))
    kure = repo.commit("呉: 役職名")
    repo.write("assessments/mihara/kenko.toml", text(city("三原市長", head_title="健康推進課長")))
    mihara = repo.commit("三原: 役職名")
    report = build_report(Options(since=first, repo=str(repo.path)))
    got = sorted((r.change.assessment, r.change.file, [c.sha for c in r.change.commits], r.date) for r in report.rows)
    assert got == [
        ("三原市長 27", "assessments/mihara/kenko.toml", [mihara], dt.date(2026, 1, 7)),
        ("呉市長 27", "assessments/kure/kenko.toml", [kure], dt.date(2026, 1, 6)),
    ]
    assert sorted(a["assessment"] for a in report.assessments) == ["三原市長 27", "呉市長 27"]
    assert not [f for f in report.findings if "are both assessment" in f.message]
    from piachange.render import render

    md = render(report, "md").decode("utf-8")
    assert md.count("| 健康推進課長 |") == 2  # each row once, under its own assessment


def two_files_of_one_assessment(repo: Repo) -> str:
    """Commit kenko.toml and kenko-copy.toml, both 呉市長 27, then an edit of each; return the first commit."""
    repo.write("assessments/kenko.toml", text(city("呉市長")))
    repo.write("assessments/kenko-copy.toml", text(city("呉市長")))
    first = repo.commit("初版")
    repo.write("assessments/kenko.toml", text(city("呉市長", head_title="健康推進課長")))
    repo.write("assessments/kenko-copy.toml", text(city("呉市長", name="健康部")))
    repo.commit("両方を編集")
    return first


def test_two_files_of_one_assessment_are_a_finding(repo: Repo) -> None:
    first = two_files_of_one_assessment(repo)
    for per_commit in (False, True):
        report = build_report(Options(since=first, repo=str(repo.path), per_commit=per_commit))
        [found] = [f for f in report.findings if "are both assessment" in f.message]
        assert (found.assessment, found.file) == ("呉市長 27", "assessments/kenko.toml")
        assert found.message.startswith("assessments/kenko-copy.toml and assessments/kenko.toml are both assessment 「呉市長 27」")


def test_a_csv_report_prints_its_findings_on_stderr(repo: Repo, monkeypatch: pytest.MonkeyPatch, capsysbinary: Any) -> None:
    """Every other format prints the findings (確認事項) with the table; a CSV is one table, so they go
    to standard error rather than nowhere."""
    first = two_files_of_one_assessment(repo)
    code, out, err = cli(["report", "--since", first, "--format", "csv"], repo.path, monkeypatch, capsysbinary)
    assert code == 0, err
    assert "are both assessment" not in out.decode("utf-8-sig")
    assert err.splitlines()[:2] == ["1 finding(s), which the CSV has no place for:",
                                    "assessments/kenko.toml: warning: assessments/kenko-copy.toml and assessments/kenko.toml are both"
                                    " assessment 「呉市長 27」, and their rows are reported as one assessment's: give each its own"
                                    " 評価書番号 (piachange check says so too)"]
    code, _, err = cli(["report", "--since", first, "--format", "md"], repo.path, monkeypatch, capsysbinary)
    assert (code, err) == (0, "")


def test_a_town_that_became_a_city_keeps_its_assessments(repo: Repo) -> None:
    # the 評価実施機関名 and the file's name change in one commit: still one assessment, renamed
    repo.write("assessments/kenko.toml", text(city("呉町長")))
    first = repo.commit("初版")
    repo.write("assessments/kenko.toml", text(city("呉町長", head_title="健康推進課長")))
    before = repo.commit("役職名")
    os.remove(repo.path / "assessments/kenko.toml")
    repo.write("assessments/kure-kenko.toml", text(city("呉市長", head_title="健康推進課長")))
    became = repo.commit("市制施行")
    for per_commit in (False, True):
        rows = build_report(Options(since=first, repo=str(repo.path), per_commit=per_commit)).rows
        got = [(r.change.path, r.change.old_file, [c.sha for c in r.change.commits]) for r in rows]
        if per_commit:
            assert got == [(("basic", "department", "head_title"), "", [before]),
                           (("cover", "organization"), "assessments/kenko.toml", [became])]
        else:
            assert sorted(got) == [(("basic", "department", "head_title"), "assessments/kenko.toml", [before]),
                                   (("cover", "organization"), "assessments/kenko.toml", [became])]
            assert {r.change.assessment for r in rows} == {"呉市長 27"}


def test_new_and_deleted_assessments_are_one_row_each(repo: Repo) -> None:
    repo.write(KENKO, text(base()))
    repo.write("assessments/gan.toml", text(base("31")))
    first = repo.commit("初版")
    os.remove(repo.path / "assessments/gan.toml")
    repo.write("assessments/sub/kaigo.toml", text(base("28")))
    repo.commit("がん検診の評価書を廃止し、介護の評価書を追加")
    report = build_report(Options(since=first, repo=str(repo.path)))
    got = sorted((r.change.kind, r.change.file, r.change.after_text) for r in report.rows)
    assert got == [
        (model.FILE_ADDED, "assessments/sub/kaigo.toml", "（新規作成）"),
        (model.FILE_REMOVED, "assessments/gan.toml", "（削除）"),
    ]
    assert [a["file"] for a in report.assessments] == ["assessments/sub/kaigo.toml", "assessments/gan.toml"]  # those with changes


def test_paths_limit_the_assessments(repo: Repo) -> None:
    repo.write(KENKO, text(base()))
    repo.write("assessments/kaigo.toml", text(base("28")))
    first = repo.commit("初版")
    for f, title in ((KENKO, "健康推進課長"), ("assessments/kaigo.toml", "介護保険課長")):
        d = base("27" if f == KENKO else "28")
        d["basic"]["department"]["head_title"] = title
        repo.write(f, text(d))
    repo.commit("役職名")
    report = build_report(Options(since=first, repo=str(repo.path), paths=("assessments/kaigo.toml",), cwd=str(repo.path)))
    assert [(r.change.file, r.change.after_text) for r in report.rows] == [("assessments/kaigo.toml", "介護保険課長")]


def _move(repo: Repo, old: str, new: str, data: dict[str, Any]) -> None:
    """Rename ``old`` to ``new`` in the work tree and give it ``data``."""
    (repo.path / new).parent.mkdir(parents=True, exist_ok=True)
    os.rename(repo.path / old, repo.path / new)
    repo.write(new, text(data))


def _edited(number: str = "27", **department: str) -> dict[str, Any]:
    d = base(number)
    d["basic"]["department"].update(department)
    return d


@pytest.fixture
def renamed(repo: Repo) -> dict[str, str]:
    """kenko.toml is edited, renamed with an edit, renamed again and edited; kaigo.toml changes beside it."""
    repo.write(KENKO, text(base()))
    repo.write("assessments/kaigo.toml", text(base("28")))
    shas = {"first": repo.commit("初版")}
    repo.write(KENKO, text(_edited(head_title="健康推進課長")))
    repo.commit("役職名")
    _move(repo, KENKO, "assessments/kenko-zoshin.toml", _edited(head_title="健康推進課長", name="健康部"))
    repo.commit("ファイル名の変更と部署")
    repo.write("assessments/kaigo.toml", text(_edited("28", head_title="介護保険課長")))
    repo.commit("介護の役職名")
    _move(repo, "assessments/kenko-zoshin.toml", "assessments/r7/kenko.toml", _edited(head_title="健康推進課長", name="健康部"))
    repo.commit("年度のフォルダへ")
    repo.write("assessments/r7/kenko.toml", text(_edited(head_title="健康づくり課長", name="健康部")))
    repo.commit("役職名 (再)")
    return shas


@pytest.mark.parametrize("per_commit", [False, True])
@pytest.mark.parametrize("path", [KENKO, "assessments/kenko-zoshin.toml", "assessments/r7/kenko.toml"])
def test_a_path_selects_its_assessment_under_every_name_it_had(repo: Repo, renamed: dict[str, str], path: str,
                                                               per_commit: bool) -> None:
    # once only the name given was read: at the new name the assessment was new (事前), at the old one deleted
    everything = build_report(Options(since=renamed["first"], repo=str(repo.path), per_commit=per_commit))
    want = [r for r in everything.rows if r.change.assessment == "呉市長 27"]
    assert want and len(want) < len(everything.rows)
    report = build_report(Options(since=renamed["first"], repo=str(repo.path), paths=(path,), cwd=str(repo.path),
                                  per_commit=per_commit))
    assert list(report.rows) == want
    assert {r.change.kind for r in report.rows} == {model.MODIFIED}
    assert report.assessments == tuple(a for a in everything.assessments if a["assessment"] == "呉市長 27")


@pytest.mark.parametrize("path", [KENKO, "assessments/kenko-zoshin.toml"])
def test_a_path_selects_its_assessment_removed_and_added_again_under_a_new_name(repo: Repo, path: str) -> None:
    # no commit renamed it: the net report pairs the two files at the ends of the range
    repo.write(KENKO, text(base()))
    repo.write("assessments/kaigo.toml", text(base("28")))
    first = repo.commit("初版")
    (repo.path / KENKO).unlink()
    repo.commit("旧ファイルの削除")
    repo.write("assessments/kenko-zoshin.toml", text(_edited(head_title="健康推進課長")))
    repo.write("assessments/kaigo.toml", text(_edited("28", head_title="介護保険課長")))
    repo.commit("新ファイルの追加")
    for per_commit in (False, True):
        everything = build_report(Options(since=first, repo=str(repo.path), per_commit=per_commit)).rows
        want = [r for r in everything if r.change.assessment == "呉市長 27"]
        got = build_report(Options(since=first, repo=str(repo.path), paths=(path,), cwd=str(repo.path), per_commit=per_commit))
        assert list(got.rows) == want
        assert [r.change.kind for r in want] == ([model.FILE_REMOVED, model.FILE_ADDED] if per_commit else [model.MODIFIED])


@pytest.mark.parametrize("path", [KENKO, "assessments/kaigo.toml"])
def test_a_path_follows_two_files_that_swapped_names(repo: Repo, path: str) -> None:
    # kaigo.toml is the new name of 27 and the old one of 28: once it alone was read, 28 → 27 in place
    kaigo = "assessments/kaigo.toml"
    repo.write(KENKO, text(base("27")))
    repo.write(kaigo, text(base("28")))
    first = repo.commit("初版")
    repo.write(KENKO, text(base("28")))
    repo.write(kaigo, text(_edited(head_title="健康推進課長")))
    repo.commit("ファイル名の入れ替えと役職名")
    for per_commit in (False, True):
        everything = build_report(Options(since=first, repo=str(repo.path), per_commit=per_commit)).rows
        got = build_report(Options(since=first, repo=str(repo.path), paths=(path,), cwd=str(repo.path), per_commit=per_commit))
        assert [(r.change.assessment, r.change.path) for r in got.rows] == [("呉市長 27", ("basic", "department", "head_title"))]
        assert list(got.rows) == list(everything)


@pytest.mark.parametrize(("args", "cwd", "message"), [
    (["assessments/kenko.tom"], ".", "assessments/kenko.tom: not an assessment or a directory at v1, at HEAD or in between"),
    (["kenko.toml", "kaigo.toml"], "assessments", "kaigo.toml: not an assessment or a directory at v1, at HEAD or in between"),
    (["README.md", "--until", "2026-01-08"], ".", "README.md: not an assessment or a directory at v1, at 2026-01-08 or in between"),
])
def test_a_path_that_names_nothing_in_the_range_is_one_line(repo: Repo, hist: dict[str, str], args: list[str], cwd: str,
                                                            message: str, monkeypatch: pytest.MonkeyPatch,
                                                            capsysbinary: Any) -> None:
    repo.write("README.md", "# 評価書\n")  # there, but not an assessment
    repo.commit("README")
    code, out, err = cli(["report", "--since", "v1", *args], repo.path / cwd, monkeypatch, capsysbinary)
    assert (code, out) == (1, b"")  # once: no changes, exit 0
    assert err == f"Error: {message}\n"


def test_a_path_there_in_between_or_a_directory_with_no_changes_is_no_error(repo: Repo, hist: dict[str, str],
                                                                             monkeypatch: pytest.MonkeyPatch,
                                                                             capsysbinary: Any) -> None:
    repo.write("assessments/draft.toml", text(base("99")))
    repo.commit("下書き")
    (repo.path / "assessments/draft.toml").unlink()
    repo.commit("下書きの削除")
    repo.write("other/kaigo.toml", text(base("28")))
    since = repo.commit("別の場所")
    code, out, err = cli(["report", "--since", "v1", "assessments/draft.toml", "--per-commit", "--format", "json"],
                         repo.path, monkeypatch, capsysbinary)
    assert (code, err) == (0, "")
    assert [r["after"] for r in rows_of(out)] == ["（新規作成）", "（削除）"]
    for path in ("other", "other/kaigo.toml", "assessments", "."):
        code, out, err = cli(["report", "--since", since, path, "--format", "json"], repo.path, monkeypatch, capsysbinary)
        assert (code, err, rows_of(out)) == (0, "", [])


def test_merge_per_commit_reports_branch_commits_and_the_merge_once(repo: Repo) -> None:
    repo.write(KENKO, text(base()))
    first = repo.commit("初版", date="2026-01-05T09:00:00+09:00")
    repo.git("checkout", "-q", "-b", "topic")
    d = base()
    d["basic"]["department"]["head_title"] = "健康推進課長"
    repo.write(KENKO, text(d))
    topic = repo.commit("役職名", date="2026-01-06T09:00:00+09:00")
    repo.git("checkout", "-q", "main")
    repo.git("merge", "-q", "--no-ff", "-m", "取り込み", "topic", date="2026-01-07T09:00:00+09:00")
    merge = repo.git("rev-parse", "HEAD")
    per = build_report(Options(since=first, repo=str(repo.path), per_commit=True)).rows
    assert [(r.change.path[-1], r.change.commits[0].sha) for r in per] == [("head_title", topic), ("head_title", merge)]
    [net] = build_report(Options(since=first, repo=str(repo.path))).rows
    assert [c.sha for c in net.change.commits] == [topic, merge] and net.date == dt.date(2026, 1, 7)


def test_invalid_version_at_the_end_is_one_located_line(repo: Repo, monkeypatch: pytest.MonkeyPatch, capsysbinary: Any) -> None:
    repo.write(KENKO, text(base()))
    first = repo.commit("初版")
    repo.write(KENKO, text(base()).replace('number = "27"', 'numbr = "27"'))
    bad = repo.commit("壊れた版")
    code, _, err = cli(["report", "--since", first], repo.path, monkeypatch, capsysbinary)
    assert code == 1
    assert err.startswith(f"{KENKO} @ {bad[:9]}:") and "unknown key 'cover.numbr'" in err


def test_invalid_version_in_between_is_a_finding(repo: Repo) -> None:
    repo.write(KENKO, text(base()))
    first = repo.commit("初版")
    repo.write(KENKO, "[meta\n")
    bad = repo.commit("壊れた版")
    d = base()
    d["basic"]["department"]["head_title"] = "健康推進課長"
    repo.write(KENKO, text(d))
    fixed = repo.commit("修正")
    report = build_report(Options(since=first, repo=str(repo.path)))
    assert [r.change.path[-1] for r in report.rows] == ["head_title"]
    # the two commits whose changes to the file go unattributed, each named once
    unread = [f.message for f in report.findings if f.file == KENKO and "cannot be read" in f.message]
    assert [m.split("the changes of commit ")[1][:9] for m in unread] == [bad[:9], fixed[:9]]
    assert all(bad[:9] in m for m in unread)  # where the unreadable version was read


def _state(repo: Repo) -> tuple[str, bytes, dict[str, int]]:
    files = {}
    for root, dirs, names in os.walk(repo.path):
        dirs[:] = [d for d in dirs if d != ".git"]
        for n in names:
            p = os.path.join(root, n)
            files[p] = os.stat(p).st_mtime_ns
    index = (repo.path / ".git" / "index").read_bytes()
    return repo.git("status", "--porcelain"), hashlib.sha256(index).digest(), files


def test_report_never_changes_the_work_tree_or_index(repo: Repo, hist: dict[str, str], tmp_path: pathlib.Path,
                                                     monkeypatch: pytest.MonkeyPatch, capsysbinary: Any) -> None:
    repo.write(KENKO, "[meta\n")  # a dirty, broken work tree: report reads history only
    repo.write("assessments/untracked.toml", "x")
    repo.git("status", "--porcelain")  # let git refresh the index first
    before = _state(repo)
    out_file = tmp_path / "out" / "report.md"
    out_file.parent.mkdir()
    for args in (["--since", "v1"], ["--since", "v1", "--per-commit", "-o", str(out_file)], ["--since", "令和8年1月1日", "--format", "json"]):
        code, _, err = cli(["report", *args], repo.path, monkeypatch, capsysbinary)
        assert code == 0, err
    assert _state(repo) == before
    assert "令和8年1月6日" in out_file.read_text(encoding="utf-8")


def _processes(repo: Repo, per_commit: bool, monkeypatch: pytest.MonkeyPatch) -> int:
    import git.cmd  # the spy counts real processes; nothing is faked

    started: list[list[str]] = []
    real = git.cmd.safer_popen

    def spy(cmd: list[str], *args: Any, **kwargs: Any) -> Any:
        started.append(cmd)
        return real(cmd, *args, **kwargs)

    monkeypatch.setattr(git.cmd, "safer_popen", spy)
    progress: list[tuple[int, int]] = []
    build_report(Options(since="v1", repo=str(repo.path), per_commit=per_commit), progress=lambda d, t: progress.append((d, t)))
    monkeypatch.undo()
    assert progress and progress[-1][0] == progress[-1][1]
    return len(started)


def test_git_processes_do_not_grow_with_history(repo: Repo, monkeypatch: pytest.MonkeyPatch) -> None:
    d = base()
    repo.write(KENKO, text(d))
    repo.commit("初版")
    repo.git("tag", "v1")
    counts = []
    for n in range(12):
        d["basic"]["department"]["head_title"] = f"課長{n}"
        repo.write(KENKO, text(d))
        repo.commit(f"変更{n}")
        if n in (1, 11):
            counts.append(_processes(repo, True, monkeypatch))
    assert counts[0] == counts[1] <= 6  # rev-parse, rev-list, one persistent cat-file --batch


def test_markdown_to_stdout(repo: Repo, hist: dict[str, str], monkeypatch: pytest.MonkeyPatch, capsysbinary: Any) -> None:
    code, out, err = cli(["report", "--since", "v1"], repo.path, monkeypatch, capsysbinary)
    assert code == 0, err
    md = out.decode("utf-8")
    assert "システム2" in md and "健康づくり課長" in md and "令和8年1月10日" in md


def test_version_is_the_installed_one(tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch, capsys: Any) -> None:
    from importlib.metadata import version

    assert run_main(["--version"], tmp_path, monkeypatch) == 0
    assert capsys.readouterr().out == f"piachange {version('piachange')}\n"


def test_the_console_script_tunes_the_collector_and_tests_keep_the_default() -> None:
    """``run`` (the console script, ``python -m piachange``) sets the collector for a short process;
    ``main``, which tests call in-process, leaves it alone."""
    import gc
    import subprocess
    import sys

    probe = "import gc, piachange.cli as c; c.main = lambda: print(gc.get_threshold()[0], gc.get_freeze_count() > 0); c.run()"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert out == "50000 True\n"
    assert gc.get_threshold()[0] < 50_000


def test_without_a_path_the_repository_s_assessments_are_reported_from_any_directory(
        repo: Repo, monkeypatch: pytest.MonkeyPatch, capsysbinary: Any) -> None:
    """Like git, the commands work from inside the repository: from assessments/ itself, the default is
    still the repository's assessments/, not assessments/assessments (0 rows, silently)."""
    repo.write(KENKO, text(base()))
    first = repo.commit("初版")
    d = base()
    d["basic"]["department"]["head_title"] = "健康推進課長"
    repo.write(KENKO, text(d))
    repo.commit("役職名")
    (repo.path / "assessments" / "sub").mkdir()
    at_top = cli(["report", "--since", first, "--format", "json"], repo.path, monkeypatch, capsysbinary)
    for where in (repo.path / "assessments", repo.path / "assessments" / "sub"):
        assert cli(["report", "--since", first, "--format", "json"], where, monkeypatch, capsysbinary) == at_top
        assert len(rows_of(at_top[1])) == 1
        code, _, err = cli(["check"], where, monkeypatch, capsysbinary)
        assert (code, err.splitlines()[-1]) == (0, "1 file(s) ok"), err


def test_long_text_changed_blocks_prints_only_the_block_that_changed(repo: Repo, monkeypatch: pytest.MonkeyPatch,
                                                                     capsysbinary: Any) -> None:
    """[report] long_text = "changed-blocks": a text cut by 「<…における措置>」 headings prints only the
    blocks that changed, and the 項目 names them, as published tables do; the rules still read the
    whole texts, so the timing is the one of the whole-text report."""
    sample = (SAMPLES / "kaigo-juten.toml").read_text(encoding="utf-8")
    repo.write("assessments/kaigo.toml", sample)
    repo.commit("初版")
    old = "・中間サーバー・プラットフォームは、入館及び入室を厳格に管理するデータセンター内に設置され、"
    new = "・中間サーバー・プラットフォームは、入館及び入室を厳格に管理し監視カメラで記録するデータセンター内に設置され、"
    assert sample.count(old) == 1
    repo.write("assessments/kaigo.toml", sample.replace(old, new))
    repo.commit("保管場所の追記\n\nPIA-Cause: リスク軽減")
    code, out, err = cli(["report", "--since", "HEAD~1", "--format", "json"], repo.path, monkeypatch, capsysbinary)
    assert code == 0, err
    [whole] = rows_of(out)
    assert whole["before"].startswith("<みなと台市における措置>") and whole["item"].endswith("保管場所")

    repo.write("piachange.toml", '[report]\nlong_text = "changed-blocks"\n')
    code, out, err = cli(["report", "--since", "HEAD~1", "--format", "json"], repo.path, monkeypatch, capsysbinary)
    assert code == 0, err
    [part] = rows_of(out)
    assert part["item"] == whole["item"] + " (<中間サーバー・プラットフォームにおける措置>に係る部分)"
    assert part["before"] == "<中間サーバー・プラットフォームにおける措置>\n" + old + "特定個人情報はそのデータベース内に保存される。"
    assert part["after"] == "<中間サーバー・プラットフォームにおける措置>\n" + new + "特定個人情報はそのデータベース内に保存される。"
    assert (part["timing"], part["rule"], part["reason"]) == (whole["timing"], whole["rule"], whole["reason"])

    repo.write("piachange.toml", '[report]\nlong_text = "blocks"\n')
    code, out, err = cli(["report", "--since", "HEAD~1"], repo.path, monkeypatch, capsysbinary)
    assert (code, out) == (1, b"")
    assert err == "Error: piachange.toml:2: 'report.long_text' must be one of whole, changed-blocks, not 'blocks'\n"


def test_a_change_of_white_space_alone_is_a_row_with_a_warning(repo: Repo, monkeypatch: pytest.MonkeyPatch,
                                                                capsysbinary: Any) -> None:
    """Japanese text is data: a space or a line break added to a value is a change, kept as written;
    its row says that 変更前 and 変更後 differ only there, which no table shows."""
    d = base()
    repo.write("assessments/kenko.toml", text(d))
    repo.commit("初版")
    d["basic"]["department"]["head_title"] += " "
    d["basic"]["affair"]["description"] += "\n"
    title = d["basic"]["department"]["name"]
    d["basic"]["department"]["name"] = title + "課"
    repo.write("assessments/kenko.toml", text(d))
    repo.commit("空白")
    code, out, err = cli(["report", "--since", "HEAD~1", "--format", "json"], repo.path, monkeypatch, capsysbinary)
    assert code == 0, err
    by_path = {r["path"]: r for r in rows_of(out)}
    assert set(by_path) == {"basic.department.head_title", "basic.affair.description", "basic.department.name"}
    for path in ("basic.department.head_title", "basic.affair.description"):
        assert by_path[path]["after"] != by_path[path]["before"]
        assert any("differ only in white space" in w for w in by_path[path]["warnings"]), path
    assert not any("white space" in w for w in by_path["basic.department.name"]["warnings"])


def test_a_pia_line_not_read_as_a_trailer_is_a_finding_in_history(repo: Repo, monkeypatch: pytest.MonkeyPatch,
                                                                   capsysbinary: Any) -> None:
    """A commit already made cannot be changed: a PIA-Cause that git does not read as a trailer (a note
    line after it) is named in a finding, with its line, and the report goes on; once what it states is
    recorded in piachange.toml, the finding goes. The commit-msg hook stops such a commit (test_staged)."""
    d = base()
    repo.write("assessments/kenko.toml", text(d))
    first = repo.commit("初版")
    d["basic"]["department"]["head_title"] = "健康推進課長"
    repo.write("assessments/kenko.toml", text(d))
    sha = repo.commit("役職名\n\nPIA-Cause: 人事異動\n4月1日付けの異動による。")
    for per_commit in (False, True):
        args = ["report", "--since", first, "--format", "json", *(["--per-commit"] if per_commit else [])]
        for _ in range(2):  # the second run reads the cache: the finding is made again
            code, out, err = cli(args, repo.path, monkeypatch, capsysbinary)
            assert code == 0, err
            data = json.loads(out)
            [row] = data["rows"]
            assert row["rule"] != "cause:personnel"  # not stated, as git reads the message
            assert [f["message"] for f in data["findings"]] == [
                f"commit {sha[:9]} (役職名), message line 3: PIA-Cause is not read as a trailer: trailers are read from the"
                " message's last paragraph only, every line of it 'Key: value' (ASCII colon), so what it states is"
                " ignored: record it in piachange.toml ([[overrides]])"]
    repo.write("piachange.toml", f'[[overrides]]\ncommit = "{sha[:8]}"\ncause = "人事異動"\n')
    code, out, err = cli(["report", "--since", first, "--format", "json"], repo.path, monkeypatch, capsysbinary)
    data = json.loads(out)
    assert (code, data["findings"], data["rows"][0]["rule"]) == (0, [], "cause:personnel")
