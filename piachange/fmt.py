"""The canonical writer: schema order, regenerated label comments, one string style.

A comment that is not a generated label comment is kept: it is written on its own line
just above the key or table it preceded (or, when it trailed a key, just above that key).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from piachange.document import Document, complete
from piachange.schema import Form, Node
from piachange.tomlscan import Path, Scan
from piachange.wareki import to_wareki

_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+\Z")  # \Z: "$" would accept a trailing newline
_BANNER = re.compile(r"^# ─+ .* ─+$")
_CTRL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_QUOTE_RUN = re.compile(r'"(?=""|"?\Z)')
# what may follow a label in a generated comment: ※, ※(…), [選択肢: …], [複数選択], (和暦)
_GENERATED_TAIL = re.compile(r"(?:\s+(?:※(?:\([^)]*\))?|\[[^\]]*\]|\([^)]*\)))*")
# the 和暦 reading written after a date; stale ones must go when the date changes
_WAREKI_NOTE = re.compile(r"^\((?:令和|平成|昭和|大正|明治)(?:元|\d+)年\d+月\d+日\)$")


def key_str(key: str) -> str:
    """Return a TOML key, quoted when it is not bare."""
    return key if _BARE_KEY.match(key) else basic_string(key)


def basic_string(s: str) -> str:
    """Return a one-line TOML basic string."""
    out = s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t").replace("\r", "\\r")
    out = _CTRL.sub(lambda m: f"\\u{ord(m.group()):04x}", out)
    return f'"{out}"'


def string_value(s: str) -> str:
    """Return the canonical TOML form of a string: basic for one line, literal ''' for several."""
    if "\n" not in s:
        return basic_string(s)
    if "'''" not in s and not s.endswith("'") and not _CTRL.search(s.replace("\t", "")) and "\r" not in s:
        return "'''\n" + s + "'''"
    body = s.replace("\\", "\\\\").replace("\r", "\\r")
    body = _CTRL.sub(lambda m: f"\\u{ord(m.group()):04x}", body)  # tab and newline stay as they are
    # escape each quote that would start a closing """ (a run of three, or quotes at the very end)
    body = _QUOTE_RUN.sub(r'\\"', body)
    return '"""\n' + body + '"""'


