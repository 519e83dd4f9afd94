"""`pinbot scan`: list every image reference under a folder, without touching the network."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pinbot.commands._common import add_config_argument, load_config_or_exit, scan_folder
from pinbot.report import formats, text

HELP = "List every container image reference under PATH (no network)."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", nargs="?", default=".", type=Path, help="folder to scan (default .)")
    parser.add_argument("--format", choices=tuple(formats.SCAN), default="text")
    add_config_argument(parser)


def run(args: argparse.Namespace) -> int:
    result = scan_folder("scan", args.path, load_config_or_exit(args.config))
    sys.stdout.write(formats.SCAN[args.format](result.occurrences))
    if args.format == "text":
        sys.stderr.write(text.scan_summary(result.occurrences, result.files_scanned))
    return 0
