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
import itertools
import string
from dataclasses import dataclass
from typing import Any, Callable, Iterator, Mapping
from zoneinfo import ZoneInfo

from piachange import model
from piachange.causes import FileNames
from piachange.config import Config
from piachange.links import Links
from piachange.predicates import only_digits_differ, only_law_differs
from piachange.rules import DELETIONS, PLACEHOLDERS, Rule, RuleSet, Subject, item_key, test_item, test_texts
from piachange.schema import load_form
from piachange.statements import Stated, Statements
from piachange.threshold import submission, threshold_findings


@dataclass(frozen=True)
class Attempt:
    """One rule tried on one row: matched, not matched, or skipped (it needs the submission)."""

    rule: str
    origin: str
    matched: bool | None
    why: tuple[str, ...]
    note: str = ""  # the rule's own note, for the one that decided


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
    traces, findings = trace(changes, config=config, per_commit=per_commit, why=False)
    return [t.row for t in traces], findings


def classify_by_assessment(changes: list[model.Change], *, config: Config,
                           known: Callable[[list[list[model.Change]]], list[list[model.Row] | None]],
                           keep: Callable[[list[model.Change], list[model.Row]], None],
                           named: Mapping[tuple[str, str], FileNames] | None = None) -> tuple[list[model.Row], list[model.Finding]]:
    """Return what ``classify(changes, per_commit=False)`` returns, reusing the rows of assessments
    decided before.

    A submission is decided assessment by assessment (links, 事前 rows, added content and the
    しきい値判断 never cross assessments), except through what a commit states: a scope, or an
    override recorded for it, is resolved against every item the commit changed. So an
    assessment whose commits all state plainly (neither) has rows that depend on its own changes
    alone: ``known(the changes of each such assessment)`` gives their rows where they were kept (one
    lookup for all), and the rows of those classified
    now go to ``keep(its changes, rows)``. The other assessments are classified together, as before.
    ``named``: the names each commit gave the files of each assessment (ScopeIndex).
    """
    groups: dict[tuple[str, ...], list[int]] = {}
    for i, ch in enumerate(changes):
        groups.setdefault(_revision_key(ch, False), []).append(i)
    statements = Statements(changes, config.ruleset)
    plain: dict[str, bool] = {}
    for ch in changes:  # in the order classify reads them: a bad trailer is the same first error
        for c in ch.commits:
            if c.sha not in plain:
                plain[c.sha] = statements.uniform(c)
    rows: list[model.Row | None] = [None] * len(changes)
    alone = {g: [changes[i] for i in idx] for g, idx in groups.items()
             if all(plain[c.sha] for i in idx for c in changes[i].commits)}
    for (g, group), found in zip(alone.items(), known(list(alone.values()))):
        if found is not None and len(found) == len(group):
            for i, row in zip(groups[g], found):
                rows[i] = row
    todo = [i for i, row in enumerate(rows) if row is None]
    traces, _, unused = _trace([changes[i] for i in todo], config=config, per_commit=False, why=False, named=named) if todo else ([], [], [])
    for i, t in zip(todo, traces):
        rows[i] = t.row
    done = [row for row in rows if row is not None]
    assert len(done) == len(changes)
    decided = set(todo)
    for g, group in alone.items():
        if groups[g][0] in decided:
            keep(group, [done[i] for i in groups[g]])
    findings, _ = threshold_findings(changes, False)
    return done, [*findings, *unused]


def trace(changes: list[model.Change], *, config: Config, per_commit: bool, why: bool = True,
          named: Mapping[tuple[str, str], FileNames] | None = None) -> tuple[list[Trace], list[model.Finding]]:
    """Return the classification of every change with the reasoning behind it (``why``: also why
    each row is linked to its 事前 rows, which only explain shows; ``named``: see classify_by_assessment)."""
    traces, findings, unused = _trace(changes, config=config, per_commit=per_commit, why=why, named=named)
    return traces, [*findings, *unused]


