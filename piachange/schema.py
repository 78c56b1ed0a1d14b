"""Form definitions: load ``forms/<kind>.toml`` and answer questions about items."""

from __future__ import annotations

import dataclasses
import functools
import re
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from typing import Any, Iterator, Mapping, Sequence

from piachange.errors import PiaError

LEAF_KINDS = frozenset({"text", "choice", "checks", "flag", "count", "date", "period", "list", "attachments", "changes"})
CONTAINER_KINDS = frozenset({"group", "repeat"})
FORM_KINDS = ("zenkomoku", "juten", "kiso")
FORM_NAMES = {"zenkomoku": "全項目評価書", "juten": "重点項目評価書", "kiso": "基礎項目評価書"}
_CIRCLED = set("①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯⑰⑱⑲⑳")
_NODE_FIELDS = {"path", "kind", "number", "label", "prefix", "star", "star_note", "choices", "options", "max", "min", "note", "in_item",
                "copy_of", "annex", "named_by"}


@dataclass(frozen=True)
class Option:
    """One box of a checkbox group."""

    key: str
    label: str
    detail: bool = False
    count: bool = False


@dataclass(frozen=True)
class Node:
    """One item of a form: its key path pattern (``*`` = instance), label and value kind."""

    path: str
    kind: str
    number: str = ""
    label: str = ""
    prefix: str = ""
    star: bool | None = None
    star_note: str = ""
    choices: tuple[str, ...] = ()
    options: tuple[Option, ...] = ()
    max: int = 0
    min: int = 0
    note: str = ""
    in_item: bool = True  # false: a heading the 変更箇所 項目 column leaves out (as published tables do)
    annex: bool = False  # printed as an annex of its own: the 項目 column names it without its parents' headings
    named_by: str = ""  # repeat: the item whose value names an instance where a document has several
    copy_of: str = ""  # a place that prints this stored item again (Ⅲ 1. 特定個人情報ファイル名 = files.*.name)
    parts: tuple[str, ...] = field(default=(), compare=False)
    order: int = field(default=0, compare=False)  # position in print order, copies included

    @property
    def key(self) -> str:
        """Return the last path segment."""
        return self.parts[-1]

    @property
    def is_leaf(self) -> bool:
        return self.kind in LEAF_KINDS

    def heading(self, n: str | None = None) -> str:
        """Return number + label as printed (``3. 特定個人情報の入手・使用``, ``①入手元``)."""
        return self._heading if n is None else self._numbered(self.label.replace("{n}", n))

    @functools.cached_property
    def _heading(self) -> str:
        return self._numbered(self.label)

    def _numbered(self, label: str) -> str:
        if not self.number:
            return label
        sep = "" if self.number[-1] in _CIRCLED else " "
        return f"{self.number}{sep}{label}".strip()

    def option_keys(self) -> list[str]:
        """Return every document key of a checkbox group, in form order."""
        keys: list[str] = []
        for o in self.options:
            keys.append(o.key)
            if o.count:
                keys.append(f"{o.key}_count")
            if o.detail:
                keys.append(f"{o.key}_detail")
        return keys


