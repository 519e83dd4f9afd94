"""Carrying out automerge for one repository, after its pull requests were written: read what
a verdict needs (the checks of a pull request left as it is; once per repository, whether
it allows GitHub's auto-merge), then merge, turn GitHub's auto-merge on or off, or say why
not. On a dry run the writes are described instead.

GitHub refusing a merge is an outcome with its reason; a request that fails is a warning
for that pull request, and the others are still judged: automerge never fails a repository.
"""

from __future__ import annotations

from collections.abc import Sequence

from github.Repository import Repository

from pinbot.bot.automerge import Candidate, MergeDecision, Verdict, judge, judge_before_reading
from pinbot.bot.result import MergeOutcome, MergeOutcomeKind, PlannedWrite, RepositoryResult
from pinbot.config import Config
from pinbot.errors import Problem, ProblemKind
from pinbot.forge.github import ForgeError, GitHubForge
from pinbot.report.escape import text

_OUTCOME = {
    Verdict.WAIT: MergeOutcomeKind.WAITING,
    Verdict.REFUSE: MergeOutcomeKind.NOT_MERGED,
}


def turned_off_comment(reason: str) -> str:
    """The comment on a pull request whose auto-merge pinbot turned off (the reason names
    checks and reviewers as GitHub gave them: text, never markup or a mention)."""
    return (
        f"pinbot turned auto-merge off: {text(reason)}. It is judged again on the next run, "
        "and merged once nothing stands in the way."
    )


class Merger:
    """Judges and merges one repository's candidates (see `pinbot.bot.automerge`)."""

    def __init__(
        self,
        forge: GitHubForge,
        repo: Repository,
        config: Config,
        result: RepositoryResult,
        *,
        dry_run: bool = False,
    ) -> None:
        self.forge = forge
        self.repo = repo
        self.method = config.github.merge_method
        self.result = result
        self.dry_run = dry_run
        self._native: bool | None = None

    def native(self) -> bool:
        """Whether the repository allows GitHub's auto-merge (read once, when first needed)."""
        if self._native is None:
            self._native = self.forge.allows_auto_merge(self.repo)
        return self._native

    def run(self, candidates: Sequence[Candidate]) -> None:
        for candidate in candidates:
            try:
                self._one(candidate)
            except ForgeError as exc:
                self.result.problems.append(
                    Problem(ProblemKind.WARNING, f"#{candidate.pull.number}: automerge: {exc}")
                )

    def _one(self, candidate: Candidate) -> None:
        native = candidate.settings.automerge and self.native()
        decision = judge_before_reading(candidate, native)
        head = candidate.commit or candidate.pull.head_sha
        if decision is None:
            checks = self.forge.pull_checks(self.repo, candidate.pull)
            decision, head = judge(candidate, checks, native), checks.head_sha
        if decision.disable:
            self._turn_off(candidate, decision)
        if decision.verdict is Verdict.MERGE:
            self._merge(candidate, decision, head)
        elif decision.verdict is Verdict.ENABLE:
            self._enable(candidate, decision, head)
        else:
            self._record(candidate, _OUTCOME[decision.verdict], decision.reason, decision.disable)

    def _record(
        self, candidate: Candidate, kind: MergeOutcomeKind, reason: str, turned_off: bool = False
    ) -> None:
        pull = candidate.pull
        self.result.merges.append(MergeOutcome(kind, pull.number, pull.url, reason, turned_off))

    def _plan(self, candidate: Candidate, verb: str, reason: str) -> None:
        self.result.planned.append(
            PlannedWrite(verb, candidate.branch, candidate.pull.number, reason=reason)
        )

    def _turn_off(self, candidate: Candidate, decision: MergeDecision) -> None:
        if self.dry_run:
            self._plan(candidate, "turn auto-merge off for", decision.reason)
            return
        self.forge.disable_auto_merge(self.repo, candidate.pull)
        try:
            self.forge.comment(self.repo, candidate.pull, turned_off_comment(decision.reason))
        except ForgeError as exc:  # auto-merge is off whatever happens to the comment
            self.result.problems.append(
                Problem(
                    ProblemKind.WARNING,
                    f"#{candidate.pull.number}: the comment saying auto-merge is off was "
                    f"refused: {exc}",
                )
            )

    def _merge(self, candidate: Candidate, decision: MergeDecision, head: str) -> None:
        if self.dry_run:
            self._plan(candidate, f"merge ({self.method})", decision.reason)
            return
        answer = self.forge.merge_pull(self.repo, candidate.pull, method=self.method, sha=head)
        if not answer.done:
            reason = f"GitHub refused the merge: {answer.refusal}"
            self._record(candidate, MergeOutcomeKind.NOT_MERGED, reason)
            return
        self._record(candidate, MergeOutcomeKind.MERGED, f"{decision.reason} ({self.method})")
        # The branch is pinbot's and merged: gone, as GitHub's own "delete branch" would.
        self.forge.delete_branch(self.repo, candidate.branch)

    def _enable(self, candidate: Candidate, decision: MergeDecision, head: str) -> None:
        if self.dry_run:
            self._plan(candidate, "turn auto-merge on for", decision.reason)
            return
        answer = self.forge.enable_auto_merge(
            self.repo, candidate.pull, method=self.method, sha=head
        )
        if answer.done:
            self._record(candidate, MergeOutcomeKind.AUTO_MERGE_ON, decision.reason)
            return
        # Refused (nothing for it to wait for, head moved): pinbot judges it on its next run.
        reason = f"GitHub did not turn auto-merge on ({answer.refusal}); judged again next run"
        self._record(candidate, MergeOutcomeKind.WAITING, reason)
