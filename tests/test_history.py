"""History reader: revisions, dates, trailers, trees and blobs read without touching the work tree."""

from __future__ import annotations

import datetime as dt
import os
import pathlib
import subprocess

import pytest

from piachange.errors import DocumentError, PiaError
from piachange import history as history_module
from piachange.history import History
from piachange.trailers import located, parse_trailers, trailer_lines
from piachange.report import zone

from conftest import Repo
from docs_factory import base, text

JST = zone("Asia/Tokyo")


@pytest.fixture
def three(repo: Repo) -> tuple[Repo, list[str]]:
    """A repository with three commits on 2026-01-05, 06 and 07 (09:00 JST), tagged v1 at the first."""
    repo.write("assessments/kenko.toml", text(base()))
    repo.write("README.md", "評価書\n")
    a = repo.commit("初版")
    d = base()
    d["basic"]["department"]["head_title"] = "健康推進課長"
    repo.write("assessments/kenko.toml", text(d))
    b = repo.commit("人事異動\n\n所属長の役職名を変更。\n\nPIA-Cause: 人事異動\nPIA-Date: 2026-04-01")
    repo.write("README.md", "評価書の一覧\n")
    c = repo.commit("README")
    repo.git("tag", "v1", a)
    return repo, [a, b, c]


def test_trailers_are_parsed_from_the_last_paragraph() -> None:
    msg = "法令改正\n\n番号法の号ずれ。\n\nPIA-Cause: 法令改正\nPIA-Reason: 根拠法令の改正による変更\n  （号ずれのみ）\nPIA-Date: 2026-03-16\n"
    assert parse_trailers(msg) == (
        ("PIA-Cause", "法令改正"),
        ("PIA-Reason", "根拠法令の改正による変更 （号ずれのみ）"),
        ("PIA-Date", "2026-03-16"),
    )
    assert parse_trailers("PIA-Cause: 法令改正") == ()  # a subject is never a trailer block
    assert parse_trailers("件名\n\n本文: ここは説明\nただの文") == ()
    assert trailer_lines(msg) == (5, 6, 8)  # a continuation is part of the trailer above it
    assert parse_trailers("\n\n件名\n \n") == () == trailer_lines("件名\n\n\t\n")


def test_trailers_after_several_blank_lines_are_still_the_last_paragraph() -> None:
    """As git reads them: blank lines between paragraphs, however many (a line of spaces too), and
    before the subject do not end the trailer block or move the line numbers an editor shows."""
    msg = "\n件名\n\n\n \nPIA-Cause: 法令改正\nPIA-Date: 2026-03-16\n\n"
    assert parse_trailers(msg) == (("PIA-Cause", "法令改正"), ("PIA-Date", "2026-03-16"))
    assert trailer_lines(msg) == (6, 7)


def test_trailers_of_a_crlf_message_kept_verbatim_are_read(repo: Repo) -> None:
    """git commit --cleanup=verbatim records CRLF as written; git reads its trailers (a line of
    only \\r is blank to git), so they decide the commit's rows as in the preview of the hook."""
    repo.write("README.md", "評価書\n")
    repo.git("add", "-A")
    repo.git("commit", "-q", "--cleanup=verbatim", "-m", "件名\r\n\r\n本文\r\n\r\nPIA-Cause: 法令改正\r\nPIA-Date: 2026-04-01\r\n",
             date="2026-01-05T09:00:00+09:00")
    assert repo.git("log", "-1", "--format=%(trailers:key=PIA-Cause,valueonly)") == "法令改正"  # as git reads it
    with History(str(repo.path)) as h:
        c = h.resolve("HEAD")
        assert "\r\n" in c.message
        assert c.trailers == (("PIA-Cause", "法令改正"), ("PIA-Date", "2026-04-01"))
        assert trailer_lines(c.message) == (5, 6)


