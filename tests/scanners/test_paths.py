"""The path parts and names scanners match on are exactly what `PurePosixPath` gives."""

from __future__ import annotations

from pathlib import PurePosixPath

from hypothesis import given
from hypothesis import strategies as st

from pinbot.scanners._paths import path_name, path_parts

# Separators, dots and two letters reach every case: empty parts, `.` and `..`, leading and
# trailing slashes, names that start with a dot.
PATHS = st.text(alphabet="/.ab", max_size=12)


@given(PATHS)
def test_parts_are_pure_posix_paths_parts(path: str) -> None:
    assert path_parts(path) == PurePosixPath(path).parts


@given(PATHS)
def test_name_is_pure_posix_paths_name(path: str) -> None:
    assert path_name(path) == PurePosixPath(path).name


def test_plain_paths() -> None:
    assert path_parts(".devcontainer/app/devcontainer.json") == (
        ".devcontainer",
        "app",
        "devcontainer.json",
    )
    assert path_name("build/Dockerfile.dev") == "Dockerfile.dev"
    assert path_parts("./a//b/") == ("a", "b")
