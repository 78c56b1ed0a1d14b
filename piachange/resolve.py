"""Find an item by key path, full official label or the compact 「Ⅱ-3①入手元」 form."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from typing import Any, Callable, Iterator, Mapping

from piachange.errors import PiaError
from piachange.schema import Form, Node, instance_names, named_instance

_ROMAN = {"Ⅰ": "I", "Ⅱ": "II", "Ⅲ": "III", "Ⅳ": "IV", "Ⅴ": "V", "Ⅵ": "VI", "Ⅶ": "VII", "Ⅷ": "VIII", "Ⅸ": "IX", "Ⅹ": "X"}
_DASHES = {"‐", "−", "–", "—", "ー"}
_NUMBERED = re.compile(r"^([\u2460-\u2473]|\d+\.)")  # ①…⑳, 8.


def norm_label(s: str) -> str:
    """Fold width and Roman-numeral variants and drop spaces, for matching labels only."""
    out = []
    for ch in s:
        if ch in _ROMAN:
            out.append(_ROMAN[ch])
        elif 0xFF01 <= ord(ch) <= 0xFF5E:
            out.append(chr(ord(ch) - 0xFEE0))
        elif ch in _DASHES:
            out.append("-")
        elif not ch.isspace():
            out.append(ch)
    return "".join(out)


@dataclass(frozen=True)
class Item:
    """A concrete item of one document."""

    path: tuple[str, ...]
    node: Node
    label: str
    compact: str
    former: str = ""  # an item printed under another: its compact name without that one's number (「Ⅱ-3変更の妥当性」)


def items(form: Form, data: dict, names: Mapping[tuple[str, ...], str] | None = None) -> Iterator[Item]:
    """Yield every group and leaf present in ``data``, in form order, labelled as the 変更箇所 table
    labels them (Form.label_path: an annex by its own heading; each file named where there are several).
    ``names``: the files' names by instance path, where ``data`` does not hold them (schema.instance_names)."""
    yield from _walk(form, "", data, (), [], instance_names(form, data) if names is None else names)


def _walk(form: Form, pattern: str, table: dict, path: tuple[str, ...], nums: list[str],
          names: Mapping[tuple[str, ...], str]) -> Iterator[Item]:
    for node in form.children.get(pattern, ()):
        if node.key == "*":
            for k in sorted((k for k in table if k.isdigit()), key=int):
                head = node.heading(k)
                p = (*path, k)
                n = [*nums, head] if head else nums
                yield Item(p, node, form.label_path(p, names=names), _compact(n))
                if isinstance(table[k], dict):
                    yield from _walk(form, node.path, table[k], p, n, names)
            continue
        if node.key not in table and not node.copy_of:  # a copy is printed wherever its parent is (Form.printed)
            continue
        p = (*path, node.key)
        n = [*nums, node.number] if node.number else nums
        under = _NUMBERED.match(node.prefix) if not node.number else None  # 「⑥使用目的」 printed before 変更の妥当性
        label_n = [*n, *([under.group(1)] if under else []), *([node.label] if node.label else [])]
        former = _compact([*n, *([node.label] if node.label else [])]) if under else ""  # trailers and overrides written before
        yield Item(p, node, form.label_path(p, names=names), _compact(label_n), former)
        if node.kind in ("group", "repeat") and isinstance(table.get(node.key), dict):
            yield from _walk(form, node.path, table[node.key], p, n, names)


def _compact(parts: list[str]) -> str:
    if not parts:
        return ""
    head, rest = parts[0], [x.rstrip(".") for x in parts[1:]]
    return head + ("-" + "".join(rest) if rest else "")


def resolve(form: Form, data: dict, query: str) -> Item:
    """Return the one item ``query`` names; raise PiaError with suggestions otherwise."""
    return _one(form, data, query, matches(form, data, query))


def resolve_printed(form: Form, data: dict, query: str, names: Mapping[tuple[str, ...], str] | None = None,
                    prefer: Callable[[tuple[str, ...]], bool] | None = None) -> Item:
    """Return the one item ``query`` names: a stored item, else a place that prints one again
    (Ⅲ-1, the file's name under Ⅲ; Form.printed), so that any row of the table can be named.
    A name that a stored item has keeps naming it alone (「特定個人情報ファイル名」 is Ⅱ 1.).

    ``names``: as for ``items``. ``prefer``: where the query names one item in several files, the
    files' items it keeps by path, if any (the items a commit changed: 「Ⅱ-2⑤」 of the one file of
    two whose ⑤ changed); several different items stay ambiguous."""
    used, found = form, matches(form, data, query, names)
    if not found and form.copies:
        printed = matches(form.printed, data, query, names)
        if printed:  # one place, or several with their candidates listed
            used, found = form.printed, printed
    if prefer is not None and len(found) > 1 and len({file_free(used, it.path) for it in found}) == 1:
        found = [it for it in found if prefer(it.path)] or found  # one item of several files, not several items
    return _one(used, data, query, found, names)


