"""TOML text to values: rtoml where it is sure to agree with tomllib, tomllib everywhere else.

rtoml (Rust) parses the canonical files five times faster than tomllib, checks below included,
but it reads TOML 1.1 and differs from tomllib (TOML 1.0) in ways found by differential fuzzing:

- it accepts inline tables over several lines or with a trailing comma, the ``\\e`` and
  ``\\xHH`` escapes, times without seconds and a leading byte order mark;
- it keeps CRLF inside multi-line strings, where tomllib turns every CRLF into LF first;
- a ``[table]`` declared after a header below it (``[a.b]`` then ``[a]``) moves to where its
  header is, and dotted keys there may even extend an array of tables, which tomllib refuses;
- offset date-times carry rtoml's own tzinfo class, which the cache does not unpickle.

So rtoml is asked only about text without ``{``, ``\\``, a bare CR, a leading BOM or a table
declared after its descendants, and its answer is kept only if it holds no time of day. Any
other text, and anything rtoml refuses, goes to tomllib, which stays the judge of validity and
of every message: its TOMLDecodeError, ValueError or RecursionError propagate as before.
"""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from typing import Any

try:
    import rtoml
except ImportError:  # no wheel for this platform: tomllib alone is correct, only slower
    rtoml = None  # type: ignore[assignment]

_KEY = r"""[A-Za-z0-9_-]+|"[^"\n]*"|'[^'\n]*'"""
_HEADER = re.compile(rf"\n[ \t]*(\[\[?)[ \t]*((?:{_KEY})(?:[ \t]*\.[ \t]*(?:{_KEY}))*)[ \t]*\]")
_PART = re.compile(_KEY)


def loads(text: str) -> dict[str, Any]:
    """Return what ``tomllib.loads(text)`` returns, or raise what it raises."""
    if rtoml is None or "{" in text or "\\" in text or text.startswith("\ufeff"):
        return tomllib.loads(text)
    lf = text.replace("\r\n", "\n") if "\r" in text else text  # what tomllib does first
    if "\r" in lf or _reopened(lf):
        return tomllib.loads(text)
    try:
        data = rtoml.loads(lf)
    except KeyboardInterrupt:
        raise
    except BaseException:  # whatever rtoml refuses, even by a panic (a BaseException): tomllib says why
        return tomllib.loads(text)
    if _may_hold_time(lf) and _has_time(data):
        return tomllib.loads(text)
    return data


def _reopened(text: str) -> bool:
    """Return whether a ``[table]`` header comes after a header below it, which made it implicitly.

    A line inside a multi-line string may look like a header: it can only cause a needless
    fallback. ``[[array]]`` headers are not checked: their tables follow earlier elements'.
    """
    made: set[str] = set()  # paths as keys joined by newlines, which no key holds
    for bracket, head in _HEADER.findall("\n" + text):
        if '"' in head or "'" in head or " " in head or "\t" in head:
            path = "\n".join(p[1:-1] if p[0] in "\"'" else p for p in _PART.findall(head))
        else:
            path = head.replace(".", "\n")
        if bracket == "[" and path in made:
            return True
        j = path.rfind("\n")
        while j >= 0 and path[:j] not in made:  # a known table's own parents are known already
            made.add(path[:j])
            j = path.rfind("\n", 0, j)
    return False


def _may_hold_time(text: str) -> bool:
    """Return whether a colon stands between digits, as in every time of day (or in a string)."""
    i = text.find(":")
    while i >= 0:
        if text[i - 1 : i].isdigit() and text[i + 1 : i + 2].isdigit():
            return True
        i = text.find(":", i + 1)
    return False


def _has_time(v: Any) -> bool:
    """Return whether a parsed value holds a time of day, alone or in a date-time."""
    if isinstance(v, dict):
        return any(_has_time(x) for x in v.values())
    if isinstance(v, list):
        return any(_has_time(x) for x in v)
    return isinstance(v, (dt.time, dt.datetime))
