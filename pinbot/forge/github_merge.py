"""Whether a pull request may merge, and merging it: the statuses and check runs on its head,
its reviews and mergeable state (four reads), a merge that names the head sha it was judged
on (so a push racing it makes GitHub refuse), and GitHub's native auto-merge (GraphQL
`enablePullRequestAutoMerge` through PyGithub's `PullRequest.enable_automerge`).

What GitHub answers is read as documented and nothing more is trusted: a state pinbot does
not know counts as failed, never as passed. GitHub refusing a merge or auto-merge (not
mergeable, head moved, auto-merge not allowed) is an answer, returned as a `MergeAnswer`;
anything else that goes wrong is a `ForgeError`.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from github import GithubException
from github.PullRequest import PullRequest
from github.Repository import Repository

from pinbot.forge.github_connection import translated
from pinbot.forge.github_read import PER_PAGE, GitHubReader, PullInfo

#: Conclusions of a completed check run that count as passed (GitHub's own for required checks).
PASSING_CONCLUSIONS = frozenset({"success", "neutral", "skipped"})
#: How many checks or reviews a pull request's judgement reads at most (pages of 100).
MAX_ITEMS = 1000


class CheckState(enum.StrEnum):
    PASSED = "passed"
    PENDING = "pending"
    FAILED = "failed"  # failed, errored, cancelled, timed out, or a state pinbot does not know


@dataclass(frozen=True)
class Check:
    """One commit status context or check run on a head, as it stands now."""

    name: str
    state: CheckState
    kind: str  # "status" or "check run"


@dataclass(frozen=True)
class PullChecks:
    """What GitHub says now about merging one pull request."""

    head_sha: str
    mergeable: bool | None  # None: GitHub has not worked it out yet
    mergeable_state: str  # clean, has_hooks, unstable, blocked, behind, dirty, draft, unknown
    auto_merge_by: str | None
    checks: tuple[Check, ...]
    changes_requested_by: tuple[str, ...]  # reviewers whose latest review requests changes

    def of(self, state: CheckState) -> list[str]:
        return [check.name for check in self.checks if check.state is state]


@dataclass(frozen=True)
class MergeAnswer:
    """GitHub's answer to a merge or to turning auto-merge on: done, or refused and why."""

    done: bool
    refusal: str = ""


def _status_state(value: Any) -> CheckState:
    if value == "success":
        return CheckState.PASSED
    if value == "pending":
        return CheckState.PENDING
    return CheckState.FAILED


def _run_state(run: dict[str, Any]) -> CheckState:
    if run.get("status") != "completed":
        return CheckState.PENDING
    if run.get("conclusion") in PASSING_CONCLUSIONS:
        return CheckState.PASSED
    return CheckState.FAILED


def _text(value: Any, what: str) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{what} is {type(value).__name__}, not a string")
    return value


def _changes_requested(reviews: Iterable[Any]) -> tuple[str, ...]:
    """The reviewers whose latest review that counts requests changes (a comment does not
    change a reviewer's stand; an approval or a dismissal ends a request)."""
    latest: dict[str, str] = {}
    for review in reviews:
        if not isinstance(review, dict):
            raise TypeError("a review is not an object")
        state = review.get("state")
        if state in ("APPROVED", "CHANGES_REQUESTED", "DISMISSED"):
            user = review.get("user") or {}
            latest[_text(user.get("login"), "a reviewer's login")] = state
    return tuple(sorted(login for login, state in latest.items() if state == "CHANGES_REQUESTED"))


def _refusal(exc: GithubException) -> str:
    """What GitHub said when it refused: the REST message, or each GraphQL error's."""
    data = exc.data if isinstance(exc.data, dict) else {}
    errors = data.get("errors")
    if isinstance(errors, list) and errors:
        messages = [str(e.get("message", "")) for e in errors if isinstance(e, dict)]
        return "; ".join(m for m in messages if m) or f"HTTP {exc.status}"
    message = data.get("message")
    return str(message) if message else f"HTTP {exc.status}"


