"""Versions read from history, built table section by table section.

Successive versions of a canonical file differ in a few ``[table]`` sections. A version is
split at its header lines; each distinct section text is parsed once, and each completed,
validated subtree is kept under (form, path, the texts of its sections), so a new version
parses, completes and validates only the tables whose text changed. Unchanged subtrees are
the same objects in both versions, so comparing them (``==``, diff's pruning) costs nothing.

Most versions differ from the last version built of the same file in the text of a few
sections, with the same headers in the same order and the same keys in each: such a version is
patched, not assembled. Its sections are compared with the last version's by position, and only
the tables on the way to a changed section are copied and refilled; every other subtree is the
last version's own object, and is taken as valid.

The shortcut is taken only where it cannot change the result: a section must parse on its
own and merge without any TOML subtlety (no dotted keys, inline tables, repeated or reopened
headers); anything else, and every document the validator rejects, is loaded whole as
before, ``load_bytes`` being the judge of validity and of the message.
"""

from __future__ import annotations

import collections
from typing import Any, Iterator, NamedTuple

from piachange import tomlparse
from piachange.document import Document, blank, complete, decode, load_bytes, validate
from piachange.schema import FORM_KINDS, Form, Node, load_form
from piachange.tomlscan import Scan

LIMIT = 50_000  # subtrees and section texts kept before the memory starts afresh (about 150 MB)
LAST_BYTES = 64 << 20  # texts of the last version of each file kept for patching (their trees are shared)
_INSIDE = object()  # a path inside a leaf value (a checkbox table, a 別紙, a 変更箇所 row)


class _Unusual(Exception):
    """The text is not laid out the way the shortcut needs: load it whole."""


Path = tuple[str, ...]


class _Split(NamedTuple):
    """A version cut at its header lines: parallel lists, one entry per section."""

    paths: list[Path]
    arrays: list[bool]  # an [[array of tables]] element
    texts: list[bytes]  # the one copy kept of each distinct section


class _Last(NamedTuple):
    """The last version built of a file: what a patch starts from."""

    split: _Split
    form: Form
    data: dict[str, Any]
    size: int
    patched: bool  # its new subtrees are not among the builder's yet


