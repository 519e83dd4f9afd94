"""Find the files some scanner reads under files and folders, and read them one at a time.

A folder is walked, leaving out folders that never hold a project's own image references;
a file named explicitly is read as the kind its name says wherever it is. A file too big to be
a configuration file, or one that cannot be read, is reported as a `Problem`, not read; a path
that does not exist is refused before anything is read. Scanning what is chosen is `_tree`'s.
"""

from __future__ import annotations

import fnmatch
import os
import stat
from collections.abc import Iterator, Sequence
from pathlib import Path

from pinbot.errors import PinbotError, Problem
from pinbot.scanners._driver import scanners_for, unreadable

__all__ = [
    "MAX_FILE_BYTES",
    "SKIPPED_DIRS",
    "PathNotFound",
    "candidate_paths",
    "choose_files",
    "read_candidate",
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


def _walk(
    folder: Path, root: Path, ignore_paths: Sequence[str], *, matched: bool = True
) -> Iterator[str]:
    """Files under `folder` that some scanner reads (with `matched`; else every file that is
    not ignored), relative to `root`."""
    top = os.fspath(folder)
    # The walk joins names onto `top`: a folder's path from `root` is top's and the names
    # after it, worked out from the string (`relpath` per folder was most of a walk's time).
    start = _relative(top, root)
    start = "" if start == "." else start + "/"
    for directory, dirnames, filenames in os.walk(top):
        dirnames[:] = sorted(d for d in dirnames if _walked(directory, d))
        # One relative path per folder: its files' paths are that and their names.
        below = directory[len(top) :].lstrip(os.sep)
        if os.sep != "/":  # pragma: no cover - POSIX paths in every report
            below = below.replace(os.sep, "/")
        prefix = start + below + "/" if below else start
        for filename in filenames:
            relative = prefix + filename
            if not _ignored(relative, ignore_paths) and (not matched or scanners_for(relative)):
                yield relative


def candidate_paths(root: Path, ignore_paths: Sequence[str] = ()) -> list[str]:
    """POSIX paths under `root` (relative) that some scanner would read, sorted."""
    return sorted(_walk(root, root, ignore_paths))


def read_candidate(path: Path | str, relative: str) -> bytes | Problem:
    """A file's bytes, or the problem that kept them from being read (reported as `relative`)."""
    try:
        # Without blocking: opening a FIFO for reading would wait for a writer.
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError as exc:
        return unreadable(relative, f"cannot read: {exc.strerror}")
    try:
        status = os.fstat(descriptor)
        if not stat.S_ISREG(status.st_mode):
            return unreadable(relative, "not a regular file; not read")
        try:
            data = _read_at_most(descriptor, status.st_size, MAX_FILE_BYTES + 1)
        except OSError as exc:
            return unreadable(relative, f"cannot read: {exc.strerror}")
    finally:
        os.close(descriptor)
    if len(data) > MAX_FILE_BYTES:
        return unreadable(relative, f"larger than {MAX_FILE_BYTES // 2**20} MiB; not read")
    return data


def _read_at_most(descriptor: int, size: int, limit: int) -> bytes:
    """Up to `limit` bytes of an open file whose size was `size`: asked for by its size (a
    buffer of `limit` bytes for every small file costs a large allocation each), then on in
    case it grew."""
    parts: list[bytes] = []
    read = 0
    asked = min(size + 1, limit)
    while read < limit:
        part = os.read(descriptor, min(asked, limit - read))
        if not part:
            break
        parts.append(part)
        read += len(part)
        asked = 1 << 16
    return parts[0] if len(parts) == 1 else b"".join(parts)


def choose_files(
    paths: Sequence[Path],
    *,
    root: Path,
    ignore_paths: Sequence[str] = (),
    match_walked: bool = True,
) -> dict[str, str]:
    """The files some scanner reads among `paths`: where each is, by its POSIX path relative
    to `root`, sorted by that.

    A folder is walked; a file is read as the kind its path from `root` says, even inside a
    folder a walk leaves out (`scan.ignore-paths` still applies: it is the project's word). A
    file no scanner reads is passed over; without `match_walked`, the files of a folder are
    all kept, for the caller to match (worker processes share that work). Raises
    `PathNotFound` for a path that does not exist, before anything is read, and `ValueError`
    for one outside `root`.
    """
    for path in paths:
        if not os.path.lexists(path):
            raise PathNotFound(path)
    chosen: dict[str, str] = {}
    for path in paths:
        if path.is_dir():
            at = os.path.join(root, "")  # what `os.path.join(root, relative)` starts with
            for relative in _walk(path, root, ignore_paths, matched=match_walked):
                chosen[relative] = at + relative
            continue
        relative = _relative(path, root)
        if not _ignored(relative, ignore_paths) and scanners_for(relative):
            chosen[relative] = os.fspath(path)
    return dict(sorted(chosen.items()))
