"""Checks over the imported tree: contradictions, unticked groups, cut-off text, injected English."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from piachange.importer.match import norm
from piachange.importer.reader import Reader
from piachange.importer.text import english_words
from piachange.schema import Form, Node, load_form

# Hiragana a Japanese sentence may end with even when its 「。」 is missing.
_ENDINGS = set("るたいだすうかねよのとやもへでにがをは")


@dataclass(frozen=True)
class Coverage:
    """How much of what the source prints was placed (see docs/import.md for the denominator)."""

    covered: int  # leaves whose group the source prints, minus leaves it prints blank
    recovered: int  # of those, leaves holding a value read from the source
    printed_blank: int
    blank_cells: frozenset[tuple[str, ...]] = frozenset()  # leaves whose label is printed with an empty cell

    @property
    def share(self) -> float:
        return self.recovered / self.covered if self.covered else 1.0


def leaves(form: Form, data: dict, prefix: tuple[str, ...] = (), pattern: str = "") -> Iterator[tuple[Node, tuple[str, ...], Any]]:
    """Yield (node, concrete path, value) for every leaf of a completed tree."""
    for node in form.children.get(pattern, ()):
        if node.key == "*":
            for k, v in data.items():
                if k.isdigit() and isinstance(v, dict):
                    yield from leaves(form, v, (*prefix, k), node.path)
            continue
        if node.key not in data:
            continue
        v = data[node.key]
        if node.is_leaf:
            yield node, (*prefix, node.key), v
        elif isinstance(v, dict):
            yield from leaves(form, v, (*prefix, node.key), node.path)


def coverage(form: Form, data: dict, reader: Reader) -> Coverage:
    """Return recovered / covered leaves: a leaf counts when its group is printed and its cell is not blank."""
    covered = recovered = 0
    all_leaves = list(leaves(form, data))
    groups = _by_parent(all_leaves)
    cells = set()
    for node, path, value in all_leaves:
        if reader.printed.get(path) is False or (node.kind == "checks" and _empty_block(node, value, groups[path[:-1]])):
            cells.add(path)
        if node.kind in ("changes", "attachments") or path[:-1] not in reader.printed_groups or path in cells:
            continue
        covered += 1
        recovered += path in reader.recognised
    return Coverage(covered, recovered, len(cells), frozenset(cells))


def _by_parent(all_leaves: list[tuple[Node, tuple[str, ...], Any]]) -> dict[tuple[str, ...], list[tuple[Node, Any]]]:
    """Return the leaves grouped by the table they sit in."""
    out: dict[tuple[str, ...], list[tuple[Node, Any]]] = {}
    for node, path, value in all_leaves:
        out.setdefault(path[:-1], []).append((node, value))
    return out


def _empty_block(node: Node, value: Any, siblings: list[tuple[Node, Any]]) -> bool:
    """Return whether a checkbox group with no tick sits in a block that prints nothing else (an unused 提供先1)."""
    if not isinstance(value, dict) or any(v is True or (isinstance(v, (str, int)) and not isinstance(v, bool) and v != "") for v in value.values()):
        return False
    return all(_blank(v) or n.kind == "flag" for n, v in siblings if n is not node)


def _blank(v: Any) -> bool:
    """Return whether a value is empty."""
    return v in ("", [], {}) or v is None


def check(form: Form, data: dict, reader: Reader) -> None:
    """Add review entries for what the source contradicts or leaves doubtful."""
    _copies(data, reader)
    all_leaves = list(leaves(form, data))
    by_parent = _by_parent(all_leaves)
    for node, path, value in all_leaves:
        if node.kind == "checks" and isinstance(value, dict) and path in reader.recognised:
            _unticked(node, path, value, by_parent[path[:-1]], reader)
        elif node.kind in ("text", "period") and isinstance(value, str) and value:
            words = english_words(value)
            if words:
                reader.review(reader.where.get(path, 0), "english", form.label_path(path), f"English word(s) inside Japanese text: {', '.join(words)} — check against the original")
            _cut_off(form, path, value, reader)
            _label_as_value(form, path, value, reader)
    _contradictions(form, data, reader)


def _copies(data: dict, reader: Reader) -> None:
    """Compare the I 3. / III 1. printings of the file name with Ⅱ 1. (or use them when Ⅱ 1. is missing)."""
    name = data.get("files", {}).get("1", {}).get("name", "")
    for line, text in reader.copies:
        if not name and text:
            data.setdefault("files", {}).setdefault("1", {})["name"] = name = text
            reader.review(line, "guess", "Ⅱ 1. 特定個人情報ファイル名", f"taken from another printing of the file name: 「{text}」")
        elif text and text != name:
            reader.review(line, "inconsistent", "特定個人情報ファイル名", f"printed as 「{text}」 here but 「{name}」 in Ⅱ 1.")


def _unticked(node: Node, path: tuple[str, ...], value: dict, siblings: list[tuple[Node, Any]], reader: Reader) -> None:
    """Review a checkbox group with no tick in a block that says something."""
    if any(v is True for v in value.values()):
        return
    if _empty_block(node, value, siblings):
        return  # an unused block (e.g. an empty 提供先1): nothing to doubt
    details = [f"{o.label} ({value[o.key + '_detail']})" for o in node.options if o.detail and value.get(o.key + "_detail")]
    said = []
    for n, v in siblings:
        if isinstance(v, str) and v:
            said += [o.label for o in node.options if o.label.split("(")[0] in v and o.label not in said]
    msg = "no box is ticked"
    if said:
        msg += f"; the text beside it names {', '.join(said)}, so some are probably ticked in the original"
    elif details:
        msg += f"; ( ) details are filled: {', '.join(details)}"
    reader.review(reader.where.get(path, 0), "no-tick", reader.form.label_path(path), msg + " — kept as printed")


def _cut_off(form: Form, path: tuple[str, ...], value: str, reader: Reader) -> None:
    """Review a text that stops mid-word after full sentences."""
    lines = [x for x in value.split("\n") if x]
    if len(lines) < 3:
        return
    ended = sum(1 for x in lines[:-1] if x.endswith("。"))
    last = lines[-1][-1]
    if ended >= 2 and "\u3041" <= last <= "\u309f" and last not in _ENDINGS:
        reader.review(reader.where.get(path, 0), "cut-off", form.label_path(path), f"the text may be cut off: it ends 「…{lines[-1][-12:]}」")


def _label_as_value(form: Form, path: tuple[str, ...], value: str, reader: Reader) -> None:
    """Review a text that reads as an item's label: a label the PDF split over two lines
    (「④個人情報ファイル簿への不」 / 「記載等」) is not recognised, and its lines end up as the value
    of the item above it."""
    label = _labels(form.kind).get(norm(value))
    if label:
        reader.review(reader.where.get(path, 0), "label-as-value", form.label_path(path),
                      f"the value reads as the label 「{label}」: the layout may have put a label where a value belongs"
                      " — compare with the original")


@functools.lru_cache(maxsize=None)
def _labels(kind: str) -> dict[str, str]:
    """Return the form's item labels (with their numbers, and without) by their compared form; short
    ones (「その他」) are left out: a value may well say that."""
    out: dict[str, str] = {}
    for node in load_form(kind).by_path.values():
        heading = node.heading()
        for key in {norm(t) for t in (heading, node.label) if t}:
            if len(key) >= 6:
                out.setdefault(key, heading or node.label)
    return out


def _contradictions(form: Form, data: dict, reader: Reader) -> None:
    """Review items the source answers one way in one place and another way elsewhere."""
    linkage = data.get("basic", {}).get("linkage", {})
    if linkage.get("status") == "" and linkage.get("legal_basis"):
        item = form.label_path(("basic", "linkage", "status"))
        reader.reviews[:] = [r for r in reader.reviews if not (r.item == item and r.kind == "no-tick")]  # said again, with the reason
        reader.review(reader.where.get(("basic", "linkage", "status"), 0), "no-tick", form.label_path(("basic", "linkage", "status")), "no option is selected, but ②法令上の根拠 is filled (which implies 実施する) — kept blank as printed")
    for n, f in data.get("files", {}).items():
        risk = data.get("risks", {}).get(n, {})
        status = f.get("provision", {}).get("status", {})
        if status.get("none") is True and risk.get("provision", {}).get("not_applicable") is False and "provision" in risk:
            reader.review(reader.where.get(("risks", n, "provision", "not_applicable"), 0), "inconsistent", form.label_path(("risks", n, "provision", "not_applicable")), "「[ ] 提供・移転しない」 is not ticked although Ⅱ 5. says 行っていない — kept as printed")
        out = f.get("outsourcing", {})
        if out.get("status") == "委託しない" and risk.get("outsourcing", {}).get("not_applicable") is False:
            reader.review(reader.where.get(("risks", n, "outsourcing", "not_applicable"), 0), "inconsistent", form.label_path(("risks", n, "outsourcing", "not_applicable")), "「[ ] 委託しない」 is not ticked although Ⅱ 4. says 委託しない — kept as printed")
        items = out.get("items", {})
        if isinstance(out.get("count"), int) and isinstance(items, dict) and items and out["count"] != len(items):
            reader.review(reader.where.get(("files", n, "outsourcing", "count"), 0), "inconsistent", form.label_path(("files", n, "outsourcing", "count")), f"({out['count']}) 件 but {len(items)} 委託事項 are printed")
