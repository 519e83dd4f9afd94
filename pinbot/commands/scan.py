"""`pinbot scan`: list every image reference under a folder, without touching the network.

With `--explain`, image-like text a scanner saw and did not report (a build stage's name, an
image a build pushes, a `status` field, a Quadlet unit named as an image) is listed too, in file
order among the references, with status `skipped` and the reason.

The list is written as the files are scanned, one file at a time: a tree of any size is listed
in memory that does not grow with it.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from collections.abc import Iterator

from pinbot.commands._common import add_file_arguments, load_config_or_exit, stream_folder
from pinbot.report import escape, formats, text
from pinbot.report.json import streamed
from pinbot.scanners import FileScan, Occurrence
from pinbot.scanners._explain import SKIPPED, Explanation, explain_files

HELP = "List every container image reference in the files and folders given (no network)."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_file_arguments(
        parser,
        "scan",
        formats.SCAN,
        switches={"--explain": "also list image-like text that is not a reference to pin, and why"},
    )


def run(args: argparse.Namespace) -> int:
    # Without a configuration file there is nothing to load: no ignore globs, no rules.
    config = load_config_or_exit(args.config) if args.config is not None else None
    scanned = stream_folder("scan", args.path, config, keep_contents=args.explain)
    tally = _Tally()
    records = _records(tally.count(scanned), args.explain)
    if args.format == "json":
        _write(streamed(record.to_json() for record in records))
    else:
        _write(_text_line(record) for record in records)
        sys.stderr.write(text.scan_summary_of(tally.statuses, tally.files))
    return 0


# Pieces are handed to stdout in batches of about this many characters: one call per record
# costs more than writing it. A terminal gets each record as it comes.
_BATCH = 1 << 16


def _write(pieces: Iterator[str]) -> None:
    limit = 0 if sys.stdout.isatty() else _BATCH
    batch: list[str] = []
    size = 0
    for piece in pieces:
        batch.append(piece)
        size += len(piece)
        if size >= limit:
            sys.stdout.write("".join(batch))
            batch.clear()
            size = 0
    sys.stdout.write("".join(batch))


class _Tally:
    """How many files were scanned and references of each status were found, as they pass."""

    def __init__(self) -> None:
        self.files = 0
        self.statuses: Counter[str] = Counter()

    def count(self, scanned: Iterator[FileScan]) -> Iterator[FileScan]:
        for one in scanned:
            self.files += one.read
            self.statuses.update(o.status.value for o in one.outcome.occurrences)
            yield one


def _records(scanned: Iterator[FileScan], explain: bool) -> Iterator[Occurrence | Explanation]:
    """Each file's references, with `explain` and skipped text among them, in file order."""
    for one in scanned:
        occurrences = one.outcome.occurrences
        if not explain or one.data is None:
            yield from occurrences
            continue
        records: list[Occurrence | Explanation] = [
            *occurrences,
            *explain_files({one.path: one.data}, occurrences),
        ]
        records.sort(key=lambda record: (record.start, record.end))
        yield from records


def _text_line(record: Occurrence | Explanation) -> str:
    if isinstance(record, Explanation):
        fields = (record.location, record.kind, SKIPPED, record.text)
        line = "\t".join(escape.terminal(field) for field in fields)
        return f"{line}  ({escape.terminal(record.reason)})\n"
    return text.occurrences([record])
