"""What decides whether a pull request may merge, for the GitHub fake: commit statuses and
check runs on its head, reviews, required checks and approvals of the base branch, and
GitHub's native auto-merge (the GraphQL mutations `enablePullRequestAutoMerge` and
`disablePullRequestAutoMerge`).

Shapes follow GitHub's documented answers: "Get the combined status for a specific
reference" (`state` failure when a context failed or errored, pending when one is pending or
there is none, else success; the newest status per context), "List check runs for a Git
reference" (`{"total_count", "check_runs"}`, the newest run per name), "List reviews for a
pull request", and a GraphQL answer that is HTTP 200 with an `errors` list when a mutation is
refused. A pull request with auto-merge on is merged by the fake as GitHub would: as soon as
it is mergeable and its required checks and approvals are met (non-required checks do not
hold it), by the account that turned it on.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tests.support.github_fake import FakePull, FakeRepo, Request, Response

#: Conclusions of a completed check run that let a pull request merge.
PASSING_CONCLUSIONS = ("success", "neutral", "skipped")
_MUTATION = re.compile(r"^\s*mutation\b[^{]*\{\s*(?P<name>[A-Za-z]+)\s*\(")


@dataclass
class CommitStatus:
    id: int
    context: str
    state: str  # error, failure, pending, success
    created_at: float
    description: str | None = None
    target_url: str | None = None


@dataclass
class CheckRun:
    id: int
    name: str
    status: str  # queued, in_progress, completed (also waiting, requested, pending)
    conclusion: str | None
    started_at: float
    completed_at: float | None = None


@dataclass
class Review:
    id: int
    login: str
    state: str  # APPROVED, CHANGES_REQUESTED, COMMENTED, DISMISSED, PENDING
    commit_id: str
    submitted_at: float
    body: str = ""


@dataclass
class AutoMerge:
    enabled_by: str
    merge_method: str  # merge, squash, rebase
    commit_headline: str | None = None
    commit_body: str | None = None


@dataclass
class MergeRules:
    """What a repository's base branch protection and settings ask before a merge."""

    allow_auto_merge: bool = False
    required_checks: list[str] = field(default_factory=list)  # status contexts or check names
    required_approvals: int = 0
    statuses: dict[str, list[CommitStatus]] = field(default_factory=dict)  # by commit sha
    check_runs: dict[str, list[CheckRun]] = field(default_factory=dict)  # by commit sha


class GraphQLError(Exception):
    def __init__(self, message: str, kind: str = "UNPROCESSABLE") -> None:
        super().__init__(message)
        self.message = message
        self.kind = kind


def _newest(items: list[Any], key: str) -> list[Any]:
    """The newest item per `key` (a status context, a check run name), newest first."""
    seen: dict[str, Any] = {}
    for item in sorted(items, key=lambda i: i.id, reverse=True):
        seen.setdefault(getattr(item, key), item)
    return list(seen.values())