def _trace(changes: list[model.Change], *, config: Config, per_commit: bool, why: bool,
           named: Mapping[tuple[str, str], FileNames] | None = None) -> tuple[list[Trace], list[model.Finding], list[model.Finding]]:
    """Return the traces, the しきい値判断 findings and the findings about unused scope entries."""
    rs = config.ruleset
    statements = Statements(changes, rs, named)
    stated = [statements.of(ch) for ch in changes]
    subjects = [_subject(ch, st) for ch, st in zip(changes, stated)]
    decider = _decider(rs)
    first = [decider.decide(s, None) for s in subjects]
    groups = [_revision_key(ch, per_commit) for ch in changes]
    reasons: dict[int, str] = {}  # of the 事前 rows others are linked to, worked out when one is
    traces: list[Trace] = []
    findings, flagged = threshold_findings(changes, per_commit)
    links = Links(changes, subjects, rs)
    for j, d in enumerate(first):
        # a row others go with is 事前 in the table: by a rule that did not look at the submission, or forced
        # (a ※ change forced 事後 takes nothing with it; one forced 事前 does, as one the rules filed so)
        ov = stated[j].override
        if (ov.timing if ov is not None else d.timing if d.stable else None) == "事前":
            links.add(groups[j], j)
    adding: dict[tuple[str, ...], int] = {}
    for j, ch in enumerate(changes):
        adding[groups[j]] = adding.get(groups[j], 0) + _adds(ch)
    for i, ch in enumerate(changes):
        has_jizen = links.has_other(groups[i], i)
        linked = links.of(groups[i], i) if has_jizen else []
        facts = {"has-jizen" if has_jizen else "no-jizen"}
        if linked:
            facts.add("linked-jizen")
        others_adding = adding[groups[i]] - _adds(ch)
        facts.add("adds-content" if others_adding else "no-added-content")
        # a stable decision did not depend on the submission: deciding again would give the same
        subj, d = subjects[i], first[i]
        if not d.stable:
            subj = dataclasses.replace(subj, facts=frozenset(facts))
            d = decider.decide(subj, has_jizen)
        link = None
        if linked:
            j = linked[0]
            if j not in reasons:
                forced = stated[j].override
                reasons[j] = forced.reason if forced is not None else _reason(rs, first[j], subjects[j], stated[j], None, None)
            link = (changes[j], reasons[j])
        reason = _reason(rs, d, subj, stated[i], link, has_jizen)
        ov = stated[i].override
        # the rule's warning and the ※ 事後 warnings speak of the timing the rules gave: an override giving another drops them
        judged = _warnings(rs, d, subj, stated[i], link) if ov is None or ov.timing == d.timing else []
        warnings = [*stated[i].warnings, *judged]
        if stated[i].cause_reason and subj.cause is not None and "{reason}" not in _template(rs, d, subj):
            warnings.append(f"PIA-Reason 「{stated[i].cause_reason}」 is not in the 説明: its template has no {{reason}}"
                            f" (a [templates] entry or the cause's reason in piachange.toml can use it)")
        timing, rule_id, override = d.timing, _rule_id(d, subj), False
        if ov is not None:
            override, rule_id, reason = True, f"override:{ov.commit[:9]}", ov.reason
            if subj.star and d.timing == "事前" and ov.timing == "事後":
                warnings.append(f"override: {ov.describe()} files this ※ change 事後 although rule {d.rule.id} says 事前"
                                f" — a 重要な変更 filed 事後 means the assessment was not re-run first (reason given: {ov.reason})")
            timing = ov.timing
        if (ch.assessment, ".".join(ch.path), submission(ch, per_commit)) in flagged:
            warnings.append("しきい値判断: this change raises the required assessment (see the findings)")
        if ch.before_text != ch.after_text and "".join(ch.before_text.split()) == "".join(ch.after_text.split()):
            warnings.append("変更前 and 変更後 differ only in white space (spaces, tabs or line breaks), which a table shows"
                            " hardly or not at all: check that the change was meant")
        row = model.Row(change=ch, date=_date(ch, config), timing=timing, reason=reason, rule=rule_id,
                        warnings=tuple(dict.fromkeys(warnings)), override=override)
        traces.append(Trace(row, stated[i], tuple(sorted(facts)), d.attempts, d.timing, _wording(rs, d, subj, override),
                            links.why(i, linked) if why else ()))
    return traces, findings, statements.unused()


def _adds(ch: model.Change) -> bool:
    """Return whether a change adds or replaces content: anything but a deletion, and a count that
    only goes down (「提供を行っている (2) 件」 → 「(1) 件」 beside the removed 提供先2) is part of a deletion."""
    if ch.kind in DELETIONS:
        return False
    if ch.kind == model.COUNT:
        return not _fewer(ch.before, ch.after)
    if ch.kind == model.CHECKS and isinstance(ch.before, dict) and isinstance(ch.after, dict):
        changed = {k for k in ch.before.keys() | ch.after.keys() if ch.before.get(k) != ch.after.get(k)}
        return not all(k.endswith("_count") and _fewer(ch.before.get(k), ch.after.get(k)) for k in changed)
    return True


