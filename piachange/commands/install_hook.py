from __future__ import annotations

import sys

import typer

from piachange.commands import selection


def register(app: typer.Typer) -> None:
    @app.command("install-hook")
    def install_hook(
        repo: str = selection.REPO,
        force: bool = typer.Option(False, "--force", help="Replace a commit-msg hook that is not piachange's."),
    ) -> None:
        """Install the commit-msg hook: each commit shows its 変更箇所 rows, and a wrong PIA-* trailer stops it."""
        from piachange.staged import install_hook as install

        path = install(repo, force)
        print(f"installed {path}: it runs {sys.executable} -m piachange report --staged", file=sys.stderr)
