"""Semantic diff of two versions of one assessment.

Documents are compared as completed data trees, never as text, so reformatting (``fmt``),
comments and key order can never produce a change. The form decides the granularity:

- one change per changed leaf item; a checkbox group, a 記録項目 list and one 別紙 table each
  count as one item (a checkbox group prints only the options that changed);
- a repeated-group instance (システム2, 委託事項3, 提供先1 …) that appears or disappears is
  one change (instance_added / instance_removed); instances keep their identity by number,
  so deleting システム2 of 4 changes システム2 only;
- ``meta`` and the 変更箇所 annex itself (``changes``) are never compared;
- order is significant in every list: 記録項目 items and 別紙 rows are printed in order, so
  moving an item is a change; tables have no order (TOML key order never matters).

Both trees are first pruned of every table entry ``==`` finds unchanged (versions read from
history share their unchanged subtrees, so that is one identity check each); every path left
where the trees differ is then cut at its item. That is what the differ did with deepdiff
(``ignore_order=False``) on the same pruned trees: deepdiff named a list element where this
names the list, but a list only ever sits at or below a leaf item, where both are cut alike;
the difference was the cost of deepdiff's own bookkeeping, most of a report's time.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Iterator

from piachange import model
from piachange.document import Document
from piachange.schema import Form, Node, concrete_paths, instance_names, lookup, pattern_of, with_instances
from piachange.threshold import PATHS as THRESHOLD_INPUTS
from piachange.values import Style, render

SKIP = frozenset({"meta", "changes"})
CREATED = "（新規作成）"
LEAF, INSTANCE, CONTAINER = "leaf", "instance", "container"


def identity(doc: Document) -> str:
    """Return an assessment's identity across renames (see name_of)."""
    return name_of(doc.number, doc.file, doc.organization)


def name_of(number: str, file: str, organization: str = "") -> str:
    """Return the identity of the assessment with this 評価書番号 and 評価実施機関名 (either may be '')
    in this file: 「みなと台市長 3」, else 「3」, else the file's path.

    A 評価書番号 is unique within its 評価実施機関 only: a repository kept for several
    municipalities has a 3 for each of them. Without a 評価書番号 the file is all there is."""
    if not number:
        return file
    return f"{organization} {number}" if organization else number


def is_blank(value: Any) -> bool:
    """Return whether a value prints as 記載なし."""
    return value is None or value == "" or value == [] or value == {}


@dataclass(frozen=True)
class _Ctx:
    form: Form
    assessment: str
    number: str
    file: str
    old_file: str
    style: Style


def diff_documents(old: Document | None, new: Document | None, style: Style = Style()) -> list[model.Change]:
    """Return the changes from ``old`` to ``new`` in form order (None: the file did not exist)."""
    if old is None and new is None:
        return []
    if old is None or new is None:
        return [_file_change(old, new, style)]
    if old.form.kind != new.form.kind:
        # a different form kind is a different assessment: the old one ends, a new one starts
        return [_file_change(old, None, style), _file_change(None, new, style)]
    ctx = _Ctx(new.form, identity(new), new.number, new.file, old.file if old.file != new.file else "", style)
    changes = [_change(ctx, path, what, old.data, new.data) for path, what in changed_items(new.form, old.data, new.data)]
    found = [c for c in changes if c is not None]
    found = _named(ctx, _with_copies(ctx, found, old.data, new.data), old.data, new.data)
    return _with_context(found, old.data, new.data)


def _named(ctx: _Ctx, changes: list[model.Change], old: dict, new: dict) -> list[model.Change]:
    """Return the changes, each inside an instance of a document with several (特定個人情報ファイル)
    labelled with the instance's name: 「Ⅱ 特定個人情報ファイルの概要 (予防接種ファイル) 2. …」."""
    names = instance_names(ctx.form, old, new)
    if not names:
        return changes
    out = []
    for c in changes:
        named = next((n for p, n in names.items() if c.path[: len(p)] == p), "")
        out.append(dataclasses.replace(c, item=ctx.form.label_path(c.path, names=names), named=named) if named else c)
    return out


def _with_copies(ctx: _Ctx, changes: list[model.Change], old: dict, new: dict) -> list[model.Change]:
    """Return the changes and one for every place that prints a changed item again, in form order:
    Ⅲ 1. 特定個人情報ファイル名 prints its file's Ⅱ 1. (and Ⅲ carries ※), Ⅰ 3. the names of all files."""
    added: list[model.Change] = []
    for copy in ctx.form.copies:
        if "*" in copy.path:  # one place per instance: a copy of each change of the item
            added += [_copied(ctx, copy, ch) for ch in changes if ch.pattern == copy.copy_of]
        else:  # one place for every instance: compared as a whole
            added += _gathered(ctx, copy, old, new)
    if not added:
        return changes
    return sorted([*changes, *added], key=lambda c: order_key(ctx.form, c.path))


