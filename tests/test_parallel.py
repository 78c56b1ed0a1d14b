"""A long walk is cut in two, the newer half walked by a second process: the report is the same."""

from __future__ import annotations

import os
import pathlib
from typing import Any

import pytest

from piachange import history as history_module
from piachange import compare, parallel, report
from piachange.errors import PiaError, Problem

from conftest import Repo, run_main
from docs_factory import base, text, with_systems

KENKO = "assessments/kenko.toml"
TESTS = str(pathlib.Path(__file__).parent)


@pytest.fixture
def history(repo: Repo) -> Repo:
    """Twelve commits: values, an instance removed, an unreadable version and its fix, a file added,
    renamed and deleted, a merge."""
    d = with_systems(3)
    repo.write(KENKO, text(d))
    repo.commit("初版")
    repo.git("tag", "v1")
    for i, title in enumerate(["健康推進課長", "健康増進課長", "保健課長"]):
        d["basic"]["department"]["head_title"] = title
        repo.write(KENKO, text(d))
        repo.commit(f"役職名 {i}\n\nPIA-Cause: 人事異動")
    del d["basic"]["systems"]["2"]
    repo.write(KENKO, text(d))
    repo.commit("システム2 の廃止")
    repo.write(KENKO, text(d).replace('population = "', 'population = "たくさん', 1))
    repo.commit("壊れた版")
    repo.write(KENKO, text(d))
    repo.commit("直した版")
    repo.write("assessments/other.toml", text(base("28")))
    repo.commit("別の評価書")
    repo.git("checkout", "-q", "-b", "side")
    repo.git("mv", "assessments/other.toml", "assessments/renamed.toml")
    repo.commit("名前の変更")
    repo.git("checkout", "-q", "main")
    d["cover"]["title"] = "健康管理事務 全項目評価書"
    repo.write(KENKO, text(d))
    repo.commit("表題")
    repo.git("merge", "-q", "--no-ff", "-m", "side を取り込む", "side", date="2026-02-01T09:00:00+09:00")
    repo.git("rm", "-q", "assessments/renamed.toml")
    repo.commit("削除")
    return repo


def run(repo: Repo, monkeypatch: pytest.MonkeyPatch, capsysbinary: Any, *args: str, jobs: str) -> bytes:
    monkeypatch.setenv(parallel.ENV, jobs)
    code = run_main(["report", "--since", "v1", *args], repo.path, monkeypatch)
    out, err = capsysbinary.readouterr()
    assert code == 0, err
    return out


@pytest.mark.parametrize("args", [["--per-commit"], []], ids=["per-commit", "net"])
@pytest.mark.parametrize("fmt", ["json", "md"])
def test_two_processes_make_the_same_report_as_one(history: Repo, monkeypatch: pytest.MonkeyPatch, capsysbinary: Any,
                                                   args: list[str], fmt: str) -> None:
    monkeypatch.setattr(report, "PARALLEL", 2)
    one = run(history, monkeypatch, capsysbinary, *args, "--format", fmt, "--no-cache", jobs="1")
    two = run(history, monkeypatch, capsysbinary, *args, "--format", fmt, "--no-cache", jobs="2")
    assert two == one
    assert "cannot be read".encode() in one  # the unreadable version is reported by either process


def test_the_second_process_fills_the_cache(history: Repo, monkeypatch: pytest.MonkeyPatch, capsysbinary: Any) -> None:
    """What the second process found is written to the cache by the first: the next runs compare nothing."""
    monkeypatch.setattr(report, "PARALLEL", 2)
    cold = run(history, monkeypatch, capsysbinary, "--per-commit", "--format", "json", jobs="2")
    walked: list[int] = []
    real = report._Builder._walk
    monkeypatch.setattr(report._Builder, "_walk", lambda self, commits, *rest: walked.append(len(commits)) or real(self, commits, *rest))
    assert run(history, monkeypatch, capsysbinary, "--per-commit", "--format", "json", jobs="2") == cold
    run(history, monkeypatch, capsysbinary, "--format", "json", jobs="2")
    assert walked == [0, 0]  # per-commit rows, then the items of every commit: all from the cache
    read: list[str] = []
    document = history_module.History.document
    monkeypatch.setattr(history_module.History, "document",
                        lambda self, path, blob, commit: read.append(commit) or document(self, path, blob, commit))
    run(history, monkeypatch, capsysbinary, "--per-commit", "--format", "json", KENKO, jobs="1")
    # another scope: its commits are compared again, from the changes both processes cached; only the
    # unreadable version (新しい側 of 壊れた版, 古い側 of 直した版) is read again, as it is never cached
    assert walked[2] == 11 and len(read) == 2


def test_short_walks_stay_in_one_process(history: Repo, monkeypatch: pytest.MonkeyPatch, capsysbinary: Any) -> None:
    started: list[Any] = []
    monkeypatch.setattr(parallel, "Apart", lambda *a: started.append(a))
    run(history, monkeypatch, capsysbinary, "--per-commit", "--no-cache", jobs="2")  # 12 commits < PARALLEL
    monkeypatch.setattr(report, "PARALLEL", 2)
    run(history, monkeypatch, capsysbinary, "--per-commit", "--no-cache", jobs="1")
    assert started == []


def fails(message: str) -> None:
    raise PiaError(message, [Problem("a.toml", 3, "bad", "c0ffee")])


def ends(code: int) -> None:
    os._exit(code)


