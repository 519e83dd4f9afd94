"""`pinbot run` and the quiet settings: an update `min-age` holds back is listed, not proposed,
and its memory is kept in the cache folder; a platform pin's pull request says which platform
it follows. PyGithub over real HTTP to the GitHub fake, digests from a real registry."""

from __future__ import annotations

import html
import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import cmarkgfm
import pytest

from pinbot.bot.run import RunSummary
from pinbot.bot.run import run_bot as run_library
from pinbot.cli import build_parser
from pinbot.commands.run import run_options
from pinbot.config import Config, load_config_text
from pinbot.forge.github import Credentials
from pinbot.report import run_summary
from pinbot.settle_store import StateFileError
from tests.support.github_fake import GitHubFake
from tests.support.registry import RunningRegistry

BRANCH = "pinbot/image-digests"


def settings(registry: RunningRegistry, extra: str = "") -> Config:
    text = f"registries:\n  {registry.host}:\n    insecure: true\n{extra}"
    return load_config_text(text, "pinbot.yaml")


def run_bot(fake: GitHubFake, config: Config, *argv: str) -> RunSummary:
    args = build_parser().parse_args(["run", *argv, "--write-interval", "0"])
    return run_library(config, Credentials(token=fake.token, api_url=fake.url), run_options(args))


def rendered(markdown: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", cmarkgfm.github_flavored_markdown_to_html(markdown)))


def test_an_update_min_age_holds_back_is_listed_and_proposed_once_settled(
    fake: GitHubFake, registry_http: RunningRegistry, tmp_path: Path
) -> None:
    reg, image = registry_http, "acme/settled"
    first = reg.push_image(image, "1.0", seed="s0")
    ref = reg.ref(image, "1.0")
    fake.create_repo("acme", "settled", {"Dockerfile": f"FROM {ref}@{first.digest}\n".encode()})
    config = settings(reg, "pin:\n  min-age: 3d\n")
    cache = tmp_path / "cache"
    argv = ("--repo", "acme/settled", "--cache-dir", str(cache))

    summary = run_bot(fake, config, *argv)  # watched from now on
    state = cache / "settle-state.json"
    assert json.loads(state.read_text())["tags"][f"{reg.host}/{image}:1.0"]["digest"] == first.digest

    second = reg.push_image(image, "1.0", seed="s1")  # built in 2024, pushed now
    summary = run_bot(fake, config, *argv)
    [result] = summary.results
    assert not summary.failures and result.opened == [] and fake.pulls("acme", "settled") == []
    [waiting] = result.waiting
    assert f"Dockerfile:1:6: {ref}@{first.digest}: {second.digest} waits until " in waiting
    text = run_summary.text(summary)
    assert "1 updates waiting for min-age" in text and f"  waiting: {waiting}" in text

    # Three days later (the memory says it was first seen then): proposed.
    document = json.loads(state.read_text())
    earlier = datetime.now(UTC) - timedelta(days=3, minutes=1)
    document["tags"][f"{reg.host}/{image}:1.0"]["since"] = earlier.strftime("%Y-%m-%dT%H:%M:%SZ")
    state.write_text(json.dumps(document))
    summary = run_bot(fake, config, *argv)
    [result] = summary.results
    assert len(result.opened) == 1 and result.waiting == []
    assert len(fake.pulls("acme", "settled")) == 1
    assert fake.file_at("acme", "settled", BRANCH, "Dockerfile") == f"FROM {ref}@{second.digest}\n".encode()


def test_a_state_file_that_cannot_be_kept_stops_the_run_before_any_write(
    fake: GitHubFake, registry_http: RunningRegistry, tmp_path: Path
) -> None:
    reg, image = registry_http, "acme/unkept"
    reg.push_image(image, "1.0", seed="u0")
    fake.create_repo("acme", "unkept", {"Dockerfile": f"FROM {reg.ref(image, '1.0')}\n".encode()})
    blocker = tmp_path / "file"
    blocker.write_text("")
    config = settings(reg, "pin:\n  min-age: 3d\n")
    with pytest.raises(StateFileError):
        run_bot(fake, config, "--repo", "acme/unkept", "--state", str(blocker / "state.json"))
    assert fake.pulls("acme", "unkept") == []


def test_a_platform_pins_pull_request_says_which_platform_it_follows(
    fake: GitHubFake, registry_http: RunningRegistry
) -> None:
    reg, image = registry_http, "acme/multi"
    reg.push_multiarch(image, "1.0", seed="p0")
    arm = next(
        entry["digest"]
        for entry in json.loads(reg.skopeo_raw(f"{image}:1.0"))["manifests"]
        if entry["platform"]["architecture"] == "arm64"
    )
    ref = reg.ref(image, "1.0")
    files = {"Dockerfile": f"FROM --platform=linux/arm64 {ref}@{arm}\n".encode()}
    fake.create_repo("acme", "multi", files)
    config = settings(reg)
    assert run_bot(fake, config, "--repo", "acme/multi").results[0].opened == []  # current

    reg.push_multiarch(image, "1.0", seed="p1")
    new_arm = next(
        entry["digest"]
        for entry in json.loads(reg.skopeo_raw(f"{image}:1.0"))["manifests"]
        if entry["platform"]["architecture"] == "arm64"
    )
    summary = run_bot(fake, config, "--repo", "acme/multi")
    assert len(summary.results[0].opened) == 1, run_summary.text(summary)
    [pull] = fake.pulls("acme", "multi")
    assert fake.file_at("acme", "multi", BRANCH, "Dockerfile") == f"FROM --platform=linux/arm64 {ref}@{new_arm}\n".encode()
    assert "linux/arm64 manifest" in rendered(pull.body)
