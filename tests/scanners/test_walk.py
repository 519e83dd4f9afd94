"""Reading a folder: which files are read, and each one that cannot be read is a problem."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from pinbot.errors import PinbotError, Problem, ProblemKind
from pinbot.scanners import MAX_FILE_BYTES, PathNotFound, scan_paths, scan_tree

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


@pytest.mark.slow
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


def test_vendored_and_generated_folders_are_not_walked(tmp_path: Path) -> None:
    kept = ["Dockerfile", "vendor/Dockerfile", "app/build/Dockerfile", "deploy/dist/compose.yaml"]
    skipped = [
        ".git/Dockerfile",
        "node_modules/x/Dockerfile",
        ".venv/lib/Dockerfile",
        "pinbot.egg-info/Dockerfile",
        ".eggs/x/Dockerfile",
        "lib/python3.11/site-packages/x/Dockerfile",
        ".mypy_cache/Dockerfile",
        ".ruff_cache/Dockerfile",
        ".pytest_cache/Dockerfile",
        # what `pip install .` and `python -m build` leave in a Python project
        "build/lib/pinbot/Dockerfile",
        "build/Dockerfile",
        "dist/compose.yaml",
    ]
    for relative in [*kept, *skipped]:
        write(tmp_path, relative, "services: {a: {image: nginx:1}}\n" if relative.endswith(".yaml") else "FROM nginx:1\n")
    write(tmp_path, "build/bdist.linux-x86_64/.keep", "")
    (tmp_path / "dist" / "pinbot-1.0-py3-none-any.whl").write_bytes(b"PK")
    result = scan_tree(tmp_path)
    assert sorted({o.file for o in result.occurrences}) == sorted(kept)
    assert result.errors == []


def test_a_build_folder_of_hand_written_dockerfiles_is_walked(tmp_path: Path) -> None:
    # Go projects keep Dockerfiles in build/ (regclient's build/Dockerfile.regbot): only a
    # build/ holding setuptools' output (lib/, bdist.*) and a dist/ of archives are skipped.
    write(tmp_path, "build/Dockerfile.regbot")
    write(tmp_path, "dist/Dockerfile")
    result = scan_tree(tmp_path)
    assert [o.file for o in result.occurrences] == ["build/Dockerfile.regbot", "dist/Dockerfile"]


def test_python_source_is_never_read_as_a_jenkinsfile(tmp_path: Path) -> None:
    example = "pipeline { agent { docker { image 'node:20' } } }\n"
    write(tmp_path, "pinbot/scanners/jenkinsfile.py", f'"""Reads Jenkinsfiles such as\n{example}"""\n')
    write(tmp_path, "Jenkinsfile", "pipeline { agent { docker { image 'node:20' } } }\n")
    assert [o.file for o in scan_tree(tmp_path).occurrences] == ["Jenkinsfile"]


def test_files_and_folders_are_scanned_as_one_set_relative_to_the_root(tmp_path: Path) -> None:
    write(tmp_path, "app/Dockerfile", "FROM python:3.12\n")
    write(tmp_path, "deploy/compose.yaml", "services:\n  web:\n    image: nginx:1.27\n")
    write(tmp_path, "deploy/k8s/pod.yaml", "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - image: redis:7\n")
    write(tmp_path, "other/Dockerfile", "FROM alpine:3\n")
    # the file again inside the folder given: read once
    paths = [tmp_path / "app/Dockerfile", tmp_path / "deploy", tmp_path / "deploy/compose.yaml"]
    result = scan_paths(paths, root=tmp_path)
    assert [(o.file, o.text) for o in result.occurrences] == [
        ("app/Dockerfile", "python:3.12"),
        ("deploy/compose.yaml", "nginx:1.27"),
        ("deploy/k8s/pod.yaml", "redis:7"),
    ]
    assert (result.files_scanned, result.root, result.errors) == (3, tmp_path, [])
    assert sorted(result.contents) == ["app/Dockerfile", "deploy/compose.yaml", "deploy/k8s/pod.yaml"]


def test_a_file_named_explicitly_is_read_even_where_a_walk_does_not_go(tmp_path: Path) -> None:
    write(tmp_path, "node_modules/tool/Dockerfile", "FROM node:20\n")
    write(tmp_path, "build/lib/Dockerfile", "FROM alpine:3\n")
    assert scan_tree(tmp_path).occurrences == []
    explicit = [tmp_path / "node_modules/tool/Dockerfile", tmp_path / "build/lib/Dockerfile"]
    result = scan_paths(explicit, root=tmp_path)
    assert [o.file for o in result.occurrences] == ["build/lib/Dockerfile", "node_modules/tool/Dockerfile"]


def test_a_file_is_read_as_the_kind_its_path_from_the_root_says(tmp_path: Path) -> None:
    workflow = write(tmp_path, ".github/workflows/ci.yml", "jobs:\n  a:\n    container: node:20\n")
    notes = write(tmp_path, "notes.txt", "FROM alpine:3\n")
    result = scan_paths([workflow, notes], root=tmp_path)
    assert [(o.file, o.kind) for o in result.occurrences] == [(".github/workflows/ci.yml", "github-actions")]
    assert result.files_scanned == 1  # a name no scanner reads is passed over


def test_ignore_paths_apply_to_files_named_explicitly(tmp_path: Path) -> None:
    vendored = write(tmp_path, "vendor/x/Dockerfile")
    own = write(tmp_path, "Dockerfile")
    result = scan_paths([vendored, own], root=tmp_path, ignore_paths=["vendor/*"])
    assert [o.file for o in result.occurrences] == ["Dockerfile"]


def test_files_named_together_are_linked(tmp_path: Path) -> None:
    common = write(tmp_path, ".gitlab/ci/_common.gitlab-ci.yml", "variables:\n  LINT_IMAGE: golangci/golangci-lint:v1.59\n")
    jobs = write(tmp_path, ".gitlab/ci/lint.gitlab-ci.yml", "lint:\n  image: $LINT_IMAGE\n  script: [lint]\n")
    result = scan_paths([common, jobs], root=tmp_path)
    assert ("golangci/golangci-lint:v1.59", ".gitlab/ci/_common.gitlab-ci.yml") in {
        (o.text, o.file) for o in result.occurrences
    }


def test_a_path_that_does_not_exist_is_refused_before_anything_is_read(tmp_path: Path) -> None:
    write(tmp_path, "Dockerfile")
    missing = tmp_path / "no" / "such.yaml"
    with pytest.raises(PathNotFound) as refused:
        scan_paths([tmp_path / "Dockerfile", missing], root=tmp_path)
    assert isinstance(refused.value, PinbotError)
    assert refused.value.path == missing
    assert str(refused.value) == f"{missing}: no such file or folder"
