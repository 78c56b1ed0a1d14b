"""Append report rows to each assessment's own 変更箇所 annex (``[[changes.rows]]``).

The only place piachange writes assessments in the work tree. Rules:

- append-only: existing rows are never rewritten or reordered; new rows go after them, in
  date order;
- a row already present is not written again. A row's identity is 項目 + 変更日 + 変更前 + 変更後
  (``item``, ``date``, ``before``, ``after``): running ``report --write`` twice over the same
  range writes once, while the same item changed again later (another date or text) is new.
  A row piachange wrote is also the same as a new one of the same 変更日, item (``paths``) and
  commits (``commits``): the same change, though its texts are printed otherwise now
  (``[report] long_text`` changed between the two writes);
- rows go to the work-tree file that holds their assessment (its 評価実施機関名 and 評価書番号,
  looked for beside the file the row names): a per-commit row names the file of its own commit,
  which a later commit may have renamed, or given to another assessment;
- the file is written canonically (``fmt.format_document``, comments kept) and atomically, and
  only after every file of the report has been prepared: all or nothing. A file that should
  receive rows but is not in the work tree (removed or renamed there since), cannot be read,
  is invalid or could not be written stops the whole write before any file is touched. Only
  an assessment removed within the range itself has no annex, and is merely noted.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import os
import posixpath
from dataclasses import dataclass
from typing import Any

from piachange import model, tomlparse
from piachange.atomic import write_all_atomic
from piachange.diff import name_of
from piachange.document import load_bytes
from piachange.errors import PiaError
from piachange.fmt import format_document, newline_of


@dataclass(frozen=True)
class Appended:
    """What happened to one assessment's annex."""

    file: str
    added: int = 0
    present: int = 0  # rows of the report that the annex already had
    note: str = ""  # why it has no annex: the file was removed within the range
    earlier: int = 0  # rows added that are dated before the annex's last row (its date order is broken)
    last: dt.date | None = None  # 変更日 of the annex's last dated row before this write


def row_table(row: model.Row) -> dict[str, Any]:
    """Return a report row as a ``[[changes.rows]]`` table."""
    ch = row.change
    return {
        "date": row.date,
        "item": ch.item,
        "before": ch.before_text,
        "after": ch.after_text,
        "timing": row.timing,
        "reason": row.reason,
        "rule": row.rule,
        "paths": [".".join(ch.path)] if ch.path else [],
        "commits": [c.sha for c in ch.commits],
    }


def row_identity(row: dict[str, Any]) -> tuple[str, str, str, str]:
    """Return what makes two annex rows the same row: 項目, 変更日, 変更前, 変更後."""
    return (str(row.get("item", "")), _day(row), str(row.get("before", "")), str(row.get("after", "")))


def change_identity(row: dict[str, Any]) -> tuple[str, tuple[str, ...], tuple[str, ...]] | None:
    """Return the change a row piachange wrote records (変更日, item paths, commits), None for a row
    written by hand (no paths or no commits)."""
    paths, commits = row.get("paths"), row.get("commits")
    if not (isinstance(paths, list) and paths and isinstance(commits, list) and commits):
        return None
    return _day(row), tuple(str(p) for p in paths), tuple(str(c) for c in commits)


def _day(row: dict[str, Any]) -> str:
    """Return a row's 変更日 as compared: ISO for a date, else as written (未定, 和暦 in part)."""
    date = row.get("date", "")
    return date.isoformat() if isinstance(date, dt.date) else str(date)


