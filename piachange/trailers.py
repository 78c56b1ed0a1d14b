"""Commit messages: their ``Key: value`` trailers, the lines they are on, and the encoding they are in."""

from __future__ import annotations

import codecs
import re

from piachange.model import Commit

_TRAILER = re.compile(r"^([A-Za-z0-9][A-Za-z0-9-]*)\s*:\s*(.*)$")
_GENERATED = ("Signed-off-by: ", "(cherry picked from commit ")  # lines git writes into a trailer block
_BLANK = re.compile(r"[ \t\r]*")  # git's blank line: only its isspace (a CRLF message kept verbatim has \r)


def trailer_block(message: str) -> tuple[tuple[int, str, str], ...]:
    """Return the trailers of a commit message's last paragraph as (line, key, value), in order;
    ``line`` counts from 1, as an editor does.

    As git does, the trailer block is the last paragraph (never the subject), every line of it
    must be a trailer or an indented continuation of the previous one; or, with a line git writes
    itself (Signed-off-by, ``git cherry-pick -x``), at least a quarter of its lines trailers.
    """
    lines = message.split("\n")
    end = len(lines)
    while end and _BLANK.fullmatch(lines[end - 1]):
        end -= 1
    start = end
    while start and not _BLANK.fullmatch(lines[start - 1]):
        start -= 1
    if not any(not _BLANK.fullmatch(line) for line in lines[:start]):  # one paragraph: the subject
        return ()
    out: list[list] = []
    trailers = others = 0
    generated = after = False  # after: the line before is a trailer or its continuation
    for n, line in enumerate(lines[start:end], start + 1):
        if line[:1] in (" ", "\t") and after:
            out[-1][2] += " " + line.strip()
            continue
        m = _TRAILER.match(line)
        after = m is not None
        if m:
            out.append([n, m.group(1), m.group(2).strip()])
        own = line.startswith(_GENERATED)
        generated = generated or own
        if m or own:
            trailers += 1
        else:
            others += 1
    if others and not (generated and trailers * 3 >= others):
        return ()
    return tuple((n, k, v) for n, k, v in out)


def parse_trailers(message: str) -> tuple[tuple[str, str], ...]:
    """Return the ``Key: value`` trailers of a commit message's last paragraph, in order."""
    return tuple((k, v) for _, k, v in trailer_block(message))


def trailer_lines(message: str, trailers: tuple[tuple[str, str], ...] | None = None) -> tuple[int, ...]:
    """Return the line of the message each trailer of ``parse_trailers(message)`` starts on; given
    the ``trailers`` a commit holds, 0 for each where they were not read from this message (a
    commit made by hand)."""
    lines = tuple(n for n, _, _ in trailer_block(message))
    return (0,) * len(trailers) if trailers is not None and len(lines) != len(trailers) else lines


def commit_line(sha: str, message: str, line: int = 0) -> str:
    """Return how an error names a commit (its subject helps find it) and, when known, the line of
    its message: ``commit 3f2a1c9e0 (件名), message line 4``."""
    subject = message.splitlines()[0] if message else ""
    who = f"commit {sha[:9]} ({subject})" if subject else f"commit {sha[:9]}"
    return f"{who}, message line {line}" if line else who


def located(commit: Commit, key: str) -> list[tuple[str, str]]:
    """Return every value of trailer ``key`` (case-insensitive) with where it is (``commit_line``)."""
    lines = trailer_lines(commit.message, commit.trailers)
    return [(commit_line(commit.sha, commit.message, n), v) for n, (k, v) in zip(lines, commit.trailers) if k.lower() == key.lower()]


# names git and iconv accept for an encoding Python knows by another name
_ALIASES = {"windows-31j": "cp932", "cswindows31j": "cp932"}


def message_codec(name: str) -> str | None:
    """Return Python's name of the encoding git calls ``name`` (an ``encoding`` header, i18n.commitEncoding), None if unknown."""
    try:
        return codecs.lookup(_ALIASES.get(name.strip().lower(), name.strip())).name
    except LookupError:
        return None
