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
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import zoneinfo
from dataclasses import dataclass
from typing import Callable

from piachange import classify, model
from piachange.config import Config, load_config
from piachange.diff import diff_documents, identity
from piachange.document import Document
from piachange.errors import DocumentError, PiaError, Problem
from piachange.history import History, trailer
from piachange.values import Style
from piachange.wareki import WarekiError, parse_date

Progress = Callable[[int, int], None]
Snapshot = dict[str, str]  # path -> blob sha


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


def zone(name: str) -> dt.tzinfo:
    """Return a time zone; Asia/Tokyo works even where the system has no zone database."""
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        if name == "Asia/Tokyo":
            return dt.timezone(dt.timedelta(hours=9), "JST")  # no daylight saving since 1951
        raise PiaError(f"unknown time zone '{name}'") from None


def build_report(opts: Options, progress: Progress | None = None) -> model.Report:
    """Return the classified report of ``opts`` (nothing on disk is written)."""
    return build(opts, progress).report


@dataclass(frozen=True)
class Built:
    """A report and the root of the repository it came from (where ``--write`` writes)."""

    report: model.Report
    root: str


def build(opts: Options, progress: Progress | None = None) -> Built:
    """Return the report of ``opts`` with the repository root."""
    with History(opts.repo) as hist:
        return Built(_Builder(hist, opts, progress).build(), hist.root)


class _Builder:
    def __init__(self, hist: History, opts: Options, progress: Progress | None) -> None:
        self.hist, self.opts, self.progress = hist, opts, progress
        self.config: Config = load_config(hist.root)
        self.style: Style = self.config.style
        self.tz = zone(self.config.timezone)
        self.findings: list[model.Finding] = []

    def build(self) -> model.Report:
        hist, opts = self.hist, self.opts
        until = hist.resolve(opts.until)
        since = hist.resolve_since(opts.since, until, self.tz)
        scope = hist.scope(opts.paths, opts.cwd or os.getcwd())
        commits = hist.commits(since, until)
        touched = self._walk(commits, scope)
        if opts.per_commit:
            changes = [dataclasses.replace(ch, commits=(c,)) for c, chs in touched for ch in chs]
        else:
            net = self._diff(hist.files(since, scope), hist.files(until, scope), since, until, strict=True)
            changes = [dataclasses.replace(ch, commits=_touching(ch, touched)) for ch in net]
        rows, findings = classify.classify(changes, config=self.config, per_commit=opts.per_commit)
        rows = sorted((dataclasses.replace(r, date=self._date(r.change, until)) for r in rows), key=lambda r: r.date)
        return model.Report(
            since=since.sha[:9] if since else "empty tree",
            until=until.sha[:9],
            per_commit=opts.per_commit,
            rows=tuple(rows),
            assessments=self._assessments(hist.files(until, scope), until, changes),
            findings=tuple([*self.findings, *findings]),
            has_jizen=any(r.timing == "事前" for r in rows),
        )

    def _walk(self, commits: list[model.Commit], scope: tuple[str, ...]) -> list[tuple[model.Commit, list[model.Change]]]:
        """Return each commit with the changes of its own diff (against its first parent)."""
        out = []
        for i, c in enumerate(commits):
            parent = self.hist.parent(c)
            chs = self._diff(self.hist.files(parent, scope), self.hist.files(c, scope), parent, c, strict=False)
            if chs:
                out.append((c, chs))
            if self.progress:
                self.progress(i + 1, len(commits))
        return out

    def _diff(self, old: Snapshot, new: Snapshot, old_c: model.Commit | None, new_c: model.Commit,
              strict: bool) -> list[model.Change]:
        """Return the changes between two snapshots; files are paired by path, then by 評価書番号."""
        pairs: list[tuple[Document | None, Document | None]] = []
        gone = [p for p in old if p not in new]
        born = [p for p in new if p not in old]
        for p in new:
            if p in old and old[p] != new[p]:  # same blob: nothing to parse, nothing changed
                pairs.append((self._doc(p, old[p], old_c, strict), self._doc(p, new[p], new_c, strict)))
        olds = {p: self._doc(p, old[p], old_c, strict) for p in gone}
        news = {p: self._doc(p, new[p], new_c, strict) for p in born}
        by_number = {d.number: p for p, d in olds.items() if d is not None and d.number}
        for p, d in news.items():
            q = by_number.pop(d.number, None) if d is not None and d.number else None
            if q is not None:
                pairs.append((olds.pop(q), d))  # renamed: same 評価書番号 inside
            else:
                pairs.append((None, d))
        pairs += [(d, None) for d in olds.values()]
        out: list[model.Change] = []
        for a, b in pairs:
            if a is None and b is None:
                continue
            out += diff_documents(a, b, self.style)
        return out

    def _doc(self, path: str, blob: str, commit: model.Commit | None, strict: bool) -> Document | None:
        """Return a parsed version; an unreadable one fails the report at the ends of the range,
        and is skipped (with a finding) in between."""
        try:
            return self.hist.document(path, blob, commit.sha if commit else "")
        except DocumentError as e:
            if strict:
                raise
            first = e.problems[0] if e.problems else Problem(path, 0, str(e))
            self.findings.append(model.Finding(
                assessment=os.path.splitext(os.path.basename(path))[0], file=path,
                message=f"{first}: this version cannot be read; the changes of commit {commit.sha[:9] if commit else ''} "
                        "to this file are not attributed",
            ))
            return None

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
        """Return the assessments that have changes, in file order (their versions are parsed already)."""
        out: dict[str, dict] = {}
        files = {ch.file for ch in changes}
        for p, blob in snap.items():
            if p in files:
                d = self.hist.document(p, blob, until.sha)
                out[p] = {"assessment": identity(d), "file": p, "form": d.form.kind, "title": d.title, "number": d.number}
        for ch in changes:
            if ch.file not in out:
                out[ch.file] = {"assessment": ch.assessment, "file": ch.file, "form": ch.form, "title": "", "number": ""}
        return tuple(out.values())


def _touching(change: model.Change, touched: list[tuple[model.Commit, list[model.Change]]]) -> tuple[model.Commit, ...]:
    """Return the commits whose own diff changed this item, an enclosing instance or the file."""
    out = []
    for c, chs in touched:
        for ch in chs:
            if ch.assessment == change.assessment and _nested(ch.path, change.path):
                out.append(c)
                break
    return tuple(out)


def _nested(a: tuple[str, ...], b: tuple[str, ...]) -> bool:
    n = min(len(a), len(b))
    return a[:n] == b[:n]


def parse_date_option(text: str) -> dt.date:
    """Parse ``--date`` (2026-03-16 or 令和8年3月16日); raise PiaError."""
    try:
        return parse_date(text)
    except WarekiError as e:
        raise PiaError(f"--date: {e}") from None
