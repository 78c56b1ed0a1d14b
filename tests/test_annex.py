"""``report --write``: rows appended to each assessment's own [[changes.rows]], once, canonically."""

from __future__ import annotations

import datetime as dt
import os
import pathlib
import tomllib
from typing import Any

import pytest

from piachange.annex import append_rows, row_identity
from piachange.report import Options, build
from piachange.workspace import check_paths, fmt_paths

from conftest import Repo
from docs_factory import base, text
from test_report_cli import cli

KENKO = "assessments/kenko.toml"
KAIGO = "assessments/kaigo.toml"


def rows(repo: Repo, rel: str = KENKO) -> list[dict[str, Any]]:
    return tomllib.loads((repo.path / rel).read_text(encoding="utf-8"))["changes"]["rows"]


@pytest.fixture
def two(repo: Repo) -> Repo:
    """kenko (27) and kaigo (28): 役職名, then システム2 removed from kenko; a user comment in kenko."""
    repo.write(KENKO, "# 担当: 健康推進課 山田\n" + text(base()))
    repo.write(KAIGO, text(base("28")))
    repo.commit("初版")
    repo.git("tag", "v1")
    k = base()
    k["basic"]["department"]["head_title"] = "健康推進課長"
    repo.write(KENKO, "# 担当: 健康推進課 山田\n" + text(k))
    repo.commit("役職名\n\nPIA-Cause: 人事異動\nPIA-Date: 2026-04-01")
    del k["basic"]["systems"]["2"]
    repo.write(KENKO, "# 担当: 健康推進課 山田\n" + text(k))
    c = base("28")
    c["basic"]["other_bodies"]["names"] = "広島県"
    repo.write(KAIGO, text(c))
    repo.commit("システム2 の廃止、他の評価実施機関")
    return repo


def test_write_twice_is_once_and_the_files_stay_canonical(two: Repo, monkeypatch: pytest.MonkeyPatch, capsysbinary: Any) -> None:
    code, out, err = cli(["report", "--since", "v1", "--write"], two.path, monkeypatch, capsysbinary)
    assert code == 0, err
    assert f"{KENKO}: 2 row(s) appended, 0 already present" in err
    assert f"{KAIGO}: 1 row(s) appended, 0 already present" in err
    first = (two.path / KENKO).read_bytes()
    got = rows(two)
    assert [(r["date"], r["item"].split(" ")[-1], r["after"]) for r in got] == [
        (dt.date(2026, 1, 7), "システム2", "（削除）"),  # date order: the PIA-Date row comes last
        (dt.date(2026, 4, 1), "②所属長の役職名", "健康推進課長"),
    ]
    assert got[1]["paths"] == ["basic.department.head_title"] and len(got[1]["commits"]) == 1
    assert got[1]["timing"] in ("事前", "事後") and got[1]["rule"]
    assert (two.path / KENKO).read_text(encoding="utf-8").startswith("# 担当: 健康推進課 山田\n")  # comments kept

    code, _, err = cli(["report", "--since", "v1", "--write"], two.path, monkeypatch, capsysbinary)
    assert code == 0, err
    assert f"{KENKO}: 0 row(s) appended, 2 already present" in err
    assert (two.path / KENKO).read_bytes() == first

    paths = [str(two.path / "assessments")]
    assert check_paths(paths).problems == []
    assert fmt_paths(paths, check_only=True).changed == []


def test_a_work_tree_file_with_crlf_line_endings_keeps_them(two: Repo, monkeypatch: pytest.MonkeyPatch,
                                                            capsysbinary: Any) -> None:
    """A checkout by git for Windows (core.autocrlf=true) has CRLF line endings: the rows are
    appended and the file keeps its line endings, so git sees only the rows added."""
    path = two.path / KENKO
    path.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))
    code, _, err = cli(["report", "--since", "v1", "--write"], two.path, monkeypatch, capsysbinary)
    assert code == 0, err
    written = path.read_bytes()
    assert written.count(b"\n") == written.count(b"\r\n") and len(rows(two)) == 2
    assert fmt_paths([str(path)], check_only=True).changed == []


