"""Walk a folder for the files some scanner reads, and scan them as one set.

Folders that never hold a project's own image references are skipped; a file too big to be
a configuration file, or one that cannot be read, is reported as a `Problem`, not read.
"""

from __future__ import annotations

import fnmatch
import os
import stat
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pinbot.errors import Problem
from pinbot.scanners._driver import scan_files, scanners_for, unreadable
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
    errors: list[Problem] = field(default_factory=list)
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


def read_candidate(path: Path, relative: str) -> bytes | Problem:
    """A file's bytes, or the problem that kept them from being read (reported as `relative`)."""
    try:
        # Without blocking: opening a FIFO for reading would wait for a writer.
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError as exc:
        return unreadable(relative, f"cannot read: {exc.strerror}")
    with os.fdopen(descriptor, "rb") as file:
        if not stat.S_ISREG(os.fstat(descriptor).st_mode):
            return unreadable(relative, "not a regular file; not read")
        try:
            data = file.read(MAX_FILE_BYTES + 1)
        except OSError as exc:
            return unreadable(relative, f"cannot read: {exc.strerror}")
    if len(data) > MAX_FILE_BYTES:
        return unreadable(relative, f"larger than {MAX_FILE_BYTES // 2**20} MiB; not read")
    return data


def scan_tree(
    root: Path, *, ignore_paths: Sequence[str] = (), ignore_images: Sequence[str] = ()
) -> TreeScan:
    """Scan every candidate file under `root`, as one set (see `scan_files`).

    A file that cannot be read (permissions, not a regular file, over `MAX_FILE_BYTES`) is a
    problem of the result, like one that cannot be decoded or parsed.
    """
    result = TreeScan()
    files: dict[str, bytes] = {}
    problems: dict[str, Problem] = {}
    for relative in candidate_paths(root, ignore_paths):
        read = read_candidate(root / relative, relative)
        if isinstance(read, Problem):
            problems[relative] = read
        else:
            files[relative] = read
    outcomes = scan_files(files, ignore_images=ignore_images)
    result.contents = files
    for relative in sorted((*outcomes, *problems)):
        if relative in problems:
            result.errors.append(problems[relative])
            continue
        outcome = outcomes[relative]
        result.files_scanned += 1
        result.occurrences.extend(outcome.occurrences)
        result.errors.extend(outcome.errors)
    return result
