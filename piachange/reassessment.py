"""The 5-year re-assessment (規則第15条, rules.md §7): a warning that depends on today's date.

Only ``piachange check`` asks for it: document validation also runs over every old version a
report reads from git, where the age of a date on the day of the report means nothing.
"""

from __future__ import annotations

import datetime as dt

from piachange.document import Document
from piachange.errors import Problem

YEARS = 5

# The date the last assessment is counted from. A 重点 or 全項目 form states when its 基礎項目評価
# was done (Ⅴ/Ⅵ 1. ①実施日). A 基礎項目評価書 states no 実施日: its 公表日 is the date it was made
# public, the day the period of 規則第15条 is counted from.
LAST_DATE: dict[str, tuple[str, ...]] = {
    "kiso": ("cover", "published_on"),
    "juten": ("procedure", "basic_assessment", "conducted_on"),
    "zenkomoku": ("procedure", "basic_assessment", "conducted_on"),
}


def years_after(day: dt.date, years: int) -> dt.date:
    """Return the same calendar day ``years`` later; 29 February falls on 28 February of a common year."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def last_assessed(doc: Document) -> tuple[tuple[str, ...], dt.date] | None:
    """Return where and when the last assessment was done, or None when the document states no full date."""
    path = LAST_DATE.get(doc.form.kind, ())
    value: object = doc.data if path else None
    for key in path:
        value = value.get(key) if isinstance(value, dict) else None
    # a date only: "", 未定 and a partial 和暦 text give no day to count from
    if not isinstance(value, dt.date) or isinstance(value, dt.datetime):
        return None
    return path, value


def reassessment_due(doc: Document, today: dt.date) -> Problem | None:
    """Return a warning when the last assessment is 5 years old or more on ``today``, else None."""
    found = last_assessed(doc)
    if found is None:
        return None
    path, day = found
    if day.year > dt.MAXYEAR - YEARS or today < years_after(day, YEARS):  # (9999-12-31 is never 5 years old)
        return None
    return Problem(doc.file, doc.line_of(path),
                   f"warning: {doc.form.label_path(path)} {day.isoformat()} is {YEARS} years old or more; "
                   f"規則第15条 asks for a re-assessment within {YEARS} years", doc.commit)
