"""Realistic edits of one assessment tree: text revisions, renumbered citations, ticks, choices,
systems added, 委託事項 removed, records lists, 変更箇所 rows. Each returns a short Japanese
description for the commit message, or None when it does not apply to this document."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from typing import Any, Callable

import gen_corpus as C
import gen_docs as G

from piachange.schema import Form, Node

Leaf = tuple[tuple[str, ...], Node, dict[str, Any]]
_NUM = re.compile(r"(第|の)(\d+)(条|号|項|の項)")


def walk(form: Form, pattern: str, table: dict[str, Any], path: tuple[str, ...] = ()) -> Iterator[Leaf]:
    """Yield (concrete path, node, parent table) for every leaf present in ``table``."""
    for node in form.children.get(pattern, ()):
        if node.key == "*":
            for k in [k for k in table if k.isdigit()]:
                yield from walk(form, node.path, table[k], (*path, k))
        elif node.kind in ("group", "repeat"):
            if isinstance(table.get(node.key), dict):
                yield from walk(form, node.path, table[node.key], (*path, node.key))
        elif node.key in table:
            yield (*path, node.key), node, table


def leaves(form: Form, data: dict[str, Any], kind: str) -> list[Leaf]:
    return [x for x in walk(form, "", data) if x[1].kind == kind]


def replace_all(value: Any, old: str, new: str) -> tuple[Any, int]:
    """Return ``value`` with ``old`` replaced in every string, and how many strings changed."""
    if isinstance(value, str):
        return (value.replace(old, new), 1) if old in value else (value, 0)
    if isinstance(value, list):
        out, n = [], 0
        for x in value:
            y, k = replace_all(x, old, new)
            out.append(y)
            n += k
        return out, n
    if isinstance(value, dict):
        n = 0
        for k in list(value):
            if k == "changes":
                continue  # the 変更箇所 annex quotes old texts: a law amendment does not rewrite history
            value[k], c = replace_all(value[k], old, new)
            n += c
        return value, n
    return value, 0


def label(form: Form, path: tuple[str, ...]) -> str:
    return form.label_path(path) or ".".join(path)


def short(form: Form, path: tuple[str, ...]) -> str:
    """Return the last words of an item's label, as a commit subject names it."""
    return " ".join(label(form, path).split(" ")[-2:])


def edit_text(ctx: G.Ctx, form: Form, data: dict[str, Any]) -> str | None:
    """Replace, add or delete one line of a long text, or fix a wording."""
    r = ctx.rng
    cands = [x for x in leaves(form, data, "text") if len(x[2][x[0][-1]]) > 40]
    if not cands:
        return None
    path, node, table = r.choice(cands)
    lines = table[path[-1]].split("\n")
    op = r.random()
    i = r.randrange(len(lines))
    fixes = [(a, b) for a, b in C.TYPO_FIXES if a in table[path[-1]]]
    if op < 0.25 and fixes:
        a, b = r.choice(fixes)
        table[path[-1]] = table[path[-1]].replace(a, b, 1)
        return f"{short(form, path)}の字句を修正"
    if op < 0.55 or len(lines) < 3:
        m = re.match(r"^([①-⑳]|・|\d+\. )", lines[i])
        lines[i] = (m.group(1) if m else "") + r.choice(C.MEASURES_OWN + C.PARAGRAPHS).format(law=ctx.law, body=ctx.body, affair=ctx.affair)
        what = "記載を変更"
    elif op < 0.85:
        lines.insert(i + 1, "・" + r.choice(C.MEASURES_OWN))
        what = "措置を追記"
    else:
        del lines[i]
        what = "記載を削除"
    table[path[-1]] = "\n".join(lines)
    return f"{short(form, path)}の{what}"


