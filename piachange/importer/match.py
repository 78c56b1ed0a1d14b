"""Label matching: printed labels (with their variants) to form nodes.

Matching is tolerant (full/half width, Ⅲ/III, spaces, ※ marks, 担保/確保, 規定/規程, the
「事務に必要な情報」 family); the caller reports every match that was not exact.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

from piachange.importer.text import label_text, nfkc
from piachange.schema import Form, Node

# Same item, different wording across form versions and seeds (forms.md §8).
_FOLDS = (
    ("事務に必要なのない情報", "事務に必要のない情報"),
    ("事務に必要な情報", "事務に必要のない情報"),
    ("他システムとの接続", "他のシステムとの接続"),
    ("確保", "担保"),
    ("規程", "規定"),
)
_NUMBER = re.compile(r"^(?:[①-⑳]|\d{1,2}\.|(?:VI|IV|V|I{1,3})(?=[^A-Za-z]))")
_EDITORIAL_KINDS = {"count", "attachments", "flag"}
_PLACEHOLDER = re.compile(r"^(システム|委託事項|提供先|移転先)\d+[～~〜-]\d+$")


def norm(text: str, fold: bool = True) -> str:
    """Return a label reduced for comparison: no markup, NFKC, no spaces, no ※ note, variants folded."""
    s = nfkc(label_text(text))
    s = re.sub(r"\s*※\s*(?:\([^()]*\))?\s*$", "", s)  # the ※ mark and its (…を除く。) note; text after it is a value
    s = re.sub(r"\s+", "", s)
    if fold:
        for a, b in _FOLDS:
            s = s.replace(a, b)
    return s


def _printed(node: Node) -> bool:
    """Return whether the form prints this node's label (editorial labels are ours)."""
    if node.kind in _EDITORIAL_KINDS or node.key in ("title", "cover", "diagram") or not node.label:
        return False
    return "editorial" not in node.note


@dataclass(frozen=True)
class Hit:
    """A label cell matched to a node; ``note`` says how the print differs from the form."""

    node: Node
    instance: str = ""  # repeat heading: the printed instance number
    rest: str = ""  # text printed after the label in the same cell
    note: str = ""  # "" for an exact match
    tail: str = ""  # the end of a label the print cut off (it may follow on the next line)


class Labels:
    """Every printed way of naming the nodes of one form."""

    def __init__(self, form: Form) -> None:
        self.form = form
        self.order = {n.path: i for i, n in enumerate(form.nodes)}
        self.full: dict[str, list[Node]] = {}  # folded number+label
        self.bare: dict[str, list[Node]] = {}  # folded label without number
        self.exact: dict[str, set[str]] = {}  # node path -> unfolded keys
        self.repeats: list[tuple[re.Pattern[str], Node]] = []
        self.prefixes: set[str] = set()
        for node in form.nodes:
            if node.prefix:
                self.prefixes.add(norm(node.prefix))
            if node.kind == "repeat":
                if "{n}" in node.label:
                    pat = re.escape(norm(node.label.replace("{n}", "\x00"))).replace("\x00", r"(\d+)")
                    self.repeats.append((re.compile(f"^{pat}$"), node))
                continue
            if not _printed(node):
                continue
            full, bare = norm(node.heading()), norm(node.label)
            self.full.setdefault(full, []).append(node)
            self.bare.setdefault(bare, []).append(node)
            self.exact[node.path] = {norm(node.heading(), False), norm(node.label, False)}

    def placeholder(self, cell: str) -> bool:
        """Return whether the cell is a placeholder heading such as システム2～5."""
        return bool(_PLACEHOLDER.match(norm(cell)))

    def repeat(self, cell: str) -> Hit | None:
        """Return a repeat heading (システム2, 委託事項1 …) with the text printed after it."""
        lt = label_text(cell)
        head, _, rest = lt.partition(" ")
        for text, tail in ((lt, ""), (head, rest)):
            key = norm(text)
            for rx, node in self.repeats:
                m = rx.match(key)
                if m:
                    return Hit(node, instance=str(int(m.group(1))), rest=tail.strip())
        return None

    def lookup(self, cell: str) -> list[Hit]:
        """Return every node the cell names exactly (up to tolerated variants)."""
        key = norm(cell)
        if not key:
            return []
        hits = [self._hit(n, cell) for n in self.full.get(key, [])]
        if hits:
            return hits
        m = _NUMBER.match(key)
        if m:
            printed_no, rest = m.group(0), key[m.end():]
            out = []
            for n in self.bare.get(rest, []):
                if n.number and nfkc(n.number).replace(" ", "") != printed_no:
                    out.append(Hit(n, note=f"printed number {printed_no} differs from the form's {n.heading()}"))
                elif not n.number:
                    out.append(Hit(n, note=f"printed with a number ({printed_no}) the form does not have"))
            return out
        return [self._hit(n, cell) for n in self.bare.get(key, [])]

    def _hit(self, node: Node, cell: str) -> Hit:
        """Return a hit noting how the printed label differs from the form's (if it does)."""
        printed = norm(cell, False)
        m = _NUMBER.match(printed)
        variants = {printed, printed[m.end():] if m else printed}
        if variants & self.exact.get(node.path, set()):
            return Hit(node)
        return Hit(node, note=f"label printed as 「{label_text(cell)}」; the form reads 「{node.heading()}」")

    def is_prefix(self, cell: str) -> bool:
        """Return whether the cell is only a heading printed before items (再委託, ④使用の主体 …)."""
        return norm(cell) in self.prefixes

    def split(self, cell: str) -> tuple[list[Hit], str] | None:
        """Return the longest label the cell starts with and the value printed after it."""
        lt = label_text(cell)
        cuts = [m.start() for m in re.finditer(r"[\s\u3000]+|(?=\[)", lt)]
        for cut in sorted(cuts, reverse=True):
            left, right = lt[:cut], lt[cut:].strip(" \u3000")
            if len(norm(left)) < 3 or not right:
                continue
            hits = self.lookup(left)
            if hits:
                return hits, right
        return None

    def closest(self, cell: str, cutoff: float = 0.8) -> list[Hit]:
        """Return nodes whose label is close to the cell (garbled or cut-off labels), best first."""
        key = norm(cell)
        m = _NUMBER.match(key)
        body = key[m.end():] if m else key
        if len(body) < 6:
            return []
        scored: list[tuple[float, str]] = []
        for bare in self.bare:
            if len(bare) < 4:
                continue
            ratio = difflib.SequenceMatcher(None, body, bare, autojunk=False).ratio()
            if bare.startswith(body) and len(body) >= 10:
                ratio = max(ratio, 0.9)
            if ratio >= cutoff:
                scored.append((ratio, bare))
        scored.sort(reverse=True)
        out: list[Hit] = []
        for ratio, bare in scored[:3]:
            for n in self.bare[bare]:
                cut = bare.startswith(body)
                what = "cut off" if cut else f"garbled ({ratio:.0%} alike)"
                note = f"label printed as 「{label_text(cell)}」 ({what}); closest form label 「{n.heading()}」"
                out.append(Hit(n, note=note, tail=bare[len(body):] if cut else ""))
        return out
