from __future__ import annotations

import sys

import typer


FORMATS = ("text", "json")


def register(app: typer.Typer) -> None:
    @app.command()
    def explain(
        paths: list[str] = typer.Argument(None, help="Assessment files or directories (default: assessments/)."),
        since: str = typer.Option(..., "--since", help="Start: a revision, a tag or a date (2024-04-01, 令和6年4月1日)."),
        until: str = typer.Option("HEAD", "--until", help="End revision."),
        repo: str = typer.Option(".", "--repo", help="The git repository (default: the current one)."),
        per_commit: bool = typer.Option(False, "--per-commit", help="One row per item per commit instead of the net change."),
        date: str = typer.Option(None, "--date", help="変更日 of every row (2026-03-16 or 令和8年3月16日)."),
        item: str = typer.Option(None, "--item", help="Only rows of this item: key glob, compact form (Ⅱ-6③), full label or part of it."),
        fmt: str = typer.Option("text", "--format", help=f"Output format: {', '.join(FORMATS)}."),
    ) -> None:
        """Show, row by row, every rule tried in order and why it matched or not, ending with the decision."""
        from piachange.explanation import explain_range, to_json, to_text  # imported here: keeps the CLI start fast
        from piachange.report import Options, parse_date_option
        if fmt not in FORMATS:
            raise typer.BadParameter(f"must be one of {', '.join(FORMATS)}", param_hint="--format")
        opts = Options(since=since, until=until, repo=repo, paths=tuple(paths or ()), per_commit=per_commit,
                       date=parse_date_option(date) if date else None)
        data = explain_range(opts, item or "")
        sys.stdout.write(to_json(data) if fmt == "json" else to_text(data))
