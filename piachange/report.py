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

from piachange import classify, model, parallel
from piachange.cache import ENV, Cache, key
from piachange.config import Config, load_config
from piachange.diff import diff_documents, name_of
from piachange.entries import (Item, decode_changes, decode_decisions, decode_items, decode_rows, encode_changes,
                               encode_decisions, encode_rows)
from piachange.errors import DocumentError, PiaError, Problem
from piachange.history import Delta, History, trailer
from piachange.values import Style
from piachange.wareki import WarekiError, parse_date

Progress = Callable[[int, int], None]
Snapshot = dict[str, str]  # path -> blob sha
Facts = tuple[str, str, str, str]  # what a readable version is: form, 評価書番号, title, 評価実施機関名
AHEAD = 64  # commits whose new versions are read from git in one go
PARALLEL = 1000  # commits to compare before the newer part of them is compared in a second process
SHARE = 50  # per cent of such a walk's work done here (see _split), work done meanwhile included
ENDS_WORK = 8  # the work of comparing one file of a net report's two ends, in _split's units (5.5 ms a file against 0.56 ms a unit, less the second process's start)
T = TypeVar("T")
Link = tuple[str, str]  # an assessment's identity before and after a commit that changed it (a new 評価実施機関名 …)
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


def build(opts: Options, progress: Progress | None = None) -> Built:
    """Return the report of ``opts`` with the repository root."""
    with History(opts.repo) as hist:
        cache = Cache(None if not opts.cache else opts.cache_dir or os.environ.get(ENV) or hist.cache_dir())
        try:
            return Built(_Builder(hist, opts, progress, cache).build(), hist.root)
        finally:
            cache.close()


@dataclass(frozen=True)
class _Version:
    """A readable version of a file, known by its blob; parsed only when its changes are not cached."""

    path: str
    blob: str
    commit: str  # where this run reads it
    form: str
    number: str
    title: str
    organization: str

    @property
    def name(self) -> str:
        """The assessment's identity (diff.name_of)."""
        return name_of(self.number, self.path, self.organization)


