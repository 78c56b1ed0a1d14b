"""Build the 変更箇所 report of a range of history: versions → changes → classified rows.

Two modes:

- net (default): one change per item between ``--since`` and ``--until`` — what one submission
  changes. Each change carries every commit of the range that touched the item, oldest first
  (a commit touches an item when its own diff changes the item, an enclosing instance or the
  whole file). An item changed and changed back has no net change and no row.
- per commit (``--per-commit``): one change per item per commit that changed it, oldest first.
  Every commit of the range is compared with its first parent. For a merge that means its row
  shows what the merge brought into the main line (the merged branch's net effect, once),
  while the commits of the merged branch are also listed with their own rows, one per commit.

変更日 of a row: ``--date`` when given; else the ``PIA-Date:`` trailer of the newest commit
that touched the item; else that commit's committer date in the configured time zone
(Asia/Tokyo). A change no commit of the range explains (``--since`` is not an ancestor of
``--until``) takes the date of ``--until``.

Work done once is kept (see cache.py): what each readable version is (form, 評価書番号, title),
the changes between two versions, the items each commit changed, and in per-commit mode each
commit's classified rows (under the configuration too), so a second report over the same
history parses nothing, and a report after one new commit compares only what that commit
changed (net mode still classifies the whole submission again: a row may depend on any other).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import zoneinfo
from dataclasses import dataclass
from typing import Any, Callable, Iterator, TypeVar

from piachange import classify, model, parallel, paths
from piachange.cache import ENV, Cache, key
from piachange.causes import FileNames, commit_statements, stray_lines, stray_text
from piachange.compare import Comparer, Facts, Link, Snapshot, Version, delta
from piachange.config import Config, load_config
from piachange.document import DocumentError
from piachange.entries import Item, Named, decode_decisions, decode_items, decode_rows, encode_decisions, encode_rows
from piachange.errors import PiaError
from piachange.history import Delta, History
from piachange.staged import ID, Staged
from piachange.touches import Touches
from piachange.trailers import located
from piachange.values import Style, changed_blocks
from piachange.wareki import WarekiError, parse_date, to_wareki

Progress = Callable[[int, int], None]
AHEAD = 64  # commits whose new versions are read from git in one go
PARALLEL = 1000  # commits to compare before the newer part of them is compared in a second process
SHARE = 50  # per cent of such a walk's work done here (see _split), work done meanwhile included
ENDS_WORK = 6  # the work of comparing one file of a net report's two ends, in _split's units (3.7 ms a file against 0.31 ms a unit,
# less the second process's start and its first versions built whole; 4, 6 and 8 gave the same wall time within noise)
T = TypeVar("T")
Walked = Iterator[tuple[model.Commit, list[model.Change], list[model.Finding], list[Link]]]  # commits with their changes, findings and links
Then = Callable[["_Builder", Walked, tuple[str, ...]], Iterator[tuple[model.Commit, Any]]]  # what a walk makes of them
Meanwhile = tuple[Callable[[], object], int]  # work done here while a second process walks, and how much (_split's units)


@dataclass(frozen=True)
class Options:
    """What to report: a range of history, a scope of files and a mode."""

    since: str
    until: str = "HEAD"
    repo: str = "."
    paths: tuple[str, ...] = ()
    per_commit: bool = False
    date: dt.date | None = None
    cwd: str = ""  # where relative PATHs start; default: the current directory
    cache: bool = True
    cache_dir: str = ""  # default: $PIACHANGE_CACHE_DIR, else piachange-cache in the repository's .git


def zone(name: str) -> dt.tzinfo:
    """Return a time zone; Asia/Tokyo works even where the system has no zone database."""
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        if name == "Asia/Tokyo":
            return dt.timezone(dt.timedelta(hours=9), "JST")  # no daylight saving since 1951
        raise PiaError(f"unknown time zone '{name}'") from None


def build_report(opts: Options, progress: Progress | None = None) -> model.Report:
    """Return the classified report of ``opts`` (nothing in the work tree is written; the cache may be)."""
    return build(opts, progress).report


@dataclass(frozen=True)
class Built:
    """A report and the root of the repository it came from (where ``--write`` writes)."""

    report: model.Report
    root: str
    named: dict[tuple[str, str], FileNames] = dataclasses.field(default_factory=dict)  # net: _Builder._names_then


def build(opts: Options, progress: Progress | None = None, staged: Staged | None = None) -> Built:
    """Return the report of ``opts`` with the repository root; ``staged``: the range is the commit
    being made (staged.py), which its messages and findings call so."""
    with History(opts.repo) as hist:
        cache = Cache(None if not opts.cache else opts.cache_dir or os.environ.get(ENV) or hist.cache_dir())
        try:
            builder = _Builder(hist, opts, progress, cache)
            report = builder.build()
            if staged is not None:
                builder.check_message(hist.commit(staged.until))
        except PiaError as e:
            if staged is None:
                raise
            raise PiaError(staged.located(staged.relabel(str(e))), staged.unnamed(e.problems)) from None
        finally:
            cache.close()
        return Built(report if staged is None else _relabelled(report, staged), hist.root, builder.scope_names)


def _decode_names(found: Any) -> dict[tuple[str, str], FileNames] | None:
    """Return the names kept with a net submission's rows (_Builder._names_then), None for a damaged entry."""
    ok = isinstance(found, dict) and all(
        isinstance(k, tuple) and len(k) == 2 and isinstance(v, tuple)
        and all(isinstance(p, tuple) and isinstance(n, str) for p, n in v) for k, v in found.items())
    return found if ok else None  # type: ignore[return-value]