class MergingForge(GitHubReader):
    """Reads what decides a merge, and merges (mixed into `GitHubForge`)."""

    def _read_wrapped_pages(self, url: str, key: str) -> list[Any]:
        """Every item of an answer that wraps its list (`{"total_count", key: [...]}`)."""
        items: list[Any] = []
        page: str | None = url
        query: dict[str, Any] | None = {"per_page": PER_PAGE}
        while page is not None and len(items) < MAX_ITEMS:
            data, page = self._read(page, query)
            query = None
            found = data.get(key) if isinstance(data, dict) else None
            if not isinstance(found, list):
                raise TypeError(f"the answer has no {key} list")
            items.extend(found)
        return items

    def pull_checks(self, repo: Repository, pull: PullInfo) -> PullChecks:
        """The pull request's mergeable state, reviews, and the checks on its head now."""
        with translated(repo.full_name, f"reading whether #{pull.number} can merge"):
            detail = self._get(pull.api_url)
            head = _text((detail.get("head") or {}).get("sha"), "the head sha")
            mergeable = detail.get("mergeable")
            auto = detail.get("auto_merge")
            auto_by = None
            if isinstance(auto, dict):
                auto_by = str((auto.get("enabled_by") or {}).get("login") or "")
            statuses = self._read_wrapped_pages(f"{repo.url}/commits/{head}/status", "statuses")
            runs = self._read_wrapped_pages(f"{repo.url}/commits/{head}/check-runs", "check_runs")
            reviews = self._read_pages(f"{pull.api_url}/reviews", {})
            checks = [
                Check(
                    _text(s.get("context"), "a status context"),
                    _status_state(s.get("state")),
                    "status",
                )
                for s in statuses
            ] + [
                Check(_text(r.get("name"), "a check name"), _run_state(r), "check run")
                for r in runs
            ]
            return PullChecks(
                head_sha=head,
                mergeable=mergeable if isinstance(mergeable, bool) else None,
                mergeable_state=str(detail.get("mergeable_state") or "unknown"),
                auto_merge_by=auto_by,
                checks=tuple(checks),
                changes_requested_by=_changes_requested(reviews),
            )

    def allows_auto_merge(self, repo: Repository) -> bool:
        """Whether the repository lets pull requests use GitHub's auto-merge (its settings;
        absent from an answer, as to a token that may not see them: no)."""
        with translated(repo.full_name, "reading whether it allows auto-merge"):
            return repo.allow_auto_merge is True

    def merge_pull(self, repo: Repository, pull: PullInfo, *, method: str, sha: str) -> MergeAnswer:
        """Merge the pull request if its head is still `sha`."""
        with translated(repo.full_name, f"merging pull request #{pull.number}"):
            try:
                self.calls.write()
                self._requester.requestJsonAndCheck(
                    "PUT", f"{pull.api_url}/merge", input={"merge_method": method, "sha": sha}
                )
            except GithubException as exc:
                if exc.status in (405, 409, 422):  # not mergeable, head moved, refused
                    return MergeAnswer(False, _refusal(exc))
                raise
            return MergeAnswer(True)

    def _pull_request(self, pull: PullInfo) -> PullRequest:
        # Built from what the list answer gave, so no request is made to complete it.
        attributes = {"url": pull.api_url, "node_id": pull.node_id, "number": pull.number}
        return PullRequest(self._requester, {}, attributes, completed=True)

    def enable_auto_merge(
        self, repo: Repository, pull: PullInfo, *, method: str, sha: str
    ) -> MergeAnswer:
        """Turn GitHub's auto-merge on for the pull request at head `sha`."""
        with translated(repo.full_name, f"turning auto-merge on for #{pull.number}"):
            try:
                self.calls.write()
                self._pull_request(pull).enable_automerge(
                    merge_method=method.upper(), expected_head_oid=sha
                )
            except GithubException as exc:
                if exc.status in (400, 422) and isinstance(exc.data, dict) and "errors" in exc.data:
                    return MergeAnswer(False, _refusal(exc))
                raise
            return MergeAnswer(True)

    def disable_auto_merge(self, repo: Repository, pull: PullInfo) -> None:
        with translated(repo.full_name, f"turning auto-merge off for #{pull.number}"):
            self.calls.write()
            self._pull_request(pull).disable_automerge()
