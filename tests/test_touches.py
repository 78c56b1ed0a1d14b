"""Which commits touched a net change's item: the item, what encloses it, what it encloses."""

from __future__ import annotations

import datetime as dt

from piachange import model
from piachange.touches import Touches

WHEN = dt.datetime(2026, 4, 1, tzinfo=dt.timezone.utc)


def commit(sha: str) -> model.Commit:
    return model.Commit(sha, "山田 花子", WHEN, "")


def change(assessment: str, *path: str) -> model.Change:
    return model.Change(assessment, "a.toml", "zenkomoku", path, "", "", model.MODIFIED, False, "", "", "", "")


def test_a_commit_touches_its_item_what_encloses_it_and_what_it_encloses() -> None:
    c1, c2, c3, c4 = (commit(s) for s in ("c1", "c2", "c3", "c4"))
    touches = Touches([
        (c1, [("市長 3", ())], []),  # the whole file (added)
        (c2, [("市長 3", ("basic", "systems", "2"))], []),  # the enclosing instance
        (c3, [("市長 3", ("basic", "systems", "2", "name"))], []),  # the item itself
        (c4, [("市長 3", ("basic", "systems", "3", "name")), ("市長 4", ("basic", "systems", "2", "name"))], []),
    ])
    assert touches.of(change("市長 3", "basic", "systems", "2", "name")) == (c1, c2, c3)
    assert touches.of(change("市長 3", "basic", "systems", "2")) == (c1, c2, c3)  # c3 changed something inside it
    assert touches.of(change("市長 4", "basic", "systems", "2", "name")) == (c4,)
    assert touches.of(change("市長 5", "basic")) == ()


def test_an_assessment_is_one_under_every_identity_the_range_gave_it() -> None:
    c1, c2, c3 = (commit(s) for s in ("c1", "c2", "c3"))
    touches = Touches([
        (c1, [("町長 3", ("basic", "affair", "name"))], []),
        (c2, [("市長 3", ("meta",))], [("町長 3", "市長 3")]),  # the town became a city
        (c3, [("市長 3", ("basic", "affair", "name"))], []),
    ])
    assert touches.of(change("市長 3", "basic", "affair", "name")) == (c1, c3)
    assert touches.of(change("町長 3", "basic", "affair", "name")) == (c1, c3)