def renumber(ctx: G.Ctx, form: Form, data: dict[str, Any]) -> str | None:
    """Shift one article / item number in a law citation, as a law amendment does."""
    r = ctx.rng
    cands = [x for x in leaves(form, data, "text") if _NUM.search(x[2][x[0][-1]])]
    if not cands:
        return None
    path, _, table = r.choice(cands)
    text = table[path[-1]]
    ms = list(_NUM.finditer(text))
    m = r.choice(ms)
    n = int(m.group(2)) + r.choice((1, 1, 2, -1)) or 1
    table[path[-1]] = text[: m.start(2)] + str(max(1, n)) + text[m.end(2):]
    return f"{short(form, path)}の条項番号を修正"


def tick(ctx: G.Ctx, form: Form, data: dict[str, Any]) -> str | None:
    """Tick or untick one checkbox (with its ( ) detail)."""
    r = ctx.rng
    cands = [x for x in leaves(form, data, "checks") if x[0][-1] != "status"]
    if not cands:
        return None
    path, node, table = r.choice(cands)
    box = table[path[-1]]
    opt = r.choice(node.options)
    box[opt.key] = not box.get(opt.key, False)
    if opt.detail:
        box[f"{opt.key}_detail"] = r.choice(C.DEPARTMENTS + tuple(s for s, _ in C.SYSTEMS)) if box[opt.key] else ""
    if opt.count:
        box[f"{opt.key}_count"] = r.randint(1, 30) if box[opt.key] else ""
    return f"{short(form, path)}: {opt.label}を{'選択' if box[opt.key] else '選択解除'}"


def choose(ctx: G.Ctx, form: Form, data: dict[str, Any]) -> str | None:
    """Change one single-choice answer."""
    r = ctx.rng
    cands = [x for x in leaves(form, data, "choice") if x[0][-1] != "status" and len(x[1].choices) > 1]
    if not cands:
        return None
    path, node, table = r.choice(cands)
    table[path[-1]] = r.choice([c for c in node.choices if c != table[path[-1]]])
    return f"{short(form, path)}を「{table[path[-1]]}」に変更"


def _next(inst: dict[str, Any]) -> str:
    return str(max((int(k) for k in inst), default=0) + 1)


def add_system(ctx: G.Ctx, form: Form, data: dict[str, Any], name: str | None = None) -> str | None:
    """Add システムN (or name it in the 基礎項目 system list)."""
    r = ctx.rng
    sysname, fnames = next(((s, f) for s, f in C.SYSTEMS if s == name), None) or r.choice(C.SYSTEMS)
    if form.kind == "kiso":
        cur = data["basic"]["affair"]["systems"]
        if sysname in cur:
            return None
        data["basic"]["affair"]["systems"] = f"{cur}、{sysname}" if cur else sysname
        return f"システムの名称に{sysname}を追加"
    systems = data["basic"]["systems"]
    if any(s.get("name") == sysname for s in systems.values()) or len(systems) >= 20:
        return None
    key = _next(systems)
    new: dict[str, Any] = {"title": ""} if form.kind == "zenkomoku" else {}
    new["name"] = sysname
    new["functions"] = G.functions_text(ctx, tuple(G.pick(ctx, fnames, r.randint(min(3, len(fnames)), len(fnames)))))
    node = form.by_path["basic.systems.*.connections"]
    new["connections"] = G.leaf_value(ctx, node, ("basic", "systems", key, "connections"))
    systems[key] = new
    return f"システム{key}({sysname})を追加"


