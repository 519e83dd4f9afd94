"""GitHub as a forge: list repositories, read a branch's candidate files, commit and propose.

Reads are one ref, one recursive tree and one blob per candidate file; writes use the git
data API (tree with `base_tree`, commit, ref) so nothing is ever cloned. Every request is
counted against the repository being worked on. With a `ResponseCache`, reads are
conditional (a 304 is free against the primary rate limit) and trees and blobs, addressed by
sha, are not asked for again at all.
"""

from __future__ import annotations

import base64
import fnmatch
import hashlib
import json
import os
import re
import urllib.parse
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from github import Auth, Github, GithubException, GithubIntegration, GithubRetry
from github.Repository import Repository
from github.Requester import Requester

from pinbot.errors import PinbotError
from pinbot.forge.cache import CachedAnswer, ResponseCache
from pinbot.scanners import MAX_FILE_BYTES, scanners_for

DEFAULT_API_URL = "https://api.github.com"
MODE_FILE = "100644"
MODE_EXECUTABLE = "100755"
_BLOB_MODES = (MODE_FILE, MODE_EXECUTABLE)


class ForgeError(PinbotError):
    """A GitHub request that failed, naming the repository and what was being done."""

    def __init__(
        self, repository: str, action: str, problem: str, status: int | None = None
    ) -> None:
        super().__init__(f"{repository}: {action}: {problem}")
        self.repository = repository
        self.action = action
        self.status = status


def _problem(exc: GithubException) -> str:
    data = exc.data
    message = data.get("message") if isinstance(data, dict) else None
    return f"HTTP {exc.status}: {message or 'no message'}"


# --- counting and pacing ---------------------------------------------------------------


class ApiCalls:
    """Requests made, per repository (the scope), including retries after rate limits.

    `requests` is every request sent; of those, `not_modified` were answered 304, which
    GitHub does not count against the primary rate limit. `cached` are reads answered from
    the response cache without any request.
    """

    RUN = "(run)"

    def __init__(self) -> None:
        self.requests: Counter[str] = Counter()
        self.retries: Counter[str] = Counter()
        self.writes: Counter[str] = Counter()
        self.not_modified: Counter[str] = Counter()
        self.cached: Counter[str] = Counter()
        self.scope = self.RUN

    @contextmanager
    def scoped(self, name: str) -> Iterator[None]:
        previous, self.scope = self.scope, name
        try:
            yield
        finally:
            self.scope = previous

    def request(self) -> None:
        self.requests[self.scope] += 1

    def retry(self) -> None:
        self.requests[self.scope] += 1
        self.retries[self.scope] += 1

    def write(self) -> None:
        self.writes[self.scope] += 1

    def answered_not_modified(self) -> None:
        self.not_modified[self.scope] += 1

    def served_from_cache(self) -> None:
        self.cached[self.scope] += 1

    def total(self) -> int:
        return sum(self.requests.values())

    def counted(self, scope: str | None = None) -> int:
        """Requests that count against the primary rate limit (all but the 304s)."""
        if scope is None:
            return self.total() - sum(self.not_modified.values())
        return self.requests[scope] - self.not_modified[scope]


class _CountingToken(Auth.Token):
    """A token that counts every request it authenticates (PyGithub calls it once per request)."""

    def __init__(self, token: str, calls: ApiCalls) -> None:
        super().__init__(token)
        self._calls = calls

    def authentication(self, headers: dict[str, str]) -> None:
        self._calls.request()
        super().authentication(headers)


class _CountingInstallationAuth(Auth.AppInstallationAuth):
    """A GitHub App installation token (refreshed by PyGithub) that counts requests."""

    def __init__(self, app_auth: Auth.AppAuth, installation_id: int, calls: ApiCalls) -> None:
        super().__init__(app_auth, installation_id)
        self._calls = calls

    def authentication(self, headers: dict[str, str]) -> None:
        self._calls.request()
        super().authentication(headers)


class _RateLimitRetry(GithubRetry):
    """PyGithub's retry (403 with Retry-After or a rate-limit message; 5xx), plus 429, counted.

    urllib3 sleeps for `Retry-After` when the answer has one; a primary limit waits for
    `X-RateLimit-Reset`; waits longer than `max_rate_limit_wait` fail instead.
    """

    calls: ApiCalls | None = None

    def new(self, **kw: Any) -> _RateLimitRetry:
        retry = super().new(**kw)
        retry.calls = self.calls
        return retry

    def increment(self, *args: Any, **kwargs: Any) -> Any:
        retry = super().increment(*args, **kwargs)
        if self.calls is not None:
            self.calls.retry()
        return retry


