from __future__ import annotations

import sys

import typer

from piachange.schema import FORM_NAMES


def register(app: typer.Typer) -> None:
    @app.command("import")
    def import_(
        src: str = typer.Argument(..., help="Text extracted from a published assessment (PDF/HTML), UTF-8."),
        out: str = typer.Option(None, "-o", "--output", help="Write the TOML here (default: standard output)."),
        form: str = typer.Option("auto", "--form", help="auto, zenkomoku, juten or kiso."),
        report: str = typer.Option(None, "--report", help="Also write the review list, unplaced text and coverage as JSON."),
        force: bool = typer.Option(False, "--force", help="Replace OUT if it exists."),
    ) -> None:
        """Import an existing assessment into canonical TOML and list what a person must review."""
        from piachange.importer import import_file  # imported here: keeps the CLI start fast
        result = import_file(src, out, form, report, force)
        if not out:
            sys.stdout.write(result.text)
        for r in result.reviews:
            where = f"{src}:{r.line}" if r.line else src
            print(f"{where}: review [{r.kind}] {r.item + ': ' if r.item else ''}{r.message}", file=sys.stderr)
        c = result.coverage
        print(
            f"imported {src} as {FORM_NAMES[result.form]}{' → ' + out if out else ''}: "
            f"{len(result.reviews)} review item(s), {len(result.unplaced)} unplaced text(s) kept in an UNPLACED comment block; "
            f"{c.recovered}/{c.covered} printed items placed",
            file=sys.stderr,
        )
