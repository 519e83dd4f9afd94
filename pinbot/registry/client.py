"""The registry client: tags to digests, verified manifests and image metadata.

The API on top of three layers: `transport` (bounded, retried HTTP), `session` (auth by
challenge, redirects, errors) and `distribution` (manifests and blobs, each asked once a
run). Every public method is one lookup: it runs within the lookup deadline, and whatever
goes wrong becomes a `RegistryError` about that reference, never an escape.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec, TypeVar

from pinbot.logs import logger
from pinbot.reference import ImageReference
from pinbot.registry import manifest as mf
from pinbot.registry.budget import lookup_budget
from pinbot.registry.credentials import CredentialFinder
from pinbot.registry.distribution import Distribution, FetchedManifest
from pinbot.registry.errors import PlatformNotFound, RegistryError, contained
from pinbot.registry.limits import (
    LOOKUP_DEADLINE,
    MANIFEST_LIMIT,
    REQUEST_DEADLINE,
    blob_limit,
)
from pinbot.registry.manifest import ImageMetadata, Platform
from pinbot.registry.memo import KeyedMemo
from pinbot.registry.retry import RetryPolicy
from pinbot.registry.session import Registry, RegistrySession, registry_name
from pinbot.registry.stats import RequestStats
from pinbot.registry.tls import DOCKER_CERTS_D
from pinbot.registry.transport import Transport, TransportOptions

if TYPE_CHECKING:
    from pinbot.config import Config

__all__ = [
    "MAX_MANIFEST_BYTES",
    "FetchedManifest",
    "RegistryClient",
    "RequestStats",
    "Resolution",
    "resolve_many",
]

log = logger(__name__)

T = TypeVar("T")
P = ParamSpec("P")

#: Manifests larger than this are refused: real ones are a few KiB (see `limits`).
MAX_MANIFEST_BYTES = MANIFEST_LIMIT.size

#: (registry, path, tag, digest, platform, verify): one resolution question.
_ResolutionKey = tuple[str, str, str | None, str | None, Platform | None, bool]


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


def _one_lookup(
    method: Callable[Concatenate[RegistryClient, ImageReference, P], Awaitable[T]],
) -> Callable[Concatenate[RegistryClient, ImageReference, P], Awaitable[T]]:
    """A lookup within its deadline, whatever goes wrong raised as the reference's error."""

    @functools.wraps(method)
    async def lookup(
        self: RegistryClient, ref: ImageReference, /, *args: P.args, **kwargs: P.kwargs
    ) -> T:
        try:
            with lookup_budget(self.lookup_deadline):
                return await method(self, ref, *args, **kwargs)
        except RegistryError:
            raise
        except Exception as exc:
            log.debug("lookup of %s failed unexpectedly", ref, exc_info=True)
            raise contained(registry_name(ref), ref, exc) from exc

    return lookup


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
        self.config = config
        self.lookup_deadline = lookup_deadline
        self.stats = RequestStats()
        retry = RetryPolicy(
            max_attempts=max_attempts, max_wait=max_wait, backoff=backoff, max_backoff=max_backoff
        )
        options = TransportOptions(
            timeout, request_deadline, per_registry_concurrency, certs_d, environ
        )
        transport = Transport(options, stats=self.stats, retry=retry)
        finder = CredentialFinder(docker_config_dir=docker_config_dir, environ=environ)
        self._session = RegistrySession(transport, config=config, finder=finder)
        self._distribution = Distribution(self._session)
        self._resolutions: KeyedMemo[_ResolutionKey, Resolution] = KeyedMemo()
        self._closed = False

    def __repr__(self) -> str:
        return f"<RegistryClient registries={self._session.registries}>"

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
        self._resolutions.cancel_all()
        self._distribution.cancel_all()
        await self._session.aclose()

    # --- lookups --------------------------------------------------------------------------

    @_one_lookup
    async def resolve(
        self, ref: ImageReference, *, platform: str | None = None, verify: bool = False
    ) -> Resolution:
        """The digest `ref`'s tag points at now (the index digest unless `platform` is given).

        A reference with both a tag and a digest is resolved by its tag: the question is
        what the tag points at now. A digest-only reference is checked to exist.
        """
        wanted = Platform.parse(platform) if platform else None
        digest = ref.digest if ref.tag is None else None
        key = (registry_name(ref), ref.path, ref.tag, digest, wanted, verify)
        return await self._resolutions.get(key, lambda: self._resolve(ref, wanted, verify))

    @_one_lookup
    async def fetch(self, ref: ImageReference) -> Resolution:
        """GET the manifest `ref`'s tag points at now and hash it: one request that both
        resolves and verifies, for a tag whose digest is about to be written for the first
        time (a HEAD first would only add a request).

        The manifest is remembered by digest, so a later `verify` or `fetch_metadata` of the
        same digest asks nothing again.
        """
        if ref.tag is None:
            return await self.resolve(ref, verify=True)
        got = await self._distribution.by_tag(self._registry(ref), ref, ref.tag)
        return Resolution(ref, got.digest, got.media_type, verified=True, platform=None)

    @_one_lookup
    async def verify(self, ref: ImageReference, digest: str) -> Resolution:
        """Fetch the manifest `digest` names and check its bytes hash to it."""
        registry = self._registry(ref, digest)
        got = await self._distribution.manifest(registry, ref, digest)
        return Resolution(ref, got.digest, got.media_type, verified=True, platform=None)

    @_one_lookup
    async def exists(self, ref: ImageReference, digest: str) -> bool:
        """Whether the repository of `ref` holds a manifest with `digest` (HEAD by digest)."""
        return await self._distribution.exists(self._registry(ref, digest), ref, digest)

    @_one_lookup
    async def fetch_metadata(self, ref: ImageReference, digest: str) -> ImageMetadata:
        """Created time, labels, annotations, platforms and size of the image `digest` names."""
        registry = self._registry(ref, digest)
        top = await self._distribution.manifest(registry, ref, digest)
        document = top.document(registry.name)
        index: dict[str, Any] | None = None
        image_doc: dict[str, Any] | None = document
        image, chosen = top, None
        if top.media_type in mf.INDEX_TYPES:
            index = document
            try:
                child = mf.default_child(mf.index_children(document))
            except mf.ManifestError as exc:
                raise RegistryError(registry.name, f"index {digest} is unreadable: {exc}") from exc
            image_doc = None
            if child is not None:
                image = await self._distribution.manifest(registry, ref, child.digest)
                image_doc = image.document(registry.name)
                chosen = child.platform
        return mf.build_metadata(
            digest=top.digest,
            media_type=top.media_type,
            index=index,
            manifest=image_doc,
            config=await self._config_of(registry, ref, image, image_doc),
            platform=chosen,
        )

    # --- artifacts by digest, for supply-chain reading ------------------------------------

    @_one_lookup
    async def manifest(self, ref: ImageReference, tag_or_digest: str) -> FetchedManifest:
        """GET the manifest a digest (or a tag) names, hashed; by digest it is asked once a run.

        For artifacts pinbot reads beside an image (attestations, signatures, referrers tags);
        a tag is fetched anew each time, a digest's bytes are remembered. Bounded by
        `limits.MANIFEST_LIMIT`; the bytes always hash to the digest returned.
        """
        registry = self._registry(ref)
        if mf.is_digest(tag_or_digest):
            return await self._distribution.manifest(registry, ref, tag_or_digest)
        got = await self._distribution.get_manifest(registry, ref, tag_or_digest)
        self._distribution.remember(registry, ref, got)
        return got

    @_one_lookup
    async def blob(self, ref: ImageReference, digest: str, *, size: int, max_bytes: int) -> bytes:
        """GET the blob `digest` names, refused unless it is exactly `size` bytes and at most
        `max_bytes`; never more than `size` bytes are read, and they are hashed to `digest`."""
        registry = self._registry(ref, digest)
        what = f'blob {digest} of "{ref.path}"'
        if size < 0 or size > max_bytes:
            raise RegistryError(registry.name, f"{what}: {size} bytes is over the cap {max_bytes}")
        limit = blob_limit(size, cap=max_bytes)
        body = await self._distribution.blob(registry, ref, digest, limit)
        if len(body) != size:
            raise RegistryError(registry.name, f"{what}: {len(body)} bytes, descriptor says {size}")
        return body

    @_one_lookup
    async def referrers(self, ref: ImageReference, digest: str) -> FetchedManifest | None:
        """The OCI 1.1 referrers index of `digest`, or None when the registry has no referrers
        API (404, or 400/405/501 from some; it may still keep a referrers tag, `sha256-<hex>`)."""
        registry = self._registry(ref, digest)
        answer = await self._distribution.referrers(registry, ref, digest)
        if answer.status_code in (400, 404, 405, 501):
            return None  # no such API here (distribution 2.8 answers 404)
        if answer.status_code != 200:
            what = f'referrers of "{ref.path}@{digest}"'
            raise self._session.unexpected(registry, answer, what)
        return FetchedManifest(mf.digest_of(answer.content), mf.OCI_INDEX, answer.content)

    # --- resolution -----------------------------------------------------------------------

    async def _resolve(
        self, ref: ImageReference, wanted: Platform | None, verify: bool
    ) -> Resolution:
        registry = self._registry(ref)
        if ref.tag is not None:
            head = await self._distribution.head(registry, ref, ref.tag)
            digest, media_type, verified = head.digest, head.media_type, head.manifest is not None
        elif ref.digest is None:
            raise RegistryError(registry.name, f'reference "{ref}" has neither tag nor digest')
        elif verify or wanted is not None:
            digest = ref.digest
            found = await self._distribution.manifest(registry, ref, digest)
            media_type, verified = found.media_type, True
        else:
            digest = ref.digest
            head = await self._distribution.head(registry, ref, digest)
            media_type, verified = head.media_type, head.manifest is not None
        resolution = Resolution(ref, digest, media_type, verified=verified)
        if wanted is not None:
            resolution = await self._for_platform(registry, resolution, wanted)
        if verify and not resolution.verified:
            found = await self._distribution.manifest(registry, ref, resolution.digest)
            resolution = Resolution(
                ref, resolution.digest, found.media_type, True, resolution.platform
            )
        return resolution

    async def _for_platform(
        self, registry: Registry, resolution: Resolution, wanted: Platform
    ) -> Resolution:
        """The image for `wanted`: an index's child, or a single image of that platform."""
        ref, digest = resolution.reference, resolution.digest
        found = await self._distribution.manifest(registry, ref, digest)
        if found.media_type not in mf.INDEX_TYPES:
            own = await self._image_platform(registry, ref, found)
            if own is not None and own != wanted:
                raise PlatformNotFound(
                    registry.name,
                    f'"{_shown(ref)}" is a single-platform image for {own}, not {wanted}',
                    reference=str(ref),
                )
            return Resolution(ref, digest, resolution.media_type, True, str(own or wanted))
        try:
            children = mf.index_children(found.document(registry.name))
        except mf.ManifestError as exc:
            raise RegistryError(registry.name, f"index {digest} is unreadable: {exc}") from exc
        child = mf.select_platform(children, wanted)
        if child is None:
            offered = ", ".join(str(c.platform) for c in mf.image_children(children) if c.platform)
            raise PlatformNotFound(
                registry.name,
                f'"{_shown(ref)}" has no image for {wanted} (offers: {offered or "none"})',
                reference=str(ref),
            )
        media_type = child.media_type or resolution.media_type
        return Resolution(ref, child.digest, media_type, False, str(child.platform))

    async def _image_platform(
        self, registry: Registry, ref: ImageReference, image: FetchedManifest
    ) -> Platform | None:
        try:
            config = mf.config_descriptor(image.document(registry.name))
        except mf.ManifestError:
            return None
        if config is None:
            return None
        limit = blob_limit(config.size)
        blob = await self._distribution.blob(registry, ref, config.digest, limit)
        try:
            return Platform.from_json(mf.parse_json(blob))
        except mf.ManifestError:
            return None

    async def _config_of(
        self,
        registry: Registry,
        ref: ImageReference,
        image: FetchedManifest,
        image_doc: dict[str, Any] | None,
    ) -> dict[str, Any] | None:
        """The image config an image manifest names, as JSON (None when it names none)."""
        if image_doc is None:
            return None
        try:
            config = mf.config_descriptor(image_doc)
        except mf.ManifestError as exc:
            raise RegistryError(registry.name, f"manifest {image.digest}: {exc}") from exc
        if config is None:
            return None
        blob = await self._distribution.blob(registry, ref, config.digest, blob_limit(config.size))
        try:
            return mf.parse_json(blob)
        except mf.ManifestError as exc:
            raise RegistryError(
                registry.name, f"image config {config.digest} is unreadable: {exc}"
            ) from exc

    def _registry(self, ref: ImageReference, digest: str | None = None) -> Registry:
        """The registry of `ref`; with `digest`, checked to be a digest first."""
        if self._closed:
            raise RuntimeError("RegistryClient is closed")
        if digest is not None and not mf.is_digest(digest):
            raise RegistryError(
                registry_name(ref),
                f'"{digest}" is not a sha256, sha384 or sha512 digest',
                reference=str(ref),
            )
        return self._session.registry(ref)


def _shown(ref: ImageReference) -> str:
    return f"{ref.path}:{ref.tag}" if ref.tag else f"{ref.path}@{ref.digest}"


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
                    return contained(registry_name(ref), ref, exc)

            return list(await asyncio.gather(*(one(ref) for ref in wanted)))

    return asyncio.run(run())
