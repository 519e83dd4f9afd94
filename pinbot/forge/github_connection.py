"""Talking to GitHub: credentials, a paced and counted PyGithub client, and the one place
where what PyGithub, requests and urllib3 raise becomes a `ForgeError`.

Every request is counted against the repository being worked on (`ApiCalls.scoped`), retried
on rate limits and server errors, and paced between writes as GitHub asks.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import urllib3.exceptions
from github import Auth, Github, GithubException, GithubIntegration, GithubRetry

from pinbot.errors import PinbotError

DEFAULT_API_URL = "https://api.github.com"
#: How much of a transport error's text a failure reason keeps.
MAX_REASON = 300


class ForgeError(PinbotError):
    """A GitHub request that failed, naming the repository and what was being done."""

    def __init__(
        self, repository: str, action: str, problem: str, status: int | None = None
    ) -> None:
        super().__init__(f"{repository}: {action}: {problem}")
        self.repository = repository
        self.action = action
        self.problem = problem
        self.status = status


class CredentialsError(ForgeError, ValueError):
    """GitHub credentials that are missing or cannot be used; nothing was asked of GitHub."""

    def __init__(self, problem: str) -> None:
        PinbotError.__init__(self, problem)
        self.repository = ""
        self.action = "authenticating"
        self.problem = problem
        self.status = None


def _problem(exc: GithubException) -> str:
    data = exc.data
    message = data.get("message") if isinstance(data, dict) else None
    return f"HTTP {exc.status}: {message or 'no message'}"


@contextmanager
def translated(repository: str, action: str) -> Iterator[None]:
    """Raise what goes wrong in the block as a `ForgeError` about `repository` and `action`.

    GitHub's refusals (`GithubException`), transport failures (requests' errors are
    `OSError`s; urllib3's own), and answers not shaped as documented (a missing key, a list
    where an object belongs, bad base64) are all the forge's failures, which callers know by
    one type.
    """
    try:
        yield
    except ForgeError:
        raise
    except GithubException as exc:
        raise ForgeError(repository, action, _problem(exc), exc.status) from exc
    except (OSError, urllib3.exceptions.HTTPError) as exc:
        reason = f"no answer from GitHub: {type(exc).__name__}: {exc}"
        raise ForgeError(repository, action, reason[:MAX_REASON]) from exc
    # PyGithub asserts that a URL taken from an answer stays on the API's host and port.
    except (AssertionError, AttributeError, KeyError, TypeError, ValueError) as exc:
        reason = f"an answer GitHub does not document: {type(exc).__name__}: {exc}"
        raise ForgeError(repository, action, reason[:MAX_REASON]) from exc


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
                try:
                    key = Path(key_file).read_text(encoding="utf-8")
                except (OSError, ValueError) as exc:  # unreadable, or not UTF-8 text
                    raise CredentialsError(
                        f"PINBOT_APP_PRIVATE_KEY_FILE cannot be read: {exc}"
                    ) from exc
            if not key:
                raise CredentialsError(
                    "PINBOT_APP_ID is set but neither PINBOT_APP_PRIVATE_KEY nor "
                    "PINBOT_APP_PRIVATE_KEY_FILE is"
                )
            installation = env.get("PINBOT_APP_INSTALLATION_ID")
            if installation is not None and not installation.isdigit():
                raise CredentialsError("PINBOT_APP_INSTALLATION_ID is not a number")
            return cls(
                app_id=app_id,
                private_key=key,
                installation_id=int(installation) if installation else None,
                api_url=api_url,
            )
        token = env.get("GITHUB_TOKEN") or env.get("GH_TOKEN")
        if not token:
            raise CredentialsError("set GITHUB_TOKEN, or PINBOT_APP_ID and PINBOT_APP_PRIVATE_KEY")
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
    action = "finding the GitHub App installation"
    integration = GithubIntegration(auth=app_auth, base_url=api_url)
    try:
        with translated(owner, action):
            for installation in integration.get_installations():
                account = installation.raw_data.get("account") or {}
                if str(account.get("login", "")).lower() == owner.lower():
                    return int(installation.id)
    finally:
        integration.close()
    raise ForgeError(owner, action, "the app is not installed there")


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
                raise CredentialsError("a GitHub App needs PINBOT_APP_INSTALLATION_ID or --org")
            installation = _installation_for(app_auth, credentials.api_url, installation_owner)
        auth = _CountingInstallationAuth(app_auth, installation, calls)
    else:
        raise CredentialsError("no GitHub credentials")
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
