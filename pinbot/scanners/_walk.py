"""Read files and folders for the files some scanner reads, and scan them as one set.

A folder is walked, leaving out folders that never hold a project's own image references;
a file named explicitly is read as the kind its name says wherever it is. A file too big to be
a configuration file, or one that cannot be read, is reported as a `Problem`, not read; a path
that does not exist is refused before anything is read.
"""

from __future__ import annotations

import fnmatch
import os
import stat
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pinbot.errors import PinbotError, Problem
from pinbot.scanners._driver import scan_files, scanners_for, unreadable
from pinbot.scanners.interface import Occurrence

__all__ = [
    "MAX_FILE_BYTES",
    "SKIPPED_DIRS",
    "PathNotFound",
    "TreeScan",
    "candidate_paths",
    "read_candidate",
    "scan_paths",
    "scan_tree",
]

# Folders that never hold a project's own image references: version control, dependencies,
# virtual environments, tool caches and Python packaging metadata.
SKIPPED_DIRS = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        "node_modules",
        ".venv",
        "venv",
        "__pycache__",
        ".tox",
        ".eggs",
        "site-packages",
        ".mypy_cache",
        ".ruff_cache",
        ".pytest_cache",
    }
)
_SKIPPED_SUFFIXES = (".egg-info",)
MAX_FILE_BYTES = 4 * 1024 * 1024


class PathNotFound(PinbotError):
    """A file or folder given to scan does not exist."""

    def __init__(self, path: Path) -> None:
        super().__init__(f"{path}: no such file or folder")
        self.path = path


@dataclass
class TreeScan:
    occurrences: list[Occurrence] = field(default_factory=list)
    errors: list[Problem] = field(default_factory=list)
    files_scanned: int = 0
    # The bytes each file had when it was scanned: `pin` writes only over these.
    contents: dict[str, bytes] = field(default_factory=dict)
    # The folder every path above is relative to.
    root: Path = field(default_factory=lambda: Path("."))


def _is_build_output(folder: str, name: str) -> bool:
    """Whether `build/` or `dist/` holds Python packaging output, not a project's own files.

    Go and other projects keep hand-written Dockerfiles in `build/`, so the name alone is not
    enough: setuptools' build tree (`lib/`, `bdist.*`, `temp.*`, `scripts-*`) and a `dist/`
    of wheels or source archives are what `pip install .` and `python -m build` leave.
    """
    if name not in ("build", "dist"):
        return False
    try:
        entries = os.listdir(os.path.join(folder, name))
    except OSError:
        return False
    if name == "build":
        setuptools = ("lib.", "bdist.", "temp.", "scripts-")
        return any(entry == "lib" or entry.startswith(setuptools) for entry in entries)
    return any(entry.endswith((".whl", ".tar.gz", ".egg")) for entry in entries)


def _walked(directory: str, name: str) -> bool:
    return not (
        name in SKIPPED_DIRS
        or name.endswith(_SKIPPED_SUFFIXES)
        or _is_build_output(directory, name)
    )


def _relative(path: Path | str, root: Path) -> str:
    """`path` as a POSIX path relative to `root`, which holds it."""
    relative = Path(os.path.relpath(path, root)).as_posix()
    if relative == ".." or relative.startswith("../"):
        raise ValueError(f"{path} is outside {root}")
    return relative


def _ignored(relative: str, ignore_paths: Sequence[str]) -> bool:
    return any(fnmatch.fnmatchcase(relative, glob) for glob in ignore_paths)


def _walk(folder: Path, root: Path, ignore_paths: Sequence[str]) -> Iterator[str]:
    """Files under `folder` that some scanner reads, relative to `root`."""
    for directory, dirnames, filenames in os.walk(folder):
        dirnames[:] = sorted(d for d in dirnames if _walked(directory, d))
        for filename in filenames:
            relative = _relative(os.path.join(directory, filename), root)
            if not _ignored(relative, ignore_paths) and scanners_for(relative):
                yield relative


def candidate_paths(root: Path, ignore_paths: Sequence[str] = ()) -> list[str]:
    """POSIX paths under `root` (relative) that some scanner would read, sorted."""
    return sorted(_walk(root, root, ignore_paths))


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


def scan_paths(
    paths: Sequence[Path],
    *,
    root: Path,
    ignore_paths: Sequence[str] = (),
    ignore_images: Sequence[str] = (),
) -> TreeScan:
    """Scan files and folders as one set (see `scan_files`), paths relative to `root`.

    A folder is walked; a file is read as the kind its path from `root` says, even inside a
    folder a walk leaves out (`scan.ignore-paths` still applies: it is the project's word). A
    file no scanner reads is passed over. Raises `PathNotFound` for a path that does not
    exist, before anything is read, and `ValueError` for one outside `root`.
    """
    for path in paths:
        if not os.path.lexists(path):
            raise PathNotFound(path)
    chosen: dict[str, Path] = {}
    for path in paths:
        if path.is_dir():
            for relative in _walk(path, root, ignore_paths):
                chosen[relative] = root / relative
            continue
        relative = _relative(path, root)
        if not _ignored(relative, ignore_paths) and scanners_for(relative):
            chosen[relative] = path
    return _scan_chosen(chosen, root, ignore_images)


def _scan_chosen(chosen: dict[str, Path], root: Path, ignore_images: Sequence[str]) -> TreeScan:
    result = TreeScan(root=root)
    files: dict[str, bytes] = {}
    problems: dict[str, Problem] = {}
    for relative, path in sorted(chosen.items()):
        read = read_candidate(path, relative)
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


def scan_tree(
    root: Path, *, ignore_paths: Sequence[str] = (), ignore_images: Sequence[str] = ()
) -> TreeScan:
    """Scan every candidate file under the folder `root`, as one set (see `scan_paths`).

    A file that cannot be read (permissions, not a regular file, over `MAX_FILE_BYTES`) is a
    problem of the result, like one that cannot be decoded or parsed.
    """
    return scan_paths([root], root=root, ignore_paths=ignore_paths, ignore_images=ignore_images)
