"""The one exception family piachange raises; only the CLI turns it into an exit code."""

from __future__ import annotations

from dataclasses import dataclass


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
        return f"{where}: {self.message}"


class PiaError(Exception):
    """A user-facing error: printed as one line, exit 1, never a traceback."""

    def __init__(self, message: str, problems: list[Problem] | None = None) -> None:
        super().__init__(message)
        self.problems = problems or []


class DocumentError(PiaError):
    """A document that cannot be used; carries every problem found."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(str(problems[0]) if problems else "invalid document", problems)
