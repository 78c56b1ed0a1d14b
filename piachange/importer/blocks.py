"""State shared by the reader, and the blocks that are not item rows.

The blocks: the 項目一覧 list, the 評価書番号 | 評価書名 row, the 変更箇所 table, (別紙n)
tables, and (for PDF text) the change table printed in reading order.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from piachange.importer import annex
from piachange.importer.match import Labels, norm
from piachange.importer.text import BOX, RADIO, TICK, is_choice_fragment, label_text, nfkc, squash, strip_html
from piachange.schema import Form, Node

_MARKER = re.compile(r"^\[?\s*(平成|令和)\s*\d+\s*年\s*\d+\s*月\s*様式\s*\d\s*\]?$")  # [平成30年５月　様式３]
# PDF text of a 変更箇所 table: compact item references (Ⅱ-3①入手元) and （削除） cells.
_PDF_CHANGES = re.compile(r"^\s*(?:[ⅠⅡⅢⅣⅤⅥ]-\d|（削除）\s*$|変更前の記載|提出時期に係る説明)")


@dataclass(frozen=True)
class Review:
    """One place a person must check before the first commit."""

    line: int
    kind: str
    item: str
    message: str


@dataclass
class Slot:
    """A leaf being filled from one or more printed lines."""

    line: int
    node: Node
    path: tuple[str, ...]
    lines: list[str]
    open: bool
    copy: bool = False
    note: str = ""  # how the printed label differs from the form
    inline: bool = False  # the value began on the label's line


class State:
    """The document being built and what is known about the source so far."""

    def __init__(self, form: Form, pdf: bool) -> None:
        self.form, self.pdf = form, pdf
        self.labels = Labels(form)
        self.data: dict[str, Any] = {}
        self.reviews: list[Review] = []
        self.unplaced: list[tuple[int, str]] = []
        self.cursor = -1
        self.inst: dict[str, str] = {}
        self.slot: Slot | None = None
        self.mode = ""
        self.printed_groups: set[tuple[str, ...]] = set()
        self.printed: dict[tuple[str, ...], bool] = {}  # leaf -> printed a value
        self.recognised: set[tuple[str, ...]] = set()
        self.where: dict[tuple[str, ...], int] = {}
        self.copies: list[tuple[int, str]] = []
        self.last_value = ""
        self.besshi = ""
        self.label_tail = ""
        self.block: list[tuple[int, str]] = []
        self.debris: list[tuple[int, str]] = []
        self.unplaced_end, self.unplaced_why = -9, ""
        self.toc_seen: set[str] = set()
        self.choices = {c for n in form.nodes for c in n.choices}
        self.toc = {norm(n.heading()) for n in form.nodes if len(n.parts) == 1 and n.number}
        self.toc |= {norm(n.label) for n in form.nodes if n.kind in ("list", "changes") or n.path == "annex_affair"}

    def finish(self) -> None:
        """Close the open slot (the reader parses it)."""
        raise NotImplementedError

    # ------------------------------------------------------------ helpers

    def review(self, line: int, kind: str, item: str, message: str) -> None:
        """Add one entry to the review list."""
        self.reviews.append(Review(line, kind, item, message))

    def unplace(self, line: int, text: str, why: str = "") -> None:
        """Keep printed text that has no place, merging it with the lines just before."""
        text = squash(strip_html(text)) if "\n" not in text else text
        if not text.strip():
            return
        last = self.reviews[-1] if self.reviews else None
        if self.unplaced and last is not None and last.kind == "unplaced" and self.unplaced_end >= line - 2 and self.unplaced_why == why:
            start, before = self.unplaced[-1]
            self.unplaced[-1] = (start, before + "\n" + text)
            self.reviews[-1] = Review(last.line, last.kind, last.item, f"{why + ': ' if why else ''}could not place lines {start}–{line} 「{before.split(chr(10))[0][:40]}…」")
        else:
            self.unplaced.append((line, text))
            short = text if len(text) <= 60 else text[:60] + "…"
            self.review(line, "unplaced", "", (why + ": " if why else "") + f"could not place 「{short}」")
        self.unplaced_end, self.unplaced_why = line, why

    def concrete(self, node: Node) -> tuple[str, ...]:
        """Return the node's path with the current instance numbers in place of ``*``."""
        out: list[str] = []
        for i, seg in enumerate(node.parts):
            out.append(self.inst.get(".".join(node.parts[: i + 1]), "1") if seg == "*" else seg)
        return tuple(out)

    def item(self, path: tuple[str, ...]) -> str:
        """Return the official label of a concrete path."""
        return self.form.label_path(path)

    def put(self, path: tuple[str, ...], value: Any) -> Any:
        """Set a value; return the value already there (None if none)."""
        table = self.data
        for seg in path[:-1]:
            table = table.setdefault(seg, {})
        old = table.get(path[-1])
        table[path[-1]] = value
        return old

    def mark(self, path: tuple[str, ...]) -> None:
        """Record that the source prints this item (and so its headings)."""
        for i in range(1, len(path) + 1):
            self.printed_groups.add(path[:i])

    # ------------------------------------------------------------ special blocks

    def in_toc(self, filled: list[str]) -> bool:
        """Skip the 項目一覧 entries; the block ends at the first line that is not a new entry."""
        if not filled:
            return True
        key = norm(" ".join(filled))
        if key in self.toc and key not in self.toc_seen:
            self.toc_seen.add(key)
            return True
        self.mode = ""
        return False

    def cover_pair(self, no: int, cells: list[str], filled: list[str]) -> None:
        """Place the row under 評価書番号 | 評価書名."""
        self.mode = ""
        if len(cells) >= 2:
            for key, cell in (("number", cells[0]), ("title", cells[1])):
                self.put(("cover", key), squash(strip_html(cell)))
                self.printed[("cover", key)] = bool(cell)
                if cell:
                    self.recognised.add(("cover", key))
            return
        text = filled[0]
        if re.fullmatch(r"\d+", nfkc(text)):
            self.put(("cover", "number"), nfkc(text) if text.isascii() else text)
            self.printed[("cover", "number")] = True
            self.recognised.add(("cover", "number"))
            self.slot = Slot(no, self.form.by_path["cover.title"], ("cover", "title"), [], open=True)
        else:
            self.slot = Slot(no, self.form.by_path["cover.title"], ("cover", "title"), [text], open=True)

    def table_row(self, no: int, cells: list[str], filled: list[str]) -> bool:
        """Add one 変更箇所 row; return False at the first line that is not one."""
        if not filled or annex.is_change_header(cells):
            return True
        got = annex.change_row(cells)
        if got is None:
            self.mode = ""
            return False
        row, notes, leftover = got
        rows = self.data.setdefault("changes", {}).setdefault("rows", [])
        rows.append(row)
        item = f"{self.form.changes_annex} row {len(rows)}"
        for kind, message in notes:
            self.review(no, kind, item, message)
        if leftover:
            self.unplaced.append((no, leftover))
        return True

    def besshi_row(self, no: int, cells: list[str], filled: list[str]) -> bool:
        """Add one (別紙n) row (the first row is the header); return False when the table ends."""
        if not filled:
            return True
        att = self.data["attachments"][self.besshi]
        if not att["columns"]:
            att["columns"] = [squash(strip_html(c)) for c in cells if c]
            return True
        if len(filled) < 2:
            self.mode = ""
            return False
        att["rows"].append(annex.besshi_row(cells, len(att["columns"])))
        return True

    def junk(self, no: int, cells: list[str], filled: list[str]) -> bool:
        """Return whether a line carries nothing to place (layout debris, repeated option tables)."""
        if all(re.fullmatch(r"[-|:\s]*-{3,}[-|:\s]*", c) for c in filled):  # markdown table rules
            return True
        if all(is_choice_fragment(c, self.choices) for c in filled):
            return True
        text = nfkc(label_text(" ".join(filled)))
        if re.sub(r"\s", "", text).startswith("特定個人情報保護評価書("):
            return True
        if _MARKER.match(text):
            if nfkc(self.form.yoshiki).replace(" ", "") not in text.replace(" ", ""):
                self.review(no, "form-version", "", f"form marker 「{' '.join(filled)}」 differs from {self.form.yoshiki}")
            return True
        if re.sub(r"\s", "", text) == "評価書番号評価書名":
            self.finish()
            self.mode = "pair"
            self.mark(("cover",))
            return True
        if annex.is_change_header(cells):
            self.finish()
            self.mode = "table"
            self.mark(("changes",))
            return True
        besshi = annex.besshi_heading(filled[0])
        if besshi:
            self.finish()
            self.mode, self.besshi = "besshi", besshi[0]
            self.put(("attachments", besshi[0]), {"title": besshi[1], "columns": [], "rows": []})
            self.mark(("attachments",))
            return True
        if self.label_tail and norm(" ".join(filled)) == self.label_tail:
            self.label_tail = ""
            return True  # the rest of a label the print broke over two lines
        key = re.sub(r"[" + TICK + BOX + RADIO + r"\s]", "", text)
        if len(key) >= 4 and key in self.last_value and not (self.slot and self.slot.open):
            return True  # a table cell the extraction printed twice
        return False

    def pdf_changes(self, no: int, raw: str) -> bool:
        """Collect a 変更箇所 table printed in PDF reading order (its cells cannot be paired)."""
        if self.mode != "pdf_changes":
            if not (self.pdf and _PDF_CHANGES.match(raw)):
                return False
            self.finish()
            self.mode = "pdf_changes"
        self.block.append((no, raw.rstrip()))
        return True

    def close(self) -> None:
        """Flush what is still collected at the end of the source."""
        self.finish()
        if self.block:
            first = self.block[0][0]
            text = "\n".join(t for _, t in self.block).strip("\n")
            self.unplaced.append((first, text))
            self.review(first, "unplaced", self.form.changes_annex, f"the table is printed in PDF reading order (lines {first}–{self.block[-1][0]}); its rows were not imported — enter them from the original")
        if self.debris:
            lines = ", ".join(str(n) for n, _ in self.debris[:12]) + ("…" if len(self.debris) > 12 else "")
            self.unplaced.extend(self.debris)
            self.review(self.debris[0][0], "unplaced", "", f"{len(self.debris)} line(s) of checkbox/option debris from the PDF layout could not be placed (lines {lines})")