def _copied(ctx: _Ctx, copy: Node, change: model.Change) -> model.Change:
    path = with_instances(copy.path, change.pattern.split("."), change.path)
    return dataclasses.replace(change, path=path, pattern=copy.path, item=ctx.form.label_path(path),
                               star=ctx.form.star_of(copy.path), copy_of=(change.path,))


def _gathered(ctx: _Ctx, copy: Node, old: dict, new: dict) -> list[model.Change]:
    source = ctx.form.by_path[copy.copy_of]
    before = {p: lookup(old, p) for p in concrete_paths(copy.copy_of.split("."), old)}
    after = {p: lookup(new, p) for p in concrete_paths(copy.copy_of.split("."), new)}
    if list(before.values()) == list(after.values()):
        return []
    btext, atext = ("\n".join(_text(source, v, ctx.style) for v in side.values() if not is_blank(v)) for side in (before, after))
    if btext == atext:  # a blank name came or went: the place prints the same names
        return []
    if not btext:
        kind, btext = model.ADDED, ctx.style.blank
    elif not atext:
        kind, atext = model.REMOVED, ctx.style.removed
    else:
        kind = model.MODIFIED
    changed = tuple(p for p in sorted({*before, *after}, key=lambda p: order_key(ctx.form, p)) if before.get(p) != after.get(p))
    made = _make(ctx, copy.parts, copy.path, ctx.form.label_path(copy.parts), kind,
                 list(before.values()), list(after.values()), btext, atext)
    return [dataclasses.replace(made, copy_of=changed)]


def _with_context(changes: list[model.Change], old: dict, new: dict) -> list[model.Change]:
    """Return the changes, those of a しきい値判断 input carrying every input's values in both
    versions: judging a change of 対象人数 needs the 取扱者数 and 重大事故 the assessment states."""
    if not any(c.form == "kiso" and ".".join(c.path) in THRESHOLD_INPUTS for c in changes):
        return changes
    context = tuple((p, lookup(old, tuple(p.split("."))), lookup(new, tuple(p.split(".")))) for p in THRESHOLD_INPUTS)
    return [dataclasses.replace(c, context=context) if ".".join(c.path) in THRESHOLD_INPUTS else c for c in changes]


def changed_items(form: Form, old: dict, new: dict) -> list[tuple[tuple[str, ...], str]]:
    """Return the (item path, leaf|instance|container) of every changed item, in form order."""
    found: dict[tuple[str, ...], str] = {}
    a, b = prune({k: v for k, v in old.items() if k not in SKIP}, {k: v for k, v in new.items() if k not in SKIP})
    for path in _differences(a, b, ()):
        item, what = _item_of(form, path)
        if what == CONTAINER:
            for sub, w in _walk(form, lookup(old, item), lookup(new, item), item):
                found.setdefault(sub, w)
        else:
            found.setdefault(item, what)
    return sorted(found.items(), key=lambda kv: order_key(form, kv[0]))


def _differences(a: Any, b: Any, path: tuple[str, ...]) -> Iterator[tuple[str, ...]]:
    """Yield where two pruned trees differ: a key on one side only, or a value (not two tables) that changed."""
    if not isinstance(a, dict) or not isinstance(b, dict):
        yield path
        return
    for k in b:
        if k in a:
            yield from _differences(a[k], b[k], (*path, str(k)))
        else:
            yield (*path, str(k))
    for k in a:
        if k not in b:
            yield (*path, str(k))


def prune(a: Any, b: Any) -> tuple[Any, Any]:
    """Return both trees without the table entries they share: only what differs is walked.

    Keys keep their place in the path, so the paths found stay valid in the full trees; lists
    are kept whole (their positions are their meaning).
    """
    if not isinstance(a, dict) or not isinstance(b, dict):
        return a, b
    pa: dict[str, Any] = {}
    pb: dict[str, Any] = {}
    for k in b:
        if k not in a:
            pb[k] = b[k]
        elif a[k] != b[k]:
            pa[k], pb[k] = prune(a[k], b[k])
    for k in a:
        if k not in b:
            pa[k] = a[k]
    return pa, pb


