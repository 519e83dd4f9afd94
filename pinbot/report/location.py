"""Where findings are, named as CI tools look for them: from the repository root.

GitHub annotations and code scanning resolve a path against the checkout's root, so `check`
names every file from the git top level containing PATH (else from the working directory),
the same way in every format.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class RepositoryLocation:
    """The root files are named from, and the scanned folder's path below it."""

    root: Path
    prefix: str  # "" when the folder is the root, else e.g. "app/deploy"


def git_top_level(folder: Path) -> Path | None:
    """The nearest folder at or above `folder` holding `.git` (a folder, or a file as in
    worktrees and submodules), without running git."""
    for candidate in (folder, *folder.parents):
        if (candidate / ".git").exists():
            return candidate
    return None


def locate(path: Path, cwd: Path | None = None) -> RepositoryLocation:
    """Where files found under `path` (a folder, or a file: its folder) are named from.

    The git top level containing it; else the working directory when it is inside it; else
    `path` itself, as files outside both have no better name.
    """
    # abspath, not resolve: the tree is named as the user reached it, links included.
    folder = Path(os.path.abspath(path))
    if not folder.is_dir():
        folder = folder.parent
    working = Path(os.path.abspath(cwd or Path.cwd()))
    for root in (git_top_level(folder), working):
        if root is not None and folder.is_relative_to(root):
            prefix = folder.relative_to(root).as_posix()
            return RepositoryLocation(root, "" if prefix == "." else prefix)
    return RepositoryLocation(folder, "")
