"""A stateful GitHub REST API fake served over real HTTP on loopback.

PyGithub (or any HTTP client) talks to it as it would to api.github.com::

    with GitHubFake() as fake:
        fake.create_repo("acme", "web", {"Dockerfile": b"FROM nginx:1.27\\n"})
        gh = github.Github(base_url=fake.url, auth=github.Auth.Token(fake.token))
        repo = gh.get_repo("acme/web")

State lives in memory: accounts and organisations, repositories with a real git object
model (blob, tree and commit ids are git's own SHA-1s), branches, pull requests with
labels, reviewers, assignees and comments. Every request is recorded in ``fake.calls``;
unknown routes answer 404 and are recorded too, so gaps show up in test output.

Run it on its own for manual tries::

    python -m tests.support.github_fake --port 8765 --seed DIR

where every ``DIR/owner/name/`` folder becomes the repository ``owner/name``.
"""

from __future__ import annotations

import argparse
import base64
import difflib
import hashlib
import itertools
import json
import re
import secrets
import signal
import sys
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from tests.support.github_fake_merging import AutoMerge, MergeRules, MergingFake, Review
from tests.support.gitobjects import (
    FILE_MODES,
    MODE_EXEC,
    MODE_FILE,
    MODE_TREE,
    GitObjectError,
    ObjectStore,
    Signature,
    TreeEntry,
    diff_flat,
)

DOCS = "https://docs.github.com/rest"
SECONDARY_RATE_LIMIT_MESSAGE = (
    "You have exceeded a secondary rate limit. Please wait a few minutes before you try "
    "again. If you reach out to GitHub Support for help, please include the request ID {rid}."
)
SECONDARY_RATE_LIMIT_DOCS = (
    "https://docs.github.com/free-pro-team@latest/rest/overview/"
    "rate-limits-for-the-rest-api#about-secondary-rate-limits"
)
DEFAULT_PER_PAGE = 30
MAX_PER_PAGE = 100


# --------------------------------------------------------------------------- records


@dataclass(frozen=True)
class Call:
    """One request the fake answered. ``query`` is kept but not compared."""

    method: str
    path: str
    status: int
    query: str = field(default="", compare=False)


@dataclass
class Account:
    login: str
    id: int
    type: str = "User"  # User, Organization or Bot
    name: str | None = None

    @property
    def email(self) -> str:
        return f"{self.id}+{self.login}@users.noreply.github.com"


@dataclass
class Label:
    id: int
    name: str
    color: str = "ededed"
    description: str | None = None


@dataclass
class Comment:
    id: int
    body: str
    user: Account
    created_at: float
    updated_at: float


@dataclass
class FakePull:
    number: int
    id: int
    title: str
    body: str | None
    user: Account
    head_repo: FakeRepo
    head_ref: str
    base_ref: str
    draft: bool
    created_at: float
    updated_at: float
    state: str = "open"
    frozen_head_sha: str = ""
    base_sha_at_close: str | None = None
    merged: bool = False
    merged_at: float | None = None
    merged_by: Account | None = None
    merge_commit_sha: str | None = None
    closed_at: float | None = None
    labels: list[Label] = field(default_factory=list)
    assignees: list[Account] = field(default_factory=list)
    requested_reviewers: list[Account] = field(default_factory=list)
    requested_teams: list[str] = field(default_factory=list)
    comments: list[Comment] = field(default_factory=list)
    maintainer_can_modify: bool = True
    mergeable_seen_for: tuple[str, str, str] | None = None
    reviews: list[Review] = field(default_factory=list)
    auto_merge: AutoMerge | None = None

    @property
    def head_sha(self) -> str:
        if self.state == "open" and self.head_ref in self.head_repo.refs:
            return self.head_repo.refs[self.head_ref]
        return self.frozen_head_sha


@dataclass
class FakeRepo:
    owner: Account
    name: str
    id: int
    default_branch: str = "main"
    archived: bool = False
    fork: bool = False
    topics: list[str] = field(default_factory=list)
    private: bool = False
    description: str | None = None
    created_at: float = 0.0
    pushed_at: float = 0.0
    objects: ObjectStore = field(default_factory=ObjectStore)
    refs: dict[str, str] = field(default_factory=dict)  # branch name -> commit sha
    pulls: dict[int, FakePull] = field(default_factory=dict)
    labels: dict[str, Label] = field(default_factory=dict)  # lower-case name -> label
    next_number: int = 1
    merge_rules: MergeRules = field(default_factory=MergeRules)

    @property
    def full_name(self) -> str:
        return f"{self.owner.login}/{self.name}"

    @property
    def branches(self) -> dict[str, str]:
        return dict(self.refs)


@dataclass
class App:
    id: int
    slug: str
    public_key_pem: bytes | None = None


@dataclass
class Installation:
    id: int
    app: App
    account: Account
    repositories: list[str] | None = None  # full names, None = all of the account's


@dataclass
class Identity:
    account: Account
    token: str
    installation: Installation | None = None


@dataclass
class RateBucket:
    limit: int
    remaining: int
    reset: int
    used: int = 0


@dataclass
class _Injection:
    times: int
    retry_after: int
    method: str | None
    path_prefix: str | None
    status: int


