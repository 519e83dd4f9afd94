"""Find image references in files.

A file kind is one scanner module (`interface.Scanner`, or `interface.LinkingScanner` when its
files name each other); `_registry.SCANNERS` lists them in order. The driver (`_driver`) runs
them over a file or a set of files read together and turns their findings into occurrences
(`_occurrence`: lines, columns, byte spans, status, ignore comments and globs); `_walk` finds
and reads the files of a folder, `_tree` scans them as one set, streamed, in worker processes
when there are many. What several scanners read is shared in private modules beside them
(`_yaml` YAML nodes, `_yaml_kind` the YAML CI kinds' skeleton, `_image_map` images composed
from a mapping's fields, `_hcl` HCL tokens, `_jsonc` JSON with comments, `_strings` quoted
strings and interpolations, `_kinds` the signs of another kind's file, `_template` template
marks); no scanner imports another.
"""

from __future__ import annotations

from pinbot.scanners._driver import (
    ScanOutcome,
    all_scanners,
    scan_bytes,
    scan_files,
    scan_text,
    scanners_for,
)
from pinbot.scanners._template import is_templated
from pinbot.scanners._tree import FileScan, TreeScan, scan_paths, scan_stream, scan_tree
from pinbot.scanners._walk import MAX_FILE_BYTES, SKIPPED_DIRS, PathNotFound, candidate_paths
from pinbot.scanners.interface import (
    DigestSlot,
    Finding,
    LinkingScanner,
    Occurrence,
    ScanError,
    Scanner,
    Status,
)

__all__ = [
    "MAX_FILE_BYTES",
    "SKIPPED_DIRS",
    "DigestSlot",
    "FileScan",
    "Finding",
    "LinkingScanner",
    "Occurrence",
    "PathNotFound",
    "ScanError",
    "ScanOutcome",
    "Scanner",
    "Status",
    "TreeScan",
    "all_scanners",
    "candidate_paths",
    "is_templated",
    "scan_bytes",
    "scan_files",
    "scan_paths",
    "scan_stream",
    "scan_text",
    "scan_tree",
    "scanners_for",
]