class _Builder:
    def __init__(self, hist: History, opts: Options, progress: Progress | None, cache: Cache) -> None:
        self.hist, self.opts, self.progress, self.cache = hist, opts, progress, cache
        self.jobs = parallel.jobs()  # read first: a bad $PIACHANGE_JOBS fails every report, not only long ones
        self.config: Config = load_config(hist.root)
        self.style: Style = self.config.style
        self.tz = zone(self.config.timezone)
        self.findings: list[model.Finding] = []
        self._known: dict[tuple[str, str], Facts | None] = {}  # (path, blob) -> what the version is
        self._window: dict[bytes, list[model.Change] | None] = {}  # cached changes looked up for this window of AHEAD commits and the next
        self._style = repr(self.style)

    def build(self) -> model.Report:
        hist, opts = self.hist, self.opts
        until = hist.resolve(opts.until)
        since = hist.resolve_since(opts.since, until, self.tz)
        scope = hist.scope(opts.paths, opts.cwd or os.getcwd())
        commits = hist.commits(since, until)
        if opts.per_commit:
            rows, findings = self._per_commit(commits, scope)
        else:
            rows, findings = self._net(since, until, commits, scope)
        rows = sorted((self._dated(r, until) for r in rows), key=lambda r: r.date)
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
        found = decode_rows(self.cache.get(k), self.hist.commit)
        if found is not None:
            return found
        old, new = self.hist.files(since, scope), self.hist.files(until, scope)
        ends = delta(old, new)
        net: list[model.Change] = []

        def compare_ends() -> None:  # while a second process, if any, walks its part
            net.extend(self._diff(ends, since, until, strict=True))

        touches = _Touches(self._touched(commits, scope, meanwhile=(compare_ends, ENDS_WORK * len(ends))))
        self.hist.forget_versions()  # classifying the submission needs none of them
        setting = self._setting(scope)

        def group_key(group: list[model.Change]) -> bytes:
            # its changes follow from the versions compared (and the style, in the setting); its rows, from them and the commits
            versions = sorted({(ch.old_file or ch.file, old.get(ch.old_file or ch.file, ""), ch.file, new.get(ch.file, ""))
                               for ch in group})
            return key("net-decisions", setting, repr(versions),
                       repr([(ch.path, ch.kind, tuple(c.sha for c in ch.commits)) for ch in group]))

        def known(group: list[model.Change]) -> list[model.Row] | None:
            return decode_decisions(self.cache.get(group_key(group)), group)

        rows, findings = classify.classify_by_assessment(
            [dataclasses.replace(ch, commits=touches.of(ch)) for ch in net], config=self.config, known=known,
            keep=lambda group, rows: self.cache.put(group_key(group), encode_decisions(rows)))
        findings = [*self.findings, *findings]
        self.cache.put(k, encode_rows(rows, findings))
        return rows, findings

    def _setting(self, scope: tuple[str, ...]) -> str:
        """Return what, besides the commits, decides the rows: the configuration, the style and the scope."""
        return repr((self.config.source, self.config.raw, self.config.timezone, self._style, scope))

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
        return [(c, done[c.sha][0], done[c.sha][2]) for c in commits if done[c.sha][0] or done[c.sha][2]]

    def _items(self, walked: Walked, scope: tuple[str, ...]) -> Iterator[tuple[model.Commit, Any]]:
        """Keep the items each walked commit changed (and its findings and links) in the cache."""
        for c, chs, unread, links in walked:
            yield c, self._put_items(c, chs, unread, links, scope)

    def _put_items(self, c: model.Commit, chs: list[model.Change], unread: list[model.Finding], links: list[Link],
                   scope: tuple[str, ...]) -> tuple[list[Item], list[model.Finding], list[Link]]:
        """Keep the items one commit changed (and its findings and links) in the cache; return them."""
        items = [(ch.assessment, ch.path) for ch in chs]
        self.cache.put(_items_key(scope, c.sha), (items, [dataclasses.astuple(f) for f in unread], links))
        return items, unread, links

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
        self._known.update(facts)  # what the versions it read are, even without a cache to hold them
        yield from zip(commits[half:], newer)

    def _walk_here(self, commits: list[model.Commit], scope: tuple[str, ...],
                   diffs: dict[str, list[Delta]] | None = None) -> Walked:
        diffs = self.hist.diffs(commits, scope) if diffs is None else diffs
        for i, c in enumerate(commits):
            if i % AHEAD == 0:  # read together the versions whose changes the cache does not know
                now = [d for x in commits[i : i + AHEAD] for d in diffs.get(x.sha, ())]
                nxt = [d for x in commits[i + AHEAD : i + 2 * AHEAD] for d in diffs.get(x.sha, ())]
                self._prefetch(now + nxt)  # the next window's too: its blobs are read while this one is compared
                here = {(p, x) for p, a, b in now for x in (a, b) if x}  # parsed by the next window
                self.hist.read_ahead((v for d in now for v in self._to_read(*d)),
                                     then=[v for d in nxt for v in self._to_read(*d) if v not in here])
            parent = self.hist.parent(c)
            seen = len(self.findings)
            chs = self._diff(diffs.get(c.sha, []), parent, c, strict=False)
            yield c, chs, self.findings[seen:], self._links(diffs.get(c.sha, []))

    def _links(self, delta: list[Delta]) -> list[Link]:
        """Return the assessments a delta (just compared) gave a new identity: a 評価実施機関名 or
        評価書番号 changed, in place or together with the file's name."""
        def version(path: str, blob: str) -> _Version | None:
            facts = self._facts(path, blob)
            return _Version(path, blob, "", *facts) if facts is not None else None

        olds = {p: version(p, a) for p, a, b in delta if a and not b}
        news = {p: version(p, b) for p, a, b in delta if b and not a}
        pairs = [(version(p, a), version(p, b)) for p, a, b in delta if a and b]
        pairs += [(olds[q], news[p]) for p, q in _renames(olds, news).items()]
        return [(old.name, new.name) for old, new in pairs if old is not None and new is not None and old.name != new.name]

    def _to_read(self, path: str, a: str | None, b: str | None) -> list[tuple[str, str]]:
        """Return the versions of one delta entry that must be parsed (none when the cache knows its changes)."""
        if a and b:
            return [] if self._known_changes(path, a, path, b) is not None else [(path, a), (path, b)]
        return [(path, x) for x in (a, b) if x and self._facts(path, x) is None]

    def _diff(self, delta: list[Delta], old_c: model.Commit | None, new_c: model.Commit, strict: bool) -> list[model.Change]:
        """Return the changes of one delta (sorted by path); files are paired by path, then as _renames pairs them."""
        pairs: list[tuple[_Version | None, _Version | None] | list[model.Change]] = []
        for p, a, b in delta:
            if a and b:
                # changes known for both blobs: both versions were readable, nothing to read
                known = self._known_changes(p, a, p, b)
                pairs.append(known if known is not None else (self._version(p, a, old_c, strict), self._version(p, b, new_c, strict)))
        olds = {p: self._version(p, a, old_c, strict) for p, a, b in delta if a and not b}
        news = {p: self._version(p, b, new_c, strict) for p, a, b in delta if b and not a}
        renamed = _renames(olds, news)
        for p, v in news.items():
            pairs.append((olds.pop(renamed[p]), v) if p in renamed else (None, v))
        pairs += [(v, None) for v in olds.values()]
        out: list[model.Change] = []
        for pair in pairs:
            if isinstance(pair, list):
                out += pair
            elif pair[0] is not None or pair[1] is not None:
                out += self._changes(*pair)
        return out

    def _facts(self, path: str, blob: str) -> Facts | None:
        """Return what a version the cache knows to be readable is, else None."""
        k = (path, blob)
        if k not in self._known:
            self._known[k] = _decode_facts(self.cache.get(key("version", path, blob)))
        return self._known[k]

    def _version(self, path: str, blob: str, commit: model.Commit | None, strict: bool) -> _Version | None:
        """Return a version; an unreadable one fails the report at the ends of the range,
        and is skipped (with a finding) in between."""
        sha = commit.sha if commit else ""
        facts = self._facts(path, blob)
        if facts is None:
            try:
                d = self.hist.document(path, blob, sha)
            except DocumentError as e:
                if strict:
                    raise
                first = e.problems[0] if e.problems else Problem(path, 0, str(e))
                self.findings.append(model.Finding(
                    assessment=os.path.splitext(os.path.basename(path))[0], file=path,
                    message=f"{first}: this version cannot be read; the changes of commit {sha[:9]} "
                            "to this file are not attributed",
                ))
                return None
            facts = self._known[(path, blob)] = (d.form.kind, d.number, d.title, d.organization)
            self.cache.put(key("version", path, blob), facts)
        return _Version(path, blob, sha, *facts)

    def _prefetch(self, deltas: list[Delta]) -> None:
        """Look up together the cached changes and versions of these delta entries (a few queries, not one each)."""
        keys = {key("changes", self._style, p, a, p, b): None for p, a, b in deltas if a and b}
        kept = self._window  # what an earlier call looked up for these entries is kept, the rest dropped
        self._window = {k: kept[k] for k in keys if k in kept}
        for k, found in self.cache.get_many([k for k in keys if k not in self._window]).items():
            self._window[k] = decode_changes(found)
        self._prefetch_versions([(p, x) for p, a, b in deltas for x in (a, b) if x])

    def _prefetch_versions(self, versions: list[tuple[str, str]]) -> None:
        """Look up together the cached facts of these (path, blob) versions."""
        keys = {key("version", p, x): (p, x) for p, x in versions if (p, x) not in self._known}
        for k, found in self.cache.get_many(list(keys)).items():
            self._known[keys[k]] = _decode_facts(found)

    def _known_changes(self, old_path: str, old_blob: str, new_path: str, new_blob: str) -> list[model.Change] | None:
        """Return the cached changes between two versions ('' for a missing one), or None."""
        k = key("changes", self._style, old_path, old_blob, new_path, new_blob)
        if k not in self._window:
            self._window[k] = decode_changes(self.cache.get(k))
        return self._window[k]

    def _changes(self, a: _Version | None, b: _Version | None) -> list[model.Change]:
        """Return the changes from version ``a`` to ``b`` (None: the file is not there), cached by blobs."""
        ends = [*((a.path, a.blob) if a else ("", "")), *((b.path, b.blob) if b else ("", ""))]
        found = self._known_changes(*ends)
        if found is not None:
            return found
        docs = [self.hist.document(v.path, v.blob, v.commit) if v else None for v in (a, b)]
        out = self._window[key("changes", self._style, *ends)] = diff_documents(docs[0], docs[1], self.style)
        self.cache.put(key("changes", self._style, *ends), encode_changes(out))
        return out

    def _dated(self, row: model.Row, until: model.Commit) -> model.Row:
        """Return the row with its 変更日 (most rows already have it: the commit's own date)."""
        date = self._date(row.change, until)
        return row if row.date == date else dataclasses.replace(row, date=date)

    def _date(self, change: model.Change, until: model.Commit) -> dt.date:
        """Return the 変更日 of a row (see the module docstring)."""
        if self.opts.date is not None:
            return self.opts.date
        newest = change.commits[-1] if change.commits else until
        text = trailer(newest, "PIA-Date")
        if text:
            try:
                return parse_date(text)
            except WarekiError as e:
                raise PiaError(f"commit {newest.sha[:9]}: PIA-Date: {e}") from None
        return newest.date.astimezone(self.tz).date()

    def _assessments(self, snap: Snapshot, until: model.Commit, changes: list[model.Change]) -> tuple[dict, ...]:
        """Return the assessments that have changes, in file order (their versions are known already)."""
        out: dict[str, dict] = {}
        files = {ch.file for ch in changes}
        self._prefetch_versions([(p, blob) for p, blob in snap.items() if p in files])
        for p, blob in snap.items():
            if p in files:
                v = self._version(p, blob, until, strict=True)
                assert v is not None
                out[p] = {"assessment": v.name, "file": p, "form": v.form, "title": v.title, "number": v.number,
                          "organization": v.organization}
        for ch in changes:
            if ch.file not in out:
                out[ch.file] = {"assessment": ch.assessment, "file": ch.file, "form": ch.form, "title": "", "number": ch.number,
                                "organization": ""}
        return tuple(out.values())


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
            return found, cache.take(), {k: v for k, v in walker._known.items() if v is not None}
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


