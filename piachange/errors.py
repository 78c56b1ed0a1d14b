"""The one exception family piachange raises; only the CLI turns it into an exit code."""

from __future__ import annotations

import re
from dataclasses import dataclass

# control characters and line separators: a file must not be able to break a message into two
# lines or drive the terminal (ANSI escapes) through a key, a value or its own name
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_MAX_MESSAGE = 500


def one_line(text: str) -> str:
    """Return ``text`` with control characters escaped (``\\n``, ``\\x1b``) and a huge middle cut out."""
    text = _CONTROL.sub(lambda m: repr(m.group())[1:-1], text)
    if len(text) > _MAX_MESSAGE:
        # keep both ends: the start names the item, the end carries the choices or the suggestion
        text = f"{text[: _MAX_MESSAGE // 2]} … ({len(text) - _MAX_MESSAGE} characters) … {text[-_MAX_MESSAGE // 2 :]}"
    return text


@dataclass(frozen=True)
class Problem:
    """One located finding: ``file:line: message`` (commit when read from history)."""

    file: str
    line: int
    message: str
    commit: str = ""

    def __str__(self) -> str:
        where = self.file
        if self.commit:
            where = f"{where} @ {self.commit[:9]}"
        if self.line:
            where = f"{where}:{self.line}"
        # the place is never shortened, and how much of the message is kept must not depend on it
        return f"{one_line(where)}: {one_line(self.message)}"


class PiaError(Exception):
    """A user-facing error: printed as one line, exit 1, never a traceback."""

    def __init__(self, message: str, problems: list[Problem] | None = None) -> None:
        super().__init__(message)
        self.problems = problems or []


class DocumentError(PiaError):
    """A document that cannot be used; carries every problem found."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(str(problems[0]) if problems else "invalid document", problems)
