"""和暦 (Japanese era) dates: rendering and parsing, with era-overflow detection."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass

# (name, first day). An era's year N is start.year + N - 1.
ERAS: tuple[tuple[str, dt.date], ...] = (
    ("令和", dt.date(2019, 5, 1)),
    ("平成", dt.date(1989, 1, 8)),
    ("昭和", dt.date(1926, 12, 25)),
    ("大正", dt.date(1912, 7, 30)),
    ("明治", dt.date(1868, 1, 25)),
)

_WAREKI = re.compile(r"^(令和|平成|昭和|大正|明治)(元|\d{1,2})年(?:(\d{1,2})月(?:(\d{1,2})日)?)?$")


class WarekiError(ValueError):
    """A 和暦 text that is not a real date; the message says why."""


def era_of(day: dt.date) -> tuple[str, int]:
    """Return (era name, era year) of a Gregorian date."""
    for name, start in ERAS:
        if day >= start:
            return name, day.year - start.year + 1
    raise WarekiError(f"{day.isoformat()} is before 明治")


def to_wareki(day: dt.date) -> str:
    """Render a date as the forms print it: 令和8年3月16日, year 1 as 元年."""
    name, year = era_of(day)
    y = "元" if year == 1 else str(year)
    return f"{name}{y}年{day.month}月{day.day}日"


@dataclass(frozen=True)
class ParsedWareki:
    """A parsed 和暦 text; ``date`` is None for a year-month only text."""

    date: dt.date | None
    year: int
    month: int | None
    overflow: str = ""  # explanation when the era year ran past the era's end


def parse_wareki(text: str) -> ParsedWareki:
    """Parse 令和6年4月1日 (full/half-width digits, 元年); raise WarekiError with the reason."""
    s = unicodedata.normalize("NFKC", text).strip().replace(" ", "")
    m = _WAREKI.match(s)
    if not m:
        raise WarekiError(f"'{text}' is not a 和暦 date (expected e.g. 令和6年4月1日)")
    era, y, mo, d = m.groups()
    year_in_era = 1 if y == "元" else int(y)
    if year_in_era == 0:
        raise WarekiError(f"'{text}': there is no year 0 of an era (the first year is 元年)")
    start = dict(ERAS)[era]
    year = start.year + year_in_era - 1
    month = int(mo) if mo else None
    day_n = int(d) if d else None
    date: dt.date | None = None
    if month is not None and day_n is not None:
        try:
            date = dt.date(year, month, day_n)
        except ValueError:
            raise WarekiError(f"'{text}': {year}-{month:02d}-{day_n:02d} does not exist") from None
        if date < start:
            raise WarekiError(f"'{text}' is before the first day of {era} ({to_wareki(start)})")
    elif month is not None and not 1 <= month <= 12:
        raise WarekiError(f"'{text}': month {month} does not exist")
    overflow = ""
    idx = [n for n, _ in ERAS].index(era)
    if idx > 0:
        next_name, next_start = ERAS[idx - 1]
        probe = date or dt.date(year, month or 12, 1)
        if probe >= next_start:
            overflow = (
                f"'{text}' lies after the end of {era} (it is {year}, "
                f"{to_wareki(date) if date else next_name + str(era_of(probe)[1]) + '年'})"
            )
    return ParsedWareki(date=date, year=year, month=month, overflow=overflow)


def parse_date(text: str) -> dt.date:
    """Parse an ISO date (2024-04-01) or a full 和暦 date into a date; raise WarekiError."""
    s = unicodedata.normalize("NFKC", text).strip()
    try:
        return dt.date.fromisoformat(s)
    except ValueError as e:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", s):
            raise WarekiError(f"'{text}' is not a date: {e}") from None
    parsed = parse_wareki(s)
    if parsed.date is None:
        raise WarekiError(f"'{text}' is not a full date")
    return parsed.date
