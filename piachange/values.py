"""How values print in the forms and in the 変更箇所 table."""

from __future__ import annotations

import datetime as dt
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
