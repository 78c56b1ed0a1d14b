"""Build one synthetic assessment as a plain document tree by walking its form definition."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from typing import Any

import gen_corpus as C

from piachange.schema import Form, Node

CIRCLED = "①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯⑰⑱⑲⑳"
# Keys whose text is a block of numbered measures, the bulk of a real assessment.
MEASURE_KEYS = {
    "measures", "other_measures", "user_auth_method", "access_lifecycle_method", "access_control_method",
    "usage_log_method", "rules_content", "contract_rules_content", "subcontract_assurance_method", "management_check",
    "viewer_limit_method", "handling_log_method", "provision_rules_onward", "provision_rules_between",
    "erasure_rules_content", "erasure_procedure_content", "non_target_measures", "excess_measures", "identity_check",
    "number_authenticity", "accuracy", "atena_measures", "other_system_measures", "physical_measures",
    "technical_measures", "location", "erasure", "provision_log_method", "deceased_numbers_method", "self_check_method",
    "audit_content", "method", "other_risks", "recurrence_prevention",
}
PARAGRAPH_KEYS = {
    "description", "necessity", "benefits", "purpose", "purpose_change_validity", "usage", "matching", "statistics",
    "decisions", "subjects_scope", "subjects_need", "main_items_reason", "timing", "validity", "notice", "content",
    "scope_reason", "reason", "handling", "special_notes", "notes", "result", "opinions", "reflection", "review", "basis",
    "subcontract_approval", "subcontract_work", "name_check", "info", "scope_subjects", "frequency",
}


@dataclass
class Ctx:
    """Everything the text builders need about the assessment being written."""

    rng: random.Random
    kind: str
    body: str
    head: str
    affair: str
    law: str
    dept: str
    file_name: str
    number: int
    scale: float  # 1.0 = typical size; larger bodies write longer texts


def pick(ctx: Ctx, seq: Any, k: int) -> list[Any]:
    """Return ``k`` distinct elements of ``seq`` (fewer if it is short)."""
    return ctx.rng.sample(list(seq), min(k, len(seq)))


def measure_text(ctx: Ctx, lo: int = 2, hi: int = 6, platform: float = 0.5) -> str:
    """Return a measures text: 「<…における措置>」 blocks of ①… lines."""
    r = ctx.rng
    n = max(1, round(r.randint(lo, hi) * ctx.scale))
    lines = [f"<{ctx.body}における措置>"]
    lines += [f"{CIRCLED[i]}{s}" for i, s in enumerate(pick(ctx, C.MEASURES_OWN, n))]
    if r.random() < platform:
        lines.append("<中間サーバー・プラットフォームにおける措置>")
        lines += [f"{CIRCLED[i]}{s}" for i, s in enumerate(pick(ctx, C.MEASURES_PLATFORM, r.randint(2, 5)))]
    if r.random() < platform * 0.6:
        lines.append("<ガバメントクラウドにおける措置>")
        lines += [f"{CIRCLED[i]}{s}" for i, s in enumerate(pick(ctx, C.MEASURES_CLOUD, r.randint(2, 4)))]
    return "\n".join(lines)


def short_measure(ctx: Ctx) -> str:
    """Return one or two measure sentences, or the dash bodies print for none."""
    if ctx.rng.random() < 0.3:
        return "-"
    return "\n".join(f"・{s}" for s in pick(ctx, C.MEASURES_OWN, ctx.rng.randint(1, 3)))


def paragraph(ctx: Ctx, lo: int = 1, hi: int = 3) -> str:
    """Return a few sentences of explanatory prose."""
    out = [p.format(law=ctx.law, body=ctx.body, affair=ctx.affair) for p in pick(ctx, C.PARAGRAPHS, ctx.rng.randint(lo, hi))]
    return "\n".join(out)


def functions_text(ctx: Ctx, names: tuple[str, ...]) -> str:
    """Return a numbered list of system functions."""
    r = ctx.rng
    lines = []
    for i, name in enumerate(names, 1):
        objs = "、".join(pick(ctx, C.FUNCTION_OBJECTS, r.randint(1, 3)))
        lines.append(f"{i}. {name} {objs}{r.choice(C.FUNCTION_TAILS)}")
    return "\n".join(lines)


def law_basis(ctx: Ctx) -> str:
    """Return a law citation in the forms' style."""
    r = ctx.rng
    t = r.choice(C.LAW_BASIS)
    a, b, c = sorted(r.sample(range(1, 120), 3))
    return t.format(n=r.randint(1, 120), a=a, b=b, c=c, body=ctx.body)


