"""Causes and overrides: what a commit (PIA-Cause, PIA-Timing, PIA-Reason) or the configuration says about items.

Trailer syntax (docs/rules.md)::

    PIA-Cause: 法令改正 (Ⅰ-5②, files.*.acquisition.*)
    PIA-Timing: 事後 (Ⅱ-6①保管場所)
    PIA-Reason: 保管場所の表記を統一しただけで、保管場所は変わらない

The part in parentheses (optional; ``(`` or ``（``) scopes the statement to some items: entries
separated by ``,`` / ``，`` / ``;``, each a key-path glob (``files.*.acquisition``) or an item
name as ``piachange show`` accepts it (``Ⅱ-3①入手元``, a full label). Without a scope the
statement covers every item the commit changed that no scoped statement of the same kind covers.
"""

from __future__ import annotations

import copy
import dataclasses
import difflib
import functools
import re
import unicodedata
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Iterator, Mapping

from piachange import model
from piachange.document import complete
from piachange.errors import PiaError
from piachange.predicates import glob_matches, is_glob
from piachange.resolve import file_free, matches, norm_label, resolve_printed
from piachange.schema import FORM_KINDS, Form, load_form, lookup, named_instance
from piachange.trailers import commit_line, trailer_lines

TIMINGS = ("事前", "事後")
CAUSE_TIMINGS = ("事前", "事後", "revision")
CAUSE_KEYS = {"id", "label", "aliases", "timing", "template", "reason", "note"}
OVERRIDE_KEYS = {"commit", "item", "file", "timing", "cause", "reason"}
TRAILERS = ("PIA-Cause", "PIA-Timing", "PIA-Reason")
OTHER_TRAILERS = ("PIA-Date",)  # read by the report builder (変更日)
_STATEMENT = re.compile(r"^(?P<name>[^(（]*?)\s*(?:[(（](?P<scope>.*)[)）])?\s*$", re.DOTALL)
_SCOPE_SPLIT = re.compile(r"[,，;；]")
_ID = re.compile(r"^[a-z0-9][a-z0-9-]*$")
_PIA_LINE = re.compile(r"^(PIA-[A-Za-z-]*)\s*[:：]", re.IGNORECASE)  # a line that means to be a PIA-* trailer


@functools.lru_cache(maxsize=1024)
def norm_name(name: str) -> str:
    """Fold width and case of a cause or timing name (never applied to document text)."""
    return " ".join(unicodedata.normalize("NFKC", name).casefold().split())


@dataclass(frozen=True)
class Cause:
    """One entry of the cause vocabulary: how a stated cause files its rows."""

    id: str
    label: str
    aliases: tuple[str, ...] = ()
    timing: str = "事前"  # 事前 | 事後 | revision (the timing of the submission)
    template: str = ""  # a [templates] id
    reason: str | None = None  # literal 説明 text instead of a template
    note: str = ""
    origin: str = "default"

    def names(self) -> tuple[str, ...]:
        return (self.id, self.label, *self.aliases)


@dataclass(frozen=True)
class Statement:
    """A cause or a forced timing stated for some items of one commit."""

    commit: str  # sha, or a sha prefix for recorded overrides
    origin: str  # where it was said, for messages and explain
    cause: Cause | None = None
    timing: str = ""  # set for overrides
    reason: str = ""
    scope: tuple[str, ...] = ()
    file: str = ""  # recorded overrides: limit to one assessment (path or 評価書番号)
    line: int = 0  # the line of the commit message it was said on (0: piachange.toml, or not known)

    @property
    def where(self) -> str:
        """Return where it was said, for an error: with the line of the message when known."""
        return f"{self.origin}, message line {self.line}" if self.line else self.origin

    @property
    def is_override(self) -> bool:
        return bool(self.timing)

    def describe(self) -> str:
        what = f"PIA-Timing {self.timing}" if self.is_override else f"cause {self.cause.label if self.cause else '?'}"
        scope = f" ({', '.join(self.scope)})" if self.scope else ""
        return f"{what}{scope} — {self.origin}"


