"""Value parsing by kind: choices, checkbox groups, flags, counts, dates, text.

Values are kept as printed; every guess comes back as a note for the review list.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from dataclasses import dataclass, field
from typing import Any

from piachange.importer.text import BOX, RADIO, TICK, canonical, drop_choice_lists, flex, nfkc, squash, strip_html
from piachange.schema import Node, Option
from piachange.wareki import WarekiError, parse_wareki, to_wareki

NONE_MARKS = ("-", "—", "ー", "―", "－", "‐", "─")
# Group headings printed inside 主な記録項目 (forms.md §5); they are not options.
_GROUP_HEADINGS = ("識別情報", "連絡先等情報", "業務関係情報")
_TICK_BRACKET = re.compile(r"\[\s*(?:" + TICK + r"|○|〇|◯|O|●)\s*\]")
_BOX_BRACKET = re.compile(r"\[\s*" + BOX + r"?\s*\]")
_RADIO_BRACKET = re.compile(r"\[\s*" + RADIO + r"\s*\]")
_COUNT = re.compile(r"[(（]\s*(\d+)\s*[)）]\s*件")
_COUNT_BROKEN = re.compile(r"(?<![\d(（])(\d+)\s*[)）]\s*件")


@dataclass
class Parsed:
    """A parsed value with its review notes and any printed text it could not place."""

    value: Any
    notes: list[tuple[str, str]] = field(default_factory=list)  # (kind, message)
    leftover: str = ""
    recognised: bool = True  # something of the printed value was understood


def marks(text: str) -> str:
    """Return one line with every printed box as a single mark character."""
    s = squash(strip_html(text))
    s = _TICK_BRACKET.sub(TICK, s)
    s = _RADIO_BRACKET.sub(RADIO, s)
    s = _BOX_BRACKET.sub(BOX, s)
    return s


def _noise(s: str) -> str:
    """Return what is left of a cell once marks, brackets and punctuation are gone."""
    return re.sub(r"[\s\[\]()（）" + TICK + BOX + RADIO + r"・,、:：]+", "", s)


# ------------------------------------------------------------------ choice


def parse_choice(node: Node, raw: str) -> Parsed:
    """Return the selected option: the text in [ ], else an option standing next to the brackets."""
    s = drop_choice_lists(marks(raw), node.choices)
    m = re.search(r"\[([^\[\]]*)\]", s)
    if m and _noise(m.group(1)):
        inside = re.sub("[" + TICK + BOX + RADIO + r"]", "", m.group(1)).strip()
        value, note = _as_choice(node, inside)
        rest = s[: m.start()] + s[m.end():]
        for c in node.choices:  # the other options, printed with empty boxes
            rest = re.sub(BOX + r"\s*" + flex(c), " ", rest)
        p = Parsed(value, [note] if note else [])
        if not value:
            p.leftover = inside
        _extra(p, rest)
        return p
    found = _choices_in(node, s)
    if not found:
        p = Parsed("", recognised=bool(m))
        _extra(p, s)
        return p
    ticked = [c for c, mark in found if mark == TICK]
    if len(ticked) == 1:
        return _rest(Parsed(ticked[0]), s, [ticked[0]])
    if len(found) == 1:
        c = found[0][0]
        p = Parsed(c, [("outside-brackets", f"choice 「{c}」 is printed outside its brackets; taken as the selection")])
        return _rest(p, s, [c])
    names = " / ".join(c for c, _ in found)
    p = Parsed("", [("no-tick", f"no option is ticked ({names} printed with empty boxes); left blank")])
    return _rest(p, s, [c for c, _ in found])


def _as_choice(node: Node, text: str) -> tuple[str, tuple[str, str] | None]:
    """Return the form's option for bracketed text (width-insensitive), with a note if it differs."""
    if text in node.choices:
        return text, None
    key = re.sub(r"\s+", "", nfkc(text))
    for c in node.choices:
        if re.sub(r"\s+", "", nfkc(c)) == key:
            return c, ("choice-variant", f"choice printed as 「{text}」; stored as the form's 「{c}」")
    return "", ("bad-choice", f"「{text}」 is not one of the choices ({' / '.join(node.choices)}); left blank")


