"""Answering a registry's authentication challenge: Basic, or a Bearer token from its realm.

Reacts to `WWW-Authenticate` challenges (parsed in `challenge`), fetches tokens (anonymous,
with credentials, or by refresh token) and caches them per registry and scope until shortly
before they expire.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Protocol
from urllib.parse import urlsplit

import httpx

from pinbot.logs import logger
from pinbot.registry.challenge import Challenge, parse_www_authenticate, pick_challenge
from pinbot.registry.credentials import Credential, CredentialLookup
from pinbot.registry.errors import RegistryError, Unauthorized
from pinbot.registry.memo import KeyedMemo
from pinbot.registry.transport import Answer

log = logger(__name__)

#: Token lifetime the token specification says to assume when `expires_in` is absent.
DEFAULT_TOKEN_LIFETIME = 60.0
#: Tokens are dropped this long before they expire (at most half their lifetime).
TOKEN_LEEWAY = 10.0
#: Client id sent with OAuth2 refresh-token requests, as the token specification asks.
CLIENT_ID = "pinbot"

__all__ = [
    "Challenge",
    "RegistryAuth",
    "TokenCache",
    "basic_authorization",
    "clear_text_refusal",
    "parse_www_authenticate",
    "pick_challenge",
]


def _token_url(realm: str, service: str | None, scope: str | None) -> str:
    """The realm URL with `service` and one `scope` parameter per space-separated scope."""
    query: list[tuple[str, str | int | float | bool | None]] = []
    if service:
        query.append(("service", service))
    for one in (scope or "").split():
        query.append(("scope", one))
    return str(httpx.URL(realm).copy_merge_params(query))


def clear_text_refusal(registry_url: str, realm: str, *, insecure: bool) -> str | None:
    """Why credentials for the registry at `registry_url` must not go to token `realm`, or
    None when they may.

    An HTTPS realm may be on any host (Docker Hub's is auth.docker.io). A plain-HTTP realm
    gets credentials only from a registry configured insecure, and only on that registry's
    own host: the user chose clear text for that host, not for others.

    >>> clear_text_refusal("https://r.example", "https://auth.example/token", insecure=False)
    >>> clear_text_refusal("http://r.example:5000", "http://r.example:5001/token", insecure=True)
    >>> clear_text_refusal("https://r.example", "http://r.example/token", insecure=False)
    'the registry is reached over HTTPS but its token realm http://r.example/token is plain HTTP, where credentials would travel in clear text'
    """
    realm_parts = urlsplit(realm)
    if realm_parts.scheme.lower() == "https":
        return None
    registry_parts = urlsplit(registry_url)
    shown = f"{realm_parts.scheme}://{realm_parts.netloc}{realm_parts.path}"
    if not insecure or registry_parts.scheme.lower() == "https":
        return (
            f"the registry is reached over HTTPS but its token realm {shown} is plain HTTP, "
            "where credentials would travel in clear text"
        )
    if (realm_parts.hostname or "").lower() != (registry_parts.hostname or "").lower():
        return (
            f"the token realm {shown} is plain HTTP on another host than the registry; "
            "credentials go to another host only over HTTPS"
        )
    return None


def basic_authorization(username: str, password: str) -> str:
    raw = f"{username}:{password}".encode()
    return "Basic " + base64.b64encode(raw).decode("ascii")


@dataclass
class _CachedToken:
    value: str = field(repr=False)
    expires_at: float


TokenKey = tuple[str, str, str, str]  # registry, realm, service, scope


class TokenCache:
    """Bearer tokens per (registry, realm, service, scope), dropped shortly before expiry."""

    def __init__(
        self, *, clock: Callable[[], float] = time.monotonic, leeway: float = TOKEN_LEEWAY
    ) -> None:
        self._clock = clock
        self._leeway = leeway
        self._tokens: dict[TokenKey, _CachedToken] = {}

    def get(self, key: TokenKey) -> str | None:
        cached = self._tokens.get(key)
        if cached is None:
            return None
        if self._clock() >= cached.expires_at:
            del self._tokens[key]
            return None
        return cached.value

    def put(self, key: TokenKey, token: str, lifetime: float) -> None:
        usable = max(0.0, lifetime - min(self._leeway, lifetime / 2))
        self._tokens[key] = _CachedToken(token, self._clock() + usable)

    def discard(self, key: TokenKey) -> None:
        self._tokens.pop(key, None)

    def __len__(self) -> int:
        return len(self._tokens)

    def __repr__(self) -> str:
        return f"<TokenCache {len(self._tokens)} tokens>"


class TokenSender(Protocol):
    """Sends a token request with the client's retries, timeouts and counting."""

    def __call__(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str],
        data: Mapping[str, str] | None = None,
    ) -> Awaitable[Answer]: ...


