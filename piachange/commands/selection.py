"""The options that choose which changes a command looks at, shared by report and explain."""

from __future__ import annotations

import typer

PATHS = typer.Argument(None, help="Assessment files or directories (default: assessments/); a file renamed in the range is followed.")
SINCE = typer.Option(..., "--since", help="Start: a revision or tag, or a date (2024-04-01, 令和6年4月1日) meaning the newest main-line commit at or before 00:00 of that day, Asia/Tokyo (before the first commit: everything is new).")
UNTIL = typer.Option("HEAD", "--until", help="End: a revision or tag, or a date (2024-04-01, 令和6年4月1日) meaning the newest main-line commit at or before the end (24:00) of that day, Asia/Tokyo.")
REPO = typer.Option(".", "--repo", help="The git repository (default: the current one).")
PER_COMMIT = typer.Option(False, "--per-commit", help="One row per item per commit instead of the net change (a merge is compared with its first parent).")
DATE = typer.Option(None, "--date", help="変更日 of every row (2026-03-16 or 令和8年3月16日); default: a PIA-Date trailer, else the commit date.")
