"""A ``git cat-file --batch`` that reads blobs in the background while the report works."""

from __future__ import annotations

import os
import subprocess
import tempfile
import time


class BackgroundCatFile:
    """A ``git cat-file --batch`` that answers in the background, into a temporary file: what is
    asked for the next window is read by git while this process works on this one.

    A file, not a pipe: git never waits for this process to drain it, and nothing here has to
    run while git writes. ``take()`` reads the answers in order; where git has not written
    them yet, it waits a moment and looks again. The history reader ends it and starts a new one
    once it has answered LATER_BYTES (history.py), so the file stays small.
    """

    def __init__(self, git: str, cwd: str) -> None:
        self._out = tempfile.TemporaryFile()
        try:
            self._proc = subprocess.Popen([git, "cat-file", "--batch"], cwd=cwd, stdin=subprocess.PIPE, stdout=self._out,
                                          stderr=subprocess.DEVNULL, bufsize=0)
        except OSError:
            self._out.close()
            raise
        self._asked: list[str] = []
        self.taken = 0  # bytes of the file read so far

    def ask(self, shas: list[str]) -> None:
        """Ask for these objects; git answers them while the caller goes on."""
        assert self._proc.stdin is not None
        try:
            self._proc.stdin.write("".join(f"{s}\n" for s in shas).encode("ascii"))
            self._asked += shas
        except OSError:  # git has ended: these are read when wanted instead
            pass

    def take(self) -> dict[str, bytes]:
        """Wait for the answers to everything asked; return {sha: content} of the objects git returned."""
        out: dict[str, bytes] = {}
        fd = self._out.fileno()
        data, pos = b"", 0
        for sha in self._asked:
            while True:  # until data holds the whole answer at pos
                end = data.find(b"\n", pos)
                header = data[pos:end].split() if end >= 0 else []
                size = int(header[2]) if len(header) == 3 and header[2].isdigit() else 0
                if end >= 0 and (len(header) != 3 or len(data) > end + size + 1):
                    break
                ended = self._proc.poll() is not None
                more = os.pread(fd, max(os.fstat(fd).st_size - self.taken, 0), self.taken)
                self.taken += len(more)
                if more:
                    data, pos = data[pos:] + more, 0
                elif ended:  # git ended before answering everything
                    self._asked = []
                    return out
                else:
                    time.sleep(0.0005)
            if len(header) == 3 and header[0] == sha.encode("ascii"):
                out[sha] = data[end + 1 : end + 1 + size]
                pos = end + 2 + size
            else:  # missing, or not what was asked: read again when wanted
                pos = end + 1
        self._asked = []
        return out

    def stop(self) -> None:
        """End git and drop the file."""
        if self._proc.poll() is None:
            self._proc.kill()
        self._proc.wait()
        if self._proc.stdin is not None:
            try:
                self._proc.stdin.close()
            except OSError:
                pass
        self._out.close()
