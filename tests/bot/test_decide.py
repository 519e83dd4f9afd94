"""The bot's decision table, case by case: no server, no registry, no GitHub.

Edits come from scanning small files and planning them against fixed digests, as a run
would; pull requests are `PullInfo` values whose bodies hold real state blocks.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import replace

import pytest

from pinbot import prbody
from pinbot.bot.decide import (
    Base,
    Branch,
    ClosePull,
    CloseReason,
    Decline,
    HoldBack,
    LeavePull,
    LeaveReason,
    OpenPull,
    OpenPullRoom,
    RebuildPull,
    UpdatePull,
    decide,
    digests_on_base,
    group_edits,
    update_of,
)
from pinbot.config import Config, GithubConfig
from pinbot.errors import ProblemKind
from pinbot.forge.github import PullInfo, git_blob_id
from pinbot.plan import Edit, Lookup, lookup_key, plan
from pinbot.prbody import PullState
from pinbot.scanners import Occurrence, scan_files

BRANCH = "pinbot/image-digests"
OLD = "sha256:" + "1" * 64
NEW = "sha256:" + "2" * 64
NEWER = "sha256:" + "3" * 64
FILES = {
    "Dockerfile": b"FROM registry.test/acme/web:1.0\nRUN true\n",
    "deploy/app.yaml": (
        b"apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  containers:\n"
        b"    - name: web\n      image: registry.test/acme/web:1.0\n"
    ),
}
_numbers = itertools.count(1)


def scanned(files: Mapping[str, bytes]) -> list[Occurrence]:
    return [o for outcome in scan_files(files).values() for o in outcome.occurrences]


def edits_for(files: Mapping[str, bytes], digest: str) -> tuple[Edit, ...]:
    """The edits a run plans when every tag in `files` resolves to `digest`."""
    occurrences = scanned(files)
    lookups = {
        lookup_key(o.reference): Lookup(digest, verified=True)
        for o in occurrences
        if o.reference is not None
    }
    return tuple(plan(occurrences, lookups).edits)


def base_of(files: Mapping[str, bytes] = FILES) -> Base:
    blobs = {path: git_blob_id(data) for path, data in files.items()}
    return Base(files, blobs, digests_on_base(scanned(files)))


def state_for(
    edits: Sequence[Edit], *, commit: str = "head", files: Mapping[str, bytes] = FILES
) -> PullState:
    """The state pinbot recorded when it wrote these edits over `files`."""
    updates = tuple(sorted(update_of(edit) for edit in edits))
    blobs = {update.file: git_blob_id(files[update.file]) for update in updates}
    return PullState(
        updates, base="base", commit=commit, blobs=blobs, written="2026-01-02T03:04:05Z"
    )


def pull(
    state: PullState | None,
    *,
    status: str = "open",
    merged: bool = False,
    head: str = "head",
    branch: str = BRANCH,
) -> PullInfo:
    number = next(_numbers)
    body = "A pull request.\n\n" + (prbody.state_block(state) if state is not None else "")
    return PullInfo(
        number=number,
        state=status,
        merged=merged,
        title="Pin image digests",
        body=body,
        head_ref=branch,
        head_sha=head,
        head_repository="acme/web",
        url=f"https://github.test/acme/web/pull/{number}",
        api_url=f"https://api.github.test/repos/acme/web/pulls/{number}",
    )


def one_branch(edits: Sequence[Edit], *pulls: PullInfo, base: Base | None = None) -> list[object]:
    decided = decide([Branch(BRANCH, tuple(edits), pulls)], base or base_of(), 10)
    assert not decided.problems, decided.problems
    return list(decided.decisions)


# --- nothing open ----------------------------------------------------------------------------


def test_nothing_needed_and_nothing_open_decides_nothing() -> None:
    assert one_branch(()) == []


def test_edits_and_no_pull_request_open_one_with_every_update() -> None:
    edits = edits_for(FILES, NEW)
    [decision] = one_branch(edits)
    assert isinstance(decision, OpenPull) and decision.branch == BRANCH
    assert {(u.file, u.line, u.old, u.new) for u in decision.proposal.updates} == {
        ("Dockerfile", 1, None, NEW),
        ("deploy/app.yaml", 8, None, NEW),
    }
    assert dict(decision.proposal.blobs) == {p: git_blob_id(d) for p, d in FILES.items()}
    [change] = [c for c in decision.proposal.changes if c.path == "Dockerfile"]
    assert change.updated == f"FROM registry.test/acme/web:1.0@{NEW}\nRUN true\n".encode()


# --- an open pull request --------------------------------------------------------------------


def test_an_open_pull_request_that_proposes_the_same_is_left_up_to_date() -> None:
    edits = edits_for(FILES, NEW)
    open_pull = pull(state_for(edits))
    assert one_branch(edits, open_pull) == [LeavePull(BRANCH, open_pull, LeaveReason.UP_TO_DATE)]


def test_commits_a_person_pushed_leave_the_pull_request_alone_even_when_a_tag_moved() -> None:
    proposed = state_for(edits_for(FILES, NEW), commit="pinbot-commit")
    open_pull = pull(proposed, head="someone-else")
    decisions = one_branch(edits_for(FILES, NEWER), open_pull)
    assert decisions == [LeavePull(BRANCH, open_pull, LeaveReason.FOREIGN_COMMITS)]


def test_a_tag_that_moved_updates_the_open_pull_request_and_says_what_moved() -> None:
    proposed = state_for(edits_for(FILES, NEW))
    open_pull = pull(proposed)
    [decision] = one_branch(edits_for(FILES, NEWER), open_pull)
    assert type(decision) is UpdatePull
    assert decision.pull == open_pull and decision.previous == proposed
    assert [(m.old, m.new) for m in decision.moves] == [(NEW, NEWER)]
    assert {u.new for u in decision.proposal.updates} == {NEWER}


def test_the_base_changing_the_files_under_it_rebuilds_with_the_same_digests() -> None:
    proposed = state_for(edits_for(FILES, NEW))
    changed = {**FILES, "Dockerfile": b"# v2\nFROM registry.test/acme/web:1.0\nRUN make\n"}
    open_pull = pull(proposed)
    [decision] = one_branch(edits_for(changed, NEW), open_pull, base=base_of(changed))
    assert isinstance(decision, RebuildPull) and decision.moves == ()
    assert decision.proposal.blobs["Dockerfile"] == git_blob_id(changed["Dockerfile"])


def test_an_open_pull_request_without_a_state_block_is_rewritten() -> None:
    open_pull = pull(None)
    [decision] = one_branch(edits_for(FILES, NEW), open_pull)
    assert type(decision) is UpdatePull and decision.previous is None and decision.moves == ()


@pytest.mark.parametrize(
    ("on_base", "reason"),
    [(True, CloseReason.ON_BASE), (False, CloseReason.NOTHING_LEFT)],
)
def test_an_open_pull_request_nothing_needs_is_closed_saying_why(
    on_base: bool, reason: CloseReason
) -> None:
    proposed = state_for(edits_for(FILES, NEW))
    open_pull = pull(proposed)
    pinned = {
        path: data.replace(b"web:1.0", f"web:1.0@{NEW}".encode()) for path, data in FILES.items()
    }
    base = base_of(pinned if on_base else {"README.md": b"# gone\n"})
    decisions = one_branch((), open_pull, base=base)
    assert decisions == [ClosePull(BRANCH, open_pull, proposed, reason)]


# --- closed pull requests: a person's answer, or not ---------------------------------------


def test_digests_a_person_declined_are_not_proposed_again() -> None:
    edits = edits_for(FILES, NEW)
    closed = pull(state_for(edits), status="closed")
    decisions = one_branch(edits, closed)
    assert decisions == [Decline(BRANCH, edit, closed.number) for edit in edits]


def test_declined_digests_close_the_open_pull_request_that_still_proposes_them() -> None:
    edits = edits_for(FILES, NEW)
    open_pull = pull(state_for(edits_for(FILES, OLD)))
    closed = pull(state_for(edits), status="closed")
    *declines, close = one_branch(edits, open_pull, closed)
    assert [type(d) for d in declines] == [Decline, Decline]
    assert isinstance(close, ClosePull) and close.reason is CloseReason.NOTHING_LEFT


def test_a_newer_digest_than_the_declined_one_is_proposed() -> None:
    closed = pull(state_for(edits_for(FILES, NEW)), status="closed")
    [decision] = one_branch(edits_for(FILES, NEWER), closed)
    assert isinstance(decision, OpenPull)


def test_only_the_declined_image_tag_digest_is_left_out_everywhere() -> None:
    files = {"Dockerfile": b"FROM registry.test/acme/web:1.0\nFROM registry.test/acme/api:2.0\n"}
    edits = edits_for(files, NEW)
    [api] = [e for e in edits if e.image.endswith("/api")]
    closed = pull(state_for([api], files=files), status="closed")
    decline, opened = one_branch(edits, closed, base=base_of(files))
    assert decline == Decline(BRANCH, api, closed.number)
    assert isinstance(opened, OpenPull)
    assert [u.image for u in opened.proposal.updates] == ["registry.test/acme/web"]


@pytest.mark.parametrize(
    "closed",
    [
        pytest.param(lambda s: pull(s, status="closed", merged=True), id="merged"),
        pytest.param(
            lambda s: pull(PullState(s.updates, closed="on-base"), status="closed"),
            id="closed-by-pinbot",
        ),
        pytest.param(lambda s: pull(None, status="closed"), id="no-state-block"),
    ],
)
def test_a_pull_request_not_closed_by_a_person_declines_nothing(closed: object) -> None:
    edits = edits_for(FILES, NEW)
    make = closed
    assert callable(make)
    [decision] = one_branch(edits, make(state_for(edits)))
    assert isinstance(decision, OpenPull)


# --- files that do not apply -----------------------------------------------------------------


def test_a_file_whose_edits_fail_their_check_is_a_problem_and_the_open_pull_request_stays() -> None:
    edits = [e for e in edits_for(FILES, NEW) if e.file == "Dockerfile"]
    open_pull = pull(state_for(edits_for(FILES, OLD)))
    moved = {**FILES, "Dockerfile": b"FROM registry.test/acme/other:2.0\nRUN true\n"}
    decided = decide([Branch(BRANCH, tuple(edits), (open_pull,))], base_of(moved), 10)
    assert decided.decisions == ()
    [problem] = decided.problems
    assert problem.kind is ProblemKind.WRITE_REFUSED and problem.message.startswith("Dockerfile")


# --- github.max-open-pulls -------------------------------------------------------------------


BY_IMAGE = Config(github=GithubConfig(group="image"))


def image_branches(files: Mapping[str, bytes], **pulls: PullInfo) -> list[Branch]:
    """One branch per image with edits (as `github.group: image` makes them), and one for
    each image in `pulls` (its open pull request), edits or not."""
    groups = {g.name: g for g in group_edits(edits_for(files, NEW), BY_IMAGE)}
    branches = []
    for image in sorted({*groups, *(f"registry.test/acme/{name}" for name in pulls)}):
        name = image.rsplit("/", 1)[1]
        found = (pulls[name],) if name in pulls else ()
        edits = groups[image].edits if image in groups else ()
        branches.append(Branch(f"pinbot/{name}", edits, found, image=image))
    return branches


def open_pull_for(name: str, files: Mapping[str, bytes]) -> PullInfo:
    """An open pull request on image `name`'s branch proposing what is needed now."""
    edits = [e for e in edits_for(files, NEW) if e.image.endswith(f"/{name}")]
    return pull(state_for(edits, files=files), branch=f"pinbot/{name}")


