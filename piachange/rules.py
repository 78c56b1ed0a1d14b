"""Significance rules as data: parse ``rules/default.toml`` and an organisation's tables, test rules.

A rule is a set of conditions (all must hold) and an outcome (timing, 説明 template, warning).
Rules are tried in order and the first that matches decides; docs/rules.md describes the language.
"""

from __future__ import annotations

import dataclasses
import difflib
import re
import string
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from typing import Any, Mapping

from piachange import model
from piachange.causes import (
    CAUSE_TIMINGS, Cause, Statement, _hint, find_cause, glob_names_node, merge_causes, norm_name, parse_causes,
    parse_overrides, unknown_keys,
)
from piachange.errors import PiaError
from piachange.predicates import edit_distance, glob_matches, only_digits_differ, only_law_differs
from piachange.resolve import norm_label
from piachange.schema import FORM_KINDS, load_form

CONDITION_KEYS = {"form", "path", "label", "star", "star_below", "kind", "cause", "before", "after", "law_only",
                  "digits_only", "max_edit", "revision"}
OUTCOME_KEYS = {"id", "timing", "template", "reason", "warning", "note", "enabled"}
RULE_KEYS = CONDITION_KEYS | OUTCOME_KEYS
TOP_KEYS = {"settings", "templates", "causes", "rules"}
FACTS = ("has-jizen", "no-jizen", "linked-jizen", "adds-content", "no-added-content")
PLACEHOLDERS = ("cause", "reason", "item", "path", "linked", "linked_reason", "timing", "rule")
DELETIONS = (model.REMOVED, model.INSTANCE_REMOVED, model.UNTICKED, model.FILE_REMOVED)
_ID = re.compile(r"^[a-z0-9][a-z0-9-]*$")


@dataclass(frozen=True)
class Rule:
    """One significance rule: conditions, then what it decides."""

    id: str
    timing: str  # 事前 | 事後 | cause | revision | setting:<name>
    templates: tuple[tuple[str, str], ...] = ()  # (timing or "*", template id)
    reason: str | None = None  # literal 説明 template instead of a template id
    warning: str = ""
    note: str = ""
    enabled: bool = True
    origin: str = "default"
    form: tuple[str, ...] = ()
    path: tuple[str, ...] = ()
    label: tuple[str, ...] = ()
    star: bool | None = None
    star_below: bool | None = None
    kind: tuple[str, ...] = ()
    cause: tuple[str, ...] = ()  # cause ids, "*" (any stated cause) or "none"
    before: str | None = None
    after: str | None = None
    law_only: bool | None = None
    digits_only: bool | None = None
    max_edit: int | None = None
    revision: tuple[str, ...] = ()

    @property
    def texts(self) -> bool:
        """Return True when the rule looks at the before and after texts."""
        return (self.before, self.after, self.law_only, self.digits_only, self.max_edit) != (None,) * 5


@dataclass(frozen=True)
class Subject:
    """What a rule looks at: one change, its stated cause and facts about its submission."""

    change: model.Change
    star: bool
    star_below: bool
    cause: Cause | None
    facts: frozenset[str] = frozenset()


@dataclass(frozen=True)
class RuleSet:
    """The effective rules, templates, causes, settings and recorded overrides."""

    rules: tuple[Rule, ...]
    templates: Mapping[str, str]
    causes: tuple[Cause, ...]
    settings: Mapping[str, Any]
    overrides: tuple[Statement, ...] = ()
    sources: Mapping[str, str] = field(default_factory=dict)  # "settings.x" / "templates.y" -> file that set it

    def timing_of(self, timing: str) -> str:
        """Resolve ``setting:<name>`` to the configured value."""
        return str(self.settings[timing[8:]]) if timing.startswith("setting:") else timing


# ---------------------------------------------------------------- loading


