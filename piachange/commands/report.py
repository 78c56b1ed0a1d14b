from __future__ import annotations

import os
import sys
from typing import Callable

import typer

from piachange.atomic import target_of, write_atomic
from piachange.commands import selection

FORMATS = ("md", "html", "csv", "xlsx", "json")


def _progress_bar() -> Callable[[int, int], None] | None:
    """Return a progress callback drawing on stderr, or None when stderr is not a terminal."""
    if not sys.stderr.isatty():
        return None

    def draw(done: int, total: int) -> None:
        width = 30
        filled = width * done // max(total, 1)
        end = "\n" if done >= total else ""
        print(f"\r{'█' * filled}{'·' * (width - filled)} {done}/{total} commits", end=end, file=sys.stderr, flush=True)

    return draw


def _earlier(n: int) -> str:
    """Return '1 new row is' or 'N new rows are'."""
    return f"{n} new row{'s are' if n > 1 else ' is'}"


def register(app: typer.Typer) -> None:
    @app.command()
    def report(
        paths: list[str] = selection.PATHS,
        since: str = selection.SINCE,
        until: str = selection.UNTIL,
        staged: bool = selection.STAGED,
        message: str = selection.MESSAGE,
        repo: str = selection.REPO,
        per_commit: bool = selection.PER_COMMIT,
        date: str = selection.DATE,
        fmt: str = typer.Option("md", "--format", help=f"Output format: {', '.join(FORMATS)}."),
        output: str = typer.Option(None, "--output", "-o", help="Write to FILE instead of stdout."),
        template: str = typer.Option(None, "--template", help="A template file to render with instead of the bundled one."),
        write: bool = typer.Option(False, "--write", help="Append the rows to each assessment's own 変更箇所 annex (changes.rows)."),
        cache_dir: str = typer.Option(None, "--cache-dir", help="Keep the cache here (default: $PIACHANGE_CACHE_DIR, else .git/piachange-cache). What was parsed and compared once is reused, so a repeated report only does new work; it never changes a report, and one that cannot be written is skipped."),
        no_cache: bool = typer.Option(False, "--no-cache", help="Neither read nor write the cache."),
    ) -> None:
        """Print the 変更箇所 table of the changes between two points of history."""
        from piachange.annex import append_rows  # imported here: keeps the CLI start fast
        from piachange.report import Options, build, parse_date_option
        from piachange.render import render  # imported late: the renderer loads its templates

        if fmt not in FORMATS:
            raise typer.BadParameter(f"must be one of {', '.join(FORMATS)}", param_hint="--format")
        if staged and write:
            raise typer.BadParameter("the rows of a commit not yet made are not written: commit, then --write", param_hint="--write")
        since, until, made = selection.chosen_range(repo, since, until, staged, message)
        opts = Options(since=since, until=until, repo=repo, paths=tuple(paths or ()), per_commit=per_commit,
                       date=parse_date_option(date) if date is not None else None, cache=not no_cache, cache_dir=cache_dir or "")
        built = build(opts, progress=_progress_bar(), staged=made)
        data = render(built.report, fmt, template=template)
        where = os.path.dirname(os.path.abspath(output)) if output else ""
        if output:
            target_of(output, root=where)  # an -o refused must leave the annexes unwritten
        written = append_rows(built.report, built.root) if write else []
        if output:
            write_atomic(output, data, root=where)
        else:
            sys.stdout.buffer.write(data)
            sys.stdout.flush()
        if fmt == "csv" and built.report.findings:  # one table: the findings every other format prints have no place there
            print(f"{len(built.report.findings)} finding(s), which the CSV has no place for:", file=sys.stderr)
            for f in built.report.findings:
                print(f"{f.file}: {f.severity}: {f.message}", file=sys.stderr)
        for a in written:
            print(f"{a.file}: {a.note or f'{a.added} row(s) appended, {a.present} already present'}", file=sys.stderr)
            if a.earlier and a.last:
                print(f"{a.file}: warning: {_earlier(a.earlier)} dated before the annex's last row ({a.last.isoformat()});"
                      " check the 変更日", file=sys.stderr)