def _fewer(before: Any, after: Any) -> bool:
    return isinstance(before, int) and isinstance(after, int) and after < before


def explain(changes: list[model.Change], *, config: Config, per_commit: bool,
            named: Mapping[tuple[str, str], FileNames] | None = None) -> dict[str, Any]:
    """Return plain data: per row, the statements, every rule tried and why, and the decision."""
    traces, findings = trace(changes, config=config, per_commit=per_commit, named=named)
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


# ---------------------------------------------------------------- subjects


def _subject(ch: model.Change, st: Stated) -> Subject:
    # the differ marks ※; the form is asked again so that a missing mark can only add ※, never drop it
    star = ch.star or (bool(ch.pattern) and _star_of(ch.form, ch.pattern))
    if ch.kind in (model.FILE_ADDED, model.FILE_REMOVED):
        return Subject(ch, star, _star_below(ch.form, ""), st.cause)
    return Subject(ch, star, star or _star_below(ch.form, ch.pattern), st.cause)


@functools.lru_cache(maxsize=4096)
def _star_of(form_kind: str, pattern: str) -> bool:
    return load_form(form_kind).star_of(pattern)


@functools.lru_cache(maxsize=1024)
def _star_below(form_kind: str, pattern: str) -> bool:
    """Return True when some item below ``pattern`` ("" = the whole form) carries ※."""
    form = load_form(form_kind)
    prefix = pattern + "." if pattern else ""
    return any(form.star_of(n.path) for n in form.nodes if n.path.startswith(prefix) and n.is_leaf)


# ---------------------------------------------------------------- rules


class _Decider:
    """Decides rows by the rules, remembering what depends on the item alone: many rows share an item
    (the same item of many assessments and commits), and most rules look at nothing else."""

    def __init__(self, rs: RuleSet) -> None:
        self.rs = rs
        self.items: dict[tuple[Any, ...], list[tuple[tuple[Attempt, ...], Rule | None, tuple[str, ...], int]]] = {}
        self.decided: dict[tuple[Any, ...], Decision] = {}

    def decide(self, s: Subject, has_jizen: bool | None) -> Decision:
        """Return the first rule that matches; ``has_jizen`` None: the submission is not known yet."""
        key = (item_key(s), has_jizen, s.facts)
        d = self.decided.get(key)
        if d is None:
            d, texts = self._decide(s, key[0], has_jizen)
            if not texts:  # decided by the item alone: the same for every row of this item
                self.decided[key] = d
        return d

    def _decide(self, s: Subject, item: tuple[Any, ...], has_jizen: bool | None) -> tuple[Decision, bool]:
        attempts: list[Attempt] = []
        stable, texts = True, False
        for failed, rule, why_item in self._steps(s, item):
            attempts += failed
            if rule is None:
                break
            texts = texts or rule.texts
            ok, why = test_texts(rule, s, list(why_item), facts=has_jizen is not None)
            if ok and rule.revision and has_jizen is None:
                attempts.append(Attempt(rule.id, rule.origin, None, (*why, "needs the rest of the submission")))
                stable = False
                continue
            if not ok:
                attempts.append(Attempt(rule.id, rule.origin, False, tuple(why)))
                continue
            timing, note = _timing(self.rs, rule, s, has_jizen)
            if note == "revision":
                stable = False
            attempts.append(Attempt(rule.id, rule.origin, True, (*why, *([note] if note else [])), rule.note))
            return Decision(rule, timing, tuple(attempts), stable), texts
        # the packaged rules end with a catch-all; an organisation that disabled it gets the safe answer
        fallback = Rule(id="no-rule", timing="事前", origin="piachange")
        attempts.append(Attempt("no-rule", "piachange", True, ("no rule matched: filed 事前 to be safe",)))
        return Decision(fallback, "事前", tuple(attempts), stable), texts

    def _steps(self, s: Subject, item: tuple[Any, ...]) -> Iterator[tuple[tuple[Attempt, ...], Rule | None, tuple[str, ...]]]:
        """Yield the attempts of the rules that fail on the item alone, then the next rule whose conditions
        on the item hold (None: no rule is left) and why they hold."""
        steps = self.items.setdefault(item, [])
        for n in itertools.count():
            if n == len(steps):  # worked out only as far as some row needed: the first match usually ends it
                steps.append(self._step(s, steps[-1][3] if steps else 0))
            failed, rule, why, _ = steps[n]
            yield failed, rule, why
            if rule is None:
                return

    def _step(self, s: Subject, start: int) -> tuple[tuple[Attempt, ...], Rule | None, tuple[str, ...], int]:
        failed: list[Attempt] = []
        for k in range(start, len(self.rs.rules)):
            rule = self.rs.rules[k]
            ok, why = test_item(rule, s)
            if ok:
                return tuple(failed), rule, tuple(why), k + 1
            failed.append(Attempt(rule.id, rule.origin, False, tuple(why)))
        return tuple(failed), None, (), len(self.rs.rules)


