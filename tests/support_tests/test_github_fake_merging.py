"""The GitHub fake's merge rules, driven through PyGithub over real HTTP: statuses, check runs,
reviews, mergeable state, merging with the head sha, and native auto-merge over GraphQL."""

from __future__ import annotations

from collections.abc import Iterator

import github
import pytest
from github import GithubException

from tests.support.github_fake import GitHubFake
from tests.support_tests.test_github_fake import client


@pytest.fixture
def fake() -> Iterator[GitHubFake]:
    with GitHubFake() as running:
        running.create_org("acme")
        running.create_user("alice")
        running.create_repo("acme", "web", {"Dockerfile": b"FROM nginx:1.27\n"})
        running.commit_files("acme", "web", "bump", {"Dockerfile": b"FROM nginx:1.28\n"}, "bump")
        yield running


def opened(fake: GitHubFake) -> github.PullRequest.PullRequest:
    repo = client(fake).get_repo("acme/web")
    return repo.create_pull(title="Bump", body="", head="bump", base="main")


def test_combined_status_is_the_newest_status_per_context(fake: GitHubFake) -> None:
    pull = opened(fake)
    commit = client(fake).get_repo("acme/web").get_commit(pull.head.sha)
    empty = commit.get_combined_status()
    assert (empty.state, empty.total_count) == ("pending", 0)  # none at all reads pending
    fake.set_status("acme", "web", pull.head.sha, "ci/build", "pending")
    fake.set_status("acme", "web", pull.head.sha, "ci/lint", "success")
    assert commit.get_combined_status().state == "pending"
    fake.set_status("acme", "web", pull.head.sha, "ci/build", "success")
    status = commit.get_combined_status()
    assert status.state == "success" and status.total_count == 2
    assert {s.context: s.state for s in status.statuses} == {
        "ci/build": "success",
        "ci/lint": "success",
    }
    fake.set_status("acme", "web", pull.head.sha, "ci/lint", "error")
    assert commit.get_combined_status().state == "failure"


def test_check_runs_list_the_newest_run_per_name(fake: GitHubFake) -> None:
    pull = opened(fake)
    fake.set_check_run("acme", "web", pull.head.sha, "test", "completed", "failure")
    fake.set_check_run("acme", "web", pull.head.sha, "test", "in_progress")
    fake.set_check_run("acme", "web", pull.head.sha, "lint", "completed", "success")
    runs = client(fake).get_repo("acme/web").get_commit(pull.head.sha).get_check_runs()
    assert runs.totalCount == 2
    assert sorted((r.name, r.status, r.conclusion) for r in runs) == [
        ("lint", "completed", "success"),
        ("test", "in_progress", None),
    ]


def test_reviews_and_the_mergeable_state_they_and_required_checks_make(fake: GitHubFake) -> None:
    pull = opened(fake)
    rules = fake.merge_rules("acme", "web")
    rules.required_checks = ["ci/build"]
    rules.required_approvals = 1
    repo = client(fake).get_repo("acme/web")
    assert pull.mergeable_state == "unknown"  # the first answer: computed in the background
    assert repo.get_pull(pull.number).mergeable_state == "blocked"
    fake.set_status("acme", "web", pull.head.sha, "ci/build", "success")
    fake.add_review("acme", "web", pull.number, "alice", "CHANGES_REQUESTED")
    assert [r.state for r in repo.get_pull(pull.number).get_reviews()] == ["CHANGES_REQUESTED"]
    assert repo.get_pull(pull.number).mergeable_state == "blocked"
    fake.add_review("acme", "web", pull.number, "alice", "APPROVED")
    fake.set_check_run("acme", "web", pull.head.sha, "optional", "queued")
    assert repo.get_pull(pull.number).mergeable_state == "unstable"  # not required: no block
    fake.set_check_run("acme", "web", pull.head.sha, "optional", "completed", "skipped")
    assert repo.get_pull(pull.number).mergeable_state == "clean"


def test_a_merge_names_the_head_it_means_and_waits_for_required_checks(fake: GitHubFake) -> None:
    pull = opened(fake)
    fake.merge_rules("acme", "web").required_checks = ["ci/build"]
    with pytest.raises(GithubException) as blocked:
        pull.merge(merge_method="squash", sha=pull.head.sha)
    assert blocked.value.status == 405 and "ci/build" in str(blocked.value.data)
    fake.set_status("acme", "web", pull.head.sha, "ci/build", "success")
    fake.commit_files("acme", "web", "bump", {"README.md": b"pushed\n"}, "a person's push")
    with pytest.raises(GithubException) as moved:
        pull.merge(merge_method="squash", sha=pull.head.sha)  # the head it saw is gone
    assert moved.value.status == 409
    head = fake.repo("acme", "web").refs["bump"]
    fake.set_status("acme", "web", head, "ci/build", "success")
    assert pull.merge(merge_method="squash", sha=head).merged
    assert fake.file_at("acme", "web", "main", "README.md") == b"pushed\n"


def test_native_auto_merge_is_refused_where_the_repository_does_not_allow_it(
    fake: GitHubFake,
) -> None:
    pull = opened(fake)
    with pytest.raises(GithubException) as refused:
        pull.enable_automerge(merge_method="SQUASH", expected_head_oid=pull.head.sha)
    [error] = refused.value.data["errors"]  # type: ignore[index]
    assert error["message"] == "Auto merge is not allowed for this repository"
    assert fake.pulls("acme", "web")[0].auto_merge is None


def test_native_auto_merge_merges_once_required_checks_pass(fake: GitHubFake) -> None:
    pull = opened(fake)
    rules = fake.merge_rules("acme", "web")
    rules.allow_auto_merge = True
    rules.required_checks = ["ci/build"]
    assert client(fake).get_repo("acme/web").allow_auto_merge is True
    with pytest.raises(GithubException) as moved:
        pull.enable_automerge(merge_method="SQUASH", expected_head_oid="0" * 40)
    assert "Head branch was modified" in str(moved.value.data)
    pull.enable_automerge(merge_method="SQUASH", expected_head_oid=pull.head.sha)
    again = client(fake).get_repo("acme/web").get_pull(pull.number)
    assert again.raw_data["auto_merge"]["merge_method"] == "squash"
    assert again.raw_data["auto_merge"]["enabled_by"]["login"] == "pinbot-bot"
    fake.set_check_run("acme", "web", pull.head.sha, "ci/build", "completed", "success")
    [merged] = fake.pulls("acme", "web")
    assert merged.merged and merged.merged_by is not None and merged.merged_by.login == "pinbot-bot"
    assert fake.file_at("acme", "web", "main", "Dockerfile") == b"FROM nginx:1.28\n"


def test_native_auto_merge_is_refused_when_there_is_nothing_to_wait_for(fake: GitHubFake) -> None:
    pull = opened(fake)
    fake.merge_rules("acme", "web").allow_auto_merge = True
    with pytest.raises(GithubException) as clean:
        pull.enable_automerge(merge_method="MERGE")
    assert "Pull request Pull request is in clean status" in str(clean.value.data)
    fake.merge_rules("acme", "web").required_checks = ["ci/build"]
    pull.enable_automerge(merge_method="MERGE")
    pull.disable_automerge()
    assert fake.pulls("acme", "web")[0].auto_merge is None
    fake.set_status("acme", "web", pull.head.sha, "ci/build", "success")
    assert not fake.pulls("acme", "web")[0].merged  # turned off: nothing merges it
