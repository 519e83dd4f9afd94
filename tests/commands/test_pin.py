"""`pinbot pin` end to end: a sample repository whose files name images on a real registry.

Every digest pinbot writes is checked against skopeo; a second run changes nothing; a moved
tag is bumped; `--dry-run` and `--check` write nothing.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from pinbot.scanners import Status, scan_tree
from tests.support.registry import RunningRegistry

CHECKOUT = Path(__file__).resolve().parents[2]


def pinbot(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pinbot", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(CHECKOUT)},
        timeout=120,
    )


def sample_repository(root: Path, host: str) -> dict[str, bytes]:
    files = {
        "Dockerfile": f"# build\nFROM {host}/e2e/base:1.0 AS build\nRUN make\nFROM {host}/e2e/runtime:2\nCOPY --from=build /out /\n",
        "compose.yaml": f"services:\n  web:\n    image: \"{host}/e2e/runtime:2\"   # same tag as the Dockerfile\n  db:\n    image: {host}/e2e/db:16\r\n",
        "deploy/app.yml": (
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: app}\nspec:\n  template:\n    spec:\n"
            f"      initContainers:\n        - name: init\n          image: '{host}/e2e/base:1.0'\n"
            f"      containers:\n        - name: app\n          image: {host}/e2e/multi:3\n"
        ),
        ".github/workflows/ci.yml": f"on: push\njobs:\n  test:\n    runs-on: ubuntu-latest\n    container: {host}/e2e/db:16\n    steps:\n      - uses: docker://{host}/e2e/base:1.0\n",
        ".gitlab-ci.yml": f"image: {host}/e2e/runtime:2\ntest:\n  script: [make]\n",
        "notes.txt": f"FROM {host}/e2e/base:1.0 is not in a file pinbot reads\n",
    }
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text.encode())
    return {k: v.encode() for k, v in files.items()}


@pytest.fixture
def repo(tmp_path: Path, registry_http: RunningRegistry) -> tuple[Path, Path, RunningRegistry]:
    reg = registry_http
    reg.push_image("e2e/base", "1.0", seed="base-1")
    reg.push_image("e2e/runtime", "2", oci=True, seed="runtime-1")
    reg.push_image("e2e/db", "16", seed="db-1")
    amd = reg.push_image("e2e/multi", None, platform=("linux", "amd64", None), oci=True, seed="m1")
    arm = reg.push_image("e2e/multi", None, platform=("linux", "arm64", "v8"), oci=True, seed="m1")
    reg.push_index("e2e/multi", "3", [(amd, ("linux", "amd64", None)), (arm, ("linux", "arm64", "v8"))])
    root = tmp_path / "repo"
    root.mkdir()
    sample_repository(root, reg.host)
    config = tmp_path / "pinbot.yaml"
    config.write_text(f'registries:\n  "{reg.host}":\n    insecure: true\n')
    return root, config, reg


def pinned_digests(root: Path) -> list[tuple[str, str, str]]:
    """(file, reference name:tag, digest) for every pinned occurrence under root."""
    out = []
    for o in scan_tree(root).occurrences:
        if o.status is Status.PINNED and o.reference is not None and o.reference.digest:
            out.append((o.file, f"{o.reference.name}:{o.reference.tag}", o.reference.digest))
    return out


def test_pin_writes_digests_that_skopeo_confirms(repo: tuple[Path, Path, RunningRegistry]) -> None:
    root, config, reg = repo
    before = {p: (root / p).read_bytes() for p in ["notes.txt"]}
    result = pinbot("pin", root, "--config", config)
    assert result.returncode == 0, result.stderr
    assert "9 pinned, 0 bumped in 5 files" in result.stderr

    found = pinned_digests(root)
    assert len(found) == 9
    for file, name_tag, digest in found:
        repo_tag = name_tag.split("/", 1)[1]
        repository, tag = repo_tag.rsplit(":", 1)
        assert reg.skopeo_raw_digest(f"{repository}:{tag}") == digest, (file, name_tag)
    assert all(o.status is not Status.UNPINNED for o in scan_tree(root).occurrences)
    assert (root / "notes.txt").read_bytes() == before["notes.txt"]
    # The user's spelling, quotes, comments and CRLF survive.
    compose = (root / "compose.yaml").read_bytes()
    assert b'image: "' + reg.host.encode() + b"/e2e/runtime:2@sha256:" in compose
    assert b"   # same tag as the Dockerfile\n" in compose
    assert compose.endswith(b"@" + found_digest(found, "compose.yaml", "e2e/db").encode() + b"\r\n")

    second = pinbot("pin", root, "--config", config, "--check")
    assert second.returncode == 0, second.stderr
    assert second.stdout == ""


def found_digest(found: list[tuple[str, str, str]], file: str, repo_name: str) -> str:
    return next(d for f, n, d in found if f == file and f"/{repo_name}:" in n)


def test_a_moved_tag_is_bumped_and_check_and_dry_run_write_nothing(
    repo: tuple[Path, Path, RunningRegistry],
) -> None:
    root, config, reg = repo
    assert pinbot("pin", root, "--config", config).returncode == 0
    old = reg.skopeo_raw_digest("e2e/db:16")
    new = reg.push_image("e2e/db", "16", seed="db-2").digest
    assert new != old
    snapshot = {p: p.read_bytes() for p in root.rglob("*") if p.is_file()}

    check = pinbot("pin", root, "--config", config, "--check")
    assert check.returncode == 1
    dry = pinbot("pin", root, "--config", config, "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert f"-    image: {reg.host}/e2e/db:16@{old}" in dry.stdout
    assert f"+    image: {reg.host}/e2e/db:16@{new}" in dry.stdout
    assert {p: p.read_bytes() for p in root.rglob("*") if p.is_file()} == snapshot

    bump = pinbot("pin", root, "--config", config)
    assert bump.returncode == 0, bump.stderr
    assert "0 pinned, 2 bumped in 2 files" in bump.stderr
    assert found_digest(pinned_digests(root), "compose.yaml", "e2e/db") == new
    assert reg.skopeo_raw_digest("e2e/db:16") == new


def test_a_missing_tag_is_reported_and_the_rest_still_pinned(
    repo: tuple[Path, Path, RunningRegistry],
) -> None:
    root, config, reg = repo
    (root / "Dockerfile.extra").write_text(f"FROM {reg.host}/e2e/absent:9\nFROM {reg.host}/e2e/base:1.0\n")
    result = pinbot("pin", root, "--config", config)
    assert result.returncode == 1
    assert "e2e/absent:9" in result.stderr and "not found" in result.stderr
    text = (root / "Dockerfile.extra").read_text()
    assert f"FROM {reg.host}/e2e/absent:9\n" in text
    assert f"FROM {reg.host}/e2e/base:1.0@sha256:" in text


def test_scan_json_lists_every_reference(repo: tuple[Path, Path, RunningRegistry]) -> None:
    root, _config, reg = repo
    result = pinbot("scan", root, "--format", "json")
    assert result.returncode == 0, result.stderr
    items = json.loads(result.stdout)
    assert {i["file"] for i in items} == {
        "Dockerfile", "compose.yaml", "deploy/app.yml", ".github/workflows/ci.yml", ".gitlab-ci.yml",
    }
    first = items[0]
    assert set(first) >= {"file", "line", "column", "kind", "text", "reference", "status"}
    dockerfile = [i for i in items if i["file"] == "Dockerfile"]
    assert [(i["line"], i["column"], i["text"], i["status"]) for i in dockerfile] == [
        (2, 6, f"{reg.host}/e2e/base:1.0", "unpinned"),
        (4, 6, f"{reg.host}/e2e/runtime:2", "unpinned"),
    ]
    assert dockerfile[0]["reference"] == f"{reg.host}/e2e/base:1.0"


def test_a_pinned_digest_that_no_longer_exists_is_reported(
    repo: tuple[Path, Path, RunningRegistry],
) -> None:
    root, config, reg = repo
    gone = reg.push_image("e2e/gone", "1", seed="gone-1").digest
    kept = reg.push_image("e2e/gone", "2", seed="gone-2").digest
    (root / "Dockerfile.gone").write_text(
        f"FROM {reg.host}/e2e/gone@{gone}\nFROM {reg.host}/e2e/gone@{kept}\n"
    )
    reg.delete("e2e/gone", gone)
    result = pinbot("pin", root, "--config", config)
    assert result.returncode == 0, result.stderr
    assert f"Dockerfile.gone:1:6: {reg.host}/e2e/gone@{gone}: {gone} no longer exists" in result.stderr
    (second,) = [line for line in result.stderr.splitlines() if "Dockerfile.gone:2:" in line]
    assert second.endswith("pinned by digest with no tag to follow")


def test_json_lists_every_edit_and_note(repo: tuple[Path, Path, RunningRegistry]) -> None:
    root, config, reg = repo
    (root / "Dockerfile.untagged").write_text(f"FROM {reg.host}/e2e/base\n")
    before = {p: p.read_bytes() for p in root.rglob("*") if p.is_file()}
    dry = pinbot("pin", root, "--config", config, "--dry-run", "--format", "json")
    assert dry.returncode == 0, dry.stderr
    result = json.loads(dry.stdout)
    assert result["written"] is False
    assert {p: p.read_bytes() for p in root.rglob("*") if p.is_file()} == before
    assert len(result["edits"]) == 9 and result["errors"] == [] and result["unchanged"] == 0
    first = next(e for e in result["edits"] if e["file"] == "Dockerfile")
    assert first["line"] == 2 and first["action"] == "pin" and first["old_digest"] is None
    assert first["new_digest"] == reg.skopeo_raw_digest("e2e/base:1.0")
    assert first["replacement"] == f"{first['text']}@{first['new_digest']}"
    (note,) = result["notes"]
    assert (note["file"], note["kind"]) == ("Dockerfile.untagged", "untagged")

    done = pinbot("pin", root, "--config", config, "--format", "json")
    assert json.loads(done.stdout)["written"] is True
    assert (root / "Dockerfile").read_text().count("@sha256:") == 2


def test_a_gitlab_variable_an_included_file_uses_as_an_image_is_pinned(
    repo: tuple[Path, Path, RunningRegistry],
) -> None:
    root, config, reg = repo
    ci = root / ".gitlab" / "ci"
    ci.mkdir(parents=True)
    common = f"variables:\n  DB_IMAGE: {reg.host}/e2e/db:16   # shared\n"
    jobs = "test:\n  services:\n    - name: ${DB_IMAGE}\n  script: [make]\n"
    (ci / "_common.gitlab-ci.yml").write_text(common)
    (ci / "test.gitlab-ci.yml").write_text(jobs)
    result = pinbot("pin", root, "--config", config)
    assert result.returncode == 0, result.stderr
    assert "10 pinned, 0 bumped in 6 files" in result.stderr
    digest = reg.skopeo_raw_digest("e2e/db:16")
    assert (ci / "_common.gitlab-ci.yml").read_text() == common.replace(":16", f":16@{digest}")
    assert (ci / "test.gitlab-ci.yml").read_text() == jobs
    check = pinbot("pin", root, "--config", config, "--check")
    assert check.returncode == 0, check.stderr
