"""`report --staged`: the rows of the commit being made, from a commit-msg hook, in real repositories."""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys
from typing import Any

import pytest

from conftest import ROOT, SAMPLES, Repo

KAIGO = "assessments/kaigo-juten.toml"
STORAGE = "Ⅱ 特定個人情報ファイルの概要 6. 特定個人情報の保管・消去 保管場所"
IDENTITY = {"GIT_AUTHOR_NAME": "山田 花子", "GIT_AUTHOR_EMAIL": "hanako@example.jp", "GIT_COMMITTER_NAME": "山田 花子",
            "GIT_COMMITTER_EMAIL": "hanako@example.jp", "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_AUTHOR_DATE": "2026-03-16T10:00:00+09:00", "GIT_COMMITTER_DATE": "2026-03-16T10:00:00+09:00"}


def piachange(*args: str, cwd: pathlib.Path, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **IDENTITY, "PYTHONUTF8": "1", "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "piachange", *args], cwd=cwd, env=env, input=stdin, capture_output=True,
                          text=True, encoding="utf-8")


def state(repo: Repo) -> tuple[str, str, str, str]:
    """What must not change: refs, the index, the work tree, the reflog."""
    return (repo.git("for-each-ref"), repo.git("ls-files", "-s"), repo.git("status", "--porcelain"),
            (repo.path / ".git" / "logs" / "HEAD").read_text(encoding="utf-8"))


def moved_storage(repo: Repo) -> None:
    """Commit the sample, then stage a new 保管場所 (※) and an unstaged edit of another item."""
    text = (SAMPLES / "kaigo-juten.toml").read_text(encoding="utf-8")
    repo.write(KAIGO, text)
    repo.commit("初版")
    changed = text.replace("location = '''\n", "location = '''\nガバメントクラウド上に保管する。\n", 1)
    assert changed != text
    repo.write(KAIGO, changed)
    repo.git("add", KAIGO)
    repo.write("notes.txt", "not staged")


def hooked(repo: Repo, prefix: str = "", args: str = "") -> str:
    """Commit the sample and write a commit-msg hook running report --staged with this Python and this
    checkout on PYTHONPATH (install-hook's own is tested below; ``prefix``: variables set for it,
    ``args``: more options); return the commit."""
    repo.write(KAIGO, (SAMPLES / "kaigo-juten.toml").read_text(encoding="utf-8"))
    head = repo.commit("初版")
    hook = repo.path / ".git" / "hooks" / "commit-msg"
    hook.write_text(f'#!/bin/sh\n{prefix}PYTHONPATH="{ROOT}" exec "{sys.executable}" -m piachange report --staged'
                    f' --message "$1"{args}\n', encoding="utf-8")
    hook.chmod(0o755)
    return head


def edit_storage(repo: Repo) -> None:
    """Write a new 保管場所 (※) into the work tree, not staged."""
    text = (repo.path / KAIGO).read_text(encoding="utf-8")
    changed = text.replace("location = '''\n", "location = '''\nガバメントクラウド上に保管する。\n", 1)
    assert changed != text
    repo.write(KAIGO, changed)


def staged_json(command: str, repo: Repo, tmp_path: pathlib.Path, message: str) -> dict[str, Any]:
    """Stage the moved 保管場所, run ``command --staged`` with ``message`` as JSON; check nothing was written."""
    moved_storage(repo)
    msg = tmp_path / "MSG"
    msg.write_text(message, encoding="utf-8")
    before = state(repo)
    done = piachange(command, "--staged", "--message", str(msg), "--format", "json", cwd=repo.path)
    assert done.returncode == 0, done.stderr
    assert state(repo) == before  # no ref, no index entry, no work-tree file, no reflog line
    out: dict[str, Any] = json.loads(done.stdout)
    return out


def test_the_staged_change_is_reported_as_its_commit_will_be(repo: Repo, tmp_path: pathlib.Path) -> None:
    out = staged_json("report", repo, tmp_path, "保管場所の変更\n\nPIA-Cause: システム更改\n")
    assert out["until"] == "(staged)" and out["since"] == repo.git("rev-parse", "--short=9", "HEAD")
    [row] = out["rows"]
    assert (row["item"], row["timing"], row["rule"], row["date"]) == (STORAGE, "事前", "cause:system", "2026-03-16")
    assert row["commits"] == ["(staged)"]  # not the id of an object no ref will ever name


