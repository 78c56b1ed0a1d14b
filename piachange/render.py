"""Render a Report as md, html, csv, xlsx or json: the only module that imports Jinja2 or openpyxl.

Every output is a pure function of ``report_json(report)``; the plain dict is documented in
docs/report-json.md and is also what user templates (``--template FILE``) receive as ``report``.
"""

from __future__ import annotations

import base64
import csv
import datetime as dt
import difflib
import hashlib
import io
import json
import re
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from piachange import model, schema
from piachange.errors import PiaError, one_line
from piachange.wareki import to_wareki

if TYPE_CHECKING:
    import jinja2

FORMATS = ("md", "html", "csv", "xlsx", "json")
JIZEN, JIGO = "事前", "事後"
SHORT_SHA = 9  # as in error messages (errors.Problem)

# (row key, header): the official 変更箇所 columns in the order the forms print them.
OFFICIAL = (
    ("date_wareki", "変更日"),
    ("item", "項目"),
    ("before", "変更前の記載"),
    ("after", "変更後の記載"),
    ("timing", "提出時期"),
    ("reason", "提出時期に係る説明"),
)
# Reviewer columns after the official ones (csv, xlsx); Markdown keeps only rule and commits.
REVIEW = (
    ("assessment", "評価書"),
    ("star", "※"),
    ("rule", "判定規則"),
    ("override", "指定"),
    ("warnings", "注意"),
    ("commits", "コミット"),
    ("author", "作成者"),
    ("file", "ファイル"),
    ("path", "キー"),
)
ASSESSMENT_KEYS = ("assessment", "file", "form", "title", "number", "organization")


# ───────── the model ─────────


def report_json(report: model.Report) -> dict[str, Any]:
    """Return the plain, JSON-ready dict every template renders from (docs/report-json.md)."""
    rows = [_row(r) for r in report.rows]
    return {
        "since": report.since,
        "until": report.until,
        "per_commit": report.per_commit,
        # Recomputed as well: a 事前 row must never render without the notice.
        "has_jizen": bool(report.has_jizen or any(r["timing"] == JIZEN for r in rows)),
        "findings": [
            {"assessment": f.assessment, "file": f.file, "message": f.message, "severity": f.severity}
            for f in report.findings
        ],
        "assessments": _assessments(report.assessments, rows),
        "rows": rows,
    }


def _row(row: model.Row) -> dict[str, Any]:
    c = row.change
    authors = list(dict.fromkeys(x.author for x in c.commits))
    return {
        "assessment": c.assessment,
        "file": c.file,
        "path": ".".join(c.path),
        "item": c.item,
        "date": row.date.isoformat(),
        "date_wareki": to_wareki(row.date),
        "before": c.before_text,
        "after": c.after_text,
        "timing": row.timing,
        "reason": row.reason,
        "rule": row.rule,
        "commits": [x.sha for x in c.commits],
        "author": ", ".join(authors),
        "warnings": list(row.warnings),
        "override": row.override,
        "form": c.form,
        "kind": c.kind,
        "star": c.star,
        "copy_of": [".".join(p) for p in c.copy_of],
    }


