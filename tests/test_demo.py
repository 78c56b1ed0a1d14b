"""``piachange demo``: a real repository from the bundled samples, and its report."""

from __future__ import annotations

import datetime as dt
import pathlib
import shutil
import subprocess
import tempfile
from typing import Any

import pytest

from piachange import model
from piachange.demo import build_demo, samples_dir
from piachange.errors import PiaError
from piachange.report import Options, build_report

from conftest import SAMPLES
from test_report_cli import cli


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str, model.Report]:
    made = build_demo(str(tmp_path_factory.mktemp("demo") / "repo"))
    return made.path, made.first, build_report(Options(since=made.first, repo=made.path))


def test_history_has_pinned_dates_and_trailers(demo: tuple[str, str, model.Report]) -> None:
    path, first, _ = demo
    log = subprocess.run(["git", "log", "--reverse", "--format=%H %cI %s%n%(trailers:only,unfold)%x00"], cwd=path,
                         capture_output=True, check=True).stdout.decode("utf-8")
    entries = [e.strip() for e in log.split("\x00") if e.strip()]
    assert len(entries) == 5 and entries[0].startswith(f"{first} 2024-04-01T09:00:00+09:00")
    assert "PIA-Cause: 法令改正" in entries[1]
    assert "PIA-Date: 2025-04-01" in entries[3]
    status = subprocess.run(["git", "status", "--porcelain"], cwd=path, capture_output=True, check=True).stdout
    assert status == b""


def test_report_tells_the_story(demo: tuple[str, str, model.Report]) -> None:
    _, _, report = demo
    kinds = {(r.change.kind, r.change.pattern) for r in report.rows}
    assert (model.INSTANCE_ADDED, "basic.systems.*") in kinds
    assert (model.INSTANCE_REMOVED, "files.*.outsourcing.items.*") in kinds
    law = [r for r in report.rows if "第19条第7号" in r.change.before_text]
    assert law and all("第19条第8号" in r.change.after_text and r.date == dt.date(2024, 5, 27) for r in law)
    assert {r.change.path[-1] for r in report.rows if r.date == dt.date(2025, 4, 1)} == {"name", "head_title"}
    measures = [r for r in report.rows if r.change.path[-1] == "other_measures"]
    assert measures and all(r.date == dt.date(2024, 10, 1) for r in measures)
    assert [r.date for r in report.rows] == sorted(r.date for r in report.rows)
    assert len({a["file"] for a in report.assessments}) == len(list(SAMPLES.glob("*.toml")))


def test_demo_command_prints_the_markdown_report(tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch, capsysbinary: Any) -> None:
    target = tmp_path / "here"
    code, out, err = cli(["demo", str(target)], tmp_path, monkeypatch, capsysbinary)
    assert code == 0, err
    md = out.decode("utf-8")
    assert "令和6年5月27日" in md and "第19条第8号" in md and "（削除）" in md
    assert f"demo repository: {target}" in err
    hint = err.rsplit("try: ", 1)[1].split()  # a command every shell runs as it is, Windows' included
    assert hint[:4] == ["piachange", "report", "--repo", f'"{target}"'] and "&&" not in err
    code, out, err = cli(["demo", str(target)], tmp_path, monkeypatch, capsysbinary)
    assert (code, out) == (1, b"") and err == f"Error: {target}: not empty; the demo needs a new or empty directory\n"


def test_a_global_commit_encoding_does_not_change_the_story(tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Some Japanese offices set i18n.commitEncoding=cp932 for old tools on Windows: the demo's
    UTF-8 messages must not be recorded as cp932, or its trailers are causes nobody knows."""
    config = tmp_path / "gitconfig"
    config.write_text("[i18n]\n\tcommitEncoding = cp932\n[core]\n\tautocrlf = true\n", encoding="utf-8")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(config))
    made = build_demo(str(tmp_path / "repo"))
    report = build_report(Options(since=made.first, repo=made.path))
    assert {r.rule for r in report.rows if r.date == dt.date(2024, 5, 27)} == {"cause:law"}
    head = subprocess.run(["git", "cat-file", "commit", "HEAD"], cwd=made.path, capture_output=True, check=True).stdout
    assert b"\nencoding " not in head and "佐藤 一郎".encode("utf-8") in head


def test_default_directory_is_a_new_temporary_one() -> None:
    made = build_demo()
    try:
        assert pathlib.Path(made.path).parent == pathlib.Path(tempfile.gettempdir())
        assert (pathlib.Path(made.path) / ".git").is_dir()
    finally:
        shutil.rmtree(made.path)


def test_samples_come_from_the_package_or_the_source_tree(tmp_path: pathlib.Path) -> None:
    assert sorted(p.name for p in samples_dir().glob("*.toml")) == sorted(p.name for p in SAMPLES.glob("*.toml"))
    with pytest.raises(PiaError, match="no sample assessments"):
        build_demo(str(tmp_path / "x"), samples=tmp_path / "nothing")
