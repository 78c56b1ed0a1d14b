"""Reading assessment versions from git history; the only module that imports GitPython.

Nothing here touches the work tree or the index: commits, trees and blobs are read from the
object database through persistent ``git cat-file --batch`` processes, many objects per round
trip where the list is known ahead, and the next window's blobs in the background while this
one's are parsed; what each commit of a range changes comes from one
``git diff-tree --stdin``; each blob is parsed once (documents are cached by blob id).

``--since`` accepts a revision (sha, branch, tag, ``HEAD~3``) or a date (``2024-04-01`` or
``令和6年4月1日``). A revision wins when both readings are possible. A date selects the newest
commit on the first-parent line of ``--until`` whose committer date is at or before the
start (00:00) of that day in the configured time zone (Asia/Tokyo): the state of the main
line as it stood when that day began. A date before the first commit means "from the empty
tree": everything in ``--until`` is new.

``--until`` accepts the same: a date selects the newest commit on the first-parent line of
``HEAD`` whose committer date is at or before the end (24:00) of that day: the state of the
main line as that day ended. A date before the first commit is an error.
"""

from __future__ import annotations

import collections
import dataclasses
import datetime as dt
import os
import re
import subprocess
import tempfile
import unicodedata
from typing import IO, Iterable, Iterator

import git
from git.util import hex_to_bin

from piachange.atomic import within
from piachange.background import BackgroundCatFile
from piachange.document import Document
from piachange.errors import DocumentError, PiaError
from piachange.model import Commit
from piachange.sections import Builder
from piachange.trailers import message_codec, parse_trailers
from piachange.wareki import WarekiError, parse_date

DEFAULT_SCOPE = "assessments"
CACHE_SIZE = 256  # parsed versions kept besides the last two of each file
LATER_BYTES = 64 << 20  # answers one background cat-file writes before a new one takes over
BATCH = 256  # objects asked of cat-file at once: the requests stay well inside a pipe buffer
Delta = tuple[str, str | None, str | None]  # path, blob before, blob after (None: not there)
_DATE_LIKE = re.compile(r"\d{4}-\d{1,2}-\d{1,2}$|(明治|大正|昭和|平成|令和)")  # a --since or --until meant as a date


def _decode(raw: bytes, encoding: str) -> str:
    """Decode commit text in its declared encoding; bad bytes or names never raise."""
    return raw.decode(message_codec(encoding) or "utf-8", "replace")


def _actor(line: bytes, encoding: str) -> tuple[str, dt.datetime]:
    """Return (name, aware datetime) of an ``author``/``committer`` header value."""
    m = re.match(rb"^(.*?) <[^>]*> (-?\d+) ([+-])(\d\d)(\d\d)$", line)
    if not m:
        return _decode(line, encoding), dt.datetime.fromtimestamp(0, dt.timezone.utc)
    offset = dt.timedelta(hours=int(m.group(4)), minutes=int(m.group(5)))
    tz = dt.timezone(-offset if m.group(3) == b"-" else offset)
    return _decode(m.group(1), encoding), dt.datetime.fromtimestamp(int(m.group(2)), tz)


