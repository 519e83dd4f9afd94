"""The `pinbot` command line: one subcommand per module in `pinbot.commands`.

Each command module exposes `HELP`, `add_arguments(parser)` and `run(args) -> int`.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import sys
import warnings
from collections.abc import Sequence
from types import TracebackType
from typing import TextIO

from pinbot import __version__
from pinbot.errors import PinbotError

COMMANDS = ("scan", "resolve", "pin", "check", "run", "audit")


def chosen_command(argv: Sequence[str]) -> str | None:
    """The command `argv` names, if it names one: the first word that is not an option.

    Only `-v`, `-h` and `--version` come before the command, and none takes a value.
    """
    for word in argv:
        if not word.startswith("-"):
            return word if word in COMMANDS else None
    return None


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The parser; with `only`, that command alone is added (and its module alone imported),
    so a command starts without loading what the others need (GitHub, HTTP, JWT clients).
    """
    parser = argparse.ArgumentParser(
        prog="pinbot",
        description="Pin container image references to verified digests.",
    )
    parser.add_argument("--version", action="version", version=f"pinbot {__version__}")
    parser.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=0,
        help="say more on stderr: -v each retry and credential source, -vv every request",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS if only is None else (only,):
        module = importlib.import_module(f"pinbot.commands.{name}")
        command = sub.add_parser(name, help=module.HELP, description=module.HELP)
        module.add_arguments(command)
        command.set_defaults(handler=module.run)
    return parser


def _show_warning(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: TextIO | None = None,
    line: str | None = None,
) -> None:
    """A library's warning on one escaped line: its text may quote a scanned file, so it
    must not reach a terminal or a CI log raw (nor the source line Python would add)."""
    from pinbot.report.escape import terminal

    shown = f"pinbot: warning: {category.__name__}: {terminal(str(message))}"
    print(shown, file=sys.stderr if file is None else file)


def _show_crash(
    kind: type[BaseException], error: BaseException, trace: TracebackType | None
) -> None:
    """An uncaught exception (a bug) with its traceback; its message, which may quote a
    registry or a file, on one escaped line."""
    import traceback

    from pinbot.report.escape import terminal

    stack = "".join(traceback.format_tb(trace))
    message = terminal(f"{kind.__name__}: {error}")
    sys.stderr.write(f"Traceback (most recent call last):\n{stack}{message}\n")


def guard_stderr() -> None:
    """Show every warning and an uncaught exception from here on as `_show_warning` and
    `_show_crash` do."""
    warnings.showwarning = _show_warning
    sys.excepthook = _show_crash


def main(argv: Sequence[str] | None = None) -> int:
    guard_stderr()
    words = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(chosen_command(words))
    args = parser.parse_args(words)
    if args.verbose:
        # Requests are logged by method, host and path only: never a header or a query.
        import logging  # only with -v: a plain check (a pre-commit hook) starts without it

        from pinbot.logs import stderr_handler

        level = logging.DEBUG if args.verbose > 1 else logging.INFO
        logging.basicConfig(level=level, handlers=[stderr_handler(level)])
        for noisy in ("httpx", "httpcore", "urllib3", "github"):
            logging.getLogger(noisy).setLevel(logging.WARNING)
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help(sys.stderr)
        return 2
    try:
        status: int = handler(args)
        sys.stdout.flush()  # inside the try: a reader gone at the last write is caught too
    except KeyboardInterrupt:
        return 130
    except PinbotError as exc:  # a stage that could not go on: said in one line, never green
        from pinbot.report.escape import terminal

        print(f"pinbot {args.command}: {terminal(str(exc))}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        _discard_output()
        return BROKEN_PIPE
    return status


#: A reader that closed the pipe (`pinbot scan | head -1`): what a shell reports for a writer
#: ended by SIGPIPE (128 + 13).
BROKEN_PIPE = 141


def _discard_output() -> None:
    """Point stdout and stderr at the null device, so what is still buffered is dropped at
    exit instead of failing again on the closed pipe (and printing a traceback there)."""
    null = os.open(os.devnull, os.O_WRONLY)
    for stream in (sys.stdout, sys.stderr):
        # A stream that is not a real file has no descriptor: nothing is flushed to a pipe.
        with contextlib.suppress(OSError, ValueError):
            os.dup2(null, stream.fileno())
    os.close(null)