@dataclass(frozen=True)
class Pacing:
    """Seconds PyGithub waits between requests and between writes.

    Reads are made one at a time and kept few, so they need no pause. GitHub asks for at
    least a second between content-creating requests (its secondary limits are about those),
    which is PyGithub's own default for writes.
    """

    between_requests: float = 0.0
    between_writes: float = 1.0
    max_rate_limit_wait: float = 900.0
    attempts: int = 6


@dataclass(frozen=True)
class Credentials:
    """How to authenticate: a token, or a GitHub App (id, private key, installation)."""

    token: str | None = None
    app_id: str | None = None
    private_key: str | None = field(default=None, repr=False)
    installation_id: int | None = None
    api_url: str = DEFAULT_API_URL

    def __repr__(self) -> str:  # never show a credential, even in a traceback
        kind = "token" if self.token else "app" if self.app_id else "none"
        return f"Credentials(kind={kind!r}, api_url={self.api_url!r})"

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> Credentials:
        """`GITHUB_TOKEN`, or `PINBOT_APP_ID` with `PINBOT_APP_PRIVATE_KEY` (PEM text) or
        `PINBOT_APP_PRIVATE_KEY_FILE`, and optionally `PINBOT_APP_INSTALLATION_ID`;
        `GITHUB_API_URL` for GitHub Enterprise Server."""
        env = os.environ if environ is None else environ
        api_url = (env.get("GITHUB_API_URL") or DEFAULT_API_URL).rstrip("/")
        app_id = env.get("PINBOT_APP_ID")
        if app_id:
            key = env.get("PINBOT_APP_PRIVATE_KEY")
            key_file = env.get("PINBOT_APP_PRIVATE_KEY_FILE")
            if not key and key_file:
                key = Path(key_file).read_text(encoding="utf-8")
            if not key:
                raise ValueError(
                    "PINBOT_APP_ID is set but neither PINBOT_APP_PRIVATE_KEY nor "
                    "PINBOT_APP_PRIVATE_KEY_FILE is"
                )
            installation = env.get("PINBOT_APP_INSTALLATION_ID")
            if installation is not None and not installation.isdigit():
                raise ValueError("PINBOT_APP_INSTALLATION_ID is not a number")
            return cls(
                app_id=app_id,
                private_key=key,
                installation_id=int(installation) if installation else None,
                api_url=api_url,
            )
        token = env.get("GITHUB_TOKEN") or env.get("GH_TOKEN")
        if not token:
            raise ValueError("set GITHUB_TOKEN, or PINBOT_APP_ID and PINBOT_APP_PRIVATE_KEY")
        return cls(token=token, api_url=api_url)


def _retry(pacing: Pacing, calls: ApiCalls) -> _RateLimitRetry:
    retry = _RateLimitRetry(
        total=pacing.attempts,
        backoff_factor=1.0,
        status_forcelist=[*range(500, 600), 429],
        max_rate_limit_wait=pacing.max_rate_limit_wait,
    )
    retry.calls = calls
    return retry


def _installation_for(app_auth: Auth.AppAuth, api_url: str, owner: str) -> int:
    """The id of the app's installation on an organisation or user account."""
    integration = GithubIntegration(auth=app_auth, base_url=api_url)
    try:
        for installation in integration.get_installations():
            account = installation.raw_data.get("account") or {}
            if str(account.get("login", "")).lower() == owner.lower():
                return int(installation.id)
    except GithubException as exc:
        raise ForgeError(
            owner, "finding the GitHub App installation", _problem(exc), exc.status
        ) from exc
    finally:
        integration.close()
    raise ForgeError(owner, "finding the GitHub App installation", "the app is not installed there")


