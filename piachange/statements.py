"""What the commits (PIA-* trailers) and recorded overrides state about each changed item.

A commit changes many items: its trailers are read once, and what it states without naming items
(no scope, no recorded override for it) is worked out once for all of them.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Mapping

from piachange import model
from piachange.causes import Cause, FileNames, ScopeIndex, Statement, commit_statements, stray_lines, stray_text
from piachange.rules import RuleSet


@dataclass(frozen=True)
class Stated:
    """What the commits say about one change: its cause, a forced timing, and notes."""

    cause: Cause | None = None
    cause_reason: str = ""
    override: Statement | None = None
    considered: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()


_Plain = tuple[list[Statement], list[Statement], list[str]]  # causes, forced timings, notes


class Statements:
    """The statements of the commits of one classification, applied change by change."""

    def __init__(self, changes: list[model.Change], rs: RuleSet, named: Mapping[tuple[str, str], FileNames] | None = None) -> None:
        self.rs = rs
        self.scopes = ScopeIndex(changes, named)
        self.said: dict[str, tuple[Statement, ...]] = {}
        self.plain: dict[str, _Plain | None] = {}
        self.unscoped: dict[tuple[str, ...], Stated] = {}  # by the commits of a change
        self.seen: dict[str, tuple[model.Commit, model.Change]] = {}  # commits of the changes read, with the first of them
        self.matched: set[int] = set()  # ids of the recorded overrides that applied to a change

    def of(self, ch: model.Change) -> Stated:
        """Return the cause and forced timing the commits (and recorded overrides) state for this change."""
        shas = tuple(c.sha for c in ch.commits)
        if shas in self.unscoped:
            return self.unscoped[shas]
        unscoped = True
        per_commit: list[list[Statement]] = []
        overrides: list[Statement] = []
        considered: list[str] = []
        for c in ch.commits:
            recorded = [o for o in self.rs.overrides if c.sha.lower().startswith(o.commit) and o.file in ("", ch.file, ch.old_file, ch.assessment, ch.number)]
            self.seen.setdefault(c.sha, (c, ch))
            self.matched.update(id(o) for o in recorded)
            plain = None if recorded else self._plain(c)
            if plain is not None:  # the same for every item the commit changed
                # but not kept for them when an override is recorded for another of its assessments (file = …)
                unscoped = unscoped and self.uniform(c)
                per_commit.append(plain[0])
                overrides += plain[1]
                considered += plain[2]
                continue
            unscoped = False
            said = list(self._said(c))
            for st in said + recorded:
                if st.scope:
                    self.scopes.check(st, c.sha)
            # both are evaluated so that every scope entry is checked against the item (see ScopeIndex.unused)
            rec_causes, own_causes = (self._applicable([s for s in group if not s.is_override], ch, c.sha) for group in (recorded, said))
            rec_forced, own_forced = (self._applicable([s for s in group if s.is_override], ch, c.sha) for group in (recorded, said))
            causes, forced = rec_causes or own_causes, rec_forced or own_forced
            per_commit.append(causes)
            overrides += [dataclasses.replace(s, commit=c.sha) for s in forced]
            considered += [s.describe() for s in causes + forced]
        out = _combine(ch, per_commit, overrides, considered)
        if unscoped:
            self.unscoped[shas] = out
        return out

    def uniform(self, c: model.Commit) -> bool:
        """Return True when what the commit states applies alike to every item it changed: no scope
        and no override recorded for it, so nothing is resolved against the commit's other items."""
        return self._plain(c) is not None and not self._recorded(c.sha) and not stray_lines(c)  # classified again with its submission, so its finding is made again

    def unused(self) -> list[model.Finding]:
        """Return a finding for each scope entry that named none of the items its commit changed, for
        each recorded override whose ``file`` named none of the assessments its commit changed, and
        for each PIA-* line that is not read as a trailer in a commit with nothing recorded for it."""
        out = self.scopes.unused()
        for c, ch in self.seen.values():
            if not self._recorded(c.sha):
                out += [model.Finding(ch.assessment, ch.file, f"{stray_text(c, line, key)}, so what it states is ignored:"
                                      " record it in piachange.toml ([[overrides]])") for line, key in stray_lines(c)]
        for o in self.rs.overrides:
            sha = next((x for x in sorted(self.seen) if x.lower().startswith(o.commit)), None)
            if o.file and sha is not None and id(o) not in self.matched:
                out.append(model.Finding("", o.file, f"{o.origin}: file {o.file!r} is none of the assessments of this report's"
                                         f" rows that commit {sha[:9]} changed (a path, 評価書番号 or identity), so the override"
                                         " applies to no row here"))
        return out

    def _recorded(self, sha: str) -> bool:
        """Return whether the configuration records an override for the commit ([[overrides]])."""
        return any(sha.lower().startswith(o.commit) for o in self.rs.overrides)

    def _said(self, c: model.Commit) -> tuple[Statement, ...]:
        if c.sha not in self.said:
            self.said[c.sha] = commit_statements(c, self.rs.causes, self._recorded(c.sha))
        return self.said[c.sha]

    def _plain(self, c: model.Commit) -> _Plain | None:
        """Return the causes, forced timings and notes of a commit whose statements have no scope, else None."""
        if c.sha not in self.plain:
            said = self._said(c)
            causes, forced = [s for s in said if not s.is_override], [s for s in said if s.is_override]
            notes = [s.describe() for s in causes + forced]
            unscoped = not any(s.scope for s in said)
            self.plain[c.sha] = (causes, [dataclasses.replace(s, commit=c.sha) for s in forced], notes) if unscoped else None
        return self.plain[c.sha]

    def _applicable(self, statements: list[Statement], ch: model.Change, sha: str) -> list[Statement]:
        """Return the statements whose scope names the item, else the unscoped ones."""
        if not statements:
            return []
        scoped = [s for s in statements if s.scope and self.scopes.covers(s, ch, sha)]
        return scoped or [s for s in statements if not s.scope]


def _combine(ch: model.Change, per_commit: list[list[Statement]], overrides: list[Statement], considered: list[str]) -> Stated:
    """Return what the commits state together: a cause when every commit states one (事前 wins), or
    when one of them is filed 事前, as a forced 事前 holds: a commit that changed the item again
    without a cause cannot make the change less important (a cause filed 事後 is dropped then)."""
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
        jizen = [s for g in stated for s in g if s.cause and s.cause.timing == "事前"]
        if jizen:
            cause, reason = jizen[0].cause, jizen[0].reason
            warnings.append(f"cause {cause.label if cause else ''} holds (filed 事前) although commit {', '.join(bare)} changed this"
                            " item too without a PIA-Cause for it")
        else:
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
