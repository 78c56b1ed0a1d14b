from __future__ import annotations

import os
import sys

import typer

from piachange.atomic import write_atomic
from piachange.errors import PiaError
from piachange.fmt import render_new
from piachange.schema import FORM_KINDS, load_form


def register(app: typer.Typer) -> None:
    @app.command()
    def new(
        form: str = typer.Argument(..., help=f"Form kind: {', '.join(FORM_KINDS)}."),
        path: str = typer.Argument(..., help="File to create."),
        force: bool = typer.Option(False, "--force", help="Overwrite an existing file."),
    ) -> None:
        """Create a blank assessment with every item of the form present."""
        if os.path.exists(path) and not force:
            raise PiaError(f"{path}: already exists (use --force to overwrite)")
        write_atomic(path, render_new(load_form(form)))
        print(f"created {path} ({load_form(form).name})", file=sys.stderr)
