"""The registry client: tags to digests, verified manifests and image metadata.

Speaks the OCI distribution API over httpx with retries, a concurrency limit per registry,
auth by challenge, and one request per unique question per run.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Concatenate, Literal, ParamSpec, TypeVar
from urllib.parse import urljoin, urlsplit

import httpx

from pinbot.reference import ImageReference
from pinbot.registry import manifest as mf
from pinbot.registry.auth import RegistryAuth, TokenCache, parse_www_authenticate
from pinbot.registry.credentials import CredentialFinder, CredentialLookup, EnvCredentialNames
from pinbot.registry.errors import (
    DigestMismatch,
    NotARegistry,
    PlatformNotFound,
    RegistryError,
    RegistryUnavailable,
    TagNotFound,
    contained,
)
from pinbot.registry.limits import (
    LOOKUP_DEADLINE,
    MANIFEST_LIMIT,
    REQUEST_DEADLINE,
    TOKEN_LIMIT,
    BodyLimit,
    blob_limit,
)
from pinbot.registry.manifest import ImageMetadata, Platform
from pinbot.registry.tls import DOCKER_CERTS_D
from pinbot.registry.transport import (
    Answer,
    Endpoint,
    EndpointSettings,
    RequestStats,
    Transport,
    lookup_budget,
    origin,
)

if TYPE_CHECKING:
    from pinbot.config import Config

log = logging.getLogger(__name__)

T = TypeVar("T")
P = ParamSpec("P")

DOCKER_HUB_HOSTS = frozenset({"docker.io", "index.docker.io"})
DOCKER_HUB_ENDPOINT = "registry-1.docker.io"
MAX_REDIRECTS = 5
#: Manifests larger than this are refused: real ones are a few KiB (see `limits`).
MAX_MANIFEST_BYTES = MANIFEST_LIMIT.size


@dataclass(frozen=True)
class Resolution:
    """What a registry said a reference points at."""

    reference: ImageReference
    digest: str
    media_type: str
    #: True when the manifest bytes were fetched and hashed to `digest` in this run.
    verified: bool
    #: The platform of the selected child manifest, when one was asked for.
    platform: str | None = None


@dataclass(frozen=True)
class FetchedManifest:
    """A manifest's bytes as the registry served them, with the digest they hash to."""

    digest: str
    media_type: str
    body: bytes


@dataclass(frozen=True)
class _Manifest:
    digest: str
    media_type: str
    body: bytes

    def document(self, registry: str) -> dict[str, Any]:
        try:
            return mf.parse_json(self.body)
        except mf.ManifestError as exc:
            raise RegistryError(registry, f"manifest {self.digest} is unreadable: {exc}") from exc


@dataclass(frozen=True)
class _Head:
    digest: str
    media_type: str
    #: Set when the tag was answered by a GET: the bytes are hashed already.
    manifest: _Manifest | None = None


class _Registry:
    """Per-registry state: the transport's endpoint, credentials, ping and auth."""

    def __init__(self, endpoint: Endpoint, names: EnvCredentialNames | None) -> None:
        self.endpoint = endpoint
        self.name = endpoint.name
        self.base_url = endpoint.base_url
        self.names = names
        self.auth: RegistryAuth | None = None
        self.ping: asyncio.Future[bool] | None = None
        self.credentials: asyncio.Future[CredentialLookup] | None = None

    def url(self, path: str) -> str:
        return self.endpoint.url(path)

    def __repr__(self) -> str:
        return repr(self.endpoint)


def _endpoint_host(domain: str) -> str:
    return DOCKER_HUB_ENDPOINT if domain in DOCKER_HUB_HOSTS or not domain else domain


def _registry_name(ref: ImageReference) -> str:
    return ref.domain or "docker.io"


def _contains_failures(
    method: Callable[Concatenate[RegistryClient, ImageReference, P], Awaitable[T]],
) -> Callable[Concatenate[RegistryClient, ImageReference, P], Awaitable[T]]:
    """A lookup within its deadline, whatever goes wrong raised as the reference's error."""

    @functools.wraps(method)
    async def contained_method(
        self: RegistryClient, ref: ImageReference, /, *args: P.args, **kwargs: P.kwargs
    ) -> T:
        try:
            with lookup_budget(self.lookup_deadline):
                return await method(self, ref, *args, **kwargs)
        except RegistryError:
            raise
        except Exception as exc:
            log.debug("lookup of %s failed unexpectedly", ref, exc_info=True)
            raise contained(_registry_name(ref), ref, exc) from exc

    return contained_method


