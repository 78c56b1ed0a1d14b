"""The plain data handed from stage to stage: semantic changes and classified rows.

git history ──> versions ──> Document ──> Change ──> Row ──> report model ──> templates
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

# Change kinds (the classifier's rules match on these names).
ADDED = "added"  # a leaf went from blank to a value
REMOVED = "removed"  # a leaf went from a value to blank
MODIFIED = "modified"  # text / date / period / list changed
CHOICE = "choice_changed"
COUNT = "count_changed"
FLAG = "flag_changed"
TICKED = "ticked"  # checkbox group: some options ticked, none unticked
UNTICKED = "unticked"  # checkbox group: some options unticked, none ticked
CHECKS = "checks_changed"  # checkbox group: both, or only ( ) details changed
INSTANCE_ADDED = "instance_added"  # a repeated-group instance (システム3, 委託事項2 …) appeared
INSTANCE_REMOVED = "instance_removed"
FILE_ADDED = "file_added"  # a new assessment
FILE_REMOVED = "file_removed"
CHANGE_KINDS = (ADDED, REMOVED, MODIFIED, CHOICE, COUNT, FLAG, TICKED, UNTICKED, CHECKS, INSTANCE_ADDED, INSTANCE_REMOVED, FILE_ADDED, FILE_REMOVED)


@dataclass(frozen=True)
class Commit:
    """One commit as piachange needs it (never a GitPython object)."""

    sha: str
    author: str
    date: dt.datetime  # committer date, timezone-aware
    message: str
    trailers: tuple[tuple[str, str], ...] = ()  # (key, value) in order, e.g. ("PIA-Cause", "法令改正")
    parents: tuple[str, ...] = ()


@dataclass(frozen=True)
class Change:
    """One changed item of one assessment between two versions."""

    assessment: str  # identity across renames: 評価実施機関名 and 評価書番号, else the path (diff.name_of)
    file: str  # repository path of the newer version (older one if removed)
    form: str  # zenkomoku | juten | kiso
    path: tuple[str, ...]  # concrete key path of the item (instance numbers as strings)
    pattern: str  # form node path (``*`` for instances)
    item: str  # full official label, instance named
    kind: str  # one of CHANGE_KINDS
    star: bool  # the item carries ※ (heading ※ and its exceptions applied)
    before: Any
    after: Any
    before_text: str  # rendered as the form prints it (記載なし, [ 十分である ], [○] …)
    after_text: str
    options: tuple[str, ...] = ()  # checkbox groups: the option keys that changed
    commits: tuple[Commit, ...] = ()  # oldest first; net mode: every commit that touched it
    old_file: str = ""  # set when the file was renamed
    number: str = ""  # 評価書番号, as the file gives it ('' when it has none)
    context: tuple[tuple[str, Any, Any], ...] = ()  # a しきい値判断 input's: (path, before, after) of every input, changed or not
    copy_of: tuple[tuple[str, ...], ...] = ()  # a place that prints stored items again: the paths of those that changed
    named: str = ""  # the file its 項目 names after the instance's heading, in an assessment with several (予防接種ファイル)


@dataclass(frozen=True)
class Row:
    """One row of the 変更箇所 table with the reviewer's extras."""

    change: Change
    date: dt.date
    timing: str  # 事前 | 事後
    reason: str  # 提出時期に係る説明
    rule: str  # id of the rule (or cause / override) that decided
    warnings: tuple[str, ...] = ()
    override: bool = False  # timing forced by PIA-Timing or a recorded override


@dataclass(frozen=True)
class Finding:
    """Something about a whole submission a person must read (e.g. a new assessment is required)."""

    assessment: str
    file: str
    message: str
    severity: str = "warning"  # warning | error


@dataclass(frozen=True)
class Report:
    """Everything a template renders; built once, rendered many ways."""

    since: str
    until: str
    per_commit: bool
    rows: tuple[Row, ...]
    assessments: tuple[dict, ...] = ()  # {"assessment", "file", "form", "title", "number"}
    findings: tuple[Finding, ...] = field(default=())
    has_jizen: bool = False