def value_str(v: Any) -> str:
    """Return a TOML value in canonical style."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, str):
        return string_value(v)
    if isinstance(v, list):
        if not v:
            return "[]"
        if all(not isinstance(x, (list, dict)) for x in v) and sum(len(str(x)) for x in v) < 60 and all("\n" not in str(x) for x in v):
            return "[" + ", ".join(value_str(x) for x in v) + "]"
        return "[\n" + "".join(f"  {value_str(x)},\n" for x in v) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{key_str(k)} = {value_str(x)}" for k, x in v.items()) + " }"
    raise TypeError(f"cannot write {type(v).__name__}")


def label_comment(form: Form, node: Node, n: str | None = None) -> str:
    """Return the generated comment text for a node (without ``# ``)."""
    text = " ".join(w for w in (node.prefix, node.heading(n)) if w)
    if node.star is True:
        text += " ※"
    if node.star_note:
        text += " " + node.star_note
    if node.kind == "choice":
        text += " [選択肢: " + " / ".join(node.choices) + "]"
    elif node.kind == "checks":
        text += " [複数選択]"
    return text.strip()


class _Writer:
    def __init__(self, form: Form, data: dict, sc: Scan | None) -> None:
        self.form, self.data, self.sc = form, data, sc
        self.out: list[str] = []

    def kept(self, path: Path, generated: list[str], date: bool = False) -> list[str]:
        """Return the user comments attached to ``path`` (generated-looking ones dropped)."""
        if self.sc is None:
            return []
        keep: list[str] = []
        for c in self.sc.comments.get(path, []):
            if _BANNER.match(c) or _is_generated(c, generated):
                continue
            keep.append(c)
        t = self.sc.trailing.get(path)
        if t and not _is_generated(t, generated) and not (date and _WAREKI_NOTE.match(t.lstrip("#").strip())):
            keep.append(t)
        return keep

    def line(self, text: str) -> None:
        self.out.append(text)

    def header(self, path: Path, comment: str, generated: list[str], double: bool = False) -> None:
        for c in self.kept(path, generated):
            self.line(c)
        name = ".".join(key_str(str(p)) for p in path if not isinstance(p, int))
        h = f"[[{name}]]" if double else f"[{name}]"
        self.line(f"{h}  # {comment}" if comment else h)

    def keyval(self, path: Path, key: str, value: Any, comment: str, generated: list[str]) -> None:
        is_date = isinstance(value, dt.date) and not isinstance(value, dt.datetime)
        for c in self.kept(path, generated, date=is_date):
            self.line(c)
        text = value_str(value)
        if "\n" in text:
            if comment:
                self.line(f"# {comment}")
            self.line(f"{key_str(key)} = {text}")
        else:
            extra = f" ({to_wareki(value)})" if is_date else ""
            c = (comment + extra).strip()
            self.line(f"{key_str(key)} = {text}  # {c}" if c else f"{key_str(key)} = {text}")

    def document(self) -> str:
        # [meta] is always written first, so comments that stood above it join the file's head
        head = [*self.sc.head, *self.kept(("meta",), [])] if self.sc is not None else []
        self.line("[meta]")
        for key in ("form", "schema_version", "source"):
            if key in self.data["meta"]:
                c = self.form.name if key == "form" else ""
                self.keyval(("meta", key), key, self.data["meta"][key], c, [c] if c else [])
        self.table("", self.data, ())
        body = _space_blocks([x for x in self.out if x != ""])
        if head:
            body = [*head, "", *body]
        if self.sc is not None and self.sc.tail:
            body += ["", *self.sc.tail]
        return "\n".join(body) + "\n"

    def table(self, pattern: str, table: dict, path: Path) -> None:
        """Write the scalar leaves of a table, then its sub-tables, in form order."""
        children = self.form.children.get(pattern, ())
        subtables: list[tuple[Node, str]] = []
        for node in children:
            if node.key == "*":
                for k in sorted((k for k in table if k.isdigit()), key=int):
                    subtables.append((node, k))
                continue
            if node.key not in table:
                continue
            v = table[node.key]
            if node.kind in ("group", "repeat", "checks", "attachments", "changes") or (node.kind == "list" and v):
                subtables.append((node, node.key))
            else:
                gen = _generated_for(self.form, node)
                self.keyval((*path, node.key), node.key, v, label_comment(self.form, node), gen)
        for node, key in subtables:
            self.subtable(node, key, table[key], (*path, key))

    def subtable(self, node: Node, key: str, value: Any, path: Path) -> None:
        n = key if node.key == "*" else None
        if len(path) == 1 and node.number:
            self.line(f"# ───────── {node.heading()} ─────────")
        comment = label_comment(self.form, node, n)
        gen = _generated_for(self.form, node, n)
        if node.kind == "checks":
            self.header(path, comment, gen)
            for opt in node.options:
                for k, label in _option_lines(opt):
                    if k in value:
                        self.keyval((*path, k), k, value[k], label, [label, opt.label])
        elif node.kind == "list":
            self.out.extend(self.kept(path, gen))  # a comment on an inline array of groups
            for i, group in enumerate(value):
                self.header((*path, i), comment, gen, double=True)
                for k in ("heading", "style", "items"):
                    if k in group:
                        self.keyval((*path, i, k), k, group[k], "", [])
        elif node.kind == "attachments":
            self.out.extend(self.kept(path, gen))  # [attachments] itself is never written
            for aid, att in value.items():
                # the id as a key: a raw id could hold a newline and break the comment
                head = f"{node.label} {key_str(aid)}".strip()
                self.header((*path, aid), head, [head, *gen])
                for k in ("title", "note", "columns", "rows"):
                    if k in att:
                        self.keyval((*path, aid, k), k, att[k], "", [])
        elif node.kind == "changes":
            rows = value.get("rows", [])
            self.header(path, comment, gen)
            self.out.extend(self.kept((*path, "rows"), []))
            if not rows:
                self.line("rows = []")
            for i, row in enumerate(rows):
                self.header((*path, "rows", i), "", [], double=True)
                for k in ("date", "item", "before", "after", "timing", "reason", "cause", "rule", "paths", "commits"):
                    if k in row:
                        self.keyval((*path, "rows", i, k), k, row[k], "", [])
        else:
            has_scalars = any(
                c.key in value and c.kind not in ("group", "repeat", "checks", "attachments", "changes", "list")
                for c in self.form.children.get(node.path, ())
            )
            if has_scalars or node.key == "*" or not value:
                self.header(path, comment, gen)
            else:
                self.out.extend(self.kept(path, gen))  # comments above an omitted header move down
            self.table(node.path, value, path)


def _space_blocks(lines: list[str]) -> list[str]:
    """Put one blank line before each table header together with the comments just above it."""
    out: list[str] = []
    for line in lines:
        if line.startswith("["):
            i = len(out)
            while i > 0 and out[i - 1].startswith("#"):
                i -= 1
            if i > 0 and out[i - 1] != "":
                out.insert(i, "")
        out.append(line)
    return out


def _option_lines(opt: Any) -> list[tuple[str, str]]:
    lines = [(opt.key, opt.label)]
    if opt.count:
        lines.append((f"{opt.key}_count", f"{opt.label} ( ) 件"))
    if opt.detail:
        lines.append((f"{opt.key}_detail", f"{opt.label} ( ) の記載"))
    return lines


def _generated_for(form: Form, node: Node, n: str | None = None) -> list[str]:
    """Return the texts a generated comment of this node may start with."""
    words = [label_comment(form, node, n), node.heading(n), node.label, node.prefix]
    return [w for w in words if w]


def _is_generated(comment: str, generated: list[str]) -> bool:
    """Return whether a comment is a label comment (perhaps stale); 「公表日は…」 is a person's note."""
    text = comment.lstrip("#").strip()
    return any(text.startswith(g) and _GENERATED_TAIL.fullmatch(text[len(g):]) for g in generated if g)


def format_document(doc: Document, newline: str = "\n") -> str:
    """Return the canonical text of a validated document (blanks filled, comments kept), its lines
    ended with ``newline`` (see newline_of)."""
    text = _Writer(doc.form, doc.data, doc.scan).document()  # Document.data is already complete
    return text if newline == "\n" else text.replace("\n", newline)  # a string value never holds a raw CR


def newline_of(raw: bytes) -> str:
    """Return the line ending a file keeps: CRLF where its first line ends so (git's core.autocrlf
    checks assessments out so on Windows), else LF. A CRLF in a multi-line string is read as LF,
    so the values are the same either way."""
    first = raw.find(b"\n")
    return "\r\n" if first > 0 and raw[first - 1] == 0x0D else "\n"


def render_new(form: Form) -> str:
    """Return a blank document of ``form`` with every item present."""
    data = complete(form, {"meta": {"form": form.kind, "schema_version": form.version}}, instances=True)
    return _Writer(form, data, None).document()


def format_data(form: Form, data: dict) -> str:
    """Return the canonical text of a plain document tree (e.g. built by the importer)."""
    return _Writer(form, complete(form, data), None).document()
