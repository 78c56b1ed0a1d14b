"""A persistent cache of work a report does over and over: one SQLite file under ``.git/``.

Entries are keyed by what they are computed from (blob ids, paths, the output style), and the
file is named by a stamp of this piachange (its version and the bytes of its code, forms and
rules), so an upgrade or any edit starts a new file and never reads a stale entry.

The cache can only make a report faster, never change it or stop it: a directory that cannot
be written, a file another run holds locked, a corrupt file or entry — each is a miss, and
the report goes on without it. Values are pickles of plain data; only files in the cache
directory are read, and only dates and builtins are ever unpickled.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import os
import pathlib
import pickle
from importlib import resources
from typing import Any

from piachange import __version__

FORMAT = 3  # the layout of keys and values; bumped when it changes
ENV = "PIACHANGE_CACHE_DIR"
DIRNAME = "piachange-cache"
_PENDING = 2000  # entries written at once
_CHUNK = 500  # keys read in one query (SQLite allows 32,766 parameters since 3.32, 999 before)
_ALLOWED = {("datetime", "date"), ("datetime", "datetime"), ("datetime", "time"), ("datetime", "timezone"),
            ("datetime", "timedelta")}


def stamp() -> str:
    """Return a digest of this piachange: cache format, version, and every file of the package."""
    h = hashlib.sha256(f"{FORMAT}\0{__version__}\0".encode())
    root = resources.files("piachange")
    stack = [root]
    while stack:
        d = stack.pop()
        for entry in sorted(d.iterdir(), key=lambda e: e.name):
            if entry.is_dir():
                if entry.name != "__pycache__":
                    stack.append(entry)
            elif entry.name.endswith((".py", ".toml")):
                h.update(entry.name.encode() + b"\0" + entry.read_bytes() + b"\0")
    return h.hexdigest()[:16]


def key(*parts: str) -> bytes:
    """Return the key of an entry computed from ``parts``."""
    return hashlib.sha256("\0".join(parts).encode("utf-8", "surrogateescape")).digest()


class _Loader(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in _ALLOWED:
            raise pickle.UnpicklingError(f"{module}.{name} is not cache data")
        return getattr(dt, name)


def _load(raw: bytes | None) -> Any:
    """Return an entry's value; a damaged entry is a miss, whatever the damage."""
    if raw is None:
        return None
    try:
        return _Loader(io.BytesIO(raw)).load()
    except Exception:
        return None


