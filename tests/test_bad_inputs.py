"""Bad input through the real CLI: every case in tests/bad/ gives exactly its expected lines.

Each case is ``tests/bad/<name>.toml`` or ``.bin`` (or, for things git cannot store, a maker
below) and ``tests/bad/<name>.expected``: the exact stderr of ``piachange check``, with
``{file}`` for the path. Regenerate with ``PIACHANGE_REGEN=1`` and review the diff.
"""

from __future__ import annotations

import json
import os
import pathlib
import re
import subprocess
import sys
import time
import tomllib
from collections.abc import Callable

import pytest

BAD = pathlib.Path(__file__).resolve().parent / "bad"
REGEN = os.environ.get("PIACHANGE_REGEN") == "1"
_LOCATED = re.compile(r"^\{file\}:[1-9]\d*: ")


def _directory(tmp: pathlib.Path) -> pathlib.Path:
    p = tmp / "x.toml"
    p.mkdir()
    return p


def _unreadable(tmp: pathlib.Path) -> pathlib.Path | None:
    p = tmp / "unreadable.toml"
    p.write_text('[meta]\nform = "juten"\n', encoding="utf-8")
    p.chmod(0)
    return None if os.access(p, os.R_OK) else p  # root reads a mode-000 file anyway


def _symlink_loop(tmp: pathlib.Path) -> pathlib.Path:
    (tmp / "a.toml").symlink_to("b.toml")
    (tmp / "b.toml").symlink_to("a.toml")
    return tmp / "a.toml"


def _broken_symlink(tmp: pathlib.Path) -> pathlib.Path:
    (tmp / "gone.toml").symlink_to("deleted.toml")
    return tmp / "gone.toml"


def _fifo(tmp: pathlib.Path) -> pathlib.Path:
    os.mkfifo(tmp / "pipe.toml")
    return tmp / "pipe.toml"


def _missing(tmp: pathlib.Path) -> pathlib.Path:
    return tmp / "missing.toml"


def _device(tmp: pathlib.Path) -> pathlib.Path:
    (tmp / "null.toml").symlink_to("/dev/null")  # a device named like an assessment
    return tmp / "null.toml"


MADE: dict[str, Callable[[pathlib.Path], pathlib.Path | None]] = {
    "directory-named-toml": _directory,
    "unreadable": _unreadable,
    "symlink-loop": _symlink_loop,
    "broken-symlink": _broken_symlink,
    "fifo": _fifo,
    "missing-file": _missing,
    "character-device": _device,
}


def _cases() -> list[str]:
    names = {p.stem for p in BAD.iterdir() if p.suffix in (".toml", ".bin")} | set(MADE)
    return sorted(names)


def _input(name: str, tmp: pathlib.Path) -> pathlib.Path | None:
    if name in MADE:
        return MADE[name](tmp / name)
    for ext in (".toml", ".bin"):
        if (BAD / f"{name}{ext}").exists():
            return BAD / f"{name}{ext}"
    raise AssertionError(f"no input for {name}")