def _renames(olds: dict[str, _Version | None], news: dict[str, _Version | None]) -> dict[str, str]:
    """Return {new path: old path} for the files removed and added that are one assessment renamed:
    the same identity (評価実施機関名 and 評価書番号), else the same 評価書番号 where no other file
    removed or added has it (a town that became a city, renamed with its files)."""
    out: dict[str, str] = {}
    by_name = {v.name: p for p, v in olds.items() if v is not None and v.number}
    for p, v in news.items():
        if v is not None and v.number and v.name in by_name:
            out[p] = by_name.pop(v.name)
    taken = set(out.values())
    left = [(p, v) for p, v in olds.items() if v is not None and v.number and p not in taken]
    added = [(p, v) for p, v in news.items() if v is not None and v.number and p not in out]
    for p, v in added:
        old = [q for q, w in left if w.number == v.number]
        if len(old) == 1 and [x.number for _, x in added].count(v.number) == 1:
            out[p] = old[0]
    return out


def _rows_key(setting: str, sha: str) -> bytes:
    """Return the cache key of one commit's classified rows under a setting (see _Builder._setting)."""
    return key("commit-rows", setting, sha)


def _items_key(scope: tuple[str, ...], sha: str) -> bytes:
    """Return the cache key of the items one commit changed in a scope."""
    return key("commit-items", repr(scope), sha)


