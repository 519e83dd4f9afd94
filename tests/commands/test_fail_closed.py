"""A gate never goes green on what it could not check: `check`, `pin` and `audit` fail closed.

A reference pinbot could not check — its registry did not answer, or its file could not be
read, decoded or parsed — is a finding of its own in `check` (rules `lookup-failed` and
`unreadable-file`, with file and line in every format) and makes `check` and `pin` exit 1.
Real registries (one stopped part-way), real files on disk.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.registry import start_registry

ROOT = Path(__file__).resolve().parents[2]
DIGEST = "sha256:" + "d" * 64


def pinbot(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pinbot", *map(str, args)],
        capture_output=True, text=True, timeout=180,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


def pinbot_running(*args: str | Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "pinbot", *map(str, args)],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


def finished(running: subprocess.Popen[str]) -> tuple[int, str]:
    """Exit status and stdout of a started run."""
    stdout, _ = running.communicate(timeout=180)
    return running.returncode, stdout


def findings(tree: Path, *args: str | Path) -> tuple[int, list[dict[str, object]]]:
    done = pinbot("check", tree, "--format", "json", *args)
    return done.returncode, json.loads(done.stdout)


def insecure_config(path: Path, host: str) -> Path:
    path.write_text(f'registries:\n  "{host}":\n    insecure: true\n')
    return path


@pytest.mark.integration  # starts its server in the test
def test_drift_with_the_registry_down_fails_and_names_each_reference(tmp_path: Path) -> None:
    registry = start_registry(tmp_path / "registry")
    try:
        pinned = registry.push_image("gate/app", "1", seed="gate").digest
        tree = tmp_path / "tree"
        tree.mkdir()
        (tree / "Dockerfile").write_text(
            f"FROM {registry.host}/gate/app:1@{pinned}\nFROM {registry.host}/gate/app@{pinned}\n"
        )
        config = insecure_config(tmp_path / "pinbot.yaml", registry.host)
        assert findings(tree, "--drift", "--config", config) == (0, [])
    finally:
        registry.close()

    # Every format at once: each run waits out the client's retries against the dead port.
    runs = {
        name: pinbot_running("check", tree, "--drift", "--config", config, "--format", name)
        for name in ("json", "text", "github", "sarif")
    }
    runs["pin"] = pinbot_running("pin", tree, "--config", config)
    done = {name: finished(run) for name, run in runs.items()}

    assert {name: status for name, (status, _) in done.items()} == dict.fromkeys(runs, 1)
    found = json.loads(done["json"][1])
    assert [(f["rule"], f["file"], f["line"]) for f in found] == [
        ("lookup-failed", "Dockerfile", 1),
        ("lookup-failed", "Dockerfile", 2),
    ]
    assert done["text"][1].startswith("Dockerfile:1:6: lookup-failed: ")
    assert done["github"][1].startswith("::error file=Dockerfile,line=1,col=6,title=")
    sarif = json.loads(done["sarif"][1])
    results = sarif["runs"][0]["results"]
    assert [r["ruleId"] for r in results] == ["lookup-failed"] * 2
    assert results[1]["locations"][0]["physicalLocation"]["region"]["startLine"] == 2
    assert check_offline(tree, config) == 0  # without --drift nothing needs the registry
    assert (tree / "Dockerfile").read_text().count(pinned) == 2  # pin wrote nothing


def check_offline(tree: Path, config: Path) -> int:
    return pinbot("check", tree, "--config", config).returncode


@pytest.mark.slow
def test_drift_against_a_closed_port_fails(tmp_path: Path) -> None:
    (tmp_path / "compose.yaml").write_text(
        f"services:\n  web:\n    image: 127.0.0.1:9/gate/web:2@{DIGEST}\n"
    )
    config = insecure_config(tmp_path / "pinbot.yaml", "127.0.0.1:9")
    status, found = findings(tmp_path, "--drift", "--config", config)
    assert status == 1
    assert [(f["rule"], f["file"], f["line"]) for f in found] == [("lookup-failed", "compose.yaml", 3)]


UNREADABLE_TREES: dict[str, tuple[str, bytes, int]] = {
    # name: (file, bytes, the line the finding names)
    "broken YAML": ("compose.yaml", b"services:\n  web:\n    image: nginx:1.27\n  db: [\n", 5),
    "one Latin-1 byte": ("Dockerfile", b"# caf\xe9\nFROM nginx:1.27\n", 1),
    "UTF-16": ("compose.yaml", "services:\n  web:\n    image: nginx:1.27\n".encode("utf-16"), 1),
    "nested too deeply": (
        "compose.yaml",
        b"services:\n  web:\n    image: nginx:1.27\nx: " + b"[" * 300 + b"]" * 300 + b"\n",
        4,
    ),
}


@pytest.mark.slow
@pytest.mark.parametrize("case", sorted(UNREADABLE_TREES))
def test_a_file_that_cannot_be_read_fails_check_and_pin(tmp_path: Path, case: str) -> None:
    name, data, line = UNREADABLE_TREES[case]
    (tmp_path / name).write_bytes(data)

    status, found = findings(tmp_path)

    assert status == 1
    assert [(f["rule"], f["file"], f["line"]) for f in found] == [("unreadable-file", name, line)]
    pinned = pinbot("pin", tmp_path)
    assert pinned.returncode == 1
    assert name in pinned.stderr
    assert (tmp_path / name).read_bytes() == data


@pytest.mark.slow
def test_a_file_over_the_size_limit_is_a_finding_not_skipped(tmp_path: Path) -> None:
    from pinbot.scanners import MAX_FILE_BYTES

    padding = b"# padding\n" * (MAX_FILE_BYTES // 10 + 1)
    (tmp_path / "Dockerfile").write_bytes(b"FROM nginx:1.27\n" + padding)
    status, found = findings(tmp_path)
    assert status == 1
    assert [(f["rule"], f["file"]) for f in found] == [("unreadable-file", "Dockerfile")]


@pytest.mark.slow
def test_a_file_that_cannot_be_opened_fails_check(tmp_path: Path) -> None:
    # A link to itself cannot be opened by anyone, root included.
    (tmp_path / "Dockerfile").symlink_to("Dockerfile")
    status, found = findings(tmp_path)
    assert status == 1
    assert [(f["rule"], f["file"]) for f in found] == [("unreadable-file", "Dockerfile")]


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads a file whatever its mode")
def test_a_file_without_read_permission_fails_check(tmp_path: Path) -> None:
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text("FROM nginx:1.27\n")
    dockerfile.chmod(0)
    try:
        status, found = findings(tmp_path)
    finally:
        dockerfile.chmod(0o644)
    assert status == 1
    assert [(f["rule"], f["file"]) for f in found] == [("unreadable-file", "Dockerfile")]


@pytest.mark.slow
def test_an_image_a_compose_service_builds_is_not_a_policy_finding(tmp_path: Path) -> None:
    (tmp_path / "compose.yaml").write_text(
        "services:\n"
        "  app:\n    build: .\n    image: acme/app:dev\n"
        "  db:\n    image: postgres:16\n"
    )
    status, found = findings(tmp_path)
    assert status == 1
    assert [(f["rule"], f["line"]) for f in found] == [("unpinned", 6)]


@pytest.mark.integration  # starts its server in the test
def test_audit_with_the_registry_down_fails_and_names_the_references(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from pinbot.cli import main
    from tests.support.github_fake import GitHubFake

    host = "127.0.0.1:9"  # nothing listens there
    with GitHubFake() as fake:
        fake.create_org("acme")
        fake.create_repo(
            "acme",
            "web",
            {"Dockerfile": f"FROM {host}/gate/a:1@{DIGEST}\nFROM {host}/gate/b@{DIGEST}\n".encode()},
        )
        monkeypatch.setenv("GITHUB_TOKEN", fake.token)
        monkeypatch.setenv("GITHUB_API_URL", fake.url)
        config = insecure_config(tmp_path / "pinbot.yaml", host)
        common = ["audit", "--repo", "acme/web", "--config", str(config), "--format", "json", "-q"]
        assert main(common) == 0  # offline: nothing to ask, nothing unchecked
        capsys.readouterr()

        status = main([*common, "--drift"])

    report = json.loads(capsys.readouterr().out)
    assert status == 1
    problems = report["lookup_errors"]
    assert any(p.startswith(f"{host}/gate/a:1: ") for p in problems), problems
    assert any(p.startswith(f"acme/web/Dockerfile:2:6: {host}/gate/b@") for p in problems), problems


@pytest.mark.integration  # starts its server in the test
def test_audit_fails_on_a_repository_file_it_cannot_parse(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from pinbot.cli import main
    from tests.support.github_fake import GitHubFake

    with GitHubFake() as fake:
        fake.create_org("acme")
        fake.create_repo("acme", "ok", {"Dockerfile": f"FROM nginx:1.27@{DIGEST}\n".encode()})
        fake.create_repo("acme", "broken", {"compose.yaml": UNREADABLE_TREES["broken YAML"][1]})
        monkeypatch.setenv("GITHUB_TOKEN", fake.token)
        monkeypatch.setenv("GITHUB_API_URL", fake.url)
        json_out = ["--format", "json", "-q"]
        assert main(["audit", "--repo", "acme/ok", *json_out]) == 0
        capsys.readouterr()

        status = main(["audit", "--repo", "acme/ok", "--repo", "acme/broken", *json_out])

    report = json.loads(capsys.readouterr().out)
    assert status == 1
    broken = next(r for r in report["repositories"] if r["repository"] == "acme/broken")
    assert any(w.startswith("compose.yaml:5: ") for w in broken["warnings"]), broken
