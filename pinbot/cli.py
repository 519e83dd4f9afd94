"""The `pinbot` command line: one subcommand per module in `pinbot.commands`.

Each command module exposes `HELP`, `add_arguments(parser)` and `run(args) -> int`.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from pinbot import __version__

COMMANDS = ("scan", "resolve", "pin", "check", "run", "audit")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pinbot",
        description="Pin container image references to verified digests.",
    )
    parser.add_argument("--version", action="version", version=f"pinbot {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        # Imported when the parser is built so a command's dependencies load only with it.
        module = importlib.import_module(f"pinbot.commands.{name}")
        command = sub.add_parser(name, help=module.HELP, description=module.HELP)
        module.add_arguments(command)
        command.set_defaults(handler=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help(sys.stderr)
        return 2
    try:
        status: int = handler(args)
    except KeyboardInterrupt:
        return 130
    return status
