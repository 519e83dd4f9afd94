"""The bot end to end (`pinbot run`): PyGithub over real HTTP to the GitHub fake, digests from a real registry."""

from __future__ import annotations

import html
import itertools
import os
import re
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import cmarkgfm
import pytest

from pinbot.bot.run import RunSummary
from pinbot.bot.run import run_bot as run_library
from pinbot.cli import build_parser
from pinbot.commands.run import report, run_options
from pinbot.config import Config, load_config
from pinbot.errors import ProblemKind
from pinbot.forge.github import Credentials
from pinbot.notes import timestamp
from pinbot.prbody import parse_state, parse_time
from pinbot.report import run_summary
from tests.support.fault_proxy import FaultProxy
from tests.support.github_fake import GitHubFake
from tests.support.registry import RunningRegistry

_names = itertools.count()
_config_files = itertools.count()
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def config(tmp_path: Path, registry_http: RunningRegistry) -> Config:
    path = tmp_path / "pinbot.yaml"
    path.write_text(
        f"registries:\n  {registry_http.host}:\n    insecure: true\n"
        "github:\n  labels: [dependencies, images]\n  reviewers: [octo]\n  assignees: [octo]\n",
        encoding="utf-8",
    )
    return load_config(path)


def run_bot(fake: GitHubFake, config: Config, *argv: str) -> RunSummary:
    args = build_parser().parse_args(["run", *argv, "--write-interval", "0"])
    credentials = Credentials(token=fake.token, api_url=fake.url)
    return run_library(config, credentials, run_options(args))


def write_config(tmp_path: Path, registry: RunningRegistry, text: str) -> Config:
    """A configuration file trusting `registry` over plain HTTP, followed by `text`."""
    path = tmp_path / f"pinbot{next(_config_files)}.yaml"
    path.write_text(
        f"registries:\n  {registry.host}:\n    insecure: true\n{text}", encoding="utf-8"
    )
    return load_config(path)


def rerun_writing_nothing(fake: GitHubFake, config: Config, *argv: str) -> RunSummary:
    """Run again with the call log cleared, and prove the run wrote nothing to GitHub."""
    fake.reset_calls()
    summary = run_bot(fake, config, *argv)
    assert fake.write_calls() == []
    return summary


class World:
    """One repository on the fake whose Dockerfile and manifest use one registry image."""

    def __init__(
        self,
        fake: GitHubFake,
        registry: RunningRegistry,
        name: str | None = None,
        extra: dict[str, bytes] | None = None,
    ) -> None:
        self.fake = fake
        self.registry = registry
        self.name = name or f"web{next(_names)}"
        self.image = f"acme/{self.name}"
        self.registry.push_image(
            self.image, "1.0", seed="first", labels={"org.opencontainers.image.version": "1.0.0"}
        )
        ref = registry.ref(self.image, "1.0")
        self.files = {
            "Dockerfile": f"# build\nFROM {ref} AS base\nRUN true\n".encode(),
            "deploy/app.yaml": (
                "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n"
                "  template:\n    spec:\n      containers:\n"
                f"        - name: web\n          image: {ref}\n"
            ).encode(),
            "README.md": b"# web\n",
            "src/main.py": b"print('hello')\n",
            **(extra or {}),
        }
        fake.create_repo("acme", self.name, self.files)
        fake.create_user("octo")

    @property
    def full_name(self) -> str:
        return f"acme/{self.name}"

    def digest(self) -> str:
        return self.registry.skopeo_raw_digest(f"{self.image}:1.0")

    def move_tag(self, seed: str) -> str:
        return self.registry.push_image(self.image, "1.0", seed=seed).digest

    def pulls(self) -> list:  # type: ignore[type-arg]
        return self.fake.pulls("acme", self.name)

    def file_at(self, ref: str, path: str) -> bytes:
        data = self.fake.file_at("acme", self.name, ref, path)
        assert data is not None
        return data


def first_run(fake: GitHubFake, registry: RunningRegistry, config: Config) -> World:
    """A fresh repository the bot has run over once (so its pull request is open)."""
    world = World(fake, registry)
    run_bot(fake, config, "--repo", world.full_name)
    return world


BRANCH = "pinbot/image-digests"


def table_rows(markdown: str) -> list[list[str]]:
    """The cells of the tables in `markdown` as GitHub renders them, as plain text."""
    rendered = cmarkgfm.github_flavored_markdown_to_html(markdown)
    return [
        [html.unescape(re.sub(r"<[^>]+>", "", cell)) for cell in re.findall(r"<t[dh]>(.*?)</t[dh]>", row)]
        for row in re.findall(r"<tr>(.*?)</tr>", rendered, re.DOTALL)
    ]


def test_first_run_opens_one_pull_request_with_the_right_files_and_body(
    fake: GitHubFake, config: Config, registry_http: RunningRegistry
) -> None:
    world = World(fake, registry_http)
    summary = run_bot(fake, config, "--repo", world.full_name)

    assert not summary.failures, run_summary.text(summary)
    [result] = summary.results
    assert len(result.opened) == 1
    [pull] = world.pulls()
    assert pull.state == "open" and pull.head_ref == BRANCH and pull.base_ref == "main"
    digest = world.digest()
    ref = registry_http.ref(world.image, "1.0")
    assert (
        world.file_at(BRANCH, "Dockerfile")
        == f"# build\nFROM {ref}@{digest} AS base\nRUN true\n".encode()
    )
    assert world.file_at(BRANCH, "deploy/app.yaml") == world.files["deploy/app.yaml"].replace(
        ref.encode(), f"{ref}@{digest}".encode()
    )
    assert world.file_at(BRANCH, "README.md") == world.files["README.md"]
    assert world.file_at("main", "Dockerfile") == world.files["Dockerfile"]

    assert pull.title == f"Pin image digests: {registry_http.host}/{world.image} 1.0"
    assert pull.body is not None
    assert "| `Dockerfile:2` |" in pull.body and "| `deploy/app.yaml:10` |" in pull.body
    assert f"pinned to `{digest[:19]}`" in pull.body
    assert "<details>" in pull.body  # notes for the first pin
    state = parse_state(pull.body)
    assert state is not None
    assert {(u.file, u.line, u.old, u.new) for u in state.updates} == {
        ("Dockerfile", 2, None, digest),
        ("deploy/app.yaml", 10, None, digest),
    }
    assert sorted(label.name for label in pull.labels) == ["dependencies", "images"]
    assert [u.login for u in pull.requested_reviewers] == ["octo"]
    assert [u.login for u in pull.assignees] == ["octo"]

    # One ref, one recursive tree, blobs for the two candidate files only.
    reads = [c for c in fake.calls if c.method == "GET" and "/git/" in c.path]
    assert sum("/git/trees/" in c.path for c in reads) == 1
    assert sum("/git/blobs/" in c.path for c in reads) == 2


def test_second_run_with_nothing_changed_makes_no_write_calls(
    fake: GitHubFake, config: Config, registry_http: RunningRegistry
) -> None:
    world = first_run(fake, registry_http, config)
    summary = rerun_writing_nothing(fake, config, "--repo", world.full_name)
    assert summary.results[0].current and not summary.results[0].updated
    assert summary.calls.writes[world.full_name] == 0


