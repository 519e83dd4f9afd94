"""The shipped pre-commit hooks, run by pre-commit itself over a sample git repository.

pre-commit clones the hook repository (a snapshot of this checkout), builds its Python
environment by pip-installing pinbot from it, and runs the hooks with the staged file names.
Offline: the environment is built with no package index (`PIP_NO_INDEX`), seeing the
dependencies already installed here (`VIRTUALENV_SYSTEM_SITE_PACKAGES`), without build
isolation so setuptools comes from here too.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.registry import RunningRegistry

pytest.importorskip("pre_commit", reason="pre-commit is a test extra: pip install -e '.[test]'")

ROOT = Path(__file__).resolve().parents[2]
DIGEST = "sha256:" + "e" * 64
GIT_IDENTITY = ["-c", "user.name=pinbot tests", "-c", "user.email=tests@pinbot.invalid"]


def git(folder: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", *GIT_IDENTITY, *args], cwd=folder, capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def snapshot_of_checkout(target: Path) -> str:
    """This checkout's files (as they are on disk, tracked or new) committed in a repository
    at `target`, as pre-commit clones a hook repository; returns the commit."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT, capture_output=True, check=True,
    ).stdout.decode().split("\0")
    for relative in filter(None, listed):
        source = ROOT / relative
        if not source.is_file():
            continue  # deleted in the work tree
        destination = target / relative
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, destination)
    git(target, "init", "-q")
    git(target, "add", "-A")
    git(target, "commit", "-q", "-m", "snapshot")
    return git(target, "rev-parse", "HEAD")


@dataclass
class Hooks:
    source: Path  # the hook repository pre-commit clones
    commit: str
    home: Path  # PRE_COMMIT_HOME: clones and environments, built once for the module

    def environment(self) -> dict[str, str]:
        return {
            **{k: v for k, v in os.environ.items() if not k.startswith(("PINBOT_", "PIP_"))},
            "PRE_COMMIT_HOME": str(self.home),
            "PIP_NO_INDEX": "1",
            "PIP_NO_BUILD_ISOLATION": "0",
            "VIRTUALENV_SYSTEM_SITE_PACKAGES": "1",
            "PYTHONPATH": "",
        }

    def run(self, sample: Path, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "pre_commit", "run", "--color", "never", *args],
            cwd=sample, capture_output=True, text=True, env=self.environment(), timeout=600,
        )


@pytest.fixture(scope="module")
def hooks(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hooks]:
    source = tmp_path_factory.mktemp("hook-repository")
    yield Hooks(source, snapshot_of_checkout(source), tmp_path_factory.mktemp("pre-commit-home"))


def sample_repository(folder: Path, hooks: Hooks, files: dict[str, str], args: str = "") -> Path:
    for relative, text in {
        **files,
        ".pre-commit-config.yaml": (
            f"repos:\n  - repo: {hooks.source}\n    rev: {hooks.commit}\n    hooks:\n"
            f"      - id: pinbot-check\n{args}      - id: pinbot-pin\n{args}"
        ),
    }.items():
        path = folder / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    git(folder, "init", "-q")
    git(folder, "add", "-A")
    git(folder, "commit", "-q", "-m", "sample")
    return folder


@pytest.mark.slow
def test_the_check_hook_fails_on_an_unpinned_image_and_passes_once_pinned(
    tmp_path: Path, hooks: Hooks
) -> None:
    sample = sample_repository(
        tmp_path,
        hooks,
        {
            "Dockerfile": "FROM nginx:1.27\n",
            "deploy/compose.yaml": f"services:\n  web:\n    image: redis:7@{DIGEST}\n",
            "README.md": "# sample\n",
            "tools/build.py": "print('FROM nginx:1.27')\n",
        },
    )

    failing = hooks.run(sample, "--all-files")

    assert failing.returncode == 1, failing.stdout + failing.stderr
    assert "pinbot check (image references pinned by digest)" in failing.stdout
    assert "Dockerfile:1:6: unpinned: nginx:1.27 is not pinned by digest" in failing.stdout
    assert "compose.yaml" not in failing.stdout.replace("pre-commit-config", "")
    print(failing.stdout)  # the pre-commit run, as a person sees it

    (sample / "Dockerfile").write_text(f"FROM nginx:1.27@{DIGEST}\n")
    git(sample, "add", "-A")
    passing = hooks.run(sample, "--all-files")
    assert passing.returncode == 0, passing.stdout + passing.stderr
    assert "pinbot check (image references pinned by digest)" in passing.stdout
    assert "Passed" in passing.stdout
    # The pin hook is for the manual stage only: a plain run never asks a registry.
    assert "pinbot pin" not in passing.stdout

    unrelated = hooks.run(sample, "--files", "README.md", "tools/build.py")
    assert unrelated.returncode == 0, unrelated.stdout + unrelated.stderr


def test_the_manual_pin_hook_pins_the_staged_files(
    tmp_path: Path, hooks: Hooks, registry_http: RunningRegistry
) -> None:
    digest = registry_http.push_image("hooks/base", "1.0", seed="hooks").digest
    config = f'registries:\n  "{registry_http.host}":\n    insecure: true\n'
    sample = sample_repository(
        tmp_path,
        hooks,
        {"Dockerfile": f"FROM {registry_http.host}/hooks/base:1.0\n", "pinbot.yaml": config},
        args="        args: [--config, pinbot.yaml]\n",
    )

    pinned = hooks.run(sample, "--hook-stage", "manual", "pinbot-pin", "--all-files")

    # pre-commit fails a hook that modified files, so the person reviews and stages them.
    assert pinned.returncode == 1, pinned.stdout + pinned.stderr
    assert "files were modified by this hook" in pinned.stdout
    assert (sample / "Dockerfile").read_text() == (
        f"FROM {registry_http.host}/hooks/base:1.0@{digest}\n"
    )
    assert hooks.run(sample, "--all-files").returncode == 0