THREE = {
    "Dockerfile": b"FROM registry.test/acme/a:1\nFROM registry.test/acme/b:1\nFROM registry.test/acme/c:1\n"
}


def test_new_pull_requests_over_the_limit_are_held_back_with_one_warning() -> None:
    decided = decide(image_branches(THREE), base_of(THREE), 2)
    first, second, held = decided.decisions
    assert isinstance(first, OpenPull) and first.branch == "pinbot/a"
    assert isinstance(second, OpenPull) and second.branch == "pinbot/b"
    assert held == HoldBack("pinbot/c", "registry.test/acme/c")
    [warning] = decided.problems
    assert warning.kind is ProblemKind.WARNING
    assert warning.message.startswith("1 new pull request held back (registry.test/acme/c): ")


def test_open_pull_requests_are_kept_right_and_count_against_the_limit() -> None:
    a, b = open_pull_for("a", THREE), open_pull_for("b", THREE)
    decided = decide(image_branches(THREE, a=a, b=b), base_of(THREE), 2)
    assert decided.decisions == (
        LeavePull("pinbot/a", a, LeaveReason.UP_TO_DATE),
        LeavePull("pinbot/b", b, LeaveReason.UP_TO_DATE),
        HoldBack("pinbot/c", "registry.test/acme/c"),
    )