def _changed_blocks(row: model.Row, style: Style) -> model.Row:
    """Return a row of a long text whose 変更前/変更後 are only the blocks that changed, its 項目 naming
    them (「… (<本市における措置>に係る部分)」), as published tables print them; other rows as they are."""
    ch = row.change
    found = changed_blocks(ch.before_text, ch.after_text) if ch.kind == model.MODIFIED else None
    if found is None:
        return row
    headings, before, after = found
    item = f"{ch.item} ({'、'.join(headings)}に係る部分)" if headings else ch.item
    return dataclasses.replace(row, change=dataclasses.replace(ch, item=item, before_text=before or style.blank,
                                                               after_text=after or style.removed))


def _relabelled(report: model.Report, staged: Staged) -> model.Report:
    """Return a report of the staged commit with that commit named as what it is, not by its object id."""
    rows = tuple(dataclasses.replace(r, reason=staged.relabel(r.reason), warnings=tuple(staged.relabel(w) for w in r.warnings),
                                     change=dataclasses.replace(r.change, commits=tuple(staged.commit(c) for c in r.change.commits)))
                 for r in report.rows)
    findings = tuple(dataclasses.replace(f, message=staged.located(staged.relabel(f.message))) for f in report.findings)
    since = "empty tree" if staged.first else report.since
    return dataclasses.replace(report, rows=rows, findings=findings, since=since, until=ID)