def _item_of(form: Form, path: tuple[str, ...]) -> tuple[tuple[str, ...], str]:
    """Cut a changed path at its item: the first leaf node, or an instance added/removed as a whole."""
    pat: list[str] = []
    for i, seg in enumerate(path):
        star, exact = ".".join([*pat, "*"]), ".".join([*pat, seg])
        if seg.isdigit() and exact not in form.by_path and star in form.by_path:
            pat.append("*")
            if i == len(path) - 1:
                return path, INSTANCE
            continue
        pat.append(seg)
        node = form.by_path.get(exact)
        if node is None:
            return path[: i + 1], LEAF
        if node.kind == "attachments":
            return path[: i + 2], LEAF  # one 別紙 table is one item
        if node.is_leaf:
            return path[: i + 1], LEAF
    return path, CONTAINER


def _walk(form: Form, old: Any, new: Any, path: tuple[str, ...]) -> Iterator[tuple[tuple[str, ...], str]]:
    """Yield the changed items below a container that appeared, disappeared or changed type as a whole."""
    if old == new:
        return
    if not isinstance(old, dict) or not isinstance(new, dict):
        if pattern_of(form, path) in form.by_path and path[-1].isdigit():
            yield path, INSTANCE
        else:
            yield path, LEAF
        return
    for key in [*new, *(k for k in old if k not in new)]:
        if not path and key in SKIP:
            continue
        sub, what = _item_of(form, (*path, key))
        if what == LEAF and sub == (*path, key):
            if old.get(key) != new.get(key):
                yield sub, LEAF
        elif what == INSTANCE and (key not in old or key not in new):
            yield sub, INSTANCE
        else:
            yield from _walk(form, old.get(key), new.get(key), (*path, key))


def order_key(form: Form, path: tuple[str, ...]) -> tuple[tuple[int, int, str], ...]:
    """Return a sort key that puts items in the order the form prints them."""
    idx = form.print_order
    pat: list[str] = []
    key: list[tuple[int, int, str]] = []
    for seg in path:
        star, exact = ".".join([*pat, "*"]), ".".join([*pat, seg])
        if seg.isdigit() and exact not in form.by_path and star in form.by_path:
            pat.append("*")
            key.append((idx[star], int(seg), ""))
        else:
            pat.append(seg)
            key.append((idx.get(exact, len(idx)), 0, seg))
    return tuple(key)


# ---------------------------------------------------------------- one change


def _change(ctx: _Ctx, path: tuple[str, ...], what: str, old: dict, new: dict) -> model.Change | None:
    before, after = lookup(old, path), lookup(new, path)
    pattern = pattern_of(ctx.form, path)
    if what == INSTANCE:
        group = ctx.form.by_path[pattern]
        if before is None:
            kind, btext, atext = model.INSTANCE_ADDED, ctx.style.blank, instance_text(ctx.form, group, path, after, ctx.style)
        else:
            kind, btext, atext = model.INSTANCE_REMOVED, instance_text(ctx.form, group, path, before, ctx.style), ctx.style.removed
        return _make(ctx, path, pattern, ctx.form.label_path(path), kind, before, after, btext, atext)
    if path[0] == "attachments" and len(path) == 2:
        return _attachment_change(ctx, path, before, after)
    node = ctx.form.by_path.get(pattern)
    if node is None or before == after:
        return None
    item = ctx.form.label_path(path)
    if node.kind == "checks":
        return _checks_change(ctx, node, path, item, before or {}, after or {})
    if node.kind == "flag":
        return _make(ctx, path, pattern, item, model.FLAG, before, after, _text(node, before, ctx.style), _text(node, after, ctx.style))
    if is_blank(before):
        kind, btext, atext = model.ADDED, ctx.style.blank, _text(node, after, ctx.style)
    elif is_blank(after):
        kind, btext, atext = model.REMOVED, _text(node, before, ctx.style), ctx.style.removed
    else:
        kind = {"choice": model.CHOICE, "count": model.COUNT}.get(node.kind, model.MODIFIED)
        btext, atext = _text(node, before, ctx.style), _text(node, after, ctx.style)
    return _make(ctx, path, pattern, item, kind, before, after, btext, atext)


def _make(ctx: _Ctx, path: tuple[str, ...], pattern: str, item: str, kind: str, before: Any, after: Any,
          btext: str, atext: str, options: tuple[str, ...] = ()) -> model.Change:
    return model.Change(
        assessment=ctx.assessment, file=ctx.file, form=ctx.form.kind, path=path, pattern=pattern, item=item,
        kind=kind, star=ctx.form.star_of(pattern), before=before, after=after, before_text=btext,
        after_text=atext, options=options, old_file=ctx.old_file, number=ctx.number,
    )