def test_upstream_tag_moves_and_the_same_pull_request_is_updated(
    fake: GitHubFake, config: Config, registry_http: RunningRegistry
) -> None:
    world = first_run(fake, registry_http, config)
    first = world.digest()
    second = world.move_tag("second")
    assert second != first

    summary = run_bot(fake, config, "--repo", world.full_name)
    assert summary.results[0].updated and not summary.results[0].opened
    [pull] = world.pulls()
    assert pull.state == "open"
    assert f"@{second}" in world.file_at(BRANCH, "Dockerfile").decode()
    assert pull.body is not None and f"`{second[:19]}`" in pull.body
    state = parse_state(pull.body)
    assert state is not None and {u.new for u in state.updates} == {second}


def test_pull_request_closed_by_a_human_is_not_reopened_but_a_newer_digest_is_proposed(
    fake: GitHubFake, config: Config, registry_http: RunningRegistry
) -> None:
    world = first_run(fake, registry_http, config)
    [pull] = world.pulls()
    fake.close_pull("acme", world.name, pull.number)

    summary = rerun_writing_nothing(fake, config, "--repo", world.full_name)
    assert len(world.pulls()) == 1
    assert summary.results[0].declined

    newer = world.move_tag("after-close")
    summary = run_bot(fake, config, "--repo", world.full_name)
    assert summary.results[0].opened
    pulls = world.pulls()
    assert [p.state for p in pulls] == ["closed", "open"]
    assert f"@{newer}" in world.file_at(BRANCH, "Dockerfile").decode()


def test_merged_pull_request_means_the_next_run_opens_nothing(
    fake: GitHubFake, config: Config, registry_http: RunningRegistry
) -> None:
    world = first_run(fake, registry_http, config)
    [pull] = world.pulls()
    fake.close_pull("acme", world.name, pull.number, merged=True)
    assert f"@{world.digest()}" in world.file_at("main", "Dockerfile").decode()

    summary = rerun_writing_nothing(fake, config, "--repo", world.full_name)
    assert not summary.results[0].opened
    assert len(world.pulls()) == 1


def test_updates_already_on_the_base_close_the_pull_request(
    fake: GitHubFake, config: Config, registry_http: RunningRegistry
) -> None:
    world = first_run(fake, registry_http, config)
    # A human pins the same digests by hand on main.
    fake.commit_files(
        "acme", world.name, "main", world.fake.files_at("acme", world.name, BRANCH), "pin by hand"
    )
    summary = run_bot(fake, config, "--repo", world.full_name)
    assert summary.results[0].closed
    [pull] = world.pulls()
    assert pull.state == "closed" and not pull.merged
    assert pull.comments and "already has these digests" in pull.comments[0].body
    assert BRANCH not in fake.repo("acme", world.name).refs
    state = parse_state(pull.body)
    assert state is not None and state.closed == "on-base"

    # pinbot's own close is not a human's answer: a newer digest is proposed again.
    world.move_tag("after-pinbot-close")
    summary = run_bot(fake, config, "--repo", world.full_name)
    assert summary.results[0].opened


def test_base_branch_moves_under_the_edited_files_and_the_branch_is_rebuilt(
    fake: GitHubFake, config: Config, registry_http: RunningRegistry
) -> None:
    world = first_run(fake, registry_http, config)
    repo = fake.repo("acme", world.name)
    before = repo.refs[BRANCH]

    # Elsewhere in the tree: the branch still merges cleanly and is left alone.
    fake.commit_files("acme", world.name, "main", {"src/main.py": b"print('bye')\n"}, "unrelated")
    rerun_writing_nothing(fake, config, "--repo", world.full_name)
    assert repo.refs[BRANCH] == before

    # The Dockerfile itself changes on main: the branch is rebuilt on the new base.
    ref = registry_http.ref(world.image, "1.0")
    new_dockerfile = f"# build v2\nFROM {ref} AS base\nRUN make\n".encode()
    head = fake.commit_files("acme", world.name, "main", {"Dockerfile": new_dockerfile}, "change")
    summary = run_bot(fake, config, "--repo", world.full_name)
    assert summary.results[0].updated
    after = repo.refs[BRANCH]
    assert after != before
    assert repo.objects.commits[after].parents == (head,)
    assert world.file_at(BRANCH, "Dockerfile") == new_dockerfile.replace(
        ref.encode(), f"{ref}@{world.digest()}".encode()
    )
    assert world.file_at(BRANCH, "src/main.py") == b"print('bye')\n"
    [pull] = world.pulls()
    assert pull.state == "open"


