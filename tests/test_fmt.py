"""piachange fmt: lossless, idempotent, keeps people's comments, writes atomically, never rewrites a bad file."""

from __future__ import annotations

import os
import pathlib
import stat
import subprocess
import sys

import pytest

from piachange.document import load_bytes, load_path
from piachange.fmt import format_document, newline_of

from conftest import EXAMPLE_002, ROOT, SAMPLES, Repo

SAMPLE_FILES = sorted(SAMPLES.glob("*.toml"))
KAIGO = SAMPLES / "kaigo-juten.toml"


def run(*args: str, cwd: pathlib.Path) -> subprocess.CompletedProcess[str]:
    """Run the real CLI in a separate process."""
    env = {**os.environ, "PYTHONUTF8": "1", "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "piachange", *args], cwd=cwd, env=env, capture_output=True, text=True, encoding="utf-8", timeout=120
    )


def messy(text: str) -> str:
    """Return a non-canonical but equivalent text: banners dropped, two keys swapped, a blank line lost."""
    lines = [line for line in text.split("\n") if not line.startswith("# ─────────")]
    i = next(n for n, line in enumerate(lines) if line.startswith("number = "))
    lines[i], lines[i + 1] = lines[i + 1], lines[i]
    j = next(n for n, line in enumerate(lines) if line.startswith("[basic.mynumber_use]"))
    del lines[j - 1]
    return "\n".join(lines)


@pytest.mark.parametrize("path", [*SAMPLE_FILES, EXAMPLE_002], ids=lambda p: p.name)
def test_lossless_and_idempotent(path: pathlib.Path) -> None:
    doc = load_path(str(path))
    once = format_document(doc)
    again = load_bytes(once.encode("utf-8"), "formatted.toml")
    assert again.data == doc.data  # doc.data is the completed parse of the original
    assert format_document(again) == once


@pytest.mark.parametrize("path", SAMPLE_FILES, ids=lambda p: p.name)
def test_the_samples_are_canonical(path: pathlib.Path) -> None:
    assert format_document(load_path(str(path))) == path.read_text(encoding="utf-8")


def test_check_exits_1_and_names_only_the_files_that_would_change(tmp_path: pathlib.Path) -> None:
    text = KAIGO.read_text(encoding="utf-8")
    (tmp_path / "good.toml").write_text(text, encoding="utf-8")
    (tmp_path / "messy.toml").write_text(messy(text), encoding="utf-8")
    before = (tmp_path / "messy.toml").read_bytes()
    done = run("fmt", "--check", "good.toml", "messy.toml", cwd=tmp_path)
    assert done.returncode == 1
    assert done.stderr.splitlines() == ["would reformat messy.toml"]
    assert (tmp_path / "messy.toml").read_bytes() == before

    done = run("fmt", "good.toml", "messy.toml", cwd=tmp_path)
    assert done.returncode == 0
    assert done.stderr.splitlines() == ["reformatted messy.toml"]
    assert (tmp_path / "messy.toml").read_text(encoding="utf-8") == text  # back to the canonical sample
    assert run("fmt", "--check", "good.toml", "messy.toml", cwd=tmp_path).returncode == 0


COMMENTED = """\
# 作成: 介護保険課(見本)

[meta]
form = "juten"
schema_version = 1

# 表紙は広報担当と調整済み
[cover]  # 令和7年度版
number = "7"  # 評価書番号
title = "介護保険に関する事務"  # 要確認: 名称は条例に合わせる
# 公表日は議会報告後に確定
published_on = 2025-06-20  # 公表日 (令和6年1月1日)

[basic.affair]  # 1. 特定個人情報ファイルを取り扱う事務
population = "1万人以上10万人未満"  # ③対象人数 [選択肢: 古い選択肢]
# 担当者メモ: 次回改訂で対象人数を見直す
name = "介護保険に関する事務"

# 末尾のメモ
"""


def test_user_comments_survive_and_generated_ones_are_regenerated() -> None:
    out = format_document(load_bytes(COMMENTED.encode("utf-8"), "commented.toml"))
    lines = out.split("\n")
    assert lines[0] == "# 作成: 介護保険課(見本)"
    assert lines[-2] == "# 末尾のメモ"
    at = lines.index("[cover]  # 表紙")
    assert lines[at - 2 : at] == ["# 表紙は広報担当と調整済み", "# 令和7年度版"]  # a trailing header comment moves above
    at = lines.index('title = "介護保険に関する事務"  # 評価書名')
    assert lines[at - 1] == "# 要確認: 名称は条例に合わせる"  # a trailing key comment moves above its key
    at = lines.index("published_on = 2025-06-20  # 公表日 (令和7年6月20日)")  # the stale 和暦 is regenerated
    assert lines[at - 1] == "# 公表日は議会報告後に確定"
    assert 'population = "1万人以上10万人未満"  # ③対象人数 [選択肢: 1,000人未満 / 1,000人以上1万人未満 / 1万人以上10万人未満 / 10万人以上30万人未満]' in lines
    assert "古い選択肢" not in out and "令和6年1月1日" not in out
    # the comment above `name` stays with `name`, which the form prints before ③対象人数
    at = lines.index('name = "介護保険に関する事務"  # ①事務の名称')
    assert lines[at - 1] == "# 担当者メモ: 次回改訂で対象人数を見直す"
    assert out.count("評価書番号") == 1 and out.count("①事務の名称") == 1
    again = format_document(load_bytes(out.encode("utf-8"), "again.toml"))
    assert again == out


