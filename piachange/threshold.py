"""しきい値判断 (rules.md §6): does a change require a new assessment?

A 基礎項目評価書 holds all three inputs (対象人数, 取扱者数, 重大事故). A 重点項目評価書 or
全項目評価書 holds 対象人数 alone (I 1.③): a rise there can take the required assessment above
what the form itself is, depending on the other two inputs, which only the 基礎項目評価書 holds.
"""

from __future__ import annotations

import itertools
from typing import Any

from piachange import model
from piachange.schema import load_form

POPULATION = "threshold.population.count"
HANDLERS = "threshold.handlers.count"
INCIDENT = "threshold.incident.occurred"
PATHS = (POPULATION, HANDLERS, INCIDENT)
AFFAIR_POPULATION = "basic.affair.population"  # 対象人数 of a 重点 or 全項目 assessment
COVERS = {"juten": 2, "zenkomoku": 3}  # the highest level (index into LEVELS) each form is the assessment for
LEVELS = ("特定個人情報保護評価の実施は義務付けられない", "基礎項目評価", "基礎項目評価及び重点項目評価", "基礎項目評価及び全項目評価")
NEW = {2: "重点項目評価", 3: "全項目評価"}
RESULTS = ("特定個人情報保護評価の実施が義務付けられない", "基礎項目評価の実施が義務付けられる",
           "基礎項目評価及び重点項目評価の実施が義務付けられる", "基礎項目評価及び全項目評価の実施が義務付けられる")  # しきい値判断結果 by level
# rows of the table in rules.md §6: (otherwise, 取扱者数 ≥ 500 or 重大事故)
_TABLE = ((0, 0), (1, 1), (1, 2), (2, 3), (3, 3))


def level(population: int, high: bool) -> int:
    """Return the required assessment (index into LEVELS) for a 対象人数 row and the high column."""
    return _TABLE[population][1 if high else 0]


def populations(form: str) -> tuple[Any, ...]:
    """Return a form's 対象人数 choices: the rows of the table in rules.md §6, in order."""
    return load_form(form).by_path[POPULATION if form == "kiso" else AFFAIR_POPULATION].choices


def possible_levels(form: str, population: Any, handlers: Any = None, incident: Any = None) -> set[int]:
    """Return the levels (indexes into RESULTS) that 対象人数, 取扱者数 and 重大事故 allow; an input
    not given allows both columns of the table. Empty when 対象人数 is not one of the form's."""
    pops = populations(form)
    if population not in pops:
        return set()
    many = {"500人以上": (True,), "500人未満": (False,)}.get(handlers, (False, True))
    incident_ = {"発生あり": (True,), "発生なし": (False,)}.get(incident, (False, True))
    return {level(pops.index(population), h or i) for h in many for i in incident_}


def result_level(text: Any) -> int | None:
    """Return the level a しきい値判断結果 states (a 重点 or 全項目 form adds 「(任意に…を実施)」), or None."""
    base = text.split("(任意に")[0] if isinstance(text, str) else ""
    return RESULTS.index(base) if base in RESULTS else None


def threshold_findings(changes: list[model.Change], per_commit: bool) -> tuple[list[model.Finding], set[tuple[str, str, str]]]:
    """Return a finding for each 基礎項目評価書 whose changes move the しきい値判断 to a higher row,
    and the (assessment, path, submission) of the changes that did it (see ``submission``)."""
    groups: dict[tuple[str, ...], dict[str, model.Change]] = {}
    for ch in changes:
        path = ".".join(ch.path)
        if (ch.form == "kiso" and path in PATHS) or (ch.form in COVERS and path == AFFAIR_POPULATION):
            groups.setdefault((ch.assessment, ch.file, submission(ch, per_commit)), {})[path] = ch
    out, flagged = [], set()
    for (assessment, file, sub), found in groups.items():
        given = found.get(AFFAIR_POPULATION)
        message, certain = _judge_population(given) if given is not None else _judge(found)
        if message:
            out.append(model.Finding(assessment, file, message, "error" if certain else "warning"))
            flagged |= {(assessment, p, sub) for p in found}
    return out, flagged


