"""`pinbot audit` says how far it got: one line per repository as it finishes, in a log.

The audit runs as its own process against the GitHub fake over real HTTP; one repository is
held back by a rate limit while the test reads the lines of the others, as a CI log would.
"""

from __future__ import annotations

import json
import os
import pty
import select
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from pinbot.progress import Progress
from tests.support.github_fake import GitHubFake

ROOT = Path(__file__).resolve().parents[2]

FILES: dict[str, dict[str, bytes]] = {
    "web": {"Dockerfile": b"FROM nginx:1.27\nFROM redis:7\n"},
    "api": {"compose.yaml": b"services:\n  db:\n    image: postgres:16\n"},
    "docs": {"README.md": b"# docs\n"},
    "worker": {"Dockerfile": b"FROM alpine:3.20\n"},
}


@pytest.fixture
def org() -> Iterator[GitHubFake]:
    with GitHubFake() as fake:
        fake.create_org("acme")
        for name, files in FILES.items():
            fake.create_repo("acme", name, files)
        yield fake


def audit(fake: GitHubFake, *args: str) -> subprocess.Popen[str]:
    environment = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("PINBOT_", "GH_"))},
        "GITHUB_TOKEN": fake.token,
        "GITHUB_API_URL": fake.url,
        "PYTHONPATH": str(ROOT),
    }
    return subprocess.Popen(
        [sys.executable, "-m", "pinbot", "audit", "--org", "acme", "--format", "json", *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=environment,
    )


def test_each_repository_gets_a_line_as_it_finishes(org: GitHubFake) -> None:
    # acme/worker waits out a long rate limit: the others' lines must already be in the log.
    org.inject_secondary_rate_limit(retry_after=60, path_prefix="/repos/acme/worker")
    running = audit(org)
    assert running.stderr is not None
    lines: list[str] = []
    deadline = time.monotonic() + 60
    try:
        while len(lines) < 3 and time.monotonic() < deadline:
            line = running.stderr.readline()
            if not line:
                break
            if line.startswith("acme/"):  # not PyGithub's own log of the rate limit
                lines.append(line.rstrip("\n"))
        still_running = running.poll() is None
    finally:
        running.kill()
        running.communicate()

    assert still_running, lines
    assert sorted(lines) == [
        "acme/api: 1 reference in 1 file, 3 GitHub calls",
        "acme/docs: 0 references in 0 files, 2 GitHub calls",
        "acme/web: 2 references in 1 file, 3 GitHub calls",
    ]


def test_quiet_prints_no_progress_and_a_failure_is_a_line_of_its_own(org: GitHubFake) -> None:
    del org.repo("acme", "api").refs["main"]
    done = audit(org)
    stdout, stderr = done.communicate(timeout=120)
    assert done.returncode == 3
    lines = stderr.splitlines()
    assert "acme/api: not read: reading branch main: HTTP 404: Not Found" in lines
    assert "acme/worker: 1 reference in 1 file, 3 GitHub calls" in lines

    quiet = audit(org, "-q")
    quiet_out, quiet_err = quiet.communicate(timeout=120)
    assert quiet.returncode == 3
    assert json.loads(quiet_out)["repositories"] == json.loads(stdout)["repositories"]
    assert not any(line.startswith("acme/worker:") for line in quiet_err.splitlines())


def read_available(descriptor: int) -> str:
    """Everything the terminal has to give, waiting briefly for more after each piece."""
    received = b""
    while select.select([descriptor], [], [], 0.5)[0]:
        received += os.read(descriptor, 4096)
    return received.decode()


def test_on_a_terminal_the_line_is_replaced_in_place_and_cleared() -> None:
    controller, terminal = pty.openpty()
    try:
        with os.fdopen(terminal, "w", closefd=False) as stream:
            progress = Progress(2, stream=stream)
            progress.finish("acme/web: 2 references")
            progress.finish("acme/api\n::error::x: 1 reference")
            progress.close()
        written = read_available(controller)
    finally:
        os.close(controller)
        os.close(terminal)
    assert written == (
        "\r\x1b[K[1/2] acme/web: 2 references"
        "\r\x1b[K[2/2] acme/api\\n::error::x: 1 reference"
        "\r\x1b[K"
    )
