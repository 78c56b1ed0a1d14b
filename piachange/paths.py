"""Which files the PATH arguments of a report select: each assessment a file PATH names, under
every name it had in the range.

A file PATH selects an assessment, not a name. When the file was renamed within the range (the
removed and the added file paired as the report pairs them, compare.renames: the same
評価実施機関名 and 評価書番号; two files that swapped names are each renamed), the old name and
the new one both select it, and the report
reads every name it had, by any commit of the range or between the two ends: its rows are the
rows the report of every assessment has for it. Renames are looked for where that report looks
(assessments/) and in the PATH's own directory.

A PATH that is neither an assessment nor a directory at either end of the range, nor in
between, is an error: a misspelt name must not read as "no changes".
"""

from __future__ import annotations

import posixpath

from piachange import model
from piachange.compare import Comparer, delta
from piachange.errors import PiaError
from piachange.history import DEFAULT_SCOPE, Delta, History

Step = tuple[list[Delta], model.Commit | None, model.Commit]  # files removed and added between two commits


def check(hist: History, given: tuple[str, ...], scope: tuple[str, ...], since: model.Commit | None, until: model.Commit,
          commits: list[model.Commit], ends: tuple[str, str]) -> None:
    """Raise PiaError for the first PATH ``given`` (in ``scope``: its path in the repository) that names
    nothing in the range; ``ends``: --since and --until as given."""
    for text, p in zip(given, scope):
        if any(hist.is_dir(c, p) or p in hist.files(c, (p,)) for c in (since, until)):
            continue
        if not hist.diffs(commits, (p,)):  # nor there in between, added and removed again
            raise PiaError(f"{text}: not an assessment or a directory at {ends[0]}, at {ends[1]} or in between")


def follow(hist: History, compare: Comparer, scope: tuple[str, ...], since: model.Commit | None, until: model.Commit,
           commits: list[model.Commit]) -> tuple[str, ...]:
    """Return ``scope`` and, after it, the other names the assessment of each file in it had in the range."""
    names = {p for p in scope if p.endswith(".toml") and not hist.is_dir(since, p) and not hist.is_dir(until, p)}
    if not names:
        return scope
    steps = _steps(hist, (DEFAULT_SCOPE, *sorted({posixpath.dirname(p) for p in names})), since, until, commits)
    pairs: dict[int, dict[str, str]] = {}  # of the steps that moved one of the names: new path -> old path
    grew = True
    while grew:  # a name found may have been renamed again, before or after
        for i, (changed, old, new) in enumerate(steps):
            if i not in pairs and any(p in names for p, _, _ in changed):
                pairs[i] = compare.renamed(changed, old, new)
        found = {p for moved in pairs.values() for q, r in moved.items() if q in names or r in names for p in (q, r)}
        grew = not found <= names
        names |= found
    return (*scope, *sorted(names - set(scope)))


def _steps(hist: History, where: tuple[str, ...], since: model.Commit | None, until: model.Commit,
           commits: list[model.Commit]) -> list[Step]:
    """Return the commits of the range that both removed and added files under ``where``, each
    with its first parent, and the two ends of the range (the net report pairs its files there)."""
    diffs = hist.diffs(commits, where)
    steps = [(diffs[c.sha], hist.parent(c), c) for c in commits if c.sha in diffs and _moves(diffs[c.sha])]
    ends = delta(hist.files(since, where), hist.files(until, where))
    return [*steps, (ends, since, until)] if _moves(ends) else steps


def _moves(changed: list[Delta]) -> bool:
    """Return whether a delta can have moved an assessment to another file: it removes and adds
    files, or changes one in place beside another (names swapped; compare._paired)."""
    return len(changed) >= 2 and any(a for _, a, _ in changed) and any(b for _, _, b in changed)
