from __future__ import annotations

import sys

import typer

from piachange.commands import selection

FORMATS = ("text", "json")


def register(app: typer.Typer) -> None:
    @app.command()
    def explain(
        paths: list[str] = selection.PATHS,
        since: str = selection.SINCE,
        until: str = selection.UNTIL,
        staged: bool = selection.STAGED,
        message: str = selection.MESSAGE,
        repo: str = selection.REPO,
        per_commit: bool = selection.PER_COMMIT,
        date: str = selection.DATE,
        item: str = typer.Option(None, "--item", help="Only rows of this item: key glob, compact form (Ⅱ-6③), full label or part of it."),
        fmt: str = typer.Option("text", "--format", help=f"Output format: {', '.join(FORMATS)}."),
    ) -> None:
        """Show, row by row, every rule tried in order and why it matched or not, ending with the decision."""
        from piachange.explanation import explain_range, to_json, to_text  # imported here: keeps the CLI start fast
        from piachange.report import Options, parse_date_option
        if fmt not in FORMATS:
            raise typer.BadParameter(f"must be one of {', '.join(FORMATS)}", param_hint="--format")
        since, until, made = selection.chosen_range(repo, since, until, staged, message)
        opts = Options(since=since, until=until, repo=repo, paths=tuple(paths or ()), per_commit=per_commit,
                       date=parse_date_option(date) if date is not None else None)
        data = explain_range(opts, item or "", staged=made)
        sys.stdout.write(to_json(data) if fmt == "json" else to_text(data))
