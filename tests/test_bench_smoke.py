"""The benchmark generator builds a valid, reproducible repository (tiny profile; the benchmark itself is not a test)."""

from __future__ import annotations

import importlib.util
import os
import pathlib
import subprocess
import sys

from conftest import ROOT

from piachange.document import load_bytes
from piachange.fmt import format_document
from piachange.workspace import check_paths, fmt_paths

_spec = importlib.util.spec_from_file_location("bench_generate", ROOT / "bench" / "generate.py")
assert _spec is not None and _spec.loader is not None
generate = importlib.util.module_from_spec(_spec)
sys.modules["bench_generate"] = generate  # dataclasses look their module up while the file runs
_spec.loader.exec_module(generate)


def _generate(out: pathlib.Path, seed: int = 7, verify: bool = False) -> None:
    args = ["-n", "3", "-m", "10", "--seed", str(seed), "--out", str(out)]
    generate.main([*args, "--verify"] if verify else args)


def _git(repo: pathlib.Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True).stdout.decode("utf-8")


def test_generated_repository_passes_check_and_fmt(tmp_path: pathlib.Path) -> None:
    repo = tmp_path / "bench"
    _generate(repo, verify=True)
    assert int(_git(repo, "rev-list", "--count", "HEAD")) == 10
    files = sorted((repo / "assessments").rglob("*.toml"))
    assert len(files) == 3
    out = check_paths([str(repo / "assessments")])
    assert out.files == 3 and not out.problems
    assert not fmt_paths([str(repo / "assessments")], check_only=True).changed
    # every version in history, not only HEAD, is a valid canonical document
    for sha in _git(repo, "rev-list", "HEAD").split():
        present = set(_git(repo, "ls-tree", "-r", "--name-only", sha).split("\n"))
        for p in _git(repo, "diff-tree", "--root", "--no-commit-id", "--name-only", "-r", sha).split():
            if p in present:
                raw = subprocess.run(["git", "show", f"{sha}:{p}"], cwd=repo, check=True, capture_output=True).stdout
                assert format_document(load_bytes(raw, p, sha)).encode("utf-8") == raw

def test_same_seed_same_history(tmp_path: pathlib.Path) -> None:
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    _generate(a)
    # another process with another string hash seed: no set or dict order may leak into the history
    subprocess.run([sys.executable, str(ROOT / "bench" / "generate.py"), "-n", "3", "-m", "10", "--seed", "7", "--out", str(b)],
                   check=True, capture_output=True, env={**os.environ, "PYTHONHASHSEED": "12345"})
    _generate(c, seed=8)
    assert _git(a, "rev-parse", "HEAD") == _git(b, "rev-parse", "HEAD")
    assert _git(a, "rev-parse", "HEAD") != _git(c, "rev-parse", "HEAD")


def test_instruction_counts_are_read_from_perf_stat_output(tmp_path: pathlib.Path) -> None:
    spec = importlib.util.spec_from_file_location("bench_run", ROOT / "bench" / "run.py")
    assert spec is not None and spec.loader is not None
    run = importlib.util.module_from_spec(spec)
    sys.modules["bench_run"] = run
    spec.loader.exec_module(run)
    out = tmp_path / "perf.txt"
    out.write_text("# started on Mon Nov 23 12:00:00 2026\n\n9257740610,,instructions:u,2128542898,100.00,,\n", encoding="utf-8")
    assert run._instructions(str(out)) == 9257740610
    for missing in ("<not counted>,,instructions:u,0,0.00,,\n", "<not supported>,,instructions:u,0,100.00,,\n", ""):
        out.write_text(missing, encoding="utf-8")
        assert run._instructions(str(out)) is None
    assert run._instructions(str(tmp_path / "absent.txt")) is None
    sample = lambda n: run.Sample(1.0, 1.0, 10.0, 0, 0, n)  # noqa: E731
    case = run.Case("x", pia=[sample(30), sample(10), sample(20)], base=[sample(10), sample(10)])
    assert case.instructions_ratio == 2.0
    case.base.append(sample(None))  # one run not counted: no ratio rather than a skewed one
    assert case.instructions_ratio is None
