"""The `pinbot` command line: one subcommand per module in `pinbot.commands`.

Each command module exposes `HELP`, `add_arguments(parser)` and `run(args) -> int`.
"""

from __future__ import annotations

import argparse
import importlib
import logging
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
    parser.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=0,
        help="say more on stderr: -v each retry and credential source, -vv every request",
    )
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
    if args.verbose:
        # Requests are logged by method, host and path only: never a header or a query.
        logging.basicConfig(
            level=logging.DEBUG if args.verbose > 1 else logging.INFO,
            format="pinbot: %(name)s: %(message)s",
            stream=sys.stderr,
        )
        for noisy in ("httpx", "httpcore", "urllib3", "github"):
            logging.getLogger(noisy).setLevel(logging.WARNING)
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help(sys.stderr)
        return 2
    try:
        status: int = handler(args)
    except KeyboardInterrupt:
        return 130
    return status
