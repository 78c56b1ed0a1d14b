"""The commit being made, as a commit of history, for ``report --staged`` and ``explain --staged``.

A commit-msg hook runs before git records the commit: the staged assessments and the message
exist, the commit does not. So the index is written as a tree (``git write-tree`` on a copy of
``$GIT_INDEX_FILE``: the index ``git commit -a`` or ``git commit FILE`` is about to record) and
a commit object is made of it on HEAD with the message (``git commit-tree``). Neither moves a
ref or touches the index or the work tree; the objects are unreferenced, and git's garbage
collection drops them. The report then compares HEAD with that commit like any other range,
so its rows, its classification and its errors are the ones the commit will get in history.
"""

from __future__ import annotations

import dataclasses
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass

from piachange.atomic import make_parents, write_atomic
from piachange.errors import PiaError, Problem
from piachange.model import Commit
from piachange.trailers import message_codec

NAME = "the staged commit"  # what the messages call it: its object id names nothing the user knows
ID = "(staged)"  # what stands for its id where a commit id is printed (コミット column, JSON commits)
_SCISSORS = re.compile(r"^\S -{8,} >8 -{8,}$")  # git commit --verbose: the diff below it is not the message


@dataclass(frozen=True)
class Staged:
    """The range of a staged commit: HEAD (or an empty commit before the first one) and the commit."""

    since: str
    until: str
    first: bool = False  # no HEAD: ``since`` is an empty commit made for the comparison
    file: str = ""  # the message file ('-': standard input)
    where: tuple[int, ...] = ()  # the line of the file each line of the message was

    def relabel(self, text: str) -> str:
        """Return a message with the staged commit's id (full, or abbreviated after 'commit') named
        as what it is."""
        return text.replace(self.until, NAME).replace(f"commit {self.until[:9]}", NAME).replace(f"commit {ID}", NAME)

    def commit(self, c: Commit) -> Commit:
        """Return a commit of the report, the staged one with ID for its id."""
        return dataclasses.replace(c, sha=ID) if c.sha == self.until else c

    def unnamed(self, problems: list[Problem]) -> list[Problem]:
        """Return problems of the staged commit's files without its id: they are the staged files'."""
        return [dataclasses.replace(p, commit="") if p.commit and self.until.startswith(p.commit) else p for p in problems]

    def located(self, error: str) -> str:
        """Return an error about a trailer of the message (``… , message line N: …``) as
        ``file:line: …`` with the line of the file it was written on; any other error as it is."""
        m = _MESSAGE_LINE.search(error)
        if not self.file or NAME not in error or m is None:
            return error
        n = int(m.group(1))
        where = "<stdin>" if self.file == "-" else self.file
        line = f"{self.where[n - 1]}:" if 0 < n <= len(self.where) else ""
        return f"{where}:{line} {error[: m.start()]}{error[m.end():]}"


_MESSAGE_LINE = re.compile(r", message line (\d+)(?=:)")


def read_message(path: str | None, comment: str = "#", strip: bool = True,
                 encoding: str = "utf-8") -> tuple[str, tuple[int, ...]]:
    """Return the commit message of a file ('-': standard input; None: no message) as git records
    it (what follows the scissors line of ``git commit --verbose`` dropped, and with ``strip``
    the lines starting with ``comment``, git's core.commentChar), and the line of the file each
    of its lines was. ``encoding``: git's i18n.commitEncoding, the encoding the message is in."""
    if path is None:
        return "", ()
    try:
        raw = sys.stdin.buffer.read() if path == "-" else open(path, "rb").read()
    except OSError as e:
        raise PiaError(f"--message {path}: cannot read it ({e.strerror or e})") from None
    # what git drops (comment lines, the diff of --verbose) need not be in the encoding: the diff is the files' own
    text = raw.decode(encoding, "surrogateescape")
    lines = text.replace("\r\n", "\n").split("\n")
    cut = next((i for i, line in enumerate(lines) if _SCISSORS.match(line)), len(lines))
    if comment == "auto":  # git chose a character no line of the message starts with, and wrote its comments last
        last = next((line for line in reversed(lines[: cut + 1]) if line.strip()), "")
        comment = last[0] if last[:1] in _AUTO else "#"
    kept = [(n, line) for n, line in enumerate(lines[:cut], 1) if not (strip and line.startswith(comment))]
    while kept and not kept[0][1].strip():  # what strip() below drops before the first line
        kept.pop(0)
    bad = next((n for n, line in kept if _UNDECODED.search(line)), None)
    if bad is not None:
        raise PiaError(f"--message {path}: line {bad} is not {encoding}: git's i18n.commitEncoding names the encoding"
                       " of commit messages")
    return "\n".join(line for _, line in kept).strip() + "\n", tuple(n for n, _ in kept)


