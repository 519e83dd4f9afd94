"""`pinbot scan`: list every image reference under a folder, without touching the network.

With `--explain`, image-like text a scanner saw and did not report (a build stage's name, an
image a build pushes, a `status` field, a Quadlet unit named as an image) is listed too, in file
order among the references, with status `skipped` and the reason.
"""

from __future__ import annotations

import argparse
import json
import sys

from pinbot.commands._common import add_config_argument, add_paths, load_config_or_exit, scan_folder
from pinbot.report import escape, formats, text
from pinbot.scanners import Occurrence, TreeScan
from pinbot.scanners._explain import SKIPPED, Explanation, explain_files

HELP = "List every container image reference in the files and folders given (no network)."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_paths(parser, "scan")
    parser.add_argument("--format", choices=tuple(formats.SCAN), default="text")
    parser.add_argument(
        "--explain",
        action="store_true",
        help="also list image-like text that is not a reference to pin, and why",
    )
    add_config_argument(parser)


def run(args: argparse.Namespace) -> int:
    result = scan_folder("scan", args.path, load_config_or_exit(args.config))
    if args.explain:
        sys.stdout.write(_explained(result, args.format))
    else:
        sys.stdout.write(formats.SCAN[args.format](result.occurrences))
    if args.format == "text":
        sys.stderr.write(text.scan_summary(result.occurrences, result.files_scanned))
    return 0


def _explained(result: TreeScan, output: str) -> str:
    """References and skipped text together, in file order."""
    explanations = explain_files(result.contents, result.occurrences)
    records: list[Occurrence | Explanation] = [*result.occurrences, *explanations]
    records.sort(key=lambda record: (record.file, record.start, record.end))
    if output == "json":
        return json.dumps([record.to_json() for record in records], indent=2) + "\n"
    lines = []
    for record in records:
        if isinstance(record, Explanation):
            fields = (record.location, record.kind, SKIPPED, record.text)
            line = "\t".join(escape.terminal(field) for field in fields)
            lines.append(f"{line}  ({escape.terminal(record.reason)})\n")
        else:
            lines.append(formats.SCAN["text"]([record]))
    return "".join(lines)
