"""`pinbot pin` with `pin.min-age`: what waits is listed with until when, waiting is not a
failure, and the memory of what was seen is kept in the `--state` file between runs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from pinbot.settle import from_json
from tests.support.registry import RunningRegistry


def pinbot(*args: str | Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pinbot", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )


@pytest.fixture
def moved(tmp_path: Path, registry_http: RunningRegistry) -> tuple[Path, Path, str, datetime]:
    """A Dockerfile pinned to a tag's old digest, the tag rebuilt an hour ago; the config."""
    reg = registry_http
    repo = f"settle-cli/{tmp_path.name.lower().replace('_', '-')[-40:]}"
    old = reg.push_image(repo, "1.0", seed="old", created="2021-01-01T00:00:00Z")
    built = (datetime.now(UTC) - timedelta(hours=1)).replace(microsecond=0)
    reg.push_image(repo, "1.0", seed="new", created=built.strftime("%Y-%m-%dT%H:%M:%SZ"))
    root = tmp_path / "repo"
    root.mkdir()
    (root / "Dockerfile").write_text(f"FROM {reg.host}/{repo}:1.0@{old.digest}\n")
    config = tmp_path / "pinbot.yaml"
    config.write_text(f'registries:\n  "{reg.host}":\n    insecure: true\npin:\n  min-age: 3d\n')
    return root, config, f"{reg.host}/{repo}:1.0", built


def test_a_digest_that_waits_is_listed_with_its_time_and_is_not_a_failure(
    tmp_path: Path, moved: tuple[Path, Path, str, datetime]
) -> None:
    root, config, key, built = moved
    state = tmp_path / "state" / "settle.json"
    before = (root / "Dockerfile").read_bytes()
    result = pinbot("pin", root, "--config", config, "--state", state)
    assert result.returncode == 0, result.stderr
    until = built + timedelta(days=3)
    (line,) = [line for line in result.stderr.splitlines() if line.startswith("waiting: ")]
    assert line.startswith("waiting: Dockerfile:1:6: ")
    assert line.endswith(f"waits until {until:%Y-%m-%d %H:%M} UTC (min-age 3d)")
    assert "0 bumped in 0 files; 0 already current; 0 notes; 0 errors; 1 waiting for min-age" in result.stderr
    assert (root / "Dockerfile").read_bytes() == before
    # The memory: the tag, its new digest, since its build an hour ago.
    (sighting,) = from_json(state.read_bytes()).tags.items()
    assert sighting[0] == key and sighting[1].since == built

    report = json.loads(pinbot("pin", root, "--config", config, "--state", state, "--format", "json").stdout)
    (waiting,) = report["waiting"]
    assert (waiting["until"], waiting["min_age"], waiting["line"]) == (f"{until:%Y-%m-%dT%H:%M:%SZ}", "3d", 1)
    assert report["edits"] == []


def test_an_unreadable_state_file_means_waiting_again(
    tmp_path: Path, moved: tuple[Path, Path, str, datetime]
) -> None:
    root, config, _, _ = moved
    state = tmp_path / "settle.json"
    # Without memory an old build would be proposed at once; with a lost one it waits.
    state.write_text('{"version": 1, "tags": {"x:1": {"digest": "sha256:nope"}}}')
    result = pinbot("pin", root, "--config", config, "--state", state)
    assert result.returncode == 0, result.stderr
    assert "not used: every new digest waits a whole min-age window again" in result.stderr
    assert "1 waiting for min-age" in result.stderr
    (line,) = [line for line in result.stderr.splitlines() if line.startswith("waiting: ")]
    now = datetime.now(UTC)
    shown = line.split("waits until ", 1)[1].split(" UTC", 1)[0]
    until = datetime.strptime(shown, "%Y-%m-%d %H:%M").replace(tzinfo=UTC)
    assert now + timedelta(days=3) - timedelta(minutes=2) <= until <= now + timedelta(days=3)
    assert from_json(state.read_bytes()).trusted  # replaced by what this run saw


def test_the_state_lives_in_the_cache_folder_by_default(
    tmp_path: Path, moved: tuple[Path, Path, str, datetime]
) -> None:
    root, config, key, _ = moved
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "xdg")}
    assert pinbot("pin", root, "--config", config, env=env).returncode == 0
    kept = from_json((tmp_path / "xdg" / "pinbot" / "settle-state.json").read_bytes())
    assert list(kept.tags) == [key]


def test_a_state_file_that_cannot_be_written_is_refused_before_anything_runs(
    tmp_path: Path, moved: tuple[Path, Path, str, datetime]
) -> None:
    root, config, _, _ = moved
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    result = pinbot("pin", root, "--config", config, "--state", blocker / "settle.json")
    assert result.returncode == 2
    assert "pinbot pin: --state:" in result.stderr and "cannot be made" in result.stderr


def test_without_min_age_no_state_file_is_written(
    tmp_path: Path, moved: tuple[Path, Path, str, datetime]
) -> None:
    root, config, _, _ = moved
    config.write_text(config.read_text().replace("min-age: 3d", "min-age: 0s"))
    state = tmp_path / "settle.json"
    result = pinbot("pin", root, "--config", config, "--state", state)
    assert result.returncode == 0 and "1 bumped in 1 files" in result.stderr
    assert not state.exists()