@dataclass(frozen=True)
class Form:
    """A whole form kind: header facts and nodes in print order."""

    kind: str
    title: str
    yoshiki: str
    version: int
    changes_annex: str
    uncertain: str
    nodes: tuple[Node, ...]  # the items a document stores, in print order
    copies: tuple[Node, ...] = ()  # places that print a stored item again: never stored, never validated

    @functools.cached_property
    def by_path(self) -> dict[str, Node]:
        return {n.path: n for n in self.nodes}

    @functools.cached_property
    def copy_paths(self) -> dict[str, Node]:
        return {n.path: n for n in self.copies}

    @functools.cached_property
    def printed(self) -> Form:
        """Return this form with its copies as items of their own: every place a 変更箇所 row can name."""
        return dataclasses.replace(self, nodes=tuple(sorted((*self.nodes, *self.copies), key=lambda n: n.order)), copies=())

    @functools.cached_property
    def print_order(self) -> dict[str, int]:
        """Return {pattern: position in print order}, copies included."""
        return {n.path: n.order for n in (*self.nodes, *self.copies)}

    @functools.cached_property
    def children(self) -> dict[str, tuple[Node, ...]]:
        out: dict[str, list[Node]] = {"": []}
        for n in self.nodes:
            out.setdefault(n.path, [])
            parent = n.path.rpartition(".")[0]
            out.setdefault(parent, []).append(n)
        return {k: tuple(v) for k, v in out.items()}

    @functools.cached_property
    def child_keys(self) -> dict[str, dict[str, Node]]:
        """Return {pattern: {key: child node}} (``*`` for the instances of a repeat)."""
        return {k: {n.key: n for n in v} for k, v in self.children.items()}

    @property
    def name(self) -> str:
        return FORM_NAMES.get(self.kind, self.kind)

    def node(self, concrete: str | tuple[str, ...]) -> Node | None:
        """Return the node for a concrete document path (instance numbers become ``*``)."""
        return self.by_path.get(pattern_of(self, concrete))

    def star_of(self, pattern: str) -> bool:
        """Return whether an item carries ※, by itself or through its heading (exceptions win)."""
        parts = pattern.split(".")
        for i in range(len(parts), 0, -1):
            p = ".".join(parts[:i])
            n = self.by_path.get(p) or self.copy_paths.get(p)
            if n is not None and n.star is not None:
                return n.star
        return False

    def leaves(self) -> list[Node]:
        return [n for n in self.nodes if n.is_leaf]

    @functools.cached_property
    def _labels(self) -> dict[tuple[tuple[str, ...], str | None], str]:
        return {}  # label_path's answers: a history names the same items again and again

    def label_path(self, concrete: tuple[str, ...], option: str | None = None,
                   names: Mapping[tuple[str, ...], str] | None = None) -> str:
        """Return the full official label of a concrete item path, instances named; ``names``:
        a name to print after an instance's heading ((健康管理ファイル) of files.2), by its path."""
        if names:
            return self._label_path(tuple(concrete), option, names)
        k = (tuple(concrete), option)
        found = self._labels.get(k)
        if found is None:
            found = self._labels[k] = self._label_path(k[0], option, {})
        return found

    def _label_path(self, concrete: tuple[str, ...], option: str | None, names: Mapping[tuple[str, ...], str]) -> str:
        words: list[str] = []
        named: list[str] = []  # instance names passed: an annex that starts afresh keeps them
        pat: list[str] = []
        for i, seg in enumerate(concrete):
            exact, star = ".".join([*pat, seg]), ".".join([*pat, "*"])
            if seg.isdigit() and exact not in self.by_path and star in self.by_path:
                pat.append("*")
                words.append(self.by_path[star].heading(seg))
                if concrete[: i + 1] in names:
                    named.append(f"({names[concrete[: i + 1]]})")
                    words.append(named[-1])
                continue
            pat.append(seg)
            node = self.by_path.get(exact) or self.copy_paths.get(exact)
            if node is None:
                words.append(seg)
                continue
            if node.annex:
                words = []
            if node.in_item:
                words += [node.prefix, node.heading()]
            if node.annex:
                words += named
        if option:
            words.append(option)
        return " ".join(w for w in words if w)


