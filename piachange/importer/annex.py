"""Tables outside the item rows: 記録項目 lists, (別紙n) tables and the 変更箇所 table."""

from __future__ import annotations

import re
from typing import Any

from piachange.importer.text import canonical, collapse, nfkc, squash, strip_html
from piachange.importer.values import parse_date

CHANGE_HEADER = ("変更日", "項目", "変更前の記載", "変更後の記載", "提出時期", "提出時期に係る説明")
_BESSHI = re.compile(r"^[(（]\s*別紙\s*(\d+)\s*[)）]\s*(.*)$")
_NUMBERED = re.compile(r"^(\d{1,3})\s*[.．]\s*")
_INLINE_SPLIT = re.compile(r"\s*[,、，]\s*(?=\d{1,3}\s*[.．])")


def is_change_header(cells: list[str]) -> bool:
    """Return whether a row is the header of a 変更箇所 table (repeated on every page)."""
    return tuple(re.sub(r"\s+", "", nfkc(c)) for c in cells if c) == CHANGE_HEADER


def besshi_heading(cell: str) -> tuple[str, str] | None:
    """Return (attachment key, title) for a 「(別紙1) …」 heading."""
    m = _BESSHI.match(squash(strip_html(cell)))
    return (f"besshi{m.group(1)}", m.group(2).strip()) if m else None


def records(lines: list[str]) -> list[dict[str, Any]]:
    """Return 記録項目 groups (heading, style, items); a line that is not an item starts a group as its heading."""
    groups: list[dict[str, Any]] = []
    current: dict[str, Any] | None = None
    for raw in lines:
        for cell in raw.split("\t"):
            for line in strip_html(cell).split("\n"):
                line = re.sub(r"^\s*-\s+", "", collapse(line))  # markdown list marks added by the extraction
                if not line:
                    continue
                items, style = _items(line)
                if not items:
                    current = {"heading": line, "style": "bullet", "items": []}
                    groups.append(current)
                    continue
                if current is None or (current["items"] and current["style"] != style):
                    current = {"heading": "", "style": style, "items": []}
                    groups.append(current)
                current["style"] = style
                current["items"].extend(items)
    return groups


def _items(line: str) -> tuple[list[str], str]:
    """Return the items a line prints (・item, 1. item, 1.a,2.b) and the list style."""
    if line.startswith("・"):
        return [line[1:].strip()], "bullet"
    if _NUMBERED.match(line):
        parts = _INLINE_SPLIT.split(line)
        return [_NUMBERED.sub("", p).strip() for p in parts if p.strip()], "numbered"
    return [], ""


def change_row(cells: list[str]) -> tuple[dict[str, Any], list[tuple[str, str]], str] | None:
    """Return a 変更箇所 row as printed (date parsed), review notes, and text not placed."""
    cells = [*cells, *[""] * (6 - len(cells))]
    date = parse_date(cells[0])
    if date.value == "" and not date.notes:
        return None
    if not date.value and date.leftover:
        return None
    notes = list(date.notes)
    timing = squash(strip_html(cells[4]))
    leftover = ""
    if timing not in ("事前", "事後", ""):
        notes.append(("bad-timing", f"提出時期 printed as 「{timing}」 (not 事前/事後); left blank"))
        leftover, timing = timing, ""
    extra = [squash(strip_html(c)) for c in cells[6:] if squash(strip_html(c))]
    if extra:
        notes.append(("extra-text", f"cells after 提出時期に係る説明 not placed: 「{' / '.join(extra)}」"))
        leftover = " ".join([leftover, *extra]).strip()
    row = {
        "date": date.value,
        "item": squash(strip_html(cells[1])),
        "before": canonical([cells[2]]),
        "after": canonical([cells[3]]),
        "timing": timing,
        "reason": canonical([cells[5]]),
    }
    return row, notes, leftover


def besshi_row(cells: list[str], width: int) -> list[str]:
    """Return one (別紙n) table row, one string per column."""
    row = [squash(strip_html(c)) for c in cells[:width]]
    return [*row, *[""] * (width - len(row))]
