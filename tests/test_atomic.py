"""Nothing lost: writes are all-or-nothing, keep permissions and stay inside their directory."""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys
from typing import Callable

import pytest

from piachange.atomic import write_all_atomic, write_atomic
from piachange.errors import PiaError

from conftest import EXAMPLE_002, Repo

# a valid assessment that is not canonical (fmt rewrites it)
UNFORMATTED = '[meta]\nform = "juten"\n\n[cover]\ntitle = "健康増進法による健康増進事業の実施に関する事務"\n'


def run_with_fault(fault: str, *args: str, cwd: pathlib.Path) -> subprocess.CompletedProcess[str]:
    """Run the CLI in a fresh interpreter after ``fault`` (Python source) has patched it."""
    code = f"import os, sys\n{fault}\nsys.argv = ['piachange', *sys.argv[1:]]\nfrom piachange.cli import main\nmain()\n"
    return subprocess.run([sys.executable, "-c", code, *args], cwd=cwd, capture_output=True, text=True, timeout=60)


def leftovers(directory: pathlib.Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.startswith(".piachange-"))


def test_a_failing_rename_leaves_the_original_and_no_temporary_file(tmp_path: pathlib.Path) -> None:
    a, b = tmp_path / "a.toml", tmp_path / "b.toml"
    a.write_text(UNFORMATTED, encoding="utf-8")
    b.write_text(UNFORMATTED.replace("健康", "介護"), encoding="utf-8")
    fault = "def full(*a, **k):\n    raise OSError(28, 'No space left on device')\nos.replace = full"
    res = run_with_fault(fault, "fmt", "a.toml", "b.toml", cwd=tmp_path)
    assert res.returncode == 1
    assert res.stderr.splitlines() == ["a.toml: not written: No space left on device", "b.toml: not written: No space left on device"]
    assert a.read_text(encoding="utf-8") == UNFORMATTED
    assert leftovers(tmp_path) == []