class _Builder:
    def __init__(self, hist: History, opts: Options, progress: Progress | None, cache: Cache) -> None:
        self.hist, self.opts, self.progress, self.cache = hist, opts, progress, cache
        self.jobs = parallel.jobs()  # read first: a bad $PIACHANGE_JOBS fails every report, not only long ones
        self.config: Config = load_config(hist.root)
        self.style: Style = self.config.style
        self.tz = zone(self.config.timezone)
        self.compare = Comparer(hist, cache, self.style)
        self.findings: list[model.Finding] = []  # of the commits walked: versions they left unreadable
        self.named: dict[tuple[str, str], FileNames] = {}  # (commit, assessment) -> its files' names then (walk identities)
        self.scope_names: dict[tuple[str, str], FileNames] = {}  # the same by the net changes' identities (_names_then)
        self.stated: dict[str, dt.date | None] = {}  # commit sha -> the 変更日 its PIA-Date states

    def build(self) -> model.Report:
        hist, opts = self.hist, self.opts
        until = hist.resolve_until(opts.until, self.tz)
        since = hist.resolve_since(opts.since, until, self.tz)
        scope = hist.scope(opts.paths, opts.cwd or os.getcwd())
        commits = hist.commits(since, until)
        if since is not None and not commits and since.sha != until.sha:  # --until is in the history of --since
            raise PiaError(f"--since {opts.since} ({since.sha[:9]}) is newer than --until {opts.until} ({until.sha[:9]}),"
                           " which is in its history: swap them")
        if opts.paths:  # a PATH must name something; a file PATH selects its assessment under each name it had
            paths.check(hist, opts.paths, scope, since, until, commits, (opts.since, opts.until))
            scope = paths.follow(hist, self.compare, scope, since, until, commits)
        if opts.per_commit:
            rows, findings = self._per_commit(commits, scope)
        else:
            rows, findings = self._net(since, until, commits, scope)
        rows = sorted((self._dated(r, until) for r in rows), key=lambda r: r.date)
        if self.config.long_text == "changed-blocks":  # after classifying: the rules read the whole texts
            rows = [_changed_blocks(r, self.style) for r in rows]
        changes = [r.change for r in rows]
        assessments = self._assessments(hist.files(until, scope), until, changes)
        return model.Report(
            since=since.sha[:9] if since else "empty tree",
            until=until.sha[:9],
            per_commit=opts.per_commit,
            rows=tuple(rows),
            assessments=assessments,
            findings=(*findings, *_shared(assessments)),
            has_jizen=any(r.timing == "事前" for r in rows),
        )

    def _net(self, since: model.Commit | None, until: model.Commit, commits: list[model.Commit],
             scope: tuple[str, ...]) -> tuple[list[model.Row], list[model.Finding]]:
        """Return the rows and findings of the net changes from ``since`` to ``until``.

        A submission is decided as a whole (a row may depend on any other), so its rows are
        kept in the cache under the two ends, the scope and the configuration."""
        k = key("net-rows", self._setting(scope), since.sha if since else "", until.sha)
        kept = self.cache.get(k)  # the rows, findings and file names of the submission, in one entry: all or none
        if isinstance(kept, tuple) and len(kept) == 2:
            found, names = decode_rows(kept[0], self.hist.commit), _decode_names(kept[1])
            if found is not None and names is not None:
                self.scope_names = names
                return found
        old, new = self.hist.files(since, scope), self.hist.files(until, scope)
        ends = delta(old, new)
        net: list[model.Change] = []

        def compare_ends() -> None:  # while a second process, if any, walks its part
            self.compare.prefetch(ends)  # what the cache knows of them, in a few queries
            wanted = [(d, self.compare.to_read(*d)) for d in ends]
            self.hist.read_ahead(v for _, vs in wanted for v in vs)  # in one batch, not a read per blob
            for (_, a, b), vs in wanted:  # the newer first: the walk then patches each file from its older version
                for path, blob in reversed(vs):
                    try:
                        self.hist.document(path, blob, until.sha if blob == b else since.sha if since else "")
                    except DocumentError:
                        pass  # the comparison below says so
            net.extend(self.compare.diff(ends, since, until, strict=True))

        touches = Touches(self._touched(commits, scope, meanwhile=(compare_ends, ENDS_WORK * len(ends))))
        self.hist.forget_versions()  # classifying the submission needs none of them
        setting = self._setting(scope)

        def group_key(group: list[model.Change]) -> bytes:
            # its changes follow from the versions compared (and the style, in the setting); its rows, from them and the commits
            versions = sorted({(ch.old_file or ch.file, old.get(ch.old_file or ch.file, ""), ch.file, new.get(ch.file, ""))
                               for ch in group})
            return key("net-decisions", setting, repr(versions),
                       repr([(ch.path, ch.kind, tuple(c.sha for c in ch.commits)) for ch in group]))

        def known(groups: list[list[model.Change]]) -> list[list[model.Row] | None]:
            keys = [group_key(g) for g in groups]
            kept = self.cache.get_many(keys)
            return [decode_decisions(kept[k], g) for k, g in zip(keys, groups)]

        changes = [dataclasses.replace(ch, commits=touches.of(ch)) for ch in net]
        self.scope_names = self._names_then(touches, changes)
        rows, findings = classify.classify_by_assessment(
            changes, config=self.config, known=known, named=self.scope_names,
            keep=lambda group, rows: self.cache.put(group_key(group), encode_decisions(rows)))
        findings = [*self.findings, *findings]
        self.cache.put(k, (encode_rows(rows, findings), self.scope_names))
        return rows, findings

    def _names_then(self, touches: Touches, changes: list[model.Change]) -> dict[tuple[str, str], FileNames]:
        """Return, by (commit, assessment) of each net change's commits, the names of the files of
        the items the commit changed as the commit left them: a scope written with a file's name is
        resolved with that name, though a later commit of the range renamed the file."""
        then = {(sha, touches.one(a)): names for (sha, a), names in self.named.items()}
        out: dict[tuple[str, str], FileNames] = {}
        for ch in changes:
            for c in ch.commits:
                found = then.get((c.sha, touches.one(ch.assessment)))
                if found is not None:
                    out[(c.sha, ch.assessment)] = found
        return out

    def _setting(self, scope: tuple[str, ...]) -> str:
        """Return what, besides the commits, decides the rows: the configuration, the style and the scope."""
        return repr((self.config.source, self.config.raw, self.config.timezone, repr(self.style), scope))

    def _per_commit(self, commits: list[model.Commit], scope: tuple[str, ...]) -> tuple[list[model.Row], list[model.Finding]]:
        """Return the rows and findings of every commit, oldest first.

        In this mode each commit is a submission of its own, classified apart from the others,
        so its rows are kept in the cache by commit: a second report, or one after a new commit,
        reads them and compares and classifies only the commits it has not seen."""
        keys = {c.sha: _rows_key(self._setting(scope), c.sha) for c in commits}
        done = self._known_by_commit(keys, lambda entry: decode_rows(entry, self.hist.commit))
        for c, found in self._walk([c for c in commits if c.sha not in done], scope, _Builder._rows):
            done[c.sha] = found
        self.hist.forget_versions()  # what the assessments are is known from the walk: 200 MB less at N=1000
        return [r for c in commits for r in done[c.sha][0]], [f for c in commits for f in done[c.sha][1]]

    def _rows(self, walked: Walked, scope: tuple[str, ...]) -> Iterator[tuple[model.Commit, Any]]:
        """Classify each walked commit as a submission of its own; keep its rows and items in the cache."""
        setting = self._setting(scope)
        for c, chs, unread, links in walked:
            chs = [dataclasses.replace(ch, commits=(c,)) for ch in chs]
            rows, findings = classify.classify(chs, config=self.config, per_commit=True) if chs else ([], [])
            findings = [*unread, *findings]
            self.cache.put(_rows_key(setting, c.sha), encode_rows(rows, findings))
            self._put_items(c, chs, unread, links, scope)  # a net report over these commits then needs no walk
            yield c, (rows, findings)

    def _touched(self, commits: list[model.Commit], scope: tuple[str, ...],
                 meanwhile: Meanwhile) -> list[tuple[model.Commit, list[Item], list[Link]]]:
        """Return the commits that changed something, each with the items it changed and the
        assessments it gave a new identity, oldest first; do ``meanwhile`` before walking (while a
        second process, if any, walks its part).

        Which items a commit changes depends on the commit alone, so they are cached by commit:
        a warm net report neither diffs nor loads the changes of the commits in between."""
        done = self._known_by_commit({c.sha: _items_key(scope, c.sha) for c in commits}, decode_items)
        for c, found in self._walk([c for c in commits if c.sha not in done], scope, _Builder._items, meanwhile):
            done[c.sha] = found
        self.findings = [f for c in commits for f in done[c.sha][1]]
        self.named = {(c.sha, a): tuple((p, n) for b, p, n in done[c.sha][3] if b == a) for c in commits for a, _, _ in done[c.sha][3]}
        return [(c, done[c.sha][0], done[c.sha][2]) for c in commits if done[c.sha][0] or done[c.sha][2]]

    def _items(self, walked: Walked, scope: tuple[str, ...]) -> Iterator[tuple[model.Commit, Any]]:
        """Keep the items each walked commit changed (and its findings and links) in the cache."""
        for c, chs, unread, links in walked:
            yield c, self._put_items(c, chs, unread, links, scope)

    def _put_items(self, c: model.Commit, chs: list[model.Change], unread: list[model.Finding], links: list[Link],
                   scope: tuple[str, ...]) -> tuple[list[Item], list[model.Finding], list[Link], list[Named]]:
        """Keep the items one commit changed (and its findings, links and the names of the files
        its items are in) in the cache; return them."""
        items = [(ch.assessment, ch.path) for ch in chs]
        named = [(ch.assessment, ch.path, ch.named) for ch in chs if ch.named]
        self.cache.put(_items_key(scope, c.sha), (items, [dataclasses.astuple(f) for f in unread], links, named))
        return items, unread, links, named

    def _known_by_commit(self, keys: dict[str, bytes], decode: Callable[[Any], T | None]) -> dict[str, T]:
        """Return {commit sha: decoded entry} for the commits whose entry under ``keys`` the cache has."""
        entries = self.cache.get_many(list(keys.values()))
        found = {sha: decode(entries[k]) for sha, k in keys.items()}
        return {sha: v for sha, v in found.items() if v is not None}

    def _walk(self, commits: list[model.Commit], scope: tuple[str, ...], then: Then,
              meanwhile: Meanwhile | None = None) -> Iterator[tuple[model.Commit, Any]]:
        """Compare each commit with its first parent (changes, and findings about versions it
        could not read), pass them to ``then`` (``_Builder._rows`` or ``_Builder._items``) and yield
        what it yields: one commit at a time, so that a caller that keeps less than the changes
        (the items, in net mode) never holds them all.

        A long walk (PARALLEL commits or more) is cut in two: a second process walks the newer
        part and does ``then`` there, while this one does ``meanwhile`` and then the older part.
        Each commit's result depends on that commit alone, so the report is the same."""
        walked: Iterator[tuple[model.Commit, Any]]
        apart = self._apart() if len(commits) >= PARALLEL and self.jobs >= 2 else None
        if apart is None:
            if meanwhile is not None:
                meanwhile[0]()
            walked = then(self, self._walk_here(commits, scope), scope)
        else:
            walked = self._walk_parts(apart, commits, scope, then, meanwhile)
        for i, found in enumerate(walked):
            yield found
            if self.progress:
                self.progress(i + 1, len(commits))

    @staticmethod
    def _apart() -> parallel.Apart | None:
        """Start the second process (it imports this module while this one goes on); None where
        no second interpreter can be started, and one process does it all."""
        try:
            return parallel.Apart(__name__)
        except OSError:
            return None

    def _walk_parts(self, apart: parallel.Apart, commits: list[model.Commit], scope: tuple[str, ...], then: Then,
                    meanwhile: Meanwhile | None) -> Iterator[tuple[model.Commit, Any]]:
        try:
            diffs = self.hist.diffs(commits, scope)
            half = _split(commits, diffs, SHARE, before=meanwhile[1] if meanwhile else 0)
            opts = dataclasses.replace(self.opts, repo=self.hist.root)
            apart.call(_walk_apart, opts, self.cache.directory, [c.sha for c in commits[half:]], scope, then)
            if meanwhile is not None:  # an error here stops the second process (finally)
                meanwhile[0]()
            yield from then(self, self._walk_here(commits[:half], scope, diffs), scope)
            newer, entries, facts = apart.result()
        finally:
            apart.stop()
        self.cache.put_taken(entries)
        self.compare.known.update(facts)  # what the versions it read are, even without a cache to hold them
        yield from zip(commits[half:], newer)

    def _walk_here(self, commits: list[model.Commit], scope: tuple[str, ...],
                   diffs: dict[str, list[Delta]] | None = None) -> Walked:
        diffs = self.hist.diffs(commits, scope) if diffs is None else diffs
        for i, c in enumerate(commits):
            if i % AHEAD == 0:  # read together the versions whose changes the cache does not know
                now = [d for x in commits[i : i + AHEAD] for d in diffs.get(x.sha, ())]
                nxt = [d for x in commits[i + AHEAD : i + 2 * AHEAD] for d in diffs.get(x.sha, ())]
                self.compare.prefetch(now + nxt)  # the next window's too: its blobs are read while this one is compared
                here = {(p, x) for p, a, b in now for x in (a, b) if x}  # parsed by the next window
                self.hist.read_ahead((v for d in now for v in self.compare.to_read(*d)),
                                     then=[v for d in nxt for v in self.compare.to_read(*d) if v not in here])
            parent = self.hist.parent(c)
            seen = len(self.compare.unread)
            chs = self.compare.diff(diffs.get(c.sha, []), parent, c, strict=False)
            yield c, chs, self.compare.unread[seen:], self.compare.links(diffs.get(c.sha, []))

    def _dated(self, row: model.Row, until: model.Commit) -> model.Row:
        """Return the row with its 変更日 (most rows already have it: the commit's own date)."""
        date = self._date(row.change, until)
        return row if row.date == date else dataclasses.replace(row, date=date)

    def _date(self, change: model.Change, until: model.Commit) -> dt.date:
        """Return the 変更日 of a row (see the module docstring)."""
        if self.opts.date is not None:
            return self.opts.date
        for c in change.commits[:-1]:  # the newest decides; a wrong trailer of the others fails as it would in its own row
            self._stated_date(c)
        newest = change.commits[-1] if change.commits else until
        return self._stated_date(newest) or newest.date.astimezone(self.tz).date()

    def _stated_date(self, commit: model.Commit) -> dt.date | None:
        """Return the 変更日 a commit's PIA-Date trailer states, None without one; raise PiaError for a bad one."""
        if commit.sha not in self.stated:
            self.stated[commit.sha] = self._read_date(commit)
        return self.stated[commit.sha]

    def _read_date(self, commit: model.Commit) -> dt.date | None:
        said = located(commit, "PIA-Date")
        if len(said) > 1:  # which one was meant is not ours to guess
            values = [v for _, v in said]
            raise PiaError(f"{said[1][0]}: PIA-Date: {len(values)} trailers, {', '.join(values[:-1])}"
                           f" and {values[-1]}: a commit has one 変更日, keep one")
        if said and said[0][1]:
            try:
                return _printable(parse_date(said[0][1]))
            except WarekiError as e:
                raise PiaError(f"{said[0][0]}: PIA-Date: {e}") from None
        return None

    def check_message(self, commit: model.Commit) -> None:
        """Raise PiaError for a PIA-* trailer of ``commit`` that a report would refuse, whether or not the
        commit changed an item (the commit being made: a message-only amend changes none), and for a
        PIA-* line git would not read as a trailer, which a report over history can only note."""
        commit_statements(commit, self.config.ruleset.causes)
        for line, name in stray_lines(commit)[:1]:
            raise PiaError(f"{stray_text(commit, line, name)}; move it there")
        self._stated_date(commit)

    def _assessments(self, snap: Snapshot, until: model.Commit, changes: list[model.Change]) -> tuple[dict, ...]:
        """Return the assessments that have changes, in file order (their versions are known already)."""
        out: dict[str, dict] = {}
        files = {ch.file for ch in changes}
        self.compare.prefetch_versions([(p, blob) for p, blob in snap.items() if p in files])
        there = {self._end_version(snap, p, until).name for p in files if p in snap}
        moved = {ch.assessment for ch in changes} - there
        if moved:  # a file renamed in the range (--per-commit rows name the path of their commit, which may be gone
            # or, after a swap, hold another assessment): its version at the end, the same blob when nothing changed
            # since, may be known by its old path
            olds = {ch.file for ch in changes if ch.assessment in moved}  # the paths its rows name
            self.compare.prefetch_versions([(m, blob) for m in olds for blob in snap.values()])  # warm: by the cache
            by_blob = {b: f for (_, b), f in self.compare.known.items() if f is not None}
            files |= {p for p, blob in snap.items() if blob in by_blob and Version(p, blob, "", *by_blob[blob]).name in moved}
            self.compare.prefetch_versions([(p, blob) for p, blob in snap.items() if p in files])
        for p, blob in snap.items():
            if p in files:
                v = self._end_version(snap, p, until)
                out[p] = {"assessment": v.name, "file": p, "form": v.form, "title": v.title, "number": v.number,
                          "organization": v.organization}
        named = {a["assessment"] for a in out.values()}
        for ch in changes:
            if ch.file not in out and ch.assessment not in named:  # an assessment gone by the end of the range
                named.add(ch.assessment)
                out[ch.file] = {"assessment": ch.assessment, "file": ch.file, "form": ch.form, "title": "", "number": ch.number,
                                "organization": ""}
        return tuple(out.values())

    def _end_version(self, snap: Snapshot, p: str, until: model.Commit) -> Version:
        v = self.compare.version(p, snap[p], until, strict=True)
        assert v is not None
        return v