class RegistryClient:
    """Asks registries what tags point at; an async context manager.

    >>> async def main() -> None:  # doctest: +SKIP
    ...     async with RegistryClient() as client:
    ...         resolution = await client.resolve(parse_normalized("nginx:1.27"))
    """

    def __init__(
        self,
        config: Config | None = None,
        *,
        max_attempts: int = 5,
        max_wait: float = 60.0,
        timeout: float = 30.0,
        request_deadline: float = REQUEST_DEADLINE,
        lookup_deadline: float = LOOKUP_DEADLINE,
        per_registry_concurrency: int = 8,
        docker_config_dir: Path | None = None,
        certs_d: Path = DOCKER_CERTS_D,
        backoff: float = 0.5,
        max_backoff: float = 10.0,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self.config = config
        self.lookup_deadline = lookup_deadline
        self.stats = RequestStats()
        self._transport = Transport(
            stats=self.stats,
            max_attempts=max_attempts,
            max_wait=max_wait,
            timeout=timeout,
            request_deadline=request_deadline,
            per_registry_concurrency=per_registry_concurrency,
            backoff=backoff,
            max_backoff=max_backoff,
            certs_d=certs_d,
            environ=environ,
        )
        self._finder = CredentialFinder(docker_config_dir=docker_config_dir, environ=environ)
        self._tokens = TokenCache()
        self._registries: dict[str, _Registry] = {}
        self._heads: dict[Hashable, asyncio.Future[_Head]] = {}
        self._manifests: dict[Hashable, asyncio.Future[_Manifest]] = {}
        self._resolutions: dict[Hashable, asyncio.Future[Resolution]] = {}
        self._exists: dict[Hashable, asyncio.Future[bool]] = {}
        self._fetched: dict[Hashable, asyncio.Future[_Manifest]] = {}
        self._blobs: dict[Hashable, asyncio.Future[bytes]] = {}
        self._closed = False

    def __repr__(self) -> str:
        return f"<RegistryClient registries={sorted(self._registries)}>"

    async def __aenter__(self) -> RegistryClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        self._closed = True
        for table in (
            self._resolutions,
            self._heads,
            self._manifests,
            self._exists,
            self._fetched,
            self._blobs,
        ):
            for future in table.values():
                if not future.done():
                    future.cancel()
        for registry in self._registries.values():
            await registry.endpoint.http.aclose()
        self._registries.clear()

    # --- public API -----------------------------------------------------------------------

    @_contains_failures
    async def resolve(
        self, ref: ImageReference, *, platform: str | None = None, verify: bool = False
    ) -> Resolution:
        """The digest `ref`'s tag points at now (the index digest unless `platform` is given).

        A reference with both a tag and a digest is resolved by its tag: the question is
        what the tag points at now. A digest-only reference is checked to exist.
        """
        wanted = Platform.parse(platform) if platform else None
        key = (
            _registry_name(ref),
            ref.path,
            ref.tag,
            ref.digest if ref.tag is None else None,
            wanted,
            verify,
        )
        return await self._memo(self._resolutions, key, lambda: self._resolve(ref, wanted, verify))

    @_contains_failures
    async def fetch(self, ref: ImageReference) -> Resolution:
        """GET the manifest `ref`'s tag points at now and hash it: one request that both
        resolves and verifies, for a tag whose digest is about to be written for the first
        time (a HEAD first would only add a request).

        The manifest is remembered by digest, so a later `verify` or `fetch_metadata` of the
        same digest asks nothing again.
        """
        if ref.tag is None:
            return await self.resolve(ref, verify=True)
        registry = self._registry(ref)
        key = (registry.name, ref.path, ref.tag)
        got = await self._memo(
            self._fetched, key, lambda: self._get_manifest(registry, ref, ref.tag or "")
        )
        self._remember(registry, ref, got)
        return Resolution(ref, got.digest, got.media_type, verified=True, platform=None)

    @_contains_failures
    async def verify(self, ref: ImageReference, digest: str) -> Resolution:
        """Fetch the manifest `digest` names and check its bytes hash to it."""
        registry = self._registry(ref)
        self._check_digest(registry, ref, digest)
        got = await self._manifest(registry, ref, digest)
        return Resolution(ref, got.digest, got.media_type, verified=True, platform=None)

    @_contains_failures
    async def exists(self, ref: ImageReference, digest: str) -> bool:
        """Whether the repository of `ref` holds a manifest with `digest` (HEAD by digest)."""
        registry = self._registry(ref)
        self._check_digest(registry, ref, digest)
        key = (registry.name, ref.path, digest)
        return await self._memo(self._exists, key, lambda: self._exists_now(registry, ref, digest))

    @_contains_failures
    async def fetch_metadata(self, ref: ImageReference, digest: str) -> ImageMetadata:
        """Created time, labels, annotations, platforms and size of the image `digest` names."""
        registry = self._registry(ref)
        self._check_digest(registry, ref, digest)
        top = await self._manifest(registry, ref, digest)
        document = top.document(registry.name)
        index: dict[str, Any] | None = None
        image = top
        image_doc: dict[str, Any] | None = document
        chosen: Platform | None = None
        if top.media_type in mf.INDEX_TYPES:
            index = document
            try:
                child = mf.default_child(mf.index_children(document))
            except mf.ManifestError as exc:
                raise RegistryError(registry.name, f"index {digest} is unreadable: {exc}") from exc
            image_doc = None
            if child is not None:
                image = await self._manifest(registry, ref, child.digest)
                image_doc = image.document(registry.name)
                chosen = child.platform
        config_doc: dict[str, Any] | None = None
        if image_doc is not None:
            try:
                config = mf.config_descriptor(image_doc)
            except mf.ManifestError as exc:
                raise RegistryError(registry.name, f"manifest {image.digest}: {exc}") from exc
            if config is not None:
                blob = await self._blob(registry, ref, config.digest, blob_limit(config.size))
                try:
                    config_doc = mf.parse_json(blob)
                except mf.ManifestError as exc:
                    raise RegistryError(
                        registry.name, f"image config {config.digest} is unreadable: {exc}"
                    ) from exc
        return mf.build_metadata(
            digest=top.digest,
            media_type=top.media_type,
            index=index,
            manifest=image_doc,
            config=config_doc,
            platform=chosen,
        )

    @_contains_failures
    async def manifest(self, ref: ImageReference, tag_or_digest: str) -> FetchedManifest:
        """GET the manifest a digest (or a tag) names, hashed; by digest it is asked once a run.

        For artifacts pinbot reads beside an image (attestations, signatures, referrers tags);
        a tag is fetched anew each time, a digest's bytes are remembered.
        """
        registry = self._registry(ref)
        if mf.is_digest(tag_or_digest):
            got = await self._manifest(registry, ref, tag_or_digest)
        else:
            got = await self._get_manifest(registry, ref, tag_or_digest)
            self._remember(registry, ref, got)
        return FetchedManifest(got.digest, got.media_type, got.body)

    @_contains_failures
    async def blob(self, ref: ImageReference, digest: str, *, size: int, max_bytes: int) -> bytes:
        """GET the blob `digest` names, refused unless it is exactly `size` bytes and at most
        `max_bytes`; the bytes are hashed to `digest`."""
        registry = self._registry(ref)
        self._check_digest(registry, ref, digest)
        what = f'blob {digest} of "{ref.path}"'
        if size < 0 or size > max_bytes:
            raise RegistryError(registry.name, f"{what}: {size} bytes is over the cap {max_bytes}")
        body = await self._blob(registry, ref, digest, blob_limit(size, cap=max_bytes))
        if len(body) != size:
            raise RegistryError(registry.name, f"{what}: {len(body)} bytes, descriptor says {size}")
        return body

    @_contains_failures
    async def referrers(self, ref: ImageReference, digest: str) -> FetchedManifest | None:
        """The OCI 1.1 referrers index of `digest`, or None when the registry has no referrers
        API (404, or 400/405/501 from some; it may still keep a referrers tag, `sha256-<hex>`)."""
        registry = self._registry(ref)
        self._check_digest(registry, ref, digest)
        what = f'referrers of "{ref.path}@{digest}"'
        response = await self._request(
            registry,
            "GET",
            f"/v2/{ref.path}/referrers/{digest}",
            scope=self._scope(ref),
            kind="referrers",
            what=what,
            headers={"Accept": mf.OCI_INDEX},
            limit=MANIFEST_LIMIT,
        )
        if response.status_code in (400, 404, 405, 501):
            return None  # no such API here (distribution 2.8 answers 404)
        if response.status_code != 200:
            raise self._unexpected(registry, response, what)
        body = response.content
        return FetchedManifest(mf.digest_of(body), mf.OCI_INDEX, body)

    # --- resolution -----------------------------------------------------------------------

    async def _resolve(
        self, ref: ImageReference, wanted: Platform | None, verify: bool
    ) -> Resolution:
        registry = self._registry(ref)
        if ref.tag is None:
            if ref.digest is None:
                raise RegistryError(registry.name, f'reference "{ref}" has neither tag nor digest')
            digest = ref.digest
            if verify or wanted is not None:
                found = await self._manifest(registry, ref, digest)
                media_type, verified = found.media_type, True
            else:
                head = await self._head(registry, ref, digest)
                media_type, verified = head.media_type, head.manifest is not None
        else:
            head = await self._head(registry, ref, ref.tag)
            digest, media_type, verified = head.digest, head.media_type, head.manifest is not None
        platform_text: str | None = None
        if wanted is not None:
            found = await self._manifest(registry, ref, digest)
            if found.media_type in mf.INDEX_TYPES:
                try:
                    children = mf.index_children(found.document(registry.name))
                except mf.ManifestError as exc:
                    raise RegistryError(
                        registry.name, f"index {digest} is unreadable: {exc}"
                    ) from exc
                child = mf.select_platform(children, wanted)
                if child is None:
                    offered = ", ".join(
                        str(c.platform) for c in mf.image_children(children) if c.platform
                    )
                    raise PlatformNotFound(
                        registry.name,
                        f'"{self._shown(ref)}" has no image for {wanted} (offers: {offered or "none"})',
                        reference=str(ref),
                    )
                digest = child.digest
                media_type = child.media_type or media_type
                platform_text = str(child.platform)
                verified = False
            else:
                own = await self._image_platform(registry, ref, found)
                if own is not None and own != wanted:
                    raise PlatformNotFound(
                        registry.name,
                        f'"{self._shown(ref)}" is a single-platform image for {own}, not {wanted}',
                        reference=str(ref),
                    )
                platform_text = str(own or wanted)
                verified = True
        if verify and not verified:
            found = await self._manifest(registry, ref, digest)
            media_type, verified = found.media_type, True
        return Resolution(ref, digest, media_type, verified=verified, platform=platform_text)

    async def _image_platform(
        self, registry: _Registry, ref: ImageReference, image: _Manifest
    ) -> Platform | None:
        try:
            config = mf.config_descriptor(image.document(registry.name))
        except mf.ManifestError:
            return None
        if config is None:
            return None
        try:
            return Platform.from_json(mf.parse_json(await self._blob(registry, ref, config.digest, blob_limit(config.size))))
        except mf.ManifestError:
            return None

    async def _head(self, registry: _Registry, ref: ImageReference, tag_or_digest: str) -> _Head:
        key = (registry.name, ref.path, tag_or_digest)
        return await self._memo(
            self._heads, key, lambda: self._head_now(registry, ref, tag_or_digest)
        )

    async def _head_now(
        self, registry: _Registry, ref: ImageReference, tag_or_digest: str
    ) -> _Head:
        what = self._what(ref, tag_or_digest)
        response = await self._request_manifest(registry, "HEAD", ref, tag_or_digest, what)
        if response.status_code == 404:
            raise await self._not_found(registry, ref, what)
        header = response.headers.get("docker-content-digest", "")
        media_type = mf.media_type_of(response.headers.get("content-type"))
        if response.status_code == 200 and mf.is_digest(header) and media_type in mf.MANIFEST_TYPES:
            if mf.is_digest(tag_or_digest) and header != tag_or_digest:
                raise DigestMismatch(
                    registry.name,
                    f"{what}: registry says its digest is {header}",
                    reference=str(ref),
                    expected=tag_or_digest,
                    actual=header,
                )
            return _Head(header, media_type)
        if response.status_code == 200:
            self._check_content_type(registry, response, what)
        elif response.status_code not in (400, 405, 406, 501):
            raise self._unexpected(registry, response, what)
        # HEAD refused, or no digest header: fetch the bytes and hash them ourselves.
        fetched = await self._get_manifest(registry, ref, tag_or_digest)
        self._remember(registry, ref, fetched)
        return _Head(fetched.digest, fetched.media_type, fetched)

    async def _manifest(self, registry: _Registry, ref: ImageReference, digest: str) -> _Manifest:
        key = (registry.name, ref.path, digest)
        return await self._memo(
            self._manifests, key, lambda: self._get_manifest(registry, ref, digest)
        )

    def _remember(self, registry: _Registry, ref: ImageReference, fetched: _Manifest) -> None:
        key = (registry.name, ref.path, fetched.digest)
        if key not in self._manifests:
            done: asyncio.Future[_Manifest] = asyncio.get_running_loop().create_future()
            done.set_result(fetched)
            self._manifests[key] = done

    async def _get_manifest(
        self, registry: _Registry, ref: ImageReference, tag_or_digest: str
    ) -> _Manifest:
        """GET a manifest and hash its bytes; a digest that does not match is an error."""
        what = self._what(ref, tag_or_digest)
        response = await self._request_manifest(registry, "GET", ref, tag_or_digest, what)
        if response.status_code == 404:
            raise await self._not_found(registry, ref, what)
        if response.status_code != 200:
            raise self._unexpected(registry, response, what)
        body = response.content
        media_type = self._check_content_type(registry, response, what, body)
        is_digest = mf.is_digest(tag_or_digest)
        claimed = tag_or_digest if is_digest else response.headers.get("docker-content-digest", "")
        if claimed and not mf.is_digest(claimed):
            claimed = ""
        expected = claimed or mf.digest_of(body)
        ok, actual = mf.content_matches(body, expected)
        if not ok:
            log.warning("digest mismatch for %s: expected %s, got %s", what, expected, actual)
            raise DigestMismatch(
                registry.name,
                f"{what}: manifest bytes hash to {actual}, not {expected}",
                reference=str(ref),
                expected=expected,
                actual=actual,
            )
        return _Manifest(expected, media_type, body)

    async def _exists_now(self, registry: _Registry, ref: ImageReference, digest: str) -> bool:
        what = self._what(ref, digest)
        response = await self._request_manifest(registry, "HEAD", ref, digest, what)
        if response.status_code == 200:
            return True
        if response.status_code == 404:
            if not await self._is_registry(registry):
                raise self._not_a_registry(registry, what)
            return False
        raise self._unexpected(registry, response, what)

    async def _blob(
        self, registry: _Registry, ref: ImageReference, digest: str, limit: BodyLimit
    ) -> bytes:
        key = (registry.name, ref.path, digest)
        return await self._memo(
            self._blobs, key, lambda: self._get_blob(registry, ref, digest, limit)
        )

    async def _get_blob(
        self, registry: _Registry, ref: ImageReference, digest: str, limit: BodyLimit
    ) -> bytes:
        what = f'blob {digest} of "{ref.path}"'
        response = await self._request(
            registry,
            "GET",
            f"/v2/{ref.path}/blobs/{digest}",
            scope=self._scope(ref),
            kind="blob",
            what=what,
            follow_redirects=True,
            limit=limit,
        )
        if response.status_code == 404:
            raise TagNotFound(registry.name, f"{what} not found", reference=str(ref))
        if response.status_code != 200:
            raise self._unexpected(registry, response, what)
        ok, actual = mf.content_matches(response.content, digest)
        if not ok:
            raise DigestMismatch(
                registry.name,
                f"{what}: bytes hash to {actual}",
                reference=str(ref),
                expected=digest,
                actual=actual,
            )
        return response.content

    # --- requests -------------------------------------------------------------------------

    async def _request_manifest(
        self,
        registry: _Registry,
        method: Literal["HEAD", "GET"],
        ref: ImageReference,
        tag_or_digest: str,
        what: str,
    ) -> Answer:
        """HEAD or GET of a manifest, accepting every manifest type pinbot reads."""
        return await self._request(
            registry,
            method,
            f"/v2/{ref.path}/manifests/{tag_or_digest}",
            scope=self._scope(ref),
            kind="manifest_head" if method == "HEAD" else "manifest_get",
            what=what,
            headers={"Accept": mf.ACCEPT},
            limit=MANIFEST_LIMIT,
        )

    async def _request(
        self,
        registry: _Registry,
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
        await self._ping(registry)
        auth = self._auth(registry)
        sent = await auth.authorization(scope)
        request_headers = dict(headers or {})
        if sent is not None:
            request_headers["Authorization"] = sent
        url = registry.url(path)
        response = await self._send(
            registry, method, url, kind=kind, headers=request_headers, limit=limit
        )
        if response.status_code == 401:
            challenges = parse_www_authenticate(response.headers.get_list("www-authenticate"))
            answer = await auth.respond(challenges, scope, sent, what)
            request_headers["Authorization"] = answer
            response = await self._send(
                registry, method, url, kind=kind, headers=request_headers, limit=limit
            )
            if response.status_code == 401:
                raise await auth.refused(response, scope, what)
        if response.status_code == 403:
            raise await auth.refused(response, scope, what)
        hops = 0
        while follow_redirects and response.status_code in (301, 302, 303, 307, 308):
            location = response.headers.get("location")
            hops += 1
            if not location or hops > MAX_REDIRECTS:
                raise RegistryError(registry.name, f"{what}: too many or broken redirects")
            target = urljoin(str(response.url), location)
            if urlsplit(target).scheme not in ("http", "https"):
                raise RegistryError(registry.name, f"{what}: redirect to a non-HTTP URL")
            try:
                httpx.URL(target)
            except (httpx.InvalidURL, ValueError):
                raise RegistryError(registry.name, f"{what}: redirect to an invalid URL") from None
            # Credentials go only to the origin that asked for them: blob redirects point at
            # object storage, which authenticates by the signed URL itself.
            if origin(target) != origin(url):
                request_headers.pop("Authorization", None)
            url = target
            response = await self._send(
                registry, "GET", url, kind=kind, headers=request_headers, limit=limit
            )
        return response

    async def _send(
        self,
        registry: _Registry,
        method: str,
        url: str,
        *,
        kind: str,
        headers: Mapping[str, str],
        data: Mapping[str, str] | None = None,
        limit: BodyLimit | None = None,
    ) -> Answer:
        return await self._transport.send(
            registry.endpoint, method, url, kind=kind, headers=headers, data=data, limit=limit
        )

    async def _ping(self, registry: _Registry) -> None:
        """GET /v2/ once per registry: learn its auth scheme before the first real request."""
        if registry.ping is None:
            registry.ping = asyncio.ensure_future(self._ping_now(registry))
        await asyncio.shield(registry.ping)

    async def _ping_now(self, registry: _Registry) -> bool:
        response = await self._send(registry, "GET", registry.url("/v2/"), kind="ping", headers={})
        auth = self._auth(registry)
        if response.status_code == 401:
            auth.learn(parse_www_authenticate(response.headers.get_list("www-authenticate")))
            return True
        looks = response.status_code == 200 and (
            "docker-distribution-api-version" in response.headers
            or "json" in response.headers.get("content-type", "")
            or not response.content.strip()
            or response.content.strip().startswith(b"{")
        )
        if not looks:
            log.info(
                "%s: /v2/ answered HTTP %s, not like a registry",
                registry.name,
                response.status_code,
            )
        return looks

    async def _is_registry(self, registry: _Registry) -> bool:
        if registry.ping is None or not registry.ping.done():
            return True
        return registry.ping.result()

    def _auth(self, registry: _Registry) -> RegistryAuth:
        if registry.auth is None:

            async def token_send(
                method: str,
                url: str,
                *,
                headers: Mapping[str, str],
                data: Mapping[str, str] | None = None,
            ) -> Answer:
                return await self._send(
                    registry, method, url, kind="token", headers=headers, data=data, limit=TOKEN_LIMIT
                )

            registry.auth = RegistryAuth(
                registry.name,
                send=token_send,
                credentials=lambda: self._credentials(registry),
                cache=self._tokens,
                registry_url=registry.base_url,
                insecure=registry.endpoint.insecure,
            )
        return registry.auth

    async def _credentials(self, registry: _Registry) -> CredentialLookup:
        if registry.credentials is None:
            registry.credentials = asyncio.ensure_future(
                asyncio.to_thread(self._finder.find, registry.name, registry.names)
            )
        return await asyncio.shield(registry.credentials)

    # --- helpers --------------------------------------------------------------------------

    def _registry(self, ref: ImageReference) -> _Registry:
        if self._closed:
            raise RuntimeError("RegistryClient is closed")
        name = _registry_name(ref)
        registry = self._registries.get(name)
        if registry is None:
            settings, names = self._settings(name)
            endpoint = self._transport.endpoint(name, _endpoint_host(name), settings)
            registry = _Registry(endpoint, names)
            self._registries[name] = registry
        return registry

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

    @staticmethod
    def _scope(ref: ImageReference) -> str:
        return f"repository:{ref.path}:pull"

    @staticmethod
    def _shown(ref: ImageReference) -> str:
        return f"{ref.path}:{ref.tag}" if ref.tag else f"{ref.path}@{ref.digest}"

    @staticmethod
    def _what(ref: ImageReference, tag_or_digest: str) -> str:
        if mf.is_digest(tag_or_digest):
            return f'manifest "{ref.path}@{tag_or_digest}"'
        return f'tag "{ref.path}:{tag_or_digest}"'

    def _check_digest(self, registry: _Registry, ref: ImageReference, digest: str) -> None:
        if not mf.is_digest(digest):
            raise RegistryError(
                registry.name, f'"{digest}" is not a sha256, sha384 or sha512 digest', reference=str(ref)
            )

    async def _not_found(
        self, registry: _Registry, ref: ImageReference, what: str
    ) -> RegistryError:
        if not await self._is_registry(registry):
            return self._not_a_registry(registry, what)
        return TagNotFound(registry.name, f"{what} not found", reference=str(ref))

    def _not_a_registry(self, registry: _Registry, what: str) -> NotARegistry:
        return NotARegistry(
            registry.name,
            f"{what}: {registry.base_url} does not answer like an OCI distribution registry",
        )

    def _check_content_type(
        self, registry: _Registry, response: Answer, what: str, body: bytes | None = None
    ) -> str:
        document: dict[str, Any] | None = None
        unreadable: mf.ManifestError | None = None
        if body is not None:
            try:
                document = mf.parse_json(body)
            except mf.ManifestError as exc:
                unreadable = exc
        media_type = mf.media_type_of(response.headers.get("content-type"), document)
        if media_type in mf.MANIFEST_TYPES:
            if unreadable is not None:
                # Never pin bytes that are not a manifest, whatever the header says.
                raise RegistryError(registry.name, f"{what}: manifest is unreadable: {unreadable}")
            return media_type
        if media_type in (mf.DOCKER_SCHEMA1, mf.DOCKER_SCHEMA1_SIGNED):
            raise RegistryError(
                registry.name,
                f"{what}: only a schema 1 manifest is served, which pinbot does not pin",
            )
        if body is not None and document is None:
            raise self._not_a_registry(registry, what)
        if body is None and ("html" in media_type or "text" in media_type):
            raise self._not_a_registry(registry, what)
        return media_type

    def _unexpected(
        self, registry: _Registry, response: Answer, what: str
    ) -> RegistryError:
        status = response.status_code
        if status == 400 and b"HTTPS" in response.content:
            return NotARegistry(
                registry.name, f"{what}: HTTP request to an HTTPS server (is it marked insecure?)"
            )
        if status >= 500:
            return RegistryUnavailable(registry.name, f"{what}: server error HTTP {status}")
        return RegistryError(registry.name, f"{what}: unexpected HTTP {status}")

    async def _memo(
        self,
        table: dict[Hashable, asyncio.Future[T]],
        key: Hashable,
        start: Callable[[], Awaitable[T]],
    ) -> T:
        """Share one in-flight task per key among concurrent callers, and its result after."""
        future = table.get(key)
        if future is None:
            future = asyncio.ensure_future(start())
            table[key] = future
        return await asyncio.shield(future)


def resolve_many(
    refs: Iterable[ImageReference],
    *,
    platform: str | None = None,
    verify: bool = False,
    **client_options: Any,
) -> list[Resolution | RegistryError]:
    """Resolve many references concurrently from synchronous code; errors are returned in place."""
    wanted = list(refs)

    async def run() -> list[Resolution | RegistryError]:
        async with RegistryClient(**client_options) as client:

            async def one(ref: ImageReference) -> Resolution | RegistryError:
                try:
                    return await client.resolve(ref, platform=platform, verify=verify)
                except Exception as exc:  # one reference's failure is its own
                    return contained(_registry_name(ref), ref, exc)

            return list(await asyncio.gather(*(one(ref) for ref in wanted)))

    return asyncio.run(run())
