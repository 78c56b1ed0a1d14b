from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Not wired yet: this command arrives with its issue."""
