"""The command line: wires one module per command; core errors become one line and exit 1."""

from __future__ import annotations

import codecs
import importlib
import io
import sys

import typer

from piachange import __version__, tune_collector
from piachange.errors import PiaError, one_line

COMMANDS = ("check", "fmt", "new", "show", "report", "explain", "install_hook", "demo", "import_")

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    pretty_exceptions_show_locals=False,
    help="Semantic change tables (変更箇所) for 特定個人情報保護評価書 kept as TOML in git.",
)

for _name in COMMANDS:
    importlib.import_module(f"piachange.commands.{_name}").register(app)


def _version(value: bool) -> None:
    if value:
        print(f"piachange {__version__}")
        raise typer.Exit()


@app.callback()
def _options(version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                          help="Print the version and exit.")) -> None:
    pass  # no docstring: the help is the app's


def run() -> None:
    """The console script: ``main`` in a process that ends with it (see tune_collector)."""
    tune_collector()
    _utf8_output()
    main()


def _utf8_output() -> None:
    """Write standard output and standard error in UTF-8 where they go to a file or a pipe, as the
    reports are written: a redirect on Windows would encode in cp932 and stop at the first 「—」 or
    「⚠」 with a traceback, and ``> log 2>&1`` (or a Git GUI showing a commit-msg hook's errors, which
    it reads as UTF-8) would get two encodings. A terminal keeps its encoding, and shows what it
    cannot print escaped."""
    for out in (sys.stdout, sys.stderr):
        if not isinstance(out, io.TextIOWrapper) or codecs.lookup(out.encoding).name == "utf-8":
            continue
        if out.isatty():
            out.reconfigure(errors="backslashreplace")
        else:
            out.reconfigure(encoding="utf-8", errors=out.errors)  # stderr's backslashreplace stays


def main() -> None:
    """Run the CLI: exit 0 ok, 1 problems or a user error, 2 usage error."""
    try:
        app()
    except PiaError as e:
        for line in [str(p) for p in e.problems] or [one_line(f"Error: {e}")]:
            print(line, file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(130)
    except BrokenPipeError:
        sys.exit(1)
    except OSError as e:
        # the environment failed (disk full, permission denied), not piachange: one line, no traceback
        where = f"{e.filename}: " if e.filename else ""
        print(one_line(f"Error: {where}{e.strerror or e}"), file=sys.stderr)
        sys.exit(1)
