"""Rules in the bot, case by case: which pull request an update goes into, and the labels,
reviewers and automerge a pull request gets from the rules of the updates it holds."""

from __future__ import annotations

from dataclasses import replace

import pytest

from pinbot import prbody
from pinbot.bot.decide import (
    Branch,
    HoldBack,
    OpenPull,
    UpdatePull,
    decide,
    group_edits,
    update_of,
)
from pinbot.bot.execute import added_decoration
from pinbot.bot.rules import edits_settings, updates_settings
from pinbot.config import Config, GithubConfig, Rule
from tests.bot.test_decide import NEW, NEWER, base_of, edits_for, pull, state_for

FILES = {
    "Dockerfile": (
        b"FROM registry.test/base/python:3.12\n"
        b"FROM registry.test/base/node:22\n"
        b"FROM docker.io/library/redis:7\n"
    ),
    "deploy/app.yaml": (
        b"apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  containers:\n"
        b"    - name: web\n      image: registry.test/base/python:3.12\n"
        b"    - name: cache\n      image: docker.io/library/redis:7\n"
    ),
}
BASE_IMAGES = Rule(images=("registry.test/base/*",), group="base", labels=("base-image",))


def config(*rules: Rule, **github: object) -> Config:
    return Config(github=GithubConfig(**github), rules=rules)  # type: ignore[arg-type]


def grouped(cfg: Config, files: dict[str, bytes] = FILES) -> dict[str, list[str]]:
    """Branch -> the `file:line image` of each edit it carries."""
    return {
        group.branch: [f"{e.file}:{e.occurrence.line} {e.image}" for e in group.edits]
        for group in group_edits(edits_for(files, NEW), cfg)
    }


# --- groups -----------------------------------------------------------------------------------


def test_a_rule_s_group_makes_one_pull_request_for_every_image_in_it() -> None:
    assert grouped(config(BASE_IMAGES)) == {
        "pinbot/group-base": [
            "Dockerfile:1 registry.test/base/python",
            "Dockerfile:2 registry.test/base/node",
            "deploy/app.yaml:8 registry.test/base/python",
        ],
        "pinbot/image-digests": ["Dockerfile:3 redis", "deploy/app.yaml:10 redis"],
    }


def test_the_images_no_group_holds_are_grouped_by_image_when_configured() -> None:
    assert grouped(config(BASE_IMAGES, group="image")) == {
        "pinbot/group-base": [
            "Dockerfile:1 registry.test/base/python",
            "Dockerfile:2 registry.test/base/node",
            "deploy/app.yaml:8 registry.test/base/python",
        ],
        "pinbot/redis": ["Dockerfile:3 redis", "deploy/app.yaml:10 redis"],
    }


def test_a_rule_s_paths_decide_which_occurrences_of_an_image_join_its_group() -> None:
    in_deploy = Rule(images=("*",), paths=("deploy/*",), group="deploy")
    assert grouped(config(in_deploy)) == {
        "pinbot/group-deploy": [
            "deploy/app.yaml:8 registry.test/base/python",
            "deploy/app.yaml:10 redis",
        ],
        "pinbot/image-digests": [
            "Dockerfile:1 registry.test/base/python",
            "Dockerfile:2 registry.test/base/node",
            "Dockerfile:3 redis",
        ],
    }


def test_the_first_matching_rule_wins_even_without_a_group() -> None:
    # node matches the first rule (no group): it stays with the repository's pull request.
    node = Rule(images=("registry.test/base/node",), labels=("node",))
    assert grouped(config(node, BASE_IMAGES))["pinbot/group-base"] == [
        "Dockerfile:1 registry.test/base/python",
        "deploy/app.yaml:8 registry.test/base/python",
    ]


def test_a_group_and_an_image_named_alike_share_one_branch_and_lose_nothing() -> None:
    files = {"Dockerfile": b"FROM group-x:1\nFROM registry.test/base/python:3.12\n"}
    cfg = config(Rule(images=("registry.test/*",), group="x"), group="image")
    # `group-x` (an image on Docker Hub) and the group `x` both make pinbot/group-x.
    assert grouped(cfg, files) == {
        "pinbot/group-x": ["Dockerfile:1 group-x", "Dockerfile:2 registry.test/base/python"]
    }


def test_a_group_s_pull_request_is_named_for_it_and_held_back_by_its_name() -> None:
    [group, other] = group_edits(edits_for(FILES, NEW), config(BASE_IMAGES))
    branch = Branch(group.branch, group.edits, group="base")
    opened = decide([branch], base_of(FILES), 0).decisions[0]
    assert isinstance(opened, OpenPull) and opened.proposal.group == "base"
    title = prbody.title(opened.proposal.updates, group=opened.proposal.group)
    assert title == (
        "Pin image digests in group base: registry.test/base/python 3.12, registry.test/base/node 22"
    )
    message = prbody.commit_message(opened.proposal.updates, "chore: ", "base")
    assert message.startswith("chore: pin image digests in group base: ")
    # With room for one, the branch first in order opens and the group waits, named.
    first = Branch("pinbot/a-first", other.edits)
    held = decide([first, branch], base_of(FILES), 1).decisions
    assert [type(d) for d in held] == [OpenPull, HoldBack]
    assert held[1] == HoldBack("pinbot/group-base", "base")