def test_without_a_message_a_star_item_is_jizen_and_says_no_cause(repo: Repo) -> None:
    moved_storage(repo)
    done = piachange("report", "--staged", "--format", "json", cwd=repo.path)
    assert done.returncode == 0, done.stderr
    [row] = json.loads(done.stdout)["rows"]
    assert (row["timing"], row["rule"]) == ("事前", "star-substantive")
    assert any("no PIA-Cause" in w for w in row["warnings"])


@pytest.mark.parametrize(("message", "line", "text"), [
    ("保管場所の変更\n\nPIA-Cause: システム更新\n", 3,
     "the staged commit (保管場所の変更): unknown cause 'システム更新' in PIA-Cause (did you mean 'システム更改'?)"),
    ("保管場所の変更\n\n本文\n\nPIA-Cause: システム更改 (Ⅱ-9)\n", 5,
     "PIA-Cause of the staged commit (保管場所の変更): scope entry 'Ⅱ-9': no item 'Ⅱ-9' in this 重点項目評価書"),
    ("保管場所の変更\n\nPIA-Timing: 事後\n", 3, "the staged commit (保管場所の変更): PIA-Timing needs a PIA-Reason trailer"),
    ("保管場所の変更\n\nPIA-Date: 2026-13-01\n", 3, "the staged commit (保管場所の変更): PIA-Date: '2026-13-01' is not a date"),
], ids=["unknown-cause", "scope", "timing-without-reason", "bad-date"])
def test_a_wrong_trailer_is_one_line_naming_the_message_file_and_line(
        repo: Repo, tmp_path: pathlib.Path, message: str, line: int, text: str) -> None:
    moved_storage(repo)
    msg = tmp_path / "COMMIT_EDITMSG"
    msg.write_text(message, encoding="utf-8")
    before = state(repo)
    done = piachange("report", "--staged", "--message", str(msg), cwd=repo.path)
    assert done.returncode == 1
    assert done.stdout == ""
    [err] = done.stderr.splitlines()
    assert err.startswith(f"Error: {msg}:{line}: {text}"), err
    assert state(repo) == before


def test_comments_and_the_verbose_diff_are_not_the_message(repo: Repo) -> None:
    moved_storage(repo)
    message = ("保管場所の変更\n\nPIA-Cause: 軽微な修正\n# PIA-Cause: 存在しない原因\n"
               "# ------------------------ >8 ------------------------\n+PIA-Timing: 事前\nPIA-Cause: 不明\n")
    done = piachange("report", "--staged", "--message", "-", "--format", "json", cwd=repo.path, stdin=message)
    assert done.returncode == 0, done.stderr
    [row] = json.loads(done.stdout)["rows"]
    assert (row["timing"], row["rule"]) == ("事後", "cause:minor")


def test_a_commit_msg_hook_stops_a_commit_whose_trailer_is_wrong(repo: Repo) -> None:
    """The hook as a user installs it; `git commit -a` records a temporary index, which the hook sees."""
    head = hooked(repo)
    edit_storage(repo)
    env = {**os.environ, **IDENTITY}
    bad = subprocess.run(["git", "commit", "-a", "-m", "保管場所の変更", "-m", "PIA-Cause: システム更新"], cwd=repo.path, env=env,
                         capture_output=True, text=True, encoding="utf-8")
    assert bad.returncode != 0
    assert "COMMIT_EDITMSG:3: the staged commit (保管場所の変更): unknown cause 'システム更新'" in bad.stderr
    assert repo.git("rev-parse", "HEAD") == head and repo.git("status", "--porcelain") == f"M {KAIGO}"
    good = subprocess.run(["git", "commit", "-a", "-m", "保管場所の変更", "-m", "PIA-Cause: システム更改"], cwd=repo.path, env=env,
                          capture_output=True, text=True, encoding="utf-8")
    assert good.returncode == 0, good.stderr
    assert "| **事前** | システム更改に伴う変更 | cause:system |" in good.stderr  # the row the commit adds (git shows a hook's output on stderr)
    assert repo.git("rev-parse", "HEAD~1") == head