def test_rows_are_appended_after_existing_ones(two: Repo) -> None:
    built = build(Options(since="v1", repo=str(two.path)))
    append_rows(built.report, built.root)
    two.commit("変更箇所の追記")
    mid = two.git("rev-parse", "HEAD")
    k = tomllib.loads((two.path / KENKO).read_text(encoding="utf-8"))
    k["basic"]["department"]["head_title"] = "健康づくり課長"
    two.write(KENKO, "# 担当: 健康推進課 山田\n" + text(k))
    two.commit("役職名 (再)")
    built = build(Options(since=mid, repo=str(two.path)))
    [result] = [a for a in append_rows(built.report, built.root) if a.file == KENKO]
    assert (result.added, result.present) == (1, 0)
    got = rows(two)
    assert [r["after"] for r in got] == ["（削除）", "健康推進課長", "健康づくり課長"]
    assert row_identity(got[2]) == (got[2]["item"], got[2]["date"].isoformat(), "健康推進課長", "健康づくり課長")


def test_rows_dated_before_the_annex_s_last_row_are_appended_with_a_warning(
        two: Repo, monkeypatch: pytest.MonkeyPatch, capsysbinary: Any) -> None:
    """kenko's annex ends with the PIA-Date row of 2026-04-01; two changes committed on 2026-01-09 go after it."""
    code, _, err = cli(["report", "--since", "v1", "--write"], two.path, monkeypatch, capsysbinary)
    assert code == 0 and "warning" not in err
    mid = two.commit("変更箇所の追記")
    k = tomllib.loads((two.path / KENKO).read_text(encoding="utf-8"))
    k["basic"]["department"]["head_title"] = "健康づくり課長"
    k["basic"]["other_bodies"]["names"] = "広島県"
    two.write(KENKO, "# 担当: 健康推進課 山田\n" + text(k))
    c = tomllib.loads((two.path / KAIGO).read_text(encoding="utf-8"))
    c["basic"]["department"]["head_title"] = "介護保険課長"
    two.write(KAIGO, text(c))
    two.commit("役職名、他の評価実施機関")
    code, _, err = cli(["report", "--since", mid, "--write"], two.path, monkeypatch, capsysbinary)
    assert code == 0, err
    assert err.splitlines() == [
        f"{KAIGO}: 1 row(s) appended, 0 already present",  # its last row is of 2026-01-07: no warning
        f"{KENKO}: 2 row(s) appended, 0 already present",
        f"{KENKO}: warning: 2 new rows are dated before the annex's last row (2026-04-01); check the 変更日",
    ]
    assert [r["date"] for r in rows(two)] == [dt.date(2026, 1, 7), dt.date(2026, 4, 1), dt.date(2026, 1, 9), dt.date(2026, 1, 9)]


def test_a_broken_work_tree_file_stops_every_write(two: Repo, monkeypatch: pytest.MonkeyPatch, capsysbinary: Any) -> None:
    (two.path / KENKO).write_text("[meta\n", encoding="utf-8")
    before = (two.path / KAIGO).read_bytes()
    code, _, err = cli(["report", "--since", "v1", "--write"], two.path, monkeypatch, capsysbinary)
    assert code == 1 and err.startswith(f"{KENKO}:1: invalid TOML")
    assert (two.path / KAIGO).read_bytes() == before  # nothing half-written


def test_a_file_missing_from_the_work_tree_stops_every_write(two: Repo, monkeypatch: pytest.MonkeyPatch, capsysbinary: Any) -> None:
    """kenko was removed from the work tree after the range: its rows have nowhere to go, so kaigo gets none either."""
    os.remove(two.path / KENKO)
    before = (two.path / KAIGO).read_bytes()
    code, out, err = cli(["report", "--since", "v1", "--write"], two.path, monkeypatch, capsysbinary)
    assert code == 1 and out == b""
    until = two.git("rev-parse", "--short=9", "HEAD")
    assert err == (f"Error: {KENKO}: not in the work tree (removed or renamed since {until}?), so its rows cannot be"
                   " appended; nothing written\n")
    assert (two.path / KAIGO).read_bytes() == before


