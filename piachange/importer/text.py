"""Cleaning extracted cells: HTML tags, entities, checkbox marks, one paragraph or bullet per line.

Rules follow forms.md §11: only real HTML tags are removed (block tags become line breaks),
entities are decoded afterwards, angle-bracket text such as ``<本市における措置>`` is content.
"""

from __future__ import annotations

import html
import re
import unicodedata

# Internal marks for form controls; none of these characters occurs in the publications.
TICK = "☑"  # a ticked box: <input checked>, [○], [O], [●]
BOX = "☐"  # an empty box: <input type="checkbox"/>, [ ]
RADIO = "◉"  # <input type="radio"/> without checked: seed 003 prints ticked boxes this way

_BLOCK = "p|div|ul|ol|li|br|table|tr|tbody|thead|h[1-6]|hr|dl|dt|dd|caption"
_INLINE = "b|small|span|strong|em|i|u|sup|sub|font|a|center|label|td|th|col|colgroup"
_TAG_BLOCK = re.compile(rf"</?(?:{_BLOCK})(?:\s[^<>]*)?/?>", re.I)
_TAG_CELL = re.compile(r"</?(?:td|th)(?:\s[^<>]*)?/?>", re.I)
_TAG_INLINE = re.compile(rf"</?(?:{_INLINE})(?:\s[^<>]*)?/?>", re.I)
_TAG_INPUT = re.compile(r"<input\b[^<>]*>", re.I)
_SPACES = re.compile(r"[ \t\u00a0]+")
_CHOICE_HEAD = re.compile(r"[<＜]\s*選択肢\s*[>＞]")
_MD_BULLET = re.compile(r"^\s*-\s+")
_ASCII_WORD = re.compile(r"(?<![A-Za-z0-9/._@-])[a-z]{3,}(?:\s+[a-z]{2,})*(?![A-Za-z0-9/._@-])")
_JP = re.compile(r"[\u3040-\u30ff\u3400-\u9fff]")
# Lower-case words that are ordinary in Japanese administrative text.
_ASCII_OK = {"web", "http", "https", "www", "html", "pdf", "csv", "com", "lgwan"}


def _input_mark(m: re.Match[str]) -> str:
    """Return the mark for an <input> tag: ticked, empty box, or radio."""
    tag = m.group(0).lower()
    if "checked" in tag:
        return TICK
    return RADIO if 'type="radio"' in tag or "type=radio" in tag else BOX


def strip_html(s: str) -> str:
    """Return cell text with form controls as marks, block tags as line breaks, entities decoded."""
    s = _TAG_INPUT.sub(_input_mark, s)
    s = _TAG_CELL.sub(" ", s)
    s = _TAG_BLOCK.sub("\n", s)
    s = _TAG_INLINE.sub("", s)
    return html.unescape(s)


def collapse(line: str) -> str:
    """Return a line with runs of ASCII spaces collapsed and the ends trimmed (U+3000 inside is kept)."""
    return _SPACES.sub(" ", line).strip(" \t\u3000")


def squash(s: str) -> str:
    """Return the cell as one line: line breaks and spaces collapsed to single spaces."""
    return collapse(" ".join(collapse(x) for x in s.split("\n") if collapse(x)))


def label_text(cell: str) -> str:
    """Return a label cell without markup: <b>, <p>, markdown #/**, trailing tabs."""
    s = squash(strip_html(cell))
    s = re.sub(r"^#+\s*", "", s)
    s = s.replace("**", "")
    return s.strip()


# ------------------------------------------------------------ canonical text values


def _ordinal_marks(text: str) -> list[tuple[int, int, int]]:
    """Return (position, ordinal, length) of list markers 1. 2. … and ① ② … preceded by a space."""
    out = []
    for m in re.finditer(r"(?<=\s)(\d{1,2})\.\s", text):
        out.append((m.start(), int(m.group(1)), 0))
    for m in re.finditer(r"(?<=\s)([①-⑳])", text):
        out.append((m.start(), ord(m.group(1)) - ord("①") + 1, 1))
    return out