def _assessments(given: tuple[dict[str, Any], ...], rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for a in given:
        out.append({**{k: "" for k in ASSESSMENT_KEYS}, **{k: _plain(v) for k, v in a.items()}})
    # Every row's assessment gets an entry, so a template grouping by assessment drops no row.
    known = {a["assessment"] for a in out}
    for r in rows:
        if r["assessment"] not in known:
            known.add(r["assessment"])
            out.append({**{k: "" for k in ASSESSMENT_KEYS}, "assessment": r["assessment"], "file": r["file"], "form": r["form"]})
    for a in out:
        a["form_name"] = schema.FORM_NAMES.get(a["form"], a["form"])
        a["annex"] = schema.load_form(a["form"]).changes_annex if a["form"] in schema.FORM_KINDS else "変更箇所"
    return out


def _plain(value: Any) -> Any:
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


# ───────── entry point ─────────


def render(report: model.Report, fmt: str, template: str | None = None) -> bytes:
    """Return the report rendered as ``fmt``, or through the user's Jinja2 ``template`` file."""
    if fmt not in FORMATS:
        raise PiaError(f"unknown report format {fmt!r}: expected one of {', '.join(FORMATS)}")
    data = report_json(report)
    try:
        if template is not None:
            return _render_user(data, Path(template)).encode("utf-8")
        if fmt == "json":
            return _json(data)
        if fmt == "csv":
            return _csv(data)
        if fmt == "xlsx":
            return _xlsx(data)
        return (_render_builtin(data, f"report.{fmt}.jinja").rstrip("\n") + "\n").encode("utf-8")
    except UnicodeEncodeError as e:  # what git gave as a file name that is not UTF-8 (surrogate escapes)
        near = e.object[max(e.start - 30, 0) : e.end + 30].encode("utf-8", "backslashreplace").decode("utf-8")
        raise PiaError(f"the report holds text that is not UTF-8 (a file name?) near '{one_line(near)}': rename it in git") from None


def _json(data: dict[str, Any]) -> bytes:
    """Return the report as JSON, one line per finding, assessment and row.

    ``indent`` would make the json module use its pure-Python encoder, five times slower on a
    report of 10,000 rows; one line per entry keeps the C encoder and stays easy to read, grep
    and diff."""
    dumps = json.JSONEncoder(ensure_ascii=False).encode  # one encoder: json.dumps makes one per call
    lines = ["{"]
    for i, (k, v) in enumerate(data.items()):
        end = "," if i < len(data) - 1 else ""
        if isinstance(v, list) and v:
            lines += [f"  {dumps(k)}: [", *(f"    {dumps(x)}," for x in v[:-1]), f"    {dumps(v[-1])}", f"  ]{end}"]
        else:
            lines.append(f"  {dumps(k)}: {dumps(v)}{end}")
    lines.append("}\n")
    return "\n".join(lines).encode("utf-8")


# ───────── templates ─────────


def templates_dir() -> Traversable:
    """Return the built-in templates: package data when installed, else the repository's templates/."""
    packaged = resources.files("piachange") / "templates"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parent.parent / "templates"


def _builtin_source(name: str) -> tuple[str, str | None, Callable[[], bool]] | None:
    node = templates_dir() / name
    if not node.is_file():
        return None
    return node.read_text(encoding="utf-8"), None, lambda: True


def _autoescape(name: str | None) -> bool:
    """HTML autoescaping for ``*.html``/``*.htm``, also with a ``.j2``/``.jinja``/``.jinja2`` suffix."""
    return bool(name) and re.search(r"\.html?(\.j2|\.jinja2?)?$", str(name), re.I) is not None


def _environment(loader: jinja2.BaseLoader, sandboxed: bool = False) -> jinja2.Environment:
    # Jinja2 is imported where a template is rendered: 12 ms that json, csv and xlsx do not need.
    import jinja2.sandbox

    cls = jinja2.sandbox.SandboxedEnvironment if sandboxed else jinja2.Environment
    env = cls(
        loader=loader,
        autoescape=_autoescape,
        # the built-in pages show control characters as pictures; a user's template gets the values as they are
        finalize=None if sandboxed else _finalize,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["md"] = md_cell
    env.filters["short"] = lambda sha: str(sha)[:SHORT_SHA]
    env.globals["diff"] = char_diff
    return env


def _context(data: dict[str, Any]) -> dict[str, Any]:
    from markupsafe import Markup

    script = (templates_dir() / "report.js").read_text(encoding="utf-8")
    digest = base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode("ascii")
    # The script is our own file; its hash lets the page's CSP refuse every other script.
    return {"report": data, "script": Markup(script), "script_sha256": digest, "official": OFFICIAL}


def _render_builtin(data: dict[str, Any], name: str) -> str:
    import jinja2

    env = _environment(jinja2.FunctionLoader(_builtin_source))
    return env.get_template(name).render(_context(data))


def _render_user(data: dict[str, Any], path: Path) -> str:
    if not path.is_file():
        raise PiaError(f"{path}: template not found")
    import jinja2

    loader = jinja2.ChoiceLoader([jinja2.FileSystemLoader(str(path.parent)), jinja2.FunctionLoader(_builtin_source)])
    env = _environment(loader, sandboxed=True)
    try:
        return env.get_template(path.name).render(_context(data))
    except jinja2.TemplateSyntaxError as e:
        raise PiaError(f"{e.filename or path}:{e.lineno}: {e.message}") from None
    except UnicodeDecodeError:
        raise PiaError(f"{path}: template is not UTF-8") from None
    except (jinja2.TemplateError, TypeError, ValueError, ArithmeticError, LookupError) as e:
        # Undefined names, sandbox refusals, {{ 1/0 }}: the user's template, so a message, no traceback.
        raise PiaError(f"{path}{_template_line(e, path)}: {type(e).__name__}: {e}") from None


def _template_line(exc: BaseException, path: Path) -> str:
    """Return ``:N`` for the deepest traceback frame inside the template, else ``""``."""
    line, tb = "", exc.__traceback__
    while tb is not None:
        if Path(tb.tb_frame.f_code.co_filename).name == path.name:
            line = f":{tb.tb_lineno}"
        tb = tb.tb_next
    return line


_MD = str.maketrans({
    "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;",
    "\\": "\\\\", "|": "\\|", "*": "\\*", "_": "\\_", "`": "\\`", "[": "\\[", "]": "\\]", "~": "\\~",
})  # fmt: skip


# an @ that a pull-request comment would take for a mention (not one inside an e-mail address)
_MENTION = re.compile(r"(?<![A-Za-z0-9])@(?=[A-Za-z0-9])")


def md_cell(value: Any) -> str:
    """Return text safe in a Markdown table cell: HTML and Markdown syntax literal, newlines as <br>,
    control characters as visible pictures, and no @mention (an empty comment after the @ shows
    nothing and notifies nobody)."""
    text = visible(str(value).replace("\r\n", "\n").replace("\r", "\n")).translate(_MD)
    return _MENTION.sub("@<!-- -->", text).replace("\n", "<br>")


# C0 controls other than tab and line breaks, DEL, C1 controls, and the bidirectional embeddings,
# overrides and isolates: never sent to a terminal or a browser as they are
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def visible(text: str) -> str:
    """Return text with each control character shown as its Unicode picture (ESC as ␛, NUL as ␀, DEL as ␡),
    as the XLSX output stores them: a value cannot drive the terminal that shows a Markdown report. Those
    without a picture are shown by their code point ([U+202E]): a right-to-left override would make a
    reviewer read a value in another order than it is written."""
    return _CONTROL.sub(_shown, text)


def _shown(m: re.Match[str]) -> str:
    c = m.group()
    if c < " ":
        return chr(0x2400 + ord(c))
    return "\u2421" if c == "\x7f" else f"[U+{ord(c):04X}]"


def _finalize(value: Any) -> Any:
    """Show control characters of every plain string a built-in template prints (see visible)."""
    from markupsafe import Markup

    return visible(value) if isinstance(value, str) and not isinstance(value, Markup) else value


# ───────── character diff (html) ─────────

_DIFF_LIMIT = 4_000_000  # len(a)*len(b) above which texts are first aligned sentence by sentence
_SENTENCE = re.compile(r"[^。\n]*(?:[。\n]|$)")


def char_diff(before: str, after: str) -> dict[str, list[dict[str, Any]]]:
    """Return ``{"before": [...], "after": [...]}`` segments ``{"text", "changed"}`` marking what changed."""
    ops = _cleanup(_opcodes(before, after))
    out: dict[str, list[dict[str, Any]]] = {"before": [], "after": []}
    for op in ops:
        if op[0] == "=":
            _append(out["before"], op[1], False)
            _append(out["after"], op[1], False)
        else:
            _append(out["before"], op[1], True)
            _append(out["after"], op[2], True)
    return out


def _append(segs: list[dict[str, Any]], text: str, changed: bool) -> None:
    if not text:
        return
    if segs and segs[-1]["changed"] == changed:
        segs[-1]["text"] += text
    else:
        segs.append({"text": text, "changed": changed})


def _opcodes(a: str, b: str) -> list[tuple[str, ...]]:
    """Return ``("=", text)`` / ``("~", old, new)`` ops, adjacent changes merged."""
    ops: list[tuple[str, ...]] = []
    if len(a) * len(b) <= _DIFF_LIMIT:
        # autojunk off: in Japanese prose frequent characters (の, を, 。) are real content.
        sm = difflib.SequenceMatcher(None, a, b, autojunk=False)
        for tag, i1, i2, j1, j2 in sm.get_opcodes():
            _push(ops, ("=", a[i1:i2]) if tag == "equal" else ("~", a[i1:i2], b[j1:j2]))
        return ops
    sa, sb = _SENTENCE.findall(a), _SENTENCE.findall(b)
    sm = difflib.SequenceMatcher(None, sa, sb, autojunk=False)
    for tag, i1, i2, j1, j2 in sm.get_opcodes():
        x, y = "".join(sa[i1:i2]), "".join(sb[j1:j2])
        if tag == "equal":
            _push(ops, ("=", x))
        elif len(x) * len(y) <= _DIFF_LIMIT:
            for op in _opcodes(x, y):
                _push(ops, op)
        elif i2 - i1 == j2 - j1 > 1:
            # as many sentences on each side, each edited (a law reference in every row of a 別紙):
            # compare them one by one, or the whole run would be marked as changed
            for s, t in zip(sa[i1:i2], sb[j1:j2]):
                for op in _opcodes(s, t):
                    _push(ops, op)
        else:
            _push(ops, ("~", x, y))
    return ops


def _push(ops: list[tuple[str, ...]], op: tuple[str, ...]) -> None:
    if ops and ops[-1][0] == op[0] == "~":
        ops[-1] = ("~", ops[-1][1] + op[1], ops[-1][2] + op[2])
    elif ops and ops[-1][0] == op[0] == "=":
        ops[-1] = ("=", ops[-1][1] + op[1])
    elif op[0] == "~" or op[1]:
        ops.append(op)


def _cleanup(ops: list[tuple[str, ...]]) -> list[tuple[str, ...]]:
    """Absorb short equalities between two changes (as diff-match-patch does) so edits read as phrases."""
    changed = True
    while changed:
        changed = False
        for i in range(1, len(ops) - 1):
            left, eq, right = ops[i - 1], ops[i], ops[i + 1]
            if eq[0] != "=" or left[0] != "~" or right[0] != "~":
                continue
            n = len(eq[1])
            if n <= max(len(left[1]), len(left[2])) and n <= max(len(right[1]), len(right[2])):
                ops[i - 1 : i + 2] = [("~", left[1] + eq[1] + right[1], left[2] + eq[1] + right[2])]
                changed = True
                break
    return ops


# ───────── csv and xlsx ─────────


def _cells(row: dict[str, Any], columns: tuple[tuple[str, str], ...], sha: int = SHORT_SHA) -> list[str]:
    """Return a row's values as the table prints them (lists one per line, flags as ○/※, commits
    by their first ``sha`` characters)."""
    out = []
    for key, _ in columns:
        v = row[key]
        if key == "commits":
            v = " ".join(s[:sha] for s in v)
        elif key == "warnings":
            v = "\n".join(v)
        elif key == "override":
            v = "○" if v else ""
        elif key == "star":
            v = "※" if v else ""
        out.append(str(v))
    return out


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(cell: str) -> str:
    """Return a CSV cell that spreadsheets cannot run as a formula: a leading ``'`` when it starts like one."""
    return "'" + cell if cell.startswith(_FORMULA_START) else cell


def _csv(data: dict[str, Any]) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    columns = OFFICIAL + REVIEW
    w.writerow([h for _, h in columns])
    for row in data["rows"]:
        # whole commit ids: Excel reads a short one made of digits (012345678, 1234567e8) as a number
        w.writerow([neutralise(c) for c in _cells(row, columns, sha=40)])
    # The BOM makes Excel read UTF-8 instead of the locale's code page (Shift_JIS in Japan).
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


XLSX_WIDTHS = (16, 36, 60, 60, 10, 32, 16, 4, 18, 6, 30, 12, 14, 24, 30)
XLSX_CELL_MAX = 32767
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_UNSTORABLE = re.compile("[\ufffe\uffff\ud800-\udfff]")  # not XML characters, and no picture stands for them
_OOXML_ESCAPE = re.compile(r"_(?=x[0-9A-Fa-f]{4}_)")  # Excel reads _x6904_ as 椄 unless the _ is written _x005F_


def _xlsx(data: dict[str, Any]) -> bytes:
    # openpyxl is imported here: about 0.2 s that md, html and json do not need.
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Font, NamedStyle, PatternFill, Side
    from openpyxl.utils import get_column_letter

    columns = OFFICIAL + REVIEW
    wb = Workbook()
    wb.properties.title = f"変更箇所 {data['since']}..{data['until']}"
    ws = wb.active
    ws.title = "変更箇所"
    thin = Side(style="thin", color="999999")
    base = {"alignment": Alignment(wrap_text=True, vertical="top"), "border": Border(left=thin, right=thin, top=thin, bottom=thin)}
    jizen = PatternFill("solid", fgColor="FCE4D6")
    # Named styles, registered once: styling 30,000 cells one attribute at a time takes seconds.
    for name, extra in (
        ("pia-head", {"font": Font(bold=True), "fill": PatternFill("solid", fgColor="D9E1F2")}),
        ("pia-cell", {}),
        ("pia-jizen", {"fill": jizen}),
        ("pia-jizen-timing", {"fill": jizen, "font": Font(bold=True, color="C00000")}),
    ):
        wb.add_named_style(NamedStyle(name=name, **base, **extra))
    for j, (_, header) in enumerate(columns, 1):
        ws.cell(1, j, header).style = "pia-head"
    for i, row in enumerate(data["rows"], 2):
        for j, text in enumerate(_cells(row, columns), 1):
            c = ws.cell(i, j)
            if row["timing"] != JIZEN:
                c.style = "pia-cell"
            else:
                c.style = "pia-jizen-timing" if columns[j - 1][0] == "timing" else "pia-jizen"
            _put(c, text, f"{row['file']}: {row['item']}: {columns[j - 1][1]}")
    for j, width in enumerate(XLSX_WIDTHS, 1):
        ws.column_dimensions[get_column_letter(j)].width = width
    ws.freeze_panes = "C2"  # header row and the 変更日/項目 columns stay in view
    ws.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{len(data['rows']) + 1}"
    ws.print_title_rows = "1:1"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    if data["findings"]:
        notes = wb.create_sheet("確認事項")
        keys = (("assessment", "評価書", 16), ("file", "ファイル", 24), ("severity", "重要度", 10), ("message", "内容", 80))
        for j, (key, header, width) in enumerate(keys, 1):
            notes.cell(1, j, header).style = "pia-head"
            notes.column_dimensions[get_column_letter(j)].width = width
            for i, f in enumerate(data["findings"], 2):
                notes.cell(i, j).style = "pia-cell"
                _put(notes.cell(i, j), f[key], f"{f['file']}: finding")
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _put(cell: Any, text: str, where: str) -> None:
    """Store text as a string cell (never a formula); control characters become visible ␀-␟ pictures."""
    if not text:
        return
    size = len(text)
    if size * 2 > XLSX_CELL_MAX:  # Excel counts UTF-16 units: 𠮷 and the other characters beyond U+FFFF are two
        size += sum(c > "\uffff" for c in text)
    if size > XLSX_CELL_MAX:
        raise PiaError(f"{where} has {size} characters, more than an Excel cell holds ({XLSX_CELL_MAX}); use --format csv or html")
    bad = _UNSTORABLE.search(text)
    if bad and "\ud800" <= bad.group() <= "\udfff":  # surrogate escapes: bytes git gave that are not UTF-8
        raise PiaError(f"{where}: text that is not UTF-8 (a file name?): rename it in git")
    if bad:
        raise PiaError(f"{where} holds U+{ord(bad.group()):04X}, which an XLSX file cannot hold; use --format csv or html")
    cell.value = _OOXML_ESCAPE.sub("_x005F_", _ILLEGAL.sub(lambda m: chr(0x2400 + ord(m.group())), text))
    cell.data_type = "s"  # openpyxl would store a str starting with "=" as a formula
    if text.startswith(_FORMULA_START):
        cell.quotePrefix = True  # and Excel keeps it text when it is edited
