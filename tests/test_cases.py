"""Classification cases as data: each folder of tests/cases is a real repository history.

A case folder holds ``before.toml`` (absent: the assessment is new), ``after.toml`` and
``message.txt`` (the second commit and its message, trailers included), optionally
``after2.toml`` + ``message2.txt`` … for more commits, ``piachange.toml`` (the organisation's
configuration, at the repository root), and ``expected.toml``::

    per_commit = false          # optional: report mode
    error = "…"                 # optional: building the report must fail with this text
    findings = ["…"]            # optional: texts each finding must contain (in order)

    [[rows]]
    item = "消去方法"            # part of the official label, or
    path = "files.1.storage.erasure"
    timing = "事前"
    rule = "cause:system"       # optional
    reason = "…"                # optional: the exact 説明
    warning = "…"               # optional: a warning must contain this ("" = no warnings)
    override = true             # optional

Every row the report prints must be listed (no more, no fewer).
"""

from __future__ import annotations

import pathlib
import tomllib
from typing import Any

import pytest

from piachange.errors import PiaError
from piachange.explanation import explain_range
from piachange.report import Options, build_report
from piachange.resolve import norm_label

from conftest import Repo

CASES = pathlib.Path(__file__).parent / "cases"
FILE = "assessments/x.toml"


def _names() -> list[str]:
    return sorted(p.name for p in CASES.iterdir() if (p / "expected.toml").exists())


def _steps(case: pathlib.Path) -> list[tuple[str, str]]:
    steps = [((case / "after.toml").read_text(encoding="utf-8"), (case / "message.txt").read_text(encoding="utf-8"))]
    n = 2
    while (case / f"after{n}.toml").exists():
        steps.append(((case / f"after{n}.toml").read_text(encoding="utf-8"), (case / f"message{n}.txt").read_text(encoding="utf-8")))
        n += 1
    return steps


def run_case(case: pathlib.Path, repo: Repo) -> tuple[dict[str, Any], Any]:
    """Build the case's repository and return (expected, report or the PiaError raised)."""
    expected = tomllib.loads((case / "expected.toml").read_text(encoding="utf-8"))
    if (case / "piachange.toml").exists():
        repo.write("piachange.toml", (case / "piachange.toml").read_text(encoding="utf-8"))
    if (case / "before.toml").exists():
        repo.write(FILE, (case / "before.toml").read_text(encoding="utf-8"))
    first = repo.commit("初版")
    for text, message in _steps(case):
        repo.write(FILE, text)
        repo.commit(message)
    try:
        return expected, build_report(Options(since=first, repo=str(repo.path), per_commit=expected.get("per_commit", False)))
    except PiaError as e:
        return expected, e


@pytest.mark.parametrize("name", _names())
def test_case(name: str, repo: Repo) -> None:
    expected, report = run_case(CASES / name, repo)
    if "error" in expected:
        assert isinstance(report, PiaError), f"expected an error containing {expected['error']!r}"
        assert expected["error"] in str(report)
        return
    assert not isinstance(report, PiaError), str(report)
    rows = list(report.rows)
    got = [(r.change.item, ".".join(r.change.path), r.timing, r.rule, r.reason, r.warnings) for r in rows]
    assert len(rows) == len(expected.get("rows", [])), f"rows printed: {got}"
    for want in expected.get("rows", []):
        matches = [r for r in rows if _row_is(r, want)]
        assert len(matches) == 1, f"{want} names {len(matches)} of the rows {got}"
        row = matches[0]
        assert row.timing == want["timing"], f"{want}: got {row.timing} by {row.rule} ({row.reason})"
        if "rule" in want:
            assert row.rule == want["rule"], f"{want}: decided by {row.rule}"
        if "reason" in want:
            assert row.reason == want["reason"]
        if "warning" in want:
            if want["warning"] == "":
                assert row.warnings == (), row.warnings
            else:
                assert any(want["warning"] in w for w in row.warnings), row.warnings
        assert row.override == want.get("override", False)
    found = [f.message for f in report.findings]
    assert len(found) == len(expected.get("findings", [])), found
    for text, message in zip(expected.get("findings", []), found):
        assert text in message


def _row_is(row: Any, want: dict[str, Any]) -> bool:
    if "path" in want:
        return ".".join(row.change.path) == want["path"]
    return norm_label(want["item"]) in norm_label(row.change.item)


def test_explain_agrees_with_the_report_on_a_scope_resolved_with_earlier_file_names(repo: Repo) -> None:
    """The names a commit saw are kept with a net submission's rows: explain, which classifies the
    rows again, gets them from a warm cache too."""
    case = CASES / "two-files-scope-by-name-then-file-renamed"
    _, report = run_case(case, repo)
    first = repo.git("rev-list", "--max-parents=0", "HEAD")
    for _ in range(2):  # cold, then from the cache
        data = explain_range(Options(since=first, repo=str(repo.path)))
        decided = {r["path"]: (r["decision"]["timing"], r["decision"]["rule"]) for r in data["rows"]}
        assert decided["files.2.acquisition.purpose"] == ("事後", "cause:minor")
        assert decided == {".".join(r.change.path): (r.timing, r.rule) for r in report.rows}