def test_a_hook_run_where_the_locale_is_cp932_says_everything_in_utf8(repo: Repo) -> None:
    """On Windows the hook's output goes to git through pipes, in the locale's cp932 unless told
    otherwise, and git (or a Git GUI) shows it as UTF-8: the rows (standard output) and the error
    (standard error) are both UTF-8, not one of each."""
    hooked(repo, prefix="PYTHONIOENCODING=cp932 ")
    edit_storage(repo)
    env = {k: v for k, v in {**os.environ, **IDENTITY}.items() if k != "PYTHONUTF8"}
    bad = subprocess.run(["git", "commit", "-a", "-m", "保管場所の変更", "-m", "PIA-Cause: システム更新"], cwd=repo.path, env=env,
                         capture_output=True)
    assert bad.returncode != 0
    assert "unknown cause 'システム更新'" in bad.stderr.decode("utf-8"), bad.stderr
    good = subprocess.run(["git", "commit", "-a", "-m", "保管場所の変更", "-m", "PIA-Cause: システム更改"], cwd=repo.path, env=env,
                          capture_output=True)
    assert good.returncode == 0, good.stderr
    assert "システム更改に伴う変更" in good.stderr.decode("utf-8")


def test_the_first_commit_is_compared_with_nothing(repo: Repo) -> None:
    repo.write(KAIGO, (SAMPLES / "kaigo-juten.toml").read_text(encoding="utf-8"))
    repo.git("add", KAIGO)
    done = piachange("report", "--staged", "--format", "json", cwd=repo.path)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["since"] == "empty tree"
    assert [(r["kind"], r["rule"]) for r in out["rows"]] == [("file_added", "new-assessment")]
    assert repo.git("for-each-ref") == ""  # still no commit on any branch
    assert subprocess.run(["git", "rev-parse", "--verify", "--quiet", "HEAD"], cwd=repo.path, capture_output=True).returncode != 0


@pytest.mark.parametrize("args", [
    ["--staged", "--since", "HEAD"],
    ["--staged", "--until", "HEAD~1"],
    ["--since", "HEAD", "--message", "MSG"],
    ["--staged", "--write"],
    [],
], ids=["since", "until", "message-alone", "write", "no-range"])
def test_options_that_do_not_go_with_staged_are_usage_errors(repo: Repo, args: list[str]) -> None:
    moved_storage(repo)
    done = piachange("report", *args, cwd=repo.path)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr


def test_explain_staged_says_why_the_row_of_the_commit_being_made_is_jizen(repo: Repo, tmp_path: pathlib.Path) -> None:
    out = staged_json("explain", repo, tmp_path, "保管場所の変更\n\nPIA-Cause: 軽微な修正 (Ⅰ-2)\n")
    [row] = out["rows"]
    assert row["decision"]["timing"] == "事前" and row["decision"]["rule"] == "star-substantive"
    # the cause is scoped to Ⅰ-2, which this commit did not change: said so, naming the commit as what it is
    [finding] = out["findings"]
    assert finding["message"].startswith(f"{tmp_path / 'MSG'}:3: PIA-Cause of the staged commit (保管場所の変更): scope entry 'Ⅰ-2'"
                                         " names no item"), finding


@pytest.mark.parametrize("comment", [";", "auto"])
def test_comment_lines_of_core_comment_char_are_not_the_message(repo: Repo, comment: str) -> None:
    """git strips the lines of core.commentChar (';', or the one 'auto' chose) after the hook: they
    must not hide the trailers as a last paragraph of their own."""
    moved_storage(repo)
    repo.git("config", "core.commentChar", comment)
    message = ("保管場所の変更\n#123 の対応\n\nPIA-Cause: 軽微な修正\n\n"
               "; Please enter the commit message for your changes. Lines starting\n"
               "; with ';' will be ignored, and an empty message aborts the commit.\n;\n")
    done = piachange("report", "--staged", "--message", "-", "--format", "json", cwd=repo.path, stdin=message)
    assert done.returncode == 0, done.stderr
    [row] = json.loads(done.stdout)["rows"]
    assert (row["timing"], row["rule"]) == ("事後", "cause:minor")


def test_a_hook_with_another_comment_char_stops_a_wrong_trailer_written_in_the_editor(repo: Repo, tmp_path: pathlib.Path) -> None:
    head = hooked(repo)
    repo.git("config", "core.commentChar", ";")
    editor = tmp_path / "editor"  # writes the message above the comment lines git put in the file
    editor.write_text('#!/bin/sh\n{ printf "保管場所の変更\\n\\nPIA-Cause: システム更新\\n"; cat "$1"; } > "$1.new" && mv "$1.new" "$1"\n',
                      encoding="utf-8")
    editor.chmod(0o755)
    text = (repo.path / KAIGO).read_text(encoding="utf-8")
    repo.write(KAIGO, text.replace("location = '''\n", "location = '''\nガバメントクラウド上に保管する。\n", 1))
    done = subprocess.run(["git", "commit", "-a"], cwd=repo.path, env={**os.environ, **IDENTITY, "GIT_EDITOR": str(editor)},
                          capture_output=True, text=True, encoding="utf-8")
    assert done.returncode != 0
    assert "COMMIT_EDITMSG:3: the staged commit (保管場所の変更): unknown cause 'システム更新'" in done.stderr
    assert repo.git("rev-parse", "HEAD") == head