_UNDECODED = re.compile("[\udc80-\udcff]")  # a byte surrogateescape kept: not of the encoding
_AUTO = "#;@!$%^&|:"  # the characters core.commentChar=auto chooses from, in git's order


def _strips_comments(root: str) -> bool:
    """Return whether git drops the comment lines of the message: commit.cleanup 'strip', or
    'default' when an editor was used (a commit-msg hook without one has GIT_EDITOR=:). The
    --cleanup option of git commit is not seen by the hook."""
    mode = _git(root, "config", "--get", "commit.cleanup", ok=(0, 1)).strip().lower() or "default"
    return mode == "strip" or (mode == "default" and os.environ.get("GIT_EDITOR") != ":")


def _encoding(root: str) -> str:
    """Return the encoding git takes commit messages to be in (i18n.commitEncoding, UTF-8 unless set)."""
    name = _git(root, "config", "--get", "i18n.commitEncoding", ok=(0, 1)).strip() or "utf-8"
    found = message_codec(name)
    if found is None:
        raise PiaError(f"git config i18n.commitEncoding: unknown encoding {name!r}")
    return found


def _comment(root: str) -> str:
    """Return the comment character (or string, or 'auto') of the repository: core.commentChar."""
    found = _git(root, "config", "--get-regexp", r"^core\.comment(char|string)$", ok=(0, 1)).splitlines()
    value = found[-1].partition(" ")[2] if found else ""
    return value or "#"


def stage(repo: str, path: str | None) -> Staged:
    """Make the commit the index would record, on HEAD, with the message of ``path`` (see
    read_message); return its range."""
    root = _root(repo)
    encoding = _encoding(root)
    message, where = read_message(path, _comment(root), _strips_comments(root), encoding)
    tree = _tree(root)
    head = _git(root, "rev-parse", "--verify", "--quiet", "HEAD^{commit}", ok=(0, 1)).strip()
    env = {} if _git(root, "var", "GIT_COMMITTER_IDENT", ok=(0, 128)).strip() else {
        "GIT_AUTHOR_NAME": "piachange", "GIT_AUTHOR_EMAIL": "piachange@localhost",
        "GIT_COMMITTER_NAME": "piachange", "GIT_COMMITTER_EMAIL": "piachange@localhost",
    }
    first = not head
    if first:  # the first commit: compared with an empty one, everything is new
        empty = _git(root, "hash-object", "-t", "tree", "-w", "--stdin", data=b"").strip()
        head = _git(root, "commit-tree", empty, data=b"(empty)\n", env=env).strip()
    merged = [] if first else _merge_heads(root)  # git commit during a merge records a merge commit
    parents = [a for p in (head, *merged) for a in ("-p", p)]
    # commit-tree records i18n.commitEncoding in the commit, as git commit does, and the history reader decodes by it
    sha = _git(root, "commit-tree", tree, *parents, data=message.encode(encoding), env=env).strip()
    return Staged(head, sha, first, path or "", where)


def _root(repo: str) -> str:
    """Return the top directory of the work tree ``repo`` is in."""
    return _git(repo, "rev-parse", "--show-toplevel", what=f"{repo}: not a git work tree").strip()