def append_rows(report: model.Report, root: str) -> list[Appended]:
    """Append the report's rows to the annexes under ``root``; return what each file got.

    Raise PiaError, having written nothing, when a file that should receive rows cannot."""
    by_file: dict[str, list[model.Row]] = {}
    # a row goes to the file its assessment is in now: a per-commit row names the file of its own
    # commit, which another assessment may hold by now (two names swapped)
    home = _homes(root, {row.change.file for row in report.rows})
    for row in report.rows:
        removed = row.change.kind == model.FILE_REMOVED
        by_file.setdefault(row.change.file if removed else home.get(row.change.assessment, row.change.file), []).append(row)
    results: list[Appended] = []
    pending: list[tuple[str, str]] = []
    for file, rows in by_file.items():
        if all(r.change.kind == model.FILE_REMOVED for r in rows):
            results.append(Appended(file, note="removed in this range: no annex to write"))
            continue
        path = os.path.join(root, file)
        if not os.path.lexists(path):
            raise PiaError(f"{file}: not in the work tree (removed or renamed since {report.until}?), so its rows"
                           " cannot be appended; nothing written")
        text, got = _updated(path, file, [r for r in rows if r.change.kind != model.FILE_REMOVED])
        results.append(got)
        if got.added:
            pending.append((path, text))
    write_all_atomic(pending, root=root)  # checks every target before it replaces any file
    return results


def _homes(root: str, files: set[str]) -> dict[str, str]:
    """Return {assessment identity: file} of the work tree's assessments in the directories of ``files``
    (read for their 評価実施機関名 and 評価書番号 only; a file that cannot be read is no one's home)."""
    out: dict[str, str] = {}
    for d in sorted({posixpath.dirname(f) for f in files}):
        try:
            names = sorted(n for n in os.listdir(os.path.join(root, d)) if n.endswith(".toml"))
        except OSError:
            continue
        for n in names:
            rel = posixpath.join(d, n)
            try:
                # utf-8-sig: Notepad on Windows may save with a byte order mark, which load_bytes accepts too
                with open(os.path.join(root, rel), encoding="utf-8-sig") as fh:
                    cover = tomlparse.loads(fh.read()).get("cover")
            except (OSError, UnicodeDecodeError, ValueError, RecursionError):
                continue
            number = cover.get("number") if isinstance(cover, dict) else None
            organization = cover.get("organization") if isinstance(cover, dict) else ""
            if isinstance(number, str) and number and isinstance(organization, str):
                out.setdefault(name_of(number, rel, organization), rel)
    return out


def _updated(path: str, file: str, rows: list[model.Row]) -> tuple[str, Appended]:
    """Return the new text of one assessment and what it gets (messages name ``file``)."""
    try:
        with open(path, "rb") as fh:
            raw = fh.read()
    except OSError as e:
        raise PiaError(f"{file}: cannot read: {e.strerror}") from None
    doc = load_bytes(raw, file)
    existing = list(doc.data.get("changes", {}).get("rows", []))
    seen = {row_identity(r) for r in existing}
    changes = {change_identity(r) for r in existing} - {None}
    new: list[dict[str, Any]] = []
    present = 0
    for row in sorted(rows, key=lambda r: r.date):
        table = row_table(row)
        key, change = row_identity(table), change_identity(table)
        if key in seen or change in changes:
            present += 1
            continue
        seen.add(key)
        changes.add(change)
        new.append(table)
    if not new:
        return "", Appended(file, present=present)
    last = _last_date(existing)
    earlier = sum(1 for t in new if last is not None and t["date"] < last)  # appended all the same: the rows are right
    data = copy.deepcopy(doc.data)
    data.setdefault("changes", {})["rows"] = existing + new
    newline = newline_of(raw)
    text = format_document(dataclasses.replace(doc, data=data), newline)
    again = load_bytes(text.encode("utf-8"), file)  # the written file must pass check and fmt --check
    if format_document(again, newline) != text:
        raise PiaError(f"{file}: the updated annex does not format stably; nothing written")
    return text, Appended(file, len(new), present, earlier=earlier, last=last)


def _last_date(rows: list[dict[str, Any]]) -> dt.date | None:
    """Return the 変更日 of the last row that has a full date (not 未定, blank or a partial 和暦)."""
    for row in reversed(rows):
        date = row.get("date")
        if isinstance(date, dt.date):
            return date
    return None
