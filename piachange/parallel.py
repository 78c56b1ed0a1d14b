"""Work done in a second process while this one goes on: the newer part of a long walk over history.

The second process is a fresh ``python -m piachange.parallel`` (nothing of this one is
inherited, not its git processes nor its open cache, and no user script is imported again). It
imports the module it was started with, then reads one pickled call on its standard input and
writes the pickled result on its standard output. A PiaError there is the same one-line error here; a process that ends without a
result is an error too, never a silently shorter report.
"""

from __future__ import annotations

import importlib
import os
import pickle
import subprocess
import sys
import threading
from typing import Any, Callable

from piachange import tune_collector
from piachange.errors import PiaError

ENV = "PIACHANGE_JOBS"
_HOME = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # where `import piachange` finds this copy


def jobs() -> int:
    """Return how many processes a long walk may use: $PIACHANGE_JOBS, else 2 where there are 2 CPUs."""
    text = os.environ.get(ENV, "")
    if text:
        if not text.isascii() or not text.isdigit() or int(text) < 1:
            raise PiaError(f"{ENV}={text!r}: must be a whole number ≥ 1")
        return int(text)
    return min(2, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)


class Apart:
    """A second interpreter: ``call(fn, *args)`` runs ``fn(*args)`` there, ``result()`` waits for it.

    ``Apart(module)`` starts the interpreter and has it import ``module`` while this process goes
    on, so the call can start as soon as it is sent."""

    def __init__(self, module: str = "") -> None:
        path = os.environ.get("PYTHONPATH")
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([_HOME, path] if path else [_HOME])}
        self._proc = subprocess.Popen([sys.executable, "-m", "piachange.parallel", *([module] if module else [])],
                                      stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env)
        self._writer: threading.Thread | None = None

    def call(self, fn: Callable[..., Any], *args: Any) -> Apart:
        """Send the call (never waiting for the interpreter to be ready); return self."""
        call = pickle.dumps((fn, args), protocol=pickle.HIGHEST_PROTOCOL)
        self._writer = threading.Thread(target=self._send, args=(call,), daemon=True)
        self._writer.start()
        return self

    def _send(self, call: bytes) -> None:
        assert self._proc.stdin is not None
        try:
            self._proc.stdin.write(call)
            self._proc.stdin.close()
        except OSError:
            pass  # it ended already: result() says so

    def result(self) -> Any:
        """Return what the function returned; raise PiaError for its error, or if the process ended without a result."""
        assert self._proc.stdout is not None and self._writer is not None, "call() first"
        raw = self._proc.stdout.read()
        code = self._proc.wait()
        self._writer.join()
        try:
            ok, value = pickle.loads(raw)
        except Exception:
            raise PiaError(f"the second process of this report ended without a result (exit code {code})") from None
        if not ok:
            raise PiaError(*value)
        return value

    def stop(self) -> None:
        """End the process if it is still running (its result is no longer wanted)."""
        if self._proc.poll() is None:
            self._proc.kill()
        self._proc.wait()
        for f in (self._proc.stdin, self._proc.stdout):
            if f is not None:
                try:
                    f.close()
                except OSError:
                    pass


def _main() -> None:
    if len(sys.argv) > 1:
        importlib.import_module(sys.argv[1])
    tune_collector()
    fn, args = pickle.load(sys.stdin.buffer)
    try:
        out = (True, fn(*args))
    except PiaError as e:
        out = (False, (str(e), e.problems))
    except KeyboardInterrupt:  # Ctrl-C reaches both processes: the first one says so
        sys.exit(130)
    # Pickled whole before it is written: the first process is usually still walking its part, and
    # pickle.dump into the pipe would do this work only once it reads, 0.15 s of a long report.
    data = pickle.dumps(out, protocol=pickle.HIGHEST_PROTOCOL)
    sys.stdout.buffer.write(data)


if __name__ == "__main__":
    _main()