def test_trailers_of_a_commit_cherry_picked_with_x_are_read(repo: Repo) -> None:
    """git cherry-pick -x adds "(cherry picked from commit …)" to the trailer block itself, with no
    blank line; git still reads the block's trailers (a line it writes there allows lines that are
    not trailers), so the PIA-Cause of a change backported to a release branch is not lost."""
    repo.write("README.md", "評価書\n")
    repo.commit("初版")
    repo.git("checkout", "-q", "-b", "feature")
    repo.write("README.md", "評価書の一覧\n")
    picked = repo.commit("一覧に改名\n\nPIA-Cause: 軽微な修正\nPIA-Date: 2026-04-01")
    repo.git("checkout", "-q", "main")
    repo.git("cherry-pick", "-x", picked, date="2026-01-07T09:00:00+09:00")
    assert repo.git("log", "-1", "--format=%(trailers:key=PIA-Cause,valueonly)") == "軽微な修正"  # as git reads it
    with History(str(repo.path)) as h:
        c = h.resolve("HEAD")
        assert c.message.endswith(f"PIA-Date: 2026-04-01\n(cherry picked from commit {picked})\n")
        assert c.trailers == (("PIA-Cause", "軽微な修正"), ("PIA-Date", "2026-04-01"))
        assert trailer_lines(c.message) == (3, 4)
    assert parse_trailers("件名\n\n本文の一行\nPIA-Cause: 法令改正\n") == ()  # without such a line, every line must be a trailer
    assert parse_trailers("件名\n\n本文\n本文\n本文\n本文\nSigned-off-by: 山田 <y@example.jp>\n") == ()  # under a quarter


def test_revisions_tags_and_trailers(three: tuple[Repo, list[str]]) -> None:
    repo, (a, b, c) = three
    with History(str(repo.path)) as h:
        assert h.resolve("v1").sha == a
        assert h.resolve("HEAD~1").sha == b
        head = h.resolve("HEAD")
        assert head.sha == c and head.parents == (b,)
        cb = h.commit(b)
        assert located(cb, "pia-cause")[-1][1] == "人事異動" and located(cb, "PIA-Date")[-1][1] == "2026-04-01"
        assert cb.author == "山田 花子"
        assert cb.date == dt.datetime(2026, 1, 6, 9, 0, tzinfo=JST)
        assert [x.sha for x in h.commits(h.commit(a), head)] == [b, c]
        assert [x.sha for x in h.commits(None, head)] == [a, b, c]


def test_missing_revision_is_one_line(three: tuple[Repo, list[str]]) -> None:
    repo, _ = three
    with History(str(repo.path)) as h, pytest.raises(PiaError) as e:
        h.resolve("v9")
    assert str(e.value) == f"unknown revision 'v9' in {os.path.realpath(repo.path)}"


@pytest.mark.parametrize(("since", "index"), [
    ("2026-01-06", 0),  # the day starts at 00:00 JST: the commit of 01-06 09:00 is after it
    ("2026-01-07", 1),
    ("令和8年1月7日", 1),
    ("２０２６-０１-０８", 2),
    ("2026-01-05", None),  # before the first commit: the empty tree
])
def test_since_by_date(three: tuple[Repo, list[str]], since: str, index: int | None) -> None:
    repo, shas = three
    with History(str(repo.path)) as h:
        found = h.resolve_since(since, h.resolve("HEAD"), JST)
        assert (found.sha if found else None) == (shas[index] if index is not None else None)


def test_since_date_uses_the_first_parent_line(repo: Repo) -> None:
    repo.write("assessments/kenko.toml", text(base()))
    a = repo.commit("初版", date="2026-01-05T09:00:00+09:00")
    repo.git("checkout", "-q", "-b", "topic")
    repo.write("assessments/other.toml", text(base("28")))
    repo.commit("別の評価書", date="2026-01-06T09:00:00+09:00")
    repo.git("checkout", "-q", "main")
    repo.git("merge", "-q", "--no-ff", "-m", "merge", "topic", date="2026-01-10T09:00:00+09:00")
    with History(str(repo.path)) as h:
        # on 01-08 the main line still stood at the first commit: the topic commit was not merged yet
        assert h.resolve_since("2026-01-08", h.resolve("HEAD"), JST).sha == a  # type: ignore[union-attr]