def parse_causes(entries: Any, source: str, where: str, templates: set[str],
                 check_text: Callable[[str, str, str], None] | None = None) -> list[Cause]:
    """Validate a list of cause tables and return the causes; ``check_text(text, where, source)``
    checks the placeholders of a literal reason."""
    out: list[Cause] = []
    for at, raw in table_entries(entries, where, source, CAUSE_KEYS):
        cid = _text(raw, "id", at, source, required=True)
        if not _ID.match(cid):
            raise PiaError(f"{source}: '{at}.id' {cid!r} must be lower-case letters, digits and '-'")
        timing = _text(raw, "timing", at, source, required=True)
        if timing not in CAUSE_TIMINGS:
            raise PiaError(f"{source}: '{at}.timing' must be one of {', '.join(CAUSE_TIMINGS)}, not {timing!r}")
        template = _text(raw, "template", at, source)
        if template and template not in templates:
            raise PiaError(f"{source}: '{at}.template' {template!r} is not a template{_hint(template, templates)}")
        aliases = raw.get("aliases", [])
        if not isinstance(aliases, list) or not all(isinstance(a, str) and a.strip() for a in aliases):
            raise PiaError(f"{source}: '{at}.aliases' must be a list of names")
        reason = raw.get("reason")
        if reason is not None and not isinstance(reason, str):
            raise PiaError(f"{source}: '{at}.reason' must be text")
        if reason is not None and check_text is not None:
            check_text(reason, f"{at}.reason", source)
        out.append(Cause(cid, _text(raw, "label", at, source, required=True), tuple(aliases), timing, template, reason,
                         _text(raw, "note", at, source), source))
    return out


def merge_causes(defaults: list[Cause], extra: list[Cause], source: str) -> tuple[Cause, ...]:
    """Return the vocabulary: an organisation's cause replaces the default of the same id, others are added."""
    merged = {c.id: c for c in defaults}
    for c in extra:
        merged[c.id] = c
    seen: dict[str, str] = {}
    for c in merged.values():
        for name in c.names():
            key = norm_name(name)
            if key in seen and seen[key] != c.id:
                raise PiaError(f"{source}: cause name {name!r} is used by both '{seen[key]}' and '{c.id}'")
            seen[key] = c.id
    return tuple(merged.values())


def find_cause(causes: Iterable[Cause], name: str) -> Cause | None:
    """Return the cause ``name`` names (id, label or alias; case and width do not matter)."""
    key = norm_name(name)
    return next((c for c in causes if key in {norm_name(n) for n in c.names()}), None)


def known_causes(causes: Iterable[Cause]) -> str:
    return ", ".join(c.label for c in causes)


def parse_overrides(entries: Any, source: str, causes: tuple[Cause, ...]) -> tuple[Statement, ...]:
    """Validate recorded overrides (``[[overrides]]``: commit, item, file, timing + reason or cause)."""
    out: list[Statement] = []
    for at, raw in table_entries(entries, "overrides", source, OVERRIDE_KEYS):
        sha = _text(raw, "commit", at, source, required=True).lower()
        if not re.fullmatch(r"[0-9a-f]{7,40}", sha):
            raise PiaError(f"{source}: '{at}.commit' must be a commit hash of at least 7 hex digits, not {sha!r}")
        item = raw.get("item", [])
        scope = [item] if isinstance(item, str) else item
        if not isinstance(scope, list) or not all(isinstance(s, str) and s.strip() for s in scope):
            raise PiaError(f"{source}: '{at}.item' must be an item name, a key glob or a list of them")
        timing, cause_name = _text(raw, "timing", at, source), _text(raw, "cause", at, source)
        reason = _text(raw, "reason", at, source)
        if bool(timing) == bool(cause_name):
            raise PiaError(f"{source}: '{at}' needs either 'timing' (with 'reason') or 'cause'")
        cause = None
        if timing:
            timing = unicodedata.normalize("NFKC", timing).strip()
            if timing not in TIMINGS:
                raise PiaError(f"{source}: '{at}.timing' must be 事前 or 事後, not {timing!r}")
            if not reason.strip():
                raise PiaError(f"{source}: '{at}' forces timing {timing} without a 'reason': say why")
        else:
            cause = find_cause(causes, cause_name)
            if cause is None:
                raise PiaError(f"{source}: '{at}.cause' {cause_name!r} is not a known cause (known: {known_causes(causes)})")
        out.append(Statement(sha, f"{source} {at}", cause, timing, reason, tuple(s.strip() for s in scope),
                             _text(raw, "file", at, source)))
    return tuple(out)


