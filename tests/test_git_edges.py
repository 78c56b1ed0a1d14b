"""The report over awkward but real histories: merges, renames, shallow clones, odd paths and messages.

Every repository is real (the ``repo`` fixture); errors go through the real command line and
must be one line, exit 1, never a traceback.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import pathlib
import subprocess
import sys
from typing import Any, Callable

import pytest

from piachange import model
from piachange.report import Options, build_report

from conftest import ROOT, Repo, run_main
from docs_factory import base, text

KENKO = "assessments/kenko.toml"


Cli = Callable[..., tuple[int, str, str]]


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, capsysbinary: Any) -> Cli:
    """Return a runner of the real command line (in-process); it returns (exit code, stdout, stderr)."""

    def run(*args: str, cwd: pathlib.Path) -> tuple[int, str, str]:
        code = run_main(args, cwd, monkeypatch)
        out, err = capsysbinary.readouterr()
        return code, out.decode("utf-8"), err.decode("utf-8")  # both must be valid UTF-8

    return run


def edited(**changes: str) -> dict:
    """Return seed 002 with department / cover fields replaced (``head_title=…``, ``organization=…``)."""
    d = base()
    for key, value in changes.items():
        (d["cover"] if key == "organization" else d["basic"]["department"])[key] = value
    return d


def rows(repo: Repo, since: str, until: str = "HEAD", per_commit: bool = False) -> list[tuple[str, str, str, list[str]]]:
    """Return (kind, item path, after text, commit subjects) per row."""
    report = build_report(Options(since=since, until=until, repo=str(repo.path), per_commit=per_commit))
    return [(r.change.kind, ".".join(r.change.path), r.change.after_text, [c.message.splitlines()[0] for c in r.change.commits])
            for r in report.rows]


# ---------------------------------------------------------------- merges


@pytest.fixture
def merged(repo: Repo) -> dict[str, str]:
    """main and topic both change 評価実施機関名; the merge settles it on a third value."""
    shas = {"first": repo.commit("空の始まり")}
    repo.write(KENKO, text(base()))
    shas["init"] = repo.commit("初版")
    repo.git("checkout", "-q", "-b", "topic")
    repo.write(KENKO, text(edited(head_title="健康推進課長", organization="呉市長 (topic)")))
    shas["topic"] = repo.commit("topic: 役職名と機関名")
    repo.git("checkout", "-q", "main")
    repo.write(KENKO, text(edited(name="健康部 健康課", organization="呉市長 (main)")))
    shas["main"] = repo.commit("main: 部署と機関名")
    repo.git("merge", "-q", "--no-ff", "-m", "取り込み", "topic", "-X", "ours", date="2026-01-09T09:00:00+09:00")
    repo.write(KENKO, text(edited(head_title="健康推進課長", name="健康部 健康課", organization="呉市長")))
    repo.git("add", "-A")
    repo.git("commit", "-q", "--amend", "--no-edit", date="2026-01-09T09:00:00+09:00")  # the merge resolves by hand
    shas["merge"] = repo.git("rev-parse", "HEAD")
    assert len(repo.git("log", "-1", "--format=%P").split()) == 2
    return shas


def test_merge_net_change_and_the_commits_of_both_parents(repo: Repo, merged: dict[str, str]) -> None:
    assert sorted(rows(repo, merged["init"])) == [
        # 機関名 went to two values and back: no net change, no row
        ("modified", "basic.department.head_title", "健康推進課長", ["topic: 役職名と機関名", "取り込み"]),
        ("modified", "basic.department.name", "健康部 健康課", ["main: 部署と機関名"]),
    ]


def test_merge_net_change_from_either_parent(repo: Repo, merged: dict[str, str]) -> None:
    # from topic's state only main's side and the merge remain to be reported, and the reverse
    assert sorted(rows(repo, merged["topic"])) == [
        ("modified", "basic.department.name", "健康部 健康課", ["main: 部署と機関名"]),
        ("modified", "cover.organization", "呉市長", ["main: 部署と機関名", "取り込み"]),
    ]
    assert sorted(rows(repo, merged["main"])) == [
        ("modified", "basic.department.head_title", "健康推進課長", ["topic: 役職名と機関名", "取り込み"]),
        ("modified", "cover.organization", "呉市長", ["topic: 役職名と機関名", "取り込み"]),
    ]


def test_merge_per_commit_compares_with_the_first_parent(repo: Repo, merged: dict[str, str]) -> None:
    got = rows(repo, merged["init"], per_commit=True)
    merge_rows = sorted(r[1:3] for r in got if r[3] == ["取り込み"])
    assert merge_rows == [("basic.department.head_title", "健康推進課長"), ("cover.organization", "呉市長")]
    assert ("modified", "cover.organization", "呉市長 (topic)", ["topic: 役職名と機関名"]) in got
    assert ("modified", "cover.organization", "呉市長 (main)", ["main: 部署と機関名"]) in got


# ---------------------------------------------------------------- files moving around


def test_renamed_moved_reformatted_and_edited_in_one_commit(repo: Repo, cli: Cli) -> None:
    repo.write(KENKO, text(base()))
    first = repo.commit("初版")
    new = "assessments/2024年度 健康/健康 増進.toml"
    (repo.path / new).parent.mkdir(parents=True)
    repo.git("mv", KENKO, new)
    # a different layout too: the file is compared by meaning, not by lines
    repo.write(new, "# 手で書き直した版\n" + text(edited(head_title="健康推進課長")).replace(" = ", "   =   "))
    repo.commit("名前と場所を変え、役職名も変更")
    for per_commit in (False, True):
        report = build_report(Options(since=first, repo=str(repo.path), per_commit=per_commit))
        [row] = report.rows
        assert (row.change.kind, row.change.file, row.change.old_file) == (model.MODIFIED, new, KENKO)
        assert row.change.path == ("basic", "department", "head_title")
    code, out, _ = cli("report", "--since", first, cwd=repo.path)
    assert code == 0 and f"評価書番号 27 ・ {new}" in out


def test_deleted_and_added_again(repo: Repo) -> None:
    repo.write(KENKO, text(base()))
    first = repo.commit("初版")
    (repo.path / KENKO).unlink()
    repo.commit("削除")
    repo.write(KENKO, text(base()))
    again = repo.commit("元のまま復活")
    # the same document at both ends: nothing to report, although two commits touched it
    assert rows(repo, first) == []
    assert rows(repo, first, per_commit=True) == [
        ("file_removed", "", "（削除）", ["削除"]),
        ("file_added", "", "（新規作成）", ["元のまま復活"]),
    ]
    (repo.path / KENKO).unlink()
    repo.commit("再び削除")
    repo.write(KENKO, text(edited(head_title="健康推進課長")))
    repo.commit("変えて復活")
    assert rows(repo, again) == [("modified", "basic.department.head_title", "健康推進課長", ["再び削除", "変えて復活"])]


def test_empty_commits_change_nothing(repo: Repo, cli: Cli) -> None:
    repo.write(KENKO, text(base()))
    first = repo.commit("初版")
    repo.commit("空のコミット")
    repo.commit("もう一つ空")
    assert rows(repo, first) == [] and rows(repo, first, per_commit=True) == []
    code, out, err = cli("report", "--since", first, "--format", "csv", cwd=repo.path)
    assert (code, err) == (0, "")
    assert out.count("\r\n") == 1  # the header row only


# ---------------------------------------------------------------- naming the range


def test_annotated_and_lightweight_tags_and_a_date_before_the_first_commit(repo: Repo, cli: Cli) -> None:
    repo.write(KENKO, text(base()))
    repo.commit("初版")
    repo.git("tag", "-a", "r6", "-m", "令和6年度 提出版")
    repo.write(KENKO, text(edited(head_title="健康推進課長")))
    repo.commit("役職名")
    repo.git("tag", "r7-light")
    assert rows(repo, "r6", "r7-light") == [("modified", "basic.department.head_title", "健康推進課長", ["役職名"])]
    code, out, err = cli("report", "--since", "令和7年1月1日", "--until", "r6", "--format", "json", cwd=repo.path)
    assert (code, err) == (0, "")
    assert '"since": "empty tree"' in out and "（新規作成）" in out


@pytest.fixture
def shallow(repo: Repo, tmp_path: pathlib.Path) -> tuple[pathlib.Path, dict[str, str]]:
    shas = {}
    repo.write(KENKO, text(base()))
    shas["init"] = repo.commit("初版")
    repo.write(KENKO, text(edited(head_title="健康推進課長")))
    shas["title"] = repo.commit("役職名")
    repo.write(KENKO, text(edited(head_title="健康推進課長", name="健康部")))
    shas["dept"] = repo.commit("部署")
    clone = tmp_path / "shallow"
    subprocess.run(["git", "clone", "-q", "--depth", "1", f"file://{repo.path}", str(clone)], check=True, capture_output=True)
    return clone, shas


@pytest.mark.parametrize(("since", "message"), [
    ("HEAD~1", "Error: unknown revision 'HEAD~1' in {root}"),
    ("init", "Error: unknown revision '{init}' in {root}"),
    ("2026-01-01", "Error: no commit at or before 2026-01-01 in the available history"),
])
def test_a_shallow_clone_asked_for_older_history_says_so(shallow: tuple[pathlib.Path, dict[str, str]], since: str,
                                                          message: str, cli: Cli) -> None:
    clone, shas = shallow
    root = os.path.realpath(clone)
    code, out, err = cli("report", "--since", shas.get(since, since), cwd=clone)
    assert (code, out) == (1, "")
    hint = "; this is a shallow clone: fetch the history with `git fetch --unshallow`\n"
    assert err == message.format(root=root, init=shas["init"]) + hint


def test_a_shallow_clone_asked_to_end_before_its_history_says_so(shallow: tuple[pathlib.Path, dict[str, str]], cli: Cli) -> None:
    clone, _ = shallow  # it holds the commit of 2026-01-07 only
    code, out, err = cli("report", "--since", "HEAD", "--until", "2026-01-06", cwd=clone)
    assert (code, out) == (1, "")
    assert err == ("Error: --until 2026-01-06: no main-line commit at or before the end of that day;"
                   " this is a shallow clone: fetch the history with `git fetch --unshallow`\n")


def test_a_shallow_clone_reports_what_it_has(shallow: tuple[pathlib.Path, dict[str, str]], cli: Cli) -> None:
    clone, _ = shallow
    subprocess.run(["git", "fetch", "-q", "--deepen", "1"], cwd=clone, check=True, capture_output=True)
    code, out, err = cli("report", "--since", "HEAD~1", "--format", "json", cwd=clone)
    assert (code, err) == (0, "")
    assert "健康部" in out and "健康推進課長" not in out


def test_a_repository_in_a_path_with_spaces_and_japanese(tmp_path: pathlib.Path, cli: Cli) -> None:
    repo = Repo(tmp_path / "市役所 共有" / "評価書 リポジトリ")
    repo.write("assessments/健康 増進.toml", text(base()))
    first = repo.commit("初版")
    repo.write("assessments/健康 増進.toml", text(edited(head_title="健康推進課長")))
    repo.commit("役職名")
    # from outside with --repo, and from a subdirectory with a relative PATH
    code, out, err = cli("report", "--since", first, "--repo", str(repo.path), cwd=tmp_path)
    assert (code, err) == (0, "") and "健康推進課長" in out and "assessments/健康 増進.toml" in out
    code, out2, err = cli("report", "--since", first, "健康 増進.toml", cwd=repo.path / "assessments")
    assert (code, err, out2) == (0, "", out)
    code, _, err = cli("check", "健康 増進.toml", cwd=repo.path / "assessments")
    # not the whole output: from 2027-01-31 the seed's 実施日 (2022-01-31) is 5 years old, a warning
    assert code == 0 and err.splitlines()[-1].startswith("1 file(s) ok"), err


def test_a_detached_head(repo: Repo, cli: Cli) -> None:
    repo.write(KENKO, text(base()))
    first = repo.commit("初版")
    repo.write(KENKO, text(edited(head_title="健康推進課長")))
    middle = repo.commit("役職名")
    repo.write(KENKO, text(edited(head_title="健康推進課長", name="健康部")))
    repo.commit("部署")
    repo.git("checkout", "-q", "--detach", middle)
    assert rows(repo, first) == [("modified", "basic.department.head_title", "健康推進課長", ["役職名"])]
    code, out, err = cli("report", "--since", first, "--until", "main", "--format", "json", cwd=repo.path)
    assert (code, err) == (0, "") and "健康部" in out


# ---------------------------------------------------------------- commit messages


def _raw_commit(repo: Repo, message: bytes, headers: bytes = b"") -> str:
    """Write a commit object byte for byte (git itself would re-encode a bad message) and move main to it."""
    tree, parent = repo.git("write-tree"), repo.git("rev-parse", "HEAD")
    body = (f"tree {tree}\nparent {parent}\nauthor 山田 花子 <hanako@example.jp> 1767830400 +0900\n"
            f"committer 山田 花子 <hanako@example.jp> 1767830400 +0900\n").encode() + headers + b"\n" + message
    obj = repo.path / ".git" / "raw-commit"
    obj.write_bytes(body)
    sha = repo.git("hash-object", "-t", "commit", "-w", "--literally", str(obj))
    repo.git("update-ref", "refs/heads/main", sha)
    return sha


def test_commit_messages_that_are_not_utf8(repo: Repo, cli: Cli) -> None:
    repo.write(KENKO, text(base()))
    first = repo.commit("初版")
    # Shift_JIS, declared: the trailers are read in their encoding
    repo.write(KENKO, text(edited(head_title="健康推進課長")))
    repo.git("add", "-A")
    msg = repo.path / ".git" / "sjis-message"
    msg.write_bytes("役職名の変更\n\nPIA-Cause: 人事異動\nPIA-Date: 2026-04-01\n".encode("cp932"))
    repo.git("-c", "i18n.commitEncoding=Shift_JIS", "commit", "-q", "-F", str(msg), date="2026-01-06T09:00:00+09:00")
    # undeclared bytes that are no encoding at all, then an encoding header git does not know
    repo.write(KENKO, text(edited(head_title="健康推進課長", name="健康部")))
    repo.git("add", "-A")
    _raw_commit(repo, b"\xff\xfe \x93\xfa\x96\x7b \x80 broken\n")
    repo.write(KENKO, text(edited(head_title="健康推進課長", name="健康部", organization="呉市長 (新)")))
    repo.git("add", "-A")
    _raw_commit(repo, "機関名\n".encode("utf-8"), b"encoding no-such-encoding\n")
    report = build_report(Options(since=first, repo=str(repo.path)))
    got = {r.change.path[-1]: (r.date, r.rule, r.change.commits[0].message.splitlines()[0]) for r in report.rows}
    assert got["head_title"] == (dt.date(2026, 4, 1), "cause:personnel", "役職名の変更")
    assert got["name"][2] == "\ufffd\ufffd \ufffd\ufffd\ufffd{ \ufffd broken"
    assert got["organization"][2] == "機関名"
    for fmt in ("md", "html", "csv", "json"):
        code, _, err = cli("report", "--since", first, "--per-commit", "--format", fmt, cwd=repo.path)
        assert (code, err) == (0, ""), fmt


def test_text_output_redirected_where_the_locale_is_cp932_is_utf8(repo: Repo) -> None:
    """`piachange explain > out.txt` on Windows: Python would encode standard output in cp932 and
    stop at the first 「—」 with a traceback; it is written in UTF-8, as the reports are."""
    repo.write(KENKO, text(base()))
    first = repo.commit("初版")
    repo.write(KENKO, text(edited(head_title="健康推進課長")))
    repo.commit("役職名の変更\n\nPIA-Cause: 人事異動")
    env = {**os.environ, "PYTHONIOENCODING": "cp932", "PYTHONPATH": str(ROOT)}
    env.pop("PYTHONUTF8", None)
    for args in (["explain", "--since", first], ["show", KENKO, "Ⅰ-6②"]):
        done = subprocess.run([sys.executable, "-m", "piachange", *args], cwd=repo.path, env=env, capture_output=True)
        assert done.returncode == 0 and done.stderr == b"", done.stderr.decode("cp932", "replace")
        out = done.stdout.decode("utf-8")  # not cp932
        assert "健康推進課長" in out, out
    assert "—" in subprocess.run([sys.executable, "-m", "piachange", "explain", "--since", first], cwd=repo.path, env=env,
                                 capture_output=True).stdout.decode("utf-8")


# ---------------------------------------------------------------- the work tree


def _tree_state(repo: Repo) -> dict[str, tuple[bytes, int]]:
    out = {}
    for root, dirs, names in os.walk(repo.path):
        dirs[:] = [d for d in dirs if d != ".git"]
        for n in names:
            p = pathlib.Path(root, n)
            out[str(p)] = (hashlib.sha256(p.read_bytes()).digest(), p.stat().st_mtime_ns)
    out["index"] = (hashlib.sha256((repo.path / ".git" / "index").read_bytes()).digest(), 0)
    return out


def test_uncommitted_edits_are_neither_read_nor_touched(repo: Repo, cli: Cli) -> None:
    repo.write(KENKO, text(base()))
    first = repo.commit("初版")
    repo.write(KENKO, text(edited(head_title="健康推進課長")))
    repo.commit("役職名")
    # uncommitted: an edit of the same file, a new file, a deletion staged in the index
    dirty = text(edited(head_title="作業中の課長")).replace(" = ", "  =  ")
    repo.write(KENKO, dirty)
    repo.write("assessments/draft.toml", text(base("99")))
    repo.write("assessments/gone.toml", text(base("98")))
    repo.git("add", "assessments/gone.toml")
    repo.git("status", "--porcelain")
    before = _tree_state(repo)
    code, out, err = cli("report", "--since", first, "--format", "json", cwd=repo.path)
    assert (code, err) == (0, "")
    assert "健康推進課長" in out and "作業中" not in out and "draft.toml" not in out and "gone.toml" not in out
    assert _tree_state(repo) == before
    # --write is the one exception: it appends the rows and keeps the uncommitted edit
    code, _, err = cli("report", "--since", first, "--write", cwd=repo.path)
    assert code == 0, err
    now = (repo.path / KENKO).read_text(encoding="utf-8")
    assert "作業中の課長" in now and "健康推進課長" in now.split("[changes]")[1]
    assert (repo.path / "assessments/draft.toml").read_text(encoding="utf-8") == text(base("99"))


# ---------------------------------------------------------------- what git can hold besides files


def test_a_symlink_in_the_tree_is_not_a_document(repo: Repo) -> None:
    repo.write(KENKO, text(base()))
    first = repo.commit("初版")
    (repo.path / "assessments" / "latest.toml").symlink_to("kenko.toml")
    repo.write(KENKO, text(edited(head_title="健康推進課長")))
    repo.commit("役職名とリンク")
    assert rows(repo, first) == [("modified", "basic.department.head_title", "健康推進課長", ["役職名とリンク"])]


def test_a_submodule_under_assessments_is_skipped(repo: Repo, tmp_path: pathlib.Path, cli: Cli) -> None:
    vendor = Repo(tmp_path / "vendor")
    vendor.write("x.toml", "a = 1\n")
    vendor.commit("外部")
    repo.write(KENKO, text(base()))
    first = repo.commit("初版")
    repo.git("-c", "protocol.file.allow=always", "submodule", "add", "-q", str(vendor.path), "assessments/vendor")
    repo.write(KENKO, text(edited(head_title="健康推進課長")))
    repo.commit("役職名と外部リポジトリ")
    code, out, err = cli("report", "--since", first, "--format", "json", cwd=repo.path)
    assert (code, err) == (0, "") and "健康推進課長" in out