def test_files_and_documents_are_read_from_history_and_cached(three: tuple[Repo, list[str]]) -> None:
    repo, (a, b, c) = three
    repo.write("assessments/kenko.toml", "this is not toml [")  # the work tree is never read
    with History(str(repo.path)) as h:
        scope = h.scope([], str(repo.path))
        assert scope == ("assessments",)
        fa, fb, fc = (h.files(h.commit(x), scope) for x in (a, b, c))
        assert list(fa) == ["assessments/kenko.toml"]
        assert fb == fc and fa != fb
        d1 = h.document("assessments/kenko.toml", fb["assessments/kenko.toml"], b)
        d2 = h.document("assessments/kenko.toml", fc["assessments/kenko.toml"], c)
        assert d1 is d2  # the same blob is parsed once
        assert d1.data["basic"]["department"]["head_title"] == "健康推進課長"
        assert h.files(None, scope) == {}


def test_scope_paths_and_outside_the_repository(three: tuple[Repo, list[str]], tmp_path: pathlib.Path) -> None:
    repo, _ = three
    with History(str(repo.path)) as h:
        assert h.scope(["assessments/kenko.toml"], str(repo.path)) == ("assessments/kenko.toml",)
        assert h.scope(["kenko.toml"], str(repo.path / "assessments")) == ("assessments/kenko.toml",)
        assert h.scope(["assessments"], str(tmp_path)) == ("assessments",)  # from outside: relative to the root
        with pytest.raises(PiaError, match="outside the repository"):
            h.scope(["../elsewhere.toml"], str(repo.path))


def test_invalid_document_in_history_names_file_and_commit(repo: Repo) -> None:
    repo.write("assessments/kenko.toml", "[meta]\nform = \"juten\"\n[cover]\nnumbr = \"27\"\n")
    sha = repo.commit("壊れた版")
    with History(str(repo.path)) as h:
        blob = h.files(h.commit(sha), ("assessments",))["assessments/kenko.toml"]
        with pytest.raises(DocumentError) as e:
            h.document("assessments/kenko.toml", blob, sha)
    assert str(e.value).startswith(f"assessments/kenko.toml @ {sha[:9]}:4: unknown key 'cover.numbr'")


@pytest.mark.parametrize("encoding", ["x-no-such-encoding", "Shift_JIS", "Windows-31J"])  # Windows-31J: IANA's cp932
def test_commit_messages_in_other_encodings(repo: Repo, encoding: str) -> None:
    msg = repo.path.parent / "msg.txt"
    msg.write_bytes("人事異動（髙橋）\n\nPIA-Cause: 人事異動\n".encode("cp932"))
    repo.write("a.txt", "x")
    repo.git("add", "-A")
    repo.git("-c", f"i18n.commitEncoding={encoding}", "commit", "-q", "-F", str(msg), date="2026-01-05T09:00:00+09:00")
    with History(str(repo.path)) as h:
        c = h.resolve("HEAD")
    if encoding == "Windows-31J":  # 髙 is cp932's, not Shift_JIS's
        assert c.message.startswith("人事異動（髙橋）") and located(c, "PIA-Cause")[-1][1] == "人事異動"
    elif encoding == "Shift_JIS":
        assert c.message.startswith("人事異動") and located(c, "PIA-Cause")[-1][1] == "人事異動"
    else:
        assert "\ufffd" in c.message and c.trailers[0][0] == "PIA-Cause"


def test_commit_message_with_invalid_utf8_bytes(repo: Repo) -> None:
    repo.write("a.txt", "x")
    repo.commit("初版")
    tree = repo.git("rev-parse", "HEAD^{tree}")
    raw = (f"tree {tree}\nauthor A <a@example.jp> 1767571200 +0900\ncommitter A <a@example.jp> 1767571200 +0900\n\n").encode()
    obj = repo.path.parent / "commit.bin"
    obj.write_bytes(raw + "変更\n".encode("shift_jis") + b"\xff\xfe\n")
    sha = repo.git("hash-object", "-t", "commit", "-w", "--literally", str(obj))
    with History(str(repo.path)) as h:
        c = h.commit(sha)
    assert "\ufffd" in c.message and c.date == dt.datetime(2026, 1, 5, 9, 0, tzinfo=JST)


def test_shallow_clone_without_the_revision(three: tuple[Repo, list[str]], tmp_path: pathlib.Path) -> None:
    repo, (a, _, _) = three
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", "--depth", "1", f"file://{repo.path}", str(clone)], check=True, capture_output=True)
    with History(str(clone)) as h:
        assert h.shallow
        with pytest.raises(PiaError, match="shallow clone"):
            h.resolve(a)
        with pytest.raises(PiaError, match="shallow clone"):
            h.resolve_since("2026-01-06", h.resolve("HEAD"), JST)


