"""The report cache: reused when warm, never changes a report, never stops one."""

from __future__ import annotations

import json
import os
import pathlib
import pickle
import re
import sqlite3
import subprocess
import sys
from typing import Any

import pytest

from piachange import cache, sections

from conftest import Repo, run_main
from docs_factory import base, text, with_systems

KENKO = "assessments/kenko.toml"
REPORT = ["report", "--since", "v1", "--format", "json", "--per-commit"]


@pytest.fixture
def history(repo: Repo) -> Repo:
    """Four commits: システム2 removed, a title changed, a second file added and renamed."""
    repo.write(KENKO, text(with_systems(3)))
    repo.commit("初版")
    repo.git("tag", "v1")
    d = with_systems(3)
    del d["basic"]["systems"]["2"]
    repo.write(KENKO, text(d))
    repo.commit("システム2 の廃止\n\nPIA-Cause: 事務の終了")
    d["basic"]["department"]["head_title"] = "健康推進課長"
    repo.write(KENKO, text(d))
    repo.commit("所属長の役職名\n\nPIA-Cause: 人事異動")
    repo.write("assessments/other.toml", text(base("28")))
    repo.commit("別の評価書")
    repo.git("mv", "assessments/other.toml", "assessments/renamed.toml")
    repo.commit("名前の変更")
    return repo


def report(repo: Repo, monkeypatch: pytest.MonkeyPatch, capsysbinary: Any, *extra: str, net: bool = False) -> bytes:
    args = [*REPORT[:-1], *extra] if net else [*REPORT, *extra]
    code = run_main(args, repo.path, monkeypatch)
    out, err = capsysbinary.readouterr()
    assert code == 0, err
    return out