def check(*paths: pathlib.Path | str, cwd: pathlib.Path, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run ``piachange check`` as a user would."""
    return subprocess.run(
        [sys.executable, "-m", "piachange", "check", *map(str, paths)],
        cwd=cwd, capture_output=True, text=True, timeout=timeout,
    )


# One fresh interpreter runs the command line's entry point (argv parsing, the check command,
# the error handling of cli.main) once per case: 110 interpreters would cost half a minute of
# CPU. SAMPLE cases also run as separate `python -m piachange` processes to show it is the same.
DRIVER = """
import contextlib, io, json, sys, traceback
from piachange.cli import main
out = {}
for name, path in json.loads(sys.stdin.read()).items():
    err, std = io.StringIO(), io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(std):
        sys.argv = ["piachange", "check", path]
        try:
            main()
            code = 0
        except SystemExit as e:
            code = e.code if isinstance(e.code, int) else 1
        except BaseException:  # a bug: the traceback lands in this case's stderr and fails it
            traceback.print_exc()
            code = 99
    out[name] = [code, err.getvalue(), std.getvalue()]
print(json.dumps(out))
"""
SAMPLE = ("toml-unclosed-string", "shift-jis", "repeat-gap", "fifo", "control-characters-in-value")


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[pathlib.Path, int, str, str] | None]:
    """Return (input path, exit code, stderr, stdout) of ``piachange check`` for every case."""
    tmp = tmp_path_factory.mktemp("bad")
    inputs: dict[str, pathlib.Path | None] = {}
    for name in _cases():
        (tmp / name).mkdir()
        inputs[name] = _input(name, tmp)
    todo = {name: str(path) for name, path in inputs.items() if path is not None}
    res = subprocess.run([sys.executable, "-c", DRIVER], input=json.dumps(todo), cwd=tmp,
                         capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    ran = json.loads(res.stdout)
    return {name: None if path is None else (path, *ran[name]) for name, path in inputs.items()}


def test_the_corpus_is_big_enough() -> None:
    assert len(_cases()) >= 60
    orphans = {p.stem for p in BAD.glob("*.expected")} - set(_cases())
    assert not orphans, f"expected files without an input: {orphans}"


@pytest.mark.parametrize("name", _cases())
def test_bad_input(name: str, results: dict) -> None:
    if results[name] is None:
        pytest.skip("this user can read a mode-000 file (root)")
    path, code, stderr, stdout = results[name]
    got = stderr.replace(str(path), "{file}")
    assert "Traceback" not in got, got
    assert stdout == ""
    exp = BAD / f"{name}.expected"
    if REGEN:
        exp.write_text(got, encoding="utf-8")
    want = exp.read_text(encoding="utf-8")
    assert got == want
    lines = got.splitlines()
    summary = lines[-1]
    assert re.fullmatch(r"\d+ problem\(s\) in 1 file\(s\)|1 file\(s\) ok(, \d+ warning\(s\))?", summary), summary
    assert code == (1 if "problem(s)" in summary else 0)
    for line in lines[:-1]:
        # every message names the file; everything but a file that cannot be read names a line
        assert line.startswith("{file}"), line
        assert name in MADE or _LOCATED.match(line), line


@pytest.mark.parametrize("name", SAMPLE)
def test_a_separate_process_prints_the_same(name: str, results: dict, tmp_path: pathlib.Path) -> None:
    first, code, stderr, _ = results[name]
    path = MADE[name](tmp_path) if name in MADE else first
    res = check(path, cwd=tmp_path)
    assert res.returncode == code
    assert res.stderr.replace(str(path), "{file}") == stderr.replace(str(first), "{file}")


def test_one_bad_file_does_not_hide_the_others(tmp_path: pathlib.Path) -> None:
    paths = [tmp_path / "missing.toml", BAD / "toml-duplicate-key.toml", _directory(tmp_path),
             BAD / "crlf-line-ends.toml", BAD / "text-got-integer.toml"]
    res = check(*paths, cwd=tmp_path)
    assert res.returncode == 1
    named = [line.split(":")[0] for line in res.stderr.splitlines()[:-1]]
    assert named == [str(paths[0]), str(paths[1]), str(paths[2]), str(paths[4])]
    assert res.stderr.splitlines()[-1] == "4 problem(s) in 5 file(s)"


def _five_megabytes(tmp: pathlib.Path, closed: bool) -> pathlib.Path:
    body = "\n".join("・特定個人情報の漏えいを防ぐため、" + "あ" * 90 for _ in range(17_500))
    end = "'''\n" if closed else "\n"
    p = tmp / "big.toml"
    p.write_text(f'[meta]\nform = "juten"\n\n[cover]\ntitle = "x"\n# 宣言\ndeclaration = \'\'\'\n{body}{end}', encoding="utf-8")
    assert p.stat().st_size > 5_000_000
    return p


def test_a_five_megabyte_value_is_checked_and_formatted_quickly(tmp_path: pathlib.Path) -> None:
    path = _five_megabytes(tmp_path, closed=True)
    start = time.perf_counter()
    res = check(path, cwd=tmp_path)
    checked = time.perf_counter() - start
    assert res.returncode == 0, res.stderr
    start = time.perf_counter()
    res = subprocess.run([sys.executable, "-m", "piachange", "fmt", str(path)], capture_output=True, text=True, timeout=60)
    formatted = time.perf_counter() - start
    assert res.returncode == 0, res.stderr
    assert "'''\n・特定個人情報の漏えいを防ぐため" in path.read_text(encoding="utf-8")
    # measured at about 0.5 s each (interpreter start included); 10 s leaves room for a busy machine
    assert checked < 10 and formatted < 10, (checked, formatted)


def test_a_five_megabyte_value_that_never_ends_is_located(tmp_path: pathlib.Path) -> None:
    path = _five_megabytes(tmp_path, closed=False)
    res = check(path, cwd=tmp_path, timeout=30)
    assert res.stderr.splitlines()[0] == f"{path}:7: invalid TOML: Expected \"'''\": the value that starts here never ends"


def test_crlf_passes_check_and_fmt_keeps_it(tmp_path: pathlib.Path) -> None:
    """CRLF is how git for Windows checks files out: fmt keeps it (test_fmt.py), and the values are those of LF."""
    path = tmp_path / "crlf.toml"
    path.write_bytes((BAD / "crlf-line-ends.toml").read_bytes())
    res = subprocess.run([sys.executable, "-m", "piachange", "fmt", str(path)], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    out = path.read_bytes()
    assert out.count(b"\n") == out.count(b"\r\n")
    assert "declaration = '''\r\n一行目\r\n二行目'''" in out.decode("utf-8")
    assert tomllib.loads(out.decode("utf-8"))["cover"]["declaration"] == "一行目\n二行目"


def test_fmt_removes_a_byte_order_mark(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "bom.toml"
    path.write_bytes((BAD / "utf-8-bom.toml").read_bytes())
    res = subprocess.run([sys.executable, "-m", "piachange", "fmt", str(path)], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    assert path.read_bytes().startswith(b"[meta]\n")
    assert check(path, cwd=tmp_path).stderr == "1 file(s) ok\n"
