"""A line scanner for TOML text: where each key path is, and which comments belong to it.

tomllib gives values but no positions; piachange needs both (``file:line:`` messages and
a formatter that keeps people's comments). The scanner only tracks structure (headers, keys,
multi-line strings and arrays); tomllib remains the judge of validity.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field

Path = tuple[str | int, ...]
_BARE = re.compile(r"[A-Za-z0-9_-]+")
_ESCAPES = {"b": "\b", "t": "\t", "n": "\n", "f": "\f", "r": "\r", '"': '"', "\\": "\\"}
_POS = re.compile(r"\s*\(at line (\d+), column (\d+)\)$")
_END = " (at end of document)"
# an integer literal longer than Python converts (sys.get_int_max_str_digits, 4300 digits)
_HUGE_INT = re.compile(r"(?:^|[=\[,])[ \t]*[+-]?(?:0[xob])?[0-9A-Fa-f_]{4000,}", re.MULTILINE)


@dataclass
class Scan:
    """Line numbers of key paths and the comments attached to them."""

    lines: dict[Path, int] = field(default_factory=dict)
    comments: dict[Path, list[str]] = field(default_factory=dict)  # full-line comments before a path
    trailing: dict[Path, str] = field(default_factory=dict)  # comment after a key on its line
    head: list[str] = field(default_factory=list)  # comments before the first statement
    tail: list[str] = field(default_factory=list)  # comments after the last statement
    unclosed: int = 0  # line where a multi-line string or array that never ends was opened
    deepest: int = 0  # line with the deepest bracket nesting (where a too-deep value is)
    repeated: dict[int, tuple[Path, int]] = field(default_factory=dict)  # line -> (path, first line)

    def line_of(self, path: Path) -> int:
        """Return the line of ``path`` or of its nearest written ancestor (0 if none)."""
        p = tuple(path)
        while p:
            if p in self.lines:
                return self.lines[p]
            p = p[:-1]
        return 0


def _parse_key(s: str, i: int) -> tuple[list[str], int]:
    """Parse a dotted key starting at s[i]; return its parts and the index after it."""
    parts: list[str] = []
    n = len(s)
    while True:
        while i < n and s[i] in " \t":
            i += 1
        if i < n and s[i] == '"':
            j = i + 1
            buf = []
            while j < n and s[j] != '"':
                if s[j] == "\\" and j + 1 < n:
                    text, j = _escape(s, j)
                    buf.append(text)
                    continue
                buf.append(s[j])
                j += 1
            parts.append("".join(buf))
            i = j + 1
        elif i < n and s[i] == "'":
            j = s.find("'", i + 1)
            j = n if j < 0 else j
            parts.append(s[i + 1 : j])
            i = j + 1
        else:
            m = _BARE.match(s, i)
            if not m:
                return parts, i
            parts.append(m.group())
            i = m.end()
        while i < n and s[i] in " \t":
            i += 1
        if i < n and s[i] == ".":
            i += 1
            continue
        return parts, i


def _escape(s: str, j: int) -> tuple[str, int]:
    """Return the character of the escape at s[j] (a backslash) and the index after it."""
    c = s[j + 1]
    width = {"u": 4, "U": 8}.get(c, 0)
    if not width:
        return _ESCAPES.get(c, c), j + 2
    try:
        return chr(int(s[j + 2 : j + 2 + width], 16)), j + 2 + width
    except ValueError:
        return "", j + 2 + width  # not a valid escape: tomllib rejects the file and says where


def _skip_value(s: str, i: int, state: dict) -> int:
    """Scan a value on one line from s[i]; update multi-line state; return index of a comment or len."""
    n = len(s)
    while i < n:
        c = s[i]
        if state.get("ml"):
            end = _closing(s, i, state["ml"])
            if end < 0:
                return n
            # a closing delimiter may be followed by up to two more quotes that belong to the text
            end += 3
            extra = 0
            while end < n and s[end] == state["ml"][0] and extra < 2:
                end, extra = end + 1, extra + 1
            state["ml"] = ""
            i = end
            continue
        if s.startswith('"""', i) or s.startswith("'''", i):
            state["ml"] = s[i : i + 3]
            i += 3
            continue
        if c == '"':
            j = i + 1
            while j < n and s[j] != '"':
                j += 2 if s[j] == "\\" else 1
            i = j + 1
            continue
        if c == "'":
            j = s.find("'", i + 1)
            i = n if j < 0 else j + 1
            continue
        if c in "[{":
            state["depth"] = state.get("depth", 0) + 1
            state["max"] = max(state.get("max", 0), state["depth"])
        elif c in "]}":
            state["depth"] = max(0, state.get("depth", 0) - 1)
        elif c == "#":
            return i
        i += 1
    return n


def _closing(s: str, i: int, delim: str) -> int:
    """Return where ``delim`` closes a multi-line string on this line, or -1; ``\\"`` escapes in basic strings."""
    if delim == "'''":
        return s.find(delim, i)
    n = len(s)
    while i < n:
        if s[i] == "\\":
            i += 2
        elif s.startswith(delim, i):
            return i
        else:
            i += 1
    return -1


