"""Atomic file writes: a temporary file in the same directory, fsync, then rename."""

from __future__ import annotations

import os
import stat
import tempfile
import time
from typing import Sequence

from piachange.errors import PiaError


def write_atomic(path: str, data: bytes | str, *, root: str | None = None) -> None:
    """Replace ``path`` with ``data`` all at once, keeping its permissions (``root``: see target_of)."""
    write_all_atomic([(path, data)], root=root)


def write_all_atomic(files: Sequence[tuple[str, bytes | str]], *, root: str | None = None) -> None:
    """Replace several files: each is written out in full and synced before the first is replaced,
    so a full disk or an I/O error while writing leaves every one of them as it was."""
    staged: list[tuple[str, str, str]] = []  # (path as given, temporary file, target)
    try:
        for path, data in files:
            staged.append(_stage(path, data.encode("utf-8") if isinstance(data, str) else data, root))
        for path, tmp, target in staged:
            try:
                _replace(tmp, target)
            except OSError as e:
                # what Windows says of a read-only file, and of one Excel has open (a report's -o)
                hint = " (read-only, or open in another program such as Excel?)" if isinstance(e, PermissionError) else ""
                raise PiaError(f"{path}: not written: {e.strerror or e}{hint}") from None
    finally:
        for _, tmp, _ in staged:
            _discard(tmp)


def _replace(tmp: str, target: str, tries: int = 4) -> None:
    """Rename ``tmp`` onto ``target``, trying again a moment later where it is refused: on Windows a
    virus scanner, a search indexer or a OneDrive sync holds a file just written for a moment."""
    for n in range(tries):
        try:
            os.replace(tmp, target)
            return
        except PermissionError:
            if n == tries - 1:
                raise
            time.sleep(0.05 * 2**n)  # 0.05, 0.1, 0.2 s: a file a program keeps open is refused after 0.35 s


def _discard(tmp: str) -> None:
    """Remove a temporary file if it is still there; never raise."""
    try:
        os.unlink(tmp)
    except FileNotFoundError:
        pass
    except OSError:
        try:  # Windows deletes no read-only file, and the copy of a read-only target is one
            os.chmod(tmp, stat.S_IREAD | stat.S_IWRITE)
            os.unlink(tmp)
        except OSError:
            pass  # left behind rather than hiding why the write failed


def _stage(path: str, data: bytes, root: str | None) -> tuple[str, str, str]:
    """Write ``data`` to a synced temporary file beside ``path``'s target, with the target's permissions."""
    target = target_of(path, root=root)
    directory = os.path.dirname(target) or "."
    try:
        st = os.stat(target)
        # owners are POSIX's: Windows has no os.chown (nor os.getuid), and gives every file uid 0
        mode, owner = stat.S_IMODE(st.st_mode), (st.st_uid, st.st_gid) if hasattr(os, "chown") else None
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        mode, owner = 0o666 & ~umask, None
    try:
        fd, tmp = tempfile.mkstemp(prefix=".piachange-", suffix=".tmp", dir=directory)
    except OSError as e:
        raise PiaError(f"{path}: not written: {e.strerror}") from None
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        if owner is not None and owner != (os.getuid(), os.getgid()):
            try:  # root formatting someone's file must not take it over
                os.chown(tmp, *owner)
            except PermissionError:
                pass  # an ordinary user cannot give files away; the file becomes theirs, as with any editor
    except BaseException as e:
        _discard(tmp)
        if isinstance(e, OSError):  # disk full, quota, I/O error: name the file, not the temporary one
            raise PiaError(f"{path}: not written: {e.strerror or e}") from None
        raise
    return path, tmp, target


def make_parents(path: str) -> str:
    """Create the missing directories above ``path`` (a new file's); return the first one created, '' if none."""
    directory = os.path.dirname(os.path.abspath(path))
    missing = ""
    while directory and not os.path.lexists(directory):
        missing, directory = directory, os.path.dirname(directory)
        if directory == missing:  # a root that is not there: a Windows drive or share not connected
            break
    if missing:
        try:
            os.makedirs(os.path.dirname(os.path.abspath(path)))
        except OSError as e:
            raise PiaError(f"{path}: cannot create directory {missing}: {e.strerror or e}; not written") from None
    return missing


def target_of(path: str, *, root: str | None = None) -> str:
    """Return the file ``write_atomic`` replaces for ``path``; raise PiaError where it would refuse to.

    When ``root`` is given, refuse a target that resolves (through symlinks) outside it. Callers
    that write several files check each first, so that one refused leaves every file untouched.
    """
    target = os.path.abspath(path)
    # with a root, a symlinked parent directory or a '..' must not lead out of it either
    if os.path.islink(target) or root is not None:
        real = os.path.realpath(target)
        base = os.path.realpath(root or os.path.dirname(target))
        if not within(real, base):
            what = "is a symbolic link to" if os.path.islink(target) else "resolves to"
            raise PiaError(f"{path}: {what} {real}, outside {base}; not written")
        target = real
    directory = os.path.dirname(target) or "."
    if not os.path.isdir(directory):
        raise PiaError(f"{path}: directory {directory} does not exist; not written")
    if os.path.isdir(target):
        raise PiaError(f"{path}: is a directory; not written")
    if os.path.exists(target) and not stat.S_ISREG(os.stat(target).st_mode):
        # a FIFO or a device would be replaced by a file, not written to
        raise PiaError(f"{path}: not a regular file; not written (print to standard output and redirect instead)")
    return target


def within(path: str, base: str) -> bool:
    """Return whether ``path`` is ``base`` or below it."""
    try:
        return os.path.commonpath([path, base]) == base
    except ValueError:  # Windows: a link to another drive, which commonpath refuses
        return False
