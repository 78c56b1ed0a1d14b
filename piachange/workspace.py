"""Files on disk: which assessments a PATH list names, and checking or formatting them."""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field

from piachange.atomic import write_atomic
from piachange.diff import identity
from piachange.document import Document, load_bytes, read_path
from piachange.errors import DocumentError, PiaError, Problem
from piachange.fmt import format_document, newline_of
from piachange.reassessment import reassessment_due

DEFAULT_DIR = "assessments"


def default_dir() -> str:
    """Return the assessments/ a command without PATH works on: the one in the current directory, else
    in the nearest directory above it, up to the repository's top (so it works from inside assessments/)."""
    here = d = os.getcwd()
    while True:
        found = os.path.join(d, DEFAULT_DIR)
        if os.path.isdir(found):
            return os.path.relpath(found, here)
        if os.path.exists(os.path.join(d, ".git")) or os.path.dirname(d) == d:
            return DEFAULT_DIR  # none: said as 'assessments: no such file or directory'
        d = os.path.dirname(d)


def expand(paths: list[str]) -> list[str]:
    """Return the .toml files named by ``paths`` (directories searched recursively), sorted.

    A named path that is missing, or a directory without .toml files, stays in the list so
    that reading it reports the problem next to the other files' results.
    """
    out: list[str] = []
    for p in paths or [default_dir()]:
        found: list[str] = []
        if os.path.isdir(p):
            for root, dirs, files in os.walk(p):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                found += [os.path.join(root, f) for f in sorted(files) if f.endswith(".toml")]
        out += found or [p]
    return out


@dataclass
class Outcome:
    """What a run over several files found; ``problems`` makes the exit status 1."""

    files: int = 0
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)


def _load(path: str, out: Outcome) -> tuple[Document, bytes] | None:
    try:
        raw = read_path(path)
        doc = load_bytes(raw, path)
    except DocumentError as e:
        # a directory here was named on the command line and holds no assessment
        problems = [Problem(path, 0, "is a directory without .toml files")] if os.path.isdir(path) else e.problems
        out.problems += problems
        return None
    out.warnings += doc.warnings
    return doc, raw


def check_paths(paths: list[str], today: dt.date | None = None) -> Outcome:
    """Validate every file; one bad file never hides the others. Two files that are one
    assessment to a report (the same 評価実施機関名 and 評価書番号) are a problem too. Given
    ``today``, a last assessment 5 years old or more is a warning (規則第15条)."""
    out = Outcome()
    first: dict[str, str] = {}  # identity -> the file that has it
    for path in expand(paths):
        out.files += 1
        loaded = _load(path, out)
        if loaded is not None and today is not None and (due := reassessment_due(loaded[0], today)) is not None:
            out.warnings.append(due)
        if loaded is None or not loaded[0].number:
            continue
        doc = loaded[0]
        name = identity(doc)
        if name in first:
            out.problems.append(Problem(path, doc.line_of(("cover", "number")),
                                        f"評価書番号 {doc.number!r}{f' of {doc.organization}' if doc.organization else ''} "
                                        f"is also the number of {first[name]}: a report would take the two for one assessment"))
        else:
            first[name] = path
    return out


def fmt_paths(paths: list[str], check_only: bool) -> Outcome:
    """Rewrite files into canonical form (or, with ``check_only``, list those that would change)."""
    out = Outcome()
    for path in expand(paths):
        out.files += 1
        loaded = _load(path, out)
        if loaded is None:
            continue
        doc, raw = loaded
        text = format_document(doc, newline_of(raw))
        if text.encode("utf-8") == raw:
            continue
        if not check_only:
            try:
                write_atomic(path, text)
            except PiaError as e:
                out.problems.append(Problem(path, 0, str(e).removeprefix(f"{path}: ")))
                continue
        out.changed.append(path)
    return out