def file_free(form: Form, path: tuple[str, ...]) -> tuple[str, ...]:
    """Return the path with the instance of the repeat that names its instances (a 特定個人情報ファイル) left out:
    the same item of two files gives the same answer, two different items do not."""
    inst = named_instance(form, path)
    return path if inst is None else (*inst[:-1], "*", *path[len(inst):])


def _one(form: Form, data: dict, query: str, exact: list[Item], names: Mapping[tuple[str, ...], str] | None = None) -> Item:
    """Return the one item of ``exact`` (what ``query`` names); raise PiaError for none or several."""
    if len(exact) == 1:
        return exact[0]
    if len(exact) > 1:
        labels = [it.label for it in exact]  # the same label in two files: the key path tells them apart
        listed = "; ".join(f"「{it.label}」" + (f" ({'.'.join(it.path)})" if labels.count(it.label) > 1 else "") for it in exact[:5])
        raise PiaError(f"'{query}' names {len(exact)} items: {listed}{' …' if len(exact) > 5 else ''}")
    raise PiaError(f"no item '{query}' in this {form.name}{suggestion(list(items(form, data, names)), query)}")


def matches(form: Form, data: dict, query: str, names: Mapping[tuple[str, ...], str] | None = None) -> list[Item]:
    """Return the items ``query`` names in ``data``: one, several (it is ambiguous) or none."""
    q = query.strip()
    everything = list(items(form, data, names))
    for it in everything:
        if ".".join(it.path) == q:
            return [it]
    nq = norm_label(q)
    exact = [it for it in everything if nq in (norm_label(it.label), norm_label(it.compact))
             or (it.former and nq == norm_label(it.former))]
    if not exact:  # a number alone names a numbered item (⑥使用目的 変更の妥当性 has none: 「Ⅱ-3」 is 3. alone)
        exact = [it for it in everything if (it.node.number or it.node.key == "*") and _compact_number(it) == nq]
    if not exact:  # else a heading printed over its one item (Ⅲ 8. 監査 of 重点, whose item 実施の有無 has no number)
        exact = [it for it in everything if _NUMBERED.match(it.node.prefix) and _compact_number(it) == nq]
    if not exact:
        exact = [it for it in everything if _ends_with(norm_label(it.label), nq) or _ends_with(norm_label(it.compact), nq)
                 or (it.former and _ends_with(norm_label(it.former), nq))]
    return _deepest_unique(form, everything, exact)


def suggestion(everything: list[Item], query: str) -> str:
    """Return ' (did you mean 「label」?)' for the item whose label is closest to ``query``, or ''."""
    close = difflib.get_close_matches(norm_label(query.strip()), [norm_label(it.label) for it in everything], n=1, cutoff=0.5)
    if not close:
        return ""
    return next(f" (did you mean 「{it.label}」?)" for it in everything if norm_label(it.label) == close[0])


def _compact_number(it: Item) -> str:
    """Return the compact form without the trailing label (「Ⅱ-3①」, 「Ⅰ」 of 「Ⅰ-基本情報」)."""
    label = it.node.label
    return norm_label(it.compact[: -len(label)] if label and it.compact.endswith(label) else it.compact).rstrip("-")


def _ends_with(text: str, query: str) -> bool:
    """Return whether a normalised label ends with the query, a Roman numeral whole (「I」 does not end 「II」)."""
    if not text.endswith(query):
        return False
    before = text[-len(query) - 1 : -len(query)]
    return not (before and before in "IVX" and query[:1] in "IVX")


def _deepest_unique(form: Form, everything: list[Item], found: list[Item]) -> list[Item]:
    """Return the items ``found`` names, where a group and what is under it share a label: an item
    printed under its section's own heading (Ⅱ 4.'s 委託事項, Ⅱ 5.'s 提供先 and 移転先, the unnumbered
    リスク1 and リスク2 of a 基礎's Ⅳ 3.) stands for that section when the section holds more than it (委託の有無,
    提供・移転の有無); where it is the group's only child (Ⅲ 10. その他のリスク対策 over its text), the child."""
    by_path = {it.path: it for it in everything}
    lifted: dict[tuple[str, ...], Item] = {}
    for it in found:
        up = it
        while True:
            parent = next((by_path[up.path[:k]] for k in range(len(up.path) - 1, 0, -1) if up.path[:k] in by_path), None)
            if (parent is None or norm_label(parent.label) != norm_label(up.label)
                    or len(form.children.get(parent.node.path, ())) < 2):
                break
            up = parent
        lifted.setdefault(up.path, up)
    paths = set(lifted)
    return [it for it in lifted.values() if not any(p != it.path and p[: len(it.path)] == it.path for p in paths)]


def value_at(data: dict, path: tuple[str, ...]) -> Any:
    """Return the value at a concrete path."""
    v: Any = data
    for p in path:
        v = v[p]
    return v
