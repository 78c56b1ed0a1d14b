"""Assessment documents: decode, parse, validate against the form, fill blanks."""

from __future__ import annotations

import copy
import datetime as dt
import difflib
import os
import stat
import unicodedata
from dataclasses import dataclass, field
from typing import AbstractSet, Any

from piachange import tomlparse
from piachange.errors import DocumentError, Problem
from piachange.schema import FORM_KINDS, Form, Node, load_form, with_instances
from piachange.threshold import RESULTS, possible_levels, result_level
from piachange.tomlscan import Path, Scan, explain_error, scan
from piachange.wareki import WarekiError, parse_wareki, to_wareki

META_KEYS = {"form", "schema_version", "source"}
ROW_KEYS = {"date", "item", "before", "after", "timing", "reason", "paths", "cause", "rule", "commits"}
TIMINGS = ("事前", "事後", "")
RECORD_STYLES = ("bullet", "numbered", "inline")
_MAX_DEPTH = 12


@dataclass(frozen=True)
class Document:
    """A parsed assessment with positions; ``data`` is the completed (all leaves present) tree."""

    file: str
    form: Form
    data: dict[str, Any]
    scan: Scan = field(repr=False, compare=False)
    commit: str = ""
    warnings: tuple[Problem, ...] = ()

    def line_of(self, path: Path) -> int:
        return self.scan.line_of(path)

    @property
    def number(self) -> str:
        """Return the 評価書番号 (with the 評価実施機関名, identity across renames), or ''."""
        return str(self.data.get("cover", {}).get("number", ""))

    @property
    def organization(self) -> str:
        """Return the 評価実施機関名, or ''."""
        return str(self.data.get("cover", {}).get("organization", ""))

    @property
    def title(self) -> str:
        return str(self.data.get("cover", {}).get("title", ""))


