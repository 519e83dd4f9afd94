"""What one repository's pinbot pull requests need, decided without touching GitHub.

Pure: from the edits the base branch needs, grouped into branches, the pinbot pull requests
found on each branch (with their hidden state) and the digests the base already has, it
returns small immutable decisions (open, update, rebuild, close, leave, hold back, decline,
withhold what the trust gate did not let through); an update that now waits out `min-age` or
is left alone is withdrawn, saying why.
An executor (`pinbot.bot.execute`) carries them out against the forge, or describes them.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

from pinbot import prbody
from pinbot.apply import FileChange
from pinbot.bot.rules import group_of
from pinbot.config import Config
from pinbot.errors import Problem, ProblemKind
from pinbot.forge.github import PullInfo
from pinbot.pipeline import build_changes
from pinbot.plan import Edit, Plan, Waiting
from pinbot.prbody import Move, PullState, Update
from pinbot.scanners import Occurrence, Status
from pinbot.supplychain.stage import HeldDigest

REPOSITORY_BRANCH = "image-digests"
#: Before a rule's group name in the name of its branch.
GROUP_BRANCH = "group-"
#: Pull requests held back by `github.max-open-pulls` that a warning names one by one.
MAX_HELD_BACK_NAMES = 5


class CloseReason(enum.StrEnum):
    """Why pinbot closes its own pull request (recorded in the closed pull request's state)."""

    ON_BASE = "on-base"  # the base branch already has every digest it proposed
    NOTHING_LEFT = "nothing-left"  # the references it changed were edited or removed
    HELD_BACK = "held-back"  # what it would propose now failed the trust gate (`verify:`)
    WAITING = "waiting"  # what it proposed was replaced inside a `min-age` window
    IGNORED = "ignored"  # a rule or `scan.ignore-images` leaves what it changed alone now
    WITHDRAWN = "withdrawn"  # some of both


class LeaveReason(enum.StrEnum):
    """Why an open pull request is left as it is."""

    UP_TO_DATE = "up-to-date"  # same digests, and the files under it unchanged on the base
    FOREIGN_COMMITS = "foreign-commits"  # its branch has commits pinbot did not make
    # A state block on the branch cannot be read: what was proposed, and what a person
    # declined, is unknown, so nothing there is rewritten, closed or proposed again.
    STATE_UNKNOWN = "state-unknown"


class WithdrawReason(enum.StrEnum):
    WAITING = "waiting"
    IGNORED = "ignored"


@dataclass(frozen=True)
class Withdrawal:
    """An update an open pull request proposed that is not proposed any more, and why: the
    tag's new digest waits out `min-age` (`waiting` says until when), or the reference is left
    alone now (`note` says by what)."""

    update: Update
    reason: WithdrawReason
    waiting: Waiting | None = None
    note: str = ""


@dataclass(frozen=True)
class Group:
    """The edits that go into one pull request, and the branch that carries them."""

    name: str  # a rule's group, or the image name with `github.group: image`, else ""
    branch: str
    edits: tuple[Edit, ...]
    named: bool = False  # a rule's named group: its pull request is named for it


@dataclass(frozen=True)
class Branch:
    """One branch pinbot may write: what the base needs on it now, and its pull requests."""

    name: str
    edits: tuple[Edit, ...] = ()
    pulls: tuple[PullInfo, ...] = ()  # every pull request from this branch, newest first
    image: str = ""  # with `github.group: image`, the image whose edits it carries
    withheld: tuple[HeldDigest, ...] = ()  # edits for it the trust gate held back
    group: str = ""  # the rule's named group whose edits it carries
    waiting: tuple[Waiting, ...] = ()  # updates for it that `min-age` holds back

    @property
    def open_pull(self) -> PullInfo | None:
        return next((pull for pull in self.pulls if pull.state == "open"), None)


@dataclass(frozen=True)
class Proposal:
    """What a pull request would carry: the changed files, the updates they make, and the git
    blob ids of those files on the base (so a later run sees the base change under them)."""

    changes: tuple[FileChange, ...]
    updates: tuple[Update, ...]
    blobs: Mapping[str, str]
    group: str = ""  # the rule's named group it is for: its title says so

    @property
    def edits(self) -> tuple[Edit, ...]:
        return tuple(edit for change in self.changes for edit in change.edits)


@dataclass(frozen=True)
class OpenPull:
    """Open a new pull request from `branch`."""

    branch: str
    proposal: Proposal


@dataclass(frozen=True)
class UpdatePull:
    """Rewrite an open pull request: new digests (`moves` says which tags moved since its
    last write, for one comment), or new updates on a changed base."""

    branch: str
    pull: PullInfo
    previous: PullState | None
    proposal: Proposal
    moves: tuple[Move, ...] = ()
    withdrawn: tuple[Withdrawal, ...] = ()  # what it proposed and no longer does, and why


@dataclass(frozen=True)
class RebuildPull(UpdatePull):
    """Rewrite an open pull request with the same digests on a base that changed the files
    under it (nothing moved: no comment)."""


@dataclass(frozen=True)
class ClosePull:
    """Close a pinbot pull request nothing needs any more, saying why, and delete its branch."""

    branch: str
    pull: PullInfo
    state: PullState | None
    reason: CloseReason
    withheld: tuple[HeldDigest, ...] = ()  # with `HELD_BACK`: what the gate held, and why
    withdrawn: tuple[Withdrawal, ...] = ()  # with WAITING, IGNORED, WITHDRAWN: what, and why


@dataclass(frozen=True)
class LeavePull:
    """Leave a pull request as it is (and, for an unknown state, the branch with it)."""

    branch: str
    pull: PullInfo
    reason: LeaveReason
    detail: str = ""  # with an unknown state, which pull request's and why
    # What it would carry now (up to date, or under a person's commits): automerge judges it.
    proposal: Proposal | None = field(default=None, compare=False)


@dataclass(frozen=True)
class HoldBack:
    """A new pull request that waits: `github.max-open-pulls` are open already."""

    branch: str
    name: str  # its group or image, or the branch


@dataclass(frozen=True)
class Decline:
    """An edit not proposed: a person closed a pull request that proposed it, unmerged."""

    branch: str
    edit: Edit
    pull_number: int


@dataclass(frozen=True)
class Withhold:
    """An edit not proposed: its new digest failed the trust gate (`verify:`), for a reason."""

    branch: str
    held: HeldDigest


Decision = OpenPull | UpdatePull | ClosePull | LeavePull | HoldBack | Decline | Withhold


@dataclass(frozen=True)
class Decisions:
    """Everything decided for one repository, in the order to carry it out."""

    decisions: tuple[Decision, ...] = ()
    problems: tuple[Problem, ...] = ()


# --- grouping ------------------------------------------------------------------------------


def branch_slug(image: str) -> str:
    """A branch-name-safe spelling of an image name.

    >>> branch_slug("ghcr.io/acme/api")
    'ghcr.io-acme-api'
    """
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", image).strip("-.")
    return re.sub(r"\.{2,}", ".", slug) or "image"


def group_edits(edits: Sequence[Edit], config: Config) -> list[Group]:
    """One group per rule's named group (branch `group-NAME`), and for the other edits one
    per repository (default) or one per image name; in branch order."""
    found: dict[str, tuple[str, bool, list[Edit]]] = {}
    for edit in edits:
        branch, name, named = branch_of(edit.occurrence, config)
        # Two names that make one branch (an image and a group spelt alike) share it: one
        # pull request with both, never one edit lost.
        found.setdefault(branch, (name, named, []))[2].append(edit)
    return [
        Group(name, branch, tuple(group), named)
        for branch, (name, named, group) in sorted(found.items())
    ]


def branch_of(occurrence: Occurrence, config: Config) -> tuple[str, str, bool]:
    """The branch an update of the occurrence goes to, the name of its group (a rule's group,
    or the image with `github.group: image`, else ""), and whether that is a rule's group."""
    prefix = config.github.branch_prefix
    named = group_of(occurrence, config)
    if named is not None:
        return prefix + GROUP_BRANCH + branch_slug(named), named, True
    if config.github.group == "image":
        assert occurrence.reference is not None
        image = occurrence.reference.familiar_name
        return prefix + branch_slug(image), image, False
    return prefix + REPOSITORY_BRANCH, "", False


def waiting_by_branch(
    waiting: Sequence[Waiting], config: Config
) -> dict[str, tuple[Waiting, ...]]:
    """The updates `min-age` holds back, under the branch each would go to."""
    found: dict[str, list[Waiting]] = {}
    for held in waiting:
        found.setdefault(branch_of(held.occurrence, config)[0], []).append(held)
    return {branch: tuple(held) for branch, held in found.items()}


def lists_open_branches(config: Config) -> bool:
    """Whether pinbot's open pull requests may sit on branches that only a listing finds (one
    per image or per named group), rather than on the one repository branch."""
    return config.github.group == "image" or any(rule.group for rule in config.rules)


def withheld_by_branch(
    held: Sequence[HeldDigest], config: Config
) -> dict[str, tuple[HeldDigest, ...]]:
    """The held-back edits under the branch each would have gone to."""
    by_edit = {id(found.edit): found for found in held if found.edit is not None}
    edits = [found.edit for found in held if found.edit is not None]
    return {
        group.branch: tuple(by_edit[id(edit)] for edit in group.edits)
        for group in group_edits(edits, config)
    }


def branches_to_reconcile(
    groups: Iterable[Group], open_branches: Iterable[str], config: Config
) -> list[str]:
    """Every branch whose pull requests are read: those with edits, and those that may hold a
    pull request to keep right or close (the one repository branch, or with image grouping
    every branch under the prefix with an open pull request)."""
    branches = {group.branch for group in groups} | set(open_branches)
    if config.github.group == "repository":
        branches.add(config.github.branch_prefix + REPOSITORY_BRANCH)
    return sorted(branches)


# --- small pure pieces -----------------------------------------------------------------------


def update_of(edit: Edit) -> Update:
    return Update(
        file=edit.file,
        line=edit.occurrence.line,
        image=edit.image,
        tag=edit.tag,
        old=edit.old_digest,
        new=edit.new_digest,
    )


#: Where an update is, as the base's references and a pull request's updates both say it.
UpdateKey = tuple[str, str, str | None]  # file, image (familiar name), tag


def _key(occurrence: Occurrence) -> UpdateKey:
    reference = occurrence.reference
    assert reference is not None
    return occurrence.file, reference.familiar_name, reference.tag


def ignored_on_base(occurrences: Iterable[Occurrence]) -> dict[UpdateKey, str]:
    """The references the base has that are left alone (a rule's `ignore`,
    `scan.ignore-images`, a `pinbot: ignore` comment), with the note saying by what."""
    ignored = {}
    for occurrence in occurrences:
        reference = occurrence.reference
        if reference is not None and occurrence.status is Status.IGNORED:
            ignored[_key(occurrence)] = occurrence.note or "ignored"
    return ignored


def withdrawals(
    state: PullState | None, waiting: Iterable[Waiting], ignored: Mapping[UpdateKey, str]
) -> tuple[Withdrawal, ...]:
    """The updates `state` records that now wait out `min-age` or are left alone."""
    if state is None:
        return ()
    waits = {_key(w.occurrence): w for w in waiting if w.occurrence.reference is not None}
    found = []
    for update in state.updates:
        key = (update.file, update.image, update.tag)
        if key in ignored:
            found.append(Withdrawal(update, WithdrawReason.IGNORED, note=ignored[key]))
        elif key in waits:
            found.append(Withdrawal(update, WithdrawReason.WAITING, waiting=waits[key]))
    return tuple(found)


def digests_on_base(occurrences: Iterable[Occurrence]) -> frozenset[str]:
    """The answer ids (see `prbody.answer_id`) of the digests the base branch already has."""
    found = set()
    for occurrence in occurrences:
        reference = occurrence.reference
        if reference is not None and reference.digest is not None:
            found.add(prbody.answer_id(reference.familiar_name, reference.tag, reference.digest))
    return frozenset(found)


def declined_answers(pulls: Iterable[PullInfo]) -> dict[str, int]:
    """What people declined by closing a pinbot pull request unmerged: answer id -> the pull
    request's number (the newest one that declined it)."""
    declined: dict[str, int] = {}
    for pull in pulls:
        if pull.state != "closed" or pull.merged:
            continue
        state = prbody.read_state(pull.body)
        if not isinstance(state, PullState) or state.closed is not None:
            # Not pinbot's, or closed by pinbot itself: not a person's answer. (An unknown
            # state never gets this far: `decide_branch` leaves its branch alone.)
            continue
        for key in state.answer_ids():
            declined.setdefault(key, pull.number)
    return declined


def propose(
    edits: Sequence[Edit], files: Mapping[str, bytes], blobs: Mapping[str, str], group: str = ""
) -> tuple[Proposal | None, list[Problem]]:
    """The changed files for these edits (for the rule's named `group`, if any); a file that
    fails its check is a problem, not proposed. None when no file changes."""
    changes, errors = build_changes(files, Plan(edits=list(edits)))
    problems = [Problem(ProblemKind.WRITE_REFUSED, error) for error in errors]
    if not changes:
        return None, problems
    updates = tuple(sorted(update_of(edit) for change in changes for edit in change.edits))
    under = MappingProxyType({change.path: blobs[change.path] for change in changes})
    return Proposal(tuple(changes), updates, under, group), problems


@dataclass
class OpenPullRoom:
    """Room for new pinbot pull requests in one repository under `github.max-open-pulls`.

    Counts the pull requests open when the run started, those it opens and those it closes;
    a new one that finds no room is held back (by name) for a later run.
    """

    limit: int  # 0: no limit
    open: int = 0
    held_back: list[str] = field(default_factory=list)

    def take(self, name: str) -> bool:
        """Whether a new pull request (`name`: its image, or the branch) may open now."""
        if self.limit and self.open >= self.limit:
            self.held_back.append(name)
            return False
        self.open += 1
        return True

    def release(self) -> None:
        self.open = max(0, self.open - 1)

    def warning(self) -> str | None:
        """What the run summary says about the pull requests held back, if any."""
        if not self.held_back:
            return None
        count = len(self.held_back)
        names = ", ".join(self.held_back[:MAX_HELD_BACK_NAMES])
        if count > MAX_HELD_BACK_NAMES:
            names += f" and {count - MAX_HELD_BACK_NAMES} more"
        return (
            f"{count} new pull request{'s' if count != 1 else ''} held back ({names}): "
            f"github.max-open-pulls allows {self.limit} open at once; later runs open "
            "them as open ones are merged or closed"
        )


# --- the decisions ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Base:
    """What the base branch holds: the scanned files, their blob ids, the digests it pins."""

    files: Mapping[str, bytes]
    blobs: Mapping[str, str]
    digests: frozenset[str]
    ignored: Mapping[UpdateKey, str] = field(default_factory=dict)  # see `ignored_on_base`


def decide(branches: Sequence[Branch], base: Base, max_open_pulls: int) -> Decisions:
    """The decisions for every branch of one repository.

    Branches with an open pull request come first: one closed now makes room for a new one
    under `max_open_pulls` (0: no limit).
    """
    ordered = sorted(branches, key=lambda branch: (branch.open_pull is None, branch.name))
    room = OpenPullRoom(max_open_pulls, sum(branch.open_pull is not None for branch in ordered))
    decisions: list[Decision] = []
    problems: list[Problem] = []
    for branch in ordered:
        made, found = decide_branch(branch, base, room)
        decisions.extend(made)
        problems.extend(found)
    warning = room.warning()
    if warning is not None:
        problems.append(Problem(ProblemKind.WARNING, warning))
    return Decisions(tuple(decisions), tuple(problems))


def decide_branch(
    branch: Branch, base: Base, room: OpenPullRoom
) -> tuple[list[Decision], list[Problem]]:
    """The decisions for one branch; `room` counts the open pull requests across branches."""
    open_pull = branch.open_pull
    # What the trust gate held back is said whatever becomes of the branch.
    withheld: list[Decision] = [Withhold(branch.name, held) for held in branch.withheld]
    unknown = _unknown_states(branch)
    if unknown and (branch.edits or open_pull is not None):
        return [*withheld, *_leave_unknown(branch, unknown)], []
    declined = declined_answers(branch.pulls)
    kept = [edit for edit in branch.edits if update_of(edit).answer_id not in declined]
    decisions: list[Decision] = [
        *withheld,
        *(
            Decline(branch.name, edit, declined[update_of(edit).answer_id])
            for edit in branch.edits
            if edit not in kept
        ),
    ]
    if not kept:
        if open_pull is not None:
            decisions.append(_close(branch, open_pull, base))
            room.release()
        return decisions, []
    proposal, problems = propose(kept, base.files, base.blobs, branch.group)
    if proposal is None:
        return decisions, problems  # nothing applies: an open pull request is left alone
    name = branch.group or branch.image or branch.name
    if open_pull is not None:
        decisions.append(_rewrite_or_leave(branch, open_pull, proposal, base))
    elif room.take(name):
        decisions.append(OpenPull(branch.name, proposal))
    else:
        decisions.append(HoldBack(branch.name, name))
    return decisions, problems


def _unknown_states(branch: Branch) -> list[tuple[PullInfo, str]]:
    """The pull requests of the branch whose state block cannot be read, with why; merged
    ones decline nothing and are never rewritten, so they do not count."""
    unknown = []
    for pull in branch.pulls:
        state = prbody.read_state(pull.body)
        if isinstance(state, prbody.UnreadableState) and not pull.merged:
            unknown.append((pull, state.reason))
    return unknown


def _leave_unknown(branch: Branch, unknown: Sequence[tuple[PullInfo, str]]) -> list[Decision]:
    """Leave the branch as it is: its open pull request, and each one whose state is unknown."""
    left: list[Decision] = []
    open_pull = branch.open_pull
    if open_pull is not None and all(pull != open_pull for pull, _ in unknown):
        detail = f"the hidden state of #{unknown[0][0].number} cannot be read"
        left.append(LeavePull(branch.name, open_pull, LeaveReason.STATE_UNKNOWN, detail))
    left.extend(
        LeavePull(
            branch.name, pull, LeaveReason.STATE_UNKNOWN, f"its hidden state cannot be read: {why}"
        )
        for pull, why in unknown
    )
    return left


def _recorded(pull: PullInfo) -> PullState | None:
    """The state of a pull request whose block reads, or None when it has none (a block that
    does not read never gets here, see `_unknown_states`)."""
    state = prbody.read_state(pull.body)
    return state if isinstance(state, PullState) else None


def _close(branch: Branch, pull: PullInfo, base: Base) -> ClosePull:
    state = _recorded(pull)
    if state is not None and state.answer_ids() <= base.digests:
        return ClosePull(branch.name, pull, state, CloseReason.ON_BASE)
    if branch.withheld:
        return ClosePull(branch.name, pull, state, CloseReason.HELD_BACK, branch.withheld)
    withdrawn = withdrawals(state, branch.waiting, base.ignored)
    if not withdrawn:
        return ClosePull(branch.name, pull, state, CloseReason.NOTHING_LEFT)
    reasons = {withdrawal.reason for withdrawal in withdrawn}
    reason = (
        CloseReason.WITHDRAWN
        if len(reasons) > 1
        else CloseReason.WAITING
        if WithdrawReason.WAITING in reasons
        else CloseReason.IGNORED
    )
    return ClosePull(branch.name, pull, state, reason, withdrawn=withdrawn)


def _rewrite_or_leave(branch: Branch, pull: PullInfo, proposal: Proposal, base: Base) -> Decision:
    state = _recorded(pull)
    name = branch.name
    if state is None:
        return UpdatePull(name, pull, None, proposal)
    if state.commit and pull.head_sha != state.commit:
        return LeavePull(name, pull, LeaveReason.FOREIGN_COMMITS, proposal=proposal)
    if state.proposes(proposal.updates, proposal.blobs):
        # Same digests, and the base has not changed the files under the branch: a base that
        # moved elsewhere merges cleanly, so the branch is left alone.
        return LeavePull(name, pull, LeaveReason.UP_TO_DATE, proposal=proposal)
    if state.answer_ids() == {update.answer_id for update in proposal.updates}:
        return RebuildPull(name, pull, state, proposal)
    moves = tuple(prbody.moves(state, proposal.updates))
    # What it proposed and no longer does, because it waits or is left alone, is said.
    still = {(u.file, u.image, u.tag) for u in proposal.updates}
    withdrawn = tuple(
        w
        for w in withdrawals(state, branch.waiting, base.ignored)
        if (w.update.file, w.update.image, w.update.tag) not in still
    )
    return UpdatePull(name, pull, state, proposal, moves, withdrawn)
