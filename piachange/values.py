"""How values print in the forms and in the 変更箇所 table."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from piachange.schema import Node
from piachange.wareki import to_wareki

TICK, NOTICK = "[○]", "[ ]"


@dataclass(frozen=True)
class Style:
    """Rendering settings; ``blank`` is what an empty value prints as (記載なし, -, —)."""

    blank: str = "記載なし"
    removed: str = "（削除）"


def option_text(node: Node, key: str, value: dict) -> str:
    """Return one checkbox as printed: ``[○] その他 (番号連携サーバ)`` / ``[○] 提供を行っている (29) 件``."""
    opt = next(o for o in node.options if o.key == key)
    text = f"{TICK if value.get(key) else NOTICK} {opt.label}"
    if opt.count:
        n = value.get(f"{key}_count", "")
        text += f" ({n}) 件" if n != "" else " ( ) 件"
    if opt.detail:
        d = value.get(f"{key}_detail", "")
        if d:
            text += f" ({d})"
    return text


def render(node: Node, value: Any, style: Style = Style(), keys: list[str] | None = None) -> str:
    """Return a value as the form prints it; ``keys`` limits a checkbox group to some options."""
    kind = node.kind
    if kind == "checks":
        opts = [o.key for o in node.options if keys is None or o.key in keys]
        return "\n".join(option_text(node, k, value) for k in opts)
    if kind == "flag":
        return f"{TICK if value else NOTICK} {node.label}"
    if value in ("", None) or value == [] or value == {}:
        return style.blank
    if kind == "choice":
        return f"[ {value} ]"
    if kind == "count":
        return f"({value}) 件"
    if kind == "date":
        return to_wareki(value) if isinstance(value, dt.date) else str(value)
    if kind == "list":
        return render_records(value)
    return str(value)


def render_records(groups: list[dict]) -> str:
    """Return a 記録項目 list as printed: headings, then ``・item`` or ``1. item`` lines."""
    lines: list[str] = []
    for g in groups:
        if g.get("heading"):
            lines.append(g["heading"])
        items = g.get("items", [])
        style = g.get("style", "bullet")
        if style == "numbered":
            lines += [f"{i}. {x}" for i, x in enumerate(items, 1)]
        elif style == "inline":
            lines.append("、".join(items))
        else:
            lines += [f"・{x}" for x in items]
    return "\n".join(lines)


# A line that is a heading of a long text: 「<本市における措置>」, 「＜中間サーバー・プラットフォームにおける措置＞」,
# 「（本市における措置）」, 「【物理的対策】」: the whole line in one pair of brackets.
_HEADING = re.compile(r"^(?:<[^<>]+>|＜[^＜＞]+＞|〈[^〈〉]+〉|【[^【】]+】|（[^（）]+）|\([^()]+\))$")


def blocks(text: str) -> list[tuple[str, str]]:
    """Return a text cut at its heading lines as (heading, block) pairs, in order; the text before
    the first heading, if any, has the heading ''."""
    out: list[tuple[str, list[str]]] = [("", [])]
    for line in text.split("\n"):
        if _HEADING.match(line.strip()) and len(line.strip()) <= 60:
            out.append((line.strip(), [line]))
        else:
            out[-1][1].append(line)
    return [(h, "\n".join(lines)) for h, lines in out if h or any(x.strip() for x in lines)]


def changed_blocks(before: str, after: str) -> tuple[tuple[str, ...], str, str] | None:
    """Return the headings of the blocks that differ and the text of those blocks before and after
    ('' where none was there), for texts cut by headings (see blocks); None where that shows
    nothing less than the whole texts (no headings, or every block changed)."""
    def keyed(text: str) -> dict[tuple[str, int], str]:  # a heading printed twice is told apart by its place
        seen: dict[str, int] = {}
        out = {}
        for heading, block in blocks(text):
            seen[heading] = seen.get(heading, 0) + 1
            out[(heading, seen[heading])] = block
        return out

    old, new = keyed(before), keyed(after)
    keys = list(dict.fromkeys([*old, *new]))
    changed = [k for k in keys if old.get(k) != new.get(k)]
    if not any(h for h, _ in keys) or len(changed) == len(keys):
        return None
    headings = tuple(dict.fromkeys(h for h, _ in changed if h))
    return (headings, "\n".join(old[k] for k in changed if k in old), "\n".join(new[k] for k in changed if k in new))