def test_a_merge_being_committed_is_previewed_as_the_merge_it_will_be(repo: Repo, tmp_path: pathlib.Path) -> None:
    """With MERGE_HEAD, the commit made is a merge: its rows are those of the merged commits too,
    classified as a report of history will classify them after the merge."""
    repo.write(KAIGO, (SAMPLES / "kaigo-juten.toml").read_text(encoding="utf-8"))
    repo.commit("初版")
    repo.git("checkout", "-q", "-b", "feature")
    text = (repo.path / KAIGO).read_text(encoding="utf-8")
    repo.write(KAIGO, text.replace("location = '''\n", "location = '''\nガバメントクラウド上に保管する。\n", 1))
    repo.commit("保管場所の変更")
    repo.git("checkout", "-q", "main")
    repo.write("notes.txt", "メモ")
    repo.commit("メモ")
    repo.git("merge", "-q", "--no-commit", "--no-ff", "feature")
    msg = tmp_path / "MERGE_MSG"
    msg.write_text("Merge branch 'feature'\n\nPIA-Cause: 軽微な修正\n", encoding="utf-8")
    before = state(repo)
    done = piachange("report", "--staged", "--message", str(msg), "--format", "json", cwd=repo.path)
    assert done.returncode == 0, done.stderr
    assert state(repo) == before
    preview = [(r["timing"], r["rule"], len(r["commits"])) for r in json.loads(done.stdout)["rows"]]
    repo.git("commit", "-q", "-F", str(msg))
    after = piachange("report", "--since", "HEAD^1", "--format", "json", cwd=repo.path)
    assert after.returncode == 0, after.stderr
    assert preview == [(r["timing"], r["rule"], len(r["commits"])) for r in json.loads(after.stdout)["rows"]]


@pytest.mark.parametrize(("trailers", "line"), [
    ("PIA-Cause: システム更改\nPIA-Cause: システム更新\n", 4),  # the suggestion is the value of the line before
    ("PIA-Cause: 軽微な修正\nPIA-Cuase: 軽微な修正\n", 4),  # the suggestion is the key of the line before
    ("PIA-Reason: 保管場所の表記の統一\nPIA-Timing: 事後\nPIA-Reason:\n", 5),
    ("PIA-Cause: 法令改正\nPIA-Cause:\n", 4),
    ("PIA-Reason: Ⅱ-9 ではなく保管場所の表記の統一\nPIA-Timing: 事後 (Ⅱ-9)\n", 4),
], ids=["suggested-value", "suggested-key", "empty-reason", "empty-cause", "value-in-another-trailer"])
def test_the_line_is_the_wrong_trailer_not_an_earlier_one_quoted_in_the_error(
        repo: Repo, tmp_path: pathlib.Path, trailers: str, line: int) -> None:
    moved_storage(repo)
    msg = tmp_path / "COMMIT_EDITMSG"
    msg.write_text(f"保管場所の変更\n\n{trailers}", encoding="utf-8")
    done = piachange("report", "--staged", "--message", str(msg), cwd=repo.path)
    assert done.returncode == 1
    [err] = done.stderr.splitlines()
    assert err.startswith(f"Error: {msg}:{line}: "), err


def test_an_error_not_about_the_message_is_not_placed_in_it(repo: Repo, tmp_path: pathlib.Path) -> None:
    moved_storage(repo)
    repo.write("piachange.toml", '[settings]\nthird_party_timing = "軽微な修正"\n')
    msg = tmp_path / "COMMIT_EDITMSG"
    msg.write_text("保管場所の変更\n\nPIA-Cause: 軽微な修正\n", encoding="utf-8")
    done = piachange("report", "--staged", "--message", str(msg), cwd=repo.path)
    assert done.returncode == 1
    [err] = done.stderr.splitlines()
    assert err.startswith("Error: piachange.toml: 'settings.third_party_timing'"), err


