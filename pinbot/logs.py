"""pinbot's log output: one escaped line a record, since messages quote registries and files.

A log record can carry what a registry answered or an exception about it, traceback and all;
printed raw, a line break in it could start a GitHub Actions workflow command in a CI log.
Every module that logs gets its logger from `logger` here, so importing it first puts the
escaping handler in logging's last resort (what prints warnings when nothing is configured);
`pinbot -v` configures the same handler.
"""

from __future__ import annotations

import logging
import sys

from pinbot.report.escape import terminal

__all__ = ["EscapingFormatter", "logger", "stderr_handler"]

FORMAT = "pinbot: %(name)s: %(message)s"


class EscapingFormatter(logging.Formatter):
    """The record as `logging.Formatter` writes it, traceback included, as one escaped line."""

    def format(self, record: logging.LogRecord) -> str:
        return terminal(super().format(record))


class _Stderr(logging.Handler):
    """Writes to whatever `sys.stderr` is when a record comes, as logging's last resort does."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            sys.stderr.write(self.format(record) + "\n")
        except Exception:
            self.handleError(record)


def stderr_handler(level: int = logging.WARNING) -> logging.Handler:
    handler = _Stderr(level)
    handler.setFormatter(EscapingFormatter(FORMAT))
    return handler


logging.lastResort = stderr_handler()


def logger(name: str) -> logging.Logger:
    """The logger for module `name`; what it prints reaches stderr escaped."""
    return logging.getLogger(name)
