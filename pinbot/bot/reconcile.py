"""One repository's reconciliation: plan its edits, read its pinbot pull requests, decide,
carry out.

Every run reconciles from scratch: what the base branch needs now, against what each pinbot
pull request (open or closed) recorded in its hidden state block. Nothing is written unless
something differs, so a run over an unchanged organisation makes no write calls. When an open
pull request is updated because a tag moved again, one comment says what moved since its last
update, and its notes keep the digests it proposed before (remembered in the state block).
Open pull requests are always kept right; new ones wait while `github.max-open-pulls` are open.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from pinbot.bot.automerge import candidates
from pinbot.bot.decide import (
    Base,
    Branch,
    Decisions,
    branches_to_reconcile,
    decide,
    digests_on_base,
    group_edits,
    ignored_on_base,
    lists_open_branches,
    waiting_by_branch,
    withheld_by_branch,
)
from pinbot.bot.execute import (
    Clock,
    DryRunExecutor,
    Executor,
    ForgeExecutor,
    NotesSource,
    carry_out,
    utc_now,
)
from pinbot.bot.merging import Merger
from pinbot.bot.repository import ScannedRepository, as_problem
from pinbot.bot.result import RepositoryResult, failure_reason
from pinbot.config import Config
from pinbot.errors import Problem, ProblemKind
from pinbot.forge.github import GitHubForge
from pinbot.pipeline import Screen, plan_and_apply
from pinbot.plan import Edit, Lookup, Notice, NoticeKind, Waiting
from pinbot.supplychain.stage import HeldDigest


def lookup_problem(notice: Notice) -> Problem:
    """A reference the registry did not answer for (or not verifiably), where it is."""
    occurrence = notice.occurrence
    return Problem(
        ProblemKind.LOOKUP_FAILED,
        f"{occurrence.text}: {notice.message}",
        occurrence.file,
        occurrence.line,
        occurrence.column,
        occurrence.text,
    )


class Reconciler:
    """Brings one repository's pinbot pull requests in line with what its base branch needs."""

    def __init__(
        self,
        forge: GitHubForge,
        config: Config,
        *,
        dry_run: bool = False,
        notes: NotesSource | None = None,
        clock: Clock = utc_now,
        screen: Screen | None = None,
    ) -> None:
        self.forge = forge
        self.config = config
        self.dry_run = dry_run
        self.notes = notes
        self.clock = clock
        self.screen = screen  # the trust gate (`verify:`); None: every edit may be proposed

    def reconcile(
        self, scanned: ScannedRepository, lookups: Mapping[str, Lookup]
    ) -> RepositoryResult:
        result = RepositoryResult(scanned.name)
        result.files = len(scanned.snapshot.files)
        result.references = len(scanned.occurrences)
        result.problems.extend(scanned.problems)
        if scanned.skipped is not None:
            # Left alone entirely: no pull request is read, opened, updated or closed.
            result.skipped = scanned.skipped
            return result
        try:
            decisions = self.decide(scanned, lookups, result)
            result.problems.extend(decisions.problems)
            executor = self._executor(scanned, result)
            carry_out(decisions.decisions, executor, result)
            config = self._config(scanned)
            concerned = candidates(decisions.decisions, executor.written, config)
            if concerned:
                merger = Merger(self.forge, scanned.repo, config, result, dry_run=self.dry_run)
                merger.run(concerned)
        except Exception as exc:  # what was done so far stays in the result
            reason = failure_reason(scanned.name, exc)
            result.failure = Problem(ProblemKind.REPOSITORY_FAILED, reason)
        return result

    def _config(self, scanned: ScannedRepository) -> Config:
        return scanned.config or self.config

    def decide(
        self,
        scanned: ScannedRepository,
        lookups: Mapping[str, Lookup],
        result: RepositoryResult,
    ) -> Decisions:
        """Plan the edits, read the pull requests of every branch concerned, and decide."""
        snapshot = scanned.snapshot
        config = self._config(scanned)
        outcome = plan_and_apply(
            snapshot.files,
            scanned.occurrences,
            lookups,
            config,
            now=self.clock(),
            screen=self.screen,
        )
        result.problems.extend(as_problem(e, ProblemKind.WRITE_REFUSED) for e in outcome.errors)
        result.waiting.extend(str(waiting) for waiting in outcome.plan.waiting)
        result.problems.extend(
            lookup_problem(notice)
            for notice in outcome.plan.notices
            if notice.kind in (NoticeKind.LOOKUP_FAILED, NoticeKind.NOT_VERIFIED)
        )
        # Only edits that apply cleanly are proposed; a file that failed its check is a warning.
        applied = {change.path for change in outcome.changes}
        edits = [edit for edit in outcome.plan.edits if edit.file in applied]
        branches = self._branches(scanned, config, edits, outcome.plan.waiting, outcome.held)
        blobs = {path: entry.sha for path, entry in snapshot.entries.items()}
        occurrences = scanned.occurrences
        base = Base(
            snapshot.files, blobs, digests_on_base(occurrences), ignored_on_base(occurrences)
        )
        return decide(branches, base, config.github.max_open_pulls)

    def _branches(
        self,
        scanned: ScannedRepository,
        config: Config,
        edits: Sequence[Edit],
        waiting: Sequence[Waiting],
        held: Sequence[HeldDigest],
    ) -> list[Branch]:
        """Every branch concerned, with its edits, its pull requests, what waits for it and
        what the trust gate held back from it."""
        groups = {group.branch: group for group in group_edits(edits, config)}
        waits = waiting_by_branch(waiting, config)
        withheld = withheld_by_branch(held, config)
        open_branches: set[str] = set(withheld)
        if lists_open_branches(config):
            pulls = self.forge.open_pulls_under(scanned.repo, config.github.branch_prefix)
            open_branches |= {pull.head_ref for pull in pulls}
        branches = []
        for name in branches_to_reconcile(groups.values(), open_branches, config):
            group = groups.get(name)
            branches.append(
                Branch(
                    name,
                    edits=group.edits if group else (),
                    pulls=tuple(self.forge.pulls_for_branch(scanned.repo, name)),
                    image=group.name if group and not group.named else "",
                    group=group.name if group and group.named else "",
                    withheld=withheld.get(name, ()),
                    waiting=waits.get(name, ()),
                )
            )
        return branches

    def _executor(self, scanned: ScannedRepository, result: RepositoryResult) -> Executor:
        config = self._config(scanned)
        if self.dry_run:
            return DryRunExecutor(config, result)
        return ForgeExecutor(
            self.forge,
            scanned.repo,
            scanned.snapshot,
            config,
            result,
            notes=self.notes,
            clock=self.clock,
        )