def test_a_pull_request_closed_now_makes_room_for_a_new_one() -> None:
    a, b = open_pull_for("a", THREE), open_pull_for("b", THREE)
    # A person pins image a by hand on the base: nothing needs a's pull request any more.
    pinned = {"Dockerfile": THREE["Dockerfile"].replace(b"a:1", f"a:1@{NEW}".encode())}
    decided = decide(image_branches(pinned, a=a, b=b), base_of(pinned), 2)
    close, rebuild, opened = decided.decisions
    assert isinstance(close, ClosePull) and close.reason is CloseReason.ON_BASE
    # The file under b's branch changed on the base: rebuilt, and it still takes room.
    assert isinstance(rebuild, RebuildPull) and rebuild.pull == b
    assert isinstance(opened, OpenPull) and opened.branch == "pinbot/c"
    assert decided.problems == ()


def test_with_no_limit_every_new_pull_request_opens() -> None:
    decided = decide(image_branches(THREE), base_of(THREE), 0)
    assert [type(d) for d in decided.decisions] == [OpenPull, OpenPull, OpenPull]


def test_open_pull_room_frees_a_place_when_a_pull_request_closes() -> None:
    room = OpenPullRoom(2, 1)
    assert room.take("a") and not room.take("b")
    room.release()
    assert room.take("c") and room.held_back == ["b"]