def _split_lists(line: str) -> list[str]:
    """Split one printed line where the extraction joined list items with a space.

    A space before 「・」, before an angle heading 「<…>」, after 「。」, or before the next
    number of a 1. 2. / ① ② sequence was a line break in the publication (§9.3: one
    paragraph or bullet per line).
    """
    cuts: set[int] = set()
    for m in re.finditer(r"\s(?=・)", line):
        cuts.add(m.start())
    for m in re.finditer(r"\s(?=[<＜][^<>＜＞]{2,40}[>＞])", line):
        cuts.add(m.start())
    for m in re.finditer(r"[<＜][^<>＜＞]{2,40}[>＞](\s)", line):
        cuts.add(m.start(1))
    for m in re.finditer(r"(?<=。)\s+(?=\S)", line):
        cuts.add(m.start())
    marks = _ordinal_marks(line)
    for pos, n, style in marks:
        prev = [p for p, k, s in marks if s == style and k == n - 1 and p < pos]
        nxt = [p for p, k, s in marks if s == style and k == n + 1 and p > pos]
        earlier = n > 1 and (prev or _has_start(line, n - 1, style, pos))
        if earlier or (n == 1 and nxt):
            cuts.add(pos - 1)
    if not cuts:
        return [line]
    parts, last = [], 0
    for c in sorted(cuts):
        if c < last:
            continue
        parts.append(line[last:c])
        last = c + 1
    parts.append(line[last:])
    return [collapse(p) for p in parts if collapse(p)]


def _has_start(line: str, n: int, style: int, before: int) -> bool:
    """Return whether marker ``n`` starts the line (no space before it, so not in _ordinal_marks)."""
    head = line[:before]
    if style == 1:
        return head.startswith(chr(ord("①") + n - 1))
    return re.match(rf"{n}\.\s", head) is not None


def canonical(raw_lines: list[str]) -> str:
    """Return the canonical text of a value printed over one or more source lines.

    Tags become line breaks, entities are decoded, lines trimmed, joined list items split;
    blank lines inside HTML are dropped, a blank source line between paragraphs is kept once.
    """
    out: list[str] = []
    for raw in raw_lines:
        text = strip_html(raw.replace("\t", " "))
        lines = [collapse(x) for x in text.split("\n")]
        lines = [x for x in lines if x]
        if not lines:
            if out and out[-1] != "":
                out.append("")
            continue
        for line in lines:
            line = _MD_BULLET.sub("", line)  # markdown list marks added by the extraction
            out.extend(_split_lists(line))
    while out and out[-1] == "":
        out.pop()
    while out and out[0] == "":
        out.pop(0)
    return "\n".join(out)


def flex(label: str) -> str:
    """Return a regex for a printed option label: width-insensitive brackets, optional spaces."""
    out = []
    for ch in label:
        if ch in "(（":
            out.append(r"[(（]")
        elif ch in ")）":
            out.append(r"[)）]")
        elif ch in "、,":
            out.append(r"[、,]")
        elif ch.isspace():
            continue
        else:
            out.append(re.escape(ch))
    return r"\s*".join(out)


def drop_choice_lists(text: str, choices: tuple[str, ...]) -> str:
    """Return a cell without its printed <選択肢> list (the marker and 「n) option」 entries)."""
    s = _CHOICE_HEAD.sub(" ", text)
    for c in sorted(choices, key=len, reverse=True):
        s = re.sub(r"\d{1,2}\s*[)）]\s*" + flex(c), " ", s)
    return s


def is_choice_fragment(cell: str, all_choices: set[str]) -> bool:
    """Return whether a cell only repeats a <選択肢> table (marker or 「n) option」 entries)."""
    s = _CHOICE_HEAD.sub("", squash(strip_html(cell))).strip()
    if not s:
        return True
    known = {re.sub(r"\s+", "", nfkc(c)) for c in all_choices}
    for token in re.split(r"\s+(?=\d{1,2}\s*[)）])", s):
        m = re.match(r"^\d{1,2}\s*[)）]\s*(.+)$", token.strip())
        if not m or re.sub(r"\s+", "", nfkc(m.group(1))) not in known:
            return False
    return True


def english_words(text: str) -> list[str]:
    """Return lower-case English words that the extraction injected into Japanese text."""
    if not _JP.search(text):
        return []
    found = []
    for m in _ASCII_WORD.finditer(text):
        word = m.group(0)
        if word.lower() in _ASCII_OK:
            continue
        around = text[max(0, m.start() - 3): m.end() + 3]
        if _JP.search(around):
            found.append(word)
    return found


def nfkc(s: str) -> str:
    """Return the NFKC form (full-width digits and brackets to ASCII), circled numbers kept; for matching only."""
    parts = re.split(r"([①-⑳])", s)
    return "".join(p if len(p) == 1 and "①" <= p <= "⑳" else unicodedata.normalize("NFKC", p) for p in parts)