def test_an_error_in_the_second_process_is_the_same_error_here(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTHONPATH", TESTS)  # where the second process finds this module
    with pytest.raises(PiaError) as e:
        parallel.Apart(__name__).call(fails, "commit 1234567 is not in the repository").result()
    assert str(e.value) == "commit 1234567 is not in the repository"
    assert e.value.problems == [Problem("a.toml", 3, "bad", "c0ffee")]
    with pytest.raises(PiaError, match=r"ended without a result \(exit code 3\)"):
        parallel.Apart().call(ends, 3).result()
    assert parallel.Apart().call(sorted, [3, 1, 2]).result() == [1, 2, 3]


def test_a_second_process_no_longer_wanted_is_stopped() -> None:
    apart = parallel.Apart().call(ends, 0)
    apart.stop()
    apart.stop()
    parallel.Apart("piachange.report").stop()  # never called


@pytest.mark.parametrize("value", ["0", "x", "２", "-1"])
def test_a_bad_number_of_jobs_is_one_line(value: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(parallel.ENV, value)
    with pytest.raises(PiaError, match=f"{parallel.ENV}="):
        parallel.jobs()


def test_without_a_second_interpreter_one_process_does_it_all(history: Repo, monkeypatch: pytest.MonkeyPatch,
                                                               capsysbinary: Any) -> None:
    monkeypatch.setattr(report, "PARALLEL", 2)
    one = run(history, monkeypatch, capsysbinary, "--per-commit", "--format", "json", "--no-cache", jobs="1")
    monkeypatch.setattr(parallel.sys, "executable", str(history.path / "no-such-python"))
    assert run(history, monkeypatch, capsysbinary, "--per-commit", "--format", "json", "--no-cache", jobs="2") == one


def test_a_bad_number_of_jobs_fails_any_report_in_one_line_and_writes_nothing(
        history: Repo, monkeypatch: pytest.MonkeyPatch, capsys: Any) -> None:
    """Even a report too short for a second process, or one read whole from the cache."""
    assert run_main(["report", "--since", "v1"], history.path, monkeypatch) == 0  # the cache now has it all
    capsys.readouterr()
    monkeypatch.setenv(parallel.ENV, "two")
    out = history.path / "out.md"
    for args in (["--no-cache"], []):
        code = run_main(["report", "--since", "v1", "--output", str(out), *args], history.path, monkeypatch)
        _, err = capsys.readouterr()
        assert code == 1
        assert err == "Error: PIACHANGE_JOBS='two': must be a whole number ≥ 1\n"
        assert not out.exists()


def test_an_unreadable_end_fails_before_the_walk_in_either_mode(history: Repo, monkeypatch: pytest.MonkeyPatch,
                                                                capsysbinary: Any) -> None:
    """Net mode compares the two ends before this process walks (a second process walks its part
    meanwhile, and is stopped): an unreadable end is the same one-line error, with one process or
    two, and this process compares no commit."""
    monkeypatch.setattr(report, "PARALLEL", 2)
    history.write(KENKO, text(with_systems(3)).replace('population = "', 'population = "たくさん', 1))
    history.commit("壊れた最新版")
    walked: list[bool] = []
    real = compare.Comparer.diff
    monkeypatch.setattr(compare.Comparer, "diff", lambda self, delta, a, b, strict: walked.append(strict) or real(self, delta, a, b, strict))
    errors = []
    for jobs in ("1", "2"):
        monkeypatch.setenv(parallel.ENV, jobs)
        code = run_main(["report", "--since", "v1", "--no-cache"], history.path, monkeypatch)
        out, err = capsysbinary.readouterr()
        assert code != 0 and out == b""
        errors.append(err)
    assert errors[0] == errors[1] and len(errors[0].decode().strip().splitlines()) == 1
    assert KENKO.encode() in errors[0]
    assert walked == [True, True]  # the ends, in each run; never a commit with its parent (strict=False)


def test_a_walk_is_cut_by_work_not_by_commits() -> None:
    """A history starts with its files being added (each built whole): the older part gets fewer commits."""
    from types import SimpleNamespace

    commits: Any = [SimpleNamespace(sha=f"c{i}") for i in range(10)]
    diffs = {"c0": [(f"f{k}.toml", None, "b") for k in range(4)], **{f"c{i}": [("f0.toml", "a", "b")] for i in range(1, 10)}}
    # weights: 1 + 4 × 3 = 13 for the first commit, then 2 each (31 in all)
    assert report._split(commits, diffs, 50) == 2
    assert report._split(commits, diffs, 0) == 0
    assert report._split(commits, diffs, 100) == 10
    assert report._split(commits, {}, 50) == 5  # nothing changed: one each
    assert report._split(commits, diffs, 50, before=13) == 1  # work done first counts: (31 + 13) / 2 - 13 = 9
    assert report._split(commits, diffs, 50, before=40) == 0  # more than half of it all: the second process walks every commit


def test_the_newest_versions_are_not_read_again_without_a_cache(history: Repo, monkeypatch: pytest.MonkeyPatch,
                                                                capsysbinary: Any) -> None:
    """The second process says what each version it read is: naming the assessments reads nothing, even with --no-cache."""
    monkeypatch.setattr(report, "PARALLEL", 2)
    for title in ("最新の表題", "さらに新しい表題"):  # the newest version of the file is read by the second process
        history.write(KENKO, (history.path / KENKO).read_text(encoding="utf-8").replace("健康管理事務 全項目評価書", title).replace("最新の表題", title))
        history.commit(title)
    naming, read = [False], []
    assessments = report._Builder._assessments
    document = history_module.History.document

    def named(self: Any, *args: Any) -> Any:
        naming[0] = True
        return assessments(self, *args)

    monkeypatch.setattr(report._Builder, "_assessments", named)
    monkeypatch.setattr(history_module.History, "document",
                        lambda self, *a: (read.append(a[0]) if naming[0] else None) or document(self, *a))
    run(history, monkeypatch, capsysbinary, "--per-commit", "--no-cache", jobs="2")
    assert naming[0] and read == []