def decode(raw: bytes, file: str, commit: str = "") -> str:
    """Decode file bytes as UTF-8 text; raise DocumentError naming the first bad byte."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):  # else 'NUL bytes: not a text file', which it is
        raise DocumentError([Problem(file, 1, "not UTF-8 but UTF-16 text (as Windows PowerShell's > and Out-File"
                                              " write it); save the file as UTF-8", commit)])
    if b"\x00" in raw:
        line = raw[: raw.index(b"\x00")].count(b"\n") + 1
        raise DocumentError([Problem(file, line, "contains NUL bytes: not a text file", commit)])
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as e:
        line = raw[: e.start].count(b"\n") + 1
        raise DocumentError(
            [Problem(file, line, f"not UTF-8 text (byte 0x{raw[e.start]:02x} at offset {e.start}); save the file as UTF-8", commit)]
        ) from None


def parse(text: str, file: str, commit: str = "") -> tuple[dict[str, Any], Scan]:
    """Parse TOML text; raise DocumentError with the line tomllib reports."""
    try:
        data = tomlparse.loads(text)
    except (ValueError, RecursionError) as e:  # TOMLDecodeError, or int() refusing a 5000-digit literal
        line, msg = explain_error(text, e)
        raise DocumentError([Problem(file, line, f"invalid TOML: {msg}", commit)]) from None
    return data, scan(text)


def load_bytes(raw: bytes, file: str, commit: str = "") -> Document:
    """Decode, parse and validate; raise DocumentError listing every problem."""
    text = decode(raw, file, commit)
    data, sc = parse(text, file, commit)
    problems, warnings = validate(data, sc, file, commit)
    if raw.startswith(b"\xef\xbb\xbf"):
        # a warning, not an error: fmt can only remove the mark from a document it accepts
        warnings.insert(0, Problem(file, 1, "warning: starts with a UTF-8 byte order mark; `piachange fmt` removes it", commit))
    if problems:
        raise DocumentError(problems)
    form = load_form(data["meta"]["form"])
    return Document(file, form, complete(form, data, in_place=True), sc, commit, tuple(warnings))


def read_path(path: str) -> bytes:
    """Return the bytes of a regular file; raise DocumentError saying why it cannot be read."""
    try:
        st = os.stat(path)
        if stat.S_ISREG(st.st_mode):
            with open(path, "rb") as fh:
                return fh.read()
        # a FIFO would block and a device never end
        why = "is a directory" if stat.S_ISDIR(st.st_mode) else "not a regular file"
    except OSError as e:
        link = f"symbolic link to {os.readlink(path)}: " if os.path.islink(path) else ""
        missing = isinstance(e, FileNotFoundError) and not link
        why = "no such file or directory" if missing else f"cannot read: {link}{e.strerror}"
    raise DocumentError([Problem(path, 0, why)])


def load_path(path: str) -> Document:
    """Read and load a document from the file system."""
    return load_bytes(read_path(path), path)


# ---------------------------------------------------------------- validation


def _type_name(v: Any) -> str:
    return {
        bool: "a boolean", int: "an integer", float: "a float", str: "a string", list: "an array",
        dict: "a table", dt.date: "a date", dt.datetime: "a date-time", dt.time: "a time",
    }.get(type(v), type(v).__name__)


def _suggest(key: str, candidates: list[str]) -> str:
    narrow = unicodedata.normalize("NFKC", key)
    if narrow != key and narrow in candidates:
        return f" (did you mean '{narrow}' in half-width characters?)"
    close = difflib.get_close_matches(key, candidates, n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


class _Validator:
    def __init__(self, form: Form, sc: Scan, file: str, commit: str, known: AbstractSet[int] = frozenset()) -> None:
        self.form, self.sc, self.file, self.commit = form, sc, file, commit
        self.known = known  # ids of subtrees already found valid at the same path: not walked again
        self.problems: list[Problem] = []
        self.warnings: list[Problem] = []

    def err(self, path: Path, msg: str) -> None:
        self.problems.append(Problem(self.file, self.sc.line_of(path), msg, self.commit))

    def warn(self, path: Path, msg: str) -> None:
        self.warnings.append(Problem(self.file, self.sc.line_of(path), f"warning: {msg}", self.commit))

    def where(self, path: Path) -> str:
        return ".".join(str(p) for p in path)

    def table(self, parent: str, value: Any, path: Path) -> None:
        """Check a table against the children of the node at pattern ``parent``."""
        children = self.form.child_keys.get(parent, {})
        if not isinstance(value, dict):
            self.err(path, f"'{self.where(path)}' must be a table, got {_type_name(value)}")
            return
        for key, v in value.items():
            if id(v) in self.known:
                continue
            p = (*path, key)
            node = children.get(key)
            if node is None and "*" in children and key.isascii() and key.isdigit() and not key.startswith("0"):
                node = children["*"]
            if node is None:
                cands = [k for k in children if k != "*"]
                if "*" in children:
                    of = children["*"].label.replace("{n}", "n")
                    hint = _suggest(key, [unicodedata.normalize("NFKC", key).lstrip("0") or "1"])
                    self.err(p, f"'{self.where(p)}': '{key}' is not an instance number{' of ' + of if of else ''} (use 1, 2, …){hint}")
                elif (copy := self.form.copy_paths.get(f"{parent}.{key}".lstrip("."))) is not None:
                    source = ".".join(with_instances(copy.copy_of, copy.parts, p))
                    self.err(p, f"unknown key '{self.where(p)}': the form prints it from {source}; write it there")
                else:
                    self.err(p, f"unknown key '{self.where(p)}'{_suggest(key, cands)}")
                continue
            self.node(node, v, p)
        rep = children.get("*")
        if rep is not None:
            self.repeat(rep, value, path)

    def repeat(self, node: Node, value: dict, path: Path) -> None:
        nums = []
        for key in value:
            if not key.isdigit() or key.startswith("0") or not key.isascii():
                continue
            n = int(key)
            if node.max and n > node.max:
                self.err((*path, key), f"{node.label.replace('{n}', key)}: the form allows at most {node.max}")
            nums.append(n)
        nums.sort()
        for a, b in zip(nums, nums[1:]):
            if b != a + 1:
                gap = ", ".join(node.label.replace("{n}", str(k)) for k in range(a + 1, b))
                self.warn((*path, str(b)), f"{node.label.replace('{n}', str(b))} follows {node.label.replace('{n}', str(a))}: {gap} missing (a deleted instance keeps its number)")

    def node(self, node: Node, v: Any, path: Path) -> None:
        if len(path) > _MAX_DEPTH:
            self.err(path, "nested too deeply")
            return
        if node.kind == "group":
            self.table(node.path, v, path)
        elif node.kind == "repeat":
            if not isinstance(v, dict):
                self.err(path, f"'{self.where(path)}' must be a table, got {_type_name(v)}")
            else:
                self.table(node.path, v, path)
        else:
            self.leaf(node, v, path)

    def leaf(self, node: Node, v: Any, path: Path) -> None:
        name = node.heading() or node.key
        kind = node.kind
        if kind in ("text", "period"):
            if not isinstance(v, str):
                self.err(path, f"{name}: must be text (a string), got {_type_name(v)}")
        elif kind == "choice":
            if not isinstance(v, str):
                self.err(path, f"{name}: must be one of the choices as a string, got {_type_name(v)}")
            elif v and v not in node.choices:
                self.err(path, f"{name}: '{v}' is not a choice; must be one of {', '.join(node.choices)}{_suggest(v, list(node.choices))}")
        elif kind == "flag":
            if not isinstance(v, bool):
                self.err(path, f"{name}: must be true or false, got {_type_name(v)}")
        elif kind == "count":
            self.count(name, v, path)
        elif kind == "date":
            self.date(name, v, path)
        elif kind == "checks":
            self.checks(node, v, path)
        elif kind == "list":
            self.records(name, v, path)
        elif kind == "attachments":
            self.attachments(v, path)
        elif kind == "changes":
            self.changes(v, path)

    def count(self, name: str, v: Any, path: Path) -> None:
        if isinstance(v, bool) or not (isinstance(v, int) and v >= 0 or v == ""):
            got = str(v).lower() if isinstance(v, bool) else repr(v) if isinstance(v, (int, float, str)) else _type_name(v)
            self.err(path, f"{name}: must be a whole number ≥ 0 or \"\", got {got}")

    def date(self, name: str, v: Any, path: Path) -> None:
        if isinstance(v, dt.datetime) or isinstance(v, dt.time):
            self.err(path, f"{name}: must be a date without time (e.g. 2024-04-01), got {_type_name(v)}")
        elif isinstance(v, dt.date):
            try:
                to_wareki(v)
            except WarekiError as e:
                self.err(path, f"{name}: {e}: the forms print dates in 和暦")
        elif v in ("", "未定"):
            return
        elif isinstance(v, str):
            try:
                parsed = parse_wareki(v)
            except WarekiError as e:
                self.err(path, f"{name}: {e}")
                return
            if parsed.date is not None:
                why = f"{parsed.overflow}; " if parsed.overflow else ""
                self.err(path, f"{name}: {why}write the full date '{v}' as a TOML date: {parsed.date.isoformat()}")
            elif parsed.overflow:
                self.err(path, f"{name}: {parsed.overflow}")
        else:
            self.err(path, f"{name}: must be a date (2024-04-01), a partial 和暦 text or \"\", got {_type_name(v)}")

    def checks(self, node: Node, v: Any, path: Path) -> None:
        name = node.heading() or node.key
        if not isinstance(v, dict):
            self.err(path, f"{name}: must be a table of checkboxes, got {_type_name(v)}")
            return
        keys = node.option_keys()
        for key, val in v.items():
            p = (*path, key)
            if key not in keys:
                self.err(p, f"unknown key '{self.where(p)}'{_suggest(key, keys)}")
            elif key.endswith("_detail"):
                if not isinstance(val, str):
                    self.err(p, f"{name}: '{key}' must be text, got {_type_name(val)}")
            elif key.endswith("_count"):
                self.count(f"{name} {key}", val, p)
            elif not isinstance(val, bool):
                self.err(p, f"{name}: '{key}' must be true or false, got {_type_name(val)}")

    def records(self, name: str, v: Any, path: Path) -> None:
        if not isinstance(v, list):
            self.err(path, f"{name}: must be an array of tables ([[…records]]), got {_type_name(v)}")
            return
        for i, group in enumerate(v):
            p = (*path, i)
            if not isinstance(group, dict):
                self.err(p, f"{name}: group {i + 1} must be a table, got {_type_name(group)}")
                continue
            for key, val in group.items():
                if key not in ("heading", "style", "items"):
                    self.err((*p, key), f"unknown key '{key}' in {name}{_suggest(key, ['heading', 'style', 'items'])}")
            if not isinstance(group.get("heading", ""), str):
                self.err((*p, "heading"), f"{name}: heading must be text")
            if group.get("style", "bullet") not in RECORD_STYLES:
                self.err((*p, "style"), f"{name}: style must be one of {', '.join(RECORD_STYLES)}")
            items = group.get("items", [])
            if not isinstance(items, list) or not all(isinstance(x, str) for x in items):
                self.err((*p, "items"), f"{name}: items must be an array of strings")

    def attachments(self, v: Any, path: Path) -> None:
        if not isinstance(v, dict):
            self.err(path, f"attachments must be a table, got {_type_name(v)}")
            return
        for key, att in v.items():
            p = (*path, key)
            if not isinstance(att, dict):
                self.err(p, f"attachment '{key}' must be a table")
                continue
            for k, val in att.items():
                if k not in ("title", "columns", "rows", "note"):
                    self.err((*p, k), f"unknown key '{k}' in attachment '{key}'{_suggest(k, ['title', 'columns', 'rows', 'note'])}")
                elif k in ("title", "note") and not isinstance(val, str):
                    self.err((*p, k), f"attachment '{key}': {k} must be text, got {_type_name(val)}")
                elif k == "columns" and not (isinstance(val, list) and all(isinstance(c, str) for c in val)):
                    self.err((*p, k), f"attachment '{key}': columns must be an array of strings")
            rows = att.get("rows", [])
            if not isinstance(rows, list) or not all(isinstance(r, list) and all(isinstance(c, str) for c in r) for r in rows):
                self.err((*p, "rows"), f"attachment '{key}': rows must be an array of arrays of strings")

    def changes(self, v: Any, path: Path) -> None:
        if not isinstance(v, dict) or set(v) - {"rows"}:
            extra = sorted(set(v) - {"rows"}) if isinstance(v, dict) else []
            self.err(path, f"changes must be a table with only 'rows'{'; unknown: ' + ', '.join(extra) if extra else ''}")
            return
        rows = v.get("rows", [])
        if not isinstance(rows, list):
            self.err((*path, "rows"), "changes.rows must be an array of tables")
            return
        for i, row in enumerate(rows):
            p = (*path, "rows", i)
            if not isinstance(row, dict):
                self.err(p, f"変更箇所 row {i + 1} must be a table")
                continue
            for k, val in row.items():
                if k not in ROW_KEYS:
                    self.err((*p, k), f"unknown key '{k}' in 変更箇所 row {i + 1}{_suggest(k, sorted(ROW_KEYS))}")
                elif k in ("paths", "commits"):
                    if not isinstance(val, list) or not all(isinstance(x, str) for x in val):
                        self.err((*p, k), f"変更箇所 row {i + 1}: {k} must be an array of strings")
                elif k == "date":
                    self.date("変更日", val, (*p, k))
                elif not isinstance(val, str):
                    self.err((*p, k), f"変更箇所 row {i + 1}: {k} must be text, got {_type_name(val)}")
            if isinstance(row.get("timing", ""), str) and row.get("timing", "") not in TIMINGS:
                self.err((*p, "timing"), f"変更箇所 row {i + 1}: 提出時期 must be 事前, 事後 or \"\", got {row.get('timing')!r}")

    def consistency(self, data: dict) -> None:
        """Warn where the document contradicts itself the way reviewers check by hand (rules.md §7)."""
        self.threshold_result(data)
        files = data.get("files")
        self.same_file_names(files)
        # the structure was checked already, but a wrong type there must not stop the other messages
        for fkey, f in (files.items() if isinstance(files, dict) else ()):
            if not isinstance(f, dict):
                continue
            out = _table(f, "outsourcing")
            items = _table(out, "items")
            if isinstance(out.get("count"), int) and out["count"] != len(items):
                self.warn(("files", fkey, "outsourcing", "count"), f"委託の有無 says ({out['count']}) 件 but {len(items)} 委託事項 are written")
            subcontracted = []
            for ikey, item in items.items():
                if isinstance(item, dict) and item.get("subcontract") == "再委託する":
                    subcontracted.append(ikey)
                    if isinstance(item.get("subcontract_work"), str) and not _names_work(item["subcontract_work"]):
                        self.warn(("files", fkey, "outsourcing", "items", ikey, "subcontract"), f"委託事項{ikey} says 再委託する but no 再委託事項 is written")
                elif isinstance(item, dict) and item.get("subcontract") == "再委託しない" and _names_work(item.get("subcontract_work")):
                    self.warn(("files", fkey, "outsourcing", "items", ikey, "subcontract"), f"委託事項{ikey} says 再委託しない but a 再委託事項 is written")
            risk = _table(_table(_table(_table(data, "risks"), fkey), "outsourcing"), "risk1")
            if subcontracted and risk.get("subcontract_assurance") == "再委託していない":
                self.warn(("risks", fkey, "outsourcing", "risk1", "subcontract_assurance"),
                          f"再委託先の適切な取扱い says 再委託していない but 委託事項{'、'.join(subcontracted)} say 再委託する")
            prov = _table(f, "provision")
            status = _table(prov, "status")
            recips = _table(prov, "recipients")
            if isinstance(status.get("provide_count"), int) and recips:
                if status["provide_count"] != len(recips):
                    self.warn(("files", fkey, "provision", "status", "provide_count"), f"提供を行っている ({status['provide_count']}) 件 but {len(recips)} 提供先 are written")

    def same_file_names(self, files: Any) -> None:
        """Warn where two 特定個人情報ファイル have the same name: the 変更箇所 table names each file's
        items by it (「Ⅱ … (予防接種ファイル) 2. …」), so their rows could not be told apart."""
        seen: dict[str, str] = {}
        for fkey, f in (files.items() if isinstance(files, dict) else ()):
            name = f.get("name") if isinstance(f, dict) else None
            if not isinstance(name, str) or not name.strip():
                continue
            if name in seen:
                self.warn(("files", fkey, "name"), f"特定個人情報ファイル{seen[name]} and {fkey} are both named 「{name}」:"
                          " the 変更箇所 table could not tell their rows apart")
            else:
                seen[name] = fkey

    def threshold_result(self, data: dict) -> None:
        """Warn when the しきい値判断結果 is not one that 対象人数 (and, in a 基礎項目評価書, 取扱者数 and
        重大事故) allow: a 重点 or 全項目 form holds 対象人数 alone, so both columns of the table are allowed."""
        where: tuple[str, ...]
        if self.form.kind == "kiso":
            t = _table(data, "threshold")
            given = (_table(t, "population").get("count"), _table(t, "handlers").get("count"), _table(t, "incident").get("occurred"))
            inputs, where = "対象人数, 取扱者数 and 重大事故 give", ("threshold_result", "result")
        else:
            given = (_table(_table(data, "basic"), "affair").get("population"), None, None)
            inputs, where = f"対象人数 「{given[0]}」 gives", ("procedure", "basic_assessment", "threshold")
        result: Any = data
        for key in where:
            result = result.get(key) if isinstance(result, dict) else None
        levels, stated = possible_levels(self.form.kind, *given), result_level(result)
        if levels and stated is not None and stated not in levels:
            allowed = " or ".join(f"「{RESULTS[x]}」" for x in sorted(levels))
            self.warn(where, f"しきい値判断結果 is 「{result}」 but {inputs} {allowed} (docs/rules.md §7)")


# what a 再委託事項 holds when there is nothing to name: 「なし」 agrees with 再委託しない
_NO_WORK = ("なし", "無し", "該当なし", "該当無し", "-", "－", "―", "—", "ー")


def _names_work(value: Any) -> bool:
    """Return whether a 再委託事項 names some work: text that is neither blank nor only says there is none."""
    return isinstance(value, str) and value.strip() not in ("", *_NO_WORK)


def _table(parent: dict, key: str) -> dict:
    """Return ``parent[key]`` when it is a table, else an empty one."""
    v = parent.get(key)
    return v if isinstance(v, dict) else {}


def validate(data: dict, sc: Scan, file: str, commit: str = "", known: AbstractSet[int] = frozenset()) -> tuple[list[Problem], list[Problem]]:
    """Return (problems, warnings) of a parsed document; subtrees whose id is in ``known`` are taken as valid."""
    meta = data.get("meta")
    if not isinstance(meta, dict) or "form" not in meta:
        return [Problem(file, sc.line_of(("meta",)) or 1, f"missing form kind: add [meta] form = \"…\" (one of {', '.join(FORM_KINDS)})", commit)], []
    kind = meta["form"]
    if kind not in FORM_KINDS:
        return [Problem(file, sc.line_of(("meta", "form")), f"unknown form kind {kind!r}: must be one of {', '.join(FORM_KINDS)}{_suggest(str(kind), list(FORM_KINDS))}", commit)], []
    form = load_form(kind)
    v = _Validator(form, sc, file, commit, known)
    for key in meta:
        if key not in META_KEYS:
            v.err(("meta", key), f"unknown key 'meta.{key}'{_suggest(key, sorted(META_KEYS))}")
    sv = meta.get("schema_version", form.version)
    if sv != form.version:
        v.err(("meta", "schema_version"), f"schema_version {sv!r} is not supported for {kind} (this piachange reads version {form.version})")
    if "source" in meta and not isinstance(meta["source"], str):
        v.err(("meta", "source"), "meta.source must be text")
    body = {k: val for k, val in data.items() if k != "meta"}
    v.table("", body, ())
    v.consistency(data)
    return v.problems, v.warnings


# ---------------------------------------------------------------- completion


def blank(node: Node) -> Any:
    """Return the empty value of a leaf as the canonical file writes it."""
    return {
        "text": "", "period": "", "choice": "", "flag": False, "count": "", "date": "", "list": [],
        "attachments": {}, "changes": {"rows": []},
    }.get(node.kind) if node.kind != "checks" else {
        k: ("" if k.endswith(("_detail", "_count")) else False) for k in node.option_keys()
    }


def complete(form: Form, data: dict, instances: bool = False, *, in_place: bool = False) -> dict:
    """Return ``data`` with every leaf present (blanks filled); ``instances`` adds each repeat's first instance."""
    out = data if in_place else copy.deepcopy(data)
    out.setdefault("meta", {}).setdefault("schema_version", form.version)
    _fill(form, "", out, instances)
    return out


def _fill(form: Form, parent: str, table: dict, instances: bool) -> None:
    for node in form.children.get(parent, ()):
        if node.key == "*":
            keys = [k for k in table if k.isdigit()]
            if not keys and instances and node.min:
                table["1"] = {}
                keys = ["1"]
            for k in keys:
                if isinstance(table[k], dict):
                    _fill(form, node.path, table[k], instances)
            continue
        if node.kind in ("group", "repeat"):
            sub = table.setdefault(node.key, {})
            if isinstance(sub, dict):
                _fill(form, node.path, sub, instances)
        elif node.kind in ("checks", "changes"):  # a leaf written as a table: its missing keys are blanks too
            sub = table.setdefault(node.key, {})
            if isinstance(sub, dict):
                for k, val in blank(node).items():
                    sub.setdefault(k, val)
        else:
            table.setdefault(node.key, blank(node))
