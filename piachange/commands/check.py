from __future__ import annotations

import datetime as dt
import sys

import typer

from piachange.workspace import check_paths


def register(app: typer.Typer) -> None:
    @app.command()
    def check(paths: list[str] = typer.Argument(None, help="Files or directories (default: assessments/).")) -> None:
        """Validate assessments against their form definition; print every problem as file:line: message."""
        out = check_paths(paths or [], today=dt.date.today())
        for p in [*out.problems, *out.warnings]:
            print(p, file=sys.stderr)
        if out.problems:
            print(f"{len(out.problems)} problem(s) in {out.files} file(s)", file=sys.stderr)
            raise typer.Exit(1)
        print(f"{out.files} file(s) ok" + (f", {len(out.warnings)} warning(s)" if out.warnings else ""), file=sys.stderr)