def commit_statements(commit: model.Commit, causes: tuple[Cause, ...], recorded: bool = False) -> tuple[Statement, ...]:
    """Return what a commit's PIA-* trailers state; raise PiaError naming the commit and the line
    of its message for a bad one. ``recorded``: the configuration records statements for the
    commit ([[overrides]]), which settle what a PIA-Reason alone left unsaid in a commit that can
    no longer be changed."""
    return _commit_statements(commit.sha, commit.message, commit.trailers, causes, recorded)


@functools.lru_cache(maxsize=4096)
def _commit_statements(sha: str, message: str, trailers: tuple[tuple[str, str], ...],
                       causes: tuple[Cause, ...], recorded: bool = False) -> tuple[Statement, ...]:
    who = commit_line(sha, message)
    lines = trailer_lines(message, trailers)

    def at(i: int) -> str:
        return commit_line(sha, message, lines[i])

    out: list[Statement] = []
    timings: list[tuple[str, tuple[str, ...], int]] = []
    reasons: list[tuple[str, int]] = []
    for i, (key, value) in enumerate(trailers):
        canon = next((t for t in TRAILERS if t.lower() == key.strip().lower()), None)
        if canon is None:
            known = (*TRAILERS, *OTHER_TRAILERS)
            if key.strip().lower().startswith("pia-") and key.strip().lower() not in {t.lower() for t in known}:
                raise PiaError(f"{at(i)}: unknown trailer '{key}'{_hint(key, known)}")
            continue
        if canon == "PIA-Reason":
            if not value.strip():
                raise PiaError(f"{at(i)}: empty PIA-Reason")
            reasons.append((value.strip(), i))
            continue
        name, scope = split_statement(value, at(i), canon)
        if canon == "PIA-Cause":
            cause = find_cause(causes, name)
            if cause is None:
                close = difflib.get_close_matches(norm_name(name), [norm_name(n) for c in causes for n in c.names()], n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                raise PiaError(f"{at(i)}: unknown cause {name!r} in PIA-Cause{hint}; known causes: {known_causes(causes)}")
            out.append(Statement(sha, f"PIA-Cause of {who}", cause, scope=scope, line=lines[i]))
        else:
            timing = unicodedata.normalize("NFKC", name).strip()
            if timing not in TIMINGS:
                raise PiaError(f"{at(i)}: PIA-Timing must be 事前 or 事後, not {name!r}")
            timings.append((timing, scope, i))
    if timings and not reasons:
        raise PiaError(f"{at(timings[0][2])}: PIA-Timing needs a PIA-Reason trailer that says why")
    if timings and len(reasons) not in (1, len(timings)):
        raise PiaError(f"{at(timings[0][2])}: {len(timings)} PIA-Timing trailers but {len(reasons)} PIA-Reason trailers:"
                       " give one reason, or one per PIA-Timing")
    for n, (timing, scope, i) in enumerate(timings):
        out.append(Statement(sha, f"PIA-Timing of {who}", None, timing, reasons[n if len(reasons) > 1 else 0][0], scope, line=lines[i]))
    if reasons and not timings and not out and not recorded:  # a forgotten PIA-Timing would leave the row to the rules, silently
        raise PiaError(f"{at(reasons[0][1])}: PIA-Reason without PIA-Timing or PIA-Cause decides nothing: state the timing"
                       " (PIA-Timing: 事前 or 事後) or the cause (PIA-Cause) it explains; for a commit already shared,"
                       " record them in piachange.toml ([[overrides]])")
    if reasons and not timings:
        out = [dataclasses.replace(s, reason=reasons[0][0]) for s in out]
    return tuple(out)


def stray_lines(commit: model.Commit) -> tuple[tuple[int, str], ...]:
    """Return (line, key) of each PIA-* line of a commit's message that git does not read as a
    trailer: not in the last paragraph, in a paragraph with other text, or with a full-width colon.
    What such a line states is dropped: the commit being made is stopped (report --staged), and a
    report over history says so in a finding (statements.py), as the commit can no longer change."""
    return _stray(commit.message)


@functools.lru_cache(maxsize=4096)
def _stray(message: str) -> tuple[tuple[int, str], ...]:
    read = set(trailer_lines(message))
    found = ((n, _PIA_LINE.match(line)) for n, line in enumerate(message.split("\n"), 1))
    return tuple((n, m.group(1)) for n, m in found if m and n not in read)


def stray_text(commit: model.Commit, line: int, key: str) -> str:
    """Return what is wrong with a PIA-* line that is not read as a trailer (see stray_lines)."""
    return (f"{commit_line(commit.sha, commit.message, line)}: {key} is not read as a trailer: trailers are read from the"
            " message's last paragraph only, every line of it 'Key: value' (ASCII colon)")


def split_statement(value: str, who: str, key: str) -> tuple[str, tuple[str, ...]]:
    """Split ``法令改正 (Ⅰ-5②, files.*.acquisition.*)`` into the name and the scope entries."""
    m = _STATEMENT.match(value.strip())
    if not m or not m.group("name").strip():
        raise PiaError(f"{who}: {key} {value!r}: expected a name, optionally followed by (item, item, …)")
    scope: tuple[str, ...] = ()
    if m.group("scope") is not None:
        scope = tuple(s.strip() for s in _SCOPE_SPLIT.split(m.group("scope")) if s.strip())
        if not scope:
            raise PiaError(f"{who}: {key} {value!r}: empty item list in parentheses")
    return m.group("name").strip(), scope


class ScopeIndex:
    """Resolves scope entries against the items a commit changed, once per commit and assessment.

    An entry is resolved in each assessment the commit changed, on the items of its form with
    the files it changed named as the table names them (「Ⅱ 特定個人情報ファイルの概要
    (予防接種ファイル) 2. …」), so a 項目 copied from the table names its item; where an entry
    names several items (「Ⅱ-2⑤」 of an assessment with two files), the ones the commit changed
    there are meant."""

    def __init__(self, changes: list[model.Change], named: Mapping[tuple[str, str], FileNames] | None = None) -> None:
        self.changes = changes
        self.named = named  # net mode: (commit, assessment) -> the names of the files as that commit left them
        self.cache: dict[tuple[str, str, str, str], tuple[str, ...] | None] = {}
        self.checked: set[tuple[str, str, tuple[str, ...]]] = set()
        self.used: set[tuple[str, str]] = set()
        self.where: dict[tuple[str, str], model.Change] = {}

    @functools.cached_property
    def changed(self) -> dict[tuple[str, str, str], _Changed]:
        """Return, by (commit, assessment, form), the items the commit changed there and the
        names of the files they are in: worked out once a statement has a scope."""
        out: dict[tuple[str, str, str], _Changed] = {}
        for ch in self.changes:
            for c in ch.commits:
                paths, names = out.setdefault((c.sha, ch.assessment, ch.form), (set(), {}))
                paths.update((ch.path, *ch.copy_of))
                then = self.named.get((c.sha, ch.assessment)) if self.named is not None else None
                # a net change carries the names at the end of the range; the commit named its files as they were then
                for path, name in then if then is not None else ((ch.path, ch.named),) if ch.named else ():
                    names[named_instance(load_form(ch.form), path) or path] = name
        return out

    def covers(self, st: Statement, change: model.Change, sha: str) -> bool:
        """Return True when the statement's scope names the change's item (or an ancestor of it)."""
        hit = False
        paths = (change.path, *change.copy_of)  # a place printing an item again goes with the item
        for entry in st.scope:
            self.where.setdefault((st.where, entry), change)
            if is_glob(entry):
                ok = any(glob_matches(entry, p) for p in paths)
            else:
                target = self._resolve(entry, sha, change.assessment, change.form, st)
                ok = target is not None and any(p[: len(target)] == target for p in paths)
            if ok:
                self.used.add((st.where, entry))
                hit = True
        return hit

    def unused(self) -> list[model.Finding]:
        """Return a finding for each scope entry that named none of the items its commit changed."""
        return [model.Finding(ch.assessment, ch.file, f"{origin}: scope entry {entry!r} names no item this commit changed"
                              " here, so the statement applies to nothing")
                for (origin, entry), ch in self.where.items() if (origin, entry) not in self.used]

    def check(self, st: Statement, sha: str) -> None:
        """Raise PiaError when an item name in the scope names nothing in any assessment the commit
        changed (in any form, where it changed none), or names several there."""
        if (st.origin, sha, st.scope) in self.checked:
            return
        self.checked.add((st.origin, sha, st.scope))
        where = [(a, f) for (s, a, f) in self.changed if s == sha] or [("", f) for f in FORM_KINDS]
        for entry in st.scope:
            if is_glob(entry):
                forms = sorted({f for _, f in where})
                if not any(glob_names_node(entry, f, printed=True) for f in forms):
                    raise PiaError(f"{st.where}: scope entry {entry!r} names no item of a {'/'.join(forms)} form")
                continue
            errors: list[PiaError] = []
            for assessment, f in where:
                try:
                    self._resolve(entry, sha, assessment, f, st, strict=True)
                    break
                except PiaError as e:
                    errors.append(e)
            else:  # it names the statement and the entry already (_resolve); an entry naming several items
                # in one assessment fails there whatever the others have, so that is what is said
                raise next((e for e in errors if re.search(r"' names \d+ items", str(e))), errors[0])

    def _resolve(self, entry: str, sha: str, assessment: str, form_kind: str, st: Statement,
                 strict: bool = False) -> tuple[str, ...] | None:
        key = (entry, sha, assessment, form_kind)
        if key in self.cache and not strict:
            return self.cache[key]
        form = load_form(form_kind)
        paths, names = self.changed.get((sha, assessment, form_kind), (set(), {}))
        data = _skeleton(form_kind)
        def changed(target: tuple[str, ...]) -> bool:
            return any(p[: len(target)] == target for p in paths)

        if names:  # several files: a file the commit did not change is not the skeleton's unnamed first one
            _drop_unnamed(form, data, changed)
        for p in paths:
            _plant(data, p)

        try:
            found: tuple[str, ...] | None = resolve_printed(form, data, entry, names, prefer=changed).path
        except PiaError as e:
            found = self._unnamed(form, data, entry, names, changed) if "names" not in str(e) else None
            if found is None and (strict or "names" in str(e)):
                raise PiaError(f"{st.where}: scope entry {entry!r}: {e}") from None
        self.cache[key] = found
        return found

    @staticmethod
    def _unnamed(form: Form, data: dict[str, Any], entry: str, names: dict[tuple[str, ...], str],
                 changed: Callable[[tuple[str, ...]], bool]) -> tuple[str, ...] | None:
        """Return the item an entry names in a file the commit did not change, whose name is not
        known here (「Ⅱ … (健康管理ファイル) 2. …」 where only 予防接種ファイル changed), else None;
        _OTHER_FILE where the skeleton has no unnamed file to stand for it (only files.1 changed)."""
        bare = _NAMED.sub("", entry)
        if not names or bare == entry:
            return None
        try:
            found = resolve_printed(form, data, bare, names).path
        except PiaError:  # no file of the skeleton is left unnamed (the commit changed 健康管理ファイル, files.1)
            given = {norm_label(m.group(0))[1:-1] for m in _NAMED.finditer(entry)}
            if given & {norm_label(n) for n in names.values()}:
                return None  # it names a file the commit changed: the item is wrong
            hits = matches(form, data, bare, {}) or (matches(form.printed, data, bare, {}) if form.copies else [])
            in_a_file = bool(hits) and all(file_free(form.printed, it.path) != it.path for it in hits)
            return _OTHER_FILE if in_a_file else None
        return None if changed(found) else found  # a changed file is named in the table: its name was wrong


def _drop_unnamed(form: Form, data: dict[str, Any], changed: Callable[[tuple[str, ...]], bool]) -> None:
    """Remove from a skeleton the instances of each repeat that names its instances (特定個人情報ファイル)
    that hold nothing ``changed``: in an assessment with several files each file is named, and the
    skeleton's first instance, unnamed, would stand for a file it is not (「Ⅱ 特定個人情報ファイルの概要」
    would name files.1 alone, not the whole of Ⅱ)."""
    for node in form.nodes:
        if node.named_by and node.key == "*":
            table = lookup(data, tuple(node.parts[:-1]))
            if isinstance(table, dict):
                for k in [k for k in table if k.isdigit() and not changed((*node.parts[:-1], k))]:
                    del table[k]


_NAMED = re.compile(r"\s*[(（][^()（）]+[)）]")
_OTHER_FILE = ("",)  # an item of a file the commit did not change: a path no change has
FileNames = tuple[tuple[tuple[str, ...], str], ...]  # (item path, the name of the file it is in) of one commit's items
_Changed = tuple[set[tuple[str, ...]], dict[tuple[str, ...], str]]


def _skeleton(form_kind: str) -> dict[str, Any]:
    """Return a fresh copy of every item of the form, each repeat with its first instance."""
    return copy.deepcopy(_blank_form(form_kind))


@functools.cache
def _blank_form(form_kind: str) -> dict[str, Any]:
    return complete(load_form(form_kind), {}, instances=True)


def _plant(data: dict[str, Any], path: tuple[str, ...]) -> None:
    """Make sure ``path`` exists in ``data`` so that instances such as システム4 can be named."""
    node = data
    for seg in path[:-1]:
        nxt = node.get(seg)
        if not isinstance(nxt, dict):
            nxt = node[seg] = {}
        node = nxt
    if path and path[-1] not in node:
        node[path[-1]] = {}


@functools.cache
def glob_names_node(glob: str, form_kind: str, printed: bool = False) -> bool:
    """Return True when a key glob names at least one item of the form (digits stand for instances);
    ``printed``: or a place that prints one again (risks.1.file_name, Form.printed)."""
    form = load_form(form_kind).printed if printed else load_form(form_kind)
    probe = ".".join("*" if seg.isdigit() else seg for seg in glob.split("."))
    return any(glob_matches(probe, n.path) or glob_matches(glob, n.path.replace("*", "1")) for n in form.nodes) or glob in ("*", "**")


def table_entries(entries: Any, where: str, source: str, allowed: set[str]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Yield (``where[n]``, table) of an array of tables whose keys are all in ``allowed``; raise PiaError otherwise."""
    if not isinstance(entries, list):
        raise PiaError(f"{source}: '{where}' must be an array of tables ([[{where}]])")
    for i, raw in enumerate(entries):
        at = f"{where}[{i + 1}]"
        if not isinstance(raw, dict):
            raise PiaError(f"{source}: '{at}' must be a table")
        unknown_keys(raw, allowed, at, source)
        yield at, raw


def unknown_keys(table: dict[str, Any], allowed: set[str], where: str, source: str) -> None:
    """Raise PiaError for the first key of ``table`` not in ``allowed``, with a did-you-mean."""
    for k in sorted(set(table) - allowed):
        raise PiaError(f"{source}: unknown key '{where}.{k}'{_hint(k, allowed)}" if where else f"{source}: unknown key '{k}'{_hint(k, allowed)}")


def _hint(word: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, sorted(choices), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _text(raw: dict[str, Any], key: str, at: str, source: str, required: bool = False) -> str:
    v = raw.get(key, "")
    if not isinstance(v, str):
        raise PiaError(f"{source}: '{at}.{key}' must be text")
    if required and not v.strip():
        raise PiaError(f"{source}: '{at}' needs '{key}'")
    return v
