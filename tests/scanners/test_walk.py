"""Reading a folder: which files are read, and each one that cannot be read is a problem."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from pinbot.errors import Problem, ProblemKind
from pinbot.scanners import MAX_FILE_BYTES, scan_tree

REPO = Path(__file__).parents[2]


def write(root: Path, relative: str, text: str = "FROM nginx:1\n") -> Path:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def unreadable(file: str, message: str, line: int | None = None) -> Problem:
    return Problem(ProblemKind.UNREADABLE_FILE, message, file=file, line=line)


def test_a_file_over_the_size_limit_is_a_problem_not_a_silent_skip(tmp_path: Path) -> None:
    write(tmp_path, "Dockerfile")
    big = write(tmp_path, "big/Dockerfile", "FROM alpine:3\n")
    with big.open("ab") as file:
        file.write(b"#" * MAX_FILE_BYTES)
    result = scan_tree(tmp_path)
    assert [o.file for o in result.occurrences] == ["Dockerfile"]
    assert result.errors == [unreadable("big/Dockerfile", "larger than 4 MiB; not read")]
    assert str(result.errors[0]) == "big/Dockerfile: larger than 4 MiB; not read"


def test_a_file_at_the_size_limit_is_read(tmp_path: Path) -> None:
    path = write(tmp_path, "Dockerfile", "FROM alpine:3\n")
    with path.open("ab") as file:
        file.write(b"#" * (MAX_FILE_BYTES - path.stat().st_size))
    result = scan_tree(tmp_path)
    assert (len(result.occurrences), result.errors) == (1, [])


def test_a_dangling_link_and_a_fifo_are_problems(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").symlink_to(tmp_path / "gone")
    os.mkfifo(tmp_path / "Containerfile")
    result = scan_tree(tmp_path)
    assert result.errors == [
        unreadable("Containerfile", "not a regular file; not read"),
        unreadable("Dockerfile", "cannot read: No such file or directory"),
    ]


def test_undecodable_and_unparseable_files_are_problems_naming_file_and_line(
    tmp_path: Path,
) -> None:
    (tmp_path / "Dockerfile").write_bytes(b"FROM a:1\n# caf\xe9\n")
    (tmp_path / "Containerfile").write_bytes("FROM alpine:3\n".encode("utf-16"))
    write(tmp_path, "compose.yaml", "services:\n  web:\n    image: [nginx\n")
    result = scan_tree(tmp_path)
    assert [(p.kind, p.file, p.line) for p in result.errors] == [
        (ProblemKind.UNREADABLE_FILE, "Containerfile", 1),
        (ProblemKind.UNREADABLE_FILE, "Dockerfile", 2),
        (ProblemKind.UNREADABLE_FILE, "compose.yaml", 4),
    ]
    assert result.occurrences == []


def test_a_file_without_read_permission_is_a_problem() -> None:
    # Root reads any file whatever its mode: the scan then runs in a child that gives up root
    # once everything is imported.
    program = (
        "import json, os, pathlib, sys\n"
        "from pinbot.scanners import all_scanners, scan_tree\n"
        "all_scanners()\n"
        "if os.geteuid() == 0:\n"
        "    os.setgroups([]); os.setgid(65534); os.setuid(65534)\n"
        "result = scan_tree(pathlib.Path(sys.argv[1]))\n"
        "print(json.dumps([[o.file for o in result.occurrences], [p.to_json() for p in result.errors]]))\n"
    )
    with tempfile.TemporaryDirectory() as folder:
        tree = Path(folder)
        tree.chmod(0o755)
        write(tree, "Dockerfile")
        write(tree, "app/Dockerfile").chmod(0o000)
        done = subprocess.run(
            [sys.executable, "-c", program, str(tree)],
            cwd=REPO,
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "PYTHONPATH": str(REPO)},
        )
    files, problems = json.loads(done.stdout)
    assert files == ["Dockerfile"]
    assert problems == [unreadable("app/Dockerfile", "cannot read: Permission denied").to_json()]