@pytest.fixture
def loads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Count the versions parsed (the cache's whole point is to parse them once)."""
    seen: list[str] = []
    real = sections.Builder.load

    def load(self: sections.Builder, raw: bytes, file: str, commit: str = "") -> Any:
        seen.append(file)
        return real(self, raw, file, commit)

    monkeypatch.setattr(sections.Builder, "load", load)
    return seen


def db_files(repo: Repo) -> list[pathlib.Path]:
    return sorted((repo.path / ".git" / "piachange-cache").glob("*.sqlite3"))


def test_warm_report_is_identical_and_parses_nothing(history: Repo, monkeypatch: pytest.MonkeyPatch, capsysbinary: Any, loads: list[str]) -> None:
    cold = report(history, monkeypatch, capsysbinary)
    assert loads and len(db_files(history)) == 1
    loads.clear()
    assert report(history, monkeypatch, capsysbinary) == cold
    assert loads == []
    net_cold = report(history, monkeypatch, capsysbinary, net=True)
    loads.clear()
    assert report(history, monkeypatch, capsysbinary, net=True) == net_cold
    assert loads == []
    assert report(history, monkeypatch, capsysbinary, "--no-cache", net=True) == net_cold


def test_one_new_commit_parses_only_its_versions(history: Repo, monkeypatch: pytest.MonkeyPatch, capsysbinary: Any, loads: list[str]) -> None:
    report(history, monkeypatch, capsysbinary)
    d = with_systems(3)
    del d["basic"]["systems"]["2"]
    d["basic"]["department"]["head_title"] = "健康づくり課長"
    history.write(KENKO, text(d))
    history.commit("所属長の役職名 (再)")
    loads.clear()
    warm = report(history, monkeypatch, capsysbinary)
    assert loads == [KENKO, KENKO]  # the two versions the new commit compares, nothing else
    assert warm == report(history, monkeypatch, capsysbinary, "--no-cache")


@pytest.mark.parametrize("net", [False, True], ids=["per-commit", "net"])
def test_rows_are_kept_by_commits_and_the_configuration(history: Repo, monkeypatch: pytest.MonkeyPatch,
                                                        capsysbinary: Any, net: bool) -> None:
    """A warm report classifies nothing; a new configuration is a new key, not a stale row."""
    from piachange import classify

    calls: list[int] = []
    real = classify._trace
    monkeypatch.setattr(classify, "_trace", lambda changes, **kw: calls.append(len(changes)) or real(changes, **kw))
    cold = report(history, monkeypatch, capsysbinary, net=net)
    assert calls
    calls.clear()
    assert report(history, monkeypatch, capsysbinary, net=net) == cold and calls == []
    history.write("piachange.toml", '[[rules]]\nid = "everything-jizen"\ntiming = "事前"\nreason = "全て事前"\n')
    changed = report(history, monkeypatch, capsysbinary, net=net)
    assert calls and changed != cold
    assert changed == report(history, monkeypatch, capsysbinary, "--no-cache", net=net)
    history.write("piachange.toml", "")
    history.write(KENKO, text(with_systems(2)))
    history.commit("システム3 の廃止")
    calls.clear()
    after = report(history, monkeypatch, capsysbinary, net=net)
    # per commit: only the new commit is classified; net: only the assessment it changed
    rows = json.loads(after)["rows"]
    assert len(calls) == 1 and (not net or calls == [sum(r["file"] == KENKO for r in rows)] and calls[0] < len(rows))
    assert after == report(history, monkeypatch, capsysbinary, "--no-cache", net=net)


def test_no_cache_neither_reads_nor_writes(history: Repo, monkeypatch: pytest.MonkeyPatch, capsysbinary: Any, loads: list[str]) -> None:
    cold = report(history, monkeypatch, capsysbinary, "--no-cache")
    assert not (history.path / ".git" / "piachange-cache").exists()
    report(history, monkeypatch, capsysbinary)
    loads.clear()
    assert report(history, monkeypatch, capsysbinary, "--no-cache") == cold
    assert loads  # parsed again


def test_cache_dir_option_and_environment(history: Repo, tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch, capsysbinary: Any) -> None:
    cold = report(history, monkeypatch, capsysbinary, "--cache-dir", str(tmp_path / "c1"))
    assert list((tmp_path / "c1").glob("*.sqlite3")) and not db_files(history)
    monkeypatch.setenv(cache.ENV, str(tmp_path / "c2"))
    assert report(history, monkeypatch, capsysbinary) == cold
    assert list((tmp_path / "c2").glob("*.sqlite3")) and not db_files(history)


def test_a_corrupt_cache_file_is_a_miss_and_is_started_afresh(history: Repo, monkeypatch: pytest.MonkeyPatch, capsysbinary: Any, loads: list[str]) -> None:
    cold = report(history, monkeypatch, capsysbinary)
    (path,) = db_files(history)
    path.write_bytes(b"this is not a database" * 100)
    assert report(history, monkeypatch, capsysbinary) == cold
    loads.clear()
    assert report(history, monkeypatch, capsysbinary) == cold
    assert loads == []  # written again by the run after the damage


def test_a_truncated_cache_file_is_a_miss(history: Repo, monkeypatch: pytest.MonkeyPatch, capsysbinary: Any) -> None:
    cold = report(history, monkeypatch, capsysbinary)
    (path,) = db_files(history)
    raw = path.read_bytes()
    path.write_bytes(raw[: len(raw) // 3])
    assert report(history, monkeypatch, capsysbinary) == cold
    assert report(history, monkeypatch, capsysbinary) == cold


@pytest.mark.parametrize("net", [False, True], ids=["per-commit", "net"])
def test_damaged_or_foreign_entries_are_misses(history: Repo, monkeypatch: pytest.MonkeyPatch, capsysbinary: Any,
                                               net: bool) -> None:
    cold = report(history, monkeypatch, capsysbinary, net=net)
    (path,) = db_files(history)
    with sqlite3.connect(path) as db:
        keys = [k for (k,) in db.execute("SELECT key FROM entry")]
        values = [b"\x80\x05garbage", pickle.dumps(os.system), pickle.dumps([("not", "a", "change")]), pickle.dumps(7),
                  pickle.dumps(([("a", "b")], [("finding",)])), pickle.dumps(([(("x",) * 13, ("0" * 40,), None)], []))]
        for i, k in enumerate(keys):
            db.execute("UPDATE entry SET value = ? WHERE key = ?", (values[i % len(values)], k))
    assert report(history, monkeypatch, capsysbinary, net=net) == cold


def test_a_cache_of_another_version_is_never_read(history: Repo, monkeypatch: pytest.MonkeyPatch, capsysbinary: Any) -> None:
    cold = report(history, monkeypatch, capsysbinary)
    (path,) = db_files(history)
    # the same keys with a poisoned value, in the file another piachange would have written
    other = path.with_name("v1-0000000000000000.sqlite3")
    with sqlite3.connect(path) as db:
        keys = [k for (k,) in db.execute("SELECT key FROM entry")]
    path.unlink()
    with sqlite3.connect(other) as db:
        db.execute("CREATE TABLE entry (key BLOB PRIMARY KEY, value BLOB) WITHOUT ROWID")
        db.executemany("INSERT INTO entry VALUES (?, ?)", [(k, pickle.dumps([])) for k in keys])
    assert report(history, monkeypatch, capsysbinary) == cold
    assert db_files(history) == [path]  # the other version's file is gone
    assert len(cache.stamp()) == 16 and cache.stamp() == cache.stamp()
    # one that could not be removed then (on Windows, another run held it open) goes on a later run
    other.write_bytes(b"")
    assert report(history, monkeypatch, capsysbinary) == cold
    assert db_files(history) == [path]


@pytest.mark.parametrize("where", ["blocked-by-a-file", "env-blocked"])
def test_a_cache_that_cannot_be_written_is_skipped(history: Repo, tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch,
                                                   capsysbinary: Any, where: str) -> None:
    cold = report(history, monkeypatch, capsysbinary, "--no-cache")
    # chmod does not stop root: a file where the directory should be stops everyone
    if where == "blocked-by-a-file":
        (history.path / ".git" / "piachange-cache").write_text("x")
    else:
        (tmp_path / "file").write_text("x")
        monkeypatch.setenv(cache.ENV, str(tmp_path / "file" / "cache"))
    assert report(history, monkeypatch, capsysbinary) == cold
    assert report(history, monkeypatch, capsysbinary, net=True) == report(history, monkeypatch, capsysbinary, "--no-cache", net=True)


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes read-only files; the file-blocked cases above cover root")
def test_a_read_only_git_directory(history: Repo, monkeypatch: pytest.MonkeyPatch, capsysbinary: Any) -> None:
    report(history, monkeypatch, capsysbinary)
    cold = report(history, monkeypatch, capsysbinary, "--no-cache")
    git_dir = history.path / ".git"
    modes = {p: p.stat().st_mode for p in [git_dir, *git_dir.rglob("*")]}
    try:
        for p in modes:
            p.chmod(modes[p] & ~0o222)
        assert report(history, monkeypatch, capsysbinary) == cold  # the cache is still read
    finally:
        for p, m in modes.items():
            p.chmod(m)


def test_concurrent_reports_share_the_cache(history: Repo) -> None:
    env = {**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
    argv = [sys.executable, "-m", "piachange", *REPORT]
    procs = [subprocess.Popen(argv, cwd=history.path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(3)]
    outs = [p.communicate() for p in procs]
    assert all(p.returncode == 0 for p in procs), [e for _, e in outs]
    assert len({o for o, _ in outs}) == 1
    again = subprocess.run(argv, cwd=history.path, env=env, capture_output=True, check=True)
    assert again.stdout == outs[0][0]


def test_a_net_report_after_a_per_commit_one_walks_no_commit(history: Repo, monkeypatch: pytest.MonkeyPatch,
                                                             capsysbinary: Any) -> None:
    """The per-commit report keeps the items each commit changed, which is all net mode needs from the walk."""
    from piachange import report as report_module

    walked: list[str] = []
    real = report_module._Builder._walk

    def walk(self: Any, commits: list[Any], *rest: Any) -> Any:
        walked.extend(c.sha for c in commits)
        return real(self, commits, *rest)

    monkeypatch.setattr(report_module._Builder, "_walk", walk)
    report(history, monkeypatch, capsysbinary)
    assert len(walked) == 4
    walked.clear()
    net = report(history, monkeypatch, capsysbinary, net=True)
    assert walked == []
    assert net == report(history, monkeypatch, capsysbinary, "--no-cache", net=True)


def test_a_held_cache_keeps_every_entry_until_taken(tmp_path: pathlib.Path) -> None:
    """The second process of a long walk holds what it puts, however much, for the first one to write."""
    held = cache.Cache(str(tmp_path), hold=True)
    entries = {cache.key("k", str(i)): i for i in range(2 * cache._PENDING + 1)}
    for k, v in entries.items():
        held.put(k, v)
    taken = held.take()
    held.close()
    assert len(taken) == len(entries)
    first = cache.Cache(str(tmp_path))
    first.put_taken(taken)
    first.close()
    assert cache.Cache(str(tmp_path)).get_many(list(entries)) == entries


def test_a_cache_that_can_only_be_read_is_read_wherever_it_is(tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A cache that cannot be opened for writing (a read-only repository, another user's) is read
    as a URI: a '#' or '%' in the path must not cut it or change it."""
    directory = tmp_path / "評価書 #1 100%" / ".git" / "piachange-cache"
    kept = cache.Cache(str(directory))
    kept.put(cache.key("k"), "値")
    kept.close()

    def refused(self: cache.Cache, directory: str) -> None:
        raise sqlite3.OperationalError("attempt to write a readonly database")

    monkeypatch.setattr(cache.Cache, "_open", refused)
    again = cache.Cache(str(directory))
    assert not again.writable and again.get(cache.key("k")) == "値"


def test_a_net_report_reuses_no_assessment_a_scoped_commit_touched(history: Repo, monkeypatch: pytest.MonkeyPatch,
                                                                   capsysbinary: Any) -> None:
    """A scope is resolved against every item its commit changed: the assessments such a commit
    touched are classified again together, and the report is the one without a cache."""
    from piachange import classify

    for path, title in ((KENKO, "健康づくり課長"), ("assessments/renamed.toml", "保健課長")):
        old = (history.path / path).read_text(encoding="utf-8")
        history.write(path, re.sub(r'^head_title = "[^"]*"', f'head_title = "{title}"', old, count=1, flags=re.M))
        assert (history.path / path).read_text(encoding="utf-8") != old
    history.commit("所属長の役職名\n\nPIA-Cause: 人事異動 (basic.department.*)")
    report(history, monkeypatch, capsysbinary, net=True)
    history.write(KENKO, (history.path / KENKO).read_text(encoding="utf-8").replace("健康づくり課長", "健康推進課長"))
    history.commit("所属長の役職名の訂正")
    calls: list[int] = []
    real = classify._trace
    monkeypatch.setattr(classify, "_trace", lambda changes, **kw: calls.append(len(changes)) or real(changes, **kw))
    after = report(history, monkeypatch, capsysbinary, net=True)
    assert calls == [len(json.loads(after)["rows"])]  # both assessments, though the new commit changed one
    assert after == report(history, monkeypatch, capsysbinary, "--no-cache", net=True)