class ApiError(Exception):
    def __init__(
        self,
        status: int,
        message: str,
        errors: list[dict[str, Any]] | None = None,
        headers: Mapping[str, str] | None = None,
        documentation_url: str = DOCS,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.errors = errors
        self.headers = dict(headers or {})
        self.documentation_url = documentation_url

    def body(self) -> dict[str, Any]:
        out: dict[str, Any] = {"message": self.message}
        if self.errors is not None:
            out["errors"] = self.errors
        out["documentation_url"] = self.documentation_url
        out["status"] = str(self.status)
        return out


def _not_found() -> ApiError:
    return ApiError(404, "Not Found")


def _invalid(resource: str, field_: str, code: str = "invalid", **extra: Any) -> ApiError:
    err = {"resource": resource, "field": field_, "code": code, **extra}
    return ApiError(422, "Validation Failed", [err])


def _custom(resource: str, message: str) -> ApiError:
    return ApiError(
        422, "Validation Failed", [{"resource": resource, "code": "custom", "message": message}]
    )


#: GitHub's limit on an issue, pull request or comment body ("maximum is 65536 characters").
MAX_BODY_CHARACTERS = 65_536


def _check_body_length(body: Any) -> None:
    """Refuse a body over the limit as GitHub does. GitHub counts characters; the fake counts
    UTF-16 code units (an astral character is two), never fewer, so what it takes GitHub
    takes too."""
    if isinstance(body, str) and len(body.encode("utf-16-le")) // 2 > MAX_BODY_CHARACTERS:
        raise ApiError(
            422,
            "Validation Failed",
            [
                {
                    "resource": "Issue",
                    "code": "custom",
                    "field": "body",
                    "message": f"body is too long (maximum is {MAX_BODY_CHARACTERS} characters)",
                }
            ],
        )


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: Mapping[str, str]
    raw_body: bytes
    identity: Identity | None = None
    _json: Any = None
    _parsed: bool = False

    def arg(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[-1] if values else default

    @property
    def json(self) -> Any:
        if not self._parsed:
            self._parsed = True
            if self.raw_body.strip():
                try:
                    self._json = json.loads(self.raw_body)
                except ValueError as exc:
                    raise ApiError(400, "Problems parsing JSON") from exc
            else:
                self._json = {}
        return self._json

    def obj(self) -> dict[str, Any]:
        body = self.json
        if not isinstance(body, dict):
            raise ApiError(400, "Problems parsing JSON")
        return body


@dataclass
class Response:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


def _iso(ts: float | None) -> str | None:
    if ts is None:
        return None
    return datetime.fromtimestamp(int(ts), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _node_id(kind: str, ident: int | str) -> str:
    return base64.b64encode(f"0:{kind}{ident}".encode()).decode()


def _b64_wrapped(data: bytes) -> str:
    # GitHub wraps base64 content at 60 characters with newlines
    text = base64.b64encode(data).decode()
    return "".join(text[i : i + 60] + "\n" for i in range(0, len(text), 60))


def _is_text(data: bytes) -> bool:
    if b"\0" in data:
        return False
    try:
        data.decode()
    except UnicodeDecodeError:
        return False
    return True


Handler = Callable[..., Response]


# --------------------------------------------------------------------------- the fake


class GitHubFake(MergingFake):
    """A GitHub REST API fake. Start it with ``start()`` or use it as a context manager."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        token: str = "test-token",
        login: str = "pinbot-bot",
        rate_limit: int = 5000,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.host = host
        self.port = port
        self.token = token
        self.clock = clock
        self.rate_limit = rate_limit
        self.calls: list[Call] = []
        self._lock = threading.RLock()
        self._ids = itertools.count(1)
        self._accounts: dict[str, Account] = {}
        self._repos: dict[tuple[str, str], FakeRepo] = {}
        self._tokens: dict[str, Identity] = {}
        self._apps: dict[int, App] = {}
        self._installations: dict[int, Installation] = {}
        self._buckets: dict[str, RateBucket] = {}
        self._injections: list[_Injection] = []
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._routes: list[tuple[str, re.Pattern[str], Handler]] = []
        self._register_routes()
        self.user = self.create_user(login)
        self.add_token(token, login)

    # -- lifecycle -------------------------------------------------------------------
    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the fake is not started")
        return f"http://{self.host}:{self._server.server_port}"

    def start(self) -> GitHubFake:
        if self._server is not None:
            return self
        fake = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            server_version = "GitHubFake/1.0"
            # one buffered write per response, no Nagle delay between headers and body
            wbufsize = -1
            disable_nagle_algorithm = True

            def _serve(self) -> None:
                fake._serve_http(self)

            do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = do_HEAD = _serve

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer((self.host, self.port), _Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="github-fake",
            daemon=True,
        )
        self._thread.start()
        return self

    def close(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> GitHubFake:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- seeding: accounts, tokens, apps ------------------------------------------
    def create_user(self, login: str, *, name: str | None = None, type: str = "User") -> Account:
        with self._lock:
            key = login.lower()
            if key not in self._accounts:
                self._accounts[key] = Account(login, next(self._ids), type, name)
            return self._accounts[key]

    def create_org(self, name: str) -> Account:
        with self._lock:
            acc = self.create_user(name, type="Organization")
            acc.type = "Organization"
            return acc

    def add_token(self, token: str, login: str) -> None:
        """Let ``token`` authenticate as ``login`` (created when missing)."""
        with self._lock:
            self._tokens[token] = Identity(self.create_user(login), token)

    def register_app(
        self, app_id: int, public_key_pem: bytes | None = None, slug: str = "pinbot"
    ) -> App:
        """Register a GitHub App. With a public key, app JWTs are verified (RS256)."""
        with self._lock:
            app = App(app_id, slug, public_key_pem)
            self._apps[app_id] = app
            self.create_user(f"{slug}[bot]", type="Bot")
            return app

    def create_installation(
        self, app_id: int, account: str, repositories: Iterable[str] | None = None
    ) -> int:
        """Install app ``app_id`` on ``account``; ``repositories`` limits it to those names."""
        with self._lock:
            app = self._apps[app_id]
            inst = Installation(
                next(self._ids) + 10_000_000,
                app,
                self._account(account),
                None if repositories is None else [f"{account}/{r}".lower() for r in repositories],
            )
            self._installations[inst.id] = inst
            return inst.id

    # -- seeding: repositories ------------------------------------------------------
    def create_repo(
        self,
        owner: str,
        name: str,
        files: Mapping[str, bytes],
        *,
        default_branch: str = "main",
        archived: bool = False,
        fork: bool = False,
        topics: Iterable[str] = (),
        private: bool = False,
        description: str | None = None,
    ) -> FakeRepo:
        with self._lock:
            key = (owner.lower(), name.lower())
            if key in self._repos:
                raise ValueError(f"repository {owner}/{name} exists")
            now = self.clock()
            acc = self._accounts.get(owner.lower()) or self.create_user(owner)
            repo = FakeRepo(
                acc,
                name,
                next(self._ids) + 100_000,
                default_branch=default_branch,
                archived=archived,
                fork=fork,
                topics=list(topics),
                private=private,
                description=description,
                created_at=now,
                pushed_at=now,
            )
            tree = repo.objects.write_files(files)
            sig = Signature("human", "human@example.com", int(now))
            repo.refs[default_branch] = repo.objects.put_commit(tree, (), "Initial commit", sig)
            self._repos[key] = repo
            return repo

    def repo(self, owner: str, name: str) -> FakeRepo:
        with self._lock:
            found = self._repos.get((owner.lower(), name.lower()))
            if found is None:
                raise KeyError(f"{owner}/{name}")
            return found

    def commit_files(
        self,
        owner: str,
        name: str,
        branch: str,
        files: Mapping[str, bytes | None],
        message: str,
        author: str = "human",
    ) -> str:
        """Commit ``files`` (None deletes) on top of ``branch`` and move it, like a push."""
        with self._lock:
            repo = self.repo(owner, name)
            parent = repo.refs.get(branch) or repo.refs[repo.default_branch]
            flat = repo.objects.flatten(repo.objects.commits[parent].tree)
            for path, data in files.items():
                path = path.strip("/")
                if data is None:
                    flat.pop(path, None)
                else:
                    mode = flat.get(path, (MODE_FILE, ""))[0]
                    flat[path] = (mode, repo.objects.put_blob(data))
            tree = repo.objects.write_flat(flat)
            sig = Signature(author, f"{author}@example.com", int(self.clock()))
            sha = repo.objects.put_commit(tree, (parent,), message, sig)
            self._move_ref(repo, branch, sha)
            return sha

    def close_pull(self, owner: str, name: str, number: int, merged: bool = False) -> FakePull:
        """Close pull ``number``; with ``merged`` its changes land on the base as a merge commit."""
        with self._lock:
            repo = self.repo(owner, name)
            pr = repo.pulls[number]
            if merged:
                self._merge(repo, pr, self.user, "merge", None, None)
            else:
                self._close(repo, pr)
            return pr

    def pulls(self, owner: str, name: str) -> list[FakePull]:
        with self._lock:
            return [p for _, p in sorted(self.repo(owner, name).pulls.items())]

    def file_at(self, owner: str, name: str, ref: str, path: str) -> bytes | None:
        with self._lock:
            repo = self.repo(owner, name)
            sha = self._resolve_commit(repo, ref)
            if sha is None:
                raise KeyError(ref)
            entry = repo.objects.lookup(repo.objects.commits[sha].tree, path)
            if entry is None or entry.mode not in FILE_MODES:
                return None
            return repo.objects.blobs[entry.sha].data

    def files_at(self, owner: str, name: str, ref: str) -> dict[str, bytes]:
        with self._lock:
            repo = self.repo(owner, name)
            sha = self._resolve_commit(repo, ref)
            if sha is None:
                raise KeyError(ref)
            flat = repo.objects.flatten(repo.objects.commits[sha].tree)
            return {p: repo.objects.blobs[s].data for p, (_, s) in flat.items()}

    # -- inspection and fault injection -------------------------------------------
    def write_calls(self) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.method not in ("GET", "HEAD")]

    def reset_calls(self) -> None:
        with self._lock:
            self.calls.clear()

    def inject_secondary_rate_limit(
        self,
        times: int = 1,
        retry_after: int = 1,
        method: str | None = None,
        *,
        path_prefix: str | None = None,
        status: int = 403,
    ) -> None:
        """The next ``times`` matching requests answer a secondary rate limit error."""
        with self._lock:
            self._injections.append(
                _Injection(
                    times, retry_after, method.upper() if method else None, path_prefix, status
                )
            )

    def rate_limit_state(self, token: str | None = None) -> RateBucket:
        with self._lock:
            return self._bucket(self._tokens[token or self.token].account.login)

    def set_rate_limit_remaining(self, remaining: int, token: str | None = None) -> None:
        with self._lock:
            bucket = self._bucket(self._tokens[token or self.token].account.login)
            bucket.remaining = remaining
            bucket.used = bucket.limit - remaining

    # ============================================================================ HTTP
    def _serve_http(self, h: BaseHTTPRequestHandler) -> None:
        length = int(h.headers.get("Content-Length") or 0)
        raw = h.rfile.read(length) if length else b""
        split = urllib.parse.urlsplit(h.path)
        path = split.path
        req = Request(
            h.command,
            path,
            urllib.parse.parse_qs(split.query, keep_blank_values=True),
            {k.lower(): v for k, v in h.headers.items()},
            raw,
        )
        with self._lock:
            resp, counted_identity = self._handle(req)
            payload = b""
            if resp.body is not None:
                payload = json.dumps(resp.body, separators=(",", ":")).encode()
            headers = dict(resp.headers)
            if h.command in ("GET", "HEAD") and resp.status == 200:
                etag = 'W/"' + hashlib.sha256(payload).hexdigest()[:32] + '"'
                headers["ETag"] = etag
                inm = req.headers.get("if-none-match")
                if inm and etag in [t.strip() for t in inm.split(",")]:
                    resp = Response(304)
                    payload = b""
                    counted_identity = None  # a 304 is free
            if counted_identity is not None:
                self._count(counted_identity)
            if req.identity is not None:
                headers.update(self._rate_headers(req.identity))
            self.calls.append(Call(h.command, path, resp.status, split.query))

        h.send_response(resp.status)
        headers.setdefault("X-GitHub-Request-Id", secrets.token_hex(8).upper())
        headers.setdefault("X-GitHub-Api-Version-Selected", "2022-11-28")
        for k, v in headers.items():
            h.send_header(k, v)
        if resp.status not in (204, 304):
            h.send_header("Content-Type", "application/json; charset=utf-8")
            h.send_header("Content-Length", str(len(payload)))
        h.end_headers()
        if resp.status not in (204, 304) and h.command != "HEAD":
            h.wfile.write(payload)

    def _handle(self, req: Request) -> tuple[Response, Identity | None]:
        try:
            route = self._match(req)
            is_app_route = (
                req.path.startswith("/app/")
                or req.path == "/app"
                or bool(
                    re.fullmatch(
                        r"/(repos/[^/]+/[^/]+|orgs/[^/]+|users/[^/]+)/installation/?", req.path
                    )
                )
            )
            self._authenticate(req, app_route=is_app_route)
            ident = req.identity
            if ident is not None and req.path != "/rate_limit":
                bucket = self._bucket(ident.account.login)
                if bucket.remaining <= 0:
                    raise ApiError(
                        403,
                        f"API rate limit exceeded for user ID {ident.account.id}. If you reach "
                        "out to GitHub Support for help, please include the request ID X.",
                        documentation_url=DOCS + "/overview/rate-limits-for-the-rest-api",
                    )
            self._maybe_secondary_limit(req)
            if route is None:
                raise _not_found()
            handler, groups = route
            resp = handler(req, **groups)
        except ApiError as err:
            resp = Response(err.status, err.body(), err.headers)
        counted = req.identity if req.path != "/rate_limit" else None
        if req.method == "HEAD":
            resp.body = None if resp.status != 200 else resp.body
        return resp, counted

    def _match(self, req: Request) -> tuple[Handler, dict[str, str]] | None:
        method = "GET" if req.method == "HEAD" else req.method
        path = req.path.rstrip("/") if req.path != "/" else req.path
        for m, pattern, handler in self._routes:
            if m != method:
                continue
            found = pattern.fullmatch(path)
            if found:
                groups = {k: urllib.parse.unquote(v) for k, v in found.groupdict().items()}
                return handler, groups
        # a route that exists with another method
        return None

    def _authenticate(self, req: Request, *, app_route: bool) -> None:
        header = req.headers.get("authorization", "")
        scheme, _, credential = header.partition(" ")
        credential = credential.strip()
        if scheme.lower() not in ("token", "bearer") or not credential:
            raise ApiError(401, "Requires authentication")
        if app_route:
            app = self._verify_jwt(credential)
            bot = self._account(f"{app.slug}[bot]")
            req.identity = Identity(bot, credential)
            return
        ident = self._tokens.get(credential)
        if ident is None:
            raise ApiError(401, "Bad credentials")
        req.identity = ident

    def _verify_jwt(self, token: str) -> App:
        parts = token.split(".")
        if len(parts) != 3:
            raise ApiError(401, "A JSON web token could not be decoded")
        try:
            payload = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
            app_id = int(payload["iss"])
        except (ValueError, KeyError, TypeError) as exc:
            raise ApiError(401, "A JSON web token could not be decoded") from exc
        app = self._apps.get(app_id)
        if app is None:
            raise ApiError(401, "Integration not found")
        now = self.clock()
        if "exp" in payload and float(payload["exp"]) < now - 30:
            raise ApiError(
                401,
                "'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires",
            )
        if app.public_key_pem is not None:
            import jwt  # PyJWT, a test dependency

            try:
                jwt.decode(
                    token,
                    app.public_key_pem,
                    algorithms=["RS256"],
                    options={"verify_exp": False, "verify_iat": False},
                )
            except jwt.PyJWTError as exc:
                raise ApiError(401, "A JSON web token could not be decoded") from exc
        return app

    def _maybe_secondary_limit(self, req: Request) -> None:
        for inj in self._injections:
            if inj.times <= 0:
                continue
            if inj.method is not None and inj.method != req.method:
                continue
            if inj.path_prefix is not None and not req.path.startswith(inj.path_prefix):
                continue
            inj.times -= 1
            self._injections = [i for i in self._injections if i.times > 0]
            raise ApiError(
                inj.status,
                SECONDARY_RATE_LIMIT_MESSAGE.format(rid=secrets.token_hex(8).upper()),
                headers={"Retry-After": str(inj.retry_after)},
                documentation_url=SECONDARY_RATE_LIMIT_DOCS,
            )

    def _bucket(self, login: str) -> RateBucket:
        now = int(self.clock())
        bucket = self._buckets.get(login)
        if bucket is None or bucket.reset <= now:
            bucket = RateBucket(self.rate_limit, self.rate_limit, now + 3600)
            self._buckets[login] = bucket
        return bucket

    def _count(self, ident: Identity) -> None:
        bucket = self._bucket(ident.account.login)
        bucket.remaining = max(0, bucket.remaining - 1)
        bucket.used += 1

    def _rate_headers(self, ident: Identity) -> dict[str, str]:
        b = self._bucket(ident.account.login)
        return {
            "X-RateLimit-Limit": str(b.limit),
            "X-RateLimit-Remaining": str(b.remaining),
            "X-RateLimit-Reset": str(b.reset),
            "X-RateLimit-Used": str(b.used),
            "X-RateLimit-Resource": "core",
        }

    # ======================================================================== routing
    def _register_routes(self) -> None:
        REPO = r"/repos/(?P<owner>[^/]+)/(?P<repo>[^/]+)"
        N = r"(?P<number>\d+)"
        table: list[tuple[str, str, Handler]] = [
            *self._merging_routes(REPO, N),
            ("GET", r"/user", self._get_user),
            ("GET", r"/user/repos", self._list_my_repos),
            ("GET", r"/users/(?P<login>[^/]+)", self._get_account),
            ("GET", r"/users/(?P<login>[^/]+)/repos", self._list_user_repos),
            ("GET", r"/orgs/(?P<login>[^/]+)", self._get_org),
            ("GET", r"/orgs/(?P<login>[^/]+)/repos", self._list_org_repos),
            ("GET", r"/rate_limit", self._get_rate_limit),
            ("GET", r"/installation/repositories", self._list_installation_repos),
            ("GET", r"/app", self._get_app),
            ("GET", r"/app/installations", self._list_installations),
            ("GET", r"/app/installations/(?P<iid>\d+)", self._get_installation),
            ("POST", r"/app/installations/(?P<iid>\d+)/access_tokens", self._create_access_token),
            ("GET", rf"{REPO}/installation", self._get_repo_installation),
            ("GET", REPO, self._get_repo),
            ("GET", rf"{REPO}/topics", self._get_topics),
            ("GET", rf"{REPO}/branches", self._list_branches),
            ("GET", rf"{REPO}/branches/(?P<branch>.+)", self._get_branch),
            ("GET", rf"{REPO}/git/ref/(?P<ref>.+)", self._get_ref),
            ("GET", rf"{REPO}/git/refs", self._list_refs),
            ("GET", rf"{REPO}/git/refs/(?P<ref>.+)", self._get_refs_legacy),
            ("GET", rf"{REPO}/git/matching-refs/(?P<ref>.*)", self._matching_refs),
            ("POST", rf"{REPO}/git/refs", self._create_ref),
            ("PATCH", rf"{REPO}/git/refs/(?P<ref>.+)", self._update_ref),
            ("DELETE", rf"{REPO}/git/refs/(?P<ref>.+)", self._delete_ref),
            ("GET", rf"{REPO}/git/trees/(?P<sha>[^/]+)", self._get_tree),
            ("POST", rf"{REPO}/git/trees", self._create_tree),
            ("GET", rf"{REPO}/git/blobs/(?P<sha>[^/]+)", self._get_blob),
            ("POST", rf"{REPO}/git/blobs", self._create_blob),
            ("GET", rf"{REPO}/git/commits/(?P<sha>[^/]+)", self._get_git_commit),
            ("POST", rf"{REPO}/git/commits", self._create_commit),
            ("GET", rf"{REPO}/commits/(?P<ref>.+)", self._get_commit),
            ("GET", rf"{REPO}/contents", self._get_contents),
            ("GET", rf"{REPO}/contents/(?P<path>.*)", self._get_contents),
            ("GET", rf"{REPO}/compare/(?P<spec>.+)", self._compare),
            ("GET", rf"{REPO}/pulls", self._list_pulls),
            ("POST", rf"{REPO}/pulls", self._create_pull),
            ("GET", rf"{REPO}/pulls/{N}", self._get_pull),
            ("PATCH", rf"{REPO}/pulls/{N}", self._update_pull),
            ("GET", rf"{REPO}/pulls/{N}/files", self._list_pull_files),
            ("GET", rf"{REPO}/pulls/{N}/commits", self._list_pull_commits),
            ("GET", rf"{REPO}/pulls/{N}/merge", self._get_pull_merged),
            ("PUT", rf"{REPO}/pulls/{N}/merge", self._merge_pull),
            ("GET", rf"{REPO}/pulls/{N}/requested_reviewers", self._get_reviewers),
            ("POST", rf"{REPO}/pulls/{N}/requested_reviewers", self._request_reviewers),
            ("DELETE", rf"{REPO}/pulls/{N}/requested_reviewers", self._remove_reviewers),
            ("GET", rf"{REPO}/issues/{N}", self._get_issue),
            ("PATCH", rf"{REPO}/issues/{N}", self._update_issue),
            ("GET", rf"{REPO}/issues/{N}/labels", self._list_issue_labels),
            ("POST", rf"{REPO}/issues/{N}/labels", self._add_labels),
            ("PUT", rf"{REPO}/issues/{N}/labels", self._set_labels),
            ("DELETE", rf"{REPO}/issues/{N}/labels/(?P<label>.+)", self._remove_label),
            ("GET", rf"{REPO}/issues/{N}/comments", self._list_comments),
            ("POST", rf"{REPO}/issues/{N}/comments", self._create_comment),
            ("POST", rf"{REPO}/issues/{N}/assignees", self._add_assignees),
            ("DELETE", rf"{REPO}/issues/{N}/assignees", self._remove_assignees),
            ("GET", rf"{REPO}/labels", self._list_repo_labels),
        ]
        self._routes = [(m, re.compile(p), h) for m, p, h in table]

    # ======================================================================= helpers
    def _account(self, login: str) -> Account:
        acc = self._accounts.get(login.lower())
        if acc is None:
            raise _not_found()
        return acc

    def _get_repo_obj(self, owner: str, repo: str) -> FakeRepo:
        found = self._repos.get((owner.lower(), repo.lower()))
        if found is None:
            raise _not_found()
        return found

    def _writable(self, req: Request, owner: str, repo: str) -> FakeRepo:
        r = self._get_repo_obj(owner, repo)
        self._check_installation_access(req, r)
        if r.archived:
            raise ApiError(403, "Repository was archived so is read-only.")
        return r

    def _readable(self, req: Request, owner: str, repo: str) -> FakeRepo:
        r = self._get_repo_obj(owner, repo)
        self._check_installation_access(req, r)
        return r

    def _check_installation_access(self, req: Request, repo: FakeRepo) -> None:
        inst = req.identity.installation if req.identity else None
        if inst is None:
            return
        if not self._installation_covers(inst, repo):
            raise _not_found()

    def _installation_covers(self, inst: Installation, repo: FakeRepo) -> bool:
        if repo.owner.login.lower() != inst.account.login.lower():
            return False
        return inst.repositories is None or repo.full_name.lower() in inst.repositories

    def _page(self, req: Request, items: list[Any], wrap: str | None = None) -> Response:
        try:
            per_page = int(req.arg("per_page") or DEFAULT_PER_PAGE)
            page = int(req.arg("page") or 1)
        except ValueError as exc:
            raise ApiError(400, "Invalid pagination parameter") from exc
        per_page = max(1, min(per_page, MAX_PER_PAGE))
        page = max(1, page)
        last = max(1, -(-len(items) // per_page))
        chunk = items[(page - 1) * per_page : page * per_page]
        headers: dict[str, str] = {}

        def link(n: int) -> str:
            q = {k: v[-1] for k, v in req.query.items()}
            q["per_page"] = str(per_page)
            q["page"] = str(n)
            return f"<{self.url}{req.path}?{urllib.parse.urlencode(q)}>"

        rels = []
        if page > 1:
            rels.append(f'{link(page - 1)}; rel="prev"')
        if page < last:
            rels.append(f'{link(page + 1)}; rel="next"')
            rels.append(f'{link(last)}; rel="last"')
        if page > 1:
            rels.append(f'{link(1)}; rel="first"')
        if rels:
            headers["Link"] = ", ".join(rels)
        body: Any = chunk if wrap is None else {"total_count": len(items), wrap: chunk}
        return Response(200, body, headers)

    def _resolve_commit(self, repo: FakeRepo, ref: str) -> str | None:
        ref = ref.strip()
        for prefix in ("refs/heads/", "heads/"):
            if ref.startswith(prefix) and ref[len(prefix) :] in repo.refs:
                return repo.refs[ref[len(prefix) :]]
        if ref in repo.refs:
            return repo.refs[ref]
        if re.fullmatch(r"[0-9a-f]{4,40}", ref):
            if ref in repo.objects.commits:
                return ref
            found = [s for s in repo.objects.commits if s.startswith(ref)]
            if len(found) == 1:
                return found[0]
        return None

    def _sig(self, acc: Account) -> Signature:
        return Signature(acc.name or acc.login, acc.email, int(self.clock()))

    def _move_ref(self, repo: FakeRepo, branch: str, sha: str | None) -> None:
        now = self.clock()
        if sha is None:
            repo.refs.pop(branch, None)
        else:
            repo.refs[branch] = sha
        repo.pushed_at = now
        for pr in repo.pulls.values():
            if pr.state != "open":
                continue
            if pr.head_repo is repo and pr.head_ref == branch:
                if sha is None:
                    # deleting the head branch closes the pull request, as on GitHub
                    self._close(repo, pr)
                else:
                    pr.frozen_head_sha = sha
                    pr.updated_at = now
            elif pr.base_ref == branch and sha is not None:
                pr.updated_at = now

    def _close(self, repo: FakeRepo, pr: FakePull) -> None:
        if pr.state == "closed":
            return
        pr.frozen_head_sha = pr.head_sha
        pr.base_sha_at_close = repo.refs.get(pr.base_ref)
        pr.state = "closed"
        pr.closed_at = pr.updated_at = self.clock()
        pr.auto_merge = None

    def _files_changed(
        self, repo: FakeRepo, base_commit: str | None, head_commit: str
    ) -> dict[str, tuple[str, str] | None]:
        objs = repo.objects
        old = objs.flatten(objs.commits[base_commit].tree) if base_commit else {}
        return diff_flat(old, objs.flatten(objs.commits[head_commit].tree))

    def _merged_tree(self, repo: FakeRepo, base_sha: str, head_sha: str) -> str | None:
        """The tree of merging head into base, or None on a conflict."""
        objs = repo.objects
        mb = objs.merge_base(base_sha, head_sha)
        ours = self._files_changed(repo, mb, base_sha)
        theirs = self._files_changed(repo, mb, head_sha)
        for path, change in theirs.items():
            if path in ours and ours[path] != change:
                return None
        flat = objs.flatten(objs.commits[base_sha].tree)
        for path, change in theirs.items():
            if change is None:
                flat.pop(path, None)
            else:
                flat[path] = change
        try:
            return objs.write_flat(flat)
        except GitObjectError:
            return None

    def _mergeable(self, repo: FakeRepo, pr: FakePull) -> bool | None:
        if pr.state != "open" or pr.base_ref not in repo.refs:
            return None
        key = (pr.head_sha, repo.refs[pr.base_ref], pr.base_ref)
        if pr.mergeable_seen_for != key:
            # GitHub computes mergeability in the background: the first read is null
            pr.mergeable_seen_for = key
            return None
        return self._merged_tree(repo, key[1], key[0]) is not None

    def _merge(
        self,
        repo: FakeRepo,
        pr: FakePull,
        by: Account,
        method: str,
        title: str | None,
        message: str | None,
    ) -> str:
        if pr.state != "open":
            raise ApiError(405, "Pull Request is not mergeable")
        base_sha = repo.refs[pr.base_ref]
        head_sha = pr.head_sha
        tree = self._merged_tree(repo, base_sha, head_sha)
        if tree is None:
            raise ApiError(405, "Pull Request is not mergeable")
        sig = self._sig(by)
        if method == "squash":
            msg = title or f"{pr.title} (#{pr.number})"
            sha = repo.objects.put_commit(
                tree, (base_sha,), msg + ("\n\n" + message if message else ""), sig
            )
        elif method == "rebase":
            sha = base_sha
            for c in repo.objects.only_in(head_sha, base_sha):
                old = repo.objects.commits[c]
                step = self._merged_tree(repo, sha, c) or old.tree
                sha = repo.objects.put_commit(step, (sha,), old.message, old.author, sig)
        else:
            msg = title or (
                f"Merge pull request #{pr.number} from {pr.head_repo.owner.login}/{pr.head_ref}"
            )
            body = message if message is not None else pr.title
            sha = repo.objects.put_commit(tree, (base_sha, head_sha), f"{msg}\n\n{body}", sig)
        pr.frozen_head_sha = head_sha
        pr.merged = True
        pr.merged_by = by
        pr.merge_commit_sha = sha
        self._close(repo, pr)
        pr.merged_at = pr.closed_at
        self._move_ref(repo, pr.base_ref, sha)
        return sha

    # ====================================================================== shapes
    def _user_json(self, acc: Account) -> dict[str, Any]:
        api = f"{self.url}/users/{acc.login}"
        return {
            "login": acc.login,
            "id": acc.id,
            "node_id": _node_id("User" if acc.type != "Organization" else "Organization", acc.id),
            "avatar_url": f"{self.url}/_avatars/u/{acc.id}",
            "gravatar_id": "",
            "url": api,
            "html_url": f"{self.url}/{acc.login}",
            "followers_url": f"{api}/followers",
            "following_url": f"{api}/following{{/other_user}}",
            "gists_url": f"{api}/gists{{/gist_id}}",
            "starred_url": f"{api}/starred{{/owner}}{{/repo}}",
            "subscriptions_url": f"{api}/subscriptions",
            "organizations_url": f"{api}/orgs",
            "repos_url": f"{api}/repos",
            "events_url": f"{api}/events{{/privacy}}",
            "received_events_url": f"{api}/received_events",
            "type": acc.type,
            "user_view_type": "public",
            "site_admin": False,
        }

    def _full_user_json(self, acc: Account) -> dict[str, Any]:
        repos = [r for r in self._repos.values() if r.owner is acc]
        return {
            **self._user_json(acc),
            "name": acc.name,
            "company": None,
            "blog": "",
            "location": None,
            "email": None,
            "hireable": None,
            "bio": None,
            "twitter_username": None,
            "public_repos": sum(1 for r in repos if not r.private),
            "public_gists": 0,
            "followers": 0,
            "following": 0,
            "created_at": "2020-01-01T00:00:00Z",
            "updated_at": "2020-01-01T00:00:00Z",
        }

    def _org_json(self, acc: Account, full: bool = True) -> dict[str, Any]:
        api = f"{self.url}/orgs/{acc.login}"
        out: dict[str, Any] = {
            "login": acc.login,
            "id": acc.id,
            "node_id": _node_id("Organization", acc.id),
            "url": api,
            "repos_url": f"{api}/repos",
            "events_url": f"{api}/events",
            "hooks_url": f"{api}/hooks",
            "issues_url": f"{api}/issues",
            "members_url": f"{api}/members{{/member}}",
            "public_members_url": f"{api}/public_members{{/member}}",
            "avatar_url": f"{self.url}/_avatars/u/{acc.id}",
            "description": None,
        }
        if full:
            repos = [r for r in self._repos.values() if r.owner is acc]
            out.update(
                {
                    "name": acc.name,
                    "company": None,
                    "blog": "",
                    "location": None,
                    "email": None,
                    "is_verified": False,
                    "has_organization_projects": True,
                    "has_repository_projects": True,
                    "public_repos": sum(1 for r in repos if not r.private),
                    "public_gists": 0,
                    "followers": 0,
                    "following": 0,
                    "html_url": f"{self.url}/{acc.login}",
                    "created_at": "2020-01-01T00:00:00Z",
                    "updated_at": "2020-01-01T00:00:00Z",
                    "type": "Organization",
                    "total_private_repos": sum(1 for r in repos if r.private),
                    "owned_private_repos": sum(1 for r in repos if r.private),
                }
            )
        return out

    def _repo_api(self, repo: FakeRepo) -> str:
        return f"{self.url}/repos/{repo.owner.login}/{repo.name}"

    def _repo_html(self, repo: FakeRepo) -> str:
        return f"{self.url}/{repo.owner.login}/{repo.name}"

    def _repo_json(self, repo: FakeRepo, full: bool = False) -> dict[str, Any]:
        api = self._repo_api(repo)
        out: dict[str, Any] = {
            "id": repo.id,
            "node_id": _node_id("Repository", repo.id),
            "name": repo.name,
            "full_name": repo.full_name,
            "private": repo.private,
            "owner": self._user_json(repo.owner),
            "html_url": self._repo_html(repo),
            "description": repo.description,
            "fork": repo.fork,
            "url": api,
            "archive_url": f"{api}/{{archive_format}}{{/ref}}",
            "branches_url": f"{api}/branches{{/branch}}",
            "blobs_url": f"{api}/git/blobs{{/sha}}",
            "commits_url": f"{api}/commits{{/sha}}",
            "compare_url": f"{api}/compare/{{base}}...{{head}}",
            "contents_url": f"{api}/contents/{{+path}}",
            "git_commits_url": f"{api}/git/commits{{/sha}}",
            "git_refs_url": f"{api}/git/refs{{/sha}}",
            "git_trees_url": f"{api}/git/trees{{/sha}}",
            "issue_comment_url": f"{api}/issues/comments{{/number}}",
            "issues_url": f"{api}/issues{{/number}}",
            "labels_url": f"{api}/labels{{/name}}",
            "pulls_url": f"{api}/pulls{{/number}}",
            "created_at": _iso(repo.created_at),
            "updated_at": _iso(repo.pushed_at),
            "pushed_at": _iso(repo.pushed_at),
            "git_url": f"git://{self.host}/{repo.full_name}.git",
            "ssh_url": f"git@{self.host}:{repo.full_name}.git",
            "clone_url": f"{self._repo_html(repo)}.git",
            "homepage": None,
            "size": sum(len(b.data) for b in repo.objects.blobs.values()) // 1024,
            "stargazers_count": 0,
            "watchers_count": 0,
            "language": None,
            "has_issues": True,
            "has_projects": True,
            "has_downloads": True,
            "has_wiki": True,
            "has_pages": False,
            "has_discussions": False,
            "forks_count": 0,
            "mirror_url": None,
            "archived": repo.archived,
            "disabled": False,
            "open_issues_count": sum(1 for p in repo.pulls.values() if p.state == "open"),
            "license": None,
            "allow_forking": True,
            "is_template": False,
            "web_commit_signoff_required": False,
            "topics": list(repo.topics),
            "visibility": "private" if repo.private else "public",
            "forks": 0,
            "open_issues": sum(1 for p in repo.pulls.values() if p.state == "open"),
            "watchers": 0,
            "default_branch": repo.default_branch,
            "permissions": {
                "admin": True,
                "maintain": True,
                "push": True,
                "triage": True,
                "pull": True,
            },
        }
        if full:
            out.update(
                {
                    "allow_squash_merge": True,
                    "allow_merge_commit": True,
                    "allow_rebase_merge": True,
                    "allow_auto_merge": repo.merge_rules.allow_auto_merge,
                    "delete_branch_on_merge": False,
                    "allow_update_branch": False,
                    "network_count": 0,
                    "subscribers_count": 0,
                }
            )
            if repo.owner.type == "Organization":
                out["organization"] = self._user_json(repo.owner)
        return out

    def _commit_ref_json(self, repo: FakeRepo, sha: str) -> dict[str, str]:
        return {
            "sha": sha,
            "url": f"{self._repo_api(repo)}/git/commits/{sha}",
            "html_url": f"{self._repo_html(repo)}/commit/{sha}",
        }

    def _git_person(self, sig: Signature) -> dict[str, Any]:
        return {"name": sig.name, "email": sig.email, "date": _iso(sig.timestamp)}

    def _git_commit_json(self, repo: FakeRepo, sha: str) -> dict[str, Any]:
        c = repo.objects.commits[sha]
        api = self._repo_api(repo)
        return {
            "sha": sha,
            "node_id": _node_id("Commit", sha),
            "url": f"{api}/git/commits/{sha}",
            "html_url": f"{self._repo_html(repo)}/commit/{sha}",
            "author": self._git_person(c.author),
            "committer": self._git_person(c.committer),
            "message": c.message,
            "tree": {"sha": c.tree, "url": f"{api}/git/trees/{c.tree}"},
            "parents": [self._commit_ref_json(repo, p) for p in c.parents],
            "verification": {
                "verified": False,
                "reason": "unsigned",
                "signature": None,
                "payload": None,
                "verified_at": None,
            },
        }

    def _account_by_email(self, email: str) -> Account | None:
        m = re.fullmatch(r"(\d+)\+(.+)@users\.noreply\.github\.com", email)
        if m:
            return self._accounts.get(m.group(2).lower())
        return None

    def _commit_json(self, repo: FakeRepo, sha: str, with_files: bool = False) -> dict[str, Any]:
        c = repo.objects.commits[sha]
        api = self._repo_api(repo)
        inner = self._git_commit_json(repo, sha)
        inner.pop("sha")
        inner.pop("node_id")
        inner.pop("html_url")
        inner.pop("parents")
        inner["url"] = f"{api}/git/commits/{sha}"
        inner["comment_count"] = 0
        author = self._account_by_email(c.author.email)
        committer = self._account_by_email(c.committer.email)
        out: dict[str, Any] = {
            "sha": sha,
            "node_id": _node_id("Commit", sha),
            "commit": inner,
            "url": f"{api}/commits/{sha}",
            "html_url": f"{self._repo_html(repo)}/commit/{sha}",
            "comments_url": f"{api}/commits/{sha}/comments",
            "author": self._user_json(author) if author else None,
            "committer": self._user_json(committer) if committer else None,
            "parents": [
                {
                    "sha": p,
                    "url": f"{api}/commits/{p}",
                    "html_url": f"{self._repo_html(repo)}/commit/{p}",
                }
                for p in c.parents
            ],
        }
        if with_files:
            files = self._file_list(repo, c.parents[0] if c.parents else None, sha)
            adds = sum(f["additions"] for f in files)
            dels = sum(f["deletions"] for f in files)
            out["stats"] = {"total": adds + dels, "additions": adds, "deletions": dels}
            out["files"] = files
        return out

    def _file_list(self, repo: FakeRepo, base: str | None, head: str) -> list[dict[str, Any]]:
        objs = repo.objects
        old = objs.flatten(objs.commits[base].tree) if base else {}
        new = objs.flatten(objs.commits[head].tree)
        out = []
        for path in sorted(diff_flat(old, new)):
            before = objs.blobs[old[path][1]].data if path in old else b""
            after = objs.blobs[new[path][1]].data if path in new else b""
            status = (
                "modified"
                if path in old and path in new
                else ("added" if path in new else "removed")
            )
            sha = new[path][1] if path in new else old[path][1]
            adds = dels = 0
            patch: str | None = None
            if _is_text(before) and _is_text(after):
                a = before.decode().splitlines()
                b = after.decode().splitlines()
                lines = list(difflib.unified_diff(a, b, lineterm="", n=3))[2:]
                adds = sum(1 for ln in lines if ln.startswith("+"))
                dels = sum(1 for ln in lines if ln.startswith("-"))
                patch = "\n".join(lines)
            ref = head if path in new else base
            entry: dict[str, Any] = {
                "sha": sha,
                "filename": path,
                "status": status,
                "additions": adds,
                "deletions": dels,
                "changes": adds + dels,
                "blob_url": f"{self._repo_html(repo)}/blob/{ref}/{path}",
                "raw_url": f"{self._repo_html(repo)}/raw/{ref}/{path}",
                "contents_url": f"{self._repo_api(repo)}/contents/{path}?ref={ref}",
            }
            if patch is not None:
                entry["patch"] = patch
            out.append(entry)
        return out

    def _ref_json(self, repo: FakeRepo, branch: str) -> dict[str, Any]:
        sha = repo.refs[branch]
        api = self._repo_api(repo)
        return {
            "ref": f"refs/heads/{branch}",
            "node_id": _node_id("Ref", f"{repo.id}:{branch}"),
            "url": f"{api}/git/refs/heads/{urllib.parse.quote(branch)}",
            "object": {"sha": sha, "type": "commit", "url": f"{api}/git/commits/{sha}"},
        }

    def _tree_json(self, repo: FakeRepo, tree_sha: str, recursive: bool) -> dict[str, Any]:
        objs = repo.objects
        api = self._repo_api(repo)
        entries: list[tuple[str, TreeEntry]]
        if recursive:
            entries = list(objs.walk(tree_sha))
        else:
            entries = [(e.name, e) for e in objs.trees[tree_sha].entries]
        items = []
        for path, e in entries:
            item: dict[str, Any] = {"path": path, "mode": e.mode, "type": e.kind, "sha": e.sha}
            if e.kind == "blob":
                item["size"] = len(objs.blobs[e.sha].data)
                item["url"] = f"{api}/git/blobs/{e.sha}"
            elif e.kind == "tree":
                item["url"] = f"{api}/git/trees/{e.sha}"
            items.append(item)
        return {
            "sha": tree_sha,
            "url": f"{api}/git/trees/{tree_sha}",
            "tree": items,
            "truncated": False,
        }

    def _label_json(self, repo: FakeRepo, label: Label) -> dict[str, Any]:
        return {
            "id": label.id,
            "node_id": _node_id("Label", label.id),
            "url": f"{self._repo_api(repo)}/labels/{urllib.parse.quote(label.name)}",
            "name": label.name,
            "color": label.color,
            "default": False,
            "description": label.description,
        }

    def _team_json(self, repo: FakeRepo, slug: str) -> dict[str, Any]:
        tid = int(hashlib.sha1(slug.encode(), usedforsecurity=False).hexdigest()[:6], 16)
        org = repo.owner.login
        return {
            "id": tid,
            "node_id": _node_id("Team", tid),
            "url": f"{self.url}/orgs/{org}/teams/{slug}",
            "html_url": f"{self.url}/orgs/{org}/teams/{slug}",
            "name": slug,
            "slug": slug,
            "description": None,
            "privacy": "closed",
            "notification_setting": "notifications_enabled",
            "permission": "pull",
            "members_url": f"{self.url}/orgs/{org}/teams/{slug}/members{{/member}}",
            "repositories_url": f"{self.url}/orgs/{org}/teams/{slug}/repos",
            "parent": None,
        }

    def _branch_side(self, repo: FakeRepo, ref: str, sha: str) -> dict[str, Any]:
        return {
            "label": f"{repo.owner.login}:{ref}",
            "ref": ref,
            "sha": sha,
            "user": self._user_json(repo.owner),
            "repo": self._repo_json(repo),
        }

    def _pull_json(self, repo: FakeRepo, pr: FakePull, full: bool = True) -> dict[str, Any]:
        api = self._repo_api(repo)
        html = f"{self._repo_html(repo)}/pull/{pr.number}"
        url = f"{api}/pulls/{pr.number}"
        issue_url = f"{api}/issues/{pr.number}"
        head_sha = pr.head_sha
        base_sha = repo.refs.get(pr.base_ref) if pr.state == "open" else pr.base_sha_at_close
        base_sha = base_sha or repo.refs.get(pr.base_ref, "")
        out: dict[str, Any] = {
            "url": url,
            "id": pr.id,
            "node_id": _node_id("PullRequest", pr.id),
            "html_url": html,
            "diff_url": f"{html}.diff",
            "patch_url": f"{html}.patch",
            "issue_url": issue_url,
            "number": pr.number,
            "state": pr.state,
            "locked": False,
            "title": pr.title,
            "user": self._user_json(pr.user),
            "body": pr.body,
            "created_at": _iso(pr.created_at),
            "updated_at": _iso(pr.updated_at),
            "closed_at": _iso(pr.closed_at),
            "merged_at": _iso(pr.merged_at),
            "merge_commit_sha": pr.merge_commit_sha,
            "assignee": self._user_json(pr.assignees[0]) if pr.assignees else None,
            "assignees": [self._user_json(a) for a in pr.assignees],
            "requested_reviewers": [self._user_json(a) for a in pr.requested_reviewers],
            "requested_teams": [self._team_json(repo, t) for t in pr.requested_teams],
            "labels": [self._label_json(repo, lb) for lb in pr.labels],
            "milestone": None,
            "draft": pr.draft,
            "commits_url": f"{url}/commits",
            "review_comments_url": f"{url}/comments",
            "review_comment_url": f"{api}/pulls/comments{{/number}}",
            "comments_url": f"{issue_url}/comments",
            "statuses_url": f"{api}/statuses/{head_sha}",
            "head": self._branch_side(pr.head_repo, pr.head_ref, head_sha),
            "base": self._branch_side(repo, pr.base_ref, base_sha),
            "_links": {
                "self": {"href": url},
                "html": {"href": html},
                "issue": {"href": issue_url},
                "comments": {"href": f"{issue_url}/comments"},
                "review_comments": {"href": f"{url}/comments"},
                "review_comment": {"href": f"{api}/pulls/comments{{/number}}"},
                "commits": {"href": f"{url}/commits"},
                "statuses": {"href": f"{api}/statuses/{head_sha}"},
            },
            "author_association": "OWNER" if pr.user is repo.owner else "CONTRIBUTOR",
            "auto_merge": self._auto_merge_json(pr),
            "active_lock_reason": None,
        }
        if full:
            mergeable = self._mergeable(repo, pr)
            mstate = self._merge_state(repo, pr, mergeable)
            ahead: list[str] = []
            files: list[dict[str, Any]] = []
            if base_sha and head_sha:
                ahead = repo.objects.only_in(head_sha, base_sha)
                files = self._pull_files(repo, pr)
            out.update(
                {
                    "merged": pr.merged,
                    "mergeable": mergeable,
                    "rebaseable": mergeable,
                    "mergeable_state": mstate,
                    "merged_by": self._user_json(pr.merged_by) if pr.merged_by else None,
                    "comments": len(pr.comments),
                    "review_comments": 0,
                    "maintainer_can_modify": pr.maintainer_can_modify,
                    "commits": len(ahead),
                    "additions": sum(f["additions"] for f in files),
                    "deletions": sum(f["deletions"] for f in files),
                    "changed_files": len(files),
                }
            )
        return out

    def _pull_files(self, repo: FakeRepo, pr: FakePull) -> list[dict[str, Any]]:
        head = pr.head_sha
        base = repo.refs.get(pr.base_ref) if pr.state == "open" else pr.base_sha_at_close
        base = base or repo.refs.get(pr.base_ref)
        if not base or not head:
            return []
        if pr.merged and pr.merge_commit_sha:
            parents = repo.objects.commits[pr.merge_commit_sha].parents
            base = parents[0]
        mb = repo.objects.merge_base(base, head)
        return self._file_list(repo, mb, head)

    def _issue_json(self, repo: FakeRepo, pr: FakePull) -> dict[str, Any]:
        api = self._repo_api(repo)
        url = f"{api}/issues/{pr.number}"
        html = f"{self._repo_html(repo)}/pull/{pr.number}"
        return {
            "url": url,
            "repository_url": api,
            "labels_url": f"{url}/labels{{/name}}",
            "comments_url": f"{url}/comments",
            "events_url": f"{url}/events",
            "html_url": html,
            "id": pr.id + 1_000_000,
            "node_id": _node_id("Issue", pr.id),
            "number": pr.number,
            "title": pr.title,
            "user": self._user_json(pr.user),
            "labels": [self._label_json(repo, lb) for lb in pr.labels],
            "state": pr.state,
            "state_reason": None,
            "locked": False,
            "assignee": self._user_json(pr.assignees[0]) if pr.assignees else None,
            "assignees": [self._user_json(a) for a in pr.assignees],
            "milestone": None,
            "comments": len(pr.comments),
            "created_at": _iso(pr.created_at),
            "updated_at": _iso(pr.updated_at),
            "closed_at": _iso(pr.closed_at),
            "author_association": "OWNER" if pr.user is repo.owner else "CONTRIBUTOR",
            "active_lock_reason": None,
            "draft": pr.draft,
            "pull_request": {
                "url": f"{api}/pulls/{pr.number}",
                "html_url": html,
                "diff_url": f"{html}.diff",
                "patch_url": f"{html}.patch",
                "merged_at": _iso(pr.merged_at),
            },
            "body": pr.body,
        }

    def _comment_json(self, repo: FakeRepo, pr: FakePull, c: Comment) -> dict[str, Any]:
        api = self._repo_api(repo)
        return {
            "id": c.id,
            "node_id": _node_id("IssueComment", c.id),
            "url": f"{api}/issues/comments/{c.id}",
            "html_url": f"{self._repo_html(repo)}/pull/{pr.number}#issuecomment-{c.id}",
            "issue_url": f"{api}/issues/{pr.number}",
            "body": c.body,
            "user": self._user_json(c.user),
            "created_at": _iso(c.created_at),
            "updated_at": _iso(c.updated_at),
            "author_association": "OWNER" if c.user is repo.owner else "CONTRIBUTOR",
        }

    # ============================================================== handlers: accounts
    def _get_user(self, req: Request) -> Response:
        assert req.identity is not None
        if req.identity.installation is not None:
            raise ApiError(403, "Resource not accessible by integration")
        return Response(200, self._full_user_json(req.identity.account))

    def _get_account(self, req: Request, login: str) -> Response:
        acc = self._account(login)
        if acc.type == "Organization":
            return Response(200, {**self._org_json(acc), **self._user_json(acc)})
        return Response(200, self._full_user_json(acc))

    def _get_org(self, req: Request, login: str) -> Response:
        acc = self._account(login)
        if acc.type != "Organization":
            raise _not_found()
        return Response(200, self._org_json(acc))

    def _repos_of(self, acc: Account) -> list[FakeRepo]:
        return [r for r in self._repos.values() if r.owner is acc]

    def _sorted_repos(
        self, req: Request, repos: list[FakeRepo], default_sort: str
    ) -> list[FakeRepo]:
        sort = req.arg("sort", default_sort)
        keys: dict[str, Callable[[FakeRepo], Any]] = {
            "created": lambda r: (r.created_at, r.id),
            "updated": lambda r: (r.pushed_at, r.id),
            "pushed": lambda r: (r.pushed_at, r.id),
            "full_name": lambda r: r.full_name.lower(),
        }
        key = keys.get(sort or default_sort, keys[default_sort])
        direction = req.arg("direction") or ("asc" if sort == "full_name" else "desc")
        return sorted(repos, key=key, reverse=direction == "desc")

    def _list_org_repos(self, req: Request, login: str) -> Response:
        acc = self._account(login)
        if acc.type != "Organization":
            raise _not_found()
        kind = req.arg("type", "all")
        repos = self._repos_of(acc)
        if kind == "public":
            repos = [r for r in repos if not r.private]
        elif kind == "private":
            repos = [r for r in repos if r.private]
        elif kind == "forks":
            repos = [r for r in repos if r.fork]
        elif kind == "sources":
            repos = [r for r in repos if not r.fork]
        repos = self._sorted_repos(req, repos, "created")
        return self._page(req, [self._repo_json(r) for r in repos])

    def _list_user_repos(self, req: Request, login: str) -> Response:
        acc = self._account(login)
        repos = [r for r in self._repos_of(acc) if not r.private or self._is_self(req, acc)]
        repos = self._sorted_repos(req, repos, "full_name")
        return self._page(req, [self._repo_json(r) for r in repos])

    def _is_self(self, req: Request, acc: Account) -> bool:
        return req.identity is not None and req.identity.account is acc

    def _list_my_repos(self, req: Request) -> Response:
        assert req.identity is not None
        if req.identity.installation is not None:
            raise ApiError(403, "Resource not accessible by integration")
        repos = self._sorted_repos(req, self._repos_of(req.identity.account), "full_name")
        return self._page(req, [self._repo_json(r) for r in repos])

    def _get_rate_limit(self, req: Request) -> Response:
        assert req.identity is not None
        b = self._bucket(req.identity.account.login)
        core = {
            "limit": b.limit,
            "remaining": b.remaining,
            "reset": b.reset,
            "used": b.used,
            "resource": "core",
        }
        reset = b.reset

        def other(name: str, limit: int) -> dict[str, Any]:
            return {"limit": limit, "remaining": limit, "reset": reset, "used": 0, "resource": name}

        return Response(
            200,
            {
                "resources": {
                    "core": core,
                    "search": other("search", 30),
                    "graphql": other("graphql", 5000),
                    "integration_manifest": other("integration_manifest", 5000),
                    "code_search": other("code_search", 10),
                },
                "rate": core,
            },
        )

    # ================================================================ handlers: apps
    def _installation_json(self, inst: Installation) -> dict[str, Any]:
        return {
            "id": inst.id,
            "account": self._user_json(inst.account),
            "access_tokens_url": f"{self.url}/app/installations/{inst.id}/access_tokens",
            "repositories_url": f"{self.url}/installation/repositories",
            "html_url": f"{self.url}/settings/installations/{inst.id}",
            "app_id": inst.app.id,
            "app_slug": inst.app.slug,
            "target_id": inst.account.id,
            "target_type": inst.account.type,
            "permissions": {"contents": "write", "pull_requests": "write", "metadata": "read"},
            "events": [],
            "repository_selection": "all" if inst.repositories is None else "selected",
            "created_at": "2020-01-01T00:00:00Z",
            "updated_at": "2020-01-01T00:00:00Z",
            "single_file_name": None,
            "suspended_at": None,
            "suspended_by": None,
        }

    def _app_of(self, req: Request) -> App:
        assert req.identity is not None
        slug = req.identity.account.login.removesuffix("[bot]")
        return next(a for a in self._apps.values() if a.slug == slug)

    def _get_app(self, req: Request) -> Response:
        app = self._app_of(req)
        owner = next(iter(self._accounts.values()))
        return Response(
            200,
            {
                "id": app.id,
                "slug": app.slug,
                "node_id": _node_id("App", app.id),
                "owner": self._user_json(owner),
                "name": app.slug,
                "description": "",
                "external_url": "",
                "html_url": f"{self.url}/apps/{app.slug}",
                "created_at": "2020-01-01T00:00:00Z",
                "updated_at": "2020-01-01T00:00:00Z",
                "permissions": {"contents": "write", "pull_requests": "write", "metadata": "read"},
                "events": [],
            },
        )

    def _list_installations(self, req: Request) -> Response:
        app = self._app_of(req)
        insts = [self._installation_json(i) for i in self._installations.values() if i.app is app]
        return self._page(req, insts)

    def _find_installation(self, req: Request, iid: str) -> Installation:
        inst = self._installations.get(int(iid))
        if inst is None or inst.app is not self._app_of(req):
            raise _not_found()
        return inst

    def _get_installation(self, req: Request, iid: str) -> Response:
        return Response(200, self._installation_json(self._find_installation(req, iid)))

    def _get_repo_installation(self, req: Request, owner: str, repo: str) -> Response:
        r = self._get_repo_obj(owner, repo)
        app = self._app_of(req)
        for inst in self._installations.values():
            if inst.app is app and self._installation_covers(inst, r):
                return Response(200, self._installation_json(inst))
        raise _not_found()

    def _create_access_token(self, req: Request, iid: str) -> Response:
        inst = self._find_installation(req, iid)
        token = "ghs_" + secrets.token_urlsafe(27)
        bot = self._account(f"{inst.app.slug}[bot]")
        self._tokens[token] = Identity(bot, token, inst)
        expires = self.clock() + 3600
        repos = None
        if inst.repositories is not None:
            repos = [
                self._repo_json(r)
                for r in self._repos.values()
                if self._installation_covers(inst, r)
            ]
        body: dict[str, Any] = {
            "token": token,
            "expires_at": _iso(expires),
            "permissions": {"contents": "write", "pull_requests": "write", "metadata": "read"},
            "repository_selection": "all" if inst.repositories is None else "selected",
        }
        if repos is not None:
            body["repositories"] = repos
        return Response(201, body)

    def _list_installation_repos(self, req: Request) -> Response:
        assert req.identity is not None
        inst = req.identity.installation
        if inst is None:
            raise ApiError(
                403,
                "You must authenticate with an installation access token in order to list repositories for an installation.",
            )
        repos = [r for r in self._repos.values() if self._installation_covers(inst, r)]
        repos.sort(key=lambda r: r.id)
        out = self._page(req, [self._repo_json(r) for r in repos], wrap="repositories")
        out.body["repository_selection"] = "all" if inst.repositories is None else "selected"
        return out

    # ================================================================ handlers: repos
    def _get_repo(self, req: Request, owner: str, repo: str) -> Response:
        return Response(200, self._repo_json(self._readable(req, owner, repo), full=True))

    def _get_topics(self, req: Request, owner: str, repo: str) -> Response:
        return Response(200, {"names": list(self._readable(req, owner, repo).topics)})

    def _branch_json(self, repo: FakeRepo, branch: str) -> dict[str, Any]:
        sha = repo.refs[branch]
        api = self._repo_api(repo)
        return {
            "name": branch,
            "commit": self._commit_json(repo, sha),
            "_links": {
                "self": f"{api}/branches/{branch}",
                "html": f"{self._repo_html(repo)}/tree/{branch}",
            },
            "protected": False,
            "protection": {
                "enabled": False,
                "required_status_checks": {
                    "enforcement_level": "off",
                    "contexts": [],
                    "checks": [],
                },
            },
            "protection_url": f"{api}/branches/{branch}/protection",
        }

    def _list_branches(self, req: Request, owner: str, repo: str) -> Response:
        r = self._readable(req, owner, repo)
        items = [
            {
                "name": b,
                "commit": {"sha": s, "url": f"{self._repo_api(r)}/commits/{s}"},
                "protected": False,
            }
            for b, s in sorted(r.refs.items())
        ]
        return self._page(req, items)

    def _get_branch(self, req: Request, owner: str, repo: str, branch: str) -> Response:
        r = self._readable(req, owner, repo)
        if branch not in r.refs:
            raise ApiError(404, "Branch not found")
        return Response(200, self._branch_json(r, branch))

    # ------------------------------------------------------------------ refs
    @staticmethod
    def _branch_of(ref: str) -> str | None:
        for prefix in ("refs/heads/", "heads/"):
            if ref.startswith(prefix):
                return ref[len(prefix) :]
        return None

    def _get_ref(self, req: Request, owner: str, repo: str, ref: str) -> Response:
        r = self._readable(req, owner, repo)
        branch = self._branch_of(ref)
        if branch is None or branch not in r.refs:
            raise _not_found()
        return Response(200, self._ref_json(r, branch))

    def _list_refs(self, req: Request, owner: str, repo: str) -> Response:
        r = self._readable(req, owner, repo)
        return self._page(req, [self._ref_json(r, b) for b in sorted(r.refs)])

    def _get_refs_legacy(self, req: Request, owner: str, repo: str, ref: str) -> Response:
        r = self._readable(req, owner, repo)
        branch = self._branch_of(ref)
        if branch is not None and branch in r.refs:
            return Response(200, self._ref_json(r, branch))
        prefix = ref if ref.startswith("refs/") else f"refs/{ref}"
        matches = [
            self._ref_json(r, b) for b in sorted(r.refs) if f"refs/heads/{b}".startswith(prefix)
        ]
        if not matches:
            raise _not_found()
        return Response(200, matches)

    def _matching_refs(self, req: Request, owner: str, repo: str, ref: str) -> Response:
        r = self._readable(req, owner, repo)
        prefix = f"refs/{ref}"
        return Response(
            200,
            [self._ref_json(r, b) for b in sorted(r.refs) if f"refs/heads/{b}".startswith(prefix)],
        )

    def _create_ref(self, req: Request, owner: str, repo: str) -> Response:
        r = self._writable(req, owner, repo)
        body = req.obj()
        ref, sha = body.get("ref"), body.get("sha")
        if not isinstance(ref, str) or not isinstance(sha, str):
            raise _invalid("Reference", "ref", "missing_field")
        if not ref.startswith("refs/") or ref.count("/") < 2:
            raise ApiError(
                422, "Reference name must start with 'refs/' and have at least two slashes."
            )
        branch = self._branch_of(ref)
        if branch is None:
            raise ApiError(422, "Only refs/heads/ references are supported by this fake")
        if branch in r.refs:
            raise ApiError(422, "Reference already exists")
        if sha not in r.objects.commits:
            raise ApiError(422, "Object does not exist")
        self._move_ref(r, branch, sha)
        return Response(
            201, self._ref_json(r, branch), {"Location": self._ref_json(r, branch)["url"]}
        )

    def _update_ref(self, req: Request, owner: str, repo: str, ref: str) -> Response:
        r = self._writable(req, owner, repo)
        branch = self._branch_of(ref)
        if branch is None or branch not in r.refs:
            raise ApiError(422, "Reference does not exist")
        body = req.obj()
        sha = body.get("sha")
        if not isinstance(sha, str):
            raise _invalid("Reference", "sha", "missing_field")
        if sha not in r.objects.commits:
            raise ApiError(422, "Object does not exist")
        force = bool(body.get("force", False))
        if not force and not r.objects.is_ancestor(r.refs[branch], sha):
            raise ApiError(422, "Update is not a fast forward")
        self._move_ref(r, branch, sha)
        return Response(200, self._ref_json(r, branch))

    def _delete_ref(self, req: Request, owner: str, repo: str, ref: str) -> Response:
        r = self._writable(req, owner, repo)
        branch = self._branch_of(ref)
        if branch is None or branch not in r.refs:
            raise ApiError(422, "Reference does not exist")
        if branch == r.default_branch:
            raise ApiError(422, "Cannot delete the default branch")
        self._move_ref(r, branch, None)
        return Response(204)

    # ------------------------------------------------------------------ git objects
    def _get_tree(self, req: Request, owner: str, repo: str, sha: str) -> Response:
        r = self._readable(req, owner, repo)
        tree = sha if sha in r.objects.trees else None
        if tree is None:
            commit = self._resolve_commit(r, sha)
            tree = r.objects.commits[commit].tree if commit else None
        if tree is None:
            raise _not_found()
        recursive = req.arg("recursive") not in (None, "", "0", "false")
        return Response(200, self._tree_json(r, tree, recursive))

    def _create_tree(self, req: Request, owner: str, repo: str) -> Response:
        r = self._writable(req, owner, repo)
        body = req.obj()
        entries = body.get("tree")
        if not isinstance(entries, list):
            raise _invalid("Tree", "tree", "missing_field")
        objs = r.objects
        base_tree = body.get("base_tree")
        flat: dict[str, tuple[str, str]] = {}
        if base_tree is not None:
            if base_tree not in objs.trees:
                raise ApiError(422, "Invalid tree info")
            flat = objs.flatten(base_tree)
        for e in entries:
            if not isinstance(e, dict) or not isinstance(e.get("path"), str):
                raise ApiError(422, "Invalid tree info")
            path = e["path"].strip("/")
            mode = str(e.get("mode", MODE_FILE))
            kind = e.get("type", "blob")
            if mode not in (*FILE_MODES, MODE_TREE, "40000") or kind not in ("blob", "tree"):
                raise ApiError(422, f"Invalid tree info: mode {mode} type {kind}")
            if "content" in e and e["content"] is not None:
                if kind != "blob":
                    raise ApiError(422, "Invalid tree info")
                content = e["content"]
                data = content.encode() if isinstance(content, str) else bytes(content)
                flat[path] = (mode, objs.put_blob(data))
                continue
            if "sha" not in e:
                raise ApiError(422, "Must supply either tree.sha or tree.content")
            sha = e["sha"]
            if sha is None:
                # deletion: the path itself or everything below it
                for p in [p for p in flat if p == path or p.startswith(path + "/")]:
                    del flat[p]
                continue
            if kind == "tree":
                if sha not in objs.trees:
                    raise ApiError(422, "GitRPC::BadObjectState")
                for p in [p for p in flat if p == path or p.startswith(path + "/")]:
                    del flat[p]
                for sub, value in objs.flatten(sha).items():
                    flat[f"{path}/{sub}"] = value
            else:
                if sha not in objs.blobs:
                    raise ApiError(422, "GitRPC::BadObjectState")
                flat[path] = (mode, sha)
        try:
            tree = objs.write_flat(flat)
        except GitObjectError as exc:
            raise ApiError(422, f"Invalid tree info: {exc}") from exc
        return Response(201, self._tree_json(r, tree, recursive=False))

    def _get_blob(self, req: Request, owner: str, repo: str, sha: str) -> Response:
        r = self._readable(req, owner, repo)
        blob = r.objects.blobs.get(sha)
        if blob is None:
            raise _not_found()
        return Response(
            200,
            {
                "sha": sha,
                "node_id": _node_id("Blob", sha),
                "size": len(blob.data),
                "url": f"{self._repo_api(r)}/git/blobs/{sha}",
                "content": _b64_wrapped(blob.data),
                "encoding": "base64",
            },
        )

    def _create_blob(self, req: Request, owner: str, repo: str) -> Response:
        r = self._writable(req, owner, repo)
        body = req.obj()
        content = body.get("content")
        encoding = body.get("encoding", "utf-8")
        if not isinstance(content, str):
            raise _invalid("Blob", "content", "missing_field")
        if encoding == "base64":
            try:
                data = base64.b64decode(content)
            except ValueError as exc:
                raise ApiError(422, "Invalid base64 content") from exc
        elif encoding in ("utf-8", "utf8"):
            data = content.encode()
        else:
            raise ApiError(422, f"encoding {encoding!r} is not supported")
        sha = r.objects.put_blob(data)
        return Response(201, {"sha": sha, "url": f"{self._repo_api(r)}/git/blobs/{sha}"})

    def _get_git_commit(self, req: Request, owner: str, repo: str, sha: str) -> Response:
        r = self._readable(req, owner, repo)
        if sha not in r.objects.commits:
            raise _not_found()
        return Response(200, self._git_commit_json(r, sha))

    def _signature_from(self, data: Any, fallback: Account) -> Signature:
        if not isinstance(data, dict):
            return self._sig(fallback)
        ts = int(self.clock())
        if isinstance(data.get("date"), str):
            try:
                ts = int(datetime.fromisoformat(data["date"].replace("Z", "+00:00")).timestamp())
            except ValueError as exc:
                raise _invalid("Commit", "date", "invalid") from exc
        return Signature(
            data.get("name") or fallback.name or fallback.login,
            data.get("email") or fallback.email,
            ts,
        )

    def _create_commit(self, req: Request, owner: str, repo: str) -> Response:
        r = self._writable(req, owner, repo)
        assert req.identity is not None
        body = req.obj()
        message, tree = body.get("message"), body.get("tree")
        parents = body.get("parents", [])
        if not isinstance(message, str):
            raise _invalid("Commit", "message", "missing_field")
        if not isinstance(tree, str) or tree not in r.objects.trees:
            raise ApiError(422, "Tree SHA does not exist")
        if not isinstance(parents, list) or any(p not in r.objects.commits for p in parents):
            raise ApiError(422, "Parent SHA does not exist or is not a commit object")
        author = self._signature_from(body.get("author"), req.identity.account)
        committer = (
            self._signature_from(body["committer"], req.identity.account)
            if body.get("committer")
            else author
        )
        sha = r.objects.put_commit(tree, parents, message, author, committer)
        return Response(
            201,
            self._git_commit_json(r, sha),
            {"Location": f"{self._repo_api(r)}/git/commits/{sha}"},
        )

    def _get_commit(self, req: Request, owner: str, repo: str, ref: str) -> Response:
        r = self._readable(req, owner, repo)
        sha = self._resolve_commit(r, ref)
        if sha is None:
            raise ApiError(422, f"No commit found for SHA: {ref}")
        return Response(200, self._commit_json(r, sha, with_files=True))

    def _get_contents(self, req: Request, owner: str, repo: str, path: str = "") -> Response:
        r = self._readable(req, owner, repo)
        ref = req.arg("ref") or r.default_branch
        sha = self._resolve_commit(r, ref)
        if sha is None:
            raise ApiError(404, f"No commit found for the ref {ref}")
        path = path.strip("/")
        objs = r.objects
        entry = objs.lookup(objs.commits[sha].tree, path)
        if entry is None:
            raise _not_found()
        api = self._repo_api(r)
        html = self._repo_html(r)

        def describe(p: str, e: TreeEntry) -> dict[str, Any]:
            kind = {"tree": "dir", "commit": "submodule"}.get(e.kind, "file")
            if e.mode == "120000":
                kind = "symlink"
            git_url = f"{api}/git/{'trees' if e.kind == 'tree' else 'blobs'}/{e.sha}"
            self_url = f"{api}/contents/{urllib.parse.quote(p)}?ref={ref}"
            html_url = f"{html}/{'tree' if e.kind == 'tree' else 'blob'}/{ref}/{p}"
            return {
                "type": kind,
                "size": len(objs.blobs[e.sha].data) if e.kind == "blob" else 0,
                "name": p.rsplit("/", 1)[-1],
                "path": p,
                "sha": e.sha,
                "url": self_url,
                "git_url": git_url,
                "html_url": html_url,
                "download_url": f"{html}/raw/{ref}/{p}" if e.kind == "blob" else None,
                "_links": {"self": self_url, "git": git_url, "html": html_url},
            }

        if entry.mode == MODE_TREE:
            listing = [
                describe(f"{path}/{e.name}" if path else e.name, e)
                for e in objs.trees[entry.sha].entries
            ]
            return Response(200, listing)
        out = describe(path, entry)
        if entry.kind == "blob":
            out["content"] = _b64_wrapped(objs.blobs[entry.sha].data)
            out["encoding"] = "base64"
        return Response(200, out)

    def _resolve_spec(self, repo: FakeRepo, spec: str) -> str:
        if ":" in spec:
            owner, _, branch = spec.partition(":")
            if owner.lower() != repo.owner.login.lower():
                raise _not_found()
            spec = branch
        sha = self._resolve_commit(repo, spec)
        if sha is None:
            raise _not_found()
        return sha

    def _compare(self, req: Request, owner: str, repo: str, spec: str) -> Response:
        r = self._readable(req, owner, repo)
        if "..." in spec:
            base_spec, _, head_spec = spec.partition("...")
        elif ".." in spec:
            base_spec, _, head_spec = spec.partition("..")
        else:
            raise _not_found()
        base, head = self._resolve_spec(r, base_spec), self._resolve_spec(r, head_spec)
        objs = r.objects
        mb = objs.merge_base(base, head)
        ahead = objs.only_in(head, base)
        behind = objs.only_in(base, head)
        if not ahead and not behind:
            status = "identical"
        elif ahead and behind:
            status = "diverged"
        elif ahead:
            status = "ahead"
        else:
            status = "behind"
        api, html = self._repo_api(r), self._repo_html(r)
        body: dict[str, Any] = {
            "url": f"{api}/compare/{spec}",
            "html_url": f"{html}/compare/{spec}",
            "permalink_url": f"{html}/compare/{r.owner.login}:{base[:7]}...{r.owner.login}:{head[:7]}",
            "diff_url": f"{html}/compare/{spec}.diff",
            "patch_url": f"{html}/compare/{spec}.patch",
            "base_commit": self._commit_json(r, base),
            "merge_base_commit": self._commit_json(r, mb) if mb else None,
            "status": status,
            "ahead_by": len(ahead),
            "behind_by": len(behind),
            "total_commits": len(ahead),
            "commits": [self._commit_json(r, c) for c in ahead[:250]],
            "files": self._file_list(r, mb, head),
        }
        return Response(200, body)

    # ================================================================ handlers: pulls
    def _pull(self, repo: FakeRepo, number: str) -> FakePull:
        pr = repo.pulls.get(int(number))
        if pr is None:
            raise _not_found()
        return pr

    def _list_pulls(self, req: Request, owner: str, repo: str) -> Response:
        r = self._readable(req, owner, repo)
        state = req.arg("state", "open")
        pulls = list(r.pulls.values())
        if state in ("open", "closed"):
            pulls = [p for p in pulls if p.state == state]
        head = req.arg("head")
        if head and ":" in head:
            h_owner, _, h_branch = head.partition(":")
            pulls = [
                p
                for p in pulls
                if p.head_repo.owner.login.lower() == h_owner.lower() and p.head_ref == h_branch
            ]
        base = req.arg("base")
        if base:
            pulls = [p for p in pulls if p.base_ref == base]
        sort = req.arg("sort", "created")
        keyf: Callable[[FakePull], Any] = (
            (lambda p: (p.updated_at, p.number))
            if sort in ("updated", "popularity", "long-running")
            else (lambda p: (p.created_at, p.number))
        )
        pulls.sort(key=keyf, reverse=req.arg("direction", "desc") == "desc")
        return self._page(req, [self._pull_json(r, p, full=False) for p in pulls])

    def _create_pull(self, req: Request, owner: str, repo: str) -> Response:
        r = self._writable(req, owner, repo)
        assert req.identity is not None
        body = req.obj()
        title, head, base = body.get("title"), body.get("head"), body.get("base")
        if not isinstance(head, str):
            raise _invalid("PullRequest", "head", "missing_field")
        if not isinstance(base, str):
            raise _invalid("PullRequest", "base", "missing_field")
        if not isinstance(title, str) or not title:
            raise _invalid("PullRequest", "title", "missing_field")
        _check_body_length(body.get("body"))
        head_repo = r
        head_ref = head
        if ":" in head:
            h_owner, _, head_ref = head.partition(":")
            head_repo = self._repos.get((h_owner.lower(), r.name.lower())) or r
            if head_repo.owner.login.lower() != h_owner.lower():
                raise _invalid("PullRequest", "head")
        if head_ref not in head_repo.refs:
            raise _invalid("PullRequest", "head")
        if base not in r.refs:
            raise _invalid("PullRequest", "base")
        for p in r.pulls.values():
            if (
                p.state == "open"
                and p.head_repo is head_repo
                and p.head_ref == head_ref
                and p.base_ref == base
            ):
                raise _custom(
                    "PullRequest",
                    f"A pull request already exists for {head_repo.owner.login}:{head_ref}.",
                )
        head_sha = head_repo.refs[head_ref]
        if head_repo is not r:
            r.objects.blobs.update(head_repo.objects.blobs)
            r.objects.trees.update(head_repo.objects.trees)
            r.objects.commits.update(head_repo.objects.commits)
        if not r.objects.only_in(head_sha, r.refs[base]):
            raise _custom("PullRequest", f"No commits between {base} and {head_ref}")
        now = self.clock()
        pr = FakePull(
            number=r.next_number,
            id=next(self._ids) + 2_000_000,
            title=title,
            body=body.get("body"),
            user=req.identity.account,
            head_repo=head_repo,
            head_ref=head_ref,
            base_ref=base,
            draft=bool(body.get("draft", False)),
            created_at=now,
            updated_at=now,
            frozen_head_sha=head_sha,
            maintainer_can_modify=bool(body.get("maintainer_can_modify", True)),
        )
        r.next_number += 1
        r.pulls[pr.number] = pr
        data = self._pull_json(r, pr)
        return Response(201, data, {"Location": data["url"]})

    def _get_pull(self, req: Request, owner: str, repo: str, number: str) -> Response:
        r = self._readable(req, owner, repo)
        return Response(200, self._pull_json(r, self._pull(r, number)))

    def _reopen_check(self, repo: FakeRepo, pr: FakePull) -> None:
        if pr.merged:
            raise _custom("PullRequest", "Cannot reopen a merged pull request")
        if pr.head_ref not in pr.head_repo.refs:
            raise _custom(
                "PullRequest", "Cannot reopen a pull request whose head branch was deleted"
            )
        for p in repo.pulls.values():
            if (
                p is not pr
                and p.state == "open"
                and p.head_repo is pr.head_repo
                and p.head_ref == pr.head_ref
                and p.base_ref == pr.base_ref
            ):
                raise _custom(
                    "PullRequest",
                    f"A pull request already exists for {pr.head_repo.owner.login}:{pr.head_ref}.",
                )

    def _update_pull(self, req: Request, owner: str, repo: str, number: str) -> Response:
        r = self._writable(req, owner, repo)
        pr = self._pull(r, number)
        body = req.obj()
        self._apply_common_edits(r, pr, body)
        if "base" in body:
            if body["base"] not in r.refs:
                raise _invalid("PullRequest", "base")
            pr.base_ref = body["base"]
        if "maintainer_can_modify" in body:
            pr.maintainer_can_modify = bool(body["maintainer_can_modify"])
        pr.updated_at = self.clock()
        return Response(200, self._pull_json(r, pr))

    def _apply_common_edits(self, repo: FakeRepo, pr: FakePull, body: dict[str, Any]) -> None:
        _check_body_length(body.get("body"))  # before any change: a refused edit changes nothing
        if "title" in body:
            if not isinstance(body["title"], str) or not body["title"]:
                raise _invalid("PullRequest", "title", "missing_field")
            pr.title = body["title"]
        if "body" in body:
            pr.body = body["body"]
        if "state" in body:
            state = body["state"]
            if state not in ("open", "closed"):
                raise _invalid("PullRequest", "state")
            if state == "closed":
                self._close(repo, pr)
            elif pr.state == "closed":
                self._reopen_check(repo, pr)
                pr.state = "open"
                pr.closed_at = None
                pr.mergeable_seen_for = None

    def _list_pull_files(self, req: Request, owner: str, repo: str, number: str) -> Response:
        r = self._readable(req, owner, repo)
        return self._page(req, self._pull_files(r, self._pull(r, number)))

    def _list_pull_commits(self, req: Request, owner: str, repo: str, number: str) -> Response:
        r = self._readable(req, owner, repo)
        pr = self._pull(r, number)
        base = r.refs.get(pr.base_ref, "")
        if pr.merged and pr.merge_commit_sha:
            base = r.objects.commits[pr.merge_commit_sha].parents[0]
        shas = r.objects.only_in(pr.head_sha, base) if base else []
        return self._page(req, [self._commit_json(r, s) for s in shas])

    def _get_pull_merged(self, req: Request, owner: str, repo: str, number: str) -> Response:
        r = self._readable(req, owner, repo)
        if not self._pull(r, number).merged:
            raise _not_found()
        return Response(204)

    def _merge_pull(self, req: Request, owner: str, repo: str, number: str) -> Response:
        r = self._writable(req, owner, repo)
        assert req.identity is not None
        pr = self._pull(r, number)
        body = req.obj()
        if body.get("sha") and body["sha"] != pr.head_sha:
            raise ApiError(409, "Head branch was modified. Review and try the merge again.")
        method = body.get("merge_method", "merge")
        if method not in ("merge", "squash", "rebase"):
            raise _invalid("PullRequest", "merge_method")
        blocked = self._blocked_by(r, pr) if pr.state == "open" else None
        if blocked is not None:
            raise ApiError(405, blocked)
        sha = self._merge(
            r,
            pr,
            req.identity.account,
            method,
            body.get("commit_title"),
            body.get("commit_message"),
        )
        return Response(
            200, {"sha": sha, "merged": True, "message": "Pull Request successfully merged"}
        )

    def _get_reviewers(self, req: Request, owner: str, repo: str, number: str) -> Response:
        r = self._readable(req, owner, repo)
        pr = self._pull(r, number)
        return Response(
            200,
            {
                "users": [self._user_json(a) for a in pr.requested_reviewers],
                "teams": [self._team_json(r, t) for t in pr.requested_teams],
            },
        )

    def _request_reviewers(self, req: Request, owner: str, repo: str, number: str) -> Response:
        r = self._writable(req, owner, repo)
        pr = self._pull(r, number)
        body = req.obj()
        users = body.get("reviewers", []) or []
        teams = body.get("team_reviewers", []) or []
        if not isinstance(users, list) or not isinstance(teams, list):
            raise _invalid("PullRequest", "reviewers")
        for login in users:
            if login.lower() == pr.user.login.lower():
                raise ApiError(422, "Review cannot be requested from pull request author.")
        if teams and r.owner.type != "Organization":
            raise ApiError(
                422,
                "Reviews may only be requested from collaborators. One or more of the teams you specified is not a collaborator of the repository.",
            )
        for login in users:
            acc = self._accounts.get(login.lower())
            if acc is None:
                raise ApiError(
                    422,
                    "Reviews may only be requested from collaborators. One or more of the users or teams you specified is not a collaborator of the repository.",
                )
            if acc not in pr.requested_reviewers:
                pr.requested_reviewers.append(acc)
        for slug in teams:
            if slug not in pr.requested_teams:
                pr.requested_teams.append(slug)
        pr.updated_at = self.clock()
        return Response(201, self._pull_json(r, pr, full=False))

    def _remove_reviewers(self, req: Request, owner: str, repo: str, number: str) -> Response:
        r = self._writable(req, owner, repo)
        pr = self._pull(r, number)
        body = req.obj()
        drop = {u.lower() for u in body.get("reviewers", []) or []}
        pr.requested_reviewers = [a for a in pr.requested_reviewers if a.login.lower() not in drop]
        teams = set(body.get("team_reviewers", []) or [])
        pr.requested_teams = [t for t in pr.requested_teams if t not in teams]
        return Response(200, self._pull_json(r, pr, full=False))

    # =============================================================== handlers: issues
    def _get_issue(self, req: Request, owner: str, repo: str, number: str) -> Response:
        r = self._readable(req, owner, repo)
        return Response(200, self._issue_json(r, self._pull(r, number)))

    def _update_issue(self, req: Request, owner: str, repo: str, number: str) -> Response:
        r = self._writable(req, owner, repo)
        pr = self._pull(r, number)
        body = req.obj()
        self._apply_common_edits(r, pr, body)
        if "assignees" in body:
            pr.assignees = self._assignable(body["assignees"] or [])
        if "labels" in body:
            pr.labels = []
            self._attach_labels(r, pr, body["labels"] or [])
        pr.updated_at = self.clock()
        return Response(200, self._issue_json(r, pr))

    def _assignable(self, logins: list[str]) -> list[Account]:
        out: list[Account] = []
        for login in logins:
            acc = self._accounts.get(str(login).lower())
            if acc is not None and acc not in out:
                out.append(acc)  # GitHub silently drops users who cannot be assigned
        return out[:10]

    def _label_names(self, req: Request) -> list[str]:
        body = req.json
        if isinstance(body, dict):
            body = body.get("labels", [])
        if not isinstance(body, list):
            raise _invalid("Label", "labels")
        names = []
        for item in body:
            name = item.get("name") if isinstance(item, dict) else item
            if not isinstance(name, str) or not name:
                raise _invalid("Label", "name")
            names.append(name)
        return names

    def _attach_labels(self, repo: FakeRepo, pr: FakePull, names: list[str]) -> None:
        for name in names:
            label = repo.labels.get(name.lower())
            if label is None:
                label = Label(next(self._ids) + 3_000_000, name)
                repo.labels[name.lower()] = label
            if label not in pr.labels:
                pr.labels.append(label)

    def _list_issue_labels(self, req: Request, owner: str, repo: str, number: str) -> Response:
        r = self._readable(req, owner, repo)
        pr = self._pull(r, number)
        return self._page(req, [self._label_json(r, lb) for lb in pr.labels])

    def _add_labels(self, req: Request, owner: str, repo: str, number: str) -> Response:
        r = self._writable(req, owner, repo)
        pr = self._pull(r, number)
        self._attach_labels(r, pr, self._label_names(req))
        pr.updated_at = self.clock()
        return Response(200, [self._label_json(r, lb) for lb in pr.labels])

    def _set_labels(self, req: Request, owner: str, repo: str, number: str) -> Response:
        r = self._writable(req, owner, repo)
        pr = self._pull(r, number)
        names = self._label_names(req)
        pr.labels = []
        self._attach_labels(r, pr, names)
        pr.updated_at = self.clock()
        return Response(200, [self._label_json(r, lb) for lb in pr.labels])

    def _remove_label(
        self, req: Request, owner: str, repo: str, number: str, label: str
    ) -> Response:
        r = self._writable(req, owner, repo)
        pr = self._pull(r, number)
        kept = [lb for lb in pr.labels if lb.name.lower() != label.lower()]
        if len(kept) == len(pr.labels):
            raise ApiError(404, "Label does not exist")
        pr.labels = kept
        return Response(200, [self._label_json(r, lb) for lb in pr.labels])

    def _list_repo_labels(self, req: Request, owner: str, repo: str) -> Response:
        r = self._readable(req, owner, repo)
        return self._page(req, [self._label_json(r, lb) for lb in r.labels.values()])

    def _list_comments(self, req: Request, owner: str, repo: str, number: str) -> Response:
        r = self._readable(req, owner, repo)
        pr = self._pull(r, number)
        return self._page(req, [self._comment_json(r, pr, c) for c in pr.comments])

    def _create_comment(self, req: Request, owner: str, repo: str, number: str) -> Response:
        r = self._writable(req, owner, repo)
        assert req.identity is not None
        pr = self._pull(r, number)
        text = req.obj().get("body")
        if not isinstance(text, str) or not text:
            raise _invalid("IssueComment", "body", "missing_field")
        _check_body_length(text)
        now = self.clock()
        c = Comment(next(self._ids) + 4_000_000, text, req.identity.account, now, now)
        pr.comments.append(c)
        pr.updated_at = now
        data = self._comment_json(r, pr, c)
        return Response(201, data, {"Location": data["url"]})

    def _add_assignees(self, req: Request, owner: str, repo: str, number: str) -> Response:
        r = self._writable(req, owner, repo)
        pr = self._pull(r, number)
        for acc in self._assignable(req.obj().get("assignees", []) or []):
            if acc not in pr.assignees:
                pr.assignees.append(acc)
        pr.updated_at = self.clock()
        return Response(201, self._issue_json(r, pr))

    def _remove_assignees(self, req: Request, owner: str, repo: str, number: str) -> Response:
        r = self._writable(req, owner, repo)
        pr = self._pull(r, number)
        drop = {str(a).lower() for a in req.obj().get("assignees", []) or []}
        pr.assignees = [a for a in pr.assignees if a.login.lower() not in drop]
        return Response(200, self._issue_json(r, pr))

    # -------------------------------------------------------------------- seeding
    def import_tree(self, root: Path, orgs: Iterable[str] = ()) -> list[FakeRepo]:
        """Import every ``root/owner/name/`` folder as a repository."""
        for org in orgs:
            self.create_org(org)
        made = []
        for owner_dir in sorted(p for p in root.iterdir() if p.is_dir()):
            for repo_dir in sorted(p for p in owner_dir.iterdir() if p.is_dir()):
                files: dict[str, bytes] = {}
                modes: dict[str, str] = {}
                for f in sorted(repo_dir.rglob("*")):
                    rel = f.relative_to(repo_dir)
                    if ".git" in rel.parts or not f.is_file():
                        continue
                    files[rel.as_posix()] = f.read_bytes()
                    if f.stat().st_mode & 0o111:
                        modes[rel.as_posix()] = MODE_EXEC
                repo = self.create_repo(owner_dir.name, repo_dir.name, files)
                if modes:
                    with self._lock:
                        objs = repo.objects
                        head = repo.refs[repo.default_branch]
                        flat = objs.flatten(objs.commits[head].tree)
                        for p, mode in modes.items():
                            flat[p] = (mode, flat[p][1])
                        c = objs.commits[head]
                        repo.refs[repo.default_branch] = objs.put_commit(
                            objs.write_flat(flat), (), c.message, c.author
                        )
                made.append(repo)
        return made


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.support.github_fake",
        description="Serve a GitHub REST API fake on loopback.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--seed", type=Path, help="import DIR/owner/name/ folders as repositories")
    parser.add_argument(
        "--org", action="append", default=[], help="treat this owner as an organisation"
    )
    parser.add_argument("--token", default="test-token")
    parser.add_argument("--login", default="pinbot-bot")
    args = parser.parse_args(argv)
    # Stop on Ctrl-C even when started in the background, where the shell ignores SIGINT and
    # Python would inherit that.
    signal.signal(signal.SIGINT, signal.default_int_handler)

    fake = GitHubFake(args.host, args.port, token=args.token, login=args.login)
    repos = fake.import_tree(args.seed, args.org) if args.seed else []
    fake.start()
    print(f"GitHub fake listening on {fake.url}")
    print(f"token: {fake.token}  (login {fake.user.login})")
    for r in repos:
        print(
            f"  {r.full_name} ({len(fake.files_at(r.owner.login, r.name, r.default_branch))} files)"
        )
    print(f'try: curl -H "Authorization: token {fake.token}" {fake.url}/repos/OWNER/NAME')
    sys.stdout.flush()
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        fake.close()
        print("\nrecorded calls:")
        for c in fake.calls:
            print(f"  {c.status} {c.method} {c.path}{'?' + c.query if c.query else ''}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
