"""What classify keeps between rows and between calls (answers per item, per rule set, per template)
never changes an answer."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from piachange import model
from piachange.classify import classify
from piachange.config import Config, parse_config
from piachange.diff import diff_documents
from piachange.document import load_bytes
from piachange.fmt import format_data
from piachange.schema import load_form

JST = dt.timezone(dt.timedelta(hours=9))
HANDLING = ("juten", {"disclosure": {"inquiry": {"handling": "記録する"}}}, {"disclosure": {"inquiry": {"handling": "記録を残す"}}})


def changes(form: str, before: dict[str, Any], after: dict[str, Any], sha: str = "b" * 40) -> list[model.Change]:
    """Return the changes of one commit between two documents."""
    def load(data: dict[str, Any], blob: str) -> Any:
        text = format_data(load_form(form), {"meta": {"form": form, "schema_version": 1}, **data})
        return load_bytes(text.encode(), "assessments/x.toml", blob)

    commit = model.Commit(sha, "山田 花子", dt.datetime(2026, 3, 16, 9, tzinfo=JST), "変更")
    return [dataclasses.replace(ch, commits=(commit,)) for ch in diff_documents(load(before, "a"), load(after, "b"))]


def test_rows_of_one_item_are_decided_by_their_own_texts() -> None:
    law = changes("juten", {"basic": {"linkage": {"legal_basis": "番号法第19条第7号"}}},
                  {"basic": {"linkage": {"legal_basis": "番号法第19条第8号"}}}, "b" * 40)
    other = changes("juten", {"basic": {"linkage": {"legal_basis": "番号法第19条第8号"}}},
                    {"basic": {"linkage": {"legal_basis": "条例で定める事務"}}}, "c" * 40)
    rows, _ = classify(law + other + law, config=Config(), per_commit=True)
    assert [r.rule for r in rows] == ["law-reference-only", "star-substantive", "law-reference-only"]


def test_each_call_follows_its_own_rule_set() -> None:
    chs = changes(*HANDLING)
    off = parse_config({"rules": [{"id": "default-jigo", "enabled": False}]}, "piachange.toml")
    assert [r.rule for r in classify(chs, config=Config(), per_commit=True)[0]] == ["default-jigo"]
    assert [r.rule for r in classify(chs, config=off, per_commit=True)[0]] == ["no-rule"]
    assert [r.rule for r in classify(chs, config=Config(), per_commit=True)[0]] == ["default-jigo"]


def test_a_reason_with_escapes_conversions_and_format_specs_is_filled_by_the_formatter() -> None:
    reason = "{{括弧}}{item}／{timing:>4}／{rule!r}／{path}"
    config = parse_config({"rules": [{"id": "handling", "path": "disclosure.inquiry.handling", "timing": "事後",
                                      "reason": reason}]}, "piachange.toml")
    [row], _ = classify(changes(*HANDLING), config=config, per_commit=False)
    values = {"item": row.change.item, "timing": "事後", "rule": "handling", "path": "disclosure.inquiry.handling"}
    assert row.reason == reason.format(**values) == f"{{括弧}}{row.change.item}／  事後／'handling'／disclosure.inquiry.handling"
