from __future__ import annotations

import sys

import typer



def register(app: typer.Typer) -> None:
    @app.command()
    def demo(
        directory: str = typer.Argument(None, metavar="[DIR]", help="Where to build it (new or empty; default: a new temporary directory)."),
    ) -> None:
        """Build a small git repository of sample assessments with a history, and print its 変更箇所 report."""
        from piachange.demo import build_demo  # imported here: keeps the CLI start fast
        from piachange.report import Options, build_report
        from piachange.render import render  # imported late: the renderer loads its templates

        made = build_demo(directory)
        report = build_report(Options(since=made.first, repo=made.path))
        sys.stdout.buffer.write(render(report, "md"))
        sys.stdout.flush()
        # --repo, not 'cd DIR &&': Windows PowerShell 5.1 has no &&, cmd.exe's cd changes no drive, and a
        # temporary directory under C:\Users\<name with a space> needs the quotes
        print(f"\ndemo repository: {made.path}\n"
              f'  try: piachange report --repo "{made.path}" --since {made.first[:9]} --per-commit', file=sys.stderr)
