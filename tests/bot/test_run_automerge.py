"""Automerge end to end (`pinbot run`): PyGithub over real HTTP to the GitHub fake, digests from
a real registry; statuses and check runs green, red and pending, reviews, a person's commit,
GitHub's native auto-merge allowed or not, first pins with and without permission."""

from __future__ import annotations

from pathlib import Path

import cmarkgfm
import pytest

from pinbot.bot.result import MergeOutcomeKind, RepositoryResult
from pinbot.config import Config
from pinbot.report import run_summary
from tests.bot.test_run import BRANCH, World, run_bot, write_config
from tests.support.github_fake import GitHubFake
from tests.support.registry import RunningRegistry

AUTOMERGE = "github:\n  automerge: true\n  automerge-first-pin: true\n"


@pytest.fixture
def config(tmp_path: Path, registry_http: RunningRegistry) -> Config:
    return write_config(tmp_path, registry_http, AUTOMERGE)


class Repo:
    """A World with its pinbot pull request, and what CI and people do to it."""

    def __init__(self, fake: GitHubFake, registry: RunningRegistry, config: Config) -> None:
        self.fake, self.config = fake, config
        self.world = World(fake, registry)
        self.name = self.world.name

    def run(self, *argv: str) -> RepositoryResult:
        summary = run_bot(self.fake, self.config, "--repo", self.world.full_name, *argv)
        assert not summary.failures, run_summary.text(summary)
        [result] = summary.results
        self.summary = summary
        return result

    @property
    def head(self) -> str:
        return self.fake.repo("acme", self.name).refs[BRANCH]

    def pull(self):  # type: ignore[no-untyped-def]
        [pull] = self.world.pulls()
        return pull

    def status(self, context: str, state: str) -> None:
        self.fake.set_status("acme", self.name, self.head, context, state)

    def check(self, name: str, status: str, conclusion: str | None = None) -> None:
        self.fake.set_check_run("acme", self.name, self.head, name, status, conclusion)

    def green(self) -> None:
        self.status("ci/build", "success")
        self.check("test", "completed", "success")


def outcome(result: RepositoryResult) -> tuple[MergeOutcomeKind, str]:
    [only] = result.merges
    return only.kind, only.reason


def test_merged_by_pinbot_on_a_later_run_once_every_check_passed(
    fake: GitHubFake, registry_http: RunningRegistry, config: Config
) -> None:
    repo = Repo(fake, registry_http, config)
    first = repo.run()
    assert first.opened
    assert outcome(first) == (MergeOutcomeKind.WAITING, "just written: its checks run first")
    head = repo.head
    repo.green()

    result = repo.run()
    assert outcome(result) == (
        MergeOutcomeKind.MERGED,
        "all 2 statuses and checks on its head passed (squash)",
    )
    pull = repo.pull()
    assert pull.merged and pull.merged_by.login == "pinbot-bot"
    squash = fake.repo("acme", repo.name).objects.commits[pull.merge_commit_sha]
    assert len(squash.parents) == 1  # squashed, not a merge commit
    assert f"@{repo.world.digest()}".encode() in repo.world.file_at("main", "Dockerfile")
    assert BRANCH not in fake.repo("acme", repo.name).refs  # pinbot's branch is gone
    merge_calls = [c for c in fake.calls if c.method == "PUT" and c.path.endswith("/merge")]
    assert [c.status for c in merge_calls] == [200]
    assert head == pull.head_sha  # merged at the head it judged

    text = run_summary.text(repo.summary)
    assert f"  merged: {pull_url(repo)}: all 2 statuses and checks" in text
    assert "0 closed, 1 merged, 0 failed" in run_summary.headline(repo.summary)
    progress = run_summary.progress_line(result, repo.summary.calls.counted(repo.world.full_name))
    assert "1 PR merged" in progress
    assert "Automerge:" in run_summary.markdown(repo.summary)

    # Nothing is left to do: the next run writes nothing.
    fake.reset_calls()
    repo.run()
    assert fake.write_calls() == []


def pull_url(repo: Repo) -> str:
    return f"{repo.fake.url}/acme/{repo.name}/pull/{repo.pull().number}"


def test_a_failed_check_is_never_merged_and_a_rerun_that_passes_is(
    fake: GitHubFake, registry_http: RunningRegistry, config: Config
) -> None:
    repo = Repo(fake, registry_http, config)
    repo.run()
    repo.status("ci/build", "success")
    repo.check("test", "completed", "failure")
    assert outcome(repo.run()) == (MergeOutcomeKind.NOT_MERGED, "failed: test")
    assert repo.pull().state == "open"
    repo.check("test", "completed", "success")  # re-run
    assert outcome(repo.run())[0] is MergeOutcomeKind.MERGED


@pytest.mark.parametrize(
    ("setup", "reason"),
    [
        (lambda repo: repo.check("test", "in_progress"), "pending: test"),
        (lambda repo: repo.status("ci/build", "pending"), "pending: ci/build"),
        (lambda repo: None, "no status or check has reported on its head yet"),
        (lambda repo: repo.status("ci/build", "error"), "failed: ci/build"),
        (lambda repo: repo.check("test", "completed", "cancelled"), "failed: test"),
    ],
)
def test_pending_or_missing_checks_wait_and_errors_refuse(
    fake: GitHubFake, registry_http: RunningRegistry, config: Config, setup: object, reason: str
) -> None:
    repo = Repo(fake, registry_http, config)
    repo.run()
    setup(repo)  # type: ignore[operator]
    fake.reset_calls()
    kind, said = outcome(repo.run())
    assert said == reason and kind is not MergeOutcomeKind.MERGED
    assert fake.write_calls() == []
    assert repo.pull().state == "open"


