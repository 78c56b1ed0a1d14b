"""Shared fixtures: real git repositories with fixed identities and dates."""

from __future__ import annotations

import os
import pathlib
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
SEEDS = SHARED / "seeds"
EXAMPLE_002 = SHARED / "domain" / "example-002.toml"
SAMPLES = ROOT / "assessments"


class Repo:
    """A throw-away git repository whose commits have pinned authors and dates."""

    def __init__(self, path: pathlib.Path) -> None:
        self.path = path
        self.tick = 0
        path.mkdir(parents=True, exist_ok=True)
        self.git("init", "-q", "-b", "main")

    def git(self, *args: str, date: str | None = None) -> str:
        env = {
            **os.environ,
            "GIT_AUTHOR_NAME": "山田 花子",
            "GIT_AUTHOR_EMAIL": "hanako@example.jp",
            "GIT_COMMITTER_NAME": "山田 花子",
            "GIT_COMMITTER_EMAIL": "hanako@example.jp",
            "GIT_CONFIG_GLOBAL": os.devnull,
            "GIT_CONFIG_NOSYSTEM": "1",
        }
        if date:
            env["GIT_AUTHOR_DATE"] = env["GIT_COMMITTER_DATE"] = date
        out = subprocess.run(["git", *args], cwd=self.path, env=env, check=True, capture_output=True)
        return out.stdout.decode("utf-8", "replace").strip()

    def write(self, rel: str, text: str | bytes) -> pathlib.Path:
        p = self.path / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, str):
            p.write_text(text, encoding="utf-8")
        else:
            p.write_bytes(text)
        return p

    def commit(self, message: str, date: str | None = None) -> str:
        """Commit everything; dates default to one day apart from 2026-01-05 09:00 JST."""
        if date is None:
            self.tick += 1
            date = f"2026-01-{4 + self.tick:02d}T09:00:00+09:00"
        self.git("add", "-A")
        self.git("commit", "-q", "--allow-empty", "-m", message, date=date)
        return self.git("rev-parse", "HEAD")


@pytest.fixture
def repo(tmp_path: pathlib.Path) -> Repo:
    return Repo(tmp_path / "repo")


def run_main(args: list[str] | tuple[str, ...], cwd: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> int:
    """Run the real command line in-process from ``cwd``; return its exit code (output stays captured)."""
    import sys

    from piachange.cli import main

    monkeypatch.chdir(cwd)
    monkeypatch.setattr(sys, "argv", ["piachange", *args])
    try:
        main()
    except SystemExit as e:
        return int(e.code or 0)
    return 0