def submission(ch: model.Change, per_commit: bool) -> str:
    """Return the commit a change is submitted with in per-commit mode ('' in net mode: one submission)."""
    return ch.commits[-1].sha if per_commit and ch.commits else ""


def _judge(found: dict[str, model.Change]) -> tuple[str, bool]:
    pops = populations("kiso")
    choices = {POPULATION: pops, HANDLERS: ("500人以上", "500人未満"), INCIDENT: ("発生あり", "発生なし")}
    given = {p: (ch.before, ch.after) for p, ch in found.items()}
    # an input not changed is what the two versions state, when they state one of its choices
    for ch in found.values():
        for p, b, a in ch.context:
            if p not in given and b in choices[p] and a in choices[p]:
                given[p] = (b, a)
    known = set(given)

    def values(path: str) -> list[tuple[Any, Any]]:
        # not given (blank, or not known here): every value is possible
        return [given[path]] if path in given else [(c, c) for c in choices[path]]

    pop_pairs = [(pops.index(b), pops.index(a)) for b, a in values(POPULATION) if b in pops and a in pops]
    hand = values(HANDLERS)
    inc = values(INCIDENT)
    if not pop_pairs:
        return "", False
    rises: dict[tuple[int, int], list[str]] = {}
    combos = list(itertools.product(pop_pairs, hand, inc))
    for (pb, pa), (hb, ha), (ib, ia) in combos:
        before = level(pb, hb == "500人以上" or ib == "発生あり")
        after = level(pa, ha == "500人以上" or ia == "発生あり")
        if after > before:
            cond = []
            if POPULATION not in known:
                cond.append(f"対象人数 {pops[pa]}")
            if HANDLERS not in known:
                cond.append(f"取扱者数 {ha}")
            if INCIDENT not in known:
                cond.append(f"重大事故 {ia}")
            rises.setdefault((before, after), []).append("、".join(cond))
    if not rises:
        return "", False
    changed = "; ".join(f"{found[p].item}: {found[p].before_text} → {found[p].after_text} ({p})" for p in PATHS if p in found)
    certain = sum(len(c) for c in rises.values()) == len(combos)
    parts = []
    for (before, after), conds in rises.items():
        when = "" if certain else " if " + " / ".join(sorted(set(c for c in conds if c)))
        parts.append(f"the required assessment rises from {LEVELS[before]} to {LEVELS[after]}{when}: a new {NEW.get(after, LEVELS[after])} is required")
    return f"しきい値判断 (docs/rules.md §7): {changed}. " + "; ".join(parts), certain


def _judge_population(ch: model.Change) -> tuple[str, bool]:
    """Judge a change of the 対象人数 of a 重点 or 全項目 assessment: does the required assessment
    rise above what the form is? 取扱者数 and 重大事故 are not in these forms: where they decide,
    the finding says so and is a warning."""
    pops = populations(ch.form)
    if ch.before not in pops or ch.after not in pops:
        return "", False
    b, a, covers = pops.index(ch.before), pops.index(ch.after), COVERS[ch.form]
    high = [h for h in (False, True) if level(a, h) > covers >= level(b, h)]
    if not high:
        return "", False
    after = max(level(a, h) for h in high)
    certain = len(high) == 2
    when = "" if certain else " if 取扱者数 is 500人以上 or a 重大事故 occurred within the last year (see the しきい値判断 of the 基礎項目評価書)"
    return (f"しきい値判断 (docs/rules.md §7): {ch.item}: {ch.before_text} → {ch.after_text} ({AFFAIR_POPULATION}). "
            f"This assessment covers up to {LEVELS[covers]}; the required assessment rises to {LEVELS[after]}{when}: "
            f"a new {NEW.get(after, LEVELS[after])} is required"), certain
