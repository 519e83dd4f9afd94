"""Writing pinned files on disk: where each scanned path is written, and only over what was read.

A tree can hold symbolic links. A link is never replaced by a file: a link to a file inside the
tree is pinned through that file, once however many links lead to it, and a link leading out
of the tree is left alone and reported. A file is written only if its bytes are still the ones
that were scanned, so an edit made while the registries were asked is never reverted; the new
bytes go to a temporary file in the same folder, renamed over the old one with its mode.
"""

from __future__ import annotations

import contextlib
import errno
import fnmatch
import os
import stat
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pinbot.errors import PinbotError, Problem, ProblemKind

#: Read at most this much more than was scanned when comparing: a longer file differs anyway.
_COMPARE_SLACK = 1


class WriteRefused(PinbotError):
    """A file was not written; it is left exactly as it is on disk."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason

    def problem(self) -> Problem:
        return Problem(ProblemKind.WRITE_REFUSED, self.reason, file=self.path)


@dataclass
class Placements:
    """Where the files of one scan are written.

    `targets`: scanned path → the real file its edits go to, one scanned path per real file.
    `passed_over`: paths not pinned through themselves (another path reaches the same file,
    or the link leads to a file `scan.ignore-paths` names). `refused`: links leading out of
    the tree, reported.
    """

    targets: dict[str, Path] = field(default_factory=dict)
    passed_over: set[str] = field(default_factory=set)
    refused: list[Problem] = field(default_factory=list)


def _inside(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def place(root: Path, paths: Iterable[str], ignore_paths: Sequence[str] = ()) -> Placements:
    """Decide where each scanned path (POSIX, relative to `root`) is written.

    A path that is itself the real file wins over the links to it; among links only, the
    first in path order.
    """
    real_root = Path(os.path.realpath(root))
    placements = Placements()
    reaching: dict[Path, list[str]] = {}
    for path in sorted(paths):
        real = Path(os.path.realpath(root / path))
        if not _inside(real, real_root):
            placements.refused.append(
                Problem(
                    ProblemKind.WRITE_REFUSED,
                    "a link to a file outside the tree; left alone "
                    "(pin it where it lives, or list it in scan.ignore-paths)",
                    file=path,
                )
            )
            continue
        reaching.setdefault(real, []).append(path)
    for real, names in reaching.items():
        own = real.relative_to(real_root).as_posix()
        chosen = own if own in names else names[0]
        placements.passed_over.update(name for name in names if name != chosen)
        if chosen != own and any(fnmatch.fnmatchcase(own, glob) for glob in ignore_paths):
            placements.passed_over.add(chosen)
            continue
        placements.targets[chosen] = real
    return placements


def _read_current(target: Path, limit: int) -> tuple[bytes, os.stat_result]:
    """The file's bytes now (at most `limit`), never through a link, and its status."""
    descriptor = os.open(target, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    with os.fdopen(descriptor, "rb") as stream:
        status = os.fstat(stream.fileno())
        if not stat.S_ISREG(status.st_mode):
            raise WriteRefused(str(target), "no longer a regular file; not written")
        return stream.read(limit), status


def write_if_unchanged(path: str, target: Path, scanned: bytes, updated: bytes) -> None:
    """Replace `target` with `updated` if it still holds `scanned`, in one rename.

    `path` names the file in messages. Raises `WriteRefused` when the file changed, moved,
    became a link or cannot be read; the file is then left as it is.
    """
    folder = target.parent
    try:
        handle, temporary = tempfile.mkstemp(dir=folder, prefix=f".{target.name}.", suffix=".pinbot")
    except OSError as exc:
        raise WriteRefused(path, f"cannot write beside it: {exc.strerror}; not written") from exc
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(updated)
            stream.flush()
            os.fsync(stream.fileno())
        # Compared last, just before the rename, to keep the window for a lost edit small.
        try:
            current, status = _read_current(target, len(scanned) + _COMPARE_SLACK)
        except WriteRefused as exc:
            raise WriteRefused(path, exc.reason) from exc
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise WriteRefused(path, "replaced by a link since it was scanned; not written") from exc
            raise WriteRefused(path, f"cannot read it again: {exc.strerror}; not written") from exc
        if current != scanned:
            raise WriteRefused(path, "changed since it was scanned; not written (run pin again)")
        os.chmod(temporary, stat.S_IMODE(status.st_mode))
        with contextlib.suppress(OSError):  # keeping the owner needs privileges we may not have
            os.chown(temporary, status.st_uid, status.st_gid)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