# long: the fake's merge rules are one piece of GitHub: seeding, the answers that show them
# and the auto-merge that acts on them read and write the same state.
class MergingFake:
    """Mixed into `GitHubFake`: seeding, routes and the merge rules above."""

    # -- seeding ---------------------------------------------------------------------------
    def merge_rules(self, owner: str, name: str) -> MergeRules:
        repo: FakeRepo = self.repo(owner, name)  # type: ignore[attr-defined]
        return repo.merge_rules

    def set_status(
        self, owner: str, name: str, sha: str, context: str, state: str, description: str = ""
    ) -> None:
        """A commit status on `sha`, as a CI service posts it."""
        assert state in ("error", "failure", "pending", "success"), state
        with self._lock:  # type: ignore[attr-defined]
            rules = self.merge_rules(owner, name)
            status = CommitStatus(
                next(self._ids),
                context,
                state,
                self.clock(),
                description or None,  # type: ignore[attr-defined]
            )
            rules.statuses.setdefault(sha, []).append(status)
            self._settle_auto_merges(self.repo(owner, name))  # type: ignore[attr-defined]

    def set_check_run(
        self,
        owner: str,
        name: str,
        sha: str,
        check: str,
        status: str,
        conclusion: str | None = None,
    ) -> None:
        """A check run on `sha` (a new run of `check`: the newest one per name counts)."""
        assert (status == "completed") == (conclusion is not None), (status, conclusion)
        with self._lock:  # type: ignore[attr-defined]
            now = self.clock()  # type: ignore[attr-defined]
            run = CheckRun(
                next(self._ids),
                check,
                status,
                conclusion,
                now,
                now if conclusion else None,  # type: ignore[attr-defined]
            )
            self.merge_rules(owner, name).check_runs.setdefault(sha, []).append(run)
            self._settle_auto_merges(self.repo(owner, name))  # type: ignore[attr-defined]

    def add_review(self, owner: str, name: str, number: int, login: str, state: str) -> None:
        """A review of pull `number` by `login` on its current head."""
        assert state in ("APPROVED", "CHANGES_REQUESTED", "COMMENTED", "DISMISSED"), state
        with self._lock:  # type: ignore[attr-defined]
            repo = self.repo(owner, name)  # type: ignore[attr-defined]
            pr = repo.pulls[number]
            if login.lower() not in self._accounts:  # type: ignore[attr-defined]
                self.create_user(login)  # type: ignore[attr-defined]
            pr.reviews.append(
                Review(next(self._ids), login, state, pr.head_sha, self.clock())  # type: ignore[attr-defined]
            )
            self._settle_auto_merges(repo)

    # -- what decides a merge ------------------------------------------------------------------
    def _checks_on(self, repo: FakeRepo, sha: str) -> dict[str, str]:
        """Every status context and check run name on `sha`: success, pending or failure."""
        rules = repo.merge_rules
        found: dict[str, str] = {}
        for status in _newest(rules.statuses.get(sha, []), "context"):
            found[status.context] = (
                "failure" if status.state in ("error", "failure") else status.state
            )
        for run in _newest(rules.check_runs.get(sha, []), "name"):
            if run.status != "completed":
                found[run.name] = "pending"
            else:
                found[run.name] = "success" if run.conclusion in PASSING_CONCLUSIONS else "failure"
        return found

    def _blocked_by(self, repo: FakeRepo, pr: FakePull) -> str | None:
        """What the base branch's protection still asks before a merge, or None."""
        rules = repo.merge_rules
        checks = self._checks_on(repo, pr.head_sha)
        for required in rules.required_checks:
            state = checks.get(required)
            if state != "success":
                verb = "failing" if state == "failure" else "expected"
                return f'Required status check "{required}" is {verb}.'
        if rules.required_approvals:
            latest = self._latest_reviews(pr)
            if "CHANGES_REQUESTED" in latest.values():
                return "Changes must be made through a pull request."
            approvals = sum(state == "APPROVED" for state in latest.values())
            if approvals < rules.required_approvals:
                return (
                    f"At least {rules.required_approvals} approving review is required by "
                    "reviewers with write access."
                )
        return None

    @staticmethod
    def _latest_reviews(pr: FakePull) -> dict[str, str]:
        latest: dict[str, str] = {}
        for review in sorted(pr.reviews, key=lambda r: r.id):
            if review.state in ("APPROVED", "CHANGES_REQUESTED", "DISMISSED"):
                latest[review.login.lower()] = review.state
        return latest

    def _merge_state(self, repo: FakeRepo, pr: FakePull, mergeable: bool | None) -> str:
        """GitHub's `mergeable_state`: unknown, dirty, draft, blocked, unstable or clean."""
        if pr.state != "open" or mergeable is None:
            return "unknown"
        if not mergeable:
            return "dirty"
        if pr.draft:
            return "draft"
        if self._blocked_by(repo, pr) is not None:
            return "blocked"
        if any(state != "success" for state in self._checks_on(repo, pr.head_sha).values()):
            return "unstable"
        return "clean"

    def _settle_auto_merges(self, repo: FakeRepo) -> None:
        """Merge every open pull request with auto-merge on whose requirements are met."""
        for pr in list(repo.pulls.values()):
            if pr.state != "open" or pr.auto_merge is None or pr.draft:
                continue
            mergeable = (
                self._merged_tree(  # type: ignore[attr-defined]
                    repo, repo.refs[pr.base_ref], pr.head_sha
                )
                is not None
            )
            if mergeable and self._blocked_by(repo, pr) is None:
                auto = pr.auto_merge
                by = self._account(auto.enabled_by)  # type: ignore[attr-defined]
                self._merge(  # type: ignore[attr-defined]
                    repo, pr, by, auto.merge_method, auto.commit_headline, auto.commit_body
                )
                pr.auto_merge = None

    def _auto_merge_json(self, pr: FakePull) -> dict[str, Any] | None:
        auto = pr.auto_merge
        if auto is None:
            return None
        return {
            "enabled_by": self._user_json(self._account(auto.enabled_by)),  # type: ignore[attr-defined]
            "merge_method": auto.merge_method,
            "commit_title": auto.commit_headline or "",
            "commit_message": auto.commit_body or "",
        }

    # -- routes ------------------------------------------------------------------------------
    def _merging_routes(self, repo: str, number: str) -> list[tuple[str, str, Any]]:
        """Placed before the generic `commits/{ref}` route, which would take these paths."""
        return [
            ("GET", rf"{repo}/commits/(?P<ref>[^/]+)/status", self._combined_status),
            ("GET", rf"{repo}/commits/(?P<ref>[^/]+)/check-runs", self._list_check_runs),
            ("GET", rf"{repo}/pulls/{number}/reviews", self._list_reviews),
            ("POST", r"/graphql", self._graphql),
        ]

    def _commit_of(self, req: Request, owner: str, repo: str, ref: str) -> tuple[FakeRepo, str]:
        from tests.support.github_fake import ApiError

        r = self._readable(req, owner, repo)  # type: ignore[attr-defined]
        sha = self._resolve_commit(r, ref)  # type: ignore[attr-defined]
        if sha is None:
            raise ApiError(422, f"No commit found for SHA: {ref}")
        return r, sha

    def _combined_status(self, req: Request, owner: str, repo: str, ref: str) -> Response:
        from tests.support.github_fake import Response, _iso, _node_id

        r, sha = self._commit_of(req, owner, repo, ref)
        statuses = _newest(r.merge_rules.statuses.get(sha, []), "context")
        states = {s.state for s in statuses}
        if states & {"error", "failure"}:
            state = "failure"
        elif not statuses or "pending" in states:
            state = "pending"
        else:
            state = "success"
        api = self._repo_api(r)  # type: ignore[attr-defined]
        body = {
            "state": state,
            "statuses": [
                {
                    "url": f"{api}/statuses/{sha}",
                    "avatar_url": None,
                    "id": s.id,
                    "node_id": _node_id("StatusContext", s.id),
                    "state": s.state,
                    "description": s.description,
                    "target_url": s.target_url,
                    "context": s.context,
                    "created_at": _iso(s.created_at),
                    "updated_at": _iso(s.created_at),
                }
                for s in statuses
            ],
            "sha": sha,
            "total_count": len(statuses),
            "repository": self._repo_json(r),  # type: ignore[attr-defined]
            "commit_url": f"{api}/commits/{sha}",
            "url": f"{api}/commits/{sha}/status",
        }
        return Response(200, body)

    def _list_check_runs(self, req: Request, owner: str, repo: str, ref: str) -> Response:
        from tests.support.github_fake import _iso, _node_id

        r, sha = self._commit_of(req, owner, repo, ref)
        runs = r.merge_rules.check_runs.get(sha, [])
        if (req.arg("filter") or "latest") == "latest":
            runs = _newest(runs, "name")
        api = self._repo_api(r)  # type: ignore[attr-defined]
        html = self._repo_html(r)  # type: ignore[attr-defined]
        items = [
            {
                "id": run.id,
                "head_sha": sha,
                "node_id": _node_id("CheckRun", run.id),
                "external_id": "",
                "url": f"{api}/check-runs/{run.id}",
                "html_url": f"{html}/runs/{run.id}",
                "details_url": f"{html}/runs/{run.id}",
                "status": run.status,
                "conclusion": run.conclusion,
                "started_at": _iso(run.started_at),
                "completed_at": _iso(run.completed_at),
                "output": {
                    "title": None,
                    "summary": None,
                    "text": None,
                    "annotations_count": 0,
                    "annotations_url": f"{api}/check-runs/{run.id}/annotations",
                },
                "name": run.name,
                "check_suite": {"id": run.id + 500_000},
                "app": {"id": 15368, "slug": "github-actions", "name": "GitHub Actions"},
                "pull_requests": [],
            }
            for run in runs
        ]
        return self._page(req, items, wrap="check_runs")  # type: ignore[attr-defined,no-any-return]

    def _list_reviews(self, req: Request, owner: str, repo: str, number: str) -> Response:
        from tests.support.github_fake import _iso, _node_id

        r = self._readable(req, owner, repo)  # type: ignore[attr-defined]
        pr = self._pull(r, number)  # type: ignore[attr-defined]
        api = self._repo_api(r)  # type: ignore[attr-defined]
        html = f"{self._repo_html(r)}/pull/{pr.number}"  # type: ignore[attr-defined]
        items = [
            {
                "id": review.id,
                "node_id": _node_id("PullRequestReview", review.id),
                "user": self._user_json(self._account(review.login)),  # type: ignore[attr-defined]
                "body": review.body,
                "state": review.state,
                "html_url": f"{html}#pullrequestreview-{review.id}",
                "pull_request_url": f"{api}/pulls/{pr.number}",
                "author_association": "MEMBER",
                "_links": {
                    "html": {"href": f"{html}#pullrequestreview-{review.id}"},
                    "pull_request": {"href": f"{api}/pulls/{pr.number}"},
                },
                "submitted_at": _iso(review.submitted_at),
                "commit_id": review.commit_id,
            }
            for review in sorted(pr.reviews, key=lambda r: r.id)
        ]
        return self._page(req, items)  # type: ignore[attr-defined,no-any-return]

    # -- GraphQL: auto-merge -----------------------------------------------------------------
    def _graphql(self, req: Request) -> Response:
        from tests.support.github_fake import ApiError, Response

        body = req.obj()
        query, variables = body.get("query"), body.get("variables") or {}
        found = _MUTATION.match(query) if isinstance(query, str) else None
        if found is None:
            raise ApiError(400, "Problems parsing JSON")
        name = found.group("name")
        given = variables.get("input") if isinstance(variables, dict) else None
        handlers = {
            "enablePullRequestAutoMerge": self._enable_auto_merge,
            "disablePullRequestAutoMerge": self._disable_auto_merge,
        }
        try:
            if name not in handlers or not isinstance(given, dict):
                raise GraphQLError(
                    f"Field '{name}' doesn't exist on type 'Mutation'", "undefinedField"
                )
            assert req.identity is not None
            handlers[name](req, given)
        except GraphQLError as error:
            answer = {
                "data": {name: None},
                "errors": [
                    {
                        "type": error.kind,
                        "path": [name],
                        "locations": [{"line": 1, "column": 1}],
                        "message": error.message,
                    }
                ],
            }
            return Response(200, answer)
        actor = req.identity.account
        data = {
            "actor": {
                "avatarUrl": f"{self.url}/_avatars/u/{actor.id}",  # type: ignore[attr-defined]
                "login": actor.login,
                "resourcePath": f"/{actor.login}",
                "url": f"{self.url}/{actor.login}",  # type: ignore[attr-defined]
            },
            "clientMutationId": given.get("clientMutationId"),
        }
        return Response(200, {"data": {name: data}})

    def _pull_by_node(self, req: Request, node_id: Any) -> tuple[FakeRepo, FakePull]:
        from tests.support.github_fake import _node_id

        for repo in self._repos.values():  # type: ignore[attr-defined]
            for pr in repo.pulls.values():
                if _node_id("PullRequest", pr.id) == node_id:
                    self._check_installation_access(req, repo)  # type: ignore[attr-defined]
                    return repo, pr
        shown = node_id if isinstance(node_id, str) else base64.b64encode(b"?").decode()
        raise GraphQLError(
            f"Could not resolve to a node with the global id of '{shown}'", "NOT_FOUND"
        )

    def _enable_auto_merge(self, req: Request, given: dict[str, Any]) -> None:
        repo, pr = self._pull_by_node(req, given.get("pullRequestId"))
        if pr.state != "open":
            raise GraphQLError("Pull request is not open")
        if not repo.merge_rules.allow_auto_merge:
            raise GraphQLError("Auto merge is not allowed for this repository")
        expected = given.get("expectedHeadOid")
        if expected is not None and expected != pr.head_sha:
            raise GraphQLError("Head branch was modified. Review and try the merge again.")
        method = str(given.get("mergeMethod", "MERGE")).lower()
        if method not in ("merge", "squash", "rebase"):
            raise GraphQLError(f"Invalid merge method {method}")
        mergeable = self._merged_tree(repo, repo.refs[pr.base_ref], pr.head_sha) is not None  # type: ignore[attr-defined]
        state = self._merge_state(repo, pr, mergeable)
        if state in ("clean", "unstable"):
            # Nothing to wait for: GitHub refuses, the caller merges at once instead.
            raise GraphQLError(f"Pull request Pull request is in {state} status")
        assert req.identity is not None
        pr.auto_merge = AutoMerge(
            req.identity.account.login,
            method,
            given.get("commitHeadline"),
            given.get("commitBody"),
        )
        self._settle_auto_merges(repo)

    def _disable_auto_merge(self, req: Request, given: dict[str, Any]) -> None:
        _, pr = self._pull_by_node(req, given.get("pullRequestId"))
        pr.auto_merge = None