class Builder:
    """Builds documents from bytes, reusing what earlier versions already parsed and checked."""

    def __init__(self) -> None:
        self._reset()
        self._last: collections.OrderedDict[str, _Last] = collections.OrderedDict()  # file -> its last version
        self._last_bytes = 0

    def _reset(self) -> None:
        self._sections: dict[bytes, tuple[Path, bool, bytes]] = {}  # section bytes -> header, kept copy
        self._headers: dict[bytes, tuple[Path, bool]] = {}
        self._parsed: dict[bytes, dict[str, Any]] = {}  # section -> its own keys
        self._trees: dict[tuple[str, Path, tuple[bytes, ...]], dict[str, Any]] = {}
        self._nodes: dict[tuple[str, Path], Any] = {}

    def load(self, raw: bytes, file: str, commit: str = "") -> Document:
        """Return the document of a version; raise DocumentError as ``load_bytes`` does."""
        if raw.startswith(b"\xef\xbb\xbf") or b"\x00" in raw:
            return load_bytes(raw, file, commit)
        try:
            parts = _parts(raw)
            last = self._last.get(file)
            found = self._patch(last, parts) if last is not None else None
            if found is None and last is not None and last.patched:
                self._keep(last)  # a version built whole reuses the last version's subtrees
            form, data, known, fresh, split = found or self._build(parts)
        except UnicodeDecodeError:
            decode(raw, file, commit)  # raises, naming the first bad byte
            raise
        except _Unusual:
            return load_whole(decode(raw, file, commit), raw, file, commit)
        problems, _ = validate(data, Scan(), file, commit, known)
        if problems:
            return load_bytes(raw, file, commit)
        if len(self._trees) + len(fresh) > LIMIT or len(self._sections) > LIMIT:
            self._reset()  # start afresh: memory stays bounded on any history
        self._trees.update(fresh)  # only subtrees of valid documents are ever reused
        self._remember(file, _Last(split, form, data, len(raw), found is not None))
        return Document(file, form, data, Scan(), commit, ())

    def _remember(self, file: str, last: _Last) -> None:
        old = self._last.pop(file, None)
        self._last_bytes += last.size - (old.size if old else 0)
        self._last[file] = last
        while self._last_bytes > LAST_BYTES and len(self._last) > 1:
            self._last_bytes -= self._last.popitem(last=False)[1].size

    # ------------------------------------------------------------ patching

    def _patch(self, last: _Last, parts: list[bytes]) -> tuple[Form, dict[str, Any], set[int], dict, _Split] | None:
        """Return the version made of ``last`` and the changed ``parts``, or None when the change is not
        a few sections' values: a header, a section or a key added, moved or removed, or [meta] changed."""
        old = last.split
        if len(parts) != len(old.texts):
            return None
        changed = [i for i, (t, u) in enumerate(zip(parts, old.texts)) if t != u]
        texts = list(old.texts)
        for i in changed:
            try:
                path, array, texts[i] = self._sections.get(parts[i]) or self._section(parts[i])
            except _Unusual:
                return None
            if path != old.paths[i] or array != old.arrays[i] or path[0] == "meta":
                return None
        split = _Split(old.paths, old.arrays, texts)
        known: set[int] = set()
        try:
            data = self._refill(last.data, (), changed, split, old, known)
        except _Unusual:
            return None  # built whole, which judges it
        return last.form, data, known, {}, split

    def _refill(self, table: dict[str, Any], path: Path, changed: list[int],
                split: _Split, old: _Split, known: set[int]) -> dict[str, Any]:
        """Return a copy of ``table`` (the table at ``path``) with the ``changed`` sections below it
        refilled; raise _Unusual when a changed section's keys are not the ones it had."""
        out = dict(table)
        d = len(path)
        below: dict[str, list[int]] = {}
        for i in changed:
            if old.paths[i] == path:  # the table's own section (an array element is refilled by its parent)
                new = self._content(split, i)
                if list(new) != list(self._content(old, i)):
                    raise _Unusual
                out.update(new)
            else:
                below.setdefault(old.paths[i][d], []).append(i)
        for key, sub in below.items():
            p = (*path, key)
            if old.arrays[sub[0]] and old.paths[sub[0]] == p:  # elements of an [[array of tables]]
                elements = list(table[key])
                for i in sub:
                    first = i
                    while first and old.paths[first - 1] == p:
                        first -= 1
                    elements[i - first] = self._content(split, i)
                out[key] = elements
            else:
                out[key] = self._refill(table[key], p, sub, split, old, known)
        for key, v in out.items():
            if isinstance(v, dict) and key not in below:
                known.add(id(v))  # the last version's subtree, valid at this path
        return out

    # ------------------------------------------------------------ splitting

    def _split(self, parts: list[bytes]) -> _Split:
        """Return the sections of a version (see ``_parts``), each text the one copy kept of it."""
        known = self._sections
        found = [known.get(t) or self._section(t) for t in parts]
        return _Split([f[0] for f in found], [f[1] for f in found], [f[2] for f in found])

    def _section(self, t: bytes) -> tuple[Path, bool, bytes]:
        end = t.find(b"\n")
        found = self._sections[t] = (*self._header(b"[" + (t if end < 0 else t[:end])), t)
        return found

    def _header(self, line: bytes) -> tuple[Path, bool]:
        if line not in self._headers:
            self._headers[line] = self._parse_header(line)
        return self._headers[line]

    @staticmethod
    def _parse_header(line: bytes) -> tuple[Path, bool]:
        try:
            d: Any = tomlparse.loads(line.decode("utf-8"))
        except ValueError as e:
            if isinstance(e, UnicodeDecodeError):
                raise
            raise _Unusual from None
        path: list[str] = []
        while isinstance(d, dict) and len(d) == 1:
            k, d = next(iter(d.items()))
            path.append(k)
        array = isinstance(d, list)
        if (d != [{}] if array else d != {}) or not path:
            raise _Unusual
        return tuple(path), array

    def _content(self, split: _Split, i: int) -> dict[str, Any]:
        """Return a fresh table of a section's own keys (values are shared: nothing mutates them)."""
        t = split.texts[i]
        if t not in self._parsed:
            try:
                d: Any = tomlparse.loads("[" + t.decode("utf-8"))
            except ValueError as e:
                if isinstance(e, UnicodeDecodeError):
                    raise
                raise _Unusual from None
            except RecursionError:
                raise _Unusual from None
            for k in split.paths[i]:
                d = d[k]
            if split.arrays[i]:
                d = d[0]
            if any(isinstance(v, dict) for v in d.values()):
                raise _Unusual  # a dotted key or an inline table: completion would have to look inside
            self._parsed[t] = d
        return dict(self._parsed[t])

    def _keep(self, last: _Last) -> None:
        """Keep the subtrees of a patched version as ``_subtree`` would have kept them."""
        self._keep_level(last, last.data, (), 0, len(last.split.texts))

    def _keep_level(self, last: _Last, table: dict[str, Any], path: Path, lo: int, hi: int) -> None:
        # A method, not a recursive closure: a closure that calls itself is a reference cycle, and
        # that cycle would hold this builder, with every section it parsed, until the collector runs.
        paths, arrays, texts = last.split.paths, last.split.arrays, last.split.texts
        for key, i, j in _groups(paths, len(path), lo, hi):
            sub = (*path, key)
            if key != "meta" and not (arrays[i] and paths[i] == sub):
                self._trees[(last.form.kind, sub, tuple(texts[i:j]))] = table[key]
                self._keep_level(last, table[key], sub, i + (paths[i] == sub), j)

    # ------------------------------------------------------------ building

    def _build(self, parts: list[bytes]) -> tuple[Form, dict[str, Any], set[int], dict, _Split]:
        split = self._split(parts)
        meta = next((i for i, p in enumerate(split.paths) if p == ("meta",) and not split.arrays[i]), None)
        kind = self._content(split, meta).get("form") if meta is not None else None
        if kind not in FORM_KINDS:
            raise _Unusual
        form = load_form(kind)
        known: set[int] = set()
        fresh: dict = {}
        data = self._children(form, (), split, 0, len(split.texts), {}, known, fresh)
        m = data.get("meta")
        if isinstance(m, dict) and "schema_version" not in m:
            data["meta"] = {**m, "schema_version": form.version}
        _fill_level(form, "", data)
        return form, data, known, fresh, split

    def _children(self, form: Form, path: Path, split: _Split, lo: int, hi: int,
                  table: dict[str, Any], known: set[int], fresh: dict) -> dict[str, Any]:
        """Add to ``table`` the subtables of ``path`` that sections ``lo:hi`` define, in order."""
        paths, arrays = split.paths, split.arrays
        for key, i, j in _groups(paths, len(path), lo, hi):
            if key in table:
                raise _Unusual  # defined twice, or apart (TOML allows it; canonical files never do)
            sub = (*path, key)
            if arrays[i] and paths[i] == sub:
                if any(paths[k] != sub or not arrays[k] for k in range(i, j)):
                    raise _Unusual
                table[key] = [self._content(split, k) for k in range(i, j)]
            else:
                table[key] = self._subtree(form, sub, split, i, j, known, fresh)
        return table

    def _subtree(self, form: Form, path: Path, split: _Split, lo: int, hi: int,
                 known: set[int], fresh: dict) -> dict[str, Any]:
        """Return the completed table at ``path`` built from sections ``lo:hi``, reused when met before."""
        key = (form.kind, path, tuple(split.texts[lo:hi]))
        found = self._trees.get(key)
        if found is not None:
            known.add(id(found))
            return found
        node = self._node(form, path)
        own = split.paths[lo] == path
        table = self._content(split, lo) if own else {}
        if any(split.paths[k] == path for k in range(lo + own, hi)):
            raise _Unusual
        self._children(form, path, split, lo + own, hi, table, known, fresh)
        if node is not _INSIDE:
            if node.kind in ("checks", "changes"):  # as complete() does
                for k, v in blank(node).items():
                    table.setdefault(k, v)
            elif not node.is_leaf:
                _fill_level(form, node.path, table)
        fresh[key] = table
        return table

    def _node(self, form: Form, path: Path) -> Any:
        """Return the form node at a concrete path, or _INSIDE below a leaf; unknown keys are unusual."""
        k = (form.kind, path)
        if path[0] == "meta":
            return _INSIDE  # not a form item: validate() checks it on its own
        if k not in self._nodes:
            node: Node | None = None
            for key in path:
                if node is not None and node.is_leaf:
                    self._nodes[k] = _INSIDE
                    return _INSIDE
                kids = {n.key: n for n in form.children.get(node.path if node else "", ())}
                child = kids.get(key)
                if child is None and key.isascii() and key.isdigit() and not key.startswith("0"):
                    child = kids.get("*")
                if child is None:
                    raise _Unusual  # the validator names it; let the whole load report it
                node = child
            self._nodes[k] = node
        return self._nodes[k]


