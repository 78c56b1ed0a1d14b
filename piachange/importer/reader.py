"""The reader: walks the extracted lines in order and places each printed row on the form.

A cursor remembers the last form node matched, so repeated labels (リスクに対する措置の内容,
その他の措置の内容 …) go to the next node of that name in print order; repeat headings
(システム2, 委託事項1 …) select the instance.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from piachange.importer import annex
from piachange.importer.blocks import Slot, State
from piachange.importer.match import Hit, norm
from piachange.importer.text import BOX, RADIO, TICK, english_words, label_text, nfkc, squash, strip_html
from piachange.importer.values import Parsed, parse_checks, parse_choice, parse_date, parse_flags, parse_text, take_count, take_labelled
from piachange.schema import Node

_WINDOW = 12  # a label in a later cell of a row must be this close to the cursor
_OUT_OF_ORDER = "printed out of the form's order"
_DEBRIS = re.compile(r"[\[\]○]")


@dataclass
class Target:
    """One label of a row and the cells printed after it."""

    hit: Hit
    cells: list[str] = field(default_factory=list)
    split: bool = False


class Reader(State):
    """Feed lines one by one; ``data`` grows into a document tree."""

    # ------------------------------------------------------------ lines

    def feed(self, no: int, raw: str) -> None:
        """Place one printed line."""
        cells = [c.strip() for c in raw.split("\t")]
        filled = [c for c in cells if c]
        if self.pdf_changes(no, raw):
            return
        if self.mode == "toc" and self.in_toc(filled):
            return
        if self.mode == "table" and self.table_row(no, cells, filled):
            return
        if self.mode == "besshi" and self.besshi_row(no, cells, filled):
            return
        if self.mode == "pair" and filled:
            self.cover_pair(no, cells, filled)
            return
        if not filled:
            if self.slot and self.slot.open:
                has = any(x.strip() for x in self.slot.lines)
                if self.pdf and (self.slot.inline or (self.slot.node.kind not in ("text", "checks") and has)):
                    self.finish()  # in PDF text a blank line ends a wrapped value (only free text runs on)
                else:
                    self.slot.lines.append("")
            return
        if self.junk(no, cells, filled):
            return
        if self.row(no, cells, raw):
            return
        if self.pdf and _debris(raw):
            if self.slot and self.slot.open and self.slot.node.kind in ("checks", "choice"):
                self.slot.lines.append(raw)
                return
            self.finish()
            self.debris.append((no, raw.strip()))
            return
        if self.mode == "diagram":
            self.unplace(no, raw, "(別添1) diagram text (the diagram is an image; store its path in annex_affair.diagram)")
        elif self.slot and self.slot.open and self._continues(raw):
            self.slot.lines.append(raw)
        else:
            self.finish()
            self.unplace(no, raw)

    def _continues(self, raw: str) -> bool:
        """Return whether a line may continue the open value (in PDF text only free text runs on)."""
        if not self.pdf or self.slot is None or self.slot.node.kind in ("text", "period", "list"):
            return True
        if self.slot.node.kind == "choice":
            return any(c in nfkc(raw) for c in self.slot.node.choices)
        return self.slot.node.kind == "date" and not any(x.strip() for x in self.slot.lines)

    # ------------------------------------------------------------ label rows

    def row(self, no: int, cells: list[str], raw: str) -> bool:
        """Place a row that starts with a label; return False when it does not."""
        tabbed = "\t" in raw.rstrip("\n")
        strict = self.mode == "records" or (self.slot is not None and self.slot.open and not tabbed and not self.pdf)
        targets: list[Target] = []
        for cell in cells:
            if not cell:
                continue
            first = not targets
            leaf_seen = any(t.hit.node.is_leaf for t in targets)
            got = self.match(no, cell, first, tabbed, strict, allow_split=not leaf_seen, near=bool(targets))
            if got == "skip":
                if not targets:
                    targets.append(Target(Hit(Node(path="", kind="prefix"))))
                continue
            if isinstance(got, Target):
                targets.append(got)
                words = [] if got.split else english_words(label_text(cell))
                if words:
                    self.review(no, "english", "", f"English word(s) inside a printed label: {', '.join(words)} (「{label_text(cell)}」) — check against the original")
                continue
            if not targets:
                return False
            targets[-1].cells.append(cell)
        if not targets:
            return False
        if self.mode in ("records", "diagram"):
            self.mode = ""
        for i, t in enumerate(targets):
            self.place(no, t, tabbed, last=i == len(targets) - 1, row=cells)
        return True

    def match(self, no: int, cell: str, first: bool, tabbed: bool, strict: bool, allow_split: bool, near: bool) -> Target | str | None:
        """Return what a cell names: a Target, "skip" (a heading printed before items), or None."""
        lt = label_text(cell)
        if not lt or self.labels.placeholder(cell):
            return "skip" if lt else None
        key = norm(cell)
        if key == "項目一覧":
            self.finish()
            self.mode = "toc"
            return "skip"
        rep = self.labels.repeat(cell)
        if rep is not None:
            return Target(rep)
        hit = self.pick(self.labels.lookup(cell), near)
        if hit is not None:
            return Target(hit)
        if self.labels.is_prefix(cell):
            return "skip"
        if strict:
            return None
        if allow_split:
            split = self.labels.split(cell)
            if split is not None:
                hit = self.pick(split[0], near)
                if hit is not None:
                    return Target(hit, [split[1]], split=True)
        if first and tabbed and len(lt) <= 120 and not lt.endswith("。"):
            hit = self.pick(self.labels.closest(cell), near)
            if hit is not None:
                self.label_tail = hit.tail
                return Target(hit)
        return None

    def pick(self, hits: list[Hit], near: bool) -> Hit | None:
        """Choose among nodes of the same name: the next one after the cursor in print order."""
        hits = [h for h in hits if self._reachable(h.node)]
        if not hits:
            return None
        order = self.labels.order
        ahead = sorted((order[h.node.path], i) for i, h in enumerate(hits) if order[h.node.path] > self.cursor)
        if ahead:
            idx, i = ahead[0]
            if near and idx - self.cursor > _WINDOW:
                return None
            return hits[i]
        if near:
            return None
        behind = max((order[h.node.path], i) for i, h in enumerate(hits))
        hit = hits[behind[1]]
        if hit.node.path == "files.*.name":
            return hit  # the I 3. / III 1. copies of the file name
        note = _OUT_OF_ORDER + (f"; {hit.note}" if hit.note else "")
        return Hit(hit.node, hit.instance, hit.rest, note)

    def _reachable(self, node: Node) -> bool:
        """Return False for an item of a repeated group the form may leave out (移転先) whose heading was never printed."""
        for i, seg in enumerate(node.parts[:-1]):
            rep = self.form.by_path.get(".".join(node.parts[: i + 1]))
            if seg == "*" and rep is not None and rep.min == 0 and rep.label and rep.path not in self.inst:
                return False
        return True

    def place(self, no: int, t: Target, tabbed: bool, last: bool, row: list[str]) -> None:
        """Apply one label of a row: a heading, a repeat heading or an item with its cells."""
        node = t.hit.node
        if node.kind == "prefix":
            if t.cells:
                self.unplace(no, " ".join(t.cells))
            return
        if node.kind == "repeat":
            self.enter_repeat(no, t)
        elif node.kind == "group":
            self.enter_group(no, t, row)
        else:
            self.start_slot(no, t, tabbed, last)

    def enter_group(self, no: int, t: Target, row: list[str]) -> None:
        """Move to a heading; place flags printed on its line, or open its only (unlabelled) item."""
        self.finish()
        node = t.hit.node
        self.cursor = self.labels.order[node.path]
        path = self.concrete(node)
        self.mark(path)
        self.label_note(no, t.hit, path)
        if node.path == "annex_affair":
            self.mode = "diagram"
        kids = self.form.children.get(node.path, ())
        flags = [k for k in kids if k.kind == "flag"]
        sole = [k for k in kids if k.is_leaf and not k.label]
        if flags and t.cells:
            values, parsed = parse_flags(flags, "\t".join(t.cells))
            for k in flags:
                if k.key in values:
                    self.put((*path, k.key), values[k.key])
                    self.where[(*path, k.key)] = no
                    self.printed[(*path, k.key)] = True
                    self.recognised.add((*path, k.key))
            self.notes(no, parsed, path)
            return
        if len(kids) == 1 and sole:
            self.slot = Slot(no, sole[0], (*path, sole[0].key), [c for c in t.cells], open=True)
            self.mark((*path, sole[0].key))
            return
        if t.cells and not self._duplicate(t.cells, row):
            self.unplace(no, "\t".join(t.cells), f"text on the heading line of {node.heading()}")

    def _duplicate(self, cells: list[str], row: list[str]) -> bool:
        """Return whether cells only repeat what later cells of the row print (a rendered table)."""
        later = re.sub(r"\s", "", squash(strip_html(" ".join(row[row.index(cells[-1]) + 1:]))))
        lines = [re.sub(r"\s", "", x) for c in cells for x in strip_html(c).split("\n")]
        return bool(later) and all(x in later for x in lines if x)

    def enter_repeat(self, no: int, t: Target) -> None:
        """Select instance n of a repeated group; the text beside the heading is its title."""
        self.finish()
        node, n = t.hit.node, t.hit.instance
        if node.max and int(n) > node.max:
            self.unplace(no, label_text(" ".join([node.label.replace("{n}", n), *t.cells])), f"{node.label.replace('{n}', n)} is beyond the form's maximum {node.max}")
            return
        self.inst[node.path] = n
        self.cursor = self.labels.order[node.path]
        path = self.concrete(node)
        table = self.data
        for seg in path:
            table = table.setdefault(seg, {})
        self.mark(path)
        title = " ".join(x for x in [t.hit.rest, *t.cells] if x)
        kid = self.form.by_path.get(f"{node.path}.title")
        if kid is not None:
            self.slot = Slot(no, kid, (*path, "title"), [title] if title else [], open=self.pdf and not title)
            self.finish()
        elif title:
            self.unplace(no, title, f"text beside {node.label.replace('{n}', n)}")

    def label_note(self, no: int, hit: Hit, path: tuple[str, ...]) -> None:
        """Review a label printed differently from the form."""
        if hit.note and not (self.pdf and hit.note == _OUT_OF_ORDER):
            self.review(no, "label", self.item(path), hit.note)

    # ------------------------------------------------------------ leaves

    def start_slot(self, no: int, t: Target, tabbed: bool, last: bool) -> None:
        """Open an item for the cells after its label (and, when blank or PDF text, the lines below)."""
        self.finish()
        node = t.hit.node
        path = self.concrete(node)
        copy = node.path == "files.*.name" and self._copy_of_name(t.hit)
        if not copy:
            self.cursor = self.labels.order[node.path]
            self.mark(path)
        if node.kind == "changes":
            self.label_note(no, t.hit, path)
            return
        value = "\t".join(t.cells)
        has = bool(value.strip())
        self.slot = Slot(no, node, path, [value] if has else [], open=last and (not has or not tabbed), copy=copy, note=t.hit.note, inline=has)
        if node.kind == "list":
            self.mode = "records"
            self.slot.open = True
        if not self.slot.open:
            self.finish()

    def _copy_of_name(self, hit: Hit) -> bool:
        """Return whether a 特定個人情報ファイル名 row is the I 3. or III 1. copy (files.<n>.name is II 1.)."""
        order = self.labels.order
        in_files = order.get("files", 0) <= self.cursor < order.get("risks", len(order))
        return not in_files or "differs" in hit.note

    def finish(self) -> None:
        """Parse the open slot's printed lines into its value."""
        s, self.slot = self.slot, None
        if s is None:
            return
        while s.lines and not s.lines[-1].strip():
            s.lines.pop()
        joined = "\t".join(s.lines)
        self.last_value = re.sub(r"[" + TICK + BOX + RADIO + r"\s]", "", nfkc(squash(strip_html(joined))))
        if s.copy:
            self.copies.append((s.line, parse_text(s.lines).value))
            return
        parsed = self.parse(s, joined)
        self.where[s.path] = s.line
        # an empty cell, bare option lists or empty boxes print nothing (the coverage denominator)
        self.printed[s.path] = (
            parsed.value not in ("", {}, []) or bool(parsed.leftover) or (s.node.kind == "checks" and bool(joined.strip()))
            or any(k == "no-tick" for k, _ in parsed.notes)  # boxes are printed, the tick is lost
        )
        if parsed.recognised and parsed.value not in ("", {}, []):
            self.recognised.add(s.path)
        old = self.put(s.path, parsed.value)
        quiet = s.note.startswith(_OUT_OF_ORDER) and (old == parsed.value or self.pdf)  # PDF order is flagged once
        if s.note and not quiet:
            self.review(s.line, "label", self.item(s.path), s.note)
        if old not in (None, "", {}, [], parsed.value) and s.node.kind != "checks":
            self.put(s.path, old)
            self.review(s.line, "repeated", self.item(s.path), "printed a second time with a different value; the first is kept")
            self.unplace(s.line, joined)
        self.notes(s.line, parsed, s.path)

    def parse(self, s: Slot, joined: str) -> Parsed:
        """Return the slot's value parsed by the item's kind."""
        kind = s.node.kind
        if kind in ("text", "period"):
            return parse_text(s.lines)
        if kind == "choice":
            joined = self.siblings(s, joined)
            return parse_choice(s.node, joined)
        if kind == "checks":
            return parse_checks(s.node.options, joined)
        if kind == "date":
            return parse_date(joined)
        if kind == "count":
            n, rest, note = take_count(joined)
            return Parsed(n, [note] if note else [], leftover=squash(strip_html(rest)))
        if kind == "list":
            return Parsed(annex.records(s.lines))
        return Parsed("", leftover=joined, recognised=False)

    def siblings(self, s: Slot, joined: str) -> str:
        """Take values printed inside a choice cell: 「(1) 件」 counts and 「(手数料額、納付方法: …)」 texts."""
        parent = s.node.path.rpartition(".")[0]
        base = s.path[:-1]
        for kid in self.form.children.get(parent, ()):
            if kid.prefix not in (s.node.label, s.node.heading()) or kid is s.node:
                continue
            if kid.kind == "count":
                n, joined, note = take_count(joined)
                self.put((*base, kid.key), n)
                self.where[(*base, kid.key)] = s.line
                self.printed[(*base, kid.key)] = n != ""
                if n != "":
                    self.recognised.add((*base, kid.key))
                if note:
                    self.review(s.line, note[0], self.item((*base, kid.key)), note[1])
            elif kid.kind == "text" and kid.label and re.search(re.escape(kid.label[:4]), joined):
                text, joined = take_labelled(joined, kid.label)
                if text:
                    self.put((*base, kid.key), text)
                    self.printed[(*base, kid.key)] = True
                    self.recognised.add((*base, kid.key))
        return joined

    def notes(self, line: int, parsed: Parsed, path: tuple[str, ...]) -> None:
        """Turn a parse's notes into review entries and keep its leftover text."""
        for kind, message in parsed.notes:
            self.review(line, kind, self.item(path), message)
        if parsed.leftover and not any(k == "extra-text" for k, _ in parsed.notes):
            self.unplaced.append((line, parsed.leftover))
            self.review(line, "unplaced", self.item(path), f"could not place 「{parsed.leftover[:60]}」")
        elif parsed.leftover:
            self.unplaced.append((line, parsed.leftover))


def _debris(raw: str) -> bool:
    """Return whether a PDF line is checkbox or layout debris (brackets, ○, vertical single characters)."""
    s = raw.strip(" \t\u3000")
    return bool(_DEBRIS.search(s)) or len(s) <= 2
