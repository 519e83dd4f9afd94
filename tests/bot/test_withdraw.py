"""Reconciling what an open pull request proposed with what now waits out `min-age` or is left
alone: updated or closed, with a comment saying why. The decision table, then the comments."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import cmarkgfm

from pinbot.bot.decide import (
    Base,
    Branch,
    ClosePull,
    CloseReason,
    UpdatePull,
    WithdrawReason,
    decide,
    digests_on_base,
    ignored_on_base,
)
from pinbot.bot.execute import closed_withdrawn_comment, withdrawn_line
from pinbot.forge.github import git_blob_id
from pinbot.plan import Waiting
from pinbot.scanners import scan_files
from tests.bot.test_decide import BRANCH, FILES, NEW, NEWER, base_of, edits_for, pull, state_for

UNTIL = datetime(2026, 3, 4, 5, 6, tzinfo=UTC)
TWO = {
    **FILES,
    "compose.yaml": b"services:\n  cache:\n    image: registry.test/acme/cache:7\n",
}


def waiting(files: dict[str, bytes], digest: str, image: str = "") -> tuple[Waiting, ...]:
    return tuple(
        Waiting(edit.occurrence, digest, UNTIL, timedelta(days=3))
        for edit in edits_for(files, digest)
        if edit.image.endswith(image)
    )


def ignoring(files: dict[str, bytes], *globs: str) -> Base:
    occurrences = [
        o for outcome in scan_files(files, ignore_images=globs).values() for o in outcome.occurrences
    ]
    blobs = {path: git_blob_id(data) for path, data in files.items()}
    return Base(files, blobs, digests_on_base(occurrences), ignored_on_base(occurrences))


def test_a_pull_request_whose_digest_was_replaced_inside_the_window_is_closed_saying_why() -> None:
    proposed = pull(state_for(edits_for(FILES, NEW)))
    branch = Branch(BRANCH, (), (proposed,), waiting=waiting(FILES, NEWER))
    [close] = decide([branch], base_of(FILES), 10).decisions
    assert isinstance(close, ClosePull) and close.reason is CloseReason.WAITING
    assert [(w.update.file, w.reason) for w in close.withdrawn] == [
        ("Dockerfile", WithdrawReason.WAITING),
        ("deploy/app.yaml", WithdrawReason.WAITING),
    ]
    comment = closed_withdrawn_comment(close.withdrawn)
    shown = cmarkgfm.github_flavored_markdown_to_html(comment)
    assert "registry.test/acme/web:1.0</code> (<code>Dockerfile:1</code>): the tag moved to " in shown
    assert f"<code>{NEWER[:19]}</code> inside its settle window; proposed once it has settled, " in shown
    assert "after 2026-03-04 05:06 UTC (min-age 3d)" in shown


def test_a_pull_request_keeps_what_still_stands_and_says_what_it_no_longer_proposes() -> None:
    edits = edits_for(TWO, NEW)
    proposed = pull(state_for(edits, files=TWO))
    # The cache tag moved again and waits; web is still as proposed.
    still = tuple(e for e in edits if not e.image.endswith("cache"))
    branch = Branch(BRANCH, still, (proposed,), waiting=waiting(TWO, NEWER, "cache"))
    [update] = decide([branch], base_of(TWO), 10).decisions
    assert isinstance(update, UpdatePull)
    assert {u.image for u in update.proposal.updates} == {"registry.test/acme/web"}
    [gone] = update.withdrawn
    assert gone.update.image == "registry.test/acme/cache" and gone.reason is WithdrawReason.WAITING


def test_a_digest_that_now_waits_under_a_new_window_says_so_without_a_move() -> None:
    proposed = pull(state_for(edits_for(FILES, NEW)))
    branch = Branch(BRANCH, (), (proposed,), waiting=waiting(FILES, NEW))
    [close] = decide([branch], base_of(FILES), 10).decisions
    assert isinstance(close, ClosePull) and close.reason is CloseReason.WAITING
    line = withdrawn_line(close.withdrawn[0])
    assert f"`{NEW[:19]}` waits out its settle window until 2026-03-04 05:06 UTC (min-age 3d)" in line


def test_an_image_a_rule_now_ignores_closes_its_pull_request_saying_so() -> None:
    proposed = pull(state_for(edits_for(FILES, NEW)))
    [close] = decide([Branch(BRANCH, (), (proposed,))], ignoring(FILES, "*/acme/web"), 10).decisions
    assert isinstance(close, ClosePull) and close.reason is CloseReason.IGNORED
    assert {w.note for w in close.withdrawn} == {"ignored by scan.ignore-images"}
    assert "left alone now (`ignored by scan.ignore-images`)" in withdrawn_line(close.withdrawn[0])


def test_some_waiting_and_some_ignored_is_withdrawn() -> None:
    proposed = pull(state_for(edits_for(TWO, NEW), files=TWO))
    branch = Branch(BRANCH, (), (proposed,), waiting=waiting(TWO, NEWER, "cache"))
    [close] = decide([branch], ignoring(TWO, "*/acme/web"), 10).decisions
    assert isinstance(close, ClosePull) and close.reason is CloseReason.WITHDRAWN
    assert sorted(w.reason for w in close.withdrawn) == [
        WithdrawReason.IGNORED,
        WithdrawReason.IGNORED,
        WithdrawReason.WAITING,
    ]


def test_digests_already_on_the_base_and_references_edited_away_keep_their_reasons() -> None:
    proposed = pull(state_for(edits_for(FILES, NEW)))
    pinned = {path: data.replace(b":1.0\n", f":1.0@{NEW}\n".encode()) for path, data in FILES.items()}
    branch = Branch(BRANCH, (), (proposed,), waiting=waiting(pinned, NEWER))
    [close] = decide([branch], base_of(pinned), 10).decisions
    assert isinstance(close, ClosePull) and close.reason is CloseReason.ON_BASE
    gone = {"README.md": b"# nothing here\n"}
    [close] = decide([Branch(BRANCH, (), (proposed,))], base_of(gone), 10).decisions
    assert isinstance(close, ClosePull) and close.reason is CloseReason.NOTHING_LEFT
    assert close.withdrawn == ()