def _walk_apart(opts: Options, cache_dir: str | None, shas: list[str], scope: tuple[str, ...], then: Then
                ) -> tuple[list[Any], dict[bytes, bytes], dict[tuple[str, str], Facts]]:
    """Walk commits in a second process: return what ``then`` made of each one, the cache
    entries for the first process to write, and what each version it read is (Facts), which the
    report names its assessments with."""
    with History(opts.repo) as hist:
        cache = Cache(cache_dir, hold=True)
        try:
            walker = _Builder(hist, opts, None, cache)
            walked = walker._walk_here(hist.commits_of(shas), scope)
            found = [found for _, found in then(walker, walked, scope)]
            return found, cache.take(), {k: v for k, v in walker.compare.known.items() if v is not None}
        finally:
            cache.close()


def _split(commits: list[model.Commit], diffs: dict[str, list[Delta]], share: int, before: int = 0) -> int:
    """Return how many of the oldest commits make ``share`` per cent of the work of comparing them
    all, together with ``before``: work this process does first (in the same units).

    Work is counted by file: a file added or removed is built whole (about three times the work
    of a patched version), and every commit has some of its own. Counting commits alone gave the
    older part three quarters of the work, as histories start with their files being added."""
    weights = [1 + sum(1 if a and b else 3 for _, a, b in diffs.get(c.sha, ())) for c in commits]
    goal, done = (sum(weights) + before) * share / 100 - before, 0
    for i, w in enumerate(weights):
        if done + w / 2 > goal:
            return i
        done += w
    return len(commits)


