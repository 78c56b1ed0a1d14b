"""Which 事前 rows of its submission a row goes with (the linked-jizen fact): same cause, instance or system named."""

from __future__ import annotations

from typing import Any

from piachange import model
from piachange.predicates import system_terms
from piachange.rules import RuleSet, Subject
from piachange.schema import load_form


class Links:
    """The 事前 rows of each submission, indexed by what links a row to them: cause, instance, system named."""

    def __init__(self, changes: list[model.Change], subjects: list[Subject], rs: RuleSet) -> None:
        self.changes, self.subjects = changes, subjects
        self.common = set(rs.settings.get("common_systems", ()))
        self.rows: dict[tuple[str, ...], list[int]] = {}
        self.index: dict[tuple[tuple[str, ...], tuple[str, Any]], list[int]] = {}
        self.seen: dict[int, tuple[set[tuple[str, ...]], set[str]]] = {}
        self.order: dict[int, tuple[str, tuple[str, ...], int]] = {}  # how linked rows are listed

    def add(self, group: tuple[str, ...], j: int) -> None:
        """Record that row ``j`` is a 事前 row of ``group`` (rows are added in input order)."""
        self.rows.setdefault(group, []).append(j)
        self.order[j] = (self.changes[j].file, self.changes[j].path, j)
        for key in self._keys(j):
            self.index.setdefault((group, key), []).append(j)

    def has_other(self, group: tuple[str, ...], i: int) -> bool:
        """Return True when the submission has a 事前 row other than row ``i``."""
        return any(j != i for j in self.rows.get(group, ()))

    def of(self, group: tuple[str, ...], i: int) -> list[int]:
        """Return the 事前 rows of the submission that row ``i`` goes with, by item, then input order."""
        # by item, not by input order: explain, given the rows in date order, links the same way
        found = {j for key in self._keys(i) for j in self.index.get((group, key), ()) if j != i}
        return sorted(found, key=self.order.__getitem__)

    def why(self, i: int, linked: list[int]) -> tuple[str, ...]:
        """Return, per 事前 row j that row i goes with, 「item」 and why (same cause, same instance, same system named)."""
        if not linked:
            return ()
        a, (mine, names) = self.subjects[i].cause, self._about(i)
        out = []
        for j in linked:
            b, (theirs, their_names) = self.subjects[j].cause, self._about(j)
            if a is not None and b is not None and a.id == b.id:
                why = f"same cause {a.label}"
            elif shared := mine & theirs:
                why = f"same {load_form(self.changes[i].form).label_path(max(shared, key=len)).split(' ')[-1]}"
            else:
                both = names & their_names
                why = f"both name {'、'.join(sorted(both))}" if both else ""
            out.append(f"「{self.changes[j].item}」: {why}")
        return tuple(out)

    def _keys(self, i: int) -> list[tuple[str, Any]]:
        cause = self.subjects[i].cause
        instances, names = self._about(i)
        keys: list[tuple[str, Any]] = [("cause", cause.id)] if cause is not None else []
        return keys + [("instance", x) for x in instances] + [("names", t) for t in names]

    def _about(self, i: int) -> tuple[set[tuple[str, ...]], set[str]]:
        """Return the nested repeated-group instances (システムn, 委託事項n, 提供先n …) a change lies in
        and the systems it names, less the common ones every assessment names."""
        if i not in self.seen:
            ch = self.changes[i]
            instances = {ch.path[: k + 1] for k, seg in enumerate(ch.pattern.split(".")) if seg == "*" and 2 <= k < len(ch.path)}
            found = system_terms(f"{ch.before_text}\n{ch.after_text}")
            if ch.pattern == "basic.systems.*.name":
                found |= {v for v in (ch.before, ch.after) if isinstance(v, str) and v.strip()}
            self.seen[i] = instances, {t for t in found if t not in self.common}
        return self.seen[i]
