"""Carrying out a repository's decisions: against GitHub, or (dry run) as a description.

Both executors take the same decisions; nothing here decides anything. What was done is
recorded in the repository's `RepositoryResult`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Protocol

from github.Repository import Repository

from pinbot import prbody
from pinbot.bot.decide import (
    ClosePull,
    CloseReason,
    Decision,
    Decline,
    HoldBack,
    LeavePull,
    LeaveReason,
    OpenPull,
    RebuildPull,
    UpdatePull,
    Withdrawal,
    WithdrawReason,
    Withhold,
)
from pinbot.bot.result import (
    DeclinedUpdate,
    PlannedWrite,
    PullAction,
    PullActionKind,
    RepositoryResult,
)
from pinbot.bot.rules import edits_settings, updates_settings
from pinbot.config import Config, GithubConfig
from pinbot.config._values import format_duration
from pinbot.errors import Problem, ProblemKind
from pinbot.forge.github import ForgeError, GitHubForge, PullInfo, Snapshot
from pinbot.notes import add_lines, moved_line, short_digest, timestamp
from pinbot.plan import Edit
from pinbot.prbody import PullState
from pinbot.report.escape import code
from pinbot.supplychain.notes import held_back_comment

#: Makes the per-image notes for a pull request's edits (Markdown blocks, one per image).
NotesSource = Callable[[Sequence[Edit]], list[str]]
#: The time a run writes into the state blocks of the pull requests it writes.
Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


class Executor(Protocol):
    """Carries out the decisions that write; `written` holds, by branch, each pull request it
    opened or updated, at its new head (for automerge to judge)."""

    written: dict[str, PullInfo]

    def open(self, decision: OpenPull) -> None: ...

    def update(self, decision: UpdatePull) -> None: ...

    def close(self, decision: ClosePull) -> None: ...


def carry_out(decisions: Sequence[Decision], executor: Executor, result: RepositoryResult) -> None:
    """Each decision in order: writes through `executor`, the rest recorded as they are."""
    for decision in decisions:
        if isinstance(decision, OpenPull):
            executor.open(decision)
        elif isinstance(decision, UpdatePull):
            executor.update(decision)
        elif isinstance(decision, ClosePull):
            executor.close(decision)
        elif isinstance(decision, LeavePull):
            _record_left(decision, result)
        elif isinstance(decision, HoldBack):
            result.held_back.append(decision.name)
        elif isinstance(decision, Withhold):
            result.problems.append(decision.held.problem())
        elif isinstance(decision, Decline):
            edit = decision.edit
            result.declined.append(
                DeclinedUpdate(
                    edit.occurrence.location,
                    f"{edit.image}:{edit.tag}",
                    edit.new_digest,
                    decision.pull_number,
                )
            )


def warning(message: str) -> Problem:
    return Problem(ProblemKind.WARNING, message)


def _record_left(decision: LeavePull, result: RepositoryResult) -> None:
    pull = decision.pull
    if decision.reason is LeaveReason.FOREIGN_COMMITS:
        result.problems.append(
            warning(
                f"#{pull.number}: branch {decision.branch} has commits pinbot did not make; "
                "left as it is"
            )
        )
    elif decision.reason is LeaveReason.STATE_UNKNOWN:
        # Nothing on the branch is written: the run could not do what it is for there.
        result.problems.append(
            Problem(
                ProblemKind.WRITE_REFUSED,
                f"#{pull.number}: {decision.detail}; branch {decision.branch} is left as it "
                "is, and nothing is proposed on it until the block is put right or removed",
            )
        )
    if pull.state != "open":
        return
    action = PullAction(
        PullActionKind.LEFT, pull.number, pull.url, decision.branch, decision.reason
    )
    result.actions.append(action)


def _title(decision: OpenPull | UpdatePull, github: GithubConfig) -> str:
    # The prefix is applied whenever the pull request is written: one opened before it was
    # set is retitled on its next update, never by a run that would write nothing else.
    proposal = decision.proposal
    return prbody.title(proposal.updates, github.title_prefix, proposal.group)


def added_decoration(decision: UpdatePull, config: Config) -> tuple[list[str], list[str]]:
    """What an update adds to a pull request: the labels the rules of its updates give that it
    does not carry (labels follow the rules whenever pinbot writes it), and the reviewers of
    the rules of updates that join it now (a review is asked for once, when an image under
    that reviewer's rule comes in, not again on every write)."""
    now = edits_settings(decision.proposal.edits, config)
    labels = [label for label in now.labels if label not in decision.pull.labels]
    previous = decision.previous
    if previous is None or previous.is_compact:
        return labels, []  # what it held before is not known: ask no one more
    before = updates_settings(previous.updates, config)
    return labels, [login for login in now.reviewers if login not in before.reviewers]


def withdrawn_line(withdrawal: Withdrawal) -> str:
    """One update no longer proposed, and why, as a Markdown list item (every value in a code
    span: image names, files and notes come from the repository)."""
    update = withdrawal.update
    name = code(f"{update.image}:{update.tag}" if update.tag else update.image)
    where = f"{name} ({code(f'{update.file}:{update.line}')})"
    waiting = withdrawal.waiting
    if withdrawal.reason is WithdrawReason.IGNORED or waiting is None:
        return f"- {where}: left alone now ({code(withdrawal.note)})"
    until = timestamp(waiting.until.astimezone(UTC))
    window = f"min-age {format_duration(waiting.min_age)}"
    new = waiting.digest
    if new != update.new:
        return (
            f"- {where}: the tag moved to {code(short_digest(new))} inside its settle window; "
            f"proposed once it has settled, after {until} ({window})"
        )
    return f"- {where}: {code(short_digest(new))} waits out its settle window until {until} ({window})"


def closed_withdrawn_comment(withdrawn: Sequence[Withdrawal]) -> str:
    """Why pinbot closed a pull request whose updates now wait or are left alone."""
    lines = "\n".join(withdrawn_line(withdrawal) for withdrawal in withdrawn)
    return (
        "pinbot closed this pull request and deleted its branch: what it proposed is not "
        f"proposed now.\n\n{lines}\n\nA digest that waits is proposed again once it has settled."
    )


def _moved_comment(decision: UpdatePull) -> str:
    """What moved since the open pull request was last written, and what it no longer
    proposes and why: said once, as a comment."""
    parts = []
    if decision.moves and decision.previous is not None:
        parts.append(prbody.moved_comment(decision.moves, decision.previous.written))
    if decision.withdrawn:
        lines = "\n".join(withdrawn_line(withdrawal) for withdrawal in decision.withdrawn)
        parts.append(f"No longer proposed here:\n\n{lines}")
    return "\n\n".join(parts)


def with_history(blocks: Sequence[str], state: PullState) -> list[str]:
    """The notes with, for each image tag that moved while the pull request was open, the
    digests it proposed before and when (from the state, so nothing more is fetched)."""
    current = {(update.image, update.tag): update.new for update in state.updates}
    out = list(blocks)
    for (image, tag), earlier in sorted(
        prbody.history(state).items(), key=lambda item: (item[0][0], item[0][1] or "")
    ):
        new = current.get((image, tag))
        if new is None:
            continue
        proposals = [(p.digest, prbody.parse_time(p.proposed)) for p in earlier]
        out = add_lines(out, image, tag, [moved_line(proposals, new)])
    return out


def closing_body(pull: PullInfo, state: PullState | None, reason: str) -> str:
    """The PR body with its hidden block saying pinbot closed it (and not a person)."""
    marked = replace(state or PullState(updates=()), closed=reason)
    return prbody.replace_state(pull.body, marked)


class DryRunExecutor:
    """Writes nothing: says, per decision, what would be written."""

    def __init__(self, config: Config, result: RepositoryResult) -> None:
        self.github = config.github
        self.result = result
        self.written: dict[str, PullInfo] = {}

    def open(self, decision: OpenPull) -> None:
        self.result.planned.append(self._describe("open", None, decision))

    def update(self, decision: UpdatePull) -> None:
        self.written[decision.branch] = decision.pull  # as it is: nothing is pushed
        planned = self._describe("update", decision.pull.number, decision)
        self.result.planned.append(replace(planned, comment=_moved_comment(decision)))

    def _describe(
        self, verb: str, number: int | None, decision: OpenPull | UpdatePull
    ) -> PlannedWrite:
        proposal = decision.proposal
        return PlannedWrite(
            verb,
            decision.branch,
            number,
            title=_title(decision, self.github),
            table=prbody.table(proposal.updates),
            diff="".join(change.diff() for change in proposal.changes),
        )

    def close(self, decision: ClosePull) -> None:
        self.result.planned.append(
            PlannedWrite("close", decision.branch, decision.pull.number, reason=decision.reason)
        )


class ForgeExecutor:
    """Writes to GitHub: commits, branches, pull requests, comments."""

    def __init__(
        self,
        forge: GitHubForge,
        repo: Repository,
        snapshot: Snapshot,
        config: Config,
        result: RepositoryResult,
        *,
        notes: NotesSource | None = None,
        clock: Clock = utc_now,
    ) -> None:
        self.forge = forge
        self.repo = repo
        self.snapshot = snapshot
        self.config = config
        self.github = config.github
        self.result = result
        self.notes = notes
        self.clock = clock
        self.written: dict[str, PullInfo] = {}

    def _commit_and_body(self, decision: OpenPull | UpdatePull) -> tuple[str, str]:
        """Commit the proposal on the base; the commit and the pull request body for it."""
        proposal = decision.proposal
        files = {change.path: change.updated for change in proposal.changes}
        message = prbody.commit_message(
            proposal.updates, self.github.title_prefix, proposal.group
        )
        commit = self.forge.commit(self.repo, self.snapshot, files, message)
        state = prbody.next_state(
            decision.previous if isinstance(decision, UpdatePull) else None,
            proposal.updates,
            base=self.snapshot.commit,
            commit=commit,
            blobs=proposal.blobs,
            now=prbody.format_time(self.clock()),
        )
        blocks = self.notes(proposal.edits) if self.notes is not None else []
        return commit, prbody.render(proposal.updates, state, with_history(blocks, state))

    def open(self, decision: OpenPull) -> None:
        commit, body = self._commit_and_body(decision)
        self.forge.move_branch(self.repo, decision.branch, commit, exists=None)
        pull = self.forge.open_pull(
            self.repo,
            branch=decision.branch,
            base=self.snapshot.branch,
            title=_title(decision, self.github),
            body=body,
            draft=self.github.draft,
        )
        self.written[decision.branch] = pull
        self.result.actions.append(
            PullAction(PullActionKind.OPENED, pull.number, pull.url, decision.branch)
        )
        # The pull request is open whatever happens next: a refusal here is only a warning.
        settings = edits_settings(decision.proposal.edits, self.config)
        refused = self.forge.decorate(
            self.repo,
            pull,
            labels=settings.labels,
            reviewers=settings.reviewers,
            team_reviewers=self.github.team_reviewers,
            assignees=self.github.assignees,
        )
        self.result.problems.extend(warning(message) for message in refused)

    def update(self, decision: UpdatePull) -> None:
        commit, body = self._commit_and_body(decision)
        pull = decision.pull
        self.forge.move_branch(self.repo, decision.branch, commit, exists=True)
        self.forge.edit_pull(self.repo, pull, title=_title(decision, self.github), body=body)
        self.written[decision.branch] = replace(pull, head_sha=commit)
        kind = (
            PullActionKind.REBUILT if isinstance(decision, RebuildPull) else PullActionKind.UPDATED
        )
        self.result.actions.append(PullAction(kind, pull.number, pull.url, decision.branch))
        labels, reviewers = added_decoration(decision, self.config)
        if labels or reviewers:
            refused = self.forge.decorate(self.repo, pull, labels=labels, reviewers=reviewers)
            self.result.problems.extend(warning(message) for message in refused)
        comment = _moved_comment(decision)
        if not comment:
            return
        # The pull request is updated whatever happens next: a refusal is only a warning.
        try:
            self.forge.comment(self.repo, pull, comment)
        except ForgeError as exc:
            self.result.problems.append(
                warning(f"#{pull.number}: the comment saying what moved was refused: {exc}")
            )

    def close(self, decision: ClosePull) -> None:
        if decision.withdrawn:
            comment = closed_withdrawn_comment(decision.withdrawn)
        elif decision.reason is CloseReason.ON_BASE:
            comment = prbody.CLOSED_ON_BASE
        elif decision.reason is CloseReason.HELD_BACK:
            comment = held_back_comment(decision.withheld)
        else:
            comment = prbody.CLOSED_NOTHING_LEFT
        body = closing_body(decision.pull, decision.state, decision.reason)
        self.forge.close_pull(self.repo, decision.pull, comment=comment, body=body)
        self.forge.delete_branch(self.repo, decision.branch)
        pull = decision.pull
        self.result.actions.append(
            PullAction(
                PullActionKind.CLOSED, pull.number, pull.url, decision.branch, decision.reason
            )
        )