def _shared(assessments: tuple[dict, ...]) -> list[model.Finding]:
    """Return a finding for each file whose assessment identity another file of the report has too."""
    first: dict[str, str] = {}
    out = []
    for a in assessments:
        name, file = a["assessment"], a["file"]
        if name in first:
            out.append(model.Finding(name, file, f"{first[name]} and {file} are both assessment 「{name}」, and their rows are"
                                     " reported as one assessment's: give each its own 評価書番号 (piachange check says so too)"))
        else:
            first[name] = file
    return out


def _rows_key(setting: str, sha: str) -> bytes:
    """Return the cache key of one commit's classified rows under a setting (see _Builder._setting)."""
    return key("commit-rows", setting, sha)


def _items_key(scope: tuple[str, ...], sha: str) -> bytes:
    """Return the cache key of the items one commit changed in a scope."""
    return key("commit-items", repr(scope), sha)


def parse_date_option(text: str) -> dt.date:
    """Parse ``--date`` (2026-03-16 or 令和8年3月16日); raise PiaError."""
    try:
        return _printable(parse_date(text))
    except WarekiError as e:
        raise PiaError(f"--date: {e}") from None


def _printable(day: dt.date) -> dt.date:
    """Return a 変更日 the table can print in 和暦; raise WarekiError for one before 明治."""
    to_wareki(day)
    return day
