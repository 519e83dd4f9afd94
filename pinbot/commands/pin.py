"""`pinbot pin`: resolve every image reference under a folder and pin it in place."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
from pathlib import Path

from pinbot.apply import FileChange
from pinbot.commands._common import add_config_argument, load_config_or_exit, scan_folder
from pinbot.config import Config
from pinbot.pipeline import Outcome, look_up, plan_and_apply
from pinbot.plan import Action, Lookup, NoticeKind
from pinbot.registry import RegistryClient
from pinbot.scanners import Occurrence

HELP = "Resolve each image tag under PATH to its digest and pin the references in place."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", nargs="?", default=".", type=Path, help="folder to pin (default .)")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--dry-run", action="store_true", help="print a unified diff, write nothing")
    mode.add_argument(
        "--check", action="store_true", help="write nothing; exit 1 when something would change"
    )
    parser.add_argument(
        "--format",
        choices=("text", "json"),
        default="text",
        help="json: one object on stdout listing every edit, note and error (instead of a diff)",
    )
    add_config_argument(parser)


def write_atomically(path: Path, data: bytes) -> None:
    """Replace `path` with `data` in one step, keeping its permissions."""
    mode = path.stat().st_mode
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".pinbot")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        os.chmod(temporary, mode & 0o7777)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _summary(changes: list[FileChange], unchanged: int, notices: int, errors: int) -> str:
    edits = [edit for change in changes for edit in change.edits]
    pins = sum(1 for edit in edits if edit.action is Action.PIN)
    bumps = len(edits) - pins
    return (
        f"{pins} pinned, {bumps} bumped in {len(changes)} files; "
        f"{unchanged} already current; {notices} notes; {errors} errors"
    )


async def _look_up(
    config: Config, occurrences: list[Occurrence]
) -> tuple[dict[str, Lookup], list[str]]:
    """Lookups, and one line per registry that reported a pull quota during them."""
    async with RegistryClient(config) as client:
        lookups = await look_up(client, occurrences, config.pin)
        return lookups, client.stats.quota_report()


def report(outcome: Outcome, *, written: bool, quota: list[str]) -> dict[str, object]:
    """What `--format json` prints: every edit, note and error of the run."""
    return {
        "written": written,
        "edits": [
            {
                "file": edit.file,
                "line": edit.occurrence.line,
                "column": edit.occurrence.column,
                "action": edit.action.value,
                "image": edit.image,
                "tag": edit.tag,
                "old_digest": edit.old_digest,
                "new_digest": edit.new_digest,
                "text": edit.occurrence.text,
                "replacement": edit.replacement,
            }
            for change in outcome.changes
            for edit in change.edits
        ],
        "notes": [
            {
                "file": notice.occurrence.file,
                "line": notice.occurrence.line,
                "column": notice.occurrence.column,
                "kind": notice.kind.value,
                "text": notice.occurrence.text,
                "message": notice.message,
            }
            for notice in outcome.plan.notices
        ],
        "errors": outcome.errors,
        "unchanged": outcome.plan.unchanged,
        "quota": quota,
    }


def run(args: argparse.Namespace) -> int:
    config = load_config_or_exit(args.config)
    root: Path = args.path
    scanned = scan_folder("pin", root, config)
    lookups, quota_lines = asyncio.run(_look_up(config, scanned.occurrences))
    files = {o.file: (root / o.file).read_bytes() for o in scanned.occurrences}
    outcome = plan_and_apply(files, scanned.occurrences, lookups, config)
    errors = outcome.errors
    failed_lookups = [n for n in outcome.plan.notices if n.kind is NoticeKind.LOOKUP_FAILED]

    for notice in outcome.plan.notices:
        print(f"note: {notice}", file=sys.stderr)
    for error in errors:
        print(f"error: {error}", file=sys.stderr)

    write = not (args.dry_run or args.check)
    if write:
        for change in outcome.changes:
            write_atomically(root / change.path, change.updated)
    if args.format == "json":
        json.dump(report(outcome, written=write, quota=quota_lines), sys.stdout, indent=2)
        sys.stdout.write("\n")
    elif not write:
        for change in outcome.changes:
            sys.stdout.write(change.diff())
    print(
        _summary(outcome.changes, outcome.plan.unchanged, len(outcome.plan.notices), len(errors)),
        file=sys.stderr,
    )
    for line in quota_lines:
        print(line, file=sys.stderr)
    if args.check and outcome.changes:
        return 1
    return 1 if errors or failed_lookups else 0