def _tree(root: str) -> str:
    """Return the tree of the index ($GIT_INDEX_FILE, else the repository's), written from a copy
    of it: git write-tree stores its cache tree in the index it reads, under index.lock."""
    index = os.path.join(root, _git(root, "rev-parse", "--git-path", "index").strip())
    with tempfile.TemporaryDirectory(prefix="piachange-") as tmp:
        copy = os.path.join(tmp, "index")
        if os.path.exists(index):
            shutil.copyfile(index, copy)
        try:
            return _git(root, "write-tree", env={"GIT_INDEX_FILE": copy}).strip()
        except PiaError as e:
            if "error building trees" in str(e):  # what git write-tree says after listing the unmerged paths
                raise PiaError("the index has unmerged paths: resolve the conflicts (git add) first") from None
            raise


def _merge_heads(root: str) -> list[str]:
    """Return the commits being merged (MERGE_HEAD, one a line), none outside a merge."""
    path = os.path.join(root, _git(root, "rev-parse", "--git-path", "MERGE_HEAD").strip())
    try:
        with open(path, encoding="ascii") as fh:
            return [line.strip() for line in fh if line.strip()]
    except (OSError, UnicodeDecodeError):
        return []


def _git(cwd: str, *args: str, data: bytes | None = None, env: dict[str, str] | None = None,
         ok: tuple[int, ...] = (0,), what: str = "") -> str:
    try:
        done = subprocess.run(["git", *args], cwd=cwd, input=data if data is not None else b"", capture_output=True,
                              env={**os.environ, **(env or {})})
    except OSError as e:
        if not os.path.isdir(cwd):  # the directory, not git, is missing
            raise PiaError(what or f"{cwd}: not a directory") from None
        raise PiaError(f"git: {e.strerror or e}") from None
    if done.returncode not in ok:
        err = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise PiaError(what or f"git {args[0]}: {err[-1] if err else f'exit code {done.returncode}'}")
    return done.stdout.decode("utf-8", "replace") if done.returncode == 0 else ""


_HOOK = ('#!/bin/sh\n# piachange commit-msg hook: the 変更箇所 rows of the commit; a wrong PIA-* trailer stops it\n'
         'exec {python} -m piachange report --staged --message "$1"\n')


def install_hook(repo: str, force: bool = False) -> str:
    """Write the commit-msg hook that runs ``report --staged`` with this Python (so git finds it
    outside the virtualenv too, and Git for Windows' sh runs it); return its path. A hook of
    someone else's, or piachange's with lines added to it, is kept unless ``force``."""
    root = _root(repo)
    path = os.path.normpath(os.path.join(root, _git(root, "rev-parse", "--git-path", "hooks/commit-msg").strip()))
    if os.path.lexists(path) and not force and not _is_ours(path):
        raise PiaError(f"{path}: a commit-msg hook is there already; add `piachange report --staged --message \"$1\"`"
                       " to it, or replace it with --force")
    python = shlex.quote(sys.executable.replace(os.sep, "/"))  # C:/…/python.exe: what Git for Windows' sh runs
    make_parents(path)  # core.hooksPath may name a directory not made yet
    if os.path.islink(path):  # the link is this repository's hook: replaced, not the file it points to (another's)
        try:
            os.unlink(path)
        except OSError as e:
            raise PiaError(f"{path}: not written: {e.strerror or e}") from None
    write_atomic(path, _HOOK.format(python=python))
    os.chmod(path, 0o755)
    return path


def _is_ours(path: str) -> bool:
    """Return whether the hook at ``path`` is one install_hook wrote, whatever Python it runs."""
    try:
        with open(path, encoding="utf-8", newline="") as fh:
            text = fh.read()
    except (OSError, UnicodeDecodeError):
        return False
    # a line the user added is theirs: writing the hook again must not drop it silently
    before, _, after = _HOOK.partition("{python}")
    python = text[len(before): -len(after)] if len(text) > len(before) + len(after) else ""
    return text.startswith(before) and text.endswith(after) and bool(python) and "\n" not in python
