"""Which commits of a range touched which items: what a net row lists in its コミット column."""

from __future__ import annotations

from piachange import model
from piachange.compare import Link
from piachange.entries import Item


class Touches:
    """Which commits of the range touched which items, indexed so each net change is one lookup per level.

    A commit touches an item when its own diff changes the item, an enclosing instance or the
    whole file: one of the two paths is a prefix of the other. An assessment is the same one
    under every identity the range gave it (a commit that changed its 評価実施機関名 links the two).
    """

    def __init__(self, touched: list[tuple[model.Commit, list[Item], list[Link]]]) -> None:
        self.commits = [c for c, _, _ in touched]
        self.same: dict[str, str] = {}  # identity -> the one standing for all of its assessment's identities
        for _, _, links in touched:
            for a, b in links:
                ra, rb = self.one(a), self.one(b)
                if ra != rb:
                    self.same[rb] = ra
        self.at: dict[tuple[str, tuple[str, ...]], set[int]] = {}  # commits that changed exactly this path
        self.below: dict[tuple[str, tuple[str, ...]], set[int]] = {}  # … this path or anything inside it
        for i, (_, items, _) in enumerate(touched):
            for assessment, path in items:
                one = self.one(assessment)
                self.at.setdefault((one, path), set()).add(i)
                for k in range(len(path) + 1):
                    self.below.setdefault((one, path[:k]), set()).add(i)

    def one(self, name: str) -> str:
        """Return the identity standing for all of an assessment's identities in the range."""
        while name in self.same:
            name = self.same[name]
        return name

    def of(self, change: model.Change) -> tuple[model.Commit, ...]:
        """Return the commits that touched ``change``'s item, oldest first."""
        one = self.one(change.assessment)
        found = set(self.below.get((one, change.path), ()))
        for k in range(len(change.path)):
            found |= self.at.get((one, change.path[:k]), set())
        return tuple(self.commits[i] for i in sorted(found))