def _files(data: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return list((data.get("files") or {}).items())


def _sync_risks(data: dict[str, Any], fkey: str) -> None:
    f, risk = data["files"][fkey], (data.get("risks") or {}).get(fkey)
    G.reconcile(f)
    if risk is not None:
        risk["outsourcing"]["not_applicable"] = not f["outsourcing"]["items"]
        risk["provision"]["not_applicable"] = not f["provision"]["recipients"] and not f["provision"]["transferees"]


def remove_outsourcing(ctx: G.Ctx, form: Form, data: dict[str, Any]) -> str | None:
    """Remove one 委託事項 (contract ended); the others keep their numbers."""
    cands = [(k, f) for k, f in _files(data) if f["outsourcing"]["items"]]
    if not cands:
        return None
    fkey, f = ctx.rng.choice(cands)
    k = ctx.rng.choice(list(f["outsourcing"]["items"]))
    title = f["outsourcing"]["items"].pop(k).get("title", "")
    _sync_risks(data, fkey)
    return f"委託事項{k}({title})を削除"


def add_instance(ctx: G.Ctx, form: Form, data: dict[str, Any], where: str) -> str | None:
    """Add a 委託事項 or 提供先 with every field filled."""
    if not _files(data):
        return None
    fkey, f = ctx.rng.choice(_files(data))
    group, sub = where.split(".")
    inst = f[group][sub]
    rep = form.by_path[f"files.*.{group}.{sub}.*"]
    if len(inst) >= rep.max:
        return None
    key = _next(inst)
    inst[key] = {}
    G.fill(ctx, form, rep.path, inst[key], ("files", fkey, group, sub, key), {"files": 1})
    _sync_risks(data, fkey)
    return f"{rep.label.replace('{n}', key)}を追加"


def remove_recipient(ctx: G.Ctx, form: Form, data: dict[str, Any]) -> str | None:
    cands = [(k, f) for k, f in _files(data) if len(f["provision"]["recipients"]) > 1]
    if not cands:
        return None
    fkey, f = ctx.rng.choice(cands)
    k = ctx.rng.choice(list(f["provision"]["recipients"]))
    del f["provision"]["recipients"][k]
    _sync_risks(data, fkey)
    return f"提供先{k}を削除"


def edit_records(ctx: G.Ctx, form: Form, data: dict[str, Any]) -> str | None:
    """Add or drop record items in the (別添) 記録項目 list."""
    r = ctx.rng
    groups = [(k, g) for k, f in _files(data) for g in f.get("records", [])]
    if not groups:
        return None
    _, g = r.choice(groups)
    if r.random() < 0.6 or len(g["items"]) < 6:
        for _ in range(r.randint(1, 4)):
            g["items"].insert(r.randint(0, len(g["items"])), r.choice(C.RECORD_ITEMS))
        return "記録項目を追加"
    for _ in range(r.randint(1, 3)):
        g["items"].pop(r.randrange(len(g["items"])))
    return "記録項目を削除"


def publish(ctx: G.Ctx, form: Form, data: dict[str, Any], when: dt.date, notes: list[str]) -> str | None:
    """Append 変更箇所 rows for the revisions since the last publication and set 公表日."""
    r = ctx.rng
    texts = [x for x in leaves(form, data, "text") if x[2][x[0][-1]]]
    rows = data["changes"]["rows"]
    for note in (notes or ["記載の修正"])[:6]:
        path, _, table = r.choice(texts)
        timing = r.choice(("事前", "事後", "事後"))
        rows.append({
            "date": when, "item": label(form, path), "before": table[path[-1]][:60], "after": note[:80], "timing": timing,
            "reason": "" if timing == "事前" else r.choice(("軽微な修正", "法改正に基づく軽微な修正", "重要な変更に当たらないため、事前の公表・提出が義務付けられない。")),
        })
    data["cover"]["published_on"] = when
    return f"変更箇所に{min(len(notes), 6) or 1}件追記し公表日を更新"


EDITS: tuple[tuple[Callable[..., str | None], float, str], ...] = (
    (edit_text, 40, "軽微な修正"),
    (renumber, 10, "法令改正"),
    (tick, 12, "評価の再実施"),
    (choose, 12, "評価の再実施"),
    (lambda c, f, d: add_system(c, f, d), 4, "システム更改"),
    (remove_outsourcing, 3, "リスク軽減"),
    (lambda c, f, d: add_instance(c, f, d, "outsourcing.items"), 3, "評価の再実施"),
    (lambda c, f, d: add_instance(c, f, d, "provision.recipients"), 2, "法令改正"),
    (remove_recipient, 2, "法令改正"),
    (edit_records, 6, "評価の再実施"),
)