def connect(
    credentials: Credentials,
    *,
    pacing: Pacing = Pacing(),
    calls: ApiCalls | None = None,
    installation_owner: str | None = None,
) -> tuple[Github, ApiCalls]:
    """A PyGithub client whose requests are paced, retried on rate limits, and counted.

    For a GitHub App without an installation id, the installation on `installation_owner`
    (an organisation or user) is looked up.
    """
    calls = calls if calls is not None else ApiCalls()
    auth: Auth.Auth
    if credentials.token:
        auth = _CountingToken(credentials.token, calls)
    elif credentials.app_id and credentials.private_key:
        app_auth = Auth.AppAuth(credentials.app_id, credentials.private_key)
        installation = credentials.installation_id
        if installation is None:
            if installation_owner is None:
                raise ValueError("a GitHub App needs PINBOT_APP_INSTALLATION_ID or --org")
            installation = _installation_for(app_auth, credentials.api_url, installation_owner)
        auth = _CountingInstallationAuth(app_auth, installation, calls)
    else:
        raise ValueError("no GitHub credentials")
    github = Github(
        base_url=credentials.api_url,
        auth=auth,
        retry=_retry(pacing, calls),
        seconds_between_requests=pacing.between_requests,
        seconds_between_writes=pacing.between_writes,
        per_page=100,
        user_agent="pinbot",
    )
    return github, calls


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


# --- reading -----------------------------------------------------------------------------


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
    skipped: list[str] = field(default_factory=list)


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


