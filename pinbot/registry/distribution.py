"""The OCI distribution operations pinbot asks, each once per run: manifests by tag and by
digest (HEAD or GET, bytes hashed), blobs by digest, referrers, existence.

Built on `session` (authenticated requests) and `memo` (one task per question). Every
manifest answer is checked here: its media type, its bytes against the digest that names
them, and what a `Content-Type` or `Docker-Content-Digest` header claims.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from pinbot.logs import logger
from pinbot.reference import ImageReference
from pinbot.registry import manifest as mf
from pinbot.registry.errors import DigestMismatch, RegistryError, TagNotFound
from pinbot.registry.limits import MANIFEST_LIMIT, BodyLimit
from pinbot.registry.memo import KeyedMemo
from pinbot.registry.session import Registry, RegistrySession
from pinbot.registry.transport import Answer

log = logger(__name__)

#: (registry, repository path, tag or digest): what a memoised question is about.
Question = tuple[str, str, str]


@dataclass(frozen=True)
class FetchedManifest:
    """A manifest's bytes as the registry served them, with the digest they hash to."""

    digest: str
    media_type: str
    body: bytes = field(repr=False)

    def document(self, registry: str) -> dict[str, Any]:
        """The manifest as JSON, or the registry's error saying it is unreadable."""
        try:
            return mf.parse_json(self.body)
        except mf.ManifestError as exc:
            raise RegistryError(registry, f"manifest {self.digest} is unreadable: {exc}") from exc


@dataclass(frozen=True)
class Head:
    """What a tag or digest points at, from a HEAD (or from a GET when HEAD did not say)."""

    digest: str
    media_type: str
    #: Set when the answer came from a GET: the bytes are hashed already.
    manifest: FetchedManifest | None = None


def scope(ref: ImageReference) -> str:
    return f"repository:{ref.path}:pull"


def described(ref: ImageReference, tag_or_digest: str) -> str:
    """How errors name a tag or a manifest."""
    if mf.is_digest(tag_or_digest):
        return f'manifest "{ref.path}@{tag_or_digest}"'
    return f'tag "{ref.path}:{tag_or_digest}"'


def _mismatch(
    registry: Registry, ref: ImageReference, what: str, detail: str, expected: str, actual: str
) -> DigestMismatch:
    return DigestMismatch(
        registry.name,
        f"{what}: {detail}",
        reference=str(ref),
        expected=expected,
        actual=actual,
    )


