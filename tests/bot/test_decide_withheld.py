"""Decisions for edits the trust gate held back: said once each whatever becomes of the branch,
never proposed, and a pull request left with nothing else closed saying why. No server."""

from __future__ import annotations

from collections.abc import Sequence

from pinbot.bot.decide import (
    Branch,
    ClosePull,
    CloseReason,
    LeavePull,
    LeaveReason,
    OpenPull,
    UpdatePull,
    Withhold,
    decide,
    withheld_by_branch,
)
from pinbot.config import Config, GithubConfig
from pinbot.plan import Edit
from pinbot.supplychain.gate import Rule
from pinbot.supplychain.stage import HeldDigest
from tests.bot.test_decide import (
    BRANCH,
    NEW,
    NEWER,
    base_of,
    edits_for,
    pull,
    state_for,
    unreadable,
)

FILES = {
    "Dockerfile": (
        b"FROM registry.test/acme/web:1.0\nFROM registry.test/acme/worker:1.0 AS worker\n"
    ),
}


def held(edit: Edit, rule: Rule = Rule.UNSIGNED, reason: str = "no signature found") -> HeldDigest:
    return HeldDigest(edit.occurrence, edit.new_digest, rule, reason, edit)


def split(edits: Sequence[Edit], image: str) -> tuple[tuple[Edit, ...], tuple[HeldDigest, ...]]:
    """The edits of every other image, and those of `image` as the gate held them."""
    kept = tuple(edit for edit in edits if not edit.image.endswith(image))
    return kept, tuple(held(edit) for edit in edits if edit.image.endswith(image))


def decided(branch: Branch) -> list[object]:
    result = decide([branch], base_of(FILES), 10)
    assert not result.problems, result.problems
    return list(result.decisions)


def test_a_held_edit_is_withheld_and_the_rest_is_opened() -> None:
    kept, withheld = split(edits_for(FILES, NEW), "worker")
    withhold, opened = decided(Branch(BRANCH, kept, (), withheld=withheld))
    assert withhold == Withhold(BRANCH, withheld[0])
    assert isinstance(opened, OpenPull)
    assert [u.image for u in opened.proposal.updates] == ["registry.test/acme/web"]


def test_only_held_edits_open_nothing() -> None:
    _, withheld = split(edits_for(FILES, NEW), "")
    assert decided(Branch(BRANCH, (), (), withheld=withheld)) == [
        Withhold(BRANCH, found) for found in withheld
    ]


def test_an_open_pull_request_left_with_only_held_edits_is_closed_with_them() -> None:
    edits = edits_for(FILES, NEWER)
    _, withheld = split(edits, "")
    open_pull = pull(state_for(edits_for(FILES, NEW), files=FILES))
    *withholds, close = decided(Branch(BRANCH, (), (open_pull,), withheld=withheld))
    assert len(withholds) == 2
    assert isinstance(close, ClosePull) and close.pull == open_pull
    assert (close.reason, close.withheld) == (CloseReason.HELD_BACK, withheld)


def test_an_open_pull_request_keeps_its_other_updates_and_drops_the_held_one() -> None:
    edits = edits_for(FILES, NEWER)
    kept, withheld = split(edits, "worker")
    open_pull = pull(state_for(edits_for(FILES, NEW), files=FILES))
    withhold, update = decided(Branch(BRANCH, kept, (open_pull,), withheld=withheld))
    assert isinstance(withhold, Withhold)
    assert isinstance(update, UpdatePull)
    assert [u.image for u in update.proposal.updates] == ["registry.test/acme/web"]


def test_held_edits_are_said_when_the_pull_request_state_cannot_be_read() -> None:
    edits = edits_for(FILES, NEWER)
    kept, withheld = split(edits, "worker")
    open_pull = unreadable(pull(state_for(edits_for(FILES, NEW), files=FILES)))
    withhold, leave = decided(Branch(BRANCH, kept, (open_pull,), withheld=withheld))
    assert isinstance(withhold, Withhold)
    assert isinstance(leave, LeavePull) and leave.reason is LeaveReason.STATE_UNKNOWN


def test_held_edits_go_under_the_branch_they_would_have_gone_to() -> None:
    _, withheld = split(edits_for(FILES, NEW), "")
    by_image = Config(github=GithubConfig(group="image"))
    assert withheld_by_branch(withheld, by_image) == {
        "pinbot/registry.test-acme-web": withheld[:1],
        "pinbot/registry.test-acme-worker": withheld[1:],
    }
    assert withheld_by_branch(withheld, Config()) == {BRANCH: withheld}