@pytest.mark.parametrize(
    ("limit", "start", "names", "opened", "held_back"),
    [
        (0, 50, ["a", "b"], ["a", "b"], []),
        (2, 0, ["a", "b", "c"], ["a", "b"], ["c"]),
        (2, 3, ["a"], [], ["a"]),  # a lowered limit holds back, and closes nothing
        (1, 1, ["a"], [], ["a"]),
    ],
)
def test_open_pull_room_opens_up_to_the_limit_and_holds_back_the_rest(
    limit: int, start: int, names: list[str], opened: list[str], held_back: list[str]
) -> None:
    room = OpenPullRoom(limit, start)
    assert [name for name in names if room.take(name)] == opened
    assert room.held_back == held_back


def test_open_pull_room_warning_names_a_few_and_counts_the_rest() -> None:
    room = OpenPullRoom(1, 1)
    assert room.warning() is None
    for index in range(7):
        room.take(f"img{index}")
    warning = room.warning()
    assert warning is not None
    assert warning.startswith(
        "7 new pull requests held back (img0, img1, img2, img3, img4 and 2 more): "
    )
    room.release()
    assert room.take("next") and room.open == 1


def test_docstring_examples_hold() -> None:
    import doctest

    import pinbot.bot.decide
    import pinbot.bot.repository

    for module in (pinbot.bot.decide, pinbot.bot.repository):
        assert doctest.testmod(module).failed == 0


# --- a state block that cannot be read ----------------------------------------------------------


def unreadable(pull_request: PullInfo) -> PullInfo:
    """The same pull request with its state block doubled by text above it (a pasted label)."""
    body = pull_request.body.replace("A pull request.", 'Version 1.0 <!-- pinbot:state {"version":1')
    return replace(pull_request, body=body)


def test_an_open_pull_request_whose_state_cannot_be_read_is_left_not_rewritten() -> None:
    open_pull = unreadable(pull(state_for(edits_for(FILES, NEW))))
    assert isinstance(prbody.read_state(open_pull.body), prbody.UnreadableState)
    [decision] = one_branch(edits_for(FILES, NEWER), open_pull)
    assert isinstance(decision, LeavePull) and decision.pull == open_pull
    assert decision.reason is LeaveReason.STATE_UNKNOWN
    assert decision.detail == "its hidden state cannot be read: 2 state blocks"


def test_an_open_pull_request_whose_state_cannot_be_read_is_not_closed_either() -> None:
    open_pull = unreadable(pull(state_for(edits_for(FILES, NEW))))
    [decision] = one_branch((), open_pull, base=base_of({"README.md": b"# gone\n"}))
    assert isinstance(decision, LeavePull) and decision.reason is LeaveReason.STATE_UNKNOWN


def test_a_closed_pull_request_whose_state_cannot_be_read_is_not_reopened() -> None:
    edits = edits_for(FILES, NEW)
    closed = unreadable(pull(state_for(edits), status="closed"))
    [decision] = one_branch(edits, closed)
    assert isinstance(decision, LeavePull) and decision.pull == closed
    assert decision.reason is LeaveReason.STATE_UNKNOWN


def test_an_open_pull_request_is_left_too_when_a_closed_one_s_state_cannot_be_read() -> None:
    edits = edits_for(FILES, NEWER)
    open_pull = pull(state_for(edits_for(FILES, NEW)))
    closed = unreadable(pull(state_for(edits_for(FILES, OLD)), status="closed"))
    decisions = one_branch(edits, open_pull, closed)
    assert [(type(d), d.pull) for d in decisions] == [(LeavePull, open_pull), (LeavePull, closed)]
    assert all(d.reason is LeaveReason.STATE_UNKNOWN for d in decisions)


def test_unreadable_states_that_decide_nothing_say_nothing() -> None:
    edits = edits_for(FILES, NEW)
    merged = unreadable(pull(state_for(edits), status="closed", merged=True))
    [decision] = one_branch(edits, merged)
    assert isinstance(decision, OpenPull)  # a merge declines nothing
    closed = unreadable(pull(state_for(edits), status="closed"))
    assert one_branch((), closed) == []  # nothing to propose, nothing open
