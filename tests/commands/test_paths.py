"""`scan`, `check` and `pin` take any mix of files and folders, and refuse a path that is not there.

One folder is read as it always was, its files named from it; several paths, or files, are
named as given from the working directory. Real files on disk, a real registry for `pin`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.registry import RunningRegistry

ROOT = Path(__file__).resolve().parents[2]


def pinbot(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pinbot", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


def tree(root: Path, files: dict[str, str]) -> Path:
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


SAMPLE = {
    "app/Dockerfile": "FROM python:3.12\n",
    "deploy/compose.yaml": "services:\n  web:\n    image: nginx:1.27\n",
    "deploy/k8s/pod.yaml": "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - image: redis:7\n",
    "other/Dockerfile": "FROM alpine:3\n",
}


def scanned(*args: str | Path, cwd: Path) -> list[tuple[str, str]]:
    done = pinbot("scan", "--format", "json", *args, cwd=cwd)
    assert done.returncode == 0, done.stderr
    return [(o["file"], o["text"]) for o in json.loads(done.stdout)]


@pytest.mark.slow
def test_files_and_folders_together_are_named_as_given(tmp_path: Path) -> None:
    tree(tmp_path, SAMPLE)
    assert scanned("app/Dockerfile", "deploy", cwd=tmp_path) == [
        ("app/Dockerfile", "python:3.12"),
        ("deploy/compose.yaml", "nginx:1.27"),
        ("deploy/k8s/pod.yaml", "redis:7"),
    ]


@pytest.mark.slow
def test_one_folder_is_read_as_before_its_files_named_from_it(tmp_path: Path) -> None:
    tree(tmp_path, SAMPLE)
    assert scanned("deploy", cwd=tmp_path) == [("compose.yaml", "nginx:1.27"), ("k8s/pod.yaml", "redis:7")]
    assert len(scanned(cwd=tmp_path / "deploy")) == 2  # no path: the working directory


@pytest.mark.slow
def test_files_outside_the_working_directory_are_named_from_their_common_folder(
    tmp_path: Path,
) -> None:
    tree(tmp_path / "repo", SAMPLE)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    files = [tmp_path / "repo/app/Dockerfile", tmp_path / "repo/other/Dockerfile"]
    assert scanned(*files, cwd=elsewhere) == [("app/Dockerfile", "python:3.12"), ("other/Dockerfile", "alpine:3")]


@pytest.mark.slow
def test_check_takes_a_file_as_a_pre_commit_hook_passes_it(tmp_path: Path) -> None:
    tree(tmp_path, SAMPLE)
    done = pinbot("check", "app/Dockerfile", "--format", "json", cwd=tmp_path)
    assert done.returncode == 1, done.stderr
    assert [(f["file"], f["rule"]) for f in json.loads(done.stdout)] == [("app/Dockerfile", "unpinned")]


@pytest.mark.slow
@pytest.mark.parametrize("command", ["scan", "check", "pin"])
def test_a_path_that_does_not_exist_is_its_own_error(tmp_path: Path, command: str) -> None:
    tree(tmp_path, SAMPLE)
    done = pinbot(command, "app/Dockerfile", "no/such.yaml", cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr == f"pinbot {command}: no/such.yaml: no such file or folder\n"
    assert done.stdout == ""


def test_pin_writes_only_the_files_given(tmp_path: Path, registry_http: RunningRegistry) -> None:
    registry = registry_http
    digest = registry.push_image("paths/base", "1.0", seed="paths-base").digest
    base = f"{registry.host}/paths/base:1.0"
    root = tree(tmp_path / "repo", {"app/Dockerfile": f"FROM {base}\n", "other/Dockerfile": f"FROM {base}\n"})
    config = tmp_path / "pinbot.yaml"
    config.write_text(f'registries:\n  "{registry.host}":\n    insecure: true\n')
    done = pinbot("pin", "app/Dockerfile", "--config", config, cwd=root)
    assert done.returncode == 0, done.stderr
    assert (root / "app/Dockerfile").read_text() == f"FROM {base}@{digest}\n"
    assert (root / "other/Dockerfile").read_text() == f"FROM {base}\n"
