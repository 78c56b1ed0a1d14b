"""piachange new (blank assessments that pass check and fmt) and piachange show (items by official name)."""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys
import tomllib

import pytest
from typer.testing import CliRunner

from piachange.cli import app
from piachange.document import load_path
from piachange.schema import FORM_KINDS, load_form

from conftest import ROOT, SAMPLES

KAIGO = SAMPLES / "kaigo-juten.toml"
SOURCES = "Ⅱ 特定個人情報ファイルの概要 3. 特定個人情報の入手・使用 ①入手元"


def run(*args: str, cwd: pathlib.Path) -> subprocess.CompletedProcess[str]:
    """Run the real CLI in a separate process."""
    env = {**os.environ, "PYTHONUTF8": "1", "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "piachange", *args], cwd=cwd, env=env, capture_output=True, text=True, encoding="utf-8", timeout=120
    )


# ---------------------------------------------------------------- new


@pytest.mark.parametrize("kind", FORM_KINDS)
def test_new_creates_a_file_that_passes_check_and_fmt(tmp_path: pathlib.Path, kind: str) -> None:
    (tmp_path / "assessments").mkdir()
    done = run("new", kind, f"assessments/{kind}.toml", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stderr.strip() == f"created assessments/{kind}.toml ({load_form(kind).name})"
    folder = str(tmp_path / "assessments")
    check = CliRunner().invoke(app, ["check", folder])
    assert (check.exit_code, check.stderr.strip()) == (0, "1 file(s) ok")
    fmt = CliRunner().invoke(app, ["fmt", "--check", folder])
    assert (fmt.exit_code, fmt.stderr.strip()) == (0, "1 file(s) already canonical")
    doc = load_path(str(tmp_path / "assessments" / f"{kind}.toml"))
    assert doc.form.kind == kind
    # every leaf is written out, inside the first instance of each repeat the form always prints
    raw = tomllib.loads((tmp_path / "assessments" / f"{kind}.toml").read_text(encoding="utf-8"))
    written = 0
    for node in doc.form.leaves():
        stars = [".".join(node.parts[: i + 1]) for i, p in enumerate(node.parts) if p == "*"]
        if node.kind == "attachments" or any(doc.form.by_path[s].min == 0 for s in stars):
            continue
        v: object = raw
        for part in node.parts:
            assert isinstance(v, dict) and (part if part != "*" else "1") in v, f"{node.path} not written"
            v = v[part if part != "*" else "1"]
        written += 1
    assert written > 40


def test_new_refuses_to_overwrite_without_force(tmp_path: pathlib.Path) -> None:
    target = tmp_path / "a.toml"
    target.write_text("# 書きかけ\n", encoding="utf-8")
    done = run("new", "juten", "a.toml", cwd=tmp_path)
    assert done.returncode == 1
    assert done.stderr.strip() == "Error: a.toml: already exists (use --force to overwrite)"
    assert target.read_text(encoding="utf-8") == "# 書きかけ\n"
    done = run("new", "juten", "a.toml", "--force", cwd=tmp_path)
    assert done.returncode == 0
    assert load_path(str(target)).form.kind == "juten"


def test_new_in_a_fresh_repository_creates_assessments_too(tmp_path: pathlib.Path) -> None:
    """The first assessment of a new repository: its directory is made, as the file is new."""
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    done = run("new", "kiso", "assessments/jido-teate.toml", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stderr.strip() == f"created assessments/jido-teate.toml (基礎項目評価書), and the directory {tmp_path / 'assessments'}"
    assert run("check", cwd=tmp_path).returncode == 0  # the default scope finds it
    (tmp_path / "plain").write_text("", encoding="utf-8")
    done = run("new", "kiso", "plain/sub/a.toml", cwd=tmp_path)
    assert done.returncode == 1
    assert done.stderr.startswith("Error: plain/sub/a.toml: "), done.stderr
    assert len(done.stderr.splitlines()) == 1 and (tmp_path / "plain").is_file()


def test_new_with_an_unknown_kind_is_one_line(tmp_path: pathlib.Path) -> None:
    done = run("new", "jyuten", "a.toml", cwd=tmp_path)
    assert done.returncode == 1
    assert done.stderr.strip() == "Error: unknown form kind 'jyuten': expected one of zenkomoku, juten, kiso"
    assert not (tmp_path / "a.toml").exists()
    done = run("new", "jyuten", "new-dir/a.toml", cwd=tmp_path)
    assert done.returncode == 1 and not (tmp_path / "new-dir").exists()  # nothing made for a wrong kind


# ---------------------------------------------------------------- show


@pytest.mark.parametrize(
    "query",
    [
        "files.1.acquisition.sources",
        SOURCES,
        "Ⅱ-3①入手元",
        "Ⅱ-3①",
        "II-3①入手元",
        "II 特定個人情報ファイルの概要 3. 特定個人情報の入手・使用 ①入手元",
        "Ⅱ－３①入手元",  # full-width dash and digit
        "Ⅱ-３①",
        "  Ⅱ-3①入手元 ",
    ],
)
def test_show_resolves_every_way_of_naming_an_item(query: str) -> None:
    result = CliRunner().invoke(app, ["show", str(KAIGO), query, "--json"])
    assert result.exit_code == 0, result.stderr
    out = json.loads(result.stdout)
    assert set(out) == {"path", "label", "value"}
    assert out["path"] == ["files", "1", "acquisition", "sources"]
    assert out["label"] == SOURCES
    assert out["value"]["principal"] is True
    assert out["value"]["other_detail"] == "国民健康保険団体連合会"


def test_show_prints_the_label_and_the_value_as_the_form_does(tmp_path: pathlib.Path) -> None:
    done = run("show", str(KAIGO), "Ⅱ-3①", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == SOURCES
    assert lines[1] == "[○] 本人又は本人の代理人"
    assert "[ ] 民間事業者" in lines
    assert lines[-1] == "[○] その他 (国民健康保険団体連合会)"


def test_show_a_date_prints_wareki_and_json_iso(tmp_path: pathlib.Path) -> None:
    done = run("show", str(KAIGO), "公表日", cwd=tmp_path)
    assert done.stdout.splitlines() == ["表紙 公表日", "令和7年6月20日"]
    done = run("show", str(KAIGO), "cover.published_on", "--json", cwd=tmp_path)
    assert json.loads(done.stdout) == {"path": ["cover", "published_on"], "label": "表紙 公表日", "value": "2025-06-20"}


def test_show_an_instance_of_a_repeat(tmp_path: pathlib.Path) -> None:
    done = run("show", str(KAIGO), "Ⅰ-2システム4①システムの名称", "--json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["path"] == ["basic", "systems", "4", "name"]
    assert out["value"] == "番号連携サーバ"


@pytest.mark.parametrize(
    ("query", "start"),
    [
        ("リスクへの対策は十分か", "Error: 'リスクへの対策は十分か' names 8 items: 「Ⅲ リスク対策 2."),
        ("存在しない項目", "Error: no item '存在しない項目' in this 重点項目評価書"),
        ("files.9.name", "Error: no item 'files.9.name' in this 重点項目評価書"),
    ],
    ids=["ambiguous", "unknown", "missing-instance"],
)
def test_show_an_ambiguous_or_unknown_item_is_one_clear_line(tmp_path: pathlib.Path, query: str, start: str) -> None:
    done = run("show", str(KAIGO), query, cwd=tmp_path)
    assert done.returncode == 1
    assert done.stdout == ""
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(start), done.stderr


def test_show_on_an_invalid_file_names_the_problem(tmp_path: pathlib.Path) -> None:
    (tmp_path / "bad.toml").write_text('[meta]\nform = "juten"\n\n[cover]\nnubmer = "1"\n', encoding="utf-8")
    done = run("show", "bad.toml", "cover.number", cwd=tmp_path)
    assert done.returncode == 1
    assert done.stderr.splitlines()[0] == "bad.toml:5: unknown key 'cover.nubmer' (did you mean 'number'?)"


def test_an_item_of_two_files_names_each_by_its_file(tmp_path: pathlib.Path) -> None:
    (tmp_path / "two.toml").write_text(KAIGO.read_text(encoding="utf-8") + '\n[files.2]\nname = "介護保険受給者台帳ファイル"\n',
                                       encoding="utf-8")
    done = run("show", "two.toml", "Ⅱ-1", cwd=tmp_path)
    assert done.returncode == 1
    assert done.stderr == ("Error: 'Ⅱ-1' names 2 items: 「Ⅱ 特定個人情報ファイルの概要 (介護保険情報ファイル) 1. 特定個人情報ファイル名」;"
                           " 「Ⅱ 特定個人情報ファイルの概要 (介護保険受給者台帳ファイル) 1. 特定個人情報ファイル名」\n")
    # each is named as the table names it, and that label names it alone
    done = run("show", "two.toml", "Ⅱ 特定個人情報ファイルの概要 (介護保険受給者台帳ファイル) 1. 特定個人情報ファイル名", cwd=tmp_path)
    assert done.stdout.splitlines()[1] == "介護保険受給者台帳ファイル", done.stderr


def test_show_a_place_that_prints_a_stored_item_again(tmp_path: pathlib.Path) -> None:
    (tmp_path / "two.toml").write_text(KAIGO.read_text(encoding="utf-8") + '\n[files.2]\nname = "介護保険受給者台帳ファイル"\n'
                                       '\n[risks.2.training]\nlevel = "十分に行っている"\n', encoding="utf-8")
    done = run("show", "two.toml", "Ⅲ-1", cwd=tmp_path)  # no stored item is Ⅲ-1: the places under Ⅲ of both files are
    assert done.returncode == 1 and "names 2 items" in done.stderr and "「Ⅲ リスク対策 (介護保険受給者台帳ファイル) 1." in done.stderr
    done = run("show", "two.toml", "risks.2.file_name", cwd=tmp_path)
    assert done.stdout.splitlines() == ["Ⅲ リスク対策 (介護保険受給者台帳ファイル) 1. 特定個人情報ファイル名", "介護保険受給者台帳ファイル",
                                        "(printed from files.2.name)"]
    done = run("show", "two.toml", "Ⅰ-3", "--json", cwd=tmp_path)
    assert json.loads(done.stdout) == {"path": ["basic", "file_names"], "label": "Ⅰ 基本情報 3. 特定個人情報ファイル名",
                                       "value": ["介護保険情報ファイル", "介護保険受給者台帳ファイル"],
                                       "copy_of": ["files.1.name", "files.2.name"]}
    done = run("show", "two.toml", "特定個人情報ファイル名", cwd=tmp_path)  # a stored item's name names the stored items
    assert done.stderr.startswith("Error: '特定個人情報ファイル名' names 2 items:"), done.stderr
    assert "「Ⅱ 特定個人情報ファイルの概要 (介護保険情報ファイル) 1. 特定個人情報ファイル名」" in done.stderr and "Ⅲ" not in done.stderr


@pytest.mark.parametrize(
    ("query", "path"),
    [
        ("Ⅰ", ["basic"]),  # not Ⅱ or Ⅲ, whose normalised numerals end in I
        ("Ⅲ", ["risks", "1"]),  # its one file
        ("Ⅱ-3", ["files", "1", "acquisition"]),  # not also the items printed under ⑥ and ⑧, which have no number
        ("Ⅱ-3⑥", ["files", "1", "acquisition", "purpose"]),
        ("Ⅱ-3⑥変更の妥当性", ["files", "1", "acquisition", "purpose_change_validity"]),  # printed under ⑥使用目的
        ("Ⅱ-3⑧情報の突合", ["files", "1", "acquisition", "matching"]),
    ],
)
def test_a_section_or_an_item_printed_under_another_is_named_by_its_numbers(query: str, path: list[str]) -> None:
    result = CliRunner().invoke(app, ["show", str(SAMPLES / "yobosesshu-zenkomoku.toml"), query, "--json"])
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["path"] == path


@pytest.mark.parametrize(("sample", "query", "path"), [
    ("kaigo-juten.toml", "Ⅲ-8", ["risks", "1", "audit"]),  # 8. 監査 is printed over its one item, 実施の有無
    ("jido-teate-kiso.toml", "Ⅰ-7", ["basic", "disclosure_to"]),  # 7. 特定個人情報の開示・訂正・利用停止請求 over 請求先
])
def test_a_heading_printed_over_its_one_item_names_that_item_by_its_number(sample: str, query: str, path: list[str]) -> None:
    result = CliRunner().invoke(app, ["show", str(SAMPLES / sample), query, "--json"])
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["path"] == path


@pytest.mark.parametrize(("sample", "query", "path"), [
    # a section whose repeated groups print under its own heading is that section, 委託の有無 included
    ("kaigo-juten.toml", "Ⅱ-4", ["files", "1", "outsourcing"]),
    ("kaigo-juten.toml", "Ⅱ 特定個人情報ファイルの概要 4. 特定個人情報ファイルの取扱いの委託", ["files", "1", "outsourcing"]),
    ("kaigo-juten.toml", "Ⅱ-5", ["files", "1", "provision"]),  # not ambiguous between 提供先 and 移転先
    ("yobosesshu-zenkomoku.toml", "Ⅱ-5", ["files", "1", "provision"]),
    ("yobosesshu-zenkomoku.toml", "Ⅲ-4", ["risks", "1", "outsourcing"]),  # [ ] 委託しない included
    ("jido-teate-kiso.toml", "Ⅳ-3", ["risks", "use"]),  # not ambiguous between its リスク1 and リスク2
    ("jido-teate-kiso.toml", "Ⅳ-4", ["risks", "outsourcing"]),
    ("jido-teate-kiso.toml", "Ⅳ-2", ["risks", "acquisition", "risk1"]),  # a group over its one group stays the item
])
def test_a_section_is_not_taken_for_a_group_under_it_that_prints_its_heading(sample: str, query: str, path: list[str]) -> None:
    result = CliRunner().invoke(app, ["show", str(SAMPLES / sample), query, "--json"])
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["path"] == path