def test_a_reviewer_requesting_changes_stops_the_merge_until_they_approve(
    fake: GitHubFake, registry_http: RunningRegistry, config: Config
) -> None:
    repo = Repo(fake, registry_http, config)
    repo.run()
    repo.green()
    fake.add_review("acme", repo.name, repo.pull().number, "alice", "CHANGES_REQUESTED")
    fake.add_review("acme", repo.name, repo.pull().number, "alice", "COMMENTED")
    assert outcome(repo.run()) == (MergeOutcomeKind.NOT_MERGED, "changes requested by alice")
    fake.add_review("acme", repo.name, repo.pull().number, "alice", "APPROVED")
    assert outcome(repo.run())[0] is MergeOutcomeKind.MERGED


def test_a_person_s_commit_on_the_branch_is_never_merged(
    fake: GitHubFake, registry_http: RunningRegistry, config: Config
) -> None:
    repo = Repo(fake, registry_http, config)
    repo.run()
    fake.commit_files("acme", repo.name, BRANCH, {"NOTES.md": b"mine\n"}, "a person's commit")
    repo.green()
    result = repo.run()
    assert outcome(result) == (
        MergeOutcomeKind.NOT_MERGED,
        "a commit pinbot did not make is on its branch",
    )
    assert not [c for c in fake.calls if c.path.endswith("/merge")]
    assert repo.pull().state == "open"


def test_a_first_pin_waits_for_a_person_unless_its_rule_allows_it(
    fake: GitHubFake, registry_http: RunningRegistry, tmp_path: Path
) -> None:
    plain = write_config(tmp_path, registry_http, "github:\n  automerge: true\n")
    repo = Repo(fake, registry_http, plain)
    repo.run()
    repo.green()
    reason = "it pins references for the first time, which automerge-first-pin does not allow"
    assert outcome(repo.run()) == (MergeOutcomeKind.NOT_MERGED, reason)
    assert repo.pull().state == "open"

    repo.config = write_config(
        tmp_path,
        registry_http,
        f"github:\n  automerge: true\nrules:\n  - images: ['{registry_http.host}/*']\n"
        "    automerge-first-pin: true\n",
    )
    assert outcome(repo.run())[0] is MergeOutcomeKind.MERGED


def test_native_auto_merge_is_turned_on_and_github_merges_when_required_checks_pass(
    fake: GitHubFake, registry_http: RunningRegistry, config: Config
) -> None:
    repo = Repo(fake, registry_http, config)
    rules = fake.merge_rules("acme", repo.name)
    rules.allow_auto_merge = True
    rules.required_checks = ["ci/build"]
    result = repo.run()
    assert outcome(result) == (
        MergeOutcomeKind.AUTO_MERGE_ON,
        "GitHub merges it once its required checks pass",
    )
    graphql = [c for c in fake.calls if c.path == "/graphql"]
    assert [c.status for c in graphql] == [200]
    pull = repo.pull()
    assert pull.auto_merge is not None and pull.auto_merge.merge_method == "squash"
    assert "1 PR set to auto-merge" in run_summary.progress_line(result, 0)

    repo.status("ci/build", "success")  # GitHub merges it now, not pinbot
    pull = repo.pull()
    assert pull.merged and pull.merged_by.login == "pinbot-bot"
    fake.reset_calls()
    repo.run()
    assert fake.write_calls() == []


def test_native_auto_merge_is_turned_off_when_a_check_fails(
    fake: GitHubFake, registry_http: RunningRegistry, config: Config
) -> None:
    repo = Repo(fake, registry_http, config)
    rules = fake.merge_rules("acme", repo.name)
    rules.allow_auto_merge = True
    rules.required_checks = ["ci/build"]
    repo.run()
    repo.check("preview", "completed", "failure")  # not required: GitHub would not wait for it
    result = repo.run()
    [said] = result.merges
    assert (said.kind, said.reason, said.turned_off) == (
        MergeOutcomeKind.NOT_MERGED,
        "failed: preview",
        True,
    )
    pull = repo.pull()
    assert pull.auto_merge is None
    shown = cmarkgfm.github_flavored_markdown_to_html(pull.comments[-1].body)
    assert shown.startswith("<p>pinbot turned auto-merge off: failed: preview. ")
    repo.status("ci/build", "success")
    assert not repo.pull().merged  # off: nothing merges it behind pinbot's back


def test_native_auto_merge_with_nothing_to_wait_for_falls_back_to_pinbot_merging(
    fake: GitHubFake, registry_http: RunningRegistry, config: Config
) -> None:
    repo = Repo(fake, registry_http, config)
    fake.merge_rules("acme", repo.name).allow_auto_merge = True  # but no required checks
    kind, reason = outcome(repo.run())
    assert kind is MergeOutcomeKind.WAITING
    assert "Pull request Pull request is in clean status" in reason
    repo.green()
    assert outcome(repo.run())[0] is MergeOutcomeKind.MERGED


def test_a_dry_run_says_what_it_would_merge_and_writes_nothing(
    fake: GitHubFake, registry_http: RunningRegistry, config: Config
) -> None:
    repo = Repo(fake, registry_http, config)
    repo.run()
    repo.green()
    fake.reset_calls()
    result = repo.run("--dry-run")
    assert fake.write_calls() == []
    [planned] = result.planned
    assert run_summary.planned_text(planned) == (
        f"would merge (squash) pull request #{repo.pull().number} on {BRANCH}: "
        "all 2 statuses and checks on its head passed"
    )
    assert repo.pull().state == "open"
