"""Classify semantic changes into rows of the 変更箇所 table: 事前/事後, 説明, the rule that decided.

Order of precedence for one row: a forced timing (PIA-Timing trailer or a recorded override),
else the first rule that matches (rules/default.toml after the organisation's rules). A stated
cause is one of the things rules look at. Rules that look at the rest of the submission
(accompanying changes, the timing of the revision) see the rows decided without such rules.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import string
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from piachange import model
from piachange.causes import Cause, ScopeIndex, Statement, commit_statements
from piachange.config import Config
from piachange.predicates import only_digits_differ, only_law_differs, system_terms
from piachange.rules import DELETIONS, Rule, RuleSet, Subject, test
from piachange.schema import load_form
from piachange.threshold import threshold_findings


@dataclass(frozen=True)
class Attempt:
    """One rule tried on one row: matched, not matched, or skipped (it needs the submission)."""

    rule: str
    origin: str
    matched: bool | None
    why: tuple[str, ...]
    note: str = ""  # the rule's own note, for the one that decided


@dataclass(frozen=True)
class Stated:
    """What the commits say about one change: its cause, a forced timing, and notes."""

    cause: Cause | None = None
    cause_reason: str = ""
    override: Statement | None = None
    considered: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class Decision:
    rule: Rule
    timing: str
    attempts: tuple[Attempt, ...]
    stable: bool  # decided without looking at the rest of the submission


@dataclass(frozen=True)
class Trace:
    """Everything explain shows for one row."""

    row: model.Row
    stated: Stated
    facts: tuple[str, ...]
    attempts: tuple[Attempt, ...]
    ruled_timing: str  # what the rules said before any override
    wording: str  # where the 説明 text came from
    links: tuple[str, ...] = ()  # the 事前 rows this row is linked to, and why


def classify(changes: list[model.Change], *, config: Config, per_commit: bool) -> tuple[list[model.Row], list[model.Finding]]:
    """Return one row per change (timing, 説明, rule id, warnings) and the findings of the submission."""
    traces, findings = trace(changes, config=config, per_commit=per_commit)
    return [t.row for t in traces], findings


def trace(changes: list[model.Change], *, config: Config, per_commit: bool) -> tuple[list[Trace], list[model.Finding]]:
    """Return the classification of every change with the reasoning behind it."""
    rs = config.ruleset
    scopes = ScopeIndex(changes)
    stated = [_stated(ch, rs, scopes) for ch in changes]
    subjects = [_subject(ch, st) for ch, st in zip(changes, stated)]
    first = [_decide(rs, s, None) for s in subjects]
    groups = [_revision_key(ch, per_commit) for ch in changes]
    anchors = [i for i, d in enumerate(first) if d.stable]
    terms = [_terms(ch, rs) for ch in changes]
    inst = [_instances(ch) for ch in changes]  # computed once: _linked compares them pairwise
    reasons = {i: _reason(rs, first[i], subjects[i], stated[i], None, None) for i in anchors}
    traces: list[Trace] = []
    findings, flagged = threshold_findings(changes, per_commit)
    jizen_of: dict[tuple[str, ...], list[int]] = {}
    for j in anchors:
        if first[j].timing == "事前":
            jizen_of.setdefault(groups[j], []).append(j)
    adding: dict[tuple[str, ...], int] = {}
    for j, ch in enumerate(changes):
        adding[groups[j]] = adding.get(groups[j], 0) + (ch.kind not in DELETIONS)
    for i, ch in enumerate(changes):
        jizen = [j for j in jizen_of.get(groups[i], ()) if j != i]
        # sorted by item, not by input order: explain, given the rows in date order, links the same way
        linked = sorted((j for j in jizen if _linked(i, j, changes, subjects, terms, inst)), key=lambda j: (changes[j].file, changes[j].path))
        facts = {"has-jizen" if jizen else "no-jizen"}
        if linked:
            facts.add("linked-jizen")
        others_adding = adding[groups[i]] - (ch.kind not in DELETIONS)
        facts.add("adds-content" if others_adding else "no-added-content")
        subj = dataclasses.replace(subjects[i], facts=frozenset(facts))
        # a stable decision did not depend on the submission: deciding again would give the same
        d = first[i] if first[i].stable else _decide(rs, subj, bool(jizen))
        link = (changes[linked[0]], reasons[linked[0]]) if linked else None
        reason = _reason(rs, d, subj, stated[i], link, bool(jizen))
        warnings = [*stated[i].warnings, *_warnings(rs, d, subj, stated[i], link)]
        timing, rule_id, override = d.timing, _rule_id(d, subj), False
        ov = stated[i].override
        if ov is not None:
            override, rule_id, reason = True, f"override:{ov.commit[:9]}", ov.reason
            if subj.star and d.timing == "事前" and ov.timing == "事後":
                warnings.append(f"override: {ov.describe()} files this ※ change 事後 although rule {d.rule.id} says 事前"
                                f" — a 重要な変更 filed 事後 means the assessment was not re-run first (reason given: {ov.reason})")
            timing = ov.timing
        if (ch.assessment, ".".join(ch.path)) in flagged:
            warnings.append("しきい値判断: this change raises the required assessment (see the findings)")
        row = model.Row(change=ch, date=_date(ch, config), timing=timing, reason=reason, rule=rule_id,
                        warnings=tuple(dict.fromkeys(warnings)), override=override)
        links = tuple(f"「{changes[j].item}」: {_linked(i, j, changes, subjects, terms, inst)}" for j in linked)
        traces.append(Trace(row, stated[i], tuple(sorted(facts)), d.attempts, d.timing, _wording(rs, d, subj, override), links))
    return traces, [*findings, *scopes.unused()]


def explain(changes: list[model.Change], *, config: Config, per_commit: bool) -> dict[str, Any]:
    """Return plain data: per row, the statements, every rule tried and why, and the decision."""
    traces, findings = trace(changes, config=config, per_commit=per_commit)
    return {
        "config": config.source or "(defaults)",
        "rows": [_explain_row(t) for t in traces],
        "findings": [dataclasses.asdict(f) for f in findings],
    }


def _explain_row(t: Trace) -> dict[str, Any]:
    ch, row = t.row.change, t.row
    return {
        "assessment": ch.assessment, "file": ch.file, "form": ch.form, "path": ".".join(ch.path), "item": ch.item,
        "kind": ch.kind, "star": ch.star, "before": ch.before_text, "after": ch.after_text,
        "commits": [{"sha": c.sha, "date": c.date.isoformat(), "subject": c.message.splitlines()[0] if c.message else "",
                     "trailers": [list(kv) for kv in c.trailers]} for c in ch.commits],
        "statements": list(t.stated.considered),
        "cause": t.stated.cause.label if t.stated.cause else None,
        "submission": list(t.facts),
        "linked_to": list(t.links),
        "rules": [{"rule": a.rule, "origin": a.origin, "matched": a.matched, "why": list(a.why)} for a in t.attempts],
        "rule_note": next((a.note for a in t.attempts if a.matched), ""),
        "ruled_timing": t.ruled_timing,
        "wording": t.wording,
        "decision": {"timing": row.timing, "reason": row.reason, "rule": row.rule, "override": row.override,
                     "warnings": list(row.warnings), "date": row.date.isoformat()},
    }


# ---------------------------------------------------------------- statements


def _stated(ch: model.Change, rs: RuleSet, scopes: ScopeIndex) -> Stated:
    """Return the cause and forced timing the commits (and recorded overrides) state for this change."""
    per_commit: list[list[Statement]] = []
    overrides: list[Statement] = []
    considered: list[str] = []
    for c in ch.commits:
        said = list(commit_statements(c, rs.causes))
        recorded = [o for o in rs.overrides if c.sha.lower().startswith(o.commit) and o.file in ("", ch.file, ch.old_file, ch.assessment)]
        for st in said + recorded:
            if st.scope:
                scopes.check(st, c.sha)
        # both are evaluated so that every scope entry is checked against the item (see ScopeIndex.unused)
        rec_causes, own_causes = (_applicable([s for s in group if not s.is_override], ch, c.sha, scopes) for group in (recorded, said))
        rec_forced, own_forced = (_applicable([s for s in group if s.is_override], ch, c.sha, scopes) for group in (recorded, said))
        causes, forced = rec_causes or own_causes, rec_forced or own_forced
        per_commit.append(causes)
        overrides += [dataclasses.replace(s, commit=c.sha) for s in forced]
        considered += [s.describe() for s in causes + forced]
    warnings: list[str] = []
    cause, reason = None, ""
    stated = [c for c in per_commit if c]
    if stated and len(stated) == len(per_commit):
        chosen = {s.cause.id: s for group in stated for s in group if s.cause}
        pick = next((s for s in chosen.values() if s.cause and s.cause.timing == "事前"), next(iter(chosen.values())))
        cause, reason = pick.cause, pick.reason
        if len(chosen) > 1:
            names = "、".join(s.cause.label for s in chosen.values() if s.cause)
            warnings.append(f"the commits state different causes for this item ({names}); {cause.label if cause else ''} is used (事前 wins)")
    elif stated:
        bare = [c.sha[:9] for c, group in zip(ch.commits, per_commit) if not group]
        names = "、".join(dict.fromkeys(s.cause.label for g in stated for s in g if s.cause))
        warnings.append(f"cause {names} is not used: commit {', '.join(bare)} changed this item too without a PIA-Cause for it")
    override, warning = _forced(overrides, ch)
    if warning:
        warnings.append(warning)
    return Stated(cause, reason, override, tuple(considered), tuple(warnings))


def _forced(overrides: list[Statement], ch: model.Change) -> tuple[Statement | None, str]:
    """Return the forced timing of a row: 事前 from any commit; 事後 only from the newest commit that changed it."""
    jizen = [o for o in overrides if o.timing == "事前"]
    newest = ch.commits[-1].sha if ch.commits else ""
    jigo = [o for o in overrides if o.timing == "事後" and o.commit == newest]
    if jizen:
        note = f"forced timings disagree; 事前 is used: {jizen[-1].describe()}" if len(jizen) < len(overrides) else ""
        return jizen[-1], note
    if jigo:
        return jigo[-1], ""
    if overrides:
        return None, (f"{overrides[-1].describe()} is not used: commit {newest[:9]} changed this item afterwards"
                      " without forcing its timing")
    return None, ""


def _applicable(statements: list[Statement], ch: model.Change, sha: str, scopes: ScopeIndex) -> list[Statement]:
    """Return the statements whose scope names the item, else the unscoped ones."""
    scoped = [s for s in statements if s.scope and scopes.covers(s, ch, sha)]
    return scoped or [s for s in statements if not s.scope]


def _subject(ch: model.Change, st: Stated) -> Subject:
    form = load_form(ch.form)
    # the differ marks ※; the form is asked again so that a missing mark can only add ※, never drop it
    star = ch.star or (bool(ch.pattern) and form.star_of(ch.pattern))
    if ch.kind in (model.FILE_ADDED, model.FILE_REMOVED):
        return Subject(ch, star, _star_below(ch.form, ""), st.cause)
    return Subject(ch, star, star or _star_below(ch.form, ch.pattern), st.cause)


@functools.lru_cache(maxsize=1024)
def _star_below(form_kind: str, pattern: str) -> bool:
    """Return True when some item below ``pattern`` ("" = the whole form) carries ※."""
    form = load_form(form_kind)
    prefix = pattern + "." if pattern else ""
    return any(form.star_of(n.path) for n in form.nodes if n.path.startswith(prefix) and n.is_leaf)


# ---------------------------------------------------------------- rules


def _decide(rs: RuleSet, s: Subject, has_jizen: bool | None) -> Decision:
    """Return the first rule that matches; ``has_jizen`` None: the submission is not known yet."""
    attempts: list[Attempt] = []
    stable = True
    for rule in rs.rules:
        probe = rule if has_jizen is not None or not rule.revision else dataclasses.replace(rule, revision=())
        ok, why = test(probe, s)
        if ok and probe is not rule:
            attempts.append(Attempt(rule.id, rule.origin, None, (*why, "needs the rest of the submission")))
            stable = False
            continue
        if not ok:
            attempts.append(Attempt(rule.id, rule.origin, False, tuple(why)))
            continue
        timing, note = _timing(rs, rule, s, has_jizen)
        if note == "revision":
            stable = False
        attempts.append(Attempt(rule.id, rule.origin, True, (*why, *([note] if note else [])), rule.note))
        return Decision(rule, timing, tuple(attempts), stable)
    # the packaged rules end with a catch-all; an organisation that disabled it gets the safe answer
    fallback = Rule(id="no-rule", timing="事前", origin="piachange")
    attempts.append(Attempt("no-rule", "piachange", True, ("no rule matched: filed 事前 to be safe",)))
    return Decision(fallback, "事前", tuple(attempts), stable)


def _timing(rs: RuleSet, rule: Rule, s: Subject, has_jizen: bool | None) -> tuple[str, str]:
    """Return the timing a matching rule gives and a note on where it came from."""
    timing, note = rule.timing, ""
    if timing == "cause" and s.cause is not None:
        timing, note = s.cause.timing, f"timing from cause {s.cause.label}: {s.cause.timing}"
    elif timing.startswith("setting:"):
        name = timing[8:]
        timing = rs.timing_of(timing)
        note = f"timing from setting {name} = {timing} ({rs.sources.get(f'settings.{name}', 'rules/default.toml')})"
    if timing == "revision":
        if has_jizen is None:
            return "事後", "revision"
        timing = "事前" if has_jizen else "事後"
        note = (note + "; " if note else "") + f"the submission {'has' if has_jizen else 'has no'} 事前 row → {timing}"
    return timing, note


def _rule_id(d: Decision, s: Subject) -> str:
    return f"cause:{s.cause.id}" if d.rule.timing == "cause" and s.cause else d.rule.id


def _reason(rs: RuleSet, d: Decision, s: Subject, st: Stated, link: tuple[model.Change, str] | None,
            has_jizen: bool | None) -> str:
    """Return the 説明 text of a decision."""
    rule = d.rule
    text: str | None = rule.reason
    if text is None and rule.templates:
        names = dict(rule.templates)
        name = names.get(d.timing, names.get("*"))
        text = rs.templates[name] if name else ""
    if text is None and rule.timing == "cause" and s.cause is not None:
        text = s.cause.reason if s.cause.reason is not None else rs.templates.get(s.cause.template, "")
    return _fill(text or "", d, s, st, link)


def _wording(rs: RuleSet, d: Decision, s: Subject, override: bool) -> str:
    """Return where the 説明 of a decision came from, for explain."""
    if override:
        return "the reason given with the forced timing"
    if d.rule.reason is not None:
        return f"rule {d.rule.id} ({d.rule.origin})"
    names = dict(d.rule.templates)
    name = names.get(d.timing, names.get("*"))
    if name is None and d.rule.timing == "cause" and s.cause is not None:
        if s.cause.reason is not None:
            return f"cause {s.cause.id} ({s.cause.origin})"
        name = s.cause.template
    if not name:
        return "none"
    return f"template {name} ({rs.sources.get(f'templates.{name}', 'rules/default.toml')})"


def _fill(text: str, d: Decision, s: Subject, st: Stated, link: tuple[model.Change, str] | None) -> str:
    values = {
        "cause": s.cause.label if s.cause else "", "reason": st.cause_reason, "item": s.change.item,
        "path": ".".join(s.change.path), "linked": link[0].item if link else "", "linked_reason": link[1] if link else "",
        "timing": d.timing, "rule": d.rule.id,
    }
    return string.Formatter().vformat(text, (), values)


def _warnings(rs: RuleSet, d: Decision, s: Subject, st: Stated, link: tuple[model.Change, str] | None) -> list[str]:
    out = [_fill(d.rule.warning, d, s, st, link)] if d.rule.warning else []
    ch = s.change
    if s.star and d.timing == "事後" and ch.kind not in DELETIONS:
        formal = only_law_differs(ch.before_text, ch.after_text) or only_digits_differ(ch.before_text, ch.after_text)
        if d.rule.timing == "cause" and s.cause is not None:
            if not formal:
                out.append(f"※ item filed 事後 because of the stated cause {s.cause.label}, but more than law references or digits"
                           " changed: confirm it is not a 重要な変更")
        else:
            out.append(f"※ item filed 事後 by rule {d.rule.id} without a stated cause: confirm it is not a 重要な変更"
                       " (a PIA-Cause trailer records why)")
    elif s.star and d.timing == "事後":
        out.append(f"※ item removed and filed 事後 by rule {_rule_id(d, s)}: confirm the removal is not a 重要な変更")
    return out


# ---------------------------------------------------------------- the submission


def _revision_key(ch: model.Change, per_commit: bool) -> tuple[str, ...]:
    """Return which submission a change belongs to: the assessment (net) or the assessment and commit."""
    if per_commit and ch.commits:
        return (ch.assessment, ch.commits[-1].sha)
    return (ch.assessment,)


def _instances(ch: model.Change) -> set[tuple[str, ...]]:
    """Return the nested repeated-group instances (システムn, 委託事項n, 提供先n …) a change lies in."""
    out = set()
    for i, seg in enumerate(ch.pattern.split(".")):
        if seg == "*" and i >= 2 and i < len(ch.path):
            out.add(ch.path[: i + 1])
    return out


def _terms(ch: model.Change, rs: RuleSet) -> set[str]:
    common = set(rs.settings.get("common_systems", ()))
    found = system_terms(f"{ch.before_text}\n{ch.after_text}")
    if ch.pattern == "basic.systems.*.name":
        found |= {v for v in (ch.before, ch.after) if isinstance(v, str) and v.strip()}
    return {t for t in found if t not in common}


def _linked(i: int, j: int, changes: list[model.Change], subjects: list[Subject], terms: list[set[str]],
            inst: list[set[tuple[str, ...]]]) -> str:
    """Return why change i goes with 事前 change j (same cause, same instance, same system named), or ''."""
    a, b = subjects[i], subjects[j]
    if a.cause is not None and b.cause is not None and a.cause.id == b.cause.id:
        return f"same cause {a.cause.label}"
    shared = inst[i] & inst[j]
    if shared:
        return f"same {load_form(changes[i].form).label_path(max(shared, key=len)).split(' ')[-1]}"
    names = terms[i] & terms[j]
    return f"both name {'、'.join(sorted(names))}" if names else ""


def _date(ch: model.Change, config: Config) -> dt.date:
    """Return the 変更日 of a row: the date of the last commit that changed the item, in the configured zone."""
    if not ch.commits:
        return dt.date.today()
    when = ch.commits[-1].date
    return when.astimezone(ZoneInfo(config.timezone)).date() if when.tzinfo else when.date()
