"""Reading GitHub: an organisation's repositories, a branch's tree and candidate files, and
the pull requests from a branch.

Reads are one ref, one recursive tree and one blob per candidate file. With a
`ResponseCache`, reads are conditional (a 304 is free against the primary rate limit) and
trees and blobs, addressed by sha, are not asked for again at all. Every failure is a
`ForgeError`.
"""

from __future__ import annotations

import base64
import fnmatch
import hashlib
import json
import re
import urllib.parse
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from github import Github, GithubException
from github.Repository import Repository
from github.Requester import Requester

from pinbot.errors import Problem, ProblemKind
from pinbot.forge.cache import CachedAnswer, ResponseCache
from pinbot.forge.github_connection import ApiCalls, translated
from pinbot.scanners import MAX_FILE_BYTES, scanners_for

MODE_FILE = "100644"
MODE_EXECUTABLE = "100755"
_BLOB_MODES = (MODE_FILE, MODE_EXECUTABLE)


# --- choosing repositories ---------------------------------------------------------------


@dataclass(frozen=True)
class RepositoryFilter:
    """Which repositories of an organisation to work on. Globs match the name without owner."""

    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    topics: tuple[str, ...] = ()
    include_archived: bool = False
    include_forks: bool = False

    def skip_reason(
        self, name: str, *, archived: bool, fork: bool, topics: Iterable[str]
    ) -> str | None:
        """Why a repository is left out, or None when it is in."""
        if archived and not self.include_archived:
            return "archived"
        if fork and not self.include_forks:
            return "fork"
        lowered = name.lower()
        if self.include and not any(fnmatch.fnmatchcase(lowered, g.lower()) for g in self.include):
            return "not matched by --include"
        if any(fnmatch.fnmatchcase(lowered, g.lower()) for g in self.exclude):
            return "matched by --exclude"
        if self.topics and not set(self.topics) & set(topics):
            return "no wanted topic"
        return None


@dataclass(frozen=True)
class RepositorySelection:
    """Which repositories a run works on: named ones, or an organisation's that pass a filter;
    with a shard, only those of shard `index` of `count` (see `shard_of`)."""

    repositories: tuple[str, ...] = ()
    organisation: str | None = None
    wanted: RepositoryFilter = field(default_factory=RepositoryFilter)
    shard: tuple[int, int] | None = None

    @property
    def installation_owner(self) -> str | None:
        """The owner whose GitHub App installation to use: the organisation, or the first
        repository's owner."""
        if self.organisation:
            return self.organisation
        return self.repositories[0].split("/", 1)[0] if self.repositories else None


