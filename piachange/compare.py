"""Compare the versions of a delta: what each readable version is, and the changes between two.

A version is known by its path and blob, and a pair of versions by their four ids, so what is
worked out once is remembered here for the run and in the cache for the next one: a version's
facts (form, 評価書番号, title, 評価実施機関名) and the changes between two versions. A version
whose changes are all known is never parsed.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Callable

from piachange import model
from piachange.cache import Cache, key
from piachange.diff import diff_documents, name_of
from piachange.entries import decode_changes, encode_changes
from piachange.errors import DocumentError, Problem
from piachange.history import Delta, History
from piachange.values import Style

Facts = tuple[str, str, str, str]  # what a readable version is: form, 評価書番号, title, 評価実施機関名
Snapshot = dict[str, str]  # path -> blob sha
Link = tuple[str, str]  # an assessment's identity before and after a commit that changed it (a new 評価実施機関名 …)


@dataclass(frozen=True)
class Version:
    """A readable version of a file, known by its blob; parsed only when its changes are not known."""

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


class Comparer:
    """Versions and the changes between them, read from ``hist`` and remembered (see the module docstring)."""

    def __init__(self, hist: History, cache: Cache, style: Style) -> None:
        self.hist, self.cache, self.style = hist, cache, style
        self.known: dict[tuple[str, str], Facts | None] = {}  # (path, blob) -> what the version is
        self.unread: list[model.Finding] = []  # versions between the ends that could not be read
        self._window: dict[bytes, list[model.Change] | None] = {}  # cached changes looked up for this window of commits and the next
        self._style = repr(style)

    def diff(self, delta: list[Delta], old_c: model.Commit | None, new_c: model.Commit, strict: bool) -> list[model.Change]:
        """Return the changes of one delta (sorted by path); files are paired by path, then as renames pairs them.

        ``strict``: an unreadable version fails (the ends of a range); else it is skipped, with a
        finding in ``unread``."""
        got: dict[tuple[str, str, bool], Version | None] = {}  # each version read once: an unreadable one is one finding

        def version(path: str, blob: str, old: bool) -> Version | None:
            if (path, blob, old) not in got:
                got[path, blob, old] = self.version(path, blob, old_c if old else new_c, strict, compared=new_c)
            return got[path, blob, old]

        same, olds, news = _paired(delta, version)
        pairs: list[tuple[Version | None, Version | None] | list[model.Change]] = []
        for p, (a, b) in same.items():
            # changes known for both blobs: both versions were readable, nothing to read
            known = self.known_changes(p, a, p, b)
            pairs.append(known if known is not None else (version(p, a, True), version(p, b, False)))
        renamed = renames(olds, news)
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

    def links(self, delta: list[Delta]) -> list[Link]:
        """Return the assessments a delta (just compared) gave a new identity: a 評価実施機関名 or
        評価書番号 changed, in place or together with the file's name."""
        def version(path: str, blob: str, old: bool = True) -> Version | None:
            facts = self.facts(path, blob)
            return Version(path, blob, "", *facts) if facts is not None else None

        same, olds, news = _paired(delta, version)
        pairs = [(version(p, a), version(p, b)) for p, (a, b) in same.items()]
        pairs += [(olds[q], news[p]) for p, q in renames(olds, news).items()]
        return [(old.name, new.name) for old, new in pairs if old is not None and new is not None and old.name != new.name]

    def renamed(self, delta: list[Delta], old_c: model.Commit | None, new_c: model.Commit) -> dict[str, str]:
        """Return {new path: old path} of the files a delta removed and added that are one assessment
        renamed (see renames), as ``diff`` pairs them; a version that cannot be read names no assessment."""
        def version(path: str, blob: str, old: bool) -> Version | None:
            try:
                return self.version(path, blob, old_c if old else new_c, strict=True)
            except DocumentError:  # the walk, or the ends, say so where it matters
                return None

        _, olds, news = _paired(delta, version)
        return renames(olds, news) if olds and news else {}

    def to_read(self, path: str, a: str | None, b: str | None) -> list[tuple[str, str]]:
        """Return the versions of one delta entry that must be parsed (none when its changes are known)."""
        if a and b:
            return [] if self.known_changes(path, a, path, b) is not None else [(path, a), (path, b)]
        return [(path, x) for x in (a, b) if x and self.facts(path, x) is None]

    def facts(self, path: str, blob: str) -> Facts | None:
        """Return what a version known to be readable is, else None."""
        k = (path, blob)
        if k not in self.known:
            self.known[k] = _decode_facts(self.cache.get(key("version", path, blob)))
        return self.known[k]

    def version(self, path: str, blob: str, commit: model.Commit | None, strict: bool,
                compared: model.Commit | None = None) -> Version | None:
        """Return a version; an unreadable one raises when ``strict``, else is None with a finding
        that names the commit ``compared`` (default: ``commit``), whose changes go unattributed."""
        sha = commit.sha if commit else ""
        facts = self.facts(path, blob)
        if facts is None:
            try:
                d = self.hist.document(path, blob, sha)
            except DocumentError as e:
                if strict:
                    raise
                first = e.problems[0] if e.problems else Problem(path, 0, str(e))
                self.unread.append(model.Finding(
                    assessment=os.path.splitext(os.path.basename(path))[0], file=path,
                    message=f"{first}: this version cannot be read; the changes of commit {(compared.sha if compared else sha)[:9]} "
                            "to this file are not attributed",
                ))
                return None
            facts = self.known[(path, blob)] = (d.form.kind, d.number, d.title, d.organization)
            self.cache.put(key("version", path, blob), facts)
        return Version(path, blob, sha, *facts)

    def prefetch(self, deltas: list[Delta]) -> None:
        """Look up together the cached changes and versions of these delta entries (a few queries, not one each)."""
        keys = {key("changes", self._style, p, a, p, b): None for p, a, b in deltas if a and b}
        kept = self._window  # what an earlier call looked up for these entries is kept, the rest dropped
        self._window = {k: kept[k] for k in keys if k in kept}
        for k, found in self.cache.get_many([k for k in keys if k not in self._window]).items():
            self._window[k] = decode_changes(found)
        self.prefetch_versions([(p, x) for p, a, b in deltas for x in (a, b) if x])

    def prefetch_versions(self, versions: list[tuple[str, str]]) -> None:
        """Look up together the cached facts of these (path, blob) versions."""
        keys = {key("version", p, x): (p, x) for p, x in versions if (p, x) not in self.known}
        for k, found in self.cache.get_many(list(keys)).items():
            self.known[keys[k]] = _decode_facts(found)

    def known_changes(self, old_path: str, old_blob: str, new_path: str, new_blob: str) -> list[model.Change] | None:
        """Return the known changes between two versions ('' for a missing one), or None."""
        k = key("changes", self._style, old_path, old_blob, new_path, new_blob)
        if k not in self._window:
            self._window[k] = decode_changes(self.cache.get(k))
        return self._window[k]

    def _changes(self, a: Version | None, b: Version | None) -> list[model.Change]:
        """Return the changes from version ``a`` to ``b`` (None: the file is not there), cached by blobs."""
        ends = [*((a.path, a.blob) if a else ("", "")), *((b.path, b.blob) if b else ("", ""))]
        found = self.known_changes(*ends)
        if found is not None:
            return found
        docs = [self.hist.document(v.path, v.blob, v.commit) if v else None for v in (a, b)]
        out = self._window[key("changes", self._style, *ends)] = diff_documents(docs[0], docs[1], self.style)
        self.cache.put(key("changes", self._style, *ends), encode_changes(out))
        return out