def records(ctx: Ctx) -> list[dict[str, Any]]:
    """Return (別添) 記録項目 groups: headings with bullet or numbered items."""
    r = ctx.rng
    groups = []
    n_groups = 1 if r.random() < 0.4 else r.randint(2, 5)
    headings = pick(ctx, C.RECORD_HEADINGS, n_groups) if n_groups > 1 else [""]
    for h in headings:
        k = max(5, round(r.randint(40, 160) * ctx.scale / n_groups))
        items = [x if r.random() < 0.7 else f"{x}({r.choice(('前年度', '当年度', '変更前', '変更後', '世帯'))})" for x in (r.choice(C.RECORD_ITEMS) for _ in range(k))]
        groups.append({"heading": h, "style": r.choice(("bullet", "bullet", "numbered", "inline")), "items": items})
    return groups


def attachments(ctx: Ctx) -> dict[str, Any]:
    """Return organisation-specific (別紙) tables: recipients under 番号法別表第2."""
    r = ctx.rng
    if ctx.kind == "kiso" or r.random() < 0.4:
        return {}
    rows = []
    for i in range(1, r.randint(5, 35) + 1):
        who, use = r.choice(C.RECIPIENTS)
        rows.append([str(i), who, f"番号法別表第2の{r.randint(1, 120)}の項", use])
    return {"1": {"title": "特定個人情報の番号法別表第2の第1欄に掲げる者への提供", "note": "", "columns": ["提供先 No.", "提供先", "法令上の根拠", "提供先における用途"], "rows": rows}}


def date_between(ctx: Ctx, y0: int, y1: int) -> dt.date:
    return dt.date(ctx.rng.randint(y0, y1), ctx.rng.randint(1, 12), ctx.rng.randint(1, 28))


def text_value(ctx: Ctx, node: Node, path: tuple[str, ...]) -> str:
    """Return a realistic text for a text leaf, chosen by its key."""
    r, key = ctx.rng, node.key
    if key == "number" and path[0] == "cover":
        return str(ctx.number)
    if key == "title" and path[0] == "cover":
        return f"{ctx.affair} {C.FORM_TITLES[ctx.kind]}"
    if key == "declaration":
        return (f"{ctx.body}は、{ctx.affair}における特定個人情報ファイルの取扱いにあたり、個人のプライバシー等の権利利益に影響を"
                "及ぼしかねないことを認識し、特定個人情報の漏えいその他の事態を発生させるリスクを軽減させるために適切な措置を講じ、"
                "もって個人のプライバシー等の権利利益の保護に取り組んでいることを宣言する。")
    if key == "organization":
        return ctx.head
    if key == "name" and "affair" in path:
        return ctx.affair
    if key in ("name", "file_names", "register_file_name") and path[0] in ("files", "basic", "disclosure"):
        return ctx.file_name
    if key == "systems":
        return "、".join(s for s, _ in pick(ctx, C.SYSTEMS, r.randint(2, 5)))
    if key == "legal_basis":
        return law_basis(ctx)
    if ("recipients" in path or "transferees" in path) and key in ("purpose", "info", "subjects_scope", "frequency"):
        return {"purpose": r.choice(C.RECIPIENTS)[1], "info": f"{ctx.file_name.removesuffix('ファイル')}",
                "subjects_scope": r.choice(("対象者全員", "照会のあった対象者", "資格を有する者及びその世帯員")),
                "frequency": r.choice(("提供依頼を受けた都度", "毎月", "随時", "年1回"))}[key]
    if key in ("department", "to", "disclosure_to"):
        return f"{ctx.body}役所 {ctx.dept}" if key != "department" else ctx.dept
    if key == "head_title":
        return r.choice(C.HEAD_TITLES)
    if key in ("contact", "inquiry_contact"):
        return f"{ctx.body}役所 {ctx.dept}\n〒{r.randint(100, 999)}-{r.randint(1000, 9999)} {ctx.body}中央{r.randint(1, 9)}丁目{r.randint(1, 30)}番{r.randint(1, 20)}号\n電話 0{r.randint(10, 99)}-{r.randint(100, 999)}-{r.randint(1000, 9999)}"
    if key == "contractor":
        return r.choice(C.CONTRACTORS)
    if key == "title" and "systems" in path:
        return ""
    if key == "title" and "recipients" in path:
        return r.choice(("番号法別表第2の第1欄に掲げる者(別紙1参照)",) + tuple(w for w, _ in C.RECIPIENTS))
    if key == "title" and "transferees" in path:
        return f"庁内他部署({r.choice(C.DEPARTMENTS)})"
    if key == "title":
        return r.choice(("システムの運用保守業務", "帳票の印刷・封入封緘業務", "データパンチ業務", "システム改修業務", "コールセンター業務", "通知書の作成及び発送業務"))
    if key in ("names", "all_items", "diagram", "as_of", "fee_detail", "register_place", "special_procedure", "register_exclusion", "incident_detail", "shortening_reason"):
        return {"all_items": "別添を参照。", "as_of": f"令和{r.randint(2, 7)}年4月1日 時点", "fee_detail": "写しの交付に要する費用(1枚につき10円)を窓口で納付する。",
                "register_place": f"{ctx.body}ホームページ", "diagram": "(事務の流れ図は別添1の画像を参照)"}.get(key, "-")
    if key in ("text",):
        return short_measure(ctx)
    if key in MEASURE_KEYS:
        return measure_text(ctx) if r.random() < 0.75 else short_measure(ctx)
    if key == "functions":
        return functions_text(ctx, ())
    if key in PARAGRAPH_KEYS or len(node.label) > 0:
        return paragraph(ctx)
    return paragraph(ctx, 1, 1)


