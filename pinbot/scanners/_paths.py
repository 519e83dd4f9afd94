"""The parts and the name of a POSIX path as `PurePosixPath` gives them, without building one.

Every scanner's `matches` looks at the path of every file a tree walk finds; a path object
for each costs more than the rest of the match. A plain relative path (no empty or `.` part)
is split on `/`; anything else is left to `PurePosixPath`, so the answer is always its own.
"""

from __future__ import annotations

from pathlib import PurePosixPath

__all__ = ["path_name", "path_parts"]


def path_parts(path: str) -> tuple[str, ...]:
    """`PurePosixPath(path).parts`."""
    parts = path.split("/")
    if "" in parts or "." in parts:
        return PurePosixPath(path).parts
    return tuple(parts)


def path_name(path: str) -> str:
    """`PurePosixPath(path).name`."""
    if path and "/" not in path and path != ".":
        return path
    name = path.rpartition("/")[2]
    if name in ("", ".") or "//" in path or "/./" in path or path.startswith("./"):
        return PurePosixPath(path).name
    return name