def _paired(delta: list[Delta], version: Callable[[str, str, bool], Version | None]
            ) -> tuple[dict[str, tuple[str, str]], dict[str, Version | None], dict[str, Version | None]]:
    """Return the files of a delta changed in place ({path: (old blob, new blob)}), and the
    versions removed and added ({path: version}; ``version(path, blob, old)`` reads one).

    A file changed in place whose two versions are two assessments, one of which another file of
    the delta had or has (names swapped; a name given to another assessment after its own moved
    on), is a removal and an addition, which renames then pairs by identity; so is a file whose
    readable version is such an assessment, the other version unreadable. A 評価書番号 corrected
    in place, which no other file has, stays one file changed."""
    same = {p: (a, b) for p, a, b in delta if a and b}
    olds = {p: version(p, a, True) for p, a, b in delta if a and not b}
    news = {p: version(p, b, False) for p, a, b in delta if b and not a}
    if not olds and not news and len(same) < 2:
        return same, olds, news
    ends = {p: (version(p, a, True), version(p, b, False)) for p, (a, b) in same.items()}
    moved = {p: (x.name, y.name) for p, (x, y) in ends.items() if x is not None and y is not None and x.number and y.number
             and x.name != y.name}
    if not moved:
        return same, olds, news
    # a file one of whose versions cannot be read (between the ends) is known by the other one
    half = {p: (x.name if x and x.number else "", y.name if y and y.number else "") for p, (x, y) in ends.items()
            if (x is None) != (y is None)}
    had = [(p, v.name) for p, v in olds.items() if v is not None] + [(p, x) for p, (x, _) in (*moved.items(), *half.items()) if x]
    has = [(p, v.name) for p, v in news.items() if v is not None] + [(p, y) for p, (_, y) in (*moved.items(), *half.items()) if y]
    for p, (x, y) in (*moved.items(), *half.items()):
        if any(q != p and name == x for q, name in has if x) or any(q != p and name == y for q, name in had if y):
            del same[p]
            olds[p], news[p] = ends[p]
    return same, olds, news


def renames(olds: dict[str, Version | None], news: dict[str, Version | None]) -> dict[str, str]:
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


def delta(old: Snapshot, new: Snapshot) -> list[Delta]:
    """Return the files that differ between two snapshots, sorted by path."""
    return sorted(((p, old.get(p), new.get(p)) for p in {*old, *new} if old.get(p) != new.get(p)), key=lambda x: x[0])


def _decode_facts(found: object) -> Facts | None:
    """Return what a version is (Facts) from a cache entry, or None."""
    ok = isinstance(found, tuple) and len(found) == 4 and all(isinstance(x, str) for x in found)
    return found if ok else None  # type: ignore[return-value]
