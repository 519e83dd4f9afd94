"""Whether pinbot merges one of its pull requests now, decided without touching GitHub.

A pull request is automerged only when every update in it is under automerge (`github.automerge`
or its rule's `automerge`), and first pins only when their rules allow that too. It is merged
once GitHub says it is mergeable and every status and check on its head passed: through
GitHub's native auto-merge when the repository allows it (GitHub then merges when the checks
its branch protection requires pass), otherwise by pinbot itself on a later run, naming the
head it judged. It is never merged, and GitHub's auto-merge that pinbot turned on is turned
off, while a check failed, a commit pinbot did not make is on its branch, a reviewer requests
changes, or it is a draft. A pull request pinbot has just written waits for its checks.

Pure: the executor (`pinbot.bot.merging`) reads what is needed and carries the verdicts out.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from pinbot import prbody
from pinbot.bot.decide import Decision, LeavePull, LeaveReason, OpenPull, UpdatePull
from pinbot.bot.rules import PullSettings, edits_settings
from pinbot.config import Config
from pinbot.forge.github import CheckState, PullChecks, PullInfo

#: Names of failed or pending checks a reason lists before "and N more".
MAX_NAMED = 3


class Phase(enum.StrEnum):
    """Where a pull request stands after this run's writes."""

    OPENED = "opened"  # opened by this run
    WRITTEN = "written"  # updated or rebuilt by this run: its checks start again
    CURRENT = "current"  # left as it is: up to date
    FOREIGN = "foreign"  # left as it is: a person pushed to its branch


class Verdict(enum.StrEnum):
    MERGE = "merge"  # merge now, naming the head that was judged
    ENABLE = "enable"  # turn GitHub's auto-merge on: GitHub merges when the requirements pass
    WAIT = "wait"  # not yet: checks pending, mergeability not worked out, just written
    REFUSE = "refuse"  # not while this holds: a failed check, a person's commit, changes asked


@dataclass(frozen=True)
class Candidate:
    """An open pinbot pull request that automerge concerns, after this run's writes."""

    branch: str
    pull: PullInfo  # as it is now (for one written by this run, at pinbot's new head)
    phase: Phase
    settings: PullSettings
    commit: str  # the commit pinbot put at the head of its branch ("" when not known)

    @property
    def auto_merge_is_pinbots(self) -> bool:
        """Whether GitHub's auto-merge is on and pinbot (the pull request's author) did it."""
        return bool(self.pull.auto_merge_by) and self.pull.auto_merge_by == self.pull.author


@dataclass(frozen=True)
class MergeDecision:
    verdict: Verdict
    reason: str
    disable: bool = False  # turn off the auto-merge pinbot turned on before


def _names(names: Sequence[str]) -> str:
    shown = ", ".join(names[:MAX_NAMED])
    if len(names) > MAX_NAMED:
        shown += f" and {len(names) - MAX_NAMED} more"
    return shown


def candidates(
    decisions: Iterable[Decision], written: Mapping[str, PullInfo], config: Config
) -> list[Candidate]:
    """The pull requests automerge concerns: those whose updates are all under automerge,
    and those whose GitHub auto-merge pinbot turned on (to turn it off when it no longer
    should merge). `written` holds the pull requests this run opened or updated, by branch,
    at their new head."""
    found = []
    for decision in decisions:
        if isinstance(decision, OpenPull | UpdatePull):
            pull = written.get(decision.branch)
            if pull is None:  # not written (a dry run opens nothing)
                continue
            phase = Phase.OPENED if isinstance(decision, OpenPull) else Phase.WRITTEN
            edits = decision.proposal.edits
            commit = pull.head_sha
        elif isinstance(decision, LeavePull) and decision.proposal is not None:
            if decision.reason not in (LeaveReason.UP_TO_DATE, LeaveReason.FOREIGN_COMMITS):
                continue
            pull = decision.pull
            up_to_date = decision.reason is LeaveReason.UP_TO_DATE
            phase = Phase.CURRENT if up_to_date else Phase.FOREIGN
            edits = decision.proposal.edits
            state = prbody.read_state(pull.body)
            commit = state.commit if isinstance(state, prbody.PullState) else ""
        else:
            continue
        candidate = Candidate(decision.branch, pull, phase, edits_settings(edits, config), commit)
        if candidate.settings.automerge or candidate.auto_merge_is_pinbots:
            found.append(candidate)
    return found