def test_one_repository_failing_does_not_stop_the_others(
    fake: GitHubFake, config: Config, registry_http: RunningRegistry, tmp_path: Path
) -> None:
    good = World(fake, registry_http)
    frozen = World(fake, registry_http)
    fake.repo("acme", frozen.name).archived = True  # writes answer 403
    summary = run_bot(
        fake, config, "--repo", frozen.full_name, "--repo", "acme/missing", "--repo", good.full_name
    )
    by_name = {r.repository: r for r in summary.results}
    assert by_name[good.full_name].opened
    assert by_name[frozen.full_name].failure is not None
    assert "403" in str(by_name[frozen.full_name].failure)
    assert by_name["acme/missing"].failure is not None and "404" in str(by_name["acme/missing"].failure)
    assert len(summary.failures) == 2

    step = tmp_path / "summary.md"
    lines: list[str] = []
    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        report(summary, {"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(step)})
    lines = out.getvalue().splitlines()
    assert any(
        line.startswith(f"::warning title=pinbot {frozen.full_name} failed::") for line in lines
    )
    rows = table_rows(step.read_text())
    assert rows[0] == ["Repository", "Opened", "Updated", "Closed", "API calls", "Result"]
    assert [good.full_name, "1", "0", "0"] in [row[:4] for row in rows]


def test_unreachable_registry_for_one_repository_is_a_warning_and_others_proceed(
    fake: GitHubFake, config: Config, registry_http: RunningRegistry
) -> None:
    good = World(fake, registry_http)
    fake.create_repo("acme", "offline", {"Dockerfile": b"FROM 127.0.0.1:9/acme/none:1.0\n"})
    summary = run_bot(fake, config, "--repo", "acme/offline", "--repo", good.full_name)
    by_name = {r.repository: r for r in summary.results}
    assert by_name[good.full_name].opened
    offline = by_name["acme/offline"]
    assert offline.failure is None and not offline.opened
    [problem] = offline.problems
    assert problem.kind is ProblemKind.LOOKUP_FAILED and problem.file == "Dockerfile"


def test_shard_splits_a_fifty_repository_organisation_without_overlap_or_gap(
    fake: GitHubFake, config: Config
) -> None:
    names = {f"acme/svc-{i:02d}" for i in range(50)}
    for name in names:
        fake.create_repo("acme", name.split("/")[1], {"README.md": b"x\n"})
    seen: list[str] = []
    for index in range(4):
        summary = run_bot(fake, config, "--org", "acme", "--shard", f"{index}/4", "--dry-run")
        part = [r.repository for r in summary.results]
        assert part, "every shard gets some of fifty repositories"
        seen.extend(part)
    assert sorted(seen) == sorted(names)  # no gap, and (being a list) no overlap


def test_secondary_rate_limit_is_retried(
    fake: GitHubFake, config: Config, registry_http: RunningRegistry
) -> None:
    world = World(fake, registry_http)
    fake.inject_secondary_rate_limit(times=1, retry_after=1, method="POST")
    summary = run_bot(fake, config, "--repo", world.full_name)
    assert not summary.failures, run_summary.text(summary)
    assert summary.results[0].opened
    assert [c.status for c in fake.calls if c.method == "POST"][:2] == [403, 201]
    assert summary.calls.retries[world.full_name] == 1


def test_dry_run_writes_nothing_and_says_what_it_would_open(
    fake: GitHubFake, config: Config, registry_http: RunningRegistry
) -> None:
    world = World(fake, registry_http)
    summary = run_bot(fake, config, "--repo", world.full_name, "--dry-run")
    assert fake.write_calls() == []
    [planned] = map(run_summary.planned_text, summary.results[0].planned)
    assert planned.startswith(f"would open pull request on {BRANCH}: Pin image digests")
    assert "+FROM " in planned


def test_grouping_by_image_opens_one_pull_request_per_image(
    fake: GitHubFake, registry_http: RunningRegistry, tmp_path: Path
) -> None:
    config = write_config(tmp_path, registry_http, "github:\n  group: image\n")
    registry_http.push_image("acme/one", "1", seed="one")
    registry_http.push_image("acme/two", "2", seed="two")
    one, two = registry_http.ref("acme/one", "1"), registry_http.ref("acme/two", "2")
    fake.create_repo("acme", "grouped", {"Dockerfile": f"FROM {one}\nFROM {two}\n".encode()})
    summary = run_bot(fake, config, "--repo", "acme/grouped")
    assert len(summary.results[0].opened) == 2
    heads = sorted(p.head_ref for p in fake.pulls("acme", "grouped"))
    host = registry_http.host.replace(":", "-")
    assert heads == [f"pinbot/{host}-acme-one", f"pinbot/{host}-acme-two"]
    rerun_writing_nothing(fake, config, "--repo", "acme/grouped")


def test_commits_a_human_pushes_to_the_bot_branch_are_never_overwritten(
    fake: GitHubFake, config: Config, registry_http: RunningRegistry
) -> None:
    world = first_run(fake, registry_http, config)
    human = fake.commit_files("acme", world.name, BRANCH, {"NOTES.md": b"tweak\n"}, "human fix")
    world.move_tag("while-human-edits")
    summary = rerun_writing_nothing(fake, config, "--repo", world.full_name)
    assert fake.repo("acme", world.name).refs[BRANCH] == human
    assert any("commits pinbot did not make" in str(p) for p in summary.results[0].problems)


def test_the_command_exits_non_zero_when_a_repository_fails_and_writes_the_job_summary(
    fake: GitHubFake,
    config: Config,
    registry_http: RunningRegistry,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from pinbot.cli import main

    world = World(fake, registry_http)
    assert config.source is not None
    step = tmp_path / "step.md"
    monkeypatch.setenv("GITHUB_TOKEN", fake.token)
    monkeypatch.setenv("GITHUB_API_URL", fake.url)
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(step))
    argv = [
        "run",
        "--repo",
        world.full_name,
        "--write-interval",
        "0",
        "--config",
        str(config.source),
    ]
    assert main(argv) == 0
    assert main([*argv, "--repo", "acme/gone"]) == 1
    out = capsys.readouterr().out
    assert (
        "::warning title=pinbot acme/gone failed::acme/gone: reading the repository: HTTP 404"
        in out
    )
    assert fake.token not in out and fake.token not in step.read_text()
    assert step.read_text().count("## pinbot run") == 2


def _reads(fake: GitHubFake) -> list[tuple[int, str]]:
    return [(c.status, c.path) for c in fake.calls if c.method == "GET"]


def test_with_a_cache_a_no_change_run_costs_nothing_against_the_rate_limit(
    fake: GitHubFake, config: Config, registry_http: RunningRegistry, tmp_path: Path
) -> None:
    world = World(fake, registry_http)
    cache = str(tmp_path / "cache")
    run_bot(fake, config, "--repo", world.full_name, "--cache-dir", cache)
    # The run after opening sees its own pull request and pushes: those answers changed.
    run_bot(fake, config, "--repo", world.full_name, "--cache-dir", cache)

    fake.reset_calls()
    summary = run_bot(fake, config, "--repo", world.full_name, "--cache-dir", cache)
    assert summary.results[0].current and not summary.results[0].updated
    assert fake.write_calls() == []
    reads = _reads(fake)
    assert len(reads) == len(fake.calls) == 3  # repository, ref and pulls; trees and blobs unasked
    assert {status for status, _ in reads} == {304}
    assert summary.calls.counted(world.full_name) == 0
    assert summary.calls.not_modified[world.full_name] == 3
    assert summary.calls.cached[world.full_name] == 3  # one tree, two blobs
    assert "0 API calls (0 writes; 3 more answered 304, 3 read from the cache)" in run_summary.text(summary)

    # A change on the base branch is still seen: the ref answers 200 with the new commit.
    ref = registry_http.ref(world.image, "1.0")
    dockerfile = f"# build v2\nFROM {ref} AS base\nRUN make\n".encode()
    head = fake.commit_files("acme", world.name, "main", {"Dockerfile": dockerfile}, "change")
    fake.reset_calls()
    summary = run_bot(fake, config, "--repo", world.full_name, "--cache-dir", cache)
    assert summary.results[0].updated, run_summary.text(summary)
    reads = _reads(fake)
    assert (200, f"/repos/acme/{world.name}/git/ref/heads/main") in reads
    assert any(path.endswith(f"/git/trees/{head}") and status == 200 for status, path in reads)
    # Only the Dockerfile's blob is new; the manifest's is still served from the cache.
    assert sum("/git/blobs/" in path for _, path in reads) == 1
    assert world.file_at(BRANCH, "Dockerfile") == dockerfile.replace(
        ref.encode(), f"{ref}@{world.digest()}".encode()
    )


def test_a_refused_reviewer_is_a_warning_and_the_labels_and_assignees_still_apply(
    fake: GitHubFake, registry_http: RunningRegistry, tmp_path: Path
) -> None:
    github = "github:\n  labels: [dependencies]\n  reviewers: [ghost]\n  assignees: [octo]\n"
    config = write_config(tmp_path, registry_http, github)
    world = World(fake, registry_http)
    summary = run_bot(fake, config, "--repo", world.full_name)

    [result] = summary.results
    assert result.failure is None and not summary.failures, run_summary.text(summary)
    assert len(result.opened) == 1
    [warning] = [str(p) for p in result.problems if "refused" in p.message]
    assert "#1: GitHub refused the reviewers (ghost): HTTP 422" in warning
    reviewer_calls = [c for c in fake.calls if c.path.endswith("/requested_reviewers")]
    assert [c.status for c in reviewer_calls] == [422]
    [pull] = world.pulls()
    assert [label.name for label in pull.labels] == ["dependencies"]
    assert [u.login for u in pull.assignees] == ["octo"]
    assert not pull.requested_reviewers


def test_dry_run_prints_the_title_and_table_of_each_repository(
    fake: GitHubFake,
    config: Config,
    registry_http: RunningRegistry,
    capsys: pytest.CaptureFixture[str],
) -> None:
    one, two = World(fake, registry_http), World(fake, registry_http)
    summary = run_bot(fake, config, "--repo", one.full_name, "--repo", two.full_name, "--dry-run")
    assert fake.write_calls() == []
    report(summary, {})
    out = capsys.readouterr().out
    for world in (one, two):
        section = out.split(f"{world.full_name}: ok;", 1)[1].split("\nacme/", 1)[0]
        title = f"Pin image digests: {registry_http.host}/{world.image} 1.0"
        assert f"  would open pull request on {BRANCH}: {title}" in section
        assert "  | File | Image | Tag | Digest |" in section
        digest = world.digest()
        assert (
            f"  | `Dockerfile:2` | `{registry_http.host}/{world.image}` | `1.0` | pinned to " in section
        )
        assert f"`{digest[:19]}` |" in section
        assert "  +FROM " in section


# --- a repository's own settings file -----------------------------------------------------


SETTINGS = ".github/pinbot.yaml"


def _blob_reads(fake: GitHubFake, world: World) -> int:
    return sum(
        c.method == "GET" and c.path.startswith(f"/repos/{world.full_name}/git/blobs/")
        for c in fake.calls
    )


def test_a_repository_file_sets_its_own_pin_style_and_labels_and_a_sibling_keeps_the_run_s(
    fake: GitHubFake, config: Config, registry_http: RunningRegistry
) -> None:
    tuned = World(
        fake, registry_http, extra={SETTINGS: b"pin:\n  style: digest\ngithub:\n  labels: [deps]\n"}
    )
    sibling = World(fake, registry_http)
    fake.reset_calls()
    summary = run_bot(fake, config, "--repo", tuned.full_name, "--repo", sibling.full_name)
    assert not summary.failures, run_summary.text(summary)
    by_name = {r.repository: r for r in summary.results}
    assert by_name[tuned.full_name].opened and by_name[sibling.full_name].opened
    assert not by_name[tuned.full_name].problems, by_name[tuned.full_name].problems

    [pull] = tuned.pulls()
    name = f"{registry_http.host}/{tuned.image}"
    assert tuned.file_at(BRANCH, "Dockerfile") == (
        f"# build\nFROM {name}@{tuned.digest()} AS base\nRUN true\n".encode()
    )
    assert [label.name for label in pull.labels] == ["deps"]  # replaces, does not append
    assert [u.login for u in pull.requested_reviewers] == ["octo"]  # not set: the run's
    assert pull.body is not None and SETTINGS not in pull.body
    assert tuned.file_at(BRANCH, SETTINGS) == tuned.files[SETTINGS]

    [other] = sibling.pulls()
    ref = registry_http.ref(sibling.image, "1.0")
    assert f"FROM {ref}@{sibling.digest()} AS base" in sibling.file_at(BRANCH, "Dockerfile").decode()
    assert sorted(label.name for label in other.labels) == ["dependencies", "images"]

    # The settings file costs one blob read, and is not scanned as an image file.
    assert _blob_reads(fake, tuned) == 3 and _blob_reads(fake, sibling) == 2
    assert by_name[tuned.full_name].files == 2
    # One registry lookup for the two tags, whatever each repository's settings.
    assert summary.unique_tags == 2


def test_enabled_false_skips_the_repository_with_no_writes_and_leaves_its_pull_request(
    fake: GitHubFake, config: Config, registry_http: RunningRegistry
) -> None:
    world = first_run(fake, registry_http, config)
    [pull] = world.pulls()
    branch_head = fake.repo("acme", world.name).refs[BRANCH]
    fake.commit_files("acme", world.name, "main", {SETTINGS: b"enabled: false\n"}, "opt out")
    world.move_tag("while-disabled")

    summary = rerun_writing_nothing(fake, config, "--repo", world.full_name)
    [result] = summary.results
    assert result.skipped == f"{SETTINGS} sets enabled: false"
    assert not (result.opened or result.updated or result.closed or result.failure)
    assert summary.calls.writes[world.full_name] == 0
    # Only the branch and the settings file were read: no candidate blob, no pull request.
    assert _blob_reads(fake, world) == 1
    assert not any("/pulls" in c.path for c in fake.calls)
    [still] = world.pulls()
    assert still.state == "open" and still.body == pull.body
    assert fake.repo("acme", world.name).refs[BRANCH] == branch_head

    text = run_summary.text(summary)
    assert f"{world.full_name}: skipped ({SETTINGS} sets enabled: false)" in text
    assert "0 repositories scanned, 1 skipped by their own settings" in text
    [_, row] = table_rows(run_summary.markdown(summary))
    assert row[0] == world.full_name and row[-1] == f"skipped: {SETTINGS} sets enabled: false"


@pytest.mark.parametrize(
    ("settings", "line", "key"),
    [
        (
            "pin:\n  style: digest\nregistries:\n  127.0.0.1:9:\n    insecure: true\n",
            3,
            "registries",
        ),
        ("github:\n  labels: [deps]\n  branch-prefix: mine/\n", 3, "github.branch-prefix"),
        ("pin:\n  style: [digest\n", 3, "(yaml)"),
        ("pin:\n  style: sha\n", 2, "pin.style"),
    ],
)
def test_an_unusable_settings_file_is_a_warning_and_the_run_configuration_applies(
    fake: GitHubFake,
    config: Config,
    registry_http: RunningRegistry,
    settings: str,
    line: int,
    key: str,
) -> None:
    world = World(fake, registry_http, extra={SETTINGS: settings.encode()})
    summary = run_bot(fake, config, "--repo", world.full_name)
    assert not summary.failures, run_summary.text(summary)
    [result] = summary.results
    [warning] = [str(p) for p in result.problems if str(p).startswith(SETTINGS)]
    assert warning.startswith(f"{SETTINGS}:{line}: {key}: ")
    assert warning.endswith("(this repository uses the run's configuration)")
    assert len(result.problems) == 1  # the file is not also reported by a scanner
    assert len(result.opened) == 1
    ref = registry_http.ref(world.image, "1.0")
    assert f"FROM {ref}@{world.digest()} AS base" in world.file_at(BRANCH, "Dockerfile").decode()
    [pull] = world.pulls()
    assert sorted(label.name for label in pull.labels) == ["dependencies", "images"]
    assert pull.head_ref == BRANCH


def test_ignore_paths_in_a_root_settings_file_keep_a_path_out_of_the_pull_request(
    fake: GitHubFake, config: Config, registry_http: RunningRegistry
) -> None:
    world = World(fake, registry_http, extra={".pinbot.yaml": b"scan:\n  ignore-paths: [deploy/*]\n"})
    fake.reset_calls()
    summary = run_bot(fake, config, "--repo", world.full_name)
    [result] = summary.results
    assert result.opened and not result.problems, run_summary.text(summary)
    state = parse_state(world.pulls()[0].body or "")
    assert state is not None and {u.file for u in state.updates} == {"Dockerfile"}
    assert world.file_at(BRANCH, "deploy/app.yaml") == world.files["deploy/app.yaml"]
    assert _blob_reads(fake, world) == 2  # the settings file and the Dockerfile


def test_pin_untagged_in_one_repository_is_looked_up_in_the_shared_lookups(
    fake: GitHubFake, config: Config, registry_http: RunningRegistry
) -> None:
    registry_http.push_image("acme/untagged", "latest", seed="untagged")
    ref = registry_http.ref("acme/untagged", "latest").rsplit(":", 1)[0]
    dockerfile = f"FROM {ref}\n".encode()
    fake.create_repo(
        "acme",
        "opted-in",
        {"Dockerfile": dockerfile, SETTINGS: b"pin:\n  pin-untagged: true\n"},
    )
    fake.create_repo("acme", "default", {"Dockerfile": dockerfile})
    summary = run_bot(fake, config, "--repo", "acme/opted-in", "--repo", "acme/default")
    by_name = {r.repository: r for r in summary.results}
    assert by_name["acme/opted-in"].opened, run_summary.text(summary)
    assert not by_name["acme/default"].opened
    assert fake.pulls("acme", "default") == []
    pinned = fake.file_at("acme", "opted-in", BRANCH, "Dockerfile")
    assert pinned is not None and pinned.startswith(f"FROM {ref}:latest@sha256:".encode())
    assert summary.unique_tags == 1


def test_with_a_cache_an_unchanged_settings_file_costs_nothing(
    fake: GitHubFake, config: Config, registry_http: RunningRegistry, tmp_path: Path
) -> None:
    world = World(fake, registry_http, extra={SETTINGS: b"github:\n  labels: [deps]\n"})
    cache = str(tmp_path / "cache")
    run_bot(fake, config, "--repo", world.full_name, "--cache-dir", cache)
    run_bot(fake, config, "--repo", world.full_name, "--cache-dir", cache)
    fake.reset_calls()
    summary = run_bot(fake, config, "--repo", world.full_name, "--cache-dir", cache)
    assert summary.results[0].current, run_summary.text(summary)
    assert summary.calls.counted(world.full_name) == 0
    assert summary.calls.cached[world.full_name] == 4  # one tree, the settings file, two blobs


# --- a tag that moves again while its pull request is open --------------------------------


def _short(digest: str) -> str:
    return digest[:19]  # `sha256:` and twelve hex digits, as the table and notes show it


def _when(written: str) -> str:
    when = parse_time(written)
    assert when is not None
    return timestamp(when)


def test_a_tag_that_moves_again_updates_the_pull_request_with_one_comment_saying_what_moved(
    fake: GitHubFake, config: Config, registry_http: RunningRegistry
) -> None:
    world = first_run(fake, registry_http, config)
    [opened] = world.pulls()
    assert opened.comments == []  # opening says it all in the body
    first = world.digest()
    before = parse_state(opened.body)
    assert before is not None and before.written and not before.earlier

    second = world.move_tag("moved-while-open")
    summary = run_bot(fake, config, "--repo", world.full_name)
    assert summary.results[0].updated and not summary.results[0].opened
    assert not summary.results[0].problems, summary.results[0].problems
    [pull] = world.pulls()
    assert pull.number == opened.number and pull.state == "open"
    name = f"{registry_http.host}/{world.image}:1.0"
    [comment] = pull.comments
    assert comment.body == (
        f"Updated: `{name}` moved again since {_when(before.written)}: "
        f"`{_short(first)}` → `{_short(second)}`"
    )

    # The body shows the current digest and remembers what was proposed before, and when.
    body = pull.body or ""
    assert f"pinned to `{_short(second)}`" in body and f"pinned to `{_short(first)}`" not in body
    assert (
        "the tag moved while this pull request was open: "
        f"`{_short(first)}` (was proposed {_when(before.written)}) → `{_short(second)}`"
    ) in body
    after = parse_state(body)
    assert after is not None
    assert {u.new for u in after.updates} == {second}
    assert [(p.digest, p.proposed) for p in after.earlier] == [(first, before.written)]

    # Nothing changed since: no write, and no second comment.
    summary = rerun_writing_nothing(fake, config, "--repo", world.full_name)
    assert summary.results[0].current and not summary.results[0].updated
    [pull] = world.pulls()
    assert len(pull.comments) == 1 and pull.body == body


def test_a_branch_rebuilt_on_a_new_base_with_the_same_digests_gets_no_comment(
    fake: GitHubFake, config: Config, registry_http: RunningRegistry
) -> None:
    world = first_run(fake, registry_http, config)
    first = world.digest()
    second = world.move_tag("moved-before-rebuild")
    run_bot(fake, config, "--repo", world.full_name)
    [pull] = world.pulls()
    assert len(pull.comments) == 1
    moved = parse_state(pull.body)
    assert moved is not None

    ref = registry_http.ref(world.image, "1.0")
    dockerfile = f"# build v2\nFROM {ref} AS base\nRUN make\n".encode()
    fake.commit_files("acme", world.name, "main", {"Dockerfile": dockerfile}, "change")
    summary = run_bot(fake, config, "--repo", world.full_name)
    assert summary.results[0].updated
    [pull] = world.pulls()
    assert len(pull.comments) == 1  # no digest moved: nothing to say
    assert f"@{second}" in world.file_at(BRANCH, "Dockerfile").decode()
    rebuilt = parse_state(pull.body)
    assert rebuilt is not None and rebuilt.commit != moved.commit
    # The memory survives the rebuild: the same earlier proposal, and when it was made.
    assert rebuilt.earlier == moved.earlier and [p.digest for p in rebuilt.earlier] == [first]
    assert f"`{_short(first)}` (was proposed " in (pull.body or "")
    # The current digest keeps the time it was first proposed, not the rebuild's.
    assert rebuilt.proposed_at(moved.updates[0].image, "1.0", second) == moved.written


def test_a_bump_updated_again_compares_the_base_to_the_newest_and_names_the_one_between(
    fake: GitHubFake, config: Config, registry_http: RunningRegistry
) -> None:
    world = first_run(fake, registry_http, config)
    [pin] = world.pulls()
    fake.close_pull("acme", world.name, pin.number, merged=True)
    on_base = world.digest()

    between = world.move_tag("bump-one")
    run_bot(fake, config, "--repo", world.full_name)
    bump = next(p for p in world.pulls() if p.state == "open")
    assert bump.comments == []
    proposed = parse_state(bump.body)
    assert proposed is not None

    newest = world.move_tag("bump-two")
    summary = run_bot(fake, config, "--repo", world.full_name)
    assert summary.results[0].updated and not summary.results[0].opened
    [pull] = [p for p in world.pulls() if p.state == "open"]
    assert pull.number == bump.number
    [comment] = pull.comments
    assert f"`{_short(between)}` → `{_short(newest)}`" in comment.body
    body = pull.body or ""
    # The table (and notes) compare the base's digest to the newest, as for any bump.
    assert f"`{_short(on_base)}` → `{_short(newest)}`" in body
    assert (
        f"`{_short(between)}` (was proposed {_when(proposed.written)}) → `{_short(newest)}`"
        in body
    )
    state = parse_state(body)
    assert state is not None
    assert {(u.old, u.new) for u in state.updates} == {(on_base, newest)}


def test_dry_run_says_the_comment_it_would_post_and_writes_nothing(
    fake: GitHubFake, config: Config, registry_http: RunningRegistry
) -> None:
    world = first_run(fake, registry_http, config)
    first = world.digest()
    second = world.move_tag("moved-in-dry-run")
    summary = rerun_writing_nothing(fake, config, "--repo", world.full_name, "--dry-run")
    [planned] = map(run_summary.planned_text, summary.results[0].planned)
    assert planned.startswith(f"would update pull request #1 on {BRANCH}: Pin image digests")
    assert f"and comment:\nUpdated: `{registry_http.host}/{world.image}:1.0` moved again" in planned
    assert f"`{_short(first)}` → `{_short(second)}`" in planned
    [pull] = world.pulls()
    assert pull.comments == []


# --- titles and commit messages -----------------------------------------------------------


def _head_message(fake: GitHubFake, world: World) -> str:
    repo = fake.repo("acme", world.name)
    message: str = repo.objects.commits[repo.refs[BRANCH]].message
    return message


def test_the_commit_lists_each_update_for_git_log_and_holds_no_state(
    fake: GitHubFake, config: Config, registry_http: RunningRegistry
) -> None:
    world = first_run(fake, registry_http, config)
    [pull] = world.pulls()
    name = f"{registry_http.host}/{world.image}:1.0"
    pin = f"unpinned → {_short(world.digest())}"
    subject, blank, *rest = _head_message(fake, world).splitlines()
    assert subject == pull.title and blank == ""
    assert rest[:2] == [f"Dockerfile:2        {name}  {pin}", f"deploy/app.yaml:10  {name}  {pin}"]
    assert "pinbot:state" not in _head_message(fake, world)

    # Merged; the tag moves: the next commit says which digest replaces which.
    fake.close_pull("acme", world.name, pull.number, merged=True)
    first = world.digest()
    second = world.move_tag("for-git-log")
    run_bot(fake, config, "--repo", world.full_name)
    message = _head_message(fake, world)
    assert message.startswith(f"Update image digests: {registry_http.host}/{world.image} 1.0\n\n")
    bump = f"{_short(first)} → {_short(second)}"
    assert f"Dockerfile:2        {name}  {bump}\n" in message
    assert f"deploy/app.yaml:10  {name}  {bump}\n" in message


def test_a_title_prefix_goes_before_the_title_and_the_commit_subject(
    fake: GitHubFake, config: Config, registry_http: RunningRegistry
) -> None:
    settings = b'github:\n  title-prefix: "chore(deps): "\n'
    world = World(fake, registry_http, extra={SETTINGS: settings})
    summary = run_bot(fake, config, "--repo", world.full_name)
    assert summary.results[0].opened and not summary.results[0].problems, run_summary.text(summary)
    [pull] = world.pulls()
    assert pull.title == f"chore(deps): pin image digests: {registry_http.host}/{world.image} 1.0"
    assert _head_message(fake, world).startswith(pull.title + "\n\n")


def test_a_prefix_set_later_retitles_the_pull_request_only_when_it_is_written_anyway(
    fake: GitHubFake, config: Config, registry_http: RunningRegistry
) -> None:
    world = first_run(fake, registry_http, config)
    [opened] = world.pulls()
    plain = f"Pin image digests: {registry_http.host}/{world.image} 1.0"
    assert opened.title == plain
    prefixed = replace(config, github=replace(config.github, title_prefix="[Deps]"))

    # A new prefix alone: the pull request is still pinbot's and right, so nothing is written.
    summary = rerun_writing_nothing(fake, prefixed, "--repo", world.full_name)
    assert summary.results[0].current and not summary.results[0].opened
    assert world.pulls()[0].title == plain

    # The next time it is written anyway, it takes the prefix: title and commit subject.
    world.move_tag("retitle")
    summary = run_bot(fake, prefixed, "--repo", world.full_name)
    assert summary.results[0].updated and not summary.results[0].opened
    [pull] = world.pulls()
    assert pull.number == opened.number and pull.title == f"[Deps] {plain}"
    assert _head_message(fake, world).startswith(f"[Deps] {plain}\n\n")


# --- github.max-open-pulls ----------------------------------------------------------------


def _capped(registry_http: RunningRegistry, tmp_path: Path, limit: int) -> Config:
    return write_config(tmp_path, registry_http, f"github:\n  group: image\n  max-open-pulls: {limit}\n")


def _three_images(fake: GitHubFake, registry_http: RunningRegistry, name: str) -> None:
    refs = []
    for image in ("a", "b", "c"):
        registry_http.push_image(f"acme/{name}-{image}", "1", seed=f"{name}-{image}")
        refs.append(registry_http.ref(f"acme/{name}-{image}", "1"))
    dockerfile = "".join(f"FROM {ref}\n" for ref in refs).encode()
    fake.create_repo("acme", name, {"Dockerfile": dockerfile})


def _open_heads(fake: GitHubFake, name: str) -> list[str]:
    return sorted(p.head_ref for p in fake.pulls("acme", name) if p.state == "open")


def test_max_open_pulls_holds_back_new_pull_requests_until_one_is_closed(
    fake: GitHubFake, registry_http: RunningRegistry, tmp_path: Path
) -> None:
    config = _capped(registry_http, tmp_path, 2)
    _three_images(fake, registry_http, "capped")
    branch = f"pinbot/{registry_http.host.replace(':', '-')}-acme-capped-"
    held = f"{registry_http.host}/acme/capped-c"

    summary = run_bot(fake, config, "--repo", "acme/capped", "--dry-run")
    [result] = summary.results
    assert len(result.planned) == 2 and result.held_back == [held]

    summary = run_bot(fake, config, "--repo", "acme/capped")
    [result] = summary.results
    assert len(result.opened) == 2 and result.held_back == [held]
    assert _open_heads(fake, "capped") == [branch + "a", branch + "b"]
    assert [str(p) for p in result.problems] == [
        f"1 new pull request held back ({held}): github.max-open-pulls allows 2 open at once; "
        "later runs open them as open ones are merged or closed"
    ]
    assert ", 1 held back by github.max-open-pulls, " in run_summary.headline(summary)
    assert any("held back" in line for line in run_summary.workflow_warnings(summary))

    # Still full: the open ones are current, nothing is written, the third waits.
    summary = rerun_writing_nothing(fake, config, "--repo", "acme/capped")
    assert len(summary.results[0].current) == 2 and summary.results[0].held_back == [held]

    # A person closes one: the next run opens the third.
    first = next(p for p in fake.pulls("acme", "capped") if p.head_ref == branch + "a")
    fake.close_pull("acme", "capped", first.number)
    summary = run_bot(fake, config, "--repo", "acme/capped")
    [result] = summary.results
    assert len(result.opened) == 1 and not result.held_back and not result.problems
    assert _open_heads(fake, "capped") == [branch + "b", branch + "c"]
    assert "held back" not in run_summary.headline(summary)


def test_a_pull_request_pinbot_closes_makes_room_in_the_same_run(
    fake: GitHubFake, registry_http: RunningRegistry, tmp_path: Path
) -> None:
    config = _capped(registry_http, tmp_path, 2)
    _three_images(fake, registry_http, "roomy")
    branch = f"pinbot/{registry_http.host.replace(':', '-')}-acme-roomy-"
    run_bot(fake, config, "--repo", "acme/roomy")
    assert _open_heads(fake, "roomy") == [branch + "a", branch + "b"]

    # A person pins image a by hand on the base: pinbot closes its pull request, which frees
    # the room the third one waited for.
    pinned = fake.file_at("acme", "roomy", branch + "a", "Dockerfile")
    assert pinned is not None
    fake.commit_files("acme", "roomy", "main", {"Dockerfile": pinned}, "pin a by hand")
    summary = run_bot(fake, config, "--repo", "acme/roomy")
    [result] = summary.results
    assert len(result.closed) == 1 and len(result.opened) == 1, run_summary.text(summary)
    assert not result.held_back
    assert _open_heads(fake, "roomy") == [branch + "b", branch + "c"]


def test_max_open_pulls_zero_is_no_limit(
    fake: GitHubFake, registry_http: RunningRegistry, tmp_path: Path
) -> None:
    _three_images(fake, registry_http, "unlimited")
    summary = run_bot(fake, _capped(registry_http, tmp_path, 0), "--repo", "acme/unlimited")
    [result] = summary.results
    assert len(result.opened) == 3 and not result.held_back and not result.problems


def test_the_run_summary_reports_a_registry_pull_quota(
    fake: GitHubFake, registry_http: RunningRegistry, tmp_path: Path, fault_proxy: FaultProxy
) -> None:
    pushed = registry_http.push_image("acme/quota", "1", seed="quota")
    fault_proxy.inject(
        "/v2/acme/quota/manifests/1",
        method="GET",
        status=200,
        body=pushed.body,
        headers={
            "Content-Type": pushed.media_type,
            "Docker-Content-Digest": pushed.digest,
            "ratelimit-limit": "100;w=21600",
            "ratelimit-remaining": "61;w=21600",
        },
        times=5,
    )
    fake.create_repo("acme", "quota", {"Dockerfile": f"FROM {fault_proxy.host}/acme/quota:1\n".encode()})
    path = tmp_path / "quota.yaml"
    path.write_text(f'registries:\n  "{fault_proxy.host}":\n    insecure: true\n', encoding="utf-8")
    summary = run_bot(fake, load_config(path), "--repo", "acme/quota")
    assert not summary.failures
    assert (
        f"{fault_proxy.host}: 61 of 100 pulls left in the 21600 s window; "
        "this run made 1 manifest GET"
    ) in run_summary.text(summary).splitlines()


def test_a_gitlab_variable_an_included_file_uses_as_an_image_is_pinned_where_it_is_defined(
    fake: GitHubFake, config: Config, registry_http: RunningRegistry
) -> None:
    registry_http.push_image("acme/lint", "2", seed="lint")
    lint = registry_http.ref("acme/lint", "2")
    common = f"variables:\n  LINT_IMAGE: {lint}\n  GO_VERSION: '1.22'\n".encode()
    jobs = b"lint:\n  image: ${LINT_IMAGE}\n  script: [lint]\n"
    world = World(
        fake,
        registry_http,
        extra={".gitlab/ci/_common.gitlab-ci.yml": common, ".gitlab/ci/qa.gitlab-ci.yml": jobs},
    )
    summary = run_bot(fake, config, "--repo", world.full_name)

    assert not summary.failures, run_summary.text(summary)
    [pull] = world.pulls()
    digest = registry_http.skopeo_raw_digest("acme/lint:2")
    assert world.file_at(BRANCH, ".gitlab/ci/_common.gitlab-ci.yml") == common.replace(
        lint.encode(), f"{lint}@{digest}".encode()
    )
    assert world.file_at(BRANCH, ".gitlab/ci/qa.gitlab-ci.yml") == jobs
    assert world.file_at(BRANCH, "Dockerfile") != world.files["Dockerfile"]
    assert pull.body is not None and "| `.gitlab/ci/_common.gitlab-ci.yml:2` |" in pull.body


# --- containment: one repository's failure is its own -------------------------------------


def test_a_repository_github_answers_strangely_fails_alone_with_its_reason(
    fake: GitHubFake, config: Config, registry_http: RunningRegistry
) -> None:
    good, odd = World(fake, registry_http), World(fake, registry_http)
    with FaultProxy(fake.url) as proxy:
        proxy.inject(f"/repos/{odd.full_name}/git/trees/", status=200, body=b"[]", times=5)
        args = build_parser().parse_args(
            ["run", "--repo", odd.full_name, "--repo", good.full_name, "--dry-run"]
        )
        credentials = Credentials(token=fake.token, api_url=proxy.url)
        summary = run_library(config, credentials, run_options(args))
    by_name = {r.repository: r for r in summary.results}
    failure = by_name[odd.full_name].failure
    assert failure is not None and failure.kind is ProblemKind.REPOSITORY_FAILED
    assert str(failure).startswith(
        f"{odd.full_name}: reading branch main: an answer GitHub does not document: "
    )
    assert by_name[good.full_name].failure is None and by_name[good.full_name].planned


def test_references_no_registry_could_serve_cost_only_themselves(
    fake: GitHubFake, config: Config, registry_http: RunningRegistry
) -> None:
    good = World(fake, registry_http)
    dockerfile = b"FROM [:::::]:5000/x:1\nFROM 127.0.0.1:99999/x:1\n"
    fake.create_repo("acme", "hostile", {"Dockerfile": dockerfile})
    summary = run_bot(fake, config, "--repo", "acme/hostile", "--repo", good.full_name)
    by_name = {r.repository: r for r in summary.results}
    assert by_name[good.full_name].opened and not summary.failures, run_summary.text(summary)
    assert not by_name["acme/hostile"].opened


# --- exit status: a run that could not check everything is not "ok" --------------------------


def _command(
    fake: GitHubFake, monkeypatch: pytest.MonkeyPatch, config_path: Path, *argv: str
) -> int:
    from pinbot.cli import main

    monkeypatch.setenv("GITHUB_TOKEN", fake.token)
    monkeypatch.setenv("GITHUB_API_URL", fake.url)
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    return main(["run", *argv, "--write-interval", "0", "--config", str(config_path)])


def _unpinned_repository(fake: GitHubFake, name: str, *images: str) -> str:
    dockerfile = "".join(f"FROM {image}\n" for image in images).encode()
    fake.create_repo("acme", name, {"Dockerfile": dockerfile})
    return f"acme/{name}"


def test_every_lookup_failing_because_the_registry_is_down_exits_4_and_says_so(
    fake: GitHubFake,
    config: Config,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert config.source is not None
    down = _unpinned_repository(fake, "down", "127.0.0.1:9/acme/web:1.0", "127.0.0.1:9/acme/api:2")
    assert _command(fake, monkeypatch, config.source, "--repo", down) == 4
    out = capsys.readouterr().out
    assert ", 0 failed, 2 references whose lookup failed; " in out.splitlines()[0]
    assert f"{down}: INCOMPLETE (2 references whose lookup failed); " in out
    assert "  lookup-failed: Dockerfile:1:6: 127.0.0.1:9/acme/web:1.0: " in out
    assert fake.pulls("acme", "down") == []


def test_every_lookup_refused_for_bad_credentials_exits_4(
    fake: GitHubFake,
    registry_basic: RunningRegistry,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    registry_basic.push_image("acme/locked", "1", seed="locked")
    path = tmp_path / "pinbot.yaml"
    path.write_text(
        f'registries:\n  "{registry_basic.host}":\n    ca-file: "{registry_basic.ca_file}"\n'
        "    username-env: PINBOT_TEST_USER\n    password-env: PINBOT_TEST_PASS\n",
        encoding="utf-8",
    )
    assert registry_basic.username is not None
    monkeypatch.setenv("PINBOT_TEST_USER", registry_basic.username)
    monkeypatch.setenv("PINBOT_TEST_PASS", "not-the-password")
    locked = _unpinned_repository(fake, "locked", registry_basic.ref("acme/locked", "1"))
    assert _command(fake, monkeypatch, path, "--repo", locked) == 4
    out = capsys.readouterr().out
    assert f"{locked}: INCOMPLETE (1 reference whose lookup failed)" in out
    assert "not-the-password" not in out
    assert fake.pulls("acme", "locked") == []


def test_a_failed_repository_outranks_failed_lookups_and_a_clean_run_exits_0(
    fake: GitHubFake,
    config: Config,
    registry_http: RunningRegistry,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert config.source is not None
    world = World(fake, registry_http)
    down = _unpinned_repository(fake, "down-too", "127.0.0.1:9/acme/web:1.0")
    assert _command(fake, monkeypatch, config.source, "--repo", world.full_name) == 0
    argv = ("--repo", world.full_name, "--repo", down, "--repo", "acme/gone")
    assert _command(fake, monkeypatch, config.source, *argv) == 1
    headlines = [line for line in capsys.readouterr().out.splitlines() if "pinbot run: " in line]
    headline = headlines[-1]
    assert ", 1 failed, 1 reference whose lookup failed; " in headline


# --- progress: one plain line per repository as it finishes ----------------------------------


def _pinbot_run(
    fake: GitHubFake, config: Config, tmp_path: Path, *argv: str
) -> subprocess.Popen[str]:
    assert config.source is not None
    environ = {key: value for key, value in os.environ.items() if not key.startswith("GITHUB_")}
    environ.update(
        {"GITHUB_TOKEN": fake.token, "GITHUB_API_URL": fake.url, "PYTHONPATH": str(ROOT)}
    )
    return subprocess.Popen(
        [sys.executable, "-m", "pinbot", "run", *argv, "--config", str(config.source)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=environ,
        cwd=tmp_path,
    )


def test_each_repository_is_one_line_on_stderr_as_it_finishes_and_quiet_says_nothing(
    fake: GitHubFake, config: Config, registry_http: RunningRegistry, tmp_path: Path
) -> None:
    one, two = World(fake, registry_http), World(fake, registry_http)
    repos = ("--repo", one.full_name, "--repo", two.full_name, "--repo", "acme/gone")
    done = _pinbot_run(fake, config, tmp_path, *repos, "--write-interval", "0")
    out, err = done.communicate(timeout=120)
    assert done.returncode == 1, err
    lines = err.splitlines()
    assert lines[0] == "acme/gone: FAILED: reading the repository: HTTP 404: Not Found"
    assert lines[1] == "looking up the tags of 2 repositories read"
    assert re.fullmatch(rf"{one.full_name}: 1 PR opened, 2 references, \d+ calls", lines[2])
    assert re.fullmatch(rf"{two.full_name}: 1 PR opened, 2 references, \d+ calls", lines[3])
    assert len(lines) == 4 and out.startswith("pinbot run: 3 repositories scanned")

    quiet = _pinbot_run(fake, config, tmp_path, *repos, "--write-interval", "0", "-q")
    _, err = quiet.communicate(timeout=120)
    assert quiet.returncode == 1 and err == ""


def test_a_run_killed_part_way_has_said_which_repositories_it_finished(
    fake: GitHubFake, config: Config, registry_http: RunningRegistry, tmp_path: Path
) -> None:
    first, second = World(fake, registry_http, name="a-first"), World(fake, registry_http)
    # Paced writes: the second repository's pull request takes seconds to open.
    repos = ("--repo", first.full_name, "--repo", second.full_name)
    running = _pinbot_run(fake, config, tmp_path, *repos, "--write-interval", "0.3")
    try:
        assert running.stderr is not None
        assert running.stderr.readline().startswith("looking up the tags")
        line = running.stderr.readline()
        running.kill()
    finally:
        running.wait(timeout=30)
    assert re.fullmatch(rf"{first.full_name}: 1 PR opened, 2 references, \d+ calls\n", line)
    assert running.stdout is not None and running.stdout.read() == ""  # no summary: killed
    assert [p.state for p in first.pulls()] == ["open"]


# --- a state block that cannot be read: state unknown, never "no state" ------------------------


def test_a_pull_request_whose_state_cannot_be_read_is_neither_rewritten_nor_reopened(
    fake: GitHubFake,
    config: Config,
    registry_http: RunningRegistry,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    world = first_run(fake, registry_http, config)
    [pull] = world.pulls()
    # Someone pastes a second block opening above pinbot's: the state can no longer be trusted.
    assert pull.body is not None
    pull.body = 'Checked on 1.0 <!-- pinbot:state {"version":1\n\n' + pull.body
    world.move_tag("while-unknown")

    summary = rerun_writing_nothing(fake, config, "--repo", world.full_name)
    [result] = summary.results
    assert not (result.updated or result.closed or result.opened) and result.failure is None
    [problem] = result.problems
    assert problem.kind is ProblemKind.WRITE_REFUSED
    assert str(problem).startswith(f"#{pull.number}: its hidden state cannot be read: ")

    # Closed unmerged by a person: still unknown what was declined, so nothing new opens.
    fake.close_pull("acme", world.name, pull.number)
    fake.reset_calls()
    assert config.source is not None
    assert _command(fake, monkeypatch, config.source, "--repo", world.full_name) == 4
    assert fake.write_calls() == []
    assert len(world.pulls()) == 1
    assert f"{world.full_name}: INCOMPLETE (1 edit refused)" in capsys.readouterr().out
