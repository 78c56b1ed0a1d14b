"""What a report keeps in the cache, as plain data: changes, the items a commit changed, rows.

Only builtins and dates are stored (cache.py unpickles nothing else); commits are kept by sha
and given back by the reader. Anything that does not have the expected shape is a miss.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable

from piachange import model
from piachange.errors import PiaError

Item = tuple[str, tuple[str, ...]]  # (assessment, item path)
Named = tuple[str, tuple[str, ...], str]  # (assessment, item path, the name of the file it is in: Change.named)
_FIELDS = tuple(f.name for f in dataclasses.fields(model.Change) if f.name != "commits")


def encode_changes(changes: list[model.Change]) -> list[tuple]:
    """Return changes without their commits as plain data."""
    return [tuple(getattr(ch, f) for f in _FIELDS) for ch in changes]


def decode_changes(found: Any) -> list[model.Change] | None:
    """Return the changes of a cache entry, or None for a miss or a damaged entry."""
    ok = isinstance(found, list) and all(isinstance(v, tuple) and len(v) == len(_FIELDS) for v in found)
    return [model.Change(**dict(zip(_FIELDS, v))) for v in found] if ok else None


def decode_items(found: Any) -> tuple[list[Item], list[model.Finding], list[tuple[str, str]], list[Named]] | None:
    """Return the items one commit changed, its findings, the identities it changed (old, new)
    and the names of the files its items are in (Change.named) from a cache entry, or None."""
    try:
        items, findings, links, named = found
        if not all(isinstance(a, str) and isinstance(p, tuple) for a, p in items):
            return None
        if not all(isinstance(a, str) and isinstance(b, str) for a, b in links):
            return None
        if not all(isinstance(a, str) and isinstance(p, tuple) and isinstance(n, str) for a, p, n in named):
            return None
        return list(items), [model.Finding(*f) for f in findings], list(links), list(named)
    except (TypeError, ValueError):
        return None


def encode_rows(rows: list[model.Row], findings: list[model.Finding]) -> tuple:
    """Return rows and findings as plain data for the cache (commits by sha)."""
    return ([(tuple(getattr(r.change, f) for f in _FIELDS), tuple(c.sha for c in r.change.commits), *_decided(r))
             for r in rows], [dataclasses.astuple(f) for f in findings])


def _decided(r: model.Row) -> tuple:
    """Return the fields of a row after its change, in order."""
    return r.date, r.timing, r.reason, r.rule, r.warnings, r.override


def encode_decisions(rows: list[model.Row]) -> list[tuple]:
    """Return what was decided for each row, without its change (kept where the changes are known)."""
    return [_decided(r) for r in rows]


def decode_decisions(found: Any, changes: list[model.Change]) -> list[model.Row] | None:
    """Return the rows of ``changes`` from a cache entry of their decisions, or None."""
    if not isinstance(found, list) or len(found) != len(changes) or not all(isinstance(d, tuple) and len(d) == 6 for d in found):
        return None
    return [model.Row(ch, *d) for ch, d in zip(changes, found)]


def decode_rows(found: Any, commit: Callable[[str], model.Commit]) -> tuple[list[model.Row], list[model.Finding]] | None:
    """Return rows and findings from a cache entry (``commit`` gives a commit by sha), or None for a
    miss or a damaged entry."""
    try:
        rows, findings = found
        if any(len(ch) != len(_FIELDS) for ch, *_ in rows):
            return None
        return ([model.Row(model.Change(**dict(zip(_FIELDS, ch)), commits=tuple(commit(s) for s in shas)), *rest)
                 for ch, shas, *rest in rows], [model.Finding(*f) for f in findings])
    except (TypeError, ValueError, PiaError):  # PiaError: a commit the repository does not have
        return None
