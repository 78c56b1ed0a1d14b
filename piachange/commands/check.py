from __future__ import annotations

import datetime as dt
import sys

import typer

from piachange.errors import PiaError
from piachange.wareki import WarekiError, parse_date
from piachange.workspace import check_paths


def register(app: typer.Typer) -> None:
    @app.command()
    def check(
        paths: list[str] = typer.Argument(None, help="Files or directories (default: assessments/)."),
        as_of: str = typer.Option(None, "--as-of", help="Judge the 5-year re-assessment (規則第15条) on this day "
                                  "(2027-04-01 or 令和9年4月1日): which assessments will be due by then; default: today."),
    ) -> None:
        """Validate assessments against their form definition; print every problem as file:line: message."""
        out = check_paths(paths or [], today=_day(as_of) if as_of is not None else dt.date.today())
        for p in [*out.problems, *out.warnings]:
            print(p, file=sys.stderr)
        if out.problems:
            print(f"{len(out.problems)} problem(s) in {out.files} file(s)", file=sys.stderr)
            raise typer.Exit(1)
        print(f"{out.files} file(s) ok" + (f", {len(out.warnings)} warning(s)" if out.warnings else ""), file=sys.stderr)


def _day(text: str) -> dt.date:
    try:
        return parse_date(text)
    except WarekiError as e:
        raise PiaError(f"--as-of: {e}") from None
