from __future__ import annotations

import os
import sys

import typer

from piachange.atomic import make_parents, write_atomic
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
        """Create a blank assessment with every item of the form present (and its directory, if new)."""
        blank = render_new(load_form(form))  # an unknown kind fails before anything is made
        if os.path.exists(path) and not force:
            raise PiaError(f"{path}: already exists (use --force to overwrite)")
        made = make_parents(path)
        write_atomic(path, blank)
        print(f"created {path} ({load_form(form).name}){f', and the directory {made}' if made else ''}", file=sys.stderr)
