"""`pinbot scan`: list every image reference under a folder, without touching the network."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from pinbot.commands._common import add_config_argument, load_config_or_exit, scan_folder

HELP = "List every container image reference under PATH (no network)."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", nargs="?", default=".", type=Path, help="folder to scan (default .)")
    parser.add_argument("--format", choices=("text", "json"), default="text")
    add_config_argument(parser)


def run(args: argparse.Namespace) -> int:
    result = scan_folder("scan", args.path, load_config_or_exit(args.config))
    if args.format == "json":
        json.dump([o.to_json() for o in result.occurrences], sys.stdout, indent=2)
        sys.stdout.write("\n")
        return 0
    for o in result.occurrences:
        note = f"  ({o.note})" if o.note else ""
        print(f"{o.location}\t{o.kind}\t{o.status.value}\t{o.text}{note}")
    counts: dict[str, int] = {}
    for o in result.occurrences:
        counts[o.status.value] = counts.get(o.status.value, 0) + 1
    summary = ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
    print(
        f"{len(result.occurrences)} references in {result.files_scanned} files"
        + (f": {summary}" if summary else ""),
        file=sys.stderr,
    )
    return 0