def test_a_read_only_file_on_windows_is_one_error_and_no_temporary_file(tmp_path: pathlib.Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """Windows neither replaces nor deletes a read-only file (nor one Excel has open). The copy
    of a read-only target is read-only too: it must still be removed, and the error must be the
    target's, not the temporary file's."""
    target = tmp_path / "a.toml"
    target.write_text(UNFORMATTED, encoding="utf-8")
    target.chmod(0o444)
    replace, unlink = os.replace, os.unlink

    def windows(call: Callable[..., None]) -> Callable[..., None]:
        def refuse(*paths: str) -> None:  # unlink(path), replace(src, dst): the last path is the one removed
            if not os.stat(paths[-1]).st_mode & 0o200:
                raise PermissionError(13, "Access is denied", paths[-1])
            call(*paths)
        return refuse

    monkeypatch.setattr(os, "replace", windows(replace))
    monkeypatch.setattr(os, "unlink", windows(unlink))
    with pytest.raises(PiaError, match=r"^.*a\.toml: not written: Access is denied \(read-only, or open in another program"
                                       r" such as Excel\?\)$"):
        write_atomic(str(target), "x = 1\n")
    assert target.read_text(encoding="utf-8") == UNFORMATTED
    assert leftovers(tmp_path) == []


def test_several_files_are_replaced_only_once_every_one_is_written(tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The disk fills while the second of two annexes is written: the first is not replaced either."""
    a, b = tmp_path / "a.toml", tmp_path / "b.toml"
    a.write_text("a = 1\n", encoding="utf-8")
    b.write_text("b = 1\n", encoding="utf-8")
    synced: list[int] = []

    def fsync(fd: int) -> None:
        synced.append(fd)
        if len(synced) == 2:
            raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", fsync)
    with pytest.raises(PiaError, match=f"^{b}: not written: No space left on device$"):
        write_all_atomic([(str(a), "a = 2\n"), (str(b), "b = 2\n")])
    assert (a.read_text(encoding="utf-8"), b.read_text(encoding="utf-8")) == ("a = 1\n", "b = 1\n")
    assert leftovers(tmp_path) == []
    monkeypatch.undo()
    write_all_atomic([(str(a), "a = 2\n"), (str(b), "b = 2\n")])
    assert (a.read_text(encoding="utf-8"), b.read_text(encoding="utf-8")) == ("a = 2\n", "b = 2\n")
    assert leftovers(tmp_path) == []


def test_an_interrupt_while_writing_leaves_the_original_and_no_temporary_file(tmp_path: pathlib.Path) -> None:
    a = tmp_path / "a.toml"
    a.write_text(UNFORMATTED, encoding="utf-8")
    fault = "def stop(fd):\n    raise KeyboardInterrupt\nos.fsync = stop"
    res = run_with_fault(fault, "fmt", "a.toml", cwd=tmp_path)
    assert res.returncode == 130
    assert "Traceback" not in res.stderr
    assert a.read_text(encoding="utf-8") == UNFORMATTED
    assert leftovers(tmp_path) == []


def test_a_process_killed_mid_write_leaves_the_original_intact(tmp_path: pathlib.Path) -> None:
    a = tmp_path / "a.toml"
    a.write_text(UNFORMATTED, encoding="utf-8")
    # os._exit skips every cleanup, like SIGKILL or a power cut after the data but before the rename
    fault = "def die(fd):\n    os._exit(137)\nos.fsync = die"
    res = run_with_fault(fault, "fmt", "a.toml", cwd=tmp_path)
    assert res.returncode == 137
    assert a.read_text(encoding="utf-8") == UNFORMATTED
    # the half-written copy can only be a hidden .tmp file, which check and fmt never pick up
    left = leftovers(tmp_path)
    assert len(left) == 1 and left[0].endswith(".tmp")
    res = subprocess.run([sys.executable, "-m", "piachange", "check", "."], cwd=tmp_path, capture_output=True, text=True)
    assert res.stderr == "1 file(s) ok\n"


@pytest.mark.parametrize("mode", [0o600, 0o640, 0o664])
def test_fmt_keeps_the_permissions(tmp_path: pathlib.Path, mode: int) -> None:
    a = tmp_path / "a.toml"
    a.write_text(UNFORMATTED, encoding="utf-8")
    a.chmod(mode)
    res = subprocess.run([sys.executable, "-m", "piachange", "fmt", "a.toml"], cwd=tmp_path, capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    assert a.read_text(encoding="utf-8") != UNFORMATTED
    assert a.stat().st_mode & 0o7777 == mode


def test_a_new_file_gets_the_umask_mode(tmp_path: pathlib.Path) -> None:
    code = "import os, sys\nos.umask(0o027)\nsys.argv = ['piachange', 'new', 'juten', 'x.toml']\nfrom piachange.cli import main\nmain()"
    res = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    assert (tmp_path / "x.toml").stat().st_mode & 0o777 == 0o640


def test_a_problem_in_one_file_does_not_stop_the_others(tmp_path: pathlib.Path) -> None:
    d = tmp_path / "assessments"
    d.mkdir()
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "c.toml").write_text(UNFORMATTED, encoding="utf-8")
    (d / "a.toml").write_text('[meta]\nform = "juten"\n[cover]\nnumber = 27\n', encoding="utf-8")
    (d / "b.toml").write_text(UNFORMATTED, encoding="utf-8")
    (d / "c.toml").symlink_to(outside / "c.toml")
    (d / "d.toml").write_text(UNFORMATTED, encoding="utf-8")
    res = subprocess.run([sys.executable, "-m", "piachange", "fmt"], cwd=tmp_path, capture_output=True, text=True)
    assert res.returncode == 1
    assert res.stderr.splitlines() == [
        "assessments/a.toml:4: 評価書番号: must be text (a string), got an integer",
        f"assessments/c.toml: is a symbolic link to {outside / 'c.toml'}, outside {d}; not written",
        "reformatted assessments/b.toml",
        "reformatted assessments/d.toml",
    ]
    assert (d / "b.toml").read_text(encoding="utf-8") != UNFORMATTED
    assert (outside / "c.toml").read_text(encoding="utf-8") == UNFORMATTED
    assert (d / "c.toml").is_symlink()


# ---------------------------------------------------------------- the root guard of write_atomic


@pytest.fixture
def out(tmp_path: pathlib.Path) -> pathlib.Path:
    (tmp_path / "out").mkdir()
    (tmp_path / "secret").mkdir()
    (tmp_path / "secret" / "keep.txt").write_text("original", encoding="utf-8")
    return tmp_path / "out"


def test_root_refuses_a_symlink_out_of_it(out: pathlib.Path) -> None:
    (out / "report.html").symlink_to(out.parent / "secret" / "keep.txt")
    with pytest.raises(PiaError, match="is a symbolic link to .*keep.txt, outside .*out; not written"):
        write_atomic(str(out / "report.html"), "<html>", root=str(out))
    assert (out.parent / "secret" / "keep.txt").read_text(encoding="utf-8") == "original"
    assert (out / "report.html").is_symlink()
    assert leftovers(out) == [] and leftovers(out.parent / "secret") == []


def test_root_refuses_a_dangling_symlink_out_of_it(out: pathlib.Path) -> None:
    (out / "report.html").symlink_to(out.parent / "secret" / "new.txt")
    with pytest.raises(PiaError, match="outside"):
        write_atomic(str(out / "report.html"), "<html>", root=str(out))
    assert not (out.parent / "secret" / "new.txt").exists()


def test_root_refuses_a_symlinked_directory_out_of_it(out: pathlib.Path) -> None:
    (out / "sub").symlink_to(out.parent / "secret", target_is_directory=True)
    with pytest.raises(PiaError, match="outside"):
        write_atomic(str(out / "sub" / "keep.txt"), "<html>", root=str(out))
    assert (out.parent / "secret" / "keep.txt").read_text(encoding="utf-8") == "original"


def test_root_refuses_a_dotdot_path_out_of_it(out: pathlib.Path) -> None:
    with pytest.raises(PiaError, match="outside"):
        write_atomic(str(out / ".." / "secret" / "keep.txt"), "<html>", root=str(out))
    assert (out.parent / "secret" / "keep.txt").read_text(encoding="utf-8") == "original"


def test_root_follows_a_symlink_that_stays_inside(out: pathlib.Path) -> None:
    (out / "real.html").write_text("old", encoding="utf-8")
    (out / "latest.html").symlink_to("real.html")
    write_atomic(str(out / "latest.html"), "new", root=str(out))
    assert (out / "latest.html").is_symlink()
    assert (out / "real.html").read_text(encoding="utf-8") == "new"


def test_a_missing_directory_is_an_error_not_a_traceback(out: pathlib.Path) -> None:
    with pytest.raises(PiaError, match="does not exist; not written"):
        write_atomic(str(out / "no" / "such" / "dir.html"), "x", root=str(out))


def test_a_fifo_is_not_replaced_by_a_file(out: pathlib.Path) -> None:
    fifo = out / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(PiaError, match="pipe: not a regular file; not written"):
        write_atomic(str(fifo), "x", root=str(out))
    assert fifo.is_fifo() and leftovers(out) == []


def test_report_output_never_follows_a_symlink_out_of_its_directory(repo: Repo, tmp_path: pathlib.Path) -> None:
    repo.write("assessments/kenko.toml", EXAMPLE_002.read_text(encoding="utf-8"))
    repo.commit("初版")
    repo.write("assessments/kenko.toml", EXAMPLE_002.read_text(encoding="utf-8").replace("呉市長", "呉市長 新原芳明"))
    repo.commit("評価実施機関名")
    secret = tmp_path / "secret.html"
    secret.write_text("original", encoding="utf-8")
    (repo.path / "out").mkdir()
    (repo.path / "out" / "report.html").symlink_to(secret)
    res = subprocess.run(
        [sys.executable, "-m", "piachange", "report", "--since", "HEAD~1", "--format", "html", "--output", "out/report.html"],
        cwd=repo.path, capture_output=True, text=True,
    )
    assert res.returncode == 1
    assert res.stderr == f"Error: out/report.html: is a symbolic link to {secret}, outside {repo.path / 'out'}; not written\n"
    assert secret.read_text(encoding="utf-8") == "original"
    # and without the link the same command writes the file
    (repo.path / "out" / "report.html").unlink()
    res = subprocess.run(
        [sys.executable, "-m", "piachange", "report", "--since", "HEAD~1", "--format", "html", "--output", "out/report.html"],
        cwd=repo.path, capture_output=True, text=True,
    )
    assert res.returncode == 0, res.stderr
    assert "新原芳明" in (repo.path / "out" / "report.html").read_text(encoding="utf-8")


@pytest.mark.skipif(os.geteuid() != 0, reason="only root can create a file owned by someone else")
def test_fmt_as_root_keeps_the_owner(tmp_path: pathlib.Path) -> None:
    a = tmp_path / "a.toml"
    a.write_text(UNFORMATTED, encoding="utf-8")
    os.chown(a, 65534, 65534)  # nobody
    res = subprocess.run([sys.executable, "-m", "piachange", "fmt", "a.toml"], cwd=tmp_path, capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    assert a.read_text(encoding="utf-8") != UNFORMATTED
    assert (a.stat().st_uid, a.stat().st_gid) == (65534, 65534)


def test_a_file_is_replaced_where_files_have_no_owner(tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Windows: os.chown and os.getuid do not exist (and every file reads as uid 0). Replacing an
    existing file, as fmt and report --write do, must not depend on them."""
    target = tmp_path / "kenko.toml"
    target.write_text("古い\n", encoding="utf-8")
    for name in ("chown", "getuid", "getgid"):
        monkeypatch.delattr(os, name)
    write_atomic(str(target), "新しい\n")
    assert target.read_text(encoding="utf-8") == "新しい\n"
    assert [p.name for p in tmp_path.iterdir()] == ["kenko.toml"]


def test_new_on_a_drive_that_is_not_there_is_one_error(tmp_path: pathlib.Path) -> None:
    """Windows: a network drive not connected (Z:\\) is no directory, and is its own parent. The
    directories to make are looked for up to it, and `new` says it cannot make them (it looped forever)."""
    fault = ("real_isdir, real_lexists = os.path.isdir, os.path.lexists\n"
             "os.path.isdir = lambda p: p != '/' and real_isdir(p)\n"  # '/' stands for the drive
             "os.path.lexists = lambda p: p != '/' and real_lexists(p)\n"
             "def unreachable(*a, **k):\n    raise FileNotFoundError(2, 'The system cannot find the path specified')\n"
             "os.makedirs = unreachable")
    res = run_with_fault(fault, "new", "kiso", "/no-such-drive/assessments/a.toml", cwd=tmp_path)
    assert res.returncode == 1
    assert res.stderr == ("Error: /no-such-drive/assessments/a.toml: cannot create directory /: The system cannot find"
                          " the path specified; not written\n")


def test_a_replace_refused_for_a_moment_is_tried_again(tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Windows: a virus scanner or OneDrive holds a file just written for a moment, and the rename
    onto the target is refused (PermissionError) once or twice before it goes through."""
    target = tmp_path / "kenko.toml"
    target.write_text("古い\n", encoding="utf-8")
    real, refusals = os.replace, [PermissionError(13, "Access is denied")] * 2

    def held(src: str, dst: str) -> None:
        if refusals:
            raise refusals.pop()
        real(src, dst)

    monkeypatch.setattr(os, "replace", held)
    write_atomic(str(target), "新しい\n")
    assert target.read_text(encoding="utf-8") == "新しい\n" and not refusals
    assert [p.name for p in tmp_path.iterdir()] == ["kenko.toml"]