def test_not_a_repository(tmp_path: pathlib.Path) -> None:
    with pytest.raises(PiaError, match="not a git repository"):
        History(str(tmp_path))


def test_diffs_of_a_range_match_comparing_snapshots(repo: Repo) -> None:
    """One diff-tree for the whole range lists what comparing files() of each commit with its parent lists."""
    doc = text(base())
    repo.write("assessments/a.toml", doc)
    repo.write("assessments/.hidden/h.toml", doc)
    repo.write("assessments/sub/.h.toml", doc)  # a hidden file (not directory) is listed
    repo.write("assessments/notes.txt", "x")
    repo.write("other/o.toml", doc)
    repo.commit("初版")
    repo.write("assessments/a.toml", doc.replace("呉市長", "呉市長 (代理)"))
    repo.write("assessments/.hidden/h.toml", doc.replace("呉市長", "x"))
    repo.write("assessments/sub/.h.toml", doc.replace("呉市長", "y"))
    repo.commit("変更")
    (repo.path / "assessments/a.toml").chmod(0o755)  # mode only: the same blob, no change
    repo.git("mv", "assessments/sub/.h.toml", "assessments/sub/b.toml")
    repo.commit("名前の変更")
    (repo.path / "assessments/sub/b.toml").unlink()
    (repo.path / "assessments/sub/b.toml").symlink_to("../a.toml")  # a symbolic link is not a document
    repo.write("assessments/x.toml/inner.toml", doc)  # a directory named like a document
    repo.commit("シンボリックリンク")
    repo.git("checkout", "-q", "-b", "topic", "HEAD~2")
    repo.write("assessments/t.toml", doc)
    repo.commit("別の枝")
    repo.git("checkout", "-q", "main")
    repo.git("merge", "-q", "--no-ff", "-m", "merge", "topic")
    with History(str(repo.path)) as h:
        head = h.resolve("HEAD")
        commits = h.commits(None, head)
        for scope in [("assessments",), ("assessments/a.toml",), ("",), ("assessments/.hidden", "other"), ("nowhere",)]:
            diffs = h.diffs(commits, scope)
            for c in commits:
                parent = h.parent(c)
                old, new = h.files(parent, scope), h.files(c, scope)
                want = [(p, old.get(p), new.get(p)) for p in sorted({*old, *new}) if old.get(p) != new.get(p)]
                assert diffs.get(c.sha, []) == want, (scope, c.message)
            assert bool(diffs) == (scope != ("nowhere",))


def test_blobs_read_in_the_background_are_exact(repo: Repo, monkeypatch: pytest.MonkeyPatch) -> None:
    """What the background cat-file answers is each blob byte for byte, large or empty; an object it
    cannot read is read again when wanted (and then named in the error); a new process takes over
    once LATER_BYTES have been read."""
    contents = {
        "assessments/a.toml": text(base()),
        "assessments/big.toml": "# " + "あ" * 3_000_000 + "\n",  # larger than any pipe buffer
        "assessments/empty.toml": "",
        "assessments/crlf.toml": "a = 1\r\n\r\n",
    }
    for p, t in contents.items():
        repo.write(p, t)
    sha = repo.commit("初版")
    monkeypatch.setattr(history_module, "LATER_BYTES", 1000)
    with History(str(repo.path)) as h:
        files = h.files(h.commit(sha), ("assessments",))
        versions = list(files.items())
        missing = ("assessments/gone.toml", "0123456789abcdef0123456789abcdef01234567")
        h.read_ahead([], then=[*versions, missing])
        first = h._later
        h.read_ahead(versions, then=versions[:1])
        assert {b: h._ahead[b].decode("utf-8") for b in h._ahead} == {files[p]: t for p, t in contents.items()}
        assert h._later is not None and h._later is not first  # more than LATER_BYTES read: a new process
        h.read_ahead(versions[:1])
        assert list(h._ahead) == [versions[0][1]]
        h.read_ahead([], then=[missing])
        with pytest.raises(PiaError, match="object 012345678 is not in the repository"):
            h.read_ahead([missing])
