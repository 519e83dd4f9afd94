"""What one repository's run did, as values: pull request actions, what a dry run would
write, what was declined or held back, and the problems met (a `Problem` each)."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from pinbot.errors import PinbotError, Problem, ProblemKind


def failure_reason(repository: str, exc: Exception) -> str:
    """Why a repository failed: pinbot's own errors say it; anything else is named as such."""
    if isinstance(exc, PinbotError):
        return str(exc)
    return f"{repository}: unexpected {type(exc).__name__}: {exc}"


class PullActionKind(enum.StrEnum):
    OPENED = "opened"
    UPDATED = "updated"  # new digests
    REBUILT = "rebuilt"  # the same digests on a base that changed the files under them
    CLOSED = "closed"
    LEFT = "left"  # already right, or not pinbot's to touch (`reason` says which)


@dataclass(frozen=True)
class PullAction:
    """What happened to one pull request."""

    kind: PullActionKind
    number: int
    url: str
    branch: str
    reason: str = ""  # why it was closed or left


class MergeOutcomeKind(enum.StrEnum):
    MERGED = "merged"
    AUTO_MERGE_ON = "set to auto-merge"  # GitHub merges it once its required checks pass
    WAITING = "waiting to merge"
    NOT_MERGED = "not merged"  # refused, for a reason that must change first


@dataclass(frozen=True)
class MergeOutcome:
    """What automerge did with one pull request, and why."""

    kind: MergeOutcomeKind
    number: int
    url: str
    reason: str
    turned_off: bool = False  # pinbot turned off the GitHub auto-merge it had turned on

    def __str__(self) -> str:
        off = "; auto-merge turned off" if self.turned_off else ""
        return f"{self.url}: {self.reason}{off}"


@dataclass(frozen=True)
class DeclinedUpdate:
    """An update not proposed because a person closed a pull request that proposed it."""

    location: str  # file:line:column
    reference: str  # image:tag
    digest: str
    pull_number: int

    def __str__(self) -> str:
        return (
            f"{self.location}: {self.reference} {self.digest} "
            f"(closed unmerged in #{self.pull_number})"
        )


@dataclass(frozen=True)
class PlannedWrite:
    """On a dry run, a write that would be made: open, update or close a pull request."""

    verb: str  # "open", "update", "close", "merge", "turn auto-merge on for", …
    branch: str
    number: int | None = None  # the pull request, unless it is a new one
    title: str = ""
    comment: str = ""  # the comment an update would post
    table: str = ""  # the body's table of updates
    diff: str = ""  # unified diff of the files it would change
    reason: str = ""  # why it would close, merge, or turn auto-merge on or off


@dataclass
class RepositoryResult:
    """What one repository's run did, for the run summary."""

    repository: str
    actions: list[PullAction] = field(default_factory=list)
    declined: list[DeclinedUpdate] = field(default_factory=list)
    held_back: list[str] = field(default_factory=list)  # new PRs over github.max-open-pulls
    waiting: list[str] = field(default_factory=list)  # updates `min-age` holds back, and until when
    planned: list[PlannedWrite] = field(default_factory=list)
    merges: list[MergeOutcome] = field(default_factory=list)  # what automerge did, and why
    problems: list[Problem] = field(default_factory=list)
    failure: Problem | None = None
    skipped: str | None = None  # why the repository's own settings leave it alone
    references: int = 0
    files: int = 0

    @classmethod
    def failed(cls, repository: str, reason: str) -> RepositoryResult:
        return cls(repository, failure=Problem(ProblemKind.REPOSITORY_FAILED, reason))

    def _of(self, *kinds: PullActionKind) -> list[PullAction]:
        return [action for action in self.actions if action.kind in kinds]

    @property
    def opened(self) -> list[PullAction]:
        return self._of(PullActionKind.OPENED)

    @property
    def updated(self) -> list[PullAction]:
        """Pull requests rewritten: new digests, or rebuilt on a changed base."""
        return self._of(PullActionKind.UPDATED, PullActionKind.REBUILT)

    @property
    def closed(self) -> list[PullAction]:
        return self._of(PullActionKind.CLOSED)

    def merge_outcomes(self, kind: MergeOutcomeKind) -> list[MergeOutcome]:
        return [outcome for outcome in self.merges if outcome.kind is kind]

    @property
    def merged(self) -> list[MergeOutcome]:
        return self.merge_outcomes(MergeOutcomeKind.MERGED)

    @property
    def current(self) -> list[PullAction]:
        """Open pull requests left as they are."""
        return self._of(PullActionKind.LEFT)

    @property
    def lookups_failed(self) -> list[Problem]:
        """What the registries did not answer (or not verifiably) for this repository."""
        return [p for p in self.problems if p.kind is ProblemKind.LOOKUP_FAILED]

    @property
    def unchecked(self) -> list[Problem]:
        """Problems that leave something unchecked: everything but plain warnings."""
        return [p for p in self.problems if p.fails]