def test_the_index_file_is_not_rewritten_nor_locked(repo: Repo) -> None:
    """git write-tree stores its cache tree in the index it reads, under index.lock: the staged
    tree is written from a copy, so the index stays byte for byte, and another git command
    holding index.lock (an editor's background git status) does not stop the hook."""
    moved_storage(repo)
    index = repo.path / ".git" / "index"
    before = index.read_bytes()
    done = piachange("report", "--staged", "--format", "json", cwd=repo.path)
    assert done.returncode == 0, done.stderr
    assert index.read_bytes() == before
    (repo.path / ".git" / "index.lock").write_bytes(b"")
    done = piachange("report", "--staged", "--format", "json", cwd=repo.path)
    assert done.returncode == 0, done.stderr
    assert len(json.loads(done.stdout)["rows"]) == 1


def test_unmerged_paths_are_said_so(repo: Repo) -> None:
    repo.write("notes.txt", "a\n")
    repo.commit("a")
    repo.git("checkout", "-q", "-b", "other")
    repo.write("notes.txt", "b\n")
    repo.commit("b")
    repo.git("checkout", "-q", "main")
    repo.write("notes.txt", "c\n")
    repo.commit("c")
    assert subprocess.run(["git", "merge", "-q", "other"], cwd=repo.path, capture_output=True,
                          env={**os.environ, **IDENTITY}).returncode != 0
    done = piachange("report", "--staged", cwd=repo.path)
    assert done.returncode == 1
    assert done.stderr == "Error: the index has unmerged paths: resolve the conflicts (git add) first\n"


def test_a_staged_assessment_that_cannot_be_read_is_named_by_its_file_and_line(repo: Repo) -> None:
    """The staged commit's object id names nothing the user knows: the problem is the staged file's."""
    moved_storage(repo)
    text = (repo.path / KAIGO).read_text(encoding="utf-8")
    repo.write(KAIGO, text.replace('number = "7"', 'number = "7', 1))
    repo.git("add", KAIGO)
    done = piachange("report", "--staged", cwd=repo.path)
    assert done.returncode == 1
    [err] = done.stderr.splitlines()
    line = next(i for i, t in enumerate(text.splitlines(), 1) if t.startswith('number = "7"'))
    assert err.startswith(f"{KAIGO}:{line}: invalid TOML"), err


def test_a_path_naming_nothing_and_a_missing_repository_are_said_so(repo: Repo, tmp_path: pathlib.Path) -> None:
    moved_storage(repo)
    done = piachange("report", "--staged", "assessments/nothing.toml", cwd=repo.path)
    assert done.returncode == 1
    assert done.stderr.startswith("Error: assessments/nothing.toml: not an assessment or a directory at ")
    assert done.stderr.endswith(", at the staged commit or in between\n"), done.stderr
    done = piachange("report", "--staged", "--repo", str(tmp_path / "missing"), cwd=repo.path)
    assert done.returncode == 1
    assert done.stderr == f"Error: {tmp_path / 'missing'}: not a git work tree\n"


def test_a_message_git_keeps_comment_lines_in_stops_a_cause_it_would_drop(repo: Repo) -> None:
    """Without an editor (GIT_EDITOR=: in the hook) git only cleans whitespace: a '#' line stays in
    the message, and in its trailer paragraph it makes the paragraph no trailers, as history reads it:
    the PIA-Cause would be dropped without a word, so the commit is stopped at its line."""
    hooked(repo, args=" --format json")
    edit_storage(repo)
    head = repo.git("rev-parse", "HEAD")
    done = subprocess.run(["git", "commit", "-a", "-m", "保管場所の変更", "-m", "PIA-Cause: 軽微な修正\n#12 参照"], cwd=repo.path,
                          env={**os.environ, **IDENTITY}, capture_output=True, text=True, encoding="utf-8")
    assert done.returncode == 1
    assert "COMMIT_EDITMSG:3: the staged commit (保管場所の変更): PIA-Cause is not read as a trailer" in done.stderr, done.stderr
    assert repo.git("rev-parse", "HEAD") == head


def test_commit_cleanup_verbatim_keeps_comment_lines(repo: Repo) -> None:
    moved_storage(repo)
    repo.git("config", "commit.cleanup", "verbatim")
    done = piachange("report", "--staged", "--message", "-", "--format", "json", cwd=repo.path,
                     stdin="保管場所の変更\n\nPIA-Cause: 軽微な修正\n\n# Please enter the commit message for your changes.\n")
    assert done.returncode == 1  # the comment lines are the last paragraph of the recorded message: the cause would be dropped
    assert "<stdin>:3: the staged commit (保管場所の変更): PIA-Cause is not read as a trailer" in done.stderr, done.stderr