def concrete_paths(pattern: Sequence[str], data: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    """Yield the concrete paths of ``data`` that match a pattern, instances in number order."""
    if not pattern:
        yield path
        return
    if not isinstance(data, dict):
        return
    head, rest = pattern[0], pattern[1:]
    keys = sorted((k for k in data if k.isdigit()), key=int) if head == "*" else [head] if head in data else []
    for k in keys:
        yield from concrete_paths(rest, data[k], (*path, k))


def lookup(data: Any, path: Sequence[str]) -> Any:
    """Return the value at a concrete path of a document tree, or None where it has none."""
    for p in path:
        if not isinstance(data, dict) or p not in data:
            return None
        data = data[p]
    return data


def with_instances(pattern: str, template: Sequence[str], path: Sequence[str]) -> tuple[str, ...]:
    """Return ``pattern`` with its ``*`` replaced, in order, by the instance numbers ``path`` has where
    ``template`` (the pattern of ``path``) has ``*``: files.*.name for risks.*.file_name at risks.2
    gives files.2.name. A ``*`` left over stays."""
    numbers = iter(seg for c, seg in zip(template, path) if c == "*")
    return tuple(next(numbers, "*") if c == "*" else c for c in pattern.split("."))


def named_instance(form: Form, path: tuple[str, ...]) -> tuple[str, ...] | None:
    """Return the instance on ``path`` of a repeat that names its instances (named_by: files.2 of
    files.2.profile, risks.2 of risks.2.…), or None where the path is in none."""
    for k in range(1, len(path) + 1):
        node = form.by_path.get(pattern_of(form, path[:k]))
        if node is not None and node.named_by and path[k - 1].isdigit():
            return path[:k]
    return None


def instance_names(form: Form, *versions: dict) -> dict[tuple[str, ...], str]:
    """Return {instance path: name} for the instances of each repeat that names them (named_by)
    where a version has more than one: the name the 項目 prints after the instance's heading, so
    that two 特定個人情報ファイル tell apart. A later version's name comes first."""
    names: dict[tuple[str, ...], str] = {}
    for node in form.nodes:
        if not node.named_by:
            continue
        found = [list(concrete_paths(node.parts, data)) for data in versions]
        if max((len(f) for f in found), default=0) < 2:
            continue
        for path in dict.fromkeys(p for f in found for p in f):
            source = with_instances(node.named_by, node.parts, path)
            name = next((n for n in (lookup(data, source) for data in reversed(versions)) if isinstance(n, str) and n.strip()), None)
            if name is not None:
                names[path] = name
    return names


def copied_paths(copy: Node, path: tuple[str, ...], data: dict) -> list[tuple[str, ...]]:
    """Return the stored items the place ``path`` of a copy prints: its own instance's, or every instance's."""
    if "*" in copy.path:
        return [with_instances(copy.copy_of, copy.parts, path)]
    return list(concrete_paths(copy.copy_of.split("."), data))


def pattern_of(form: Form, concrete: str | tuple[str, ...]) -> str:
    """Map ``files.1.outsourcing.items.2`` to ``files.*.outsourcing.items.*``."""
    parts = concrete.split(".") if isinstance(concrete, str) else concrete
    out: list[str] = []
    for seg in parts:
        cand = ".".join([*out, seg])
        if seg.isdigit() and cand not in form.by_path and ".".join([*out, "*"]) in form.by_path:
            out.append("*")
        else:
            out.append(seg)
    return ".".join(out)


def _parse(kind: str, data: dict, origin: str) -> Form:
    head = data.get("form", {})
    nodes: list[Node] = []
    copies: list[Node] = []
    seen: set[str] = set()
    for i, raw in enumerate(data.get("node", [])):
        unknown = set(raw) - _NODE_FIELDS
        if unknown:
            raise PiaError(f"{origin}: node {i + 1} ({raw.get('path')}): unknown field(s) {sorted(unknown)}")
        path = raw["path"]
        parent = path.rpartition(".")[0]
        if parent and parent not in seen:
            raise PiaError(f"{origin}: node {path} comes before its parent {parent}")
        if path in seen:
            raise PiaError(f"{origin}: node {path} is defined twice")
        copy_of = raw.get("copy_of", "")
        kind_ = raw.get("kind", "text" if copy_of else "group")  # a copy takes its item's kind, below
        if kind_ not in LEAF_KINDS | CONTAINER_KINDS:
            raise PiaError(f"{origin}: node {path}: unknown kind {kind_!r}")
        seen.add(path)
        opts = tuple(
            Option(o["key"], o["label"], bool(o.get("detail", False)), bool(o.get("count", False)))
            for o in raw.get("options", [])
        )
        (copies if copy_of else nodes).append(
            Node(
                path=path,
                kind=kind_,
                number=raw.get("number", ""),
                label=raw.get("label", ""),
                prefix=raw.get("prefix", ""),
                star=raw.get("star"),
                star_note=raw.get("star_note", ""),
                choices=tuple(raw.get("choices", ())),
                options=opts,
                max=int(raw.get("max", 0)),
                min=int(raw.get("min", 0)),
                note=raw.get("note", ""),
                in_item=bool(raw.get("in_item", True)),
                annex=bool(raw.get("annex", False)),
                named_by=raw.get("named_by", ""),
                copy_of=copy_of,
                parts=tuple(path.split(".")),
                order=i,
            )
        )
    for n in (n for n in nodes if n.named_by):
        source = next((m for m in nodes if m.path == n.named_by), None)
        if source is None or not source.is_leaf or n.kind != "repeat" or n.named_by.count("*") != n.path.count("*"):
            raise PiaError(f"{origin}: node {n.path}: named_by {n.named_by!r} is not an item with the instances of this repeat")
    return Form(
        kind=head.get("kind", kind),
        title=head.get("title", ""),
        yoshiki=head.get("yoshiki", ""),
        version=int(head.get("version", 1)),
        changes_annex=head.get("changes_annex", "変更箇所"),
        uncertain=head.get("uncertain", ""),
        nodes=tuple(nodes),
        copies=tuple(_copy(nodes, c, origin) for c in copies),
    )


def _copy(nodes: list[Node], copy: Node, origin: str) -> Node:
    """Return a copy with the kind of the stored item it prints again (whose instances name the copy's)."""
    source = next((n for n in nodes if n.path == copy.copy_of), None)
    if source is None or not source.is_leaf:
        raise PiaError(f"{origin}: node {copy.path}: copy_of {copy.copy_of!r} is not an item of the form")
    if copy.path.count("*") not in (0, copy.copy_of.count("*")):
        raise PiaError(f"{origin}: node {copy.path}: a copy has the instances (*) of {copy.copy_of} or none")
    return dataclasses.replace(copy, kind=source.kind)


@functools.cache
def load_form(kind: str) -> Form:
    """Return the packaged form definition of ``kind`` (zenkomoku, juten, kiso)."""
    if kind not in FORM_KINDS:
        raise PiaError(f"unknown form kind {kind!r}: expected one of {', '.join(FORM_KINDS)}")
    text = resources.files("piachange").joinpath("forms", f"{kind}.toml").read_text(encoding="utf-8")
    return _parse(kind, tomllib.loads(text), f"forms/{kind}.toml")


ROMAN = {"I": "Ⅰ", "II": "Ⅱ", "III": "Ⅲ", "IV": "Ⅳ", "V": "Ⅴ", "VI": "Ⅵ", "VII": "Ⅶ"}
ROMAN_RE = re.compile(r"\b(VII|VI|IV|V|III|II|I)\b")
