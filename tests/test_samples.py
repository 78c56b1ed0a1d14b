"""The bundled samples (assessments/): valid, canonical, complete, clearly fictional; the pre-commit hooks run."""

from __future__ import annotations

import os
import pathlib
import re
import subprocess
import sys

import pytest

from piachange.document import load_path
from piachange.resolve import items, value_at

from conftest import ROOT, SAMPLES, Repo

EXPECTED = {
    "kaigo-juten.toml": ("juten", "7", "介護保険に関する事務"),
    "yobosesshu-zenkomoku.toml": ("zenkomoku", "3", "予防接種法による予防接種の実施に関する事務"),
    "jido-teate-kiso.toml": ("kiso", "12", "児童手当法による児童手当の支給に関する事務"),
}
# Items a municipality leaves blank by the form's own logic (【行政機関等のみ】, an image not in the repository).
MAY_BE_BLANK = {
    "cover.ppc_approved_on",
    "procedure.ppc_approval.submitted_on",
    "procedure.ppc_approval.review",
    "annex_affair.diagram",
    "attachments",
}


def run(*args: str, cwd: pathlib.Path = ROOT) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONUTF8": "1", "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "piachange", *args], cwd=cwd, env=env, capture_output=True, text=True, encoding="utf-8", timeout=120
    )