class History:
    """One repository opened read-only: revisions, commits, trees and parsed documents."""

    def __init__(self, directory: str) -> None:
        try:
            self.repo = git.Repo(directory, search_parent_directories=True, odbt=git.GitCmdObjectDB)
        except (git.InvalidGitRepositoryError, git.NoSuchPathError):
            raise PiaError(f"{directory}: not a git repository") from None
        self.root = os.path.realpath(self.repo.working_tree_dir or self.repo.git_dir)
        self._commits: dict[str, tuple[Commit, str]] = {}
        self._listings: dict[tuple[bytes, str], dict[str, str]] = {}
        self._latest: dict[str, tuple[tuple[str, Document | DocumentError], ...]] = {}  # path -> its last two versions read
        self._recent: collections.OrderedDict[tuple[str, str], Document | DocumentError] = collections.OrderedDict()
        self._unreadable: dict[tuple[str, str], DocumentError] = {}
        self._builder = Builder()
        self._batch: git.Git.AutoInterrupt | None = None
        self._ahead: dict[str, bytes] = {}  # blobs read ahead of their turn
        self._later: BackgroundCatFile | None = None  # blobs being read in the background for the next read_ahead

    def forget_versions(self) -> None:
        """Drop the parsed versions kept for a walk (its section builder's too): a report past its
        walk needs them no more, and classifying and rendering go on without holding them."""
        self._latest.clear()
        self._recent.clear()
        self._builder = Builder()

    def close(self) -> None:
        """Stop the persistent git processes."""
        if self._batch is not None:
            if self._batch.proc is not None:
                self._batch.proc.kill()
                self._batch.proc.wait()
            self._batch = None
        if self._later is not None:
            self._later.stop()
            self._later = None
        self.repo.close()

    def __enter__(self) -> History:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------ revisions

    @property
    def shallow(self) -> bool:
        return os.path.exists(os.path.join(self.repo.common_dir, "shallow"))

    def _missing(self, what: str) -> PiaError:
        hint = "; this is a shallow clone: fetch the history with `git fetch --unshallow`" if self.shallow else ""
        return PiaError(f"{what}{hint}")

    def resolve(self, rev: str) -> Commit:
        """Return the commit a revision names; raise PiaError when there is none."""
        try:
            sha = self.repo.git.rev_parse("--verify", "--quiet", "--end-of-options", f"{rev}^{{commit}}")
        except git.GitCommandError:
            raise self._missing(f"unknown revision '{rev}' in {self.root}") from None
        return self.commit(sha.strip())

    def resolve_since(self, text: str, until: Commit, tz: dt.tzinfo) -> Commit | None:
        """Return the commit ``--since`` names (revision or date); None means the empty tree."""
        found = self._revision_or_date(text)
        if isinstance(found, Commit):
            return found
        commit = self._newest_at_or_before(int(dt.datetime.combine(found, dt.time(), tz).timestamp()), until)
        if commit is None and self.shallow:
            raise self._missing(f"no commit at or before {found.isoformat()} in the available history")
        return commit

    def resolve_until(self, text: str, tz: dt.tzinfo) -> Commit:
        """Return the commit ``--until`` names (revision or date); raise PiaError when there is none."""
        found = self._revision_or_date(text)
        if isinstance(found, Commit):
            return found
        end = int(dt.datetime.combine(found, dt.time.max, tz).timestamp())  # 23:59:59, the day's last second
        commit = self._newest_at_or_before(end, self.resolve("HEAD"))
        if commit is None:
            raise self._missing(f"--until {text}: no main-line commit at or before the end of that day")
        return commit

    def _revision_or_date(self, text: str) -> Commit | dt.date:
        """Return the commit a revision names, else the day a date names; raise the revision's error for neither."""
        try:
            return self.resolve(text)
        except PiaError as not_rev:
            try:
                return parse_date(text)
            except WarekiError as not_date:
                if _DATE_LIKE.match(unicodedata.normalize("NFKC", text).strip()):  # meant as a date: say why it is none
                    raise PiaError(f"{not_rev}, and {not_date}") from None
                raise not_rev from None

    def _newest_at_or_before(self, seconds: int, head: Commit) -> Commit | None:
        """Return the newest commit on the first-parent line of ``head`` committed at or before
        ``seconds`` (Unix time), or None."""
        # "@<seconds> +0000": git reads a bare number below 100000000 as something else than seconds
        out = self.repo.git.rev_list("-1", "--first-parent", f"--before=@{seconds} +0000", head.sha) if seconds > 0 else ""
        return self.commit(out.strip()) if out.strip() else None

    def commit(self, sha: str) -> Commit:
        """Return a commit read from the object database (message decoded without ever failing)."""
        if sha not in self._commits:
            self._commits[sha] = self._read_commit(sha)
        return self._commits[sha][0]

    def _read_commit(self, sha: str) -> tuple[Commit, str]:
        try:
            raw = self.repo.odb.stream(hex_to_bin(sha)).read()
        except (ValueError, git.GitCommandError):
            raise self._missing(f"commit {sha[:9]} is not in the repository") from None
        return self._parse_commit(sha, raw)

    @staticmethod
    def _parse_commit(sha: str, raw: bytes) -> tuple[Commit, str]:
        head, _, body = raw.partition(b"\n\n")
        fields: list[list[bytes]] = []
        for line in head.split(b"\n"):
            if line.startswith(b" ") and fields:
                fields[-1][1] += b"\n" + line[1:]
            else:
                k, _, v = line.partition(b" ")
                fields.append([k, v])
        encoding = next((v.decode("ascii", "replace") for k, v in fields if k == b"encoding"), "utf-8")
        tree = next(v.decode("ascii") for k, v in fields if k == b"tree")
        parents = tuple(v.decode("ascii") for k, v in fields if k == b"parent")
        author, _ = _actor(next((v for k, v in fields if k == b"author"), b""), encoding)
        _, date = _actor(next((v for k, v in fields if k == b"committer"), b""), encoding)
        message = _decode(body, encoding)
        return Commit(sha, author, date, message, parse_trailers(message), parents), tree

    def commits(self, since: Commit | None, until: Commit) -> list[Commit]:
        """Return the commits reachable from ``until`` but not from ``since``, oldest first."""
        args = ["--topo-order", "--reverse", until.sha]
        if since is not None:
            args.append(f"^{since.sha}")
        return self.commits_of(self.repo.git.rev_list(*args).split())

    def commits_of(self, shas: list[str]) -> list[Commit]:
        """Return these commits; those not read yet are read together, a few round trips for all."""
        for sha, raw in self._read([s for s in dict.fromkeys(shas) if s not in self._commits]):
            self._commits[sha] = self._parse_commit(sha, raw)
        return [self.commit(s) for s in shas]

    def parent(self, commit: Commit) -> Commit | None:
        """Return the first parent (merges are compared with it), None for a root commit."""
        if not commit.parents:
            return None
        if self.shallow and not self._exists(commit.parents[0]):
            raise self._missing(f"the parent of commit {commit.sha[:9]} is not in the repository")
        return self.commit(commit.parents[0])

    def _exists(self, sha: str) -> bool:
        try:
            self.repo.odb.info(hex_to_bin(sha))
        except (ValueError, git.GitCommandError):
            return False
        return True

    # ------------------------------------------------------------ paths and trees

    def scope(self, paths: Iterable[str], cwd: str) -> tuple[str, ...]:
        """Return repository-relative paths for PATH arguments (default: the repository's assessments/,
        wherever the command runs).

        A relative PATH is taken from the current directory when that lies inside the
        repository, else from the repository root (``--repo DIR`` run from elsewhere).
        """
        out: list[str] = []
        given = list(paths)
        base = os.path.realpath(cwd)
        if not within(base, self.root) or not given:
            base = self.root
        for p in given or [DEFAULT_SCOPE]:
            full = os.path.realpath(os.path.join(base, p))
            if not within(full, self.root):
                raise PiaError(f"{p}: outside the repository {self.root}")
            rel = os.path.relpath(full, self.root).replace(os.sep, "/")
            out.append("" if rel == "." else rel)
        return tuple(out)

    def files(self, commit: Commit | None, scope: tuple[str, ...]) -> dict[str, str]:
        """Return {path: blob sha} of the .toml files under ``scope`` at ``commit`` (None: empty tree)."""
        out: dict[str, str] = {}
        for p in scope:
            obj = self._object(commit, p)
            if obj is None:
                continue
            if obj.type == "blob" and p.endswith(".toml") and obj.mode & 0o170000 == 0o100000:
                out[p] = obj.hexsha
            elif obj.type == "tree":
                out.update(self._listing(obj, p))
        return dict(sorted(out.items()))

    def is_dir(self, commit: Commit | None, path: str) -> bool:
        """Return whether ``path`` is a directory at ``commit`` (None: the empty tree, which has none)."""
        obj = self._object(commit, path)
        return obj is not None and obj.type == "tree"

    def _object(self, commit: Commit | None, path: str) -> git.objects.base.IndexObject | None:
        """Return what is at ``path`` in ``commit`` ('': its tree), or None."""
        if commit is None:
            return None
        self.commit(commit.sha)
        root = git.Tree(self.repo, hex_to_bin(self._commits[commit.sha][1]), 0o040000, "")
        try:
            return root / path if path else root
        except KeyError:
            return None

    def _listing(self, tree: git.Tree, prefix: str) -> dict[str, str]:
        """Return the .toml blobs below a tree; an unchanged subtree is read once (cached by id)."""
        key = (tree.binsha, prefix)
        if key not in self._listings:
            out: dict[str, str] = {}
            for item in tree:
                if item.type == "submodule":  # a gitlink has no name GitPython can give, and no documents
                    continue
                name = f"{prefix}/{item.name}" if prefix else item.name
                if item.type == "tree" and not item.name.startswith("."):
                    out.update(self._listing(item, name))
                elif item.type == "blob" and item.name.endswith(".toml") and item.mode & 0o170000 == 0o100000:
                    out[name] = item.hexsha
            self._listings[key] = out
        return self._listings[key]

    def diffs(self, commits: list[Commit], scope: tuple[str, ...]) -> dict[str, list[Delta]]:
        """Return {commit sha: the .toml files under ``scope`` its diff against its first parent
        changes}, sorted by path, from one ``git diff-tree``; as comparing ``files()`` would."""
        with tempfile.TemporaryFile() as lines:  # a file, not a pipe: git's answer may be long
            lines.write("".join(f"{c.sha} {c.parents[0]}\n" if c.parents else f"{c.sha}\n" for c in commits).encode())
            lines.seek(0)
            paths = [p for p in scope if p] if all(scope) else []
            out = self.repo.git.execute(["git", "--literal-pathspecs", "diff-tree", "--stdin", "--root", "-r", "-z",
                                         "--no-renames", "--", *paths], istream=lines, stdout_as_string=False)
        found: dict[str, list[Delta]] = {}
        items = out.split(b"\0")
        current: list[Delta] = []
        i = 0
        while i < len(items):
            item = items[i]
            if item.startswith(b":"):
                old_mode, new_mode, old, new, _ = item[1:].decode("ascii").split(" ")
                path = items[i + 1].decode("utf-8", "surrogateescape")
                i += 2
                before = old if _in_scope(path, old_mode, scope) else None
                after = new if _in_scope(path, new_mode, scope) else None
                if before != after:
                    current.append((path, before, after))
            else:
                if item:
                    current = found.setdefault(item.decode("ascii"), [])
                i += 1
        return {sha: sorted(d, key=lambda x: x[0]) for sha, d in found.items() if d}

    def read_ahead(self, versions: Iterable[tuple[str, str]], then: Iterable[tuple[str, str]] = ()) -> None:
        """Have the blobs of these (path, blob) versions at hand, unless parsed already, then start
        reading the blobs of ``then`` in the background for the next call.

        Blobs read in the background come from a second ``git cat-file --batch`` (see background.py)
        while this process parses the blobs it has: git's work overlaps with ours. What the
        background read did not bring (an object it could not read) is read now, in a few round
        trips; what was read ahead and not used is dropped, so memory stays bounded.
        """
        wanted = list(dict.fromkeys(b for p, b in versions if not self._cached(p, b)))
        got = self._later.take() if self._later is not None else {}
        if self._later is not None and self._later.taken > LATER_BYTES:
            self._later.stop()
            self._later = None
        self._ahead = {s: got[s] for s in wanted if s in got}
        self._ahead.update(self._read([s for s in wanted if s not in got]))
        later = list(dict.fromkeys(b for p, b in then if not self._cached(p, b)))
        if later and hasattr(os, "pread"):  # POSIX: elsewhere each window is read when its turn comes
            if self._later is None:
                try:
                    self._later = BackgroundCatFile(self.repo.git.GIT_PYTHON_GIT_EXECUTABLE or "git", self.root)
                except OSError:  # no second git to start: the next call reads them itself
                    return
            self._later.ask(later)

    def _read(self, shas: list[str]) -> Iterator[tuple[str, bytes]]:
        """Yield (sha, content) of objects through one persistent ``git cat-file --batch``, BATCH per round trip."""
        if not shas:
            return
        if self._batch is None:
            self._batch = self.repo.git.cat_file("--batch", as_process=True, istream=subprocess.PIPE)
        proc = self._batch.proc
        assert proc is not None and proc.stdin is not None and proc.stdout is not None
        out: IO[bytes] = proc.stdout
        for k in range(0, len(shas), BATCH):
            chunk = shas[k : k + BATCH]
            proc.stdin.write("".join(f"{s}\n" for s in chunk).encode("ascii"))
            proc.stdin.flush()
            for sha in chunk:
                header = out.readline().split()
                if len(header) != 3:
                    raise self._missing(f"object {sha[:9]} is not in the repository")
                data = out.read(int(header[2]))
                out.read(1)
                yield sha, data

    def _cached(self, path: str, blob: str) -> bool:
        return any(x[0] == blob for x in self._latest.get(path, ())) or (blob, path) in self._recent

    def document(self, path: str, blob: str, commit: str) -> Document:
        """Return the parsed document of a blob; raise DocumentError.

        Parsed versions are cached by blob: the last two versions read of every path (a commit's
        old version is usually the new version of the last commit that changed the file) and the
        most recent others, so memory stays bounded on long histories. An unreadable version
        is kept for the whole run; its error names ``commit``, wherever the run met it first.
        """
        key = (blob, path)
        last = self._latest.get(path, ())
        if key in self._unreadable:
            found: Document | DocumentError = self._unreadable[key]
        elif last and last[0][0] == blob:
            found = last[0][1]
        elif len(last) > 1 and last[1][0] == blob:
            found = last[1][1]
        elif key in self._recent:
            found = self._recent[key]
            self._recent.move_to_end(key)
        else:
            raw = self._ahead.pop(blob, None)
            if raw is None:  # not read ahead (or dropped from the parsed ones since): one round trip of the batch
                raw = next(self._read([blob]))[1]
            try:
                found = self._builder.load(raw, path, commit)
            except DocumentError as e:
                found = self._unreadable[key] = e
            self._recent[key] = found
            if len(self._recent) > CACHE_SIZE:
                self._recent.popitem(last=False)
        self._latest[path] = ((blob, found), *(x for x in last if x[0] != blob))[:2]
        if isinstance(found, DocumentError):
            raise DocumentError([dataclasses.replace(p, commit=commit) if p.commit else p for p in found.problems])
        return found

    def cache_dir(self) -> str:
        """Return where piachange keeps its cache for this repository (shared by its worktrees)."""
        return os.path.join(self.repo.common_dir, "piachange-cache")


def _in_scope(path: str, mode: str, scope: tuple[str, ...]) -> bool:
    """Return whether ``files()`` would list this path with this mode: a regular .toml file named
    in the scope, or below a scoped directory but not inside a hidden directory under it."""
    if not path.endswith(".toml") or int(mode, 8) & 0o170000 != 0o100000:
        return False
    for p in scope:
        if path == p:
            return True
        if not p or path.startswith(p + "/"):
            dirs = path[len(p) + 1 if p else 0 :].split("/")[:-1]
            if not any(d.startswith(".") for d in dirs):
                return True
    return False
