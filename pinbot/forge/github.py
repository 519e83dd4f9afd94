"""GitHub as a forge: list repositories, read a branch's candidate files, commit and propose.

Reads (`pinbot.forge.github_read`) are one ref, one recursive tree and one blob per candidate
file; writes use the git data API (tree with `base_tree`, commit, ref) so nothing is ever
cloned. Every request is counted against the repository being worked on
(`pinbot.forge.github_connection`). Whatever goes wrong is raised as a `ForgeError`: nothing
PyGithub, requests or urllib3 raise leaves this package.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Mapping, Sequence
from typing import Any

from github import GithubException
from github.Repository import Repository

from pinbot.forge.github_connection import (
    DEFAULT_API_URL,
    ApiCalls,
    Credentials,
    CredentialsError,
    ForgeError,
    Pacing,
    connect,
    translated,
)
from pinbot.forge.github_merge import (
    Check,
    CheckState,
    MergeAnswer,
    MergingForge,
    PullChecks,
)
from pinbot.forge.github_read import (
    MODE_EXECUTABLE,
    MODE_FILE,
    PER_PAGE,
    PullInfo,
    RepositoryFilter,
    RepositorySelection,
    Snapshot,
    TreeFile,
    git_blob_id,
    is_candidate,
    next_page,
    shard_of,
)

__all__ = [
    "DEFAULT_API_URL",
    "MODE_EXECUTABLE",
    "MODE_FILE",
    "PER_PAGE",
    "ApiCalls",
    "Check",
    "CheckState",
    "Credentials",
    "CredentialsError",
    "ForgeError",
    "GitHubForge",
    "MergeAnswer",
    "Pacing",
    "PullChecks",
    "PullInfo",
    "RepositoryFilter",
    "RepositorySelection",
    "Snapshot",
    "TreeFile",
    "connect",
    "git_blob_id",
    "is_candidate",
    "next_page",
    "shard_of",
]


class GitHubForge(MergingForge):
    """Reads (see `GitHubReader`) and writes: commits, branches, pull requests, comments; and
    merges (see `MergingForge`)."""

    def _post(self, verb: str, url: str, body: dict[str, Any] | None = None) -> Any:
        self.calls.write()
        _, data = self._requester.requestJsonAndCheck(verb, url, input=body)
        return data

    def commit(
        self,
        repo: Repository,
        snapshot: Snapshot,
        files: Mapping[str, bytes],
        message: str,
    ) -> str:
        """A commit on top of the snapshot's commit with `files` replaced; returns its id.

        The new contents go inline in the tree request (GitHub stores them as blobs), one
        content-creating request instead of one per file.
        """
        entries = []
        for path, data in sorted(files.items()):
            mode = snapshot.entries[path].mode if path in snapshot.entries else MODE_FILE
            entries.append(
                {"path": path, "mode": mode, "type": "blob", "content": data.decode("utf-8")}
            )
        with translated(repo.full_name, "writing the commit"):
            tree = self._post(
                "POST", f"{repo.url}/git/trees", {"base_tree": snapshot.tree, "tree": entries}
            )
            commit = self._post(
                "POST",
                f"{repo.url}/git/commits",
                {"message": message, "tree": tree["sha"], "parents": [snapshot.commit]},
            )
            sha: str = commit["sha"]
            return sha

    def move_branch(self, repo: Repository, branch: str, sha: str, *, exists: bool | None) -> None:
        """Create `branch` at `sha`, or force it there (the branch belongs to pinbot).

        With `exists=None` creation is tried first and a 422 "already exists" (a branch left
        behind by a closed pull request) falls back to the forced move.
        """
        ref_url = f"{repo.url}/git/refs/heads/{urllib.parse.quote(branch, safe='/')}"
        with translated(repo.full_name, f"moving branch {branch}"):
            if not exists:
                try:
                    self._post(
                        "POST", f"{repo.url}/git/refs", {"ref": f"refs/heads/{branch}", "sha": sha}
                    )
                    return
                except GithubException as exc:
                    if exc.status != 422 or exists is False:
                        raise
            self._post("PATCH", ref_url, {"sha": sha, "force": True})

    def delete_branch(self, repo: Repository, branch: str) -> None:
        with translated(repo.full_name, f"deleting branch {branch}"):
            try:
                self.calls.write()
                self._requester.requestJsonAndCheck(
                    "DELETE", f"{repo.url}/git/refs/heads/{urllib.parse.quote(branch, safe='/')}"
                )
            except GithubException as exc:
                if exc.status not in (404, 422):  # already gone
                    raise

    def open_pull(
        self,
        repo: Repository,
        *,
        branch: str,
        base: str,
        title: str,
        body: str,
        draft: bool,
    ) -> PullInfo:
        """Open the pull request (`decorate` then labels, assigns and asks for reviews)."""
        with translated(repo.full_name, "opening the pull request"):
            raw = self._post(
                "POST",
                f"{repo.url}/pulls",
                {"title": title, "head": branch, "base": base, "body": body, "draft": draft},
            )
            return self._pull_info(raw)

    def decorate(
        self,
        repo: Repository,
        pull: PullInfo,
        *,
        labels: Sequence[str] = (),
        reviewers: Sequence[str] = (),
        team_reviewers: Sequence[str] = (),
        assignees: Sequence[str] = (),
    ) -> list[str]:
        """Label an open pull request, ask for reviews and assign it; what was refused.

        The pull request exists by now, so a label, reviewer or assignee GitHub refuses (a
        login that is not a collaborator answers 422) is a warning to report, and the other
        two are still tried.
        """
        issue = f"{repo.url}/issues/{pull.number}"
        steps: list[tuple[str, str, dict[str, Any]]] = []
        if labels:
            steps.append(("labels", f"{issue}/labels", {"labels": list(labels)}))
        if reviewers or team_reviewers:
            steps.append(
                (
                    "reviewers",
                    f"{pull.api_url}/requested_reviewers",
                    {"reviewers": list(reviewers), "team_reviewers": list(team_reviewers)},
                )
            )
        if assignees:
            steps.append(("assignees", f"{issue}/assignees", {"assignees": list(assignees)}))
        refused = []
        for what, url, body in steps:
            asked = f"the {what} ({_names(body, what)})"
            try:
                with translated(repo.full_name, f"asking for {asked}"):
                    self._post("POST", url, body)
            except ForgeError as exc:
                refused.append(f"#{pull.number}: GitHub refused {asked}: {exc.problem}")
        return refused

    def edit_pull(self, repo: Repository, pull: PullInfo, *, title: str, body: str) -> None:
        with translated(repo.full_name, f"editing pull request #{pull.number}"):
            self._post("PATCH", pull.api_url, {"title": title, "body": body})

    def comment(self, repo: Repository, pull: PullInfo, body: str) -> None:
        """Add a comment to a pull request (a counted, paced write)."""
        with translated(repo.full_name, f"commenting on pull request #{pull.number}"):
            self._post("POST", f"{repo.url}/issues/{pull.number}/comments", {"body": body})

    def close_pull(self, repo: Repository, pull: PullInfo, *, comment: str, body: str) -> None:
        """Say why, then close with the final body (which records that pinbot closed it)."""
        self.comment(repo, pull, comment)
        with translated(repo.full_name, f"closing pull request #{pull.number}"):
            self._post("PATCH", pull.api_url, {"state": "closed", "body": body})


def _names(body: Mapping[str, Any], what: str) -> str:
    """The labels, reviewers (and teams) or assignees a decoration asked for."""
    return ", ".join([*body.get(what, []), *(f"team {t}" for t in body.get("team_reviewers", []))])