def default_table() -> dict[str, Any]:
    """Return the packaged default rule set as a TOML table."""
    text = resources.files("piachange").joinpath("rules", "default.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)


def build_ruleset(org: Mapping[str, Any], source: str, defaults: Mapping[str, Any] | None = None) -> RuleSet:
    """Merge an organisation's tables (settings, templates, causes, rules, overrides) over the defaults."""
    base = default_table() if defaults is None else defaults
    dsrc = "rules/default.toml"
    unknown_keys(dict(base), TOP_KEYS, "", dsrc)
    settings, sources = dict(base.get("settings", {})), {}
    for k, v in _table(org, "settings", source).items():
        if k not in settings:
            raise PiaError(f"{source}: unknown key 'settings.{k}'{_hint(k, settings)}")
        if type(v) is not type(settings[k]):
            raise PiaError(f"{source}: 'settings.{k}' must be {type(settings[k]).__name__}, like the default {settings[k]!r}")
        settings[k], sources[f"settings.{k}"] = v, source
    for k, v in settings.items():
        if k.endswith("_timing") and v not in CAUSE_TIMINGS:
            raise PiaError(f"{sources.get(f'settings.{k}', dsrc)}: 'settings.{k}' must be one of {', '.join(CAUSE_TIMINGS)}, not {v!r}")
    templates = {}
    for src, table in ((dsrc, _table(base, "templates", dsrc)), (source, _table(org, "templates", source))):
        for k, v in table.items():
            if not isinstance(v, str):
                raise PiaError(f"{src}: 'templates.{k}' must be text")
            check_template(v, f"templates.{k}", src)
            templates[k] = v
            if src == source:
                sources[f"templates.{k}"] = source
    names = set(templates)
    causes = merge_causes(parse_causes(base.get("causes", []), dsrc, "causes", names, check_template),
                          parse_causes(org.get("causes", []), source, "causes", names, check_template) if "causes" in org else [],
                          source)
    # the packaged rules name real items (a test checks it): looking them up in the forms on every run cost 0.07 s
    default_rules = [parse_rule(r, i, dsrc, names, causes, check_items=defaults is not None)
                     for i, r in enumerate(_list(base, "rules", dsrc))]
    rules = merge_rules(default_rules, _list(org, "rules", source), source, names, causes)
    for r in rules:
        if r.timing.startswith("setting:") and r.timing[8:] not in settings:
            raise PiaError(f"{r.origin}: rule '{r.id}' takes its timing from unknown setting {r.timing[8:]!r}{_hint(r.timing[8:], settings)}")
    used = {name for r in rules for _, name in r.templates} | {c.template for c in causes}
    defaults_named = set(_table(base, "templates", dsrc))
    for k in _table(org, "templates", source):
        if k not in defaults_named and k not in used:
            # a misspelt template id would leave the default wording in place without a word
            raise PiaError(f"{source}: 'templates.{k}' is used by no rule or cause{_hint(k, defaults_named)}")
    overrides = parse_overrides(org["overrides"], source, causes) if "overrides" in org else ()
    return RuleSet(tuple(rules), templates, causes, settings, overrides, sources)


def merge_rules(defaults: list[Rule], entries: list[Any], source: str, templates: set[str], causes: tuple[Cause, ...]) -> list[Rule]:
    """Return the organisation's new rules first, then the defaults with replaced or toggled ones in place."""
    by_id = {r.id: i for i, r in enumerate(defaults)}
    merged, front, seen = list(defaults), [], set()
    for i, raw in enumerate(entries):
        if not isinstance(raw, dict):
            raise PiaError(f"{source}: 'rules[{i + 1}]' must be a table")
        rid = raw.get("id")
        if rid in seen:
            raise PiaError(f"{source}: rule id {rid!r} is defined twice")
        seen.add(rid)
        if rid in by_id and set(raw) <= {"id", "enabled"}:
            unknown_keys(raw, RULE_KEYS, f"rules[{i + 1}]", source)
            old = merged[by_id[rid]]
            merged[by_id[rid]] = dataclasses.replace(old, enabled=_bool(raw, "enabled", f"rules[{i + 1}]", source) is not False, origin=source)
            continue
        rule = parse_rule(raw, i, source, templates, causes)
        if rid in by_id:
            merged[by_id[rid]] = rule
        else:
            front.append(rule)
    return front + merged


def parse_rule(raw: Any, i: int, source: str, templates: set[str], causes: tuple[Cause, ...],
               check_items: bool = True) -> Rule:
    """Validate one ``[[rules]]`` table and return the Rule (``check_items``: that its paths and labels name items)."""
    at = f"rules[{i + 1}]"
    if not isinstance(raw, dict):
        raise PiaError(f"{source}: '{at}' must be a table")
    rid = raw.get("id")
    if isinstance(rid, str):
        at = f"rules[{i + 1}] ({rid})"
    unknown_keys(raw, RULE_KEYS, at, source)
    if not isinstance(rid, str) or not _ID.match(rid):
        raise PiaError(f"{source}: '{at}' needs an 'id' of lower-case letters, digits and '-'")
    timing = raw.get("timing")
    if not isinstance(timing, str) or not (timing in ("事前", "事後", "cause", "revision") or timing.startswith("setting:")):
        raise PiaError(f"{source}: '{at}.timing' must be 事前, 事後, cause, revision or setting:<name>, not {timing!r}")
    tmpl = raw.get("template", {})
    pairs = tuple(sorted({"*": tmpl}.items())) if isinstance(tmpl, str) else tuple(sorted(_dict(tmpl, f"{at}.template", source).items()))
    for t, name in pairs:
        if t not in ("*", "事前", "事後"):
            raise PiaError(f"{source}: '{at}.template' keys must be 事前 or 事後, not {t!r}")
        if name not in templates:
            raise PiaError(f"{source}: '{at}.template' {name!r} is not a template{_hint(name, templates)}")
    reason = raw.get("reason")
    if reason is not None:
        if pairs:
            raise PiaError(f"{source}: '{at}' has both 'template' and 'reason': give one")
        check_template(_str(reason, f"{at}.reason", source), f"{at}.reason", source)
    warning = _str(raw.get("warning", ""), f"{at}.warning", source)
    check_template(warning, f"{at}.warning", source)
    kinds = _strs(raw, "kind", at, source)
    for k in kinds:
        if k not in model.CHANGE_KINDS:
            raise PiaError(f"{source}: '{at}.kind' {k!r} is not a change kind{_hint(k, model.CHANGE_KINDS)}")
    forms = _strs(raw, "form", at, source)
    for f in forms:
        if f not in FORM_KINDS:
            raise PiaError(f"{source}: '{at}.form' {f!r} is not a form kind{_hint(f, FORM_KINDS)}")
    paths = _strs(raw, "path", at, source)
    for p in paths if check_items else ():
        if not any(glob_names_node(p, f, printed=True) for f in (forms or FORM_KINDS)):  # a copy (risks.*.file_name) has rows too
            raise PiaError(f"{source}: '{at}.path' {p!r} names no item of any form{_path_hint(p)}")
    labels = _strs(raw, "label", at, source)
    for lab in labels if check_items else ():
        if not _label_exists(lab, forms or FORM_KINDS):
            raise PiaError(f"{source}: '{at}.label' {lab!r} is part of no official item label")
    cause = tuple(_cause_id(c, at, source, causes) for c in _strs(raw, "cause", at, source))
    if timing == "cause" and "none" in cause:
        raise PiaError(f"{source}: '{at}' takes its timing from the cause but matches rows without one")
    facts = _strs(raw, "revision", at, source)
    for fact in facts:
        if fact not in FACTS:
            raise PiaError(f"{source}: '{at}.revision' {fact!r} is not one of {', '.join(FACTS)}{_hint(fact, FACTS)}")
    for key in ("before", "after"):
        if key in raw:
            try:
                re.compile(_str(raw[key], f"{at}.{key}", source))
            except re.error as e:
                raise PiaError(f"{source}: '{at}.{key}' is not a valid regular expression: {e}") from None
    max_edit = raw.get("max_edit")
    if max_edit is not None and (type(max_edit) is not int or max_edit < 1):
        raise PiaError(f"{source}: '{at}.max_edit' must be a whole number ≥ 1")
    flags = {k: _bool(raw, k, at, source) for k in ("star", "star_below", "law_only", "digits_only")}
    return Rule(
        id=rid, timing=timing, templates=pairs, reason=reason, warning=warning, note=_str(raw.get("note", ""), f"{at}.note", source),
        enabled=bool(_bool(raw, "enabled", at, source) is not False), origin=source, form=forms, path=paths, label=labels,
        kind=kinds, cause=cause, before=raw.get("before"), after=raw.get("after"), max_edit=max_edit, revision=facts, **flags,
    )


def check_template(text: str, where: str, source: str) -> None:
    """Raise PiaError when a template uses a placeholder piachange does not fill."""
    try:
        fields = [f for _, f, _, _ in string.Formatter().parse(text) if f is not None]
    except ValueError as e:
        raise PiaError(f"{source}: '{where}': {e} (write {{{{ and }}}} for literal braces)") from None
    for f in fields:
        if f not in PLACEHOLDERS:
            raise PiaError(f"{source}: '{where}': unknown placeholder {{{f}}}{_hint(f, PLACEHOLDERS)}; known: {', '.join(PLACEHOLDERS)}")


def _cause_id(name: str, at: str, source: str, causes: tuple[Cause, ...]) -> str:
    if name in ("*", "none"):
        return name
    c = find_cause(causes, name)
    if c is None:
        raise PiaError(f"{source}: '{at}.cause' {name!r} is not a known cause{_hint(norm_name(name), [c.id for c in causes])}")
    return c.id


def _label_exists(text: str, forms: tuple[str, ...]) -> bool:
    want = norm_label(text)
    for f in forms:
        form = load_form(f).printed  # with the places that print an item again (Ⅲ 1.)
        if any(want in norm_label(form.label_path(tuple("1" if s == "*" else s for s in n.path.split(".")))) for n in form.nodes):
            return True
    return False


def _path_hint(p: str) -> str:
    paths = {n.path for f in FORM_KINDS for n in load_form(f).printed.nodes}
    close = difflib.get_close_matches(p.replace(".1.", ".*."), sorted(paths), n=1, cutoff=0.7)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _table(t: Mapping[str, Any], key: str, source: str) -> dict[str, Any]:
    return _dict(t.get(key, {}), key, source)


def _dict(v: Any, where: str, source: str) -> dict[str, Any]:
    if not isinstance(v, dict):
        raise PiaError(f"{source}: '{where}' must be a table")
    return v


def _list(t: Mapping[str, Any], key: str, source: str) -> list[Any]:
    v = t.get(key, [])
    if not isinstance(v, list):
        raise PiaError(f"{source}: '{key}' must be an array of tables ([[{key}]])")
    return v


def _str(v: Any, where: str, source: str) -> str:
    if not isinstance(v, str):
        raise PiaError(f"{source}: '{where}' must be text")
    return v


def _strs(raw: dict[str, Any], key: str, at: str, source: str) -> tuple[str, ...]:
    v = raw.get(key, [])
    items = [v] if isinstance(v, str) else v
    if not isinstance(items, list) or not all(isinstance(x, str) and x for x in items):
        raise PiaError(f"{source}: '{at}.{key}' must be text or a list of texts")
    return tuple(items)


def _bool(raw: dict[str, Any], key: str, at: str, source: str) -> bool | None:
    v = raw.get(key)
    if v is not None and not isinstance(v, bool):
        raise PiaError(f"{source}: '{at}.{key}' must be true or false")
    return v


# ---------------------------------------------------------------- matching
# The conditions on the item alone are tested apart from those on its texts and its submission:
# many rows share an item, and a caller can keep the answers by item_key.


def item_key(s: Subject) -> tuple[Any, ...]:
    """Return everything of a subject ``test_item`` looks at: subjects with equal keys get equal answers."""
    ch = s.change
    return ch.form, ch.path, ch.item, ch.kind, s.star, s.star_below, (s.cause.id, s.cause.label) if s.cause else None


def test_item(rule: Rule, s: Subject) -> tuple[bool, list[str]]:
    """Return whether the conditions on the item alone hold (form, path, label, ※, kind, cause) and, condition
    by condition, why (the last line says why not)."""
    why: list[str] = []
    ch = s.change

    def check(ok: bool, yes: str, no: str) -> bool:
        why.append(yes if ok else no)
        return ok

    if not rule.enabled:
        return False, ["disabled"]
    if rule.form and not check(ch.form in rule.form, f"form {ch.form}", f"form {ch.form} is not {'/'.join(rule.form)}"):
        return False, why
    dotted = ".".join(ch.path)
    if rule.path:
        hit = next((g for g in rule.path if glob_matches(g, ch.path)), None)
        if not check(hit is not None, f"path {dotted} matches {hit}", f"path {dotted} matches none of {', '.join(rule.path)}"):
            return False, why
    if rule.label:  # the label as printed, and without the file an assessment with several names (予防接種ファイル)
        labels = [norm_label(ch.item), *([norm_label(ch.item.replace(f" ({ch.named})", "", 1))] if ch.named else [])]
        hit = next((t for t in rule.label if any(norm_label(t) in lab for lab in labels)), None)
        if not check(hit is not None, f"label contains 「{hit}」", f"label contains none of {'、'.join(rule.label)}"):
            return False, why
    if rule.star is not None and not check(s.star == rule.star, "item carries ※" if s.star else "item has no ※",
                                           "item has no ※" if rule.star else "item carries ※"):
        return False, why
    if rule.star_below is not None and not check(s.star_below == rule.star_below, "※ items within" if s.star_below else "no ※ item within",
                                                 "no ※ item within" if rule.star_below else "※ items within"):
        return False, why
    if rule.kind and not check(ch.kind in rule.kind, f"change {ch.kind}", f"change {ch.kind} is not {'/'.join(rule.kind)}"):
        return False, why
    if rule.cause:
        stated = s.cause.id if s.cause else "none"
        ok = stated in rule.cause or ("*" in rule.cause and s.cause is not None)
        label = s.cause.label if s.cause else "no cause stated"
        if not check(ok, f"cause: {label}", f"cause: {label} (wanted {'/'.join(rule.cause)})"):
            return False, why
    return True, why


def test_texts(rule: Rule, s: Subject, why: list[str], facts: bool = True) -> tuple[bool, list[str]]:
    """Return whether the conditions on the texts (and with ``facts`` on the submission) hold, adding to ``why``."""
    if not rule.texts and not (facts and rule.revision):
        return True, why
    ch = s.change

    def check(ok: bool, yes: str, no: str) -> bool:
        why.append(yes if ok else no)
        return ok

    for key, text in (("before", ch.before_text), ("after", ch.after_text)):
        pat = getattr(rule, key)
        if pat is not None and not check(re.search(pat, text) is not None, f"{key} text matches /{pat}/", f"{key} text does not match /{pat}/"):
            return False, why
    if rule.law_only is not None:
        ok = only_law_differs(ch.before_text, ch.after_text) == rule.law_only
        if not check(ok, "only law references differ" if rule.law_only else "more than law references differ",
                     "more than law references differ" if rule.law_only else "only law references differ"):
            return False, why
    if rule.digits_only is not None:
        ok = only_digits_differ(ch.before_text, ch.after_text) == rule.digits_only
        if not check(ok, "only digits differ" if rule.digits_only else "more than digits differ",
                     "more than digits differ" if rule.digits_only else "only digits differ"):
            return False, why
    if rule.max_edit is not None:
        d = edit_distance(ch.before_text, ch.after_text, rule.max_edit)
        shown = str(d) if d <= rule.max_edit else f"> {rule.max_edit}"
        if not check(0 < d <= rule.max_edit, f"edit distance {shown} ≤ {rule.max_edit}", f"edit distance {shown} (wanted 1–{rule.max_edit})"):
            return False, why
    for fact in rule.revision if facts else ():
        if not check(fact in s.facts, f"submission: {fact}", f"submission: not {fact}"):
            return False, why
    return True, why
