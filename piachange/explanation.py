"""``piachange explain``: the report's rows with every rule tried, as plain data or text."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
from typing import Any

from piachange import classify
from piachange.config import load_config
from piachange.document import Document, complete
from piachange.history import History
from piachange.predicates import glob_matches, is_glob
from piachange.render import visible
from piachange.report import Built, Options, build, zone
from piachange.staged import Staged
from piachange.errors import PiaError
from piachange.resolve import Item, items, matches, norm_label, resolve, suggestion
from piachange.schema import load_form


def explain_range(opts: Options, item: str = "", staged: Staged | None = None) -> dict[str, Any]:
    """Return the explanation of the rows ``report`` prints for ``opts`` (``item``: only rows it
    names; ``staged``: the range is the commit being made, see staged.py).

    Raise PiaError when ``item`` names no item of the assessments at either end of the range:
    a misspelt item would otherwise look like an item without changes."""
    built = build(opts, staged=staged)
    if staged is not None:
        try:
            return _relabelled(_explained(opts, item, built), staged)
        except PiaError as e:
            raise PiaError(staged.relabel(str(e)), e.problems) from None
    return _explained(opts, item, built)


def _relabelled(data: Any, staged: Staged) -> Any:
    """Return plain data with the staged commit named as what it is (Staged.relabel) in every string."""
    if isinstance(data, str):
        return staged.relabel(data)
    if isinstance(data, dict):
        return {k: _relabelled(v, staged) for k, v in data.items()}
    if isinstance(data, list):
        return [_relabelled(v, staged) for v in data]
    return data


def _explained(opts: Options, item: str, built: Built) -> dict[str, Any]:
    rows = list(built.report.rows)
    config = load_config(built.root)
    data = classify.explain([r.change for r in rows], config=config, per_commit=opts.per_commit, named=built.named)
    for row, out in zip(rows, data["rows"]):
        out["decision"]["date"] = row.date.isoformat()  # the report's 変更日 (--date, PIA-Date)
    data["findings"] = [dataclasses.asdict(f) for f in built.report.findings]
    data["since"], data["until"], data["per_commit"] = built.report.since, built.report.until, built.report.per_commit
    if item:
        data["rows"] = [r for r in data["rows"] if _names(item, r)]
        if not data["rows"]:
            _check_item(opts, item, zone(config.timezone))
    return data


def _check_item(opts: Options, query: str, tz: dt.tzinfo) -> None:
    """Raise PiaError unless ``query`` names an item of an assessment in scope at ``--since`` or ``--until``."""
    seen: dict[str, Item] = {}  # by label: for the suggestion, each label once
    with History(opts.repo) as hist:
        until = hist.resolve(opts.until)
        since = hist.resolve_since(opts.since, until, tz)
        scope = hist.scope(opts.paths, opts.cwd or os.getcwd())
        for commit in dict.fromkeys(c for c in (until, since) if c is not None):
            for path, blob in hist.files(commit, scope).items():
                try:
                    doc = hist.document(path, blob, commit.sha)
                except PiaError:
                    continue  # an unreadable version: the report's findings name it
                # a blank item, or the first instance of a repeat it has none of, is an item that did not change
                data = complete(doc.form, doc.data, instances=True)
                everything = list(items(doc.form.printed, data))
                if _names_item(query, doc, data, everything):
                    return
                seen.update((it.label, it) for it in everything)
    raise PiaError(f"no item '{query}' in the assessments of {opts.since}..{opts.until}{suggestion(list(seen.values()), query)}")


def _names_item(query: str, doc: Document, data: dict[str, Any], everything: list[Item]) -> bool:
    """Return True when ``query`` names one of ``everything``, the items of ``doc``, as ``_names`` would name its row."""
    if is_glob(query):
        return any(glob_matches(query, it.path) for it in everything)
    nq = norm_label(query)
    if nq in norm_label(doc.title or doc.form.title):  # the item of a whole-assessment row (new, removed)
        return True
    return any(nq in norm_label(it.label) for it in everything) or bool(matches(doc.form.printed, data, query))


def _names(query: str, row: dict[str, Any]) -> bool:
    """Return True when ``query`` (key glob, compact form, full label or part of it) names the row's item."""
    if is_glob(query):
        return glob_matches(query, row["path"])
    if norm_label(query) in norm_label(row["item"]):
        return True
    path = tuple(row["path"].split(".")) if row["path"] else ()
    data: dict[str, Any] = {}
    node = data
    for seg in path:
        node = node.setdefault(seg, {})
    try:
        found = resolve(load_form(row["form"]).printed, data, query).path  # Ⅲ-1 names the row of a copy too
    except PiaError:
        return False
    return path[: len(found)] == found


def to_json(data: dict[str, Any]) -> str:
    """Return the explanation as JSON text."""
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


def to_text(data: dict[str, Any]) -> str:
    """Return the explanation as readable text: one block per row, rules in the order tried."""
    lines = [f"{data.get('since', '')}..{data.get('until', '')} ({'per commit' if data.get('per_commit') else 'net'}),"
             f" configuration: {data['config']}", ""]
    for r in data["rows"]:
        star = ", ※" if r["star"] else ""
        lines.append(f"{r['file']}: {r['item']}")
        lines.append(f"  {r['path'] or '(whole assessment)'} — {r['kind']}{star}")
        lines += _block("before", r["before"]) + _block("after", r["after"])
        for c in r["commits"]:
            trailers = "; ".join(f"{k}: {v}" for k, v in c["trailers"] if k.lower().startswith("pia-"))
            lines.append(f"  commit {c['sha'][:9]} {c['date'][:10]} {c['subject']}" + (f" [{trailers}]" if trailers else ""))
        for s in r["statements"]:
            lines.append(f"  stated: {s}")
        lines.append(f"  submission: {', '.join(r['submission'])}")
        lines += [f"  linked to 事前 row {link}" for link in r["linked_to"]]
        for a in r["rules"]:
            mark = {True: "✓", False: "✗", None: "…"}[a["matched"]]
            lines.append(f"  {mark} {a['rule']} ({a['origin']}): {'; '.join(a['why'])}")
        if r["rule_note"]:
            lines.append(f"    ({r['rule_note']})")
        d = r["decision"]
        by = f"override {d['rule']}" if d["override"] else f"rule {d['rule']}"
        lines.append(f"  → {d['timing']} 「{d['reason']}」 ({by}; 説明 from {r['wording']}; 変更日 {d['date']})")
        if d["override"] and r["ruled_timing"] != d["timing"]:
            lines.append(f"    the rules said {r['ruled_timing']}")
        lines += [f"  ! {w}" for w in d["warnings"]]
        lines.append("")
    for f in data["findings"]:
        lines.append(f"{f['severity']}: {f['file']}: {f['message']}")
    if not data["rows"]:
        lines.append("no rows")
    # for a terminal: a control character in a value or a commit message is shown, never obeyed
    return visible("\n".join(lines).rstrip("\n")) + "\n"


def _block(name: str, text: str) -> list[str]:
    parts = visible(text).splitlines() or [""]
    return [f"  {name + ':':8}{parts[0]}", *(f"  {'':8}{p}" for p in parts[1:])]