def _choices_in(node: Node, s: str) -> list[tuple[str, str]]:
    """Return (choice, mark before it) for each option text that stands in the cell."""
    out, taken = [], s
    for c in sorted(node.choices, key=len, reverse=True):
        m = re.search(r"([" + TICK + BOX + RADIO + r"]?)\s*" + flex(c), taken)
        if m:
            out.append((m.start(), c, m.group(1)))
            taken = taken[: m.start()] + " " * (m.end() - m.start()) + taken[m.end():]
    return [(c, mark) for _, c, mark in sorted(out)]


def _rest(p: Parsed, s: str, used: list[str]) -> Parsed:
    """Return the parse with what the cell prints besides the used options as leftover."""
    for c in sorted(used, key=len, reverse=True):
        s = re.sub(flex(c), " ", s, count=1)
    _extra(p, s)
    return p


def _extra(p: Parsed, rest: str) -> None:
    """Note text beside a value that has no place."""
    if _noise(rest):
        text = squash(re.sub("[" + TICK + BOX + RADIO + "]", " ", rest)).strip("[] ")
        p.notes.append(("extra-text", f"text beside the choice not placed: 「{text}」"))
        p.leftover = (p.leftover + " " + text).strip()


def take_count(raw: str) -> tuple[int | str, str, tuple[str, str] | None]:
    """Return the ( n ) 件 count printed in a cell, the cell without it, and a note if garbled."""
    m = _COUNT.search(raw)
    if m:
        return int(m.group(1)), raw[: m.start()] + raw[m.end():], None
    m = _COUNT_BROKEN.search(raw)
    if m:
        note = ("garbled-count", f"count printed as 「{m.group(0)}」 (opening bracket lost); read as {m.group(1)}")
        return int(m.group(1)), raw[: m.start()] + raw[m.end():], note
    m = re.search(r"[(（]\s*[)）]\s*件", raw)
    if m:
        return "", raw[: m.start()] + raw[m.end():], None
    return "", raw, None


def take_labelled(raw: str, label: str) -> tuple[str, str]:
    """Return the text of 「(label: text)」 printed inside another item's cell, and the cell without it."""
    s = squash(strip_html(raw))
    m = re.search(r"[(（]\s*" + flex(label) + r"\s*[:：]\s*", s)
    if not m:
        return "", raw
    end = _close(s, m.end() - 1, opener_at=m.start())
    return s[m.end():end].strip(), s[: m.start()] + s[end + 1:]


def _close(s: str, start: int, opener_at: int) -> int:
    """Return the index of the bracket closing the one at ``opener_at`` (or the end)."""
    depth = 0
    for i in range(opener_at, len(s)):
        if s[i] in "(（":
            depth += 1
        elif s[i] in ")）":
            depth -= 1
            if depth == 0:
                return i
    return len(s)


# ------------------------------------------------------------------ checkbox groups


def parse_checks(options: tuple[Option, ...], raw: str) -> Parsed:
    """Return {key: bool, key_detail: str, key_count: int|""} for the options printed in a cell."""
    s = marks(raw)
    value: dict[str, Any] = {}
    p = Parsed(value)
    parts = re.split("([" + TICK + BOX + RADIO + "])", s)
    leftovers: list[str] = []
    unticked: list[str] = []  # options with a ( ) detail or ( ) 件 count but no tick
    if _noise(parts[0]):
        leftovers.append(parts[0])
    found = 0
    for mark, text in zip(parts[1::2], parts[2::2]):
        opt, rest, note = _option_at(options, text, value)
        if opt is None:
            if _noise(text):
                leftovers.append(text)
            continue
        if opt.key in value:  # the extraction printed the group twice (table and cells)
            if value[opt.key] != (mark != BOX):
                p.notes.append(("inconsistent", f"「{opt.label}」 is printed twice, once ticked and once not; the first is kept"))
            rest = _detail(take_count(rest)[1] if opt.count else rest)[1] if opt.detail else rest
            if _noise(_strip_headings(rest)):
                leftovers.append(rest)
            continue
        found += 1
        value[opt.key] = mark != BOX
        if mark == RADIO:
            p.notes.append(("radio-tick", f"「{opt.label}」 is printed as a radio button among checkboxes; read as ticked"))
        if note:
            p.notes.append(note)
        if opt.count:
            n, rest, cnote = take_count(rest)
            value[f"{opt.key}_count"] = n
            if cnote:
                p.notes.append(cnote)
            if n != "" and mark == BOX:
                unticked.append(f"{opt.label} ({n}) 件")
        if opt.detail:
            detail, rest = _detail(rest)
            value[f"{opt.key}_detail"] = detail
            if detail and mark == BOX:
                unticked.append(f"{opt.label} ({detail})")
        if _noise(_strip_headings(rest)):
            leftovers.append(rest)
    if unticked and any(v is True for v in value.values()):  # with no tick at all the group-level review says it
        p.notes.append(("unticked-detail", f"( ) filled but box not ticked: {', '.join(unticked)}; kept unticked"))
    if not found:
        for opt in options:  # PDF text may print a label without its box
            if re.search(flex(opt.label), s):
                found += 1
        p.recognised = False
    text = squash(" ".join(_strip_headings(x) for x in leftovers))
    if _noise(text):
        p.notes.append(("extra-text", f"text between the boxes not placed: 「{text}」"))
        p.leftover = text
    return p