def _checks_change(ctx: _Ctx, node: Node, path: tuple[str, ...], item: str, before: dict, after: dict) -> model.Change:
    """Return a checkbox-group change that prints only the options that changed."""
    owner = {}
    for o in node.options:
        owner[o.key] = owner[f"{o.key}_count"] = owner[f"{o.key}_detail"] = o.key
    options = tuple(dict.fromkeys(owner[k] for k in node.option_keys() if before.get(k) != after.get(k)))
    ticked = any(after.get(o) is True and before.get(o) is not True for o in options)
    unticked = any(before.get(o) is True and after.get(o) is not True for o in options)
    kind = model.TICKED if ticked and not unticked else model.UNTICKED if unticked and not ticked else model.CHECKS
    keys = list(options)
    btext, atext = render(node, before, ctx.style, keys), render(node, after, ctx.style, keys)
    return _make(ctx, path, pattern_of(ctx.form, path), item, kind, before, after, btext, atext, options)


def _attachment_change(ctx: _Ctx, path: tuple[str, ...], before: Any, after: Any) -> model.Change | None:
    if before == after:
        return None
    title = next((t.get("title", "") for t in (after, before) if isinstance(t, dict) and t.get("title")), "")
    label = ctx.form.label_path(path[:1])
    item = title or f"{label} {path[1]}".strip()
    if before is None:
        kind, btext, atext = model.ADDED, ctx.style.blank, attachment_text(after)
    elif after is None:
        kind, btext, atext = model.REMOVED, attachment_text(before), ctx.style.removed
    else:
        kind, btext, atext = model.MODIFIED, attachment_text(before), attachment_text(after)
    return _make(ctx, path, "attachments", item, kind, before, after, btext, atext)


def _file_change(old: Document | None, new: Document | None, style: Style) -> model.Change:
    """Return the one change of a whole assessment that appeared or disappeared."""
    doc = new or old
    assert doc is not None
    star = any(n.star for n in doc.form.nodes)
    item = doc.title or doc.form.title
    if new is not None:
        kind, btext, atext = model.FILE_ADDED, style.blank, CREATED
    else:
        kind, btext, atext = model.FILE_REMOVED, item, style.removed
    return model.Change(
        assessment=identity(doc), file=doc.file, form=doc.form.kind, path=(), pattern="", item=item, kind=kind,
        star=star, before=None, after=None, before_text=btext, after_text=atext, number=doc.number,
    )


# ---------------------------------------------------------------- texts


def _text(node: Node, value: Any, style: Style) -> str:
    return render(node, value, style)


def attachment_text(att: Any) -> str:
    """Return a 別紙 table as lines: title, column names, one line per row (cells joined by ｜)."""
    if not isinstance(att, dict):
        return ""
    lines = [att["title"]] if att.get("title") else []
    for row in [att.get("columns") or [], *(att.get("rows") or [])]:
        if row:
            lines.append("｜".join(row))
    if att.get("note"):
        lines.append(att["note"])
    return "\n".join(lines)


def instance_text(form: Form, node: Node, path: tuple[str, ...], value: Any, style: Style) -> str:
    """Return a whole repeated-group instance as printed: its non-blank items, one per line."""
    head = form.label_path(path)
    lines: list[str] = []
    for leaf_path, leaf in _leaves(form, node.path, value, path):
        v = lookup(value, leaf_path[len(path):])
        if leaf.kind == "checks":
            keys = [o.key for o in leaf.options if isinstance(v, dict) and v.get(o.key) is True]
            if not keys:
                continue
            text = render(leaf, v, style, keys)
        elif leaf.kind == "flag":
            if v is not True:
                continue
            text = render(leaf, v, style)
        elif is_blank(v):
            continue
        else:
            text = render(leaf, v, style)
        label = form.label_path(leaf_path)
        label = label[len(head):].strip() if label.startswith(head) else label
        lines.append(f"{label}: {text}" if label else text)
    return "\n".join(lines) or style.blank


def _leaves(form: Form, pattern: str, value: Any, path: tuple[str, ...]) -> Iterator[tuple[tuple[str, ...], Node]]:
    for child in form.children.get(pattern, ()):
        if not isinstance(value, dict):
            return
        if child.key == "*":
            for k in sorted((k for k in value if k.isdigit()), key=int):
                yield from _leaves(form, child.path, value[k], (*path, k))
        elif child.key in value:
            if child.is_leaf:
                yield (*path, child.key), child
            else:
                yield from _leaves(form, child.path, value[child.key], (*path, child.key))
