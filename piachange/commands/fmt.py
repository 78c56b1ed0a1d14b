from __future__ import annotations

import sys

import typer

from piachange.workspace import fmt_paths


def register(app: typer.Typer) -> None:
    @app.command()
    def fmt(
        paths: list[str] = typer.Argument(None, help="Files or directories (default: assessments/)."),
        check: bool = typer.Option(False, "--check", help="Write nothing; exit 1 and name the files that would change."),
    ) -> None:
        """Rewrite assessments in canonical form: schema order, label comments, one string style."""
        out = fmt_paths(paths or [], check_only=check)
        for p in out.problems:
            print(p, file=sys.stderr)
        for f in out.changed:
            print(f"{'would reformat' if check else 'reformatted'} {f}", file=sys.stderr)
        if out.problems or (check and out.changed):
            raise typer.Exit(1)
        if not out.changed:
            print(f"{out.files} file(s) already canonical", file=sys.stderr)