def test_explain_staged_text_names_the_commit_as_staged(repo: Repo, tmp_path: pathlib.Path) -> None:
    moved_storage(repo)
    msg = tmp_path / "MSG"
    msg.write_text("保管場所の変更\n\nPIA-Cause: システム更改\n", encoding="utf-8")
    done = piachange("explain", "--staged", "--message", str(msg), cwd=repo.path)
    assert done.returncode == 0, done.stderr
    assert "  commit (staged) 2026-03-16 保管場所の変更 [PIA-Cause: システム更改]" in done.stdout.splitlines()
    assert "— PIA-Cause of the staged commit (保管場所の変更)" in done.stdout


@pytest.mark.parametrize(("message", "text"), [
    ("保管場所の変更\n\nPIA-Cause: システム更新\n", "unknown cause 'システム更新'"),
    ("保管場所の変更\n\nPIA-Date: 2026-02-30\n", "PIA-Date: '2026-02-30' is not a date"),
], ids=["cause", "date"])
def test_a_wrong_trailer_fails_though_the_commit_changes_no_item(repo: Repo, tmp_path: pathlib.Path, message: str, text: str) -> None:
    """A message-only `git commit --amend` (the usual way to fix a trailer) compares the index with the
    commit it replaces: nothing changed, and the trailers are still checked."""
    repo.write(KAIGO, (SAMPLES / "kaigo-juten.toml").read_text(encoding="utf-8"))
    repo.commit("初版")
    msg = tmp_path / "MSG"
    msg.write_text(message, encoding="utf-8")
    done = piachange("report", "--staged", "--message", str(msg), cwd=repo.path)
    assert done.returncode == 1, done.stdout
    [err] = done.stderr.splitlines()
    assert err.startswith(f"Error: {msg}:3: the staged commit") and text in err, err


def test_the_line_counts_the_comment_and_blank_lines_git_drops(repo: Repo, tmp_path: pathlib.Path) -> None:
    """The trailer's line in the commit is not its line in the file the user edits: blank and comment
    lines before the subject and between the paragraphs are dropped, and the file's line is said."""
    moved_storage(repo)
    msg = tmp_path / "COMMIT_EDITMSG"
    msg.write_text("\n# 件名を書く\n保管場所の変更\n\n# 理由\n\n\nPIA-Cause: 軽微な修正\nPIA-Cause: システム更新\n# 以上\n",
                   encoding="utf-8")
    done = piachange("report", "--staged", "--message", str(msg), cwd=repo.path)
    assert done.returncode == 1
    [err] = done.stderr.splitlines()
    assert err.startswith(f"Error: {msg}:9: the staged commit (保管場所の変更): unknown cause 'システム更新'"), err


def test_a_message_in_the_commit_encoding_git_is_set_to_is_read_in_it(repo: Repo, tmp_path: pathlib.Path) -> None:
    """i18n.commitEncoding=cp932: git commit takes the message file as Shift_JIS and records the
    encoding in the commit; so does the preview, and its trailers decide the row."""
    moved_storage(repo)
    repo.git("config", "i18n.commitEncoding", "cp932")
    msg = tmp_path / "COMMIT_EDITMSG"
    msg.write_bytes("保管場所の変更\n\nPIA-Cause: システム更改\n".encode("cp932"))
    done = piachange("report", "--staged", "--message", str(msg), "--format", "json", cwd=repo.path)
    assert done.returncode == 0, done.stderr
    [row] = json.loads(done.stdout)["rows"]
    assert (row["item"], row["rule"]) == (STORAGE, "cause:system")
    msg.write_bytes("保管場所の変更\n\nPIA-Cause: システム更新\n".encode("cp932"))
    done = piachange("report", "--staged", "--message", str(msg), cwd=repo.path)
    assert done.returncode == 1 and f"{msg}:3: the staged commit (保管場所の変更): unknown cause 'システム更新'" in done.stderr
    msg.write_bytes("保管場所の変更\n\nPIA-Cause: 軽微な修正\n".encode("cp932") + b"\x81\x7f\n")  # no cp932 character
    done = piachange("report", "--staged", "--message", str(msg), cwd=repo.path)
    assert done.returncode == 1 and done.stderr.startswith(f"Error: --message {msg}: line 4 is not cp932: "), done.stderr