def shard_of(full_name: str, count: int) -> int:
    """The shard (0 … count-1) a repository belongs to: sha256 of `owner/name`, lowercased.

    >>> shard_of("acme/web", 1)
    0
    """
    digest = hashlib.sha256(full_name.lower().encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % count


def git_blob_id(data: bytes) -> str:
    """The id git gives a blob with these bytes (what trees list)."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()


@dataclass(frozen=True)
class TreeFile:
    path: str
    sha: str
    mode: str
    size: int | None


@dataclass
class Snapshot:
    """A branch at one commit: its tree, and the bytes of the files worth scanning."""

    repository: str
    branch: str
    commit: str
    tree: str
    entries: dict[str, TreeFile]
    files: dict[str, bytes] = field(default_factory=dict)
    skipped: list[Problem] = field(default_factory=list)  # candidate files not read


def is_candidate(path: str, ignore_paths: Sequence[str] = ()) -> bool:
    """Whether some scanner reads this path and the configuration does not ignore it."""
    if any(fnmatch.fnmatchcase(path, glob) for glob in ignore_paths):
        return False
    return bool(scanners_for(path))


@dataclass(frozen=True)
class PullInfo:
    """What the bot needs of a pull request, read from one list answer (no extra requests)."""

    number: int
    state: str
    merged: bool
    title: str
    body: str
    head_ref: str
    head_sha: str
    head_repository: str
    url: str
    api_url: str
    node_id: str = ""  # GraphQL's id of the pull request (auto-merge is asked for by it)
    author: str = ""  # the login that opened it
    labels: tuple[str, ...] = ()
    draft: bool = False
    auto_merge_by: str | None = None  # who turned GitHub's auto-merge on, None when it is off


_NEXT_PAGE = re.compile(r'<(?P<url>[^>]+)>\s*;\s*rel="next"')
PER_PAGE = 100


def next_page(link: str | None) -> str | None:
    """The `rel="next"` URL of a Link header, if there is one.

    >>> next_page('<https://api.github.com/x?page=2>; rel="next", <https://api.github.com/x?page=5>; rel="last"')
    'https://api.github.com/x?page=2'
    """
    found = _NEXT_PAGE.search(link or "")
    return found.group("url") if found else None


def _json(text: str) -> Any:
    if not text:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return {"message": text[:200]}  # an error page that is not JSON


def _auto_merge_by(auto_merge: Any) -> str | None:
    """Who turned GitHub's auto-merge on, from a pull request's `auto_merge` (null when off);
    "" when it is on and GitHub does not say by whom."""
    if auto_merge is None:
        return None
    enabled_by = auto_merge.get("enabled_by") if isinstance(auto_merge, dict) else None
    login = enabled_by.get("login") if isinstance(enabled_by, dict) else None
    return login if isinstance(login, str) else ""


class GitHubReader:
    """Reads from GitHub through PyGithub, one repository at a time; see the module docstring."""

    def __init__(self, github: Github, calls: ApiCalls, cache: ResponseCache | None = None) -> None:
        self.github = github
        self.calls = calls
        self.cache = cache
        self._requester = github.requester

    # --- repositories --------------------------------------------------------------------

    def repository(self, full_name: str) -> Repository:
        with translated(full_name, "reading the repository"):
            data, _ = self._read(f"/repos/{full_name}")
            return self.github.create_from_raw_data(Repository, data)

    def organisation_repositories(
        self, org: str, chosen: RepositoryFilter
    ) -> tuple[list[Repository], dict[str, str]]:
        """The organisation's repositories that pass `chosen`, and the skipped ones with why."""
        kept: list[Repository] = []
        skipped: dict[str, str] = {}
        with translated(org, "listing the organisation's repositories"):
            pages = self._read_pages(
                f"/orgs/{urllib.parse.quote(org)}/repos", {"type": "all", "sort": "full_name"}
            )
            for raw in pages:
                repo = self.github.create_from_raw_data(Repository, raw)
                why = chosen.skip_reason(
                    repo.name, archived=repo.archived, fork=repo.fork, topics=repo.topics or ()
                )
                if why is None:
                    kept.append(repo)
                else:
                    skipped[repo.full_name] = why
        return kept, skipped

    def choose_repositories(
        self, selection: RepositorySelection
    ) -> tuple[list[tuple[str, Repository | None]], dict[str, str]]:
        """The repositories to work on (in the shard), and those the filter left out with why.

        A named repository is not read here: one that cannot be read fails alone, where it
        is used.
        """
        skipped: dict[str, str] = {}
        if selection.organisation:
            repos, skipped = self.organisation_repositories(
                selection.organisation, selection.wanted
            )
            chosen: list[tuple[str, Repository | None]] = [(r.full_name, r) for r in repos]
        else:
            chosen = [(name, None) for name in dict.fromkeys(selection.repositories)]
        if selection.shard is not None:
            index, count = selection.shard
            chosen = [(name, repo) for name, repo in chosen if shard_of(name, count) == index]
        return chosen, skipped

    # --- answers, cached and paged --------------------------------------------------------

    def _absolute(self, url: str) -> str:
        return self._requester.base_url.rstrip("/") + url if url.startswith("/") else url

    def _read(
        self, url: str, parameters: dict[str, Any] | None = None, *, immutable: bool = False
    ) -> tuple[Any, str | None]:
        """GET one answer: its JSON and the URL of its next page (None on the last page).

        With a cache, the request carries the validators of the answer kept, and a 304 serves
        that answer. An `immutable` answer (addressed by sha) is served without a request.
        """
        # The cache sits here, on PyGithub's public `requestJson` (headers in, status out),
        # rather than under PyGithub: its connection classes can only be swapped for the whole
        # process, its requests session is private, and it authenticates (and so counts)
        # and paces a request before the transport could answer it from disk.
        url = Requester.add_parameters_to_url(self._absolute(url), parameters or {})
        cached = self.cache.get(url) if self.cache is not None else None
        if cached is not None and immutable:
            self.calls.served_from_cache()
            return _json(cached.text), next_page(cached.link)
        headers = cached.conditional_headers() if cached is not None else {}
        status, answer_headers, text = self._requester.requestJson("GET", url, headers=headers)
        if status == 304 and cached is not None:
            self.calls.answered_not_modified()
            return _json(cached.text), next_page(cached.link)
        data = _json(text)
        if status >= 400:
            raise self._requester.createException(
                status, answer_headers, data if isinstance(data, dict) else {}
            )
        link = answer_headers.get("link")
        if self.cache is not None and status == 200:
            self.cache.put(
                CachedAnswer(
                    url,
                    text,
                    etag=answer_headers.get("etag"),
                    last_modified=answer_headers.get("last-modified"),
                    link=link,
                )
            )
        return data, next_page(link)

    def _get(
        self, url: str, parameters: dict[str, Any] | None = None, *, immutable: bool = False
    ) -> Any:
        data, _ = self._read(url, parameters, immutable=immutable)
        return data

    def _read_pages(self, url: str, parameters: dict[str, Any]) -> list[Any]:
        """Every item of a list answer, following its Link header page by page."""
        items: list[Any] = []
        page: str | None = url
        query: dict[str, Any] | None = {"per_page": PER_PAGE, **parameters}
        while page is not None:
            data, page = self._read(page, query)
            query = None  # the next page's URL carries the whole query
            if isinstance(data, list):
                items.extend(data)
        return items

    def _tree_entries(self, repo: Repository, tree: dict[str, Any]) -> dict[str, TreeFile]:
        entries: dict[str, TreeFile] = {}

        def add(items: Iterable[dict[str, Any]], prefix: str) -> None:
            for item in items:
                path = prefix + item["path"]
                if item.get("type") == "blob" and item.get("mode") in _BLOB_MODES:
                    entries[path] = TreeFile(path, item["sha"], item["mode"], item.get("size"))
                elif item.get("type") == "tree" and tree.get("truncated"):
                    # A truncated answer: walk this folder with its own (non-recursive) call.
                    sub = self._get(f"{repo.url}/git/trees/{item['sha']}", immutable=True)
                    add(sub.get("tree", []), path + "/")

        if tree.get("truncated"):
            root = self._get(f"{repo.url}/git/trees/{tree['sha']}", immutable=True)
            add(root.get("tree", []), "")
        else:
            add(tree.get("tree", []), "")
        return entries

    def snapshot(self, repo: Repository, ignore_paths: Sequence[str] = ()) -> Snapshot:
        """The default branch head: one ref call, one recursive tree call, candidate blobs."""
        snapshot = self.read_tree(repo)
        self.read_candidates(repo, snapshot, ignore_paths)
        return snapshot

    def read_tree(self, repo: Repository) -> Snapshot:
        """The default branch head's tree, no file contents yet: one ref and one tree call.

        With it a caller can choose what to read (a settings file first, then candidates).
        """
        name = repo.full_name
        branch = repo.default_branch
        with translated(name, f"reading branch {branch}"):
            ref = self._get(f"{repo.url}/git/ref/heads/{urllib.parse.quote(branch, safe='/')}")
            commit = ref["object"]["sha"]
            # Asked for by commit sha: the answer for one commit never changes.
            tree = self._get(f"{repo.url}/git/trees/{commit}", {"recursive": "1"}, immutable=True)
            entries = self._tree_entries(repo, tree)
            return Snapshot(name, branch, commit, tree["sha"], entries)

    def read_candidates(
        self, repo: Repository, snapshot: Snapshot, ignore_paths: Sequence[str] = ()
    ) -> None:
        """Read into `snapshot.files` every file a scanner reads and `ignore_paths` keeps."""
        for path, entry in sorted(snapshot.entries.items()):
            if path in snapshot.files or not is_candidate(path, ignore_paths):
                continue
            if entry.size is not None and entry.size > MAX_FILE_BYTES:
                snapshot.skipped.append(
                    Problem(
                        ProblemKind.UNREADABLE_FILE, f"larger than {MAX_FILE_BYTES} bytes", path
                    )
                )
                continue
            snapshot.files[path] = self.read_file(repo, snapshot, path)

    def read_file(self, repo: Repository, snapshot: Snapshot, path: str) -> bytes:
        """The bytes of one file of the snapshot: one blob call (none when cached by sha)."""
        with translated(snapshot.repository, f"reading {path} on {snapshot.branch}"):
            blob = self._get(f"{repo.url}/git/blobs/{snapshot.entries[path].sha}", immutable=True)
            return base64.b64decode(blob.get("content", ""))

    def _pull_info(self, raw: dict[str, Any]) -> PullInfo:
        return PullInfo(
            number=raw["number"],
            state=raw["state"],
            merged=raw.get("merged_at") is not None,
            title=raw.get("title") or "",
            body=raw.get("body") or "",
            head_ref=(raw.get("head") or {}).get("ref", ""),
            head_sha=(raw.get("head") or {}).get("sha", ""),
            head_repository=((raw.get("head") or {}).get("repo") or {}).get("full_name", ""),
            url=raw.get("html_url", ""),
            api_url=raw.get("url", ""),
            node_id=raw.get("node_id") or "",
            author=(raw.get("user") or {}).get("login", ""),
            labels=tuple(
                label.get("name", "") for label in raw.get("labels") or [] if isinstance(label, dict)
            ),
            draft=raw.get("draft") is True,
            auto_merge_by=_auto_merge_by(raw.get("auto_merge")),
        )

    def _list_pulls(self, repo: Repository, parameters: dict[str, Any]) -> list[PullInfo]:
        # Read the list answer directly: PyGithub's objects would fetch each pull again to
        # complete themselves, one request per pull request on every run.
        with translated(repo.full_name, "listing pull requests"):
            data = self._read_pages(f"{repo.url}/pulls", parameters)
            return [self._pull_info(raw) for raw in data if isinstance(raw, dict)]

    def pulls_for_branch(self, repo: Repository, branch: str) -> list[PullInfo]:
        """Every pull request, open or closed, whose head is `branch` of this repository.

        Newest first, every page: each closed one may be a human's answer to remember.
        """
        with translated(repo.full_name, "listing pull requests"):
            owner = repo.owner.login
        pulls = self._list_pulls(
            repo,
            {"state": "all", "head": f"{owner}:{branch}", "sort": "created", "direction": "desc"},
        )
        # A server that ignored the filter must not make us adopt a stranger's pull request.
        return [p for p in pulls if p.head_ref == branch and p.head_repository == repo.full_name]

    def open_pulls_under(self, repo: Repository, prefix: str) -> list[PullInfo]:
        """Open pull requests from this repository's branches whose name starts with `prefix`."""
        pulls = self._list_pulls(repo, {"state": "open", "sort": "created", "direction": "desc"})
        return [
            p
            for p in pulls
            if p.head_ref.startswith(prefix) and p.head_repository == repo.full_name
        ]

    def branch_head(self, repo: Repository, branch: str) -> str | None:
        with translated(repo.full_name, f"reading branch {branch}"):
            try:
                ref = self._get(f"{repo.url}/git/ref/heads/{urllib.parse.quote(branch, safe='/')}")
            except GithubException as exc:
                if exc.status == 404:
                    return None
                raise
            sha: str = ref["object"]["sha"]
            return sha
