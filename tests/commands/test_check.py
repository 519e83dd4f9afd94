"""`pinbot check`: policy findings in every output format, and digest drift against a registry."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from pinbot.config import PolicyConfig
from pinbot.plan import Lookup
from pinbot.policy import Rule, evaluate, unchecked
from pinbot.scanners import Occurrence, scan_text
from tests.support.registry import RunningRegistry

DIGEST = "sha256:" + "c" * 64


CHECKOUT = Path(__file__).resolve().parents[2]


def check(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pinbot", "check", *map(str, args)],
        capture_output=True, text=True, timeout=120, cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(CHECKOUT)},
    )


def rules_for(dockerfile: str, policy: PolicyConfig) -> list[tuple[int, str]]:
    occurrences = scan_text("Dockerfile", dockerfile).occurrences
    return [(v.occurrence.line, v.rule.value) for v in evaluate(occurrences, policy)]


@pytest.mark.parametrize(
    ("dockerfile", "policy", "expected"),
    [
        (f"FROM nginx:1.27@{DIGEST}\n", PolicyConfig(), []),
        ("FROM nginx:1.27\n", PolicyConfig(), [(1, "unpinned")]),
        ("FROM nginx\n", PolicyConfig(), [(1, "unpinned"), (1, "latest-tag")]),
        ("FROM nginx:latest\n", PolicyConfig(require_pinned=False), [(1, "latest-tag")]),
        (f"FROM nginx@{DIGEST}\n", PolicyConfig(), []),
        ("FROM nginx\n", PolicyConfig(require_pinned=False, forbid_latest=False), []),
        (
            f"FROM quay.io/x/y:1@{DIGEST}\nFROM ghcr.io/a/b:2@{DIGEST}\n",
            PolicyConfig(allowed_registries=("ghcr.io", "*.example.com")),
            [(1, "registry-not-allowed")],
        ),
        (
            f"FROM nginx:1@{DIGEST}\n",
            PolicyConfig(allowed_registries=("ghcr.io",)),
            [(1, "registry-not-allowed")],
        ),
        ("ARG V\nFROM nginx:${V}\n", PolicyConfig(), []),  # templated: nothing to judge
    ],
)
def test_policy_rules(dockerfile: str, policy: PolicyConfig, expected: list[tuple[int, str]]) -> None:
    assert rules_for(dockerfile, policy) == expected


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    (tmp_path / "Dockerfile").write_text(f"FROM alpine:3.20@{DIGEST}\nFROM nginx:latest\n")
    (tmp_path / "ok").mkdir()
    return tmp_path


def test_text_and_exit_status(tree: Path) -> None:
    result = check(tree)
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        "Dockerfile:2:6: unpinned: nginx:latest is not pinned by digest",
        "Dockerfile:2:6: latest-tag: nginx:latest uses the `latest` tag",
    ]
    assert check(tree / "ok").returncode == 0


def test_github_annotations(tree: Path) -> None:
    lines = check(tree, "--format", "github").stdout.splitlines()
    assert lines[0] == (
        "::error file=Dockerfile,line=2,col=6,title=Image reference is not pinned by digest"
        "::nginx:latest is not pinned by digest"
    )
    assert len(lines) == 2


def test_sarif_and_json(tree: Path) -> None:
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


def test_drift_asks_the_registry(tmp_path: Path, registry_http: RunningRegistry) -> None:
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


def _pinned(text: str) -> list[Occurrence]:
    return scan_text("Dockerfile", text).occurrences


@pytest.mark.parametrize(
    ("lookups", "expected"),
    [
        # The tag resolved: drift is compared, nothing is left unchecked.
        ({"docker.io/library/nginx:1.27": Lookup(DIGEST)}, []),
        # The tag did not resolve, but the registry said the digest exists (or not).
        (
            {
                "docker.io/library/nginx:1.27": Lookup(error="tag not found"),
                f"docker.io/library/nginx@{DIGEST}": Lookup(DIGEST),
            },
            [],
        ),
        # Neither answered: unchecked, with the registry's reason.
        (
            {"docker.io/library/nginx:1.27": Lookup(error="connection refused")},
            [(1, "lookup-failed", "connection refused")],
        ),
        ({}, [(1, "lookup-failed", None)]),
    ],
)
def test_a_pinned_reference_the_registry_did_not_answer_for_is_unchecked(
    lookups: dict[str, Lookup], expected: list[tuple[int, str, str | None]]
) -> None:
    occurrences = _pinned(f"FROM nginx:1.27@{DIGEST}\n")
    problems = unchecked(occurrences, lookups)
    assert [(p.line, p.kind.value) for p in problems] == [(line, rule) for line, rule, _ in expected]
    for problem, (_, _, why) in zip(problems, expected, strict=True):
        assert problem.file == "Dockerfile" and problem.column == 6
        assert why is None or why in problem.message


def test_a_digest_without_a_tag_is_settled_only_by_an_existence_answer() -> None:
    occurrences = _pinned(f"FROM nginx@{DIGEST}\n")
    assert [p.kind.value for p in unchecked(occurrences, {})] == ["lookup-failed"]
    answered = {f"docker.io/library/nginx@{DIGEST}": Lookup(error="gone")}
    assert unchecked(occurrences, answered) == []


def test_an_image_a_compose_service_builds_is_not_judged() -> None:
    compose = (
        "services:\n"
        "  app:\n    build: .\n    image: acme/app:latest\n"
        f"  tool:\n    build: ./tool\n    image: acme/tool@{DIGEST}\n"
        "  db:\n    image: postgres\n"
    )
    occurrences = scan_text("compose.yaml", compose).occurrences
    assert [o.built_here for o in occurrences] == [True, True, False]
    violations = evaluate(occurrences, PolicyConfig())
    assert [(v.occurrence.line, v.rule.value) for v in violations] == [
        (9, "unpinned"),
        (9, "latest-tag"),
    ]
    assert unchecked(occurrences, {}) == []


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


def test_github_annotations_from_the_repository_root_name_the_file_from_the_root(
    repository: Path,
) -> None:
    result = check("app/deploy", "--format", "github", cwd=repository)
    assert result.returncode == 1
    assert result.stdout.splitlines()[0].startswith(
        "::error file=app/deploy/app.yaml,line=6,col=14,"
    )


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


def test_sarif_locations_are_relative_to_srcroot_the_repository_root(repository: Path) -> None:
    (repository / "app" / "deploy" / "my app#1.yaml").write_text(APP)
    log = json.loads(check("app", "--format", "sarif", cwd=repository).stdout)
    [run] = log["runs"]
    assert run["originalUriBaseIds"] == {"%SRCROOT%": {"uri": repository.as_uri() + "/"}}
    locations = [r["locations"][0]["physicalLocation"]["artifactLocation"] for r in run["results"]]
    assert {"uri": "app/deploy/app.yaml", "uriBaseId": "%SRCROOT%"} in locations
    assert {"uri": "app/deploy/my%20app%231.yaml", "uriBaseId": "%SRCROOT%"} in locations


def test_outside_a_repository_files_are_named_from_the_working_directory(tmp_path: Path) -> None:
    (tmp_path / "app" / "deploy").mkdir(parents=True)
    (tmp_path / "app" / "deploy" / "app.yaml").write_text(APP)
    github = check("app/deploy", "--format", "github", cwd=tmp_path).stdout
    assert github.startswith("::error file=app/deploy/app.yaml,")