def test_a_verbose_commit_in_cp932_is_not_refused_for_the_utf8_diff_git_drops(repo: Repo, tmp_path: pathlib.Path) -> None:
    """git commit -v with i18n.commitEncoding=cp932: below the scissors line git writes the staged
    diff as the files are (the assessments are UTF-8), and drops it with the comment lines; only
    the message must be cp932."""
    head = hooked(repo)
    repo.git("config", "i18n.commitEncoding", "cp932")
    said = tmp_path / "said"
    editor = tmp_path / "editor"  # writes the cp932 message above what git put in the file
    editor.write_text(f'#!/bin/sh\n{{ cat "{said}"; cat "$1"; }} > "$1.new" && mv "$1.new" "$1"\n', encoding="utf-8")
    editor.chmod(0o755)
    text = (repo.path / KAIGO).read_text(encoding="utf-8")
    repo.write(KAIGO, text.replace("location = '''\n", "location = '''\nガバメントクラウド上に保管する。\n", 1))
    env = {**os.environ, **IDENTITY, "GIT_EDITOR": str(editor)}
    said.write_bytes("保管場所の変更\n\nPIA-Cause: システム更新\n".encode("cp932"))
    done = subprocess.run(["git", "commit", "-a", "-v"], cwd=repo.path, env=env, capture_output=True, text=True, encoding="utf-8")
    assert done.returncode != 0
    assert "COMMIT_EDITMSG:3: the staged commit (保管場所の変更): unknown cause 'システム更新'" in done.stderr, done.stderr
    said.write_bytes("保管場所の変更\n\nPIA-Cause: システム更改\n".encode("cp932"))
    done = subprocess.run(["git", "commit", "-a", "-v"], cwd=repo.path, env=env, capture_output=True, text=True, encoding="utf-8",
                          errors="replace")  # git prints the subject of the commit made as recorded: cp932
    assert done.returncode == 0, done.stderr
    assert "| **事前** | システム更改に伴う変更 | cause:system |" in done.stderr
    assert repo.git("rev-parse", "HEAD~1") == head


def test_a_scope_entry_naming_nothing_changed_is_a_warning_at_its_line(repo: Repo, tmp_path: pathlib.Path) -> None:
    out = staged_json("report", repo, tmp_path, f"保管場所の変更\n\n# 範囲\n\nPIA-Cause: システム更改 ({STORAGE}, basic.systems.3)\n")
    [row] = out["rows"]
    assert row["rule"] == "cause:system"
    [finding] = [f for f in out["findings"] if "basic.systems.3" in f["message"]]
    assert finding["message"].startswith(f"{tmp_path / 'MSG'}:5: PIA-Cause of the staged commit (保管場所の変更): scope entry"
                                         " 'basic.systems.3' names no item this commit changed"), finding


def test_install_hook_writes_a_hook_that_stops_a_wrong_trailer(repo: Repo) -> None:
    """`piachange install-hook`: the hook runs this Python, so it works without the virtualenv on
    git's PATH (and in Git for Windows' sh); a wrong trailer stops the commit, a right one passes."""
    repo.write(KAIGO, (SAMPLES / "kaigo-juten.toml").read_text(encoding="utf-8"))
    head = repo.commit("初版")
    done = piachange("install-hook", cwd=repo.path)
    assert done.returncode == 0, done.stderr
    hook = repo.path / ".git" / "hooks" / "commit-msg"
    assert done.stderr.startswith(f"installed {hook}: it runs {sys.executable} -m piachange report --staged")
    assert hook.read_bytes().startswith(b"#!/bin/sh\n") and os.access(hook, os.X_OK)
    readme = (ROOT / "README.md").read_text(encoding="utf-8")  # the hook README.md shows is the one written
    assert hook.read_text(encoding="utf-8").replace(sys.executable, "/path/to/.venv/bin/python") in readme
    edit_storage(repo)
    env = {**os.environ, **IDENTITY, "PYTHONPATH": str(ROOT)}
    bad = subprocess.run(["git", "commit", "-a", "-m", "保管場所の変更", "-m", "PIA-Cause: システム更新"], cwd=repo.path,
                         env=env, capture_output=True, text=True, encoding="utf-8")
    assert bad.returncode != 0 and "COMMIT_EDITMSG:3: the staged commit (保管場所の変更): unknown cause 'システム更新'" in bad.stderr
    assert repo.git("rev-parse", "HEAD") == head
    good = subprocess.run(["git", "commit", "-a", "-m", "保管場所の変更", "-m", "PIA-Cause: システム更改"], cwd=repo.path,
                          env=env, capture_output=True, text=True, encoding="utf-8")
    assert good.returncode == 0, good.stderr
    assert "| **事前** | システム更改に伴う変更 |" in good.stderr  # git shows what a hook prints on its standard error