class Distribution:
    """Manifests, blobs and referrers of one run's registries, each question asked once."""

    def __init__(self, session: RegistrySession) -> None:
        self.session = session
        self._heads: KeyedMemo[Question, Head] = KeyedMemo()
        self._manifests: KeyedMemo[Question, FetchedManifest] = KeyedMemo()
        self._by_tag: KeyedMemo[Question, FetchedManifest] = KeyedMemo()
        self._exists: KeyedMemo[Question, bool] = KeyedMemo()
        self._blobs: KeyedMemo[Question, bytes] = KeyedMemo()

    def cancel_all(self) -> None:
        for memo in (self._heads, self._manifests, self._by_tag, self._exists, self._blobs):
            memo.cancel_all()

    async def head(self, registry: Registry, ref: ImageReference, tag_or_digest: str) -> Head:
        """What a tag (or digest) points at: HEAD, or a hashed GET when HEAD does not say."""
        key = (registry.name, ref.path, tag_or_digest)
        return await self._heads.get(key, lambda: self._head_now(registry, ref, tag_or_digest))

    async def manifest(
        self, registry: Registry, ref: ImageReference, digest: str
    ) -> FetchedManifest:
        """The manifest `digest` names, fetched and hashed once a run."""
        key = (registry.name, ref.path, digest)
        return await self._manifests.get(key, lambda: self.get_manifest(registry, ref, digest))

    async def by_tag(self, registry: Registry, ref: ImageReference, tag: str) -> FetchedManifest:
        """The manifest `tag` points at, fetched and hashed once a run (and kept by digest)."""
        key = (registry.name, ref.path, tag)
        fetched = await self._by_tag.get(key, lambda: self.get_manifest(registry, ref, tag))
        self.remember(registry, ref, fetched)
        return fetched

    def remember(self, registry: Registry, ref: ImageReference, fetched: FetchedManifest) -> None:
        """Keep hashed bytes by their digest, so nobody asks for them again."""
        self._manifests.put((registry.name, ref.path, fetched.digest), fetched)

    async def exists(self, registry: Registry, ref: ImageReference, digest: str) -> bool:
        """Whether the repository holds a manifest with `digest` (HEAD by digest)."""
        key = (registry.name, ref.path, digest)
        return await self._exists.get(key, lambda: self._exists_now(registry, ref, digest))

    async def blob(
        self, registry: Registry, ref: ImageReference, digest: str, limit: BodyLimit
    ) -> bytes:
        """The blob `digest` names, at most `limit`, hashed; fetched once a run."""
        key = (registry.name, ref.path, digest)
        return await self._blobs.get(key, lambda: self._get_blob(registry, ref, digest, limit))

    async def referrers(self, registry: Registry, ref: ImageReference, digest: str) -> Answer:
        """GET the OCI 1.1 referrers index of `digest` (the caller reads the status)."""
        return await self.session.request(
            registry,
            "GET",
            f"/v2/{ref.path}/referrers/{digest}",
            scope=scope(ref),
            kind="referrers",
            what=f'referrers of "{ref.path}@{digest}"',
            headers={"Accept": mf.OCI_INDEX},
            limit=MANIFEST_LIMIT,
        )

    async def get_manifest(
        self, registry: Registry, ref: ImageReference, tag_or_digest: str
    ) -> FetchedManifest:
        """GET a manifest and hash its bytes; a digest that does not match is an error."""
        what = described(ref, tag_or_digest)
        answer = await self._request_manifest(registry, "GET", ref, tag_or_digest, what)
        if answer.status_code == 404:
            raise self.session.not_found(registry, ref, what)
        if answer.status_code != 200:
            raise self.session.unexpected(registry, answer, what)
        body = answer.content
        media_type = self._check_content_type(registry, answer, what, body)
        if mf.is_digest(tag_or_digest):
            claimed = tag_or_digest
        else:
            claimed = answer.headers.get("docker-content-digest", "")
            if claimed and not mf.is_digest(claimed):
                claimed = ""
        expected = claimed or mf.digest_of(body)
        ok, actual = mf.content_matches(body, expected)
        if not ok:
            log.warning("digest mismatch for %s: expected %s, got %s", what, expected, actual)
            detail = f"manifest bytes hash to {actual}, not {expected}"
            raise _mismatch(registry, ref, what, detail, expected, actual)
        return FetchedManifest(expected, media_type, body)

    async def _head_now(self, registry: Registry, ref: ImageReference, tag_or_digest: str) -> Head:
        what = described(ref, tag_or_digest)
        answer = await self._request_manifest(registry, "HEAD", ref, tag_or_digest, what)
        if answer.status_code == 404:
            raise self.session.not_found(registry, ref, what)
        header = answer.headers.get("docker-content-digest", "")
        media_type = mf.media_type_of(answer.headers.get("content-type"))
        if answer.status_code == 200 and mf.is_digest(header) and media_type in mf.MANIFEST_TYPES:
            if mf.is_digest(tag_or_digest) and header != tag_or_digest:
                detail = f"registry says its digest is {header}"
                raise _mismatch(registry, ref, what, detail, tag_or_digest, header)
            return Head(header, media_type)
        if answer.status_code == 200:
            self._check_content_type(registry, answer, what)
        elif answer.status_code not in (400, 405, 406, 501):
            raise self.session.unexpected(registry, answer, what)
        # HEAD refused, or no digest header: fetch the bytes and hash them ourselves.
        fetched = await self.get_manifest(registry, ref, tag_or_digest)
        self.remember(registry, ref, fetched)
        return Head(fetched.digest, fetched.media_type, fetched)

    async def _exists_now(self, registry: Registry, ref: ImageReference, digest: str) -> bool:
        what = described(ref, digest)
        answer = await self._request_manifest(registry, "HEAD", ref, digest, what)
        if answer.status_code == 200:
            return True
        if answer.status_code == 404:
            if not self.session.is_registry(registry):
                raise self.session.not_a_registry(registry, what)
            return False
        raise self.session.unexpected(registry, answer, what)

    async def _get_blob(
        self, registry: Registry, ref: ImageReference, digest: str, limit: BodyLimit
    ) -> bytes:
        what = f'blob {digest} of "{ref.path}"'
        answer = await self.session.request(
            registry,
            "GET",
            f"/v2/{ref.path}/blobs/{digest}",
            scope=scope(ref),
            kind="blob",
            what=what,
            follow_redirects=True,
            limit=limit,
        )
        if answer.status_code == 404:
            raise TagNotFound(registry.name, f"{what} not found", reference=str(ref))
        if answer.status_code != 200:
            raise self.session.unexpected(registry, answer, what)
        ok, actual = mf.content_matches(answer.content, digest)
        if not ok:
            raise _mismatch(registry, ref, what, f"bytes hash to {actual}", digest, actual)
        return answer.content

    async def _request_manifest(
        self,
        registry: Registry,
        method: Literal["HEAD", "GET"],
        ref: ImageReference,
        tag_or_digest: str,
        what: str,
    ) -> Answer:
        """HEAD or GET of a manifest, accepting every manifest type pinbot reads."""
        return await self.session.request(
            registry,
            method,
            f"/v2/{ref.path}/manifests/{tag_or_digest}",
            scope=scope(ref),
            kind="manifest_head" if method == "HEAD" else "manifest_get",
            what=what,
            headers={"Accept": mf.ACCEPT},
            limit=MANIFEST_LIMIT,
        )

    def _check_content_type(
        self, registry: Registry, answer: Answer, what: str, body: bytes | None = None
    ) -> str:
        """The manifest media type of an answer; refuse what is not a manifest pinbot reads."""
        document: dict[str, Any] | None = None
        unreadable: mf.ManifestError | None = None
        if body is not None:
            try:
                document = mf.parse_json(body)
            except mf.ManifestError as exc:
                unreadable = exc
        media_type = mf.media_type_of(answer.headers.get("content-type"), document)
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
            raise self.session.not_a_registry(registry, what)
        if body is None and ("html" in media_type or "text" in media_type):
            raise self.session.not_a_registry(registry, what)
        return media_type