def test_a_file_renamed_in_the_work_tree_gets_its_rows_under_its_new_name(two: Repo, monkeypatch: pytest.MonkeyPatch,
                                                                          capsysbinary: Any) -> None:
    """An assessment is known by its 評価実施機関名 and 評価書番号: kenko renamed since the range is found."""
    os.rename(two.path / KENKO, two.path / "assessments/kenko-2026.toml")
    code, _, err = cli(["report", "--since", "v1", "--write"], two.path, monkeypatch, capsysbinary)
    assert code == 0, err
    assert "assessments/kenko-2026.toml: 2 row(s) appended" in err
    assert len(rows(two, "assessments/kenko-2026.toml")) == 2 and not (two.path / KENKO).exists()


def test_a_renamed_file_saved_with_a_byte_order_mark_is_found(two: Repo, monkeypatch: pytest.MonkeyPatch,
                                                             capsysbinary: Any) -> None:
    """Notepad on Windows may save UTF-8 with a byte order mark, which check and fmt accept: the
    renamed file is still known by its 評価書番号, and gets its rows (fmt drops the mark)."""
    renamed = two.path / "assessments/kenko-2026.toml"
    renamed.write_bytes(b"\xef\xbb\xbf" + (two.path / KENKO).read_bytes())
    (two.path / KENKO).unlink()
    code, _, err = cli(["report", "--since", "v1", "--write"], two.path, monkeypatch, capsysbinary)
    assert code == 0, err
    assert "assessments/kenko-2026.toml: 2 row(s) appended" in err
    assert len(rows(two, "assessments/kenko-2026.toml")) == 2 and not (two.path / KENKO).exists()


def test_a_file_that_cannot_be_written_stops_every_write(two: Repo, tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch,
                                                         capsysbinary: Any) -> None:
    """kenko is a symbolic link out of the repository: refused before kaigo, which comes first, is written."""
    outside = tmp_path / "elsewhere.toml"
    outside.write_bytes((two.path / KENKO).read_bytes())
    (two.path / KENKO).unlink()
    (two.path / KENKO).symlink_to(outside)
    before, kept = (two.path / KAIGO).read_bytes(), outside.read_bytes()
    code, _, err = cli(["report", "--since", "v1", "--write"], two.path, monkeypatch, capsysbinary)
    link, target = two.path.resolve() / KENKO, outside.resolve()
    assert code == 1 and err.startswith(f"Error: {link}: is a symbolic link to {target}, outside")
    assert err.endswith("; not written\n") and err.count("\n") == 1
    assert (two.path / KAIGO).read_bytes() == before and outside.read_bytes() == kept


def test_an_output_file_that_cannot_be_written_stops_every_write(two: Repo, monkeypatch: pytest.MonkeyPatch,
                                                                capsysbinary: Any) -> None:
    before = {f: (two.path / f).read_bytes() for f in (KENKO, KAIGO)}
    code, out, err = cli(["report", "--since", "v1", "--write", "-o", "no-such-dir/report.md"], two.path, monkeypatch, capsysbinary)
    assert code == 1 and out == b""
    assert err == f"Error: no-such-dir/report.md: directory {two.path.resolve() / 'no-such-dir'} does not exist; not written\n"
    assert {f: (two.path / f).read_bytes() for f in (KENKO, KAIGO)} == before


