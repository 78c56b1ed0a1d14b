"""The README documents every command and every option, and its quick start stays two commands."""

from __future__ import annotations

import re

import typer.main

from piachange.cli import app

from conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")


def _commands() -> dict[str, list[str]]:
    group = typer.main.get_command(app)
    out: dict[str, list[str]] = {}
    for name, cmd in group.commands.items():  # type: ignore[attr-defined]
        opts = [o for p in cmd.params for o in p.opts if o.startswith("--") and o != "--help"]
        out[name] = opts
    return out


def test_every_command_is_in_the_commands_table() -> None:
    for name in _commands():
        assert f"`piachange {name}" in README, f"README does not document 'piachange {name}'"


def test_every_option_is_documented() -> None:
    missing = [f"{name} {opt}" for name, opts in _commands().items() for opt in opts if opt not in README]
    assert not missing, f"README does not mention: {', '.join(missing)}"


def test_quick_start_is_two_commands_install_and_run() -> None:
    block = re.search(r"\*\*Quick start\*\*.*?```sh\n(.*?)```", README, re.S)
    assert block, "README must open with a quick start block"
    lines = [line for line in block.group(1).splitlines() if line.strip()]
    assert len(lines) == 2
    assert "pip install ." in lines[0] and "piachange demo" in lines[0]
    assert "pip install '.[test]'" in lines[1] and "pytest" in lines[1]
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "pip install --quiet '.[test]'" in ci and "python -m pytest" in ci