# --- labels, reviewers, automerge ---------------------------------------------------------------


def test_labels_and_reviewers_of_every_rule_in_a_pull_request_are_merged_in_order() -> None:
    cfg = config(
        BASE_IMAGES,
        Rule(images=("redis",), reviewers=("cache-team",)),
        labels=("dependencies",),
        reviewers=("octo",),
    )
    settings = edits_settings(edits_for(FILES, NEW), cfg)
    # python and node: the base rule's label and the global reviewers; redis: the global
    # labels and its rule's reviewer.
    assert settings.labels == ("base-image", "dependencies")
    assert settings.reviewers == ("octo", "cache-team")


def test_a_rule_s_empty_list_means_none_not_the_global_one() -> None:
    cfg = config(Rule(images=("*",), labels=(), reviewers=()), reviewers=("octo",))
    settings = edits_settings(edits_for(FILES, NEW), cfg)
    assert settings.labels == () and settings.reviewers == ()


@pytest.mark.parametrize(
    ("rules", "github", "automerge"),
    [
        ((), {}, False),
        ((), {"automerge": True}, True),
        ((Rule(images=("registry.test/base/*",), automerge=True),), {}, False),  # redis is not
        ((Rule(images=("registry.test/base/*",), automerge=False),), {"automerge": True}, False),
        ((Rule(images=("redis",), automerge=True),), {"automerge": True}, True),
        ((Rule(images=("*",), automerge=True),), {}, True),
    ],
)
def test_a_pull_request_automerges_only_when_every_update_in_it_may(
    rules: tuple[Rule, ...], github: dict[str, object], automerge: bool
) -> None:
    assert edits_settings(edits_for(FILES, NEW), config(*rules, **github)).automerge is automerge


def test_first_pins_need_their_rule_s_or_the_global_permission() -> None:
    unpinned = edits_for(FILES, NEW)
    assert all(edit.old_digest is None for edit in unpinned)
    settings = edits_settings(unpinned, config(automerge=True))
    assert settings.has_first_pins and not settings.first_pins_allowed
    base_ok = config(
        Rule(images=("registry.test/base/*",), automerge_first_pin=True), automerge=True
    )
    assert not edits_settings(unpinned, base_ok).first_pins_allowed  # redis is a first pin too
    everyone = config(automerge=True, automerge_first_pin=True)
    assert edits_settings(unpinned, everyone).first_pins_allowed
    pinned = {
        path: data.replace(b":3.12\n", f":3.12@{NEW}\n".encode()) for path, data in FILES.items()
    }
    bumps = [e for e in edits_for(pinned, NEWER) if e.old_digest is not None]
    assert bumps and not edits_settings(bumps, config(automerge=True)).has_first_pins


def test_the_rules_of_recorded_updates_are_found_again_from_the_state() -> None:
    cfg = config(BASE_IMAGES, Rule(images=("redis",), labels=("cache",)))
    edits = edits_for(FILES, NEW)
    updates = [update_of(edit) for edit in edits]
    assert updates_settings(updates, cfg) == edits_settings(edits, cfg)


def test_an_update_carries_its_rules_labels_and_asks_the_reviewers_of_what_joins() -> None:
    cfg = config(BASE_IMAGES, Rule(images=("redis",), labels=("cache",), reviewers=("ops",)))
    python_only = [e for e in edits_for(FILES, NEW) if e.image.endswith("python")]
    state = state_for(python_only, files=FILES)
    open_pull = replace(pull(state), labels=("base-image",))
    proposal = decide([Branch("pinbot/image-digests", edits_for(FILES, NEW))], base_of(FILES), 0)
    opened = proposal.decisions[0]
    assert isinstance(opened, OpenPull)
    update = UpdatePull("pinbot/image-digests", open_pull, state, opened.proposal)
    # redis joins the pull request: its rule's label and reviewer are asked for, nothing else.
    assert added_decoration(update, cfg) == (["cache"], ["ops"])
    # Labels follow the rules whenever it is written; a reviewer is asked once, on joining.
    again = replace(
        update, pull=replace(open_pull, labels=()), previous=state_for(edits_for(FILES, NEW))
    )
    assert added_decoration(again, cfg) == (["base-image", "cache"], [])
    assert added_decoration(replace(update, previous=None), cfg) == (["cache"], [])
