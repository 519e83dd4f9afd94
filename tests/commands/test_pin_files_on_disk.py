"""`pinbot pin` and the files it writes: symlinks, concurrent edits, atomic writes.

Real symlinks on disk, a real registry behind a loopback proxy that answers late, and a real
edit made while pinbot waits for it.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support.fault_proxy import FaultProxy
from tests.support.registry import RunningRegistry

ROOT = Path(__file__).resolve().parents[2]


def pinbot(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pinbot", *map(str, args)],
        capture_output=True, text=True, timeout=120, env=_environment(),
    )


def _environment() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT)}


def insecure_config(path: Path, host: str) -> Path:
    path.write_text(f'registries:\n  "{host}":\n    insecure: true\n')
    return path


@pytest.fixture
def base_image(registry_http: RunningRegistry) -> str:
    """The digest of `files/base:1.0` on the plain registry."""
    return registry_http.push_image("files/base", "1.0", seed="files-base").digest


def test_a_link_inside_the_tree_is_pinned_once_through_its_target(
    tmp_path: Path, registry_http: RunningRegistry, base_image: str
) -> None:
    root = tmp_path / "repo"
    (root / "docker").mkdir(parents=True)
    target = root / "docker" / "Dockerfile"
    target.write_text(f"FROM {registry_http.host}/files/base:1.0\n")
    (root / "Dockerfile").symlink_to("docker/Dockerfile")
    config = insecure_config(tmp_path / "pinbot.yaml", registry_http.host)

    result = pinbot("pin", root, "--config", config, "--format", "json")

    assert result.returncode == 0, result.stderr
    assert "1 pinned, 0 bumped in 1 files" in result.stderr
    edits = json.loads(result.stdout)["edits"]
    assert [edit["file"] for edit in edits] == ["docker/Dockerfile"]
    assert (root / "Dockerfile").is_symlink()
    assert os.readlink(root / "Dockerfile") == "docker/Dockerfile"
    assert target.read_text() == f"FROM {registry_http.host}/files/base:1.0@{base_image}\n"
    assert pinbot("pin", root, "--config", config, "--check").returncode == 0


def test_a_link_to_a_file_no_scanner_reads_is_pinned_in_that_file(
    tmp_path: Path, registry_http: RunningRegistry, base_image: str
) -> None:
    root = tmp_path / "repo"
    (root / "images").mkdir(parents=True)
    target = root / "images" / "base.txt"
    target.write_text(f"FROM {registry_http.host}/files/base:1.0\n")
    (root / "Dockerfile").symlink_to("images/base.txt")
    config = insecure_config(tmp_path / "pinbot.yaml", registry_http.host)

    result = pinbot("pin", root, "--config", config)

    assert result.returncode == 0, result.stderr
    assert "1 pinned, 0 bumped in 1 files" in result.stderr
    assert (root / "Dockerfile").is_symlink()
    assert target.read_text() == f"FROM {registry_http.host}/files/base:1.0@{base_image}\n"
    assert sorted(p.name for p in (root / "images").iterdir()) == ["base.txt"]


def test_a_link_leading_outside_the_tree_is_reported_and_left_alone(
    tmp_path: Path, registry_http: RunningRegistry, base_image: str
) -> None:
    outside = tmp_path / "elsewhere" / "Dockerfile"
    outside.parent.mkdir()
    outside.write_text(f"FROM {registry_http.host}/files/base:1.0\n")
    root = tmp_path / "repo"
    root.mkdir()
    (root / "Dockerfile").symlink_to(outside)
    (root / "compose.yaml").write_text(
        f"services:\n  web:\n    image: {registry_http.host}/files/base:1.0\n"
    )
    config = insecure_config(tmp_path / "pinbot.yaml", registry_http.host)

    result = pinbot("pin", root, "--config", config, "--format", "json")

    assert result.returncode == 1
    report = json.loads(result.stdout)
    assert [edit["file"] for edit in report["edits"]] == ["compose.yaml"]
    (refused,) = report["errors"]
    assert refused["kind"] == "write-refused" and refused["file"] == "Dockerfile"
    assert "outside" in refused["message"]
    assert (root / "Dockerfile").is_symlink()
    assert outside.read_text() == f"FROM {registry_http.host}/files/base:1.0\n"
    assert f"files/base:1.0@{base_image}" in (root / "compose.yaml").read_text()
    assert not list(outside.parent.glob(".*"))  # no temporary file left beside it


def test_a_file_edited_during_the_lookups_is_refused_not_reverted(
    tmp_path: Path, registry_http: RunningRegistry, fault_proxy: FaultProxy, base_image: str
) -> None:
    registry_http.push_image("files/base", "2.0", seed="files-base-2")
    root = tmp_path / "repo"
    root.mkdir()
    dockerfile = root / "Dockerfile"
    dockerfile.write_text(f"FROM {fault_proxy.host}/files/base:1.0\n")
    compose = root / "compose.yaml"
    compose.write_text(f"services:\n  web:\n    image: {fault_proxy.host}/files/base:1.0\n")
    config = insecure_config(tmp_path / "pinbot.yaml", fault_proxy.host)
    delayed = fault_proxy.inject("/manifests/", delay=3.0)

    running = subprocess.Popen(
        [sys.executable, "-m", "pinbot", "pin", str(root), "--config", str(config)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_environment(),
    )
    deadline = time.monotonic() + 60
    while delayed.hits == 0 and running.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    assert delayed.hits == 1, "pinbot never asked the registry"
    # A person changes the tag while pinbot waits for the registry.
    edited = f"FROM {fault_proxy.host}/files/base:2.0\n"
    dockerfile.write_text(edited)
    _, stderr = running.communicate(timeout=120)

    assert running.returncode == 1, stderr
    assert dockerfile.read_text() == edited
    assert "Dockerfile" in stderr and "changed since it was scanned" in stderr
    assert compose.read_text().endswith(f"files/base:1.0@{base_image}\n")


def test_a_written_file_keeps_its_mode_and_leaves_no_temporary_file(
    tmp_path: Path, registry_http: RunningRegistry, base_image: str
) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    dockerfile = root / "Dockerfile"
    dockerfile.write_text(f"FROM {registry_http.host}/files/base:1.0\n")
    dockerfile.chmod(0o640)
    inode = dockerfile.stat().st_ino
    config = insecure_config(tmp_path / "pinbot.yaml", registry_http.host)

    result = pinbot("pin", root, "--config", config)

    assert result.returncode == 0, result.stderr
    assert stat.S_IMODE(dockerfile.stat().st_mode) == 0o640
    assert dockerfile.stat().st_ino != inode  # replaced by rename, not rewritten in place
    assert base_image in dockerfile.read_text()
    assert sorted(p.name for p in root.iterdir()) == ["Dockerfile"]