def _decode_facts(found: object) -> Facts | None:
    """Return what a version is (Facts) from a cache entry, or None."""
    ok = isinstance(found, tuple) and len(found) == 4 and all(isinstance(x, str) for x in found)
    return found if ok else None  # type: ignore[return-value]


def delta(old: Snapshot, new: Snapshot) -> list[Delta]:
    """Return the files that differ between two snapshots, sorted by path."""
    return sorted(((p, old.get(p), new.get(p)) for p in {*old, *new} if old.get(p) != new.get(p)), key=lambda x: x[0])


class _Touches:
    """Which commits of the range touched which items, indexed so each net change is one lookup per level.

    A commit touches an item when its own diff changes the item, an enclosing instance or the
    whole file: one of the two paths is a prefix of the other. An assessment is the same one
    under every identity the range gave it (a commit that changed its 評価実施機関名 links the two).
    """

    def __init__(self, touched: list[tuple[model.Commit, list[Item], list[Link]]]) -> None:
        self.commits = [c for c, _, _ in touched]
        self.same: dict[str, str] = {}  # identity -> the one standing for all of its assessment's identities
        for _, _, links in touched:
            for a, b in links:
                ra, rb = self._one(a), self._one(b)
                if ra != rb:
                    self.same[rb] = ra
        self.at: dict[tuple[str, tuple[str, ...]], set[int]] = {}  # commits that changed exactly this path
        self.below: dict[tuple[str, tuple[str, ...]], set[int]] = {}  # … this path or anything inside it
        for i, (_, items, _) in enumerate(touched):
            for assessment, path in items:
                one = self._one(assessment)
                self.at.setdefault((one, path), set()).add(i)
                for k in range(len(path) + 1):
                    self.below.setdefault((one, path[:k]), set()).add(i)

    def _one(self, name: str) -> str:
        while name in self.same:
            name = self.same[name]
        return name

    def of(self, change: model.Change) -> tuple[model.Commit, ...]:
        """Return the commits that touched ``change``'s item, oldest first."""
        one = self._one(change.assessment)
        found = set(self.below.get((one, change.path), ()))
        for k in range(len(change.path)):
            found |= self.at.get((one, change.path[:k]), set())
        return tuple(self.commits[i] for i in sorted(found))


def parse_date_option(text: str) -> dt.date:
    """Parse ``--date`` (2026-03-16 or 令和8年3月16日); raise PiaError."""
    try:
        return parse_date(text)
    except WarekiError as e:
        raise PiaError(f"--date: {e}") from None