def leaf_value(ctx: Ctx, node: Node, path: tuple[str, ...]) -> Any:
    """Return a value for any leaf kind."""
    r = ctx.rng
    if node.kind == "text":
        return text_value(ctx, node, path)
    if node.kind == "choice":
        weights = [3 if "十分" in c or c in ("行っている", "定めている", "記録を残している", "発生なし") else 1 for c in node.choices]
        return r.choices(node.choices, weights)[0]
    if node.kind == "checks":
        out: dict[str, Any] = {}
        for o in node.options:
            on = r.random() < 0.35
            out[o.key] = on
            if o.count:
                out[f"{o.key}_count"] = r.randint(1, 40) if on else ""
            if o.detail:
                out[f"{o.key}_detail"] = r.choice(C.DEPARTMENTS + tuple(s for s, _ in C.SYSTEMS)) if on else ""
        return out
    if node.kind == "flag":
        return False
    if node.kind == "count":
        return ""
    if node.kind == "date":
        return date_between(ctx, 2015, 2023)
    if node.kind == "period":
        d = date_between(ctx, 2016, 2023)
        return f"令和{max(1, d.year - 2018)}年{d.month}月{d.day}日から30日間"
    if node.kind == "list":
        return records(ctx)
    if node.kind == "attachments":
        return attachments(ctx)
    if node.kind == "changes":
        return {"rows": []}
    raise ValueError(node.kind)


def repeat_count(ctx: Ctx, node: Node, path: tuple[str, ...]) -> int:
    """Return how many instances a repeated group gets, by where it sits."""
    r, big = ctx.rng, ctx.kind == "zenkomoku"
    key = node.path.rsplit(".", 2)[-2]
    if key == "systems":
        return r.randint(3, 9) if big else r.randint(2, 6)
    if key in ("files",):
        return 1 if r.random() < 0.9 else 2
    if key == "items":
        return r.randint(1, 6) if big else r.randint(1, 4)
    if key == "recipients":
        return r.randint(3, 30) if big else r.randint(1, 6)
    if key == "transferees":
        return r.randint(0, 6) if big else r.randint(0, 3)
    return 1


def fill(ctx: Ctx, form: Form, pattern: str, table: dict[str, Any], path: tuple[str, ...], counts: dict[str, int]) -> None:
    """Fill ``table`` with every child of the node at ``pattern``."""
    for node in form.children.get(pattern, ()):
        if node.key == "*":
            n = counts["files"] if node.path == "risks.*" else repeat_count(ctx, node, path)
            if node.path == "files.*":
                counts["files"] = n
            for i in range(1, n + 1):
                sub = table.setdefault(str(i), {})
                fill(ctx, form, node.path, sub, (*path, str(i)), counts)
        elif node.kind in ("group", "repeat"):
            fill(ctx, form, node.path, table.setdefault(node.key, {}), (*path, node.key), counts)
        elif node.key == "functions":
            name, fnames = ctx.rng.choice(C.SYSTEMS)
            table["name"] = name
            table[node.key] = functions_text(ctx, tuple(pick(ctx, fnames, ctx.rng.randint(min(3, len(fnames)), len(fnames)))))
        elif node.key == "name" and "systems" in path:
            continue  # written together with its functions
        else:
            table[node.key] = leaf_value(ctx, node, (*path, node.key))


def build(ctx: Ctx, form: Form) -> dict[str, Any]:
    """Return a complete, consistent document tree for ``form``."""
    data: dict[str, Any] = {"meta": {"form": form.kind, "schema_version": form.version}}
    fill(ctx, form, "", data, (), {"files": 1})
    for f in (data.get("files") or {}).values():
        reconcile(f)
    for i, f in (data.get("files") or {}).items():
        risk = data.get("risks", {}).get(i)
        if risk is not None:
            risk["outsourcing"]["not_applicable"] = f["outsourcing"]["status"] == "委託しない"
            risk["provision"]["not_applicable"] = not f["provision"]["recipients"] and not f["provision"]["transferees"]
    return data


def reconcile(f: dict[str, Any]) -> None:
    """Make counts agree with the instances written, as reviewers check."""
    out = f["outsourcing"]
    out["status"] = "委託する" if out["items"] else "委託しない"
    out["count"] = len(out["items"]) if out["items"] else ""
    prov = f["provision"]
    st = prov["status"]
    for key, inst in (("provide", prov["recipients"]), ("transfer", prov["transferees"])):
        st[key] = bool(inst)
        st[f"{key}_count"] = len(inst) if inst else ""
    st["none"] = not prov["recipients"] and not prov["transferees"]
