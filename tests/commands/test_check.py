"""`pinbot check` run as a command: policy findings in every output format, digest drift against a
registry, and file names as CI tools expect them (the rules themselves: tests/plan/test_policy.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from pinbot.policy import Rule
from tests.support.registry import RunningRegistry

DIGEST = "sha256:" + "c" * 64


CHECKOUT = Path(__file__).resolve().parents[2]


def check(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pinbot", "check", *map(str, args)],
        capture_output=True, text=True, timeout=120, cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(CHECKOUT)},
    )


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    (tmp_path / "Dockerfile").write_text(f"FROM alpine:3.20@{DIGEST}\nFROM nginx:latest\n")
    (tmp_path / "ok").mkdir()
    return tmp_path


@pytest.mark.slow
def test_text_lists_each_violation_and_exits_1_only_when_there_is_one(tree: Path) -> None:
    result = check(tree)
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        "Dockerfile:2:6: unpinned: nginx:latest is not pinned by digest",
        "Dockerfile:2:6: latest-tag: nginx:latest uses the `latest` tag",
    ]
    assert check(tree / "ok").returncode == 0


@pytest.mark.slow
def test_github_format_is_one_error_annotation_per_violation(tree: Path) -> None:
    lines = check(tree, "--format", "github").stdout.splitlines()
    assert lines[0] == (
        "::error file=Dockerfile,line=2,col=6,title=Image reference is not pinned by digest"
        "::nginx:latest is not pinned by digest"
    )
    assert len(lines) == 2


@pytest.mark.slow
def test_sarif_declares_every_rule_and_locates_the_violation_and_json_lists_the_same(
    tree: Path
) -> None:
    sarif = json.loads(check(tree, "--format", "sarif").stdout)
    assert sarif["version"] == "2.1.0"
    run = sarif["runs"][0]
    assert {r["id"] for r in run["tool"]["driver"]["rules"]} == {r.value for r in Rule} | {
        "unreadable-file",
        "lookup-failed",
    }
    result = run["results"][0]
    assert result["ruleId"] == "unpinned"
    region = result["locations"][0]["physicalLocation"]["region"]
    assert (region["startLine"], region["startColumn"], region["endColumn"]) == (2, 6, 18)
    items = json.loads(check(tree, "--format", "json").stdout)
    assert [(i["line"], i["rule"]) for i in items] == [(2, "unpinned"), (2, "latest-tag")]


def test_drift_reports_a_moved_tag_only_when_asked_to_ask_the_registry(
    tmp_path: Path, registry_http: RunningRegistry
) -> None:
    reg = registry_http
    old = reg.push_image("check/drift", "1", seed="one").digest
    (tmp_path / "Dockerfile").write_text(f"FROM {reg.host}/check/drift:1@{old}\n")
    config = tmp_path / "pinbot.yaml"
    config.write_text(f'registries:\n  "{reg.host}":\n    insecure: true\n')
    assert check(tmp_path, "--drift", "--config", config).returncode == 0
    new = reg.push_image("check/drift", "1", seed="two").digest
    result = check(tmp_path, "--drift", "--config", config)
    assert result.returncode == 1
    assert result.stdout.strip() == f"Dockerfile:1:6: digest-drift: {reg.host}/check/drift:1@{old}: tag 1 now points to {new}"
    assert check(tmp_path, "--config", config).returncode == 0  # offline: drift is not checked


def test_drift_reports_a_pinned_digest_that_no_longer_exists(
    tmp_path: Path, registry_http: RunningRegistry
) -> None:
    reg = registry_http
    gone = reg.push_image("check/gone", "1", seed="soon deleted").digest
    (tmp_path / "Dockerfile").write_text(f"FROM {reg.host}/check/gone@{gone}\n")
    config = tmp_path / "pinbot.yaml"
    config.write_text(f'registries:\n  "{reg.host}":\n    insecure: true\n')
    assert check(tmp_path, "--drift", "--config", config).returncode == 0
    reg.delete("check/gone", gone)
    result = check(tmp_path, "--drift", "--config", config, "--format", "json")
    assert result.returncode == 1
    (finding,) = json.loads(result.stdout)
    assert finding["rule"] == "digest-missing"
    assert f"{gone} no longer exists" in finding["message"]


# --- paths where CI tools look: from the repository root -----------------------------------

APP = "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n    - name: app\n      image: nginx:1.27\n"


@pytest.fixture
def repository(tmp_path: Path) -> Path:
    """A git repository whose manifest sits two folders down."""
    root = tmp_path / "repo"
    (root / "app" / "deploy").mkdir(parents=True)
    (root / "app" / "deploy" / "app.yaml").write_text(APP)
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    return root


@pytest.mark.slow
def test_github_annotations_from_the_repository_root_name_the_file_from_the_root(
    repository: Path,
) -> None:
    result = check("app/deploy", "--format", "github", cwd=repository)
    assert result.returncode == 1
    assert result.stdout.splitlines()[0].startswith(
        "::error file=app/deploy/app.yaml,line=6,col=14,"
    )


@pytest.mark.slow
def test_every_format_names_the_file_from_the_git_top_level_wherever_it_runs(
    repository: Path,
) -> None:
    # Run from inside the repository but below its root: still named from the root.
    inside = repository / "app"
    text = check("deploy", cwd=inside).stdout
    assert text.startswith("app/deploy/app.yaml:6:14: unpinned: ")
    (item, *_) = json.loads(check("deploy", "--format", "json", cwd=inside).stdout)
    assert item["file"] == "app/deploy/app.yaml"
    github = check(repository / "app" / "deploy", "--format", "github", cwd=CHECKOUT).stdout
    assert github.startswith("::error file=app/deploy/app.yaml,")
    # A file given as an argument (a pre-commit hook) is named the same way.
    for given, cwd in (("app/deploy/app.yaml", repository), ("deploy/app.yaml", inside)):
        github = check(given, "--format", "github", cwd=cwd).stdout
        assert github.startswith("::error file=app/deploy/app.yaml,"), github


@pytest.mark.slow
def test_sarif_locations_are_relative_to_srcroot_the_repository_root(repository: Path) -> None:
    (repository / "app" / "deploy" / "my app#1.yaml").write_text(APP)
    log = json.loads(check("app", "--format", "sarif", cwd=repository).stdout)
    [run] = log["runs"]
    assert run["originalUriBaseIds"] == {"%SRCROOT%": {"uri": repository.as_uri() + "/"}}
    locations = [r["locations"][0]["physicalLocation"]["artifactLocation"] for r in run["results"]]
    assert {"uri": "app/deploy/app.yaml", "uriBaseId": "%SRCROOT%"} in locations
    assert {"uri": "app/deploy/my%20app%231.yaml", "uriBaseId": "%SRCROOT%"} in locations


@pytest.mark.slow
def test_outside_a_repository_files_are_named_from_the_working_directory(tmp_path: Path) -> None:
    (tmp_path / "app" / "deploy").mkdir(parents=True)
    (tmp_path / "app" / "deploy" / "app.yaml").write_text(APP)
    github = check("app/deploy", "--format", "github", cwd=tmp_path).stdout
    assert github.startswith("::error file=app/deploy/app.yaml,")
