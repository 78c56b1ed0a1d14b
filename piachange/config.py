"""Configuration: one frozen dataclass, loaded in one place; unknown keys are errors.

Read from ``piachange.toml`` at the repository root, else ``[tool.piachange]`` in
``pyproject.toml``. A misspelt key would silently change a legal classification, so every
key is checked.
"""

from __future__ import annotations

import difflib
import functools
import os
import tomllib
from dataclasses import dataclass, field
from typing import Any

from piachange.errors import PiaError
from piachange.rules import RuleSet, build_ruleset
from piachange.tomlscan import scan
from piachange.values import Style

REPORT_KEYS = {"blank", "removed", "timezone", "long_text"}
LONG_TEXT = ("whole", "changed-blocks")  # [report] long_text: how 変更前/変更後 print a text cut by headings
TOP_KEYS = {"report", "rules", "causes", "overrides", "settings", "templates"}


@functools.cache
def _default_ruleset() -> RuleSet:
    return build_ruleset({}, "rules/default.toml")


@dataclass(frozen=True)
class Config:
    """Every setting piachange reads; defaults apply when there is no file."""

    style: Style = field(default_factory=Style)
    timezone: str = "Asia/Tokyo"
    source: str = ""  # the file it came from, for messages
    raw: dict[str, Any] = field(default_factory=dict)  # the sections other modules interpret (rules, causes …)
    ruleset: RuleSet = field(default_factory=_default_ruleset)  # significance rules, causes, overrides, settings
    long_text: str = "whole"  # or "changed-blocks": only the 「<…における措置>」 blocks that changed


@dataclass(frozen=True)
class Located:
    """The file a configuration section was read from, its text, and the table the section is."""

    file: str
    text: str
    table: tuple[str, ...] = ()  # ("tool", "piachange") in pyproject.toml

    def key(self, keys: tuple[str, ...]) -> tuple[str, str]:
        """Return ``file:line`` of a key of the section and its name as the file writes it."""
        path = (*self.table, *keys)
        line = scan(self.text).line_of(path)
        return (f"{self.file}:{line}" if line else self.file), ".".join(path)


def _unknown(keys: set[str], allowed: set[str], table: tuple[str, ...], source: str, located: Located | None) -> None:
    for k in sorted(keys - allowed):
        close = difflib.get_close_matches(k, sorted(allowed), n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        where, name = located.key((*table, k)) if located else (source, ".".join((*table, k)))
        raise PiaError(f"{where}: unknown key '{name}'{hint}")


def load_config(root: str) -> Config:
    """Return the configuration of the repository at ``root``."""
    path = os.path.join(root, "piachange.toml")
    section: dict[str, Any] | None = None
    if os.path.exists(path):
        section, text = _read(path)
        source, located = "piachange.toml", Located("piachange.toml", text)
    else:
        pp = os.path.join(root, "pyproject.toml")
        if os.path.exists(pp):
            data, text = _read(pp)
            section = data.get("tool", {}).get("piachange")
            source, located = "pyproject.toml [tool.piachange]", Located("pyproject.toml", text, ("tool", "piachange"))
    if not section:
        return Config()
    return parse_config(section, source, located)


def _read(path: str) -> tuple[dict[str, Any], str]:
    """Return the parsed file and its text."""
    try:
        with open(path, "rb") as fh:
            raw = fh.read()
    except OSError as e:
        raise PiaError(f"{path}: cannot read: {e.strerror}") from None
    name = os.path.basename(path)
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise PiaError(f"{name}: not UTF-8 but UTF-16 text (as Windows PowerShell's > and Out-File write it); save it as UTF-8")
    try:
        text = raw.removeprefix(b"\xef\xbb\xbf").decode("utf-8")  # the mark Notepad on Windows may save
    except UnicodeDecodeError as e:
        line = raw[: e.start].count(b"\n") + 1
        raise PiaError(f"{name}:{line}: not UTF-8 text (byte 0x{raw[e.start]:02x}): save it as UTF-8") from None
    try:
        return tomllib.loads(text), text
    except tomllib.TOMLDecodeError as e:
        raise PiaError(f"{name}: invalid TOML: {e}") from None


def parse_config(section: dict[str, Any], source: str, located: Located | None = None) -> Config:
    """Validate a configuration table and return the Config (``located``: where unknown keys are)."""
    _unknown(set(section), TOP_KEYS, (), source, located)
    report = section.get("report", {})
    _unknown(set(report), REPORT_KEYS, ("report",), source, located)
    style = Style(blank=report.get("blank", Style.blank), removed=report.get("removed", Style.removed))
    long_text = report.get("long_text", "whole")
    if long_text not in LONG_TEXT:
        where = located.key(("report", "long_text"))[0] if located else source
        raise PiaError(f"{where}: 'report.long_text' must be one of {', '.join(LONG_TEXT)}, not {long_text!r}")
    ruleset = build_ruleset({k: v for k, v in section.items() if k != "report"}, source)
    return Config(style=style, timezone=report.get("timezone", "Asia/Tokyo"), source=source, raw=section, ruleset=ruleset,
                  long_text=long_text)