def test_exactly_the_three_samples() -> None:
    assert sorted(p.name for p in SAMPLES.glob("*.toml")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_sample_is_valid_without_warnings(name: str) -> None:
    doc = load_path(str(SAMPLES / name))
    kind, number, affair = EXPECTED[name]
    assert (doc.form.kind, doc.number, doc.data["basic"]["affair"]["name"]) == (kind, number, affair)
    assert doc.warnings == ()


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_sample_fills_every_item(name: str) -> None:
    doc = load_path(str(SAMPLES / name))
    blank = []
    for it in items(doc.form, doc.data):
        if not it.node.is_leaf or it.node.kind == "flag":
            continue
        v = value_at(doc.data, it.path)
        filled = any(x is True for x in v.values()) if it.node.kind == "checks" else v not in ("", [], {}, {"rows": []})
        if not filled and ".".join(it.path) not in MAY_BE_BLANK:
            blank.append(it.label)
    assert blank == []


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_sample_says_it_is_fictional_and_uses_fictional_contacts(name: str) -> None:
    text = (SAMPLES / name).read_text(encoding="utf-8")
    assert text.startswith("# 見本データ(架空)")
    assert "架空市" not in text
    assert "みなと台市" in text
    assert re.findall(r"〒\d{3}-\d{4}", text) and all(z.startswith("〒000-") for z in re.findall(r"〒\d{3}-\d{4}", text))
    phones = re.findall(r"電話(\d[\d-]+)", text)
    assert phones and all(p.startswith("0000-") for p in phones)


def test_sample_shapes() -> None:
    juten = load_path(str(SAMPLES / "kaigo-juten.toml")).data
    f = juten["files"]["1"]
    assert [len(juten["basic"]["systems"]), len(f["outsourcing"]["items"]), len(f["provision"]["recipients"]), len(f["provision"]["transferees"])] == [4, 2, 2, 1]
    assert len(f["records"]) > 1 and all(g["heading"] for g in f["records"])
    zen = load_path(str(SAMPLES / "yobosesshu-zenkomoku.toml")).data
    z = zen["files"]["1"]
    assert [len(zen["basic"]["systems"]), len(z["outsourcing"]["items"]), len(z["provision"]["recipients"])] == [4, 3, 2]
    assert all(zen["risks"]["1"]["network"][f"risk{n}"]["measures"] for n in range(1, 8))
    assert all(g["heading"] for g in z["records"])
    for data in (juten, zen):
        assert data["changes"]["rows"] and all(r["timing"] in ("事前", "事後") for r in data["changes"]["rows"])


def test_law_citations_look_like_the_real_ones() -> None:
    """Later features tell law-reference-only changes apart, so the samples cite laws the usual way."""
    juten = load_path(str(SAMPLES / "kaigo-juten.toml")).data
    assert re.search(r"番号法第9条第1項 別表の\d+の項", juten["basic"]["mynumber_use"]["legal_basis"])
    assert re.search(r"番号法第19条第8号に基づく主務省令第2条の表\d+の項", juten["basic"]["linkage"]["legal_basis"])


def test_check_and_fmt_pass_on_the_samples_with_no_warning() -> None:
    check = run("check", "--as-of", "2026-11-23")  # a fixed day: the samples grow old
    assert (check.returncode, check.stderr.strip()) == (0, "3 file(s) ok")
    fmt = run("fmt", "--check")
    assert (fmt.returncode, fmt.stderr.strip()) == (0, "3 file(s) already canonical")


def _hooks() -> list[dict[str, str]]:
    """Read .pre-commit-hooks.yaml (a flat list of string fields; no YAML library needed)."""
    hooks: list[dict[str, str]] = []
    for line in (ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8").splitlines():
        m = re.match(r"^(- |  )(\w+): (.*)$", line)
        if not m:
            continue
        if m.group(1) == "- ":
            hooks.append({})
        hooks[-1][m.group(2)] = m.group(3)
    return hooks


def test_pre_commit_hooks_run_on_the_files_they_select(tmp_path: pathlib.Path) -> None:
    hooks = {h["id"]: h for h in _hooks()}
    assert set(hooks) == {"piachange-check", "piachange-fmt", "piachange-staged"}
    staged = ["assessments/kaigo-juten.toml", "assessments/jido-teate-kiso.toml", "README.md"]
    for hook in (hooks["piachange-check"], hooks["piachange-fmt"]):
        assert hook["language"] == "python"
        pattern = re.compile(hook["files"])
        selected = [p for p in staged if pattern.search(p)]
        assert selected == staged[:2]
        program, *args = hook["entry"].split()
        assert program == "piachange"
        done = run(*args, *selected)  # pre-commit appends the selected file names
        assert done.returncode == 0, done.stderr
    # and the fmt hook fails on a file that is not canonical
    (tmp_path / "assessments").mkdir()
    text = (SAMPLES / "jido-teate-kiso.toml").read_text(encoding="utf-8")
    (tmp_path / "assessments" / "x.toml").write_text(text.replace("  # 評価書番号", ""), encoding="utf-8")
    done = run(*hooks["piachange-fmt"]["entry"].split()[1:], "assessments/x.toml", cwd=tmp_path)
    assert done.returncode == 1 and "would reformat assessments/x.toml" in done.stderr


def test_the_commit_msg_hook_reads_the_message_file_pre_commit_passes(repo: Repo, tmp_path: pathlib.Path) -> None:
    hook = {h["id"]: h for h in _hooks()}["piachange-staged"]
    assert (hook["language"], hook["stages"], hook["always_run"]) == ("python", "[commit-msg]", "true")
    program, *args = hook["entry"].split()
    assert program == "piachange"
    text = (SAMPLES / "jido-teate-kiso.toml").read_text(encoding="utf-8")
    repo.write("assessments/jido-teate-kiso.toml", text)
    repo.commit("初版")
    repo.write("assessments/jido-teate-kiso.toml", text.replace("こども家庭課", "こども支援課", 1))
    repo.git("add", "-A")
    msg = tmp_path / "COMMIT_EDITMSG"
    msg.write_text("組織改正\n\nPIA-Cause: 組織改正\n", encoding="utf-8")
    done = run(*args, str(msg), cwd=repo.path)  # pre-commit appends the message file at the commit-msg stage
    assert done.returncode == 0, done.stderr
    assert "| 事後 | 軽微な修正 | cause:reorganisation |" in done.stdout
    msg.write_text("組織改正\n\nPIA-Cause: 未定義の原因\n", encoding="utf-8")
    done = run(*args, str(msg), cwd=repo.path)
    assert done.returncode == 1 and f"{msg}:3: " in done.stderr
