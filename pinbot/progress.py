"""Progress of commands that work through many repositories (`audit`, `run`), on stderr.

In a log (stderr not a terminal) each finished item is one plain line, written as it
finishes: a CI log shows how far a run got even when it is killed part-way. On a terminal the
same line replaces the previous one in place and is cleared at the end, where the command's
report takes over. Quiet prints nothing.
"""

from __future__ import annotations

import sys
from typing import TextIO

from pinbot.report.escape import terminal

_CLEAR_LINE = "\r\x1b[K"


class Progress:
    """Reports items as they finish; `total` (when known) is shown on a terminal."""

    def __init__(
        self, total: int | None = None, *, quiet: bool = False, stream: TextIO | None = None
    ) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.total = total
        self.quiet = quiet
        self.finished = 0
        self.live = not quiet and _is_terminal(self.stream)
        self._shown = False

    def finish(self, line: str) -> None:
        """One item is done; `line` says what it was and how it went (outside data escaped)."""
        self.finished += 1
        count = f"{self.finished}/{self.total}" if self.total else str(self.finished)
        self._show(line, f"[{count}] ")

    def note(self, line: str) -> None:
        """A stage that is not an item (`looking up 40 tags`), shown the same way."""
        self._show(line, "")

    def _show(self, line: str, counter: str) -> None:
        if self.quiet:
            return
        shown = terminal(line)
        if self.live:
            self.stream.write(f"{_CLEAR_LINE}{counter}{shown}")
            self._shown = True
        else:
            self.stream.write(f"{shown}\n")
        self.stream.flush()

    def close(self) -> None:
        """Clear the in-place line, so what the command prints next starts on a clean line."""
        if self._shown:
            self.stream.write(_CLEAR_LINE)
            self.stream.flush()
            self._shown = False


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # a closed or unusual stream is not a terminal
        return False


def plural(count: int, noun: str) -> str:
    """`1 reference`, `2 references`."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"