def test_per_commit_rows_go_to_the_file_their_assessment_is_in_now(repo: Repo) -> None:
    """27 changes in kenko.toml, then kenko.toml and kaigo.toml swap names: 27's row belongs in kaigo.toml."""
    repo.write(KENKO, text(base()))
    repo.write(KAIGO, text(base("28")))
    repo.commit("初版")
    repo.git("tag", "v1")
    k = base()
    k["basic"]["department"]["head_title"] = "健康推進課長"
    repo.write(KENKO, text(k))
    repo.commit("役職名")
    repo.write(KENKO, text(base("28")))
    repo.write(KAIGO, text(k))
    repo.commit("ファイル名の入れ替え")
    built = build(Options(since="v1", repo=str(repo.path), per_commit=True))
    got = {a.file: a.added for a in append_rows(built.report, built.root)}
    assert got == {KAIGO: 1}
    assert [r["after"] for r in rows(repo, KAIGO)] == ["健康推進課長"]
    assert rows(repo, KENKO) == []


def test_removed_assessment_has_no_annex(repo: Repo) -> None:
    repo.write(KENKO, text(base()))
    first = repo.commit("初版")
    os.remove(repo.path / KENKO)
    repo.commit("廃止")
    built = build(Options(since=first, repo=str(repo.path)))
    [result] = append_rows(built.report, built.root)
    assert (result.file, result.added) == (KENKO, 0) and "removed" in result.note
    assert not (repo.path / KENKO).exists()


def test_new_assessment_gets_its_creation_row(repo: Repo, tmp_path: pathlib.Path) -> None:
    repo.write("README.md", "x\n")
    first = repo.commit("はじめ")
    repo.write(KENKO, text(base()))
    repo.commit("評価書の作成")
    built = build(Options(since=first, repo=str(repo.path)))
    append_rows(built.report, built.root)
    [row] = rows(repo)
    assert (row["before"], row["after"], row["paths"]) == ("記載なし", "（新規作成）", [])


def test_a_row_written_before_long_text_changed_is_not_written_again(repo: Repo, monkeypatch: pytest.MonkeyPatch,
                                                                      capsysbinary: Any) -> None:
    """A row is the same change (変更日, item, commits) whatever its texts: `report --write` after
    `[report] long_text` changed does not append the change a second time in the other form; a row
    written by hand with the same texts, but no paths or commits, still counts as present by its texts."""
    d = base()
    long_before = "<本市における措置>\n入館を管理する。\n<中間サーバーにおける措置>\n施錠する。"
    d["risks"]["1"]["network"]["risk1"]["measures"] = long_before
    repo.write(KENKO, text(d))
    repo.commit("初版")
    repo.git("tag", "v1")
    d["risks"]["1"]["network"]["risk1"]["measures"] = long_before.replace("施錠する。", "施錠し監視する。")
    repo.write(KENKO, text(d))
    repo.commit("保管場所の追記\n\nPIA-Cause: リスク軽減")
    code, _, err = cli(["report", "--since", "v1", "--write"], repo.path, monkeypatch, capsysbinary)
    assert code == 0, err
    [whole] = rows(repo)
    assert whole["before"] == long_before

    repo.write("piachange.toml", '[report]\nlong_text = "changed-blocks"\n')
    code, out, err = cli(["report", "--since", "v1", "--format", "json"], repo.path, monkeypatch, capsysbinary)
    assert code == 0, err
    assert '"item": "' + whole["item"] + ' (<中間サーバーにおける措置>に係る部分)"' in out.decode()  # printed otherwise now
    code, _, err = cli(["report", "--since", "v1", "--write"], repo.path, monkeypatch, capsysbinary)
    assert code == 0, err
    assert f"{KENKO}: 0 row(s) appended, 1 already present" in err
    assert rows(repo) == [whole]


def test_change_identity_needs_paths_and_commits() -> None:
    from piachange.annex import change_identity

    row = {"date": dt.date(2026, 4, 1), "item": "x", "before": "a", "after": "b", "paths": ["basic.a"], "commits": ["c0ffee"]}
    assert change_identity(row) == ("2026-04-01", ("basic.a",), ("c0ffee",))
    assert change_identity({**row, "commits": []}) is None
    assert change_identity({k: v for k, v in row.items() if k != "paths"}) is None
    assert row_identity(row) == ("x", "2026-04-01", "a", "b")