def judge_before_reading(candidate: Candidate, native: bool) -> MergeDecision | None:
    """The decision that needs nothing more from GitHub, or None when it needs `PullChecks`.

    `native`: the repository allows GitHub's auto-merge.
    """
    settings, ours = candidate.settings, candidate.auto_merge_is_pinbots
    if not settings.automerge:
        return MergeDecision(Verdict.REFUSE, "automerge is off for what it updates now", ours)
    if settings.has_first_pins and not settings.first_pins_allowed:
        return MergeDecision(
            Verdict.REFUSE,
            "it pins references for the first time, which automerge-first-pin does not allow",
            ours,
        )
    if candidate.phase is Phase.FOREIGN:
        return MergeDecision(Verdict.REFUSE, "a commit pinbot did not make is on its branch", ours)
    if candidate.pull.draft:
        return MergeDecision(Verdict.REFUSE, "it is a draft", ours)
    if candidate.phase is Phase.CURRENT:
        return None
    if candidate.pull.auto_merge_by is not None:
        return MergeDecision(Verdict.WAIT, "GitHub's auto-merge is on for it")
    if native:
        return MergeDecision(Verdict.ENABLE, "GitHub merges it once its required checks pass")
    return MergeDecision(Verdict.WAIT, "just written: its checks run first")


def judge(candidate: Candidate, checks: PullChecks, native: bool) -> MergeDecision:
    """The decision for a pull request left as it is, from what GitHub says of it now."""
    ours = bool(checks.auto_merge_by) and checks.auto_merge_by == candidate.pull.author
    state = checks.mergeable_state
    if candidate.commit and checks.head_sha != candidate.commit:
        return MergeDecision(Verdict.REFUSE, "a commit pinbot did not make is on its branch", ours)
    if checks.changes_requested_by:
        who = _names(checks.changes_requested_by)
        return MergeDecision(Verdict.REFUSE, f"changes requested by {who}", ours)
    failed = checks.of(CheckState.FAILED)
    if failed:
        return MergeDecision(Verdict.REFUSE, f"failed: {_names(failed)}", ours)
    if checks.mergeable is False or state == "dirty":
        return MergeDecision(Verdict.REFUSE, "it conflicts with its base branch", ours)
    if state == "draft":
        return MergeDecision(Verdict.REFUSE, "it is a draft", ours)
    if checks.auto_merge_by is not None:
        return MergeDecision(Verdict.WAIT, "GitHub's auto-merge is on for it")
    pending = checks.of(CheckState.PENDING)
    if pending or not checks.checks:
        if native and state in ("blocked", "unknown"):
            return MergeDecision(Verdict.ENABLE, "GitHub merges it once its required checks pass")
        if pending:
            return MergeDecision(Verdict.WAIT, f"pending: {_names(pending)}")
        return MergeDecision(Verdict.WAIT, "no status or check has reported on its head yet")
    if checks.mergeable is None or state == "unknown":
        return MergeDecision(Verdict.WAIT, "GitHub has not worked out yet whether it can merge")
    if state in ("clean", "has_hooks"):
        count = len(checks.checks)
        passed = "the status or check" if count == 1 else f"all {count} statuses and checks"
        return MergeDecision(Verdict.MERGE, f"{passed} on its head passed")
    if state == "blocked":
        if native:
            return MergeDecision(Verdict.ENABLE, "GitHub merges it once its requirements are met")
        return MergeDecision(
            Verdict.WAIT, "GitHub reports it blocked: a required review or check is missing"
        )
    if state == "behind":
        return MergeDecision(
            Verdict.WAIT, "its branch is behind the base, and branch protection wants it up to date"
        )
    return MergeDecision(Verdict.WAIT, f"GitHub reports it {state}")