class Cache:
    """Entries by key in ``<directory>/v<FORMAT>-<stamp>.sqlite3``; ``directory`` None disables it."""

    _errors: tuple[type[Exception], ...] = (OSError,)

    def __init__(self, directory: str | None, hold: bool = False) -> None:
        self.db: Any = None
        self.path = ""
        self.pending: dict[bytes, bytes] = {}
        self.writable = False
        self.hold = hold  # keep what is put until taken: another process writes it
        self.directory = directory
        if directory is None:
            return
        try:
            import sqlite3
        except ImportError:  # a Python built without it: no cache
            return
        self._errors = (sqlite3.Error, OSError)
        self._corrupt_error = sqlite3.DatabaseError
        self._locked_error = sqlite3.OperationalError
        self.path = os.path.join(directory, f"v{FORMAT}-{stamp()}.sqlite3")
        for attempt in range(2):
            try:
                self._open(directory)
                return
            except self._locked_error:
                break  # read-only, or held by another run: try reading below
            except self._errors as e:
                self.close()
                if attempt or not isinstance(e, self._corrupt_error):
                    return
                self._remove()  # not a database: start it afresh
        self.close()
        try:  # a read-only repository (another user's, a mounted archive) still gives what is there
            # as_uri escapes what a URI would read otherwise ('#', '%', '?' in a directory name; C:\\ on Windows)
            uri = pathlib.Path(os.path.abspath(self.path)).as_uri()
            self.db = sqlite3.connect(f"{uri}?mode=ro", uri=True, timeout=2, isolation_level=None)
            self.db.execute("SELECT 1 FROM entry LIMIT 1").fetchall()
        except self._errors:
            self.close()

    def _open(self, directory: str) -> None:
        import sqlite3

        os.makedirs(directory, exist_ok=True)
        self.db = sqlite3.connect(self.path, timeout=2, isolation_level=None)
        self.db.execute("PRAGMA synchronous=OFF")  # a cache: a file lost in a crash is a miss
        # A rowid table, the key in an index of its own: values run to megabytes, and in a WITHOUT ROWID
        # table they fill the key's b-tree. Writing a cold report's 23 MB took 0.30 s there, 0.11 s here.
        self.db.execute("CREATE TABLE IF NOT EXISTS entry (key BLOB PRIMARY KEY, value BLOB)")
        self.writable = True
        # the files of other piachange versions will never be read again; looked for on every run, as
        # on Windows a file another run holds open cannot be removed then
        for name in os.listdir(directory):
            if name.startswith("v") and name.endswith(".sqlite3") and name != os.path.basename(self.path):
                try:
                    os.unlink(os.path.join(directory, name))
                except OSError:
                    pass

    def _remove(self) -> None:
        try:
            os.unlink(self.path)
        except OSError:
            pass

    def get(self, k: bytes) -> Any:
        """Return the value stored under ``k``, or None (also for anything unreadable)."""
        return self.get_many([k])[k]

    def get_many(self, keys: list[bytes]) -> dict[bytes, Any]:
        """Return {key: value or None} for many keys, read in a few queries."""
        raw: dict[bytes, bytes | None] = {k: self.pending.get(k) for k in keys}
        wanted = [k for k, v in raw.items() if v is None]
        for i in range(0, len(wanted), _CHUNK):
            if self.db is None:
                break
            chunk = wanted[i : i + _CHUNK]
            try:
                found = self.db.execute(f"SELECT key, value FROM entry WHERE key IN ({','.join('?' * len(chunk))})", chunk).fetchall()
            except self._errors as e:
                corrupt = self.writable and not isinstance(e, self._locked_error)
                self.close()  # the rest of this run goes without
                if corrupt:
                    self._remove()  # damaged: the next run starts it afresh
                break
            raw.update(found)
        return {k: _load(v) for k, v in raw.items()}

    def put(self, k: bytes, value: Any) -> None:
        """Store ``value`` under ``k`` (written in batches, and when the cache is closed)."""
        if self.writable:
            self.pending[k] = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
            if len(self.pending) >= _PENDING:
                self.flush()

    def take(self) -> dict[bytes, bytes]:
        """Return and forget the entries put and not written (what a held cache gives another process to write)."""
        out, self.pending = self.pending, {}
        return out

    def put_taken(self, entries: dict[bytes, bytes]) -> None:
        """Store entries another process took from its cache."""
        if self.writable:
            self.pending.update(entries)
            if len(self.pending) >= _PENDING:
                self.flush()

    def flush(self) -> None:
        """Write the pending entries in one transaction; a failure drops them silently. A held
        cache keeps them all, for the process that takes them."""
        if self.hold and self.writable:
            return
        if self.pending and self.db is not None and self.writable:
            try:
                self.db.execute("BEGIN IMMEDIATE")
                self.db.executemany("INSERT OR REPLACE INTO entry VALUES (?, ?)", sorted(self.pending.items()))
                self.db.execute("COMMIT")
            except self._errors:
                try:
                    self.db.execute("ROLLBACK")
                except self._errors:
                    pass
                self.writable = False  # read-only, or locked for long by another run: go on reading
        self.pending.clear()

    def close(self) -> None:
        """Write what is pending and close the file."""
        if self.db is not None:
            self.flush()
            try:
                self.db.close()
            except self._errors:
                pass
        self.db = None
        self.writable = False
        self.pending.clear()
