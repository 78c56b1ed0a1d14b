"""Classify semantic changes into rows of the 変更箇所 table: 事前/事後, 説明, deciding rule."""

from __future__ import annotations

from piachange import model
from piachange.config import Config


def classify(changes: list[model.Change], *, config: Config, per_commit: bool) -> tuple[list[model.Row], list[model.Finding]]:
    """Return one row per change (timing, 説明, rule id) and the findings of the submission."""
    rows = []
    for ch in changes:
        date = ch.commits[-1].date.date() if ch.commits else None
        if ch.star:
            rows.append(model.Row(change=ch, date=date, timing="事前", reason="", rule="star-substantive"))  # type: ignore[arg-type]
        else:
            rows.append(model.Row(change=ch, date=date, timing="事後", reason="重要な変更に当たらないため", rule="default-jigo"))  # type: ignore[arg-type]
    return rows, []
