"""Rules end to end (`pinbot run`): PyGithub over real HTTP to the GitHub fake, digests from a
real registry; named groups, labels and reviewers per rule, and what a repository's own
rules may do."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import cmarkgfm
import pytest

from pinbot.config import load_config_text
from pinbot.errors import ProblemKind
from pinbot.prbody import parse_state
from pinbot.report import run_summary
from tests.bot.test_run import run_bot, write_config
from tests.support.github_fake import GitHubFake
from tests.support.registry import RunningRegistry

_names = itertools.count()


@pytest.fixture
def fake() -> Iterator[GitHubFake]:
    with GitHubFake() as running:
        running.create_org("acme")
        for login in ("octo", "platform-lead", "cache-team"):
            running.create_user(login)
        yield running


def repository(
    fake: GitHubFake, registry: RunningRegistry, extra: dict[str, bytes] | None = None
) -> str:
    """A repository whose Dockerfile uses two base images and one third-party image."""
    name = f"svc{next(_names)}"
    for image in (f"base{name}/python", f"base{name}/node", f"vendor{name}/cache"):
        registry.push_image(image, "1", seed=f"{image}-1")
    dockerfile = "".join(
        f"FROM {registry.ref(image, '1')}\n"
        for image in (f"base{name}/python", f"base{name}/node", f"vendor{name}/cache")
    )
    fake.create_repo("acme", name, {"Dockerfile": dockerfile.encode(), **(extra or {})})
    return name


def rules_text(name: str) -> str:
    return (
        "github:\n  labels: [dependencies]\n  reviewers: [octo]\n"
        "rules:\n"
        f"  - images: ['*/base{name}/*']\n    group: base\n    labels: [base-image]\n"
        "    reviewers: [platform-lead]\n"
        f"  - images: ['*/vendor{name}/*']\n    reviewers: [cache-team]\n"
    )


def test_a_named_group_gets_one_pull_request_with_its_rule_s_labels_and_reviewers(
    fake: GitHubFake, registry_http: RunningRegistry, tmp_path: Path
) -> None:
    name = repository(fake, registry_http)
    config = write_config(tmp_path, registry_http, rules_text(name))
    summary = run_bot(fake, config, "--repo", f"acme/{name}")
    assert not summary.failures and not summary.unchecked, run_summary.text(summary)

    by_branch = {pull.head_ref: pull for pull in fake.pulls("acme", name)}
    assert set(by_branch) == {"pinbot/group-base", "pinbot/image-digests"}
    group = by_branch["pinbot/group-base"]
    assert group.title == (
        f"Pin image digests in group base: {registry_http.host}/base{name}/python 1, "
        f"{registry_http.host}/base{name}/node 1"
    )
    assert [label.name for label in group.labels] == ["base-image"]
    assert [user.login for user in group.requested_reviewers] == ["platform-lead"]
    state = parse_state(group.body)
    assert state is not None and {u.image.rsplit("/", 1)[1] for u in state.updates} == {
        "python",
        "node",
    }
    rest = by_branch["pinbot/image-digests"]
    assert [label.name for label in rest.labels] == ["dependencies"]
    assert [user.login for user in rest.requested_reviewers] == ["cache-team"]
    dockerfile = fake.file_at("acme", name, "pinbot/group-base", "Dockerfile")
    assert dockerfile is not None and dockerfile.count(b"@sha256:") == 2

    # A second run finds both through the listing of open pull requests and writes nothing.
    fake.reset_calls()
    again = run_bot(fake, config, "--repo", f"acme/{name}")
    assert fake.write_calls() == [] and len(again.results[0].current) == 2


def test_a_rule_s_labels_reach_an_open_pull_request_the_next_time_it_is_written(
    fake: GitHubFake, registry_http: RunningRegistry, tmp_path: Path
) -> None:
    name = repository(fake, registry_http)
    plain = write_config(tmp_path, registry_http, "github:\n  labels: [dependencies]\n")
    run_bot(fake, plain, "--repo", f"acme/{name}")
    [first] = fake.pulls("acme", name)
    assert [label.name for label in first.labels] == ["dependencies"]
    text = (
        "github:\n  labels: [dependencies]\nrules:\n"
        f"  - images: ['*/vendor{name}/*']\n    labels: [third-party]\n    reviewers: [cache-team]\n"
    )
    ruled = write_config(tmp_path, registry_http, text)
    fake.reset_calls()
    run_bot(fake, ruled, "--repo", f"acme/{name}")
    assert fake.write_calls() == []  # a rule change alone writes nothing
    registry_http.push_image(f"vendor{name}/cache", "1", seed="moved")
    summary = run_bot(fake, ruled, "--repo", f"acme/{name}")
    assert summary.results[0].updated, run_summary.text(summary)
    [pull] = fake.pulls("acme", name)
    assert sorted(label.name for label in pull.labels) == ["dependencies", "third-party"]
    # The cache image was in the pull request already: its reviewer is not pinged by a rebuild.
    assert pull.requested_reviewers == []


def test_a_repository_s_rule_that_turns_automerge_on_is_refused_at_its_line(
    fake: GitHubFake, registry_http: RunningRegistry, tmp_path: Path
) -> None:
    own = b"github:\n  labels: [deps]\nrules:\n  - images: ['*']\n    automerge: true\n"
    name = repository(fake, registry_http, {".github/pinbot.yaml": own})
    config = write_config(tmp_path, registry_http, "github:\n  labels: [dependencies]\n")
    summary = run_bot(fake, config, "--repo", f"acme/{name}")
    [result] = summary.results
    [warning] = [p for p in result.problems if p.kind is ProblemKind.WARNING]
    assert str(warning).startswith(".github/pinbot.yaml:5: rules[0].automerge: ")
    assert "github.automerge-allowed" in str(warning)
    assert "this repository uses the run's configuration" in str(warning)
    [pull] = fake.pulls("acme", name)
    assert [label.name for label in pull.labels] == ["dependencies"]  # the run's, not the file's

    allowing = write_config(
        tmp_path, registry_http, "github:\n  labels: [dependencies]\n  automerge-allowed: true\n"
    )
    fake.reset_calls()
    summary = run_bot(fake, allowing, "--repo", f"acme/{name}", "--dry-run")
    assert not [p for p in summary.results[0].problems if p.kind is ProblemKind.WARNING]


def test_a_rule_that_now_ignores_an_image_closes_its_pull_request_with_a_comment(
    fake: GitHubFake, registry_http: RunningRegistry, tmp_path: Path
) -> None:
    name = repository(fake, registry_http)
    run_bot(fake, write_config(tmp_path, registry_http, "github:\n  group: image\n"), "--repo", f"acme/{name}")
    assert len(fake.pulls("acme", name)) == 3
    ignoring = write_config(
        tmp_path, registry_http, f"github:\n  group: image\nrules:\n  - images: ['*/vendor{name}/*']\n    ignore: true\n"
    )
    summary = run_bot(fake, ignoring, "--repo", f"acme/{name}")
    [closed] = summary.results[0].closed
    assert closed.reason == "ignored"
    pull = next(p for p in fake.pulls("acme", name) if p.number == closed.number)
    assert pull.state == "closed" and not pull.merged
    assert pull.head_ref not in fake.repo("acme", name).refs
    shown = cmarkgfm.github_flavored_markdown_to_html(pull.comments[-1].body)
    assert "what it proposed is not proposed now" in shown
    assert f"/vendor{name}/cache:1</code> (<code>Dockerfile:3</code>): left alone now (<code>ignored by rules[0]</code>)" in shown
    state = parse_state(pull.body)
    assert state is not None and state.closed == "ignored"  # pinbot's close, not a person's
    # The other images' pull requests are as they were.
    assert sum(p.state == "open" for p in fake.pulls("acme", name)) == 2


def test_an_update_replaced_inside_the_settle_window_is_dropped_saying_until_when(
    fake: GitHubFake, registry_http: RunningRegistry, tmp_path: Path
) -> None:
    name = f"settle{next(_names)}"
    registry_http.push_image(f"base{name}/python", "1", seed=f"{name}-python")
    pinned = registry_http.push_image(f"vendor{name}/cache", "1", seed=f"{name}-cache-0").digest
    dockerfile = (
        f"FROM {registry_http.ref(f'base{name}/python', '1')}\n"
        f"FROM {registry_http.ref(f'vendor{name}/cache', '1')}@{pinned}\n"
    )
    fake.create_repo("acme", name, {"Dockerfile": dockerfile.encode()})
    registry_http.push_image(f"vendor{name}/cache", "1", seed=f"{name}-cache-1")
    run_bot(fake, write_config(tmp_path, registry_http, ""), "--repo", f"acme/{name}")
    [opened] = fake.pulls("acme", name)
    state = parse_state(opened.body)
    assert state is not None and len(state.updates) == 2  # python pinned, cache bumped
    # The cache tag moves again; a rule now wants its digests to settle for three days.
    built = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")  # built just now: it settles first
    newest = registry_http.push_image(
        f"vendor{name}/cache", "1", seed=f"{name}-cache-2", created=built
    ).digest
    settle = load_config_text(
        f"registries:\n  {registry_http.host}:\n    insecure: true\n"
        f"rules:\n  - images: ['*/vendor{name}/*']\n    min-age: 3d\n",
        "pinbot.yaml",
        accept_planned=True,
    )
    summary = run_bot(fake, settle, "--repo", f"acme/{name}")
    [result] = summary.results
    # The python pin still stands: the pull request is updated, and says what it dropped.
    assert [a.number for a in result.updated] == [opened.number]
    [waits] = result.waiting
    assert waits.startswith(f"Dockerfile:2:6: {registry_http.host}/vendor{name}/cache:1@{pinned}: {newest} waits until ")
    assert waits.endswith(" (min-age 3d)")
    pull = fake.pulls("acme", name)[0]
    state = parse_state(pull.body)
    assert state is not None and [u.image.rsplit("/", 1)[1] for u in state.updates] == ["python"]
    shown = cmarkgfm.github_flavored_markdown_to_html(pull.comments[-1].body)
    assert "No longer proposed here:" in shown
    assert f"the tag moved to <code>{newest[:19]}</code> inside its settle window; " in shown
    assert "(min-age 3d)" in shown

    # Said once: a run with nothing new writes nothing, and the cache digest still waits.
    fake.reset_calls()
    run_bot(fake, settle, "--repo", f"acme/{name}")
    assert fake.write_calls() == []