class GitHubForge:
    """GitHub through PyGithub, one repository at a time; see the module docstring."""

    def __init__(
        self, github: Github, calls: ApiCalls, cache: ResponseCache | None = None
    ) -> None:
        self.github = github
        self.calls = calls
        self.cache = cache
        self._requester = github.requester

    # --- repositories --------------------------------------------------------------------

    def repository(self, full_name: str) -> Repository:
        try:
            data, _ = self._read(f"/repos/{full_name}")
        except GithubException as exc:
            raise ForgeError(
                full_name, "reading the repository", _problem(exc), exc.status
            ) from exc
        return self.github.create_from_raw_data(Repository, data)

    def organisation_repositories(
        self, org: str, chosen: RepositoryFilter
    ) -> tuple[list[Repository], dict[str, str]]:
        """The organisation's repositories that pass `chosen`, and the skipped ones with why."""
        kept: list[Repository] = []
        skipped: dict[str, str] = {}
        try:
            pages = self._read_pages(
                f"/orgs/{urllib.parse.quote(org)}/repos", {"type": "all", "sort": "full_name"}
            )
        except GithubException as exc:
            raise ForgeError(
                org, "listing the organisation's repositories", _problem(exc), exc.status
            ) from exc
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

    # --- reading -------------------------------------------------------------------------

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
        try:
            ref = self._get(f"{repo.url}/git/ref/heads/{urllib.parse.quote(branch, safe='/')}")
            commit = ref["object"]["sha"]
            # Asked for by commit sha: the answer for one commit never changes.
            tree = self._get(f"{repo.url}/git/trees/{commit}", {"recursive": "1"}, immutable=True)
            entries = self._tree_entries(repo, tree)
        except GithubException as exc:
            raise ForgeError(name, f"reading branch {branch}", _problem(exc), exc.status) from exc
        return Snapshot(name, branch, commit, tree["sha"], entries)

    def read_candidates(
        self, repo: Repository, snapshot: Snapshot, ignore_paths: Sequence[str] = ()
    ) -> None:
        """Read into `snapshot.files` every file a scanner reads and `ignore_paths` keeps."""
        for path, entry in sorted(snapshot.entries.items()):
            if path in snapshot.files or not is_candidate(path, ignore_paths):
                continue
            if entry.size is not None and entry.size > MAX_FILE_BYTES:
                snapshot.skipped.append(f"{path}: larger than {MAX_FILE_BYTES} bytes")
                continue
            snapshot.files[path] = self.read_file(repo, snapshot, path)

    def read_file(self, repo: Repository, snapshot: Snapshot, path: str) -> bytes:
        """The bytes of one file of the snapshot: one blob call (none when cached by sha)."""
        try:
            blob = self._get(f"{repo.url}/git/blobs/{snapshot.entries[path].sha}", immutable=True)
        except GithubException as exc:
            action = f"reading {path} on {snapshot.branch}"
            raise ForgeError(snapshot.repository, action, _problem(exc), exc.status) from exc
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
        )

    def _list_pulls(self, repo: Repository, parameters: dict[str, Any]) -> list[PullInfo]:
        # Read the list answer directly: PyGithub's objects would fetch each pull again to
        # complete themselves, one request per pull request on every run.
        try:
            data = self._read_pages(f"{repo.url}/pulls", parameters)
        except GithubException as exc:
            raise ForgeError(
                repo.full_name, "listing pull requests", _problem(exc), exc.status
            ) from exc
        return [self._pull_info(raw) for raw in data if isinstance(raw, dict)]

    def pulls_for_branch(self, repo: Repository, branch: str) -> list[PullInfo]:
        """Every pull request, open or closed, whose head is `branch` of this repository.

        Newest first, every page: each closed one may be a human's answer to remember.
        """
        pulls = self._list_pulls(
            repo,
            {
                "state": "all",
                "head": f"{repo.owner.login}:{branch}",
                "sort": "created",
                "direction": "desc",
            },
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
        try:
            ref = self._get(f"{repo.url}/git/ref/heads/{urllib.parse.quote(branch, safe='/')}")
        except GithubException as exc:
            if exc.status == 404:
                return None
            raise ForgeError(
                repo.full_name, f"reading branch {branch}", _problem(exc), exc.status
            ) from exc
        sha: str = ref["object"]["sha"]
        return sha

    # --- writing -------------------------------------------------------------------------

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
        try:
            tree = self._post(
                "POST", f"{repo.url}/git/trees", {"base_tree": snapshot.tree, "tree": entries}
            )
            commit = self._post(
                "POST",
                f"{repo.url}/git/commits",
                {"message": message, "tree": tree["sha"], "parents": [snapshot.commit]},
            )
        except GithubException as exc:
            raise ForgeError(
                repo.full_name, "writing the commit", _problem(exc), exc.status
            ) from exc
        sha: str = commit["sha"]
        return sha

    def move_branch(self, repo: Repository, branch: str, sha: str, *, exists: bool | None) -> None:
        """Create `branch` at `sha`, or force it there (the branch belongs to pinbot).

        With `exists=None` creation is tried first and a 422 "already exists" (a branch left
        behind by a closed pull request) falls back to the forced move.
        """
        ref_url = f"{repo.url}/git/refs/heads/{urllib.parse.quote(branch, safe='/')}"
        try:
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
        except GithubException as exc:
            raise ForgeError(
                repo.full_name, f"moving branch {branch}", _problem(exc), exc.status
            ) from exc

    def delete_branch(self, repo: Repository, branch: str) -> None:
        try:
            self.calls.write()
            self._requester.requestJsonAndCheck(
                "DELETE", f"{repo.url}/git/refs/heads/{urllib.parse.quote(branch, safe='/')}"
            )
        except GithubException as exc:
            if exc.status not in (404, 422):  # already gone
                raise ForgeError(
                    repo.full_name, f"deleting branch {branch}", _problem(exc), exc.status
                ) from exc

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
        try:
            raw = self._post(
                "POST",
                f"{repo.url}/pulls",
                {"title": title, "head": branch, "base": base, "body": body, "draft": draft},
            )
        except GithubException as exc:
            raise ForgeError(
                repo.full_name, "opening the pull request", _problem(exc), exc.status
            ) from exc
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
            try:
                self._post("POST", url, body)
            except GithubException as exc:
                wanted = ", ".join(
                    [*body.get(what, []), *(f"team {t}" for t in body.get("team_reviewers", []))]
                )
                refused.append(
                    f"#{pull.number}: GitHub refused the {what} ({wanted}): {_problem(exc)}"
                )
        return refused

    def edit_pull(self, repo: Repository, pull: PullInfo, *, title: str, body: str) -> None:
        try:
            self._post("PATCH", pull.api_url, {"title": title, "body": body})
        except GithubException as exc:
            raise ForgeError(
                repo.full_name, f"editing pull request #{pull.number}", _problem(exc), exc.status
            ) from exc

    def comment(self, repo: Repository, pull: PullInfo, body: str) -> None:
        """Add a comment to a pull request (a counted, paced write)."""
        try:
            self._post("POST", f"{repo.url}/issues/{pull.number}/comments", {"body": body})
        except GithubException as exc:
            raise ForgeError(
                repo.full_name, f"commenting on pull request #{pull.number}", _problem(exc), exc.status
            ) from exc

    def close_pull(self, repo: Repository, pull: PullInfo, *, comment: str, body: str) -> None:
        """Say why, then close with the final body (which records that pinbot closed it)."""
        self.comment(repo, pull, comment)
        try:
            self._post("PATCH", pull.api_url, {"state": "closed", "body": body})
        except GithubException as exc:
            raise ForgeError(
                repo.full_name, f"closing pull request #{pull.number}", _problem(exc), exc.status
            ) from exc