def _strip_headings(s: str) -> str:
    """Return text without the 主な記録項目 group headings."""
    for h in _GROUP_HEADINGS:
        s = re.sub(r"・?\s*" + h + r"(?![\w])", " ", s)
    return s


def _option_at(options: tuple[Option, ...], text: str, taken: dict[str, Any]) -> tuple[Option | None, str, tuple[str, str] | None]:
    """Return the option whose label starts ``text`` and the rest of the text."""
    t = text.lstrip()
    for opt in sorted(options, key=lambda o: -len(o.label)):
        m = re.match(flex(opt.label), t)
        if m:
            return opt, t[m.end():], None
    head = re.split(r"\s", t.strip(), maxsplit=1)[0] if t.strip() else ""
    if len(head) >= 4:
        free = [o for o in options if o.key not in taken]
        best = max(free, key=lambda o: difflib.SequenceMatcher(None, nfkc(head), nfkc(o.label)).ratio(), default=None)
        if best is not None and difflib.SequenceMatcher(None, nfkc(head), nfkc(best.label)).ratio() >= 0.7:
            note = ("label-variant", f"option printed as 「{head}」; the form reads 「{best.label}」")
            return best, t[len(head):], note
    return None, text, None


def _detail(rest: str) -> tuple[str, str]:
    """Return the ( … ) detail at the start of ``rest`` (nested brackets kept) and what follows."""
    s = rest.lstrip()
    if not s or s[0] not in "(（":
        return "", rest
    end = _close(s, 0, 0)
    return s[1:end].strip(), s[end + 1:]


def parse_flags(flags: list[Node], raw: str) -> tuple[dict[str, bool], Parsed]:
    """Return the heading-line flags (「[ ] 委託しない」) printed in a cell."""
    opts = tuple(Option(n.key, n.label) for n in flags)
    p = parse_checks(opts, raw)
    return {k: v for k, v in p.value.items() if isinstance(v, bool)}, p


# ------------------------------------------------------------------ dates, text


def parse_date(raw: str) -> Parsed:
    """Return a TOML date for a full 和暦 date, the text for a partial one or 未定, "" for none."""
    s = squash(strip_html(raw))
    if not s:
        return Parsed("")
    if s in NONE_MARKS:
        return Parsed("", [("none-mark", f"date printed as 「{s}」 (none); stored blank")])
    if s == "未定":
        return Parsed("未定")
    try:
        parsed = parse_wareki(s)
    except WarekiError:
        try:
            return Parsed(dt.date.fromisoformat(nfkc(s)))
        except ValueError:
            return Parsed("", [("bad-date", f"「{s}」 is not a date; left blank")], leftover=s, recognised=False)
    if parsed.date is None:
        if parsed.overflow:
            return Parsed("", [("era-overflow", f"{parsed.overflow}; partial date left blank")], leftover=s)
        return Parsed(s)
    notes = []
    if parsed.overflow:
        notes.append(("era-overflow", f"era overflow corrected: 「{s}」 is {to_wareki(parsed.date)} ({parsed.date.isoformat()})"))
    return Parsed(parsed.date, notes)


def parse_text(lines: list[str]) -> Parsed:
    """Return canonical text (forms.md §9.3) of a value printed over ``lines``."""
    return Parsed(canonical(lines))
