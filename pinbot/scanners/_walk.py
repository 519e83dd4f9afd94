"""Walk a folder for the files some scanner reads, and scan them as one set.

Folders that never hold a project's own image references are skipped; a file too big to be
a configuration file is not read.
"""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pinbot.scanners._driver import scan_files, scanners_for
from pinbot.scanners.interface import Occurrence

__all__ = ["MAX_FILE_BYTES", "SKIPPED_DIRS", "TreeScan", "candidate_paths", "scan_tree"]

# Directories that never hold a project's own image references.
SKIPPED_DIRS = frozenset(
    {".git", ".hg", ".svn", "node_modules", ".venv", "venv", "__pycache__", ".tox"}
)
MAX_FILE_BYTES = 4 * 1024 * 1024


@dataclass
class TreeScan:
    occurrences: list[Occurrence] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    files_scanned: int = 0
    # The bytes each file had when it was scanned: `pin` writes only over these.
    contents: dict[str, bytes] = field(default_factory=dict)


def candidate_paths(root: Path, ignore_paths: Sequence[str] = ()) -> list[str]:
    """POSIX paths under `root` (relative) that some scanner would read, sorted."""
    found: list[str] = []
    for directory, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIPPED_DIRS)
        relative_dir = Path(directory).relative_to(root).as_posix()
        for filename in filenames:
            relative = filename if relative_dir == "." else f"{relative_dir}/{filename}"
            if any(fnmatch.fnmatchcase(relative, glob) for glob in ignore_paths):
                continue
            if scanners_for(relative):
                found.append(relative)
    return sorted(found)


def scan_tree(
    root: Path, *, ignore_paths: Sequence[str] = (), ignore_images: Sequence[str] = ()
) -> TreeScan:
    """Scan every candidate file under `root`, as one set (see `scan_files`)."""
    result = TreeScan()
    files: dict[str, bytes] = {}
    unreadable: dict[str, str] = {}
    for relative in candidate_paths(root, ignore_paths):
        file_path = root / relative
        try:
            if file_path.stat().st_size > MAX_FILE_BYTES or not file_path.is_file():
                continue
            files[relative] = file_path.read_bytes()
        except OSError as exc:
            unreadable[relative] = f"{relative}: cannot read: {exc.strerror}"
    outcomes = scan_files(files, ignore_images=ignore_images)
    result.contents = files
    for relative in sorted((*outcomes, *unreadable)):
        if relative in unreadable:
            result.errors.append(unreadable[relative])
            continue
        outcome = outcomes[relative]
        result.files_scanned += 1
        result.occurrences.extend(outcome.occurrences)
        result.errors.extend(outcome.errors)
    return result