class RegistryAuth:
    """The authentication state of one registry: its challenge, credentials and tokens.

    The challenge is learnt from the `/v2/` ping or a 401; after that every request is sent
    with the right `Authorization` up front, so a repository costs one token request.
    """

    def __init__(
        self,
        registry: str,
        *,
        send: TokenSender,
        credentials: Callable[[], Awaitable[CredentialLookup]],
        cache: TokenCache,
        registry_url: str | None = None,
        insecure: bool = False,
    ) -> None:
        self.registry = registry
        self.challenge: Challenge | None = None
        self._send = send
        self._credentials = credentials
        self._cache = cache
        self._registry_url = registry_url or f"https://{registry}"
        self._insecure = insecure
        self._inflight: KeyedMemo[TokenKey, str] = KeyedMemo(keep=False)

    def __repr__(self) -> str:
        scheme = self.challenge.scheme if self.challenge else None
        return f"<RegistryAuth {self.registry} scheme={scheme}>"

    def learn(self, challenges: Iterable[Challenge]) -> None:
        chosen = pick_challenge(challenges)
        if chosen is not None:
            self.challenge = chosen

    async def authorization(self, scope: str | None) -> str | None:
        """The `Authorization` value to send up front for a request needing `scope`."""
        challenge = self.challenge
        if challenge is None:
            return None
        if challenge.scheme == "basic":
            lookup = await self._credentials()
            cred = lookup.credential
            if cred is None or cred.password is None:
                return None
            return basic_authorization(cred.username or "", cred.password)
        token = await self._token(challenge, scope)
        return f"Bearer {token}"

    async def respond(
        self, challenges: list[Challenge], scope: str | None, sent: str | None, what: str
    ) -> str:
        """The `Authorization` to retry with after a 401, or Unauthorized when there is none."""
        chosen = pick_challenge(challenges)
        if chosen is None:
            offered = ", ".join(sorted({c.scheme for c in challenges})) or "none"
            raise Unauthorized(
                self.registry,
                f"{what}: unsupported authentication challenge (offered: {offered})",
                sources_tried=(await self._credentials()).tried,
            )
        self.challenge = chosen
        lookup = await self._credentials()
        if chosen.scheme == "basic":
            cred = lookup.credential
            if sent is not None and sent.startswith("Basic "):
                raise self._refused(what, lookup, "credentials were refused")
            if cred is None or cred.password is None:
                raise self._refused(what, lookup, "authentication required")
            return basic_authorization(cred.username or "", cred.password)
        wanted = chosen.scope or scope
        if sent is not None and sent.startswith("Bearer "):
            if chosen.error == "insufficient_scope":
                raise self._refused(what, lookup, f"insufficient_scope for {wanted or 'request'}")
            # The token we sent may have expired early or been revoked: fetch a fresh one once.
            self._cache.discard(self._key(chosen, wanted))
        token = await self._token(chosen, wanted)
        return f"Bearer {token}"

    async def refused(self, response: Answer, scope: str | None, what: str) -> Unauthorized:
        """The error for a second 401 (after answering the challenge) or a 403."""
        lookup = await self._credentials()
        challenges = parse_www_authenticate(response.headers.get_list("www-authenticate"))
        error = next((c.error for c in challenges if c.error), None)
        if response.status_code == 403:
            reason = "access denied (HTTP 403)"
        elif error == "insufficient_scope":
            reason = f"insufficient_scope: the token does not grant {scope or 'access'}"
        elif error:
            reason = f"authorization refused ({error})"
        else:
            reason = "authorization refused"
        return self._refused(what, lookup, reason)

    def _refused(self, what: str, lookup: CredentialLookup, reason: str) -> Unauthorized:
        used = lookup.credential.source if lookup.credential else "anonymous"
        return Unauthorized(
            self.registry, f"{what}: {reason} (as {used})", sources_tried=lookup.tried
        )

    def _key(self, challenge: Challenge, scope: str | None) -> TokenKey:
        return (self.registry, challenge.realm or "", challenge.service or "", scope or "")

    async def _token(self, challenge: Challenge, scope: str | None) -> str:
        key = self._key(challenge, scope)
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        return await self._inflight.get(
            key, lambda: self._fetch_and_cache(key, challenge, scope)
        )

    async def _fetch_and_cache(self, key: TokenKey, challenge: Challenge, scope: str | None) -> str:
        token, lifetime = await self._fetch(challenge, scope)
        self._cache.put(key, token, lifetime)
        return token

    async def _fetch(self, challenge: Challenge, scope: str | None) -> tuple[str, float]:
        realm = challenge.realm or ""
        parts = urlsplit(realm)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise RegistryError(self.registry, f"token realm {realm!r} is not an http(s) URL")
        lookup = await self._credentials()
        cred = lookup.credential
        # Anonymous token requests may go to a plain-HTTP realm: they carry no secret, and the
        # token grants no more than anonymous access does. Credentials never go there (and
        # pinbot does not quietly fall back to anonymous when it holds some).
        if cred is not None:
            refusal = clear_text_refusal(self._registry_url, realm, insecure=self._insecure)
            if refusal is not None:
                raise Unauthorized(
                    self.registry,
                    f"not sending the credentials from {cred.source} to the token server: "
                    f"{refusal}",
                    sources_tried=lookup.tried,
                )
        url = _token_url(realm, challenge.service, scope)
        if cred is not None and cred.identity_token is not None:
            response = await self._refresh(realm, challenge, scope, cred, lookup)
        else:
            headers: dict[str, str] = {}
            if cred is not None and cred.password is not None:
                headers["Authorization"] = basic_authorization(cred.username or "", cred.password)
            response = await self._send("GET", url, headers=headers)
        if response.status_code in (401, 403):
            who = f"the credentials from {cred.source}" if cred else "anonymous access"
            raise Unauthorized(
                self.registry,
                f"token server {parts.netloc} refused {who} for {scope or 'the registry'}"
                f" (HTTP {response.status_code})",
                sources_tried=lookup.tried,
            )
        if response.status_code != 200:
            raise RegistryError(
                self.registry, f"token server {parts.netloc} answered HTTP {response.status_code}"
            )
        return self._read_token(response, parts.netloc)

    async def _refresh(
        self,
        realm: str,
        challenge: Challenge,
        scope: str | None,
        cred: Credential,
        lookup: CredentialLookup,
    ) -> Answer:
        """Exchange an identity token (OAuth2 refresh token) for an access token.

        The OAuth2 POST comes first; token servers that only speak the GET flow (404/405
        to the POST) are asked by GET with the identity token as the Basic password.
        """
        assert cred.identity_token is not None
        form = {
            "grant_type": "refresh_token",
            "refresh_token": cred.identity_token,
            "client_id": CLIENT_ID,
        }
        if challenge.service:
            form["service"] = challenge.service
        if scope:
            form["scope"] = scope
        response = await self._send("POST", realm, headers={}, data=form)
        if response.status_code not in (404, 405):
            return response
        url = _token_url(realm, challenge.service, scope)
        headers = {
            "Authorization": basic_authorization(cred.username or "<token>", cred.identity_token)
        }
        return await self._send("GET", url, headers=headers)

    def _read_token(self, response: Answer, where: str) -> tuple[str, float]:
        try:
            answer = json.loads(response.content)
        except (ValueError, RecursionError):
            answer = None
        if not isinstance(answer, dict):
            raise RegistryError(self.registry, f"token server {where} sent no JSON object")
        token = answer.get("token") or answer.get("access_token")
        if not isinstance(token, str) or not token:
            raise RegistryError(self.registry, f"token server {where} sent no token")
        lifetime = answer.get("expires_in")
        if not isinstance(lifetime, int | float) or isinstance(lifetime, bool) or lifetime <= 0:
            lifetime = DEFAULT_TOKEN_LIFETIME
        return token, float(lifetime)