def test_comments_of_a_whole_sample_survive_reformatting() -> None:
    """Comments written all over a real sample are all still there, once each, after two runs."""
    text = KAIGO.read_text(encoding="utf-8")
    ours, n = [], 0
    out_lines = []
    for line in text.split("\n"):
        if line.startswith(("[", "name = ", "legal_basis = ", "items = ", "rows = [")):
            n += 1
            ours.append(f"# メモ{n}: 確認済み")
            out_lines.append(ours[-1])
        out_lines.append(line)
    commented = "\n".join(out_lines)
    once = format_document(load_bytes(commented.encode("utf-8"), "c.toml"))
    twice = format_document(load_bytes(once.encode("utf-8"), "c.toml"))
    assert twice == once
    assert [line for line in once.split("\n") if line.startswith("# メモ")] == ours
    assert n > 50


@pytest.mark.parametrize("mode", [0o600, 0o640, 0o664])
def test_fmt_writes_atomically_and_keeps_the_mode(tmp_path: pathlib.Path, mode: int) -> None:
    target = tmp_path / "messy.toml"
    target.write_text(messy(KAIGO.read_text(encoding="utf-8")), encoding="utf-8")
    target.chmod(mode)
    inode = target.stat().st_ino
    done = run("fmt", "messy.toml", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert stat.S_IMODE(target.stat().st_mode) == mode
    assert target.stat().st_ino != inode  # replaced by rename, not rewritten in place
    assert [p.name for p in tmp_path.iterdir()] == ["messy.toml"]  # no temporary file left behind


def test_a_file_that_fails_check_is_not_rewritten(tmp_path: pathlib.Path) -> None:
    text = KAIGO.read_text(encoding="utf-8")
    bad_text = messy(text).replace('organization = "みなと台市長"', 'organisation = "みなと台市長"')
    (tmp_path / "a-bad.toml").write_text(bad_text, encoding="utf-8")
    (tmp_path / "b-messy.toml").write_text(messy(text), encoding="utf-8")
    for args in (["fmt", "--check", "."], ["fmt", "."]):
        done = run(*args, cwd=tmp_path)
        assert done.returncode == 1
        first = done.stderr.splitlines()[0]
        assert first.startswith("a-bad.toml:") or first.startswith("./a-bad.toml:"), done.stderr
        assert "unknown key 'cover.organisation' (did you mean 'organization'?)" in first
        assert "would reformat ./a-bad.toml" not in done.stderr and "reformatted ./a-bad.toml" not in done.stderr
        assert (tmp_path / "a-bad.toml").read_text(encoding="utf-8") == bad_text
    assert (tmp_path / "b-messy.toml").read_text(encoding="utf-8") == text  # the good file was still formatted


def test_a_checkout_with_crlf_line_endings_is_canonical_and_keeps_them(tmp_path: pathlib.Path) -> None:
    """git for Windows checks files out with CRLF (core.autocrlf=true). Line endings are git's
    business, as in black: a file whose first line ends with CRLF is canonical with CRLF, and fmt
    writes it with CRLF, so git sees no change (the committed blob stays LF)."""
    repo = Repo(tmp_path / "repo")
    repo.write("assessments/kaigo.toml", KAIGO.read_text(encoding="utf-8"))
    repo.commit("初版")
    work = tmp_path / "work"
    subprocess.run(["git", "-c", "core.autocrlf=true", "clone", "-q", str(repo.path), str(work)], check=True,
                   env={**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"})
    subprocess.run(["git", "config", "core.autocrlf", "true"], cwd=work, check=True)
    target = work / "assessments" / "kaigo.toml"
    checked_out = target.read_bytes()
    assert checked_out.count(b"\r\n") == KAIGO.read_text(encoding="utf-8").count("\n")
    done = run("fmt", "--check", cwd=work)
    assert done.returncode == 0, done.stderr
    assert run("check", cwd=work).returncode == 0

    target.write_bytes(messy(KAIGO.read_text(encoding="utf-8")).replace("\n", "\r\n").encode("utf-8"))
    assert run("fmt", "--check", cwd=work).returncode == 1  # the content is not canonical
    done = run("fmt", cwd=work)
    assert done.returncode == 0, done.stderr
    assert target.read_bytes() == checked_out  # formatted, with the checkout's line endings
    status = subprocess.run(["git", "status", "--porcelain"], cwd=work, capture_output=True, text=True, check=True)
    assert status.stdout == ""


def test_mixed_line_endings_follow_the_first_line() -> None:
    lf = KAIGO.read_bytes()
    mixed = lf.replace(b"\n", b"\r\n", 3)
    doc = load_bytes(mixed, "kaigo.toml")
    assert format_document(doc, newline_of(mixed)).encode("utf-8") == lf.replace(b"\n", b"\r\n")
    assert (newline_of(lf), newline_of(b""), newline_of(b"\n\r\n"), newline_of(b"\r\n")) == ("\n", "\n", "\n", "\r\n")