def test_install_hook_keeps_a_hook_of_someone_else_unless_forced(repo: Repo) -> None:
    repo.write(KAIGO, (SAMPLES / "kaigo-juten.toml").read_text(encoding="utf-8"))
    repo.commit("初版")
    repo.git("config", "core.hooksPath", "tools/hooks")  # a shared hooks directory, not made yet
    assert piachange("install-hook", cwd=repo.path).returncode == 0
    hook = repo.path / "tools" / "hooks" / "commit-msg"
    assert "piachange report --staged" in hook.read_text(encoding="utf-8")
    assert piachange("install-hook", cwd=repo.path).returncode == 0  # its own: written again
    hook.write_text("#!/bin/sh\nexec other-check \"$1\"\n", encoding="utf-8")
    done = piachange("install-hook", cwd=repo.path)
    assert done.returncode == 1 and len(done.stderr.splitlines()) == 1
    assert done.stderr.startswith(f"Error: {hook}: a commit-msg hook is there already"), done.stderr
    assert hook.read_text(encoding="utf-8") == "#!/bin/sh\nexec other-check \"$1\"\n"
    assert piachange("install-hook", "--force", cwd=repo.path).returncode == 0
    assert "piachange report --staged" in hook.read_text(encoding="utf-8")
    done = piachange("install-hook", "--repo", str(repo.path / "no-such-dir"), cwd=repo.path)
    assert done.returncode == 1 and len(done.stderr.splitlines()) == 1 and "Traceback" not in done.stderr


def test_install_hook_keeps_a_line_added_to_its_hook_unless_forced(repo: Repo) -> None:
    """The hook is piachange's as long as it is what install-hook writes, for whatever Python (a new
    virtualenv: written again). A line someone added to it is theirs, and is not dropped silently."""
    repo.write(KAIGO, (SAMPLES / "kaigo-juten.toml").read_text(encoding="utf-8"))
    repo.commit("初版")
    assert piachange("install-hook", cwd=repo.path).returncode == 0
    hook = repo.path / ".git" / "hooks" / "commit-msg"
    written = hook.read_text(encoding="utf-8")
    hook.write_text(written.replace(sys.executable, "'/old venv/bin/python'"), encoding="utf-8")
    assert piachange("install-hook", cwd=repo.path).returncode == 0  # its own, with another Python: written again
    assert hook.read_text(encoding="utf-8") == written
    added = written.replace("exec ", 'npx commitlint --edit "$1" || exit 1\nexec ')
    hook.write_text(added, encoding="utf-8")
    done = piachange("install-hook", cwd=repo.path)
    assert done.returncode == 1 and done.stderr.startswith(f"Error: {hook}: a commit-msg hook is there already"), done.stderr
    assert hook.read_text(encoding="utf-8") == added
    assert piachange("install-hook", "--force", cwd=repo.path).returncode == 0
    assert hook.read_text(encoding="utf-8") == written


def test_install_hook_forced_replaces_a_linked_hook_not_what_it_links_to(repo: Repo, tmp_path: pathlib.Path) -> None:
    """A hook that is a symbolic link (to a team's script, or to nothing any more): --force, as the
    error says, replaces the link with piachange's hook and leaves the script it pointed to alone."""
    repo.write(KAIGO, (SAMPLES / "kaigo-juten.toml").read_text(encoding="utf-8"))
    repo.commit("初版")
    shared = tmp_path / "team-hooks" / "commit-msg"
    shared.parent.mkdir()
    shared.write_text("#!/bin/sh\nexec team-check \"$1\"\n", encoding="utf-8")
    hook = repo.path / ".git" / "hooks" / "commit-msg"
    for target in (shared, tmp_path / "gone"):
        hook.symlink_to(target)
        done = piachange("install-hook", cwd=repo.path)
        assert done.returncode == 1 and "a commit-msg hook is there already" in done.stderr, done.stderr
        done = piachange("install-hook", "--force", cwd=repo.path)
        assert done.returncode == 0, done.stderr
        assert not hook.is_symlink() and "piachange report --staged" in hook.read_text(encoding="utf-8")
        assert shared.read_text(encoding="utf-8") == "#!/bin/sh\nexec team-check \"$1\"\n"
        hook.unlink()