_last: _Decider | None = None


def _decider(rs: RuleSet) -> _Decider:
    """Return a decider for ``rs``, the one of the last call while the rules are the same object:
    the per-commit report classifies commit by commit, and the rows of all of them share items."""
    global _last
    if _last is None or _last.rs is not rs:
        _last = _Decider(rs)
    return _last


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
    return _fill(_template(rs, d, s), d, s, st, link)


def _template(rs: RuleSet, d: Decision, s: Subject) -> str:
    """Return the template of the 説明 of a decision, placeholders unfilled."""
    rule = d.rule
    text: str | None = rule.reason
    if text is None and rule.templates:
        names = dict(rule.templates)
        name = names.get(d.timing, names.get("*"))
        text = rs.templates[name] if name else ""
    if text is None and rule.timing == "cause" and s.cause is not None:
        text = s.cause.reason if s.cause.reason is not None else rs.templates.get(s.cause.template, "")
    return text or ""


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
    parts = _parts(text)
    if parts is None:
        return string.Formatter().vformat(text, (), values)
    return "".join(literal + (values[name] if name else "") for literal, name in parts)


@functools.lru_cache(maxsize=1024)
def _parts(text: str) -> tuple[tuple[str, str | None], ...] | None:
    """Return a template as (literal text, placeholder) pairs, or None when it is more than plain {placeholder}s
    (those are left to the formatter, which fills every value, all text, the same way)."""
    parts = tuple(string.Formatter().parse(text))
    if any(name is not None and (name not in PLACEHOLDERS or spec or conversion) for _, name, spec, conversion in parts):
        return None
    return tuple((literal, name) for literal, name, _, _ in parts)


def _warnings(rs: RuleSet, d: Decision, s: Subject, st: Stated, link: tuple[model.Change, str] | None) -> list[str]:
    out = [_fill(d.rule.warning, d, s, st, link)] if d.rule.warning else []
    ch = s.change
    # a repeated group's instance added whole (委託事項2, a second 特定個人情報ファイル) adds the ※ items within it
    added_whole = ch.kind == model.INSTANCE_ADDED and s.star_below and not s.star
    if added_whole and d.timing == "事後" and d.rule.timing == "cause" and s.cause is not None:
        out.append(f"added with the ※ items in it and filed 事後 because of the stated cause {s.cause.label}:"
                   " confirm it is not a 重要な変更")
    if s.star and d.timing == "事後" and ch.kind not in DELETIONS:
        # a count is its digits: 委託の有無 (1) 件 → (2) 件 is a new 委託事項, not a renumbering (a count that
        # only goes down goes with a deletion, see _adds)
        formal = (_fewer(ch.before, ch.after) if ch.kind == model.COUNT
                  else only_law_differs(ch.before_text, ch.after_text) or only_digits_differ(ch.before_text, ch.after_text))
        if d.rule.timing == "cause" and s.cause is not None:
            if not formal and ch.kind == model.COUNT:  # only digits differ: a warning saying more did would be untrue
                out.append(f"※ 件数 went up, filed 事後 because of the stated cause {s.cause.label}: a higher count adds what it"
                           " counts (a new 委託事項): confirm it is not a 重要な変更")
            elif not formal:
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
    return (ch.assessment, submission(ch, per_commit))


def _date(ch: model.Change, config: Config) -> dt.date:
    """Return the 変更日 of a row: the date of the last commit that changed the item, in the configured zone."""
    if not ch.commits:
        return dt.date.today()
    when = ch.commits[-1].date
    return when.astimezone(ZoneInfo(config.timezone)).date() if when.tzinfo else when.date()
