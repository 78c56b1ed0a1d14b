"""Import a published assessment (text extracted from PDF/HTML) into canonical TOML.

``import_text`` reads the lines in order, places every recognised row on the form definition,
and returns the document tree, its canonical text, and the review list: every place where the
importer guessed or the source contradicts itself.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from typing import Any

from piachange.atomic import write_atomic
from piachange.document import decode, load_bytes
from piachange.errors import PiaError
from piachange.fmt import format_data
from piachange.importer.blocks import Review
from piachange.importer.reader import Reader
from piachange.importer.review import Coverage, check, coverage
from piachange.importer.text import nfkc
from piachange.schema import FORM_KINDS, load_form

__all__ = ["ImportResult", "Review", "Coverage", "detect_form", "import_file", "import_text", "report_json"]

_TITLES = {"全項目評価書": "zenkomoku", "重点項目評価書": "juten", "基礎項目評価書": "kiso"}
_YOSHIKI = {"4": "zenkomoku", "3": "juten", "2": "kiso"}


@dataclass(frozen=True)
class ImportResult:
    """What an import produced; ``text`` is the canonical TOML (with the unplaced block, if any)."""

    form: str
    data: dict[str, Any]
    text: str
    reviews: tuple[Review, ...]
    unplaced: tuple[tuple[int, str], ...]
    coverage: Coverage
    layout: str  # "table" (tab-separated cells) or "pdf" (reading order only)


def detect_form(text: str) -> str:
    """Return the form kind named by the title line (or the 様式 marker) of an extracted assessment."""
    head = nfkc("\n".join(text.splitlines()[:40]))
    m = re.search(r"特定個人情報保護評価書\s*\(\s*(全項目評価書|重点項目評価書|基礎項目評価書)\s*\)", head)
    if m:
        return _TITLES[m.group(1)]
    m = re.search(r"様式\s*(\d)", head)
    if m and m.group(1) in _YOSHIKI:
        return _YOSHIKI[m.group(1)]
    raise PiaError("cannot tell the form kind (no title such as 特定個人情報保護評価書(重点項目評価書)); use --form")


def import_text(text: str, form: str = "auto", source: str = "") -> ImportResult:
    """Return the canonical document, review list and coverage of one extracted assessment."""
    kind = detect_form(text) if form == "auto" else form
    if kind not in FORM_KINDS:
        raise PiaError(f"unknown form kind {form!r}: expected auto or one of {', '.join(FORM_KINDS)}")
    schema = load_form(kind)
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    pdf = not any("\t" in line for line in lines)
    reader = Reader(schema, pdf)
    for no, line in enumerate(lines, 1):
        reader.feed(no, line)
    reader.close()
    if pdf:
        reader.review(0, "layout", "", "no table cells in the source (PDF reading order): placement of repeated items and multi-line values is a guess; compare every item with the original")
    data: dict[str, Any] = {"meta": {"form": kind, "schema_version": schema.version, **({"source": source} if source else {})}}
    data.update(reader.data)
    check(schema, data, reader)
    reviews = tuple(sorted(reader.reviews, key=lambda r: (r.line == 0, r.line)))
    body = format_data(schema, data)
    return ImportResult(kind, data, body + _unplaced_block(reader.unplaced, source), reviews, tuple(reader.unplaced), coverage(schema, data, reader), "pdf" if pdf else "table")


def _unplaced_block(unplaced: list[tuple[int, str]], source: str) -> str:
    """Return the TOML comment block that keeps what could not be placed (never dropped silently)."""
    if not unplaced:
        return ""
    out = [
        "",
        "# ───────── UNPLACED (piachange import) ─────────",
        f"# Printed in {source or 'the source'} but not placed on the form. Move each text to its item",
        "# (or decide it is not needed), then delete this block before the first commit.",
    ]
    for line, text in unplaced:
        rows = text.split("\n")
        out.append(f"# line {line}: {rows[0]}" if line else f"# {rows[0]}")
        out += [f"#     {r}".rstrip() for r in rows[1:]]
    return "\n".join(out) + "\n"


def report_json(result: ImportResult, source: str = "") -> str:
    """Return the review list, unplaced text and coverage as JSON."""
    doc = {
        "source": source,
        "form": result.form,
        "layout": result.layout,
        "coverage": {
            "covered": result.coverage.covered,
            "recovered": result.coverage.recovered,
            "printed_blank": result.coverage.printed_blank,
            "share": round(result.coverage.share, 4),
        },
        "reviews": [{"line": r.line, "kind": r.kind, "item": r.item, "message": r.message} for r in result.reviews],
        "unplaced": [{"line": line, "text": text} for line, text in result.unplaced],
    }
    return json.dumps(doc, ensure_ascii=False, indent=2) + "\n"


def import_file(src: str, out: str | None = None, form: str = "auto", report: str | None = None, force: bool = False) -> ImportResult:
    """Import ``src``; check the result; write OUT and the JSON report (atomically) when given."""
    if out and os.path.exists(out) and not force:
        raise PiaError(f"{out}: already exists (an import would replace it; use --force)")
    try:
        with open(src, "rb") as fh:
            raw = fh.read()
    except OSError as e:
        raise PiaError(f"{src}: cannot read: {e.strerror}") from None
    result = import_text(decode(raw, src), form, source=os.path.basename(src))
    load_bytes(result.text.encode("utf-8"), out or "<stdout>")  # never hand out a document `check` rejects
    for target in (out, report):
        if target and not os.path.isdir(os.path.dirname(os.path.abspath(target))):
            raise PiaError(f"{target}: directory {os.path.dirname(os.path.abspath(target))} does not exist; nothing written")
    if out:
        write_atomic(out, result.text)
    if report:
        write_atomic(report, report_json(result, src))
    return result
