"""Authenticated requests to a registry's API, on top of the transport.

One `/v2/` ping per registry to learn its auth scheme, then every request sent with the
`Authorization` known up front, a 401 challenge answered once, blob redirects followed
without carrying credentials to another host; and a registry's refusals put into words.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urljoin, urlsplit

import httpx

from pinbot.logs import logger
from pinbot.reference import ImageReference
from pinbot.registry.auth import RegistryAuth, TokenCache
from pinbot.registry.challenge import parse_www_authenticate
from pinbot.registry.credentials import CredentialFinder, CredentialLookup, EnvCredentialNames
from pinbot.registry.errors import (
    NotARegistry,
    RegistryError,
    RegistryUnavailable,
    TagNotFound,
)
from pinbot.registry.limits import TOKEN_LIMIT, BodyLimit
from pinbot.registry.memo import KeyedMemo
from pinbot.registry.transport import Answer, Endpoint, EndpointSettings, Transport, origin

if TYPE_CHECKING:
    from pinbot.config import Config

log = logger(__name__)

DOCKER_HUB_HOSTS = frozenset({"docker.io", "index.docker.io"})
DOCKER_HUB_ENDPOINT = "registry-1.docker.io"
MAX_REDIRECTS = 5
_REDIRECTS = (301, 302, 303, 307, 308)


def registry_name(ref: ImageReference) -> str:
    """The registry a reference names (Docker Hub when it names none)."""
    return ref.domain or "docker.io"


def endpoint_host(domain: str) -> str:
    """The host serving a registry's API: Docker Hub's is not docker.io."""
    return DOCKER_HUB_ENDPOINT if domain in DOCKER_HUB_HOSTS or not domain else domain


class Registry:
    """What pinbot knows about one registry during a run: endpoint, credentials, auth."""

    def __init__(self, endpoint: Endpoint, names: EnvCredentialNames | None) -> None:
        self.endpoint = endpoint
        self.name = endpoint.name
        self.base_url = endpoint.base_url
        self.names = names
        self.auth: RegistryAuth | None = None
        #: Whether `/v2/` answered like a registry; None until the ping has answered.
        self.looks_like_registry: bool | None = None

    def url(self, path: str) -> str:
        return self.endpoint.url(path)

    def __repr__(self) -> str:
        return repr(self.endpoint)


class RegistrySession:
    """Authenticated registry API requests for a whole run, one `Registry` per host."""

    def __init__(
        self, transport: Transport, *, config: Config | None, finder: CredentialFinder
    ) -> None:
        self.transport = transport
        self.config = config
        self._finder = finder
        self.tokens = TokenCache()
        self._registries: dict[str, Registry] = {}
        self._pings: KeyedMemo[str, bool] = KeyedMemo()
        self._credentials: KeyedMemo[str, CredentialLookup] = KeyedMemo()

    @property
    def registries(self) -> list[str]:
        return sorted(self._registries)

    def registry(self, ref: ImageReference) -> Registry:
        """The registry `ref` lives on, set up on first use."""
        name = registry_name(ref)
        found = self._registries.get(name)
        if found is None:
            host = endpoint_host(name)
            try:
                httpx.URL(f"https://{host}/v2/")
            except (httpx.InvalidURL, UnicodeError) as exc:
                raise RegistryError(name, f"not a host name pinbot can reach: {exc}") from None
            settings, names = self._settings(name)
            found = Registry(self.transport.endpoint(name, host, settings), names)
            self._registries[name] = found
        return found

    async def aclose(self) -> None:
        self._pings.cancel_all()
        self._credentials.cancel_all()
        for registry in self._registries.values():
            await registry.endpoint.http.aclose()
        self._registries.clear()

    async def request(
        self,
        registry: Registry,
        method: str,
        path: str,
        *,
        scope: str | None,
        kind: str,
        what: str,
        headers: Mapping[str, str] | None = None,
        follow_redirects: bool = False,
        limit: BodyLimit | None = None,
    ) -> Answer:
        """One registry API request with auth: up-front from what is known, else by challenge."""
        await self._pings.get(registry.name, lambda: self._ping(registry))
        auth = self._auth(registry)
        sent = await auth.authorization(scope)
        request_headers = dict(headers or {})
        if sent is not None:
            request_headers["Authorization"] = sent
        url = registry.url(path)
        answer = await self._send(registry, method, url, kind, request_headers, limit)
        if answer.status_code == 401:
            challenges = parse_www_authenticate(answer.headers.get_list("www-authenticate"))
            request_headers["Authorization"] = await auth.respond(challenges, scope, sent, what)
            answer = await self._send(registry, method, url, kind, request_headers, limit)
            if answer.status_code == 401:
                raise await auth.refused(answer, scope, what)
        if answer.status_code == 403:
            raise await auth.refused(answer, scope, what)
        if follow_redirects:
            answer = await self._follow(registry, answer, request_headers, kind, what, limit)
        return answer

    async def _follow(
        self,
        registry: Registry,
        answer: Answer,
        headers: dict[str, str],
        kind: str,
        what: str,
        limit: BodyLimit | None,
    ) -> Answer:
        """Follow redirects (blob storage); credentials go only to the origin that asked."""
        hops = 0
        while answer.status_code in _REDIRECTS:
            location = answer.headers.get("location")
            hops += 1
            if not location or hops > MAX_REDIRECTS:
                raise RegistryError(registry.name, f"{what}: too many or broken redirects")
            target = urljoin(answer.url, location)
            if urlsplit(target).scheme not in ("http", "https"):
                raise RegistryError(registry.name, f"{what}: redirect to a non-HTTP URL")
            try:
                httpx.URL(target)
            except (httpx.InvalidURL, ValueError):
                raise RegistryError(registry.name, f"{what}: redirect to an invalid URL") from None
            # Object storage authenticates by the signed URL itself.
            if origin(target) != origin(answer.url):
                headers.pop("Authorization", None)
            answer = await self._send(registry, "GET", target, kind, headers, limit)
        return answer

    async def _send(
        self,
        registry: Registry,
        method: str,
        url: str,
        kind: str,
        headers: Mapping[str, str],
        limit: BodyLimit | None,
    ) -> Answer:
        return await self.transport.send(
            registry.endpoint, method, url, kind=kind, headers=headers, limit=limit
        )

    async def _ping(self, registry: Registry) -> bool:
        """GET /v2/ once per registry: learn its auth scheme before the first real request."""
        answer = await self._send(registry, "GET", registry.url("/v2/"), "ping", {}, None)
        if answer.status_code == 401:
            challenges = parse_www_authenticate(answer.headers.get_list("www-authenticate"))
            self._auth(registry).learn(challenges)
            registry.looks_like_registry = True
            return True
        body = answer.content.strip()
        looks = answer.status_code == 200 and (
            "docker-distribution-api-version" in answer.headers
            or "json" in answer.headers.get("content-type", "")
            or not body
            or body.startswith(b"{")
        )
        if not looks:
            log.info("%s: /v2/ answered HTTP %s, not like a registry", registry.name, answer.status_code)
        registry.looks_like_registry = looks
        return looks

    def _auth(self, registry: Registry) -> RegistryAuth:
        if registry.auth is None:

            async def token_send(
                method: str,
                url: str,
                *,
                headers: Mapping[str, str],
                data: Mapping[str, str] | None = None,
            ) -> Answer:
                return await self.transport.send(
                    registry.endpoint,
                    method,
                    url,
                    kind="token",
                    headers=headers,
                    data=data,
                    limit=TOKEN_LIMIT,
                )

            registry.auth = RegistryAuth(
                registry.name,
                send=token_send,
                credentials=lambda: self.credentials(registry),
                cache=self.tokens,
                registry_url=registry.base_url,
                insecure=registry.endpoint.insecure,
            )
        return registry.auth

    async def credentials(self, registry: Registry) -> CredentialLookup:
        """Where the registry's credentials come from, looked up once a run."""
        return await self._credentials.get(
            registry.name,
            lambda: asyncio.to_thread(self._finder.find, registry.name, registry.names),
        )

    def _settings(self, name: str) -> tuple[EndpointSettings, EnvCredentialNames | None]:
        if self.config is None:
            return EndpointSettings(), None
        entry = self.config.registry(name)
        names = EnvCredentialNames(
            username_env=getattr(entry, "username_env", None),
            password_env=getattr(entry, "password_env", None),
            token_env=getattr(entry, "token_env", None),
        )
        ca_file = getattr(entry, "ca_file", None)
        settings = EndpointSettings(
            insecure=bool(getattr(entry, "insecure", False)),
            ca_file=Path(ca_file) if ca_file else None,
        )
        return settings, names

    # --- what a registry's refusals mean ----------------------------------------------------

    def is_registry(self, registry: Registry) -> bool:
        """Whether `/v2/` answered like a registry (assumed so until it has answered)."""
        return registry.looks_like_registry is not False

    def not_found(self, registry: Registry, ref: ImageReference, what: str) -> RegistryError:
        if not self.is_registry(registry):
            return self.not_a_registry(registry, what)
        return TagNotFound(registry.name, f"{what} not found", reference=str(ref))

    @staticmethod
    def not_a_registry(registry: Registry, what: str) -> NotARegistry:
        return NotARegistry(
            registry.name,
            f"{what}: {registry.base_url} does not answer like an OCI distribution registry",
        )

    @staticmethod
    def unexpected(registry: Registry, answer: Answer, what: str) -> RegistryError:
        status = answer.status_code
        if status == 400 and b"HTTPS" in answer.content:
            return NotARegistry(
                registry.name, f"{what}: HTTP request to an HTTPS server (is it marked insecure?)"
            )
        if status >= 500:
            return RegistryUnavailable(registry.name, f"{what}: server error HTTP {status}")
        return RegistryError(registry.name, f"{what}: unexpected HTTP {status}")