def scan(text: str) -> Scan:
    """Scan TOML text into line numbers and comment attachments."""
    out = Scan()
    table: Path = ()
    aot: dict[Path, int] = {}
    pending: list[str] = []
    state: dict = {"ml": "", "depth": 0}
    current_key: Path | None = None
    seen_statement = False
    opened, deepest, lineno = 0, 0, 0
    # only "\n" ends a TOML line; str.splitlines() also splits at U+2028, \x1c, \x85 … inside strings
    rows = text.split("\n")
    if rows[-1] == "":
        rows.pop()
    for lineno, raw in enumerate(rows, start=1):
        if state.get("max", 0) > deepest:
            deepest, out.deepest = state["max"], lineno - 1
        line = raw.strip()
        if state["ml"] or state["depth"]:
            idx = _skip_value(raw, 0, state)
            if idx < len(raw) and not state["ml"] and current_key is not None:
                pending.append(raw[idx:].strip())
            continue
        opened = lineno
        if not line:
            continue
        if line.startswith("#"):
            pending.append(line)
            continue
        if not seen_statement:
            out.head, pending = pending, []
            seen_statement = True
        if line.startswith("[[") or line.startswith("["):
            double = line.startswith("[[")
            parts, j = _parse_key(line, 2 if double else 1)
            base: Path = tuple(parts)
            if double:
                aot[base] = aot.get(base, -1) + 1
                for k in [k for k in aot if k[: len(base)] == base and k != base]:
                    del aot[k]
                table = (*base, aot[base])
            else:
                table = _with_indexes(base, aot)
            _record(out, table, 1, lineno)
            rest = line[j:].lstrip("]").strip()
            if pending:
                out.comments.setdefault(table, []).extend(pending)
                pending = []
            if rest.startswith("#"):
                out.trailing[table] = rest
            current_key = table
            continue
        parts, j = _parse_key(line, 0)
        if not parts:
            continue  # not a statement tomllib would accept; it will say so
        path: Path = (*table, *parts)
        _record(out, path, len(table) + 1, lineno)
        if pending:
            out.comments.setdefault(path, []).extend(pending)
            pending = []
        eq = line.find("=", j)
        idx = _skip_value(line, eq + 1 if eq >= 0 else len(line), state)
        if idx < len(line):
            out.trailing[path] = line[idx:].strip()
        current_key = path
    if state.get("max", 0) > deepest:
        out.deepest = lineno
    if state["ml"] or state["depth"]:
        out.unclosed = opened
    if not seen_statement:
        out.head, pending = pending, []
    out.tail = pending
    return out


def _record(out: Scan, path: Path, start: int, lineno: int) -> None:
    """Note the line of ``path`` and of the tables it creates implicitly (``[a.b]`` creates ``a``)."""
    if path in out.lines:
        out.repeated.setdefault(lineno, (path, out.lines[path]))
    for i in range(start, len(path) + 1):
        out.lines.setdefault(path[:i], lineno)


_BARE_CR = re.compile("\r(?!\n)")


def explain_error(text: str, error: Exception) -> tuple[int, str]:
    """Return (line, message) for a failure of ``tomllib.loads(text)``, located where tomllib cannot."""
    if isinstance(error, RecursionError):
        return scan(text).deepest or 1, "arrays or tables nested too deeply"
    if not isinstance(error, tomllib.TOMLDecodeError):  # ValueError: int() refuses very long literals
        m = _HUGE_INT.search(text)
        return (text.count("\n", 0, m.start() + 1) + 1 if m else 1), "an integer with too many digits"
    msg = str(error)
    m = _POS.search(msg)
    line = int(m.group(1)) if m else 0
    msg = _POS.sub("", msg)
    if msg.endswith(_END):
        line = scan(text).unclosed
        msg = msg[: -len(_END)] + (": the value that starts here never ends" if line else " at the end of the file")
        line = line or max(1, text.count("\n") + (not text.endswith("\n")))
    elif msg == r"Illegal character '\n'":
        msg = "a string must end on the line where it starts (use ''' for text of several lines)"
    elif msg.startswith(("Cannot overwrite a value", "Cannot declare")) and line in (sc := scan(text)).repeated:
        path, first = sc.repeated[line]
        msg = f"'{'.'.join(str(p) for p in path if not isinstance(p, int))}' is defined twice (first on line {first})"
    cr = _BARE_CR.search(text)  # TOML knows LF and CRLF line endings only
    if cr and ("'\\r'" in msg or line == text.count("\n", 0, cr.start()) + 1):
        line = text.count("\n", 0, cr.start()) + 1
        msg += ": a line ends with CR alone (as on old Macs); save the file with LF or CRLF line endings"
    return line, msg


def _with_indexes(base: Path, aot: dict[Path, int]) -> Path:
    """Insert array-of-tables indexes into a header path (``[a.b]`` inside ``[[a]]``)."""
    out: list[str | int] = []
    for part in base:
        out.append(part)
        key = tuple(p for p in out if not isinstance(p, int))
        if key in aot and key != base:
            out.append(aot[key])
    return tuple(out)
