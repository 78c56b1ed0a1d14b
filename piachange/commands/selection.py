"""The options that choose which changes a command looks at, shared by report and explain."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from piachange.staged import Staged

PATHS = typer.Argument(None, help="Assessment files or directories (default: assessments/); a file renamed in the range is followed.")
SINCE = typer.Option(None, "--since", help="Start (required unless --staged): a revision or tag, or a date (2024-04-01, 令和6年4月1日) meaning the newest main-line commit at or before 00:00 of that day, Asia/Tokyo (before the first commit: everything is new).")
UNTIL = typer.Option("HEAD", "--until", help="End: a revision or tag, or a date (2024-04-01, 令和6年4月1日) meaning the newest main-line commit at or before the end (24:00) of that day, Asia/Tokyo.")
REPO = typer.Option(".", "--repo", help="The git repository (default: the current one).")
PER_COMMIT = typer.Option(False, "--per-commit", help="One row per item per commit instead of the net change (a merge is compared with its first parent).")
DATE = typer.Option(None, "--date", help="変更日 of every row (2026-03-16 or 令和8年3月16日); default: a PIA-Date trailer, else the commit date.")
STAGED = typer.Option(False, "--staged", help="The commit being made: HEAD against the index, as `git commit` would record it, with the PIA-* trailers of --message; for a commit-msg hook. Writes no ref, no index, no work-tree file.")
MESSAGE = typer.Option(None, "--message", "-m", help="With --staged: the commit message file (the commit-msg hook's argument; '-': standard input); comment lines are dropped as git drops them.")


def chosen_range(repo: str, since: str | None, until: str, staged: bool = False, message: str | None = None,
                 can_stage: bool = True) -> tuple[str, str, Staged | None]:
    """Return the (since, until) the options name, and the staged commit when --staged made one
    (``can_stage``: the command has --staged)."""
    if not staged:
        if message is not None:
            raise typer.BadParameter("only with --staged (the message of the commit being made)", param_hint="--message")
        if since is None:
            raise typer.BadParameter("give the start of the range (a revision, tag or date)"
                                     + (", or --staged for the commit being made" if can_stage else ""), param_hint="--since")
        return since, until, None
    if since is not None or until != "HEAD":
        raise typer.BadParameter("--staged compares HEAD with the index: drop --since and --until", param_hint="--staged")
    from piachange.staged import stage  # imported here: keeps the CLI start fast

    made = stage(repo, message)
    return made.since, made.until, made