def _groups(paths: list[Path], d: int, lo: int, hi: int) -> Iterator[tuple[str, int, int]]:
    """Yield (key, first, end) for each run of sections ``lo:hi`` with the same key at depth ``d``."""
    i = lo
    while i < hi:
        key = paths[i][d]
        j = i + 1
        while j < hi and paths[j][d] == key:
            j += 1
        yield key, i, j
        i = j


def _parts(raw: bytes) -> list[bytes]:
    """Cut a version at every ``[`` that starts a line (one that is really inside a string or an
    array leaves the section before it unterminated: it does not parse, and the text is unusual).

    A section is kept without its opening ``[``, which ``_section`` and ``_content`` put back."""
    parts = raw.split(b"\n[")
    head = parts[0]
    if head.startswith(b"["):
        parts[0] = head[1:]
    elif any(x.strip() and not x.lstrip().startswith(b"#") for x in head.splitlines()) or len(parts) == 1:
        raise _Unusual  # keys before the first header
    else:
        del parts[0]
    return parts


def _fill_level(form: Form, pattern: str, table: dict[str, Any]) -> None:
    """Add the blanks of one table's missing items (its subtables were completed when built)."""
    for node in form.children.get(pattern, ()):
        if node.key == "*" or node.key in table:
            continue
        if node.kind in ("group", "repeat"):
            table[node.key] = _blank(form, node.path)
        else:
            table[node.key] = blank(node)


def _blank(form: Form, pattern: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    _fill_level(form, pattern, out)
    return out


def load_whole(text: str, raw: bytes, file: str, commit: str) -> Document:
    """Return a document like ``load_bytes`` without its line scan, which costs as much as parsing.

    Versions from history are only compared, never formatted, and their line numbers are needed
    only to report a problem: any doubt falls back to ``load_bytes``, which locates it.
    """
    try:
        data = tomlparse.loads(text)
    except (ValueError, RecursionError):
        return load_bytes(raw, file, commit)
    problems, _ = validate(data, Scan(), file, commit)
    if problems:
        return load_bytes(raw, file, commit)
    form = load_form(data["meta"]["form"])
    return Document(file, form, complete(form, data, in_place=True), Scan(), commit, ())

