"""Reads what an image digest says about itself from its registry, once per digest.

For one digest: the BuildKit attestation manifest in its index (provenance, SBOM), then
signatures and attestations attached to it (referrers API or referrers tag, cosign's `.sig`
and `.att` tags). Every read is bounded (manifests by the client's cap, blobs by the
descriptor's size and a cap per kind) and hashed; what is missing or malformed becomes a
problem in the findings, never an exception.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from pinbot.logs import logger
from pinbot.reference import ImageReference
from pinbot.registry import manifest as mf
from pinbot.registry.client import MAX_MANIFEST_BYTES, FetchedManifest, RegistryClient
from pinbot.registry.errors import RegistryError, TagNotFound
from pinbot.supplychain import attestations as at
from pinbot.supplychain import signatures as sg
from pinbot.supplychain._fields import SupplyChainError, load_object, objects, string
from pinbot.supplychain.findings import ImageFindings
from pinbot.supplychain.provenance import Provenance, parse_provenance
from pinbot.supplychain.referrers import (
    Referrer,
    artifact_type_of,
    referrers_in,
    tag_for,
)
from pinbot.supplychain.sbom import PackageSet, parse_sbom

log = logger(__name__)

#: Caps per blob kind: SBOMs of large images run to tens of MiB, provenance to a few.
MAX_SBOM_BYTES = 32 * 1024 * 1024
MAX_STATEMENT_BYTES = 4 * 1024 * 1024
#: Platform images whose signatures are looked up when the index itself is unsigned.
MAX_CHILDREN = 16
DSSE_ENVELOPE = "application/vnd.dsse.envelope.v1+json"


class SupplyChainReader:
    """Finds attestations and signatures for digests through a `RegistryClient`.

    Results are kept per (registry, repository, digest) for the run: a digest is immutable,
    so asking twice costs nothing.
    """

    def __init__(self, client: RegistryClient) -> None:
        self.client = client
        self._reads = _Reads(client)
        self._findings: dict[tuple[str, str, str, bool, bool], asyncio.Future[ImageFindings]] = {}

    async def read(
        self, ref: ImageReference, digest: str, *, signatures: bool = True, children: bool = True
    ) -> ImageFindings:
        """What `ref`'s repository holds about `digest`; never raises for what it finds.

        Without `signatures` only attestations are read (an old digest needs no signature
        check, and its lookups would cost three requests or more). Without `children` an
        unsigned index's platform images are not asked for their own signatures (three
        requests each; worth it when a `verify` entry requires a signature).
        """
        key = (ref.domain or "docker.io", ref.path, digest, signatures, children)
        future = self._findings.get(key)
        if future is None:
            future = asyncio.ensure_future(self._read(ref, digest, signatures, children))
            self._findings[key] = future
        return await asyncio.shield(future)

    async def _read(
        self, ref: ImageReference, digest: str, signatures: bool, children: bool
    ) -> ImageFindings:
        try:
            return await self._read_now(ref, digest, signatures, children)
        except Exception as exc:  # a bug here must cost the note, not the update
            log.warning("reading supply-chain data of %s failed", digest, exc_info=True)
            return ImageFindings(digest, problems=(f"unexpected {type(exc).__name__}",))

    async def _read_now(
        self, ref: ImageReference, digest: str, signatures: bool, children: bool
    ) -> ImageFindings:
        findings = ImageFindings(digest)
        if not mf.is_digest(digest):
            return replace(findings, problems=(f"{digest!r} is not a digest",))
        problems: list[str] = []
        read = await self._reads.manifest(ref, digest, "manifest", problems)
        if read is None:
            return replace(findings, problems=tuple(problems))
        top, document = read
        statements: list[at.Statement] = []
        is_index = top.media_type in mf.INDEX_TYPES
        if is_index:
            statements += await self._index_statements(ref, document, problems)
        # cosign's `.att` tag is asked only when the index itself holds no attestations.
        want = not any(_is_provenance_or_sbom(s) for s in statements)
        found: list[sg.Signature] = []
        if signatures:
            found, attached = await self._attached(ref, digest, problems, statements=want)
            statements += attached
        elif want:
            statements += await self._attestation_tag(ref, digest, problems)
        per_image: list[tuple[str, tuple[sg.Signature, ...]]] = []
        if signatures and children and is_index and not found:
            per_image = await self._children_signatures(ref, document, problems)
        provenance, packages = _interpret(statements, problems)
        return ImageFindings(
            digest=digest,
            is_index=is_index,
            provenance=provenance,
            packages=packages,
            signatures=tuple(found),
            children=tuple(per_image) if any(sigs for _, sigs in per_image) else (),
            problems=tuple(dict.fromkeys(problems)),
        )

    # --- attestations in the index ------------------------------------------------------

    async def _index_statements(
        self, ref: ImageReference, index: Mapping[str, Any], problems: list[str]
    ) -> list[at.Statement]:
        """Statements of the attestation manifest for the index's default platform image."""
        image = mf.default_child(_descriptors(index))
        if image is None:
            return []
        attestation_entry = at.attestation_for(index, image.digest)
        if attestation_entry is None:
            return []
        if attestation_entry.size > MAX_MANIFEST_BYTES:
            problems.append("attestation manifest is larger than a manifest may be")
            return []
        read = await self._reads.manifest(
            ref, attestation_entry.digest, "attestation manifest", problems
        )
        if read is None:
            return []
        _attestation, document = read
        layers = at.wanted_layers(at.statement_layers(document))
        found = await asyncio.gather(*(self._statement(ref, layer, problems) for layer in layers))
        return [s for s in found if s is not None and s.is_about(image.digest)]

    async def _statement(
        self, ref: ImageReference, layer: mf.Descriptor, problems: list[str]
    ) -> at.Statement | None:
        predicate = layer.annotations.get(at.PREDICATE_TYPE_ANNOTATION, "")
        cap = MAX_STATEMENT_BYTES if at.is_provenance(predicate) else MAX_SBOM_BYTES
        try:
            body = await self.client.blob(ref, layer.digest, size=layer.size, max_bytes=cap)
            return at.parse_statement(body)
        except (RegistryError, SupplyChainError) as exc:
            problems.append(f"attestation {_short(layer.digest)} unreadable: {_reason(exc)}")
            return None

    # --- attached artifacts -------------------------------------------------------------

    async def _attached(
        self, ref: ImageReference, digest: str, problems: list[str], *, statements: bool
    ) -> tuple[list[sg.Signature], list[at.Statement]]:
        """Signatures on `digest` and, when `statements`, cosign attestations about it."""
        attestations: Awaitable[FetchedManifest | None] = (
            self._reads.tag(ref, tag_for(digest, ".att"), problems) if statements else _nothing()
        )
        referrers, legacy_sig, legacy_att = await asyncio.gather(
            self._referrers(ref, digest, problems),
            self._reads.tag(ref, tag_for(digest, ".sig"), problems),
            attestations,
        )
        signatures: list[sg.Signature] = []
        found: list[at.Statement] = []
        if legacy_sig is not None:
            found_by = "tag " + tag_for(digest, ".sig")
            document = _parsed(legacy_sig, f"signature manifest ({found_by})", problems)
            if document is not None:
                signatures += await self._cosign(ref, document, found_by, problems)
        if legacy_att is not None:
            found += await self._dsse_statements(ref, legacy_att, digest, problems)
        for referrer in referrers:
            signatures += await self._referrer_signatures(ref, referrer, problems)
        return signatures, found

    async def _attestation_tag(
        self, ref: ImageReference, digest: str, problems: list[str]
    ) -> list[at.Statement]:
        fetched = await self._reads.tag(ref, tag_for(digest, ".att"), problems)
        if fetched is None:
            return []
        return await self._dsse_statements(ref, fetched, digest, problems)

    async def _referrers(
        self, ref: ImageReference, digest: str, problems: list[str]
    ) -> list[Referrer]:
        try:
            index = await self.client.referrers(ref, digest)
            found_by = "referrers API"
            if index is None:
                found_by = "referrers tag"
                index = await self._reads.tag(ref, tag_for(digest), problems)
            if index is None:
                return []
            return referrers_in(mf.parse_json(index.body), found_by)
        except (RegistryError, mf.ManifestError) as exc:
            problems.append(f"referrers of {_short(digest)} unreadable: {_reason(exc)}")
            return []

    async def _cosign(
        self, ref: ImageReference, document: Mapping[str, Any], found_by: str, problems: list[str]
    ) -> list[sg.Signature]:
        """The signatures of a cosign signature manifest (simple-signing layers)."""
        layers = await self._reads.small_layers(ref, document, {sg.SIMPLE_SIGNING}, problems)
        return sg.cosign_signatures(document, layers, found_by)

    async def _referrer_signatures(
        self, ref: ImageReference, referrer: Referrer, problems: list[str]
    ) -> list[sg.Signature]:
        kind = referrer.artifact_type
        if kind == sg.NOTATION_ARTIFACT_TYPE:
            return [sg.Signature(sg.SignatureKind.NOTATION, referrer.found_by)]
        if kind != sg.COSIGN_ARTIFACT_TYPE and not kind.startswith(sg.SIGSTORE_BUNDLE_PREFIX):
            return []
        read = await self._reads.manifest(
            ref, referrer.digest, f"referrer {_short(referrer.digest)}", problems
        )
        if read is None:
            return []
        _referrer, document = read
        kind = artifact_type_of(document) or kind
        if kind == sg.COSIGN_ARTIFACT_TYPE:
            return await self._cosign(ref, document, referrer.found_by, problems)
        bundle_types = {
            layer_type
            for entry in objects(document, "layers", sg.MAX_SIGNATURE_LAYERS)
            if (layer_type := string(entry, "mediaType", limit=256) or "").startswith(
                sg.SIGSTORE_BUNDLE_PREFIX
            )
        }
        out = []
        layers = await self._reads.small_layers(ref, document, bundle_types, problems)
        for body in layers.values():
            try:
                out += sg.bundle_signatures(body, referrer.found_by)
            except SupplyChainError as exc:
                problems.append(f"Sigstore bundle ({referrer.found_by}) unreadable: {exc}")
        return out

    async def _dsse_statements(
        self, ref: ImageReference, fetched: FetchedManifest, digest: str, problems: list[str]
    ) -> list[at.Statement]:
        """In-toto statements in cosign's `.att` manifest (DSSE envelopes), about `digest`."""
        document = _parsed(fetched, "cosign attestations", problems)
        if document is None:
            return []
        out = []
        layers = await self._reads.envelopes(ref, document, problems)
        for body in layers:
            try:
                envelope = load_object(body, "DSSE envelope")
                payload = sg.decode_base64(string(envelope, "payload", limit=MAX_SBOM_BYTES))
                if string(envelope, "payloadType") != sg.DSSE_IN_TOTO or payload is None:
                    raise SupplyChainError("DSSE envelope holds no in-toto statement")
                statement = at.parse_statement(payload)
            except SupplyChainError as exc:
                problems.append(f"cosign attestation unreadable: {exc}")
                continue
            if statement.is_about(digest):
                out.append(statement)
        return out

    # --- platform images ----------------------------------------------------------------

    async def _children_signatures(
        self, ref: ImageReference, index: Mapping[str, Any], problems: list[str]
    ) -> list[tuple[str, tuple[sg.Signature, ...]]]:
        images = mf.image_children(_descriptors(index))[:MAX_CHILDREN]

        async def one(child: mf.Descriptor) -> tuple[str, tuple[sg.Signature, ...]]:
            signatures, _ = await self._attached(ref, child.digest, problems, statements=False)
            return child.digest, tuple(signatures)

        return list(await asyncio.gather(*(one(child) for child in images)))


class _Reads:
    """The reader's registry reads, each bounded for its kind; what cannot be read becomes a
    line in `problems` (`… unreadable: why`), never an exception."""

    def __init__(self, client: RegistryClient) -> None:
        self.client = client

    async def manifest(
        self, ref: ImageReference, digest: str, what: str, problems: list[str]
    ) -> tuple[FetchedManifest, dict[str, Any]] | None:
        """The manifest `digest`, fetched and parsed; None, with `what` unreadable and why in
        `problems`, when it cannot be."""
        try:
            fetched = await self.client.manifest(ref, digest)
        except RegistryError as exc:
            problems.append(f"{what} unreadable: {_reason(exc)}")
            return None
        document = _parsed(fetched, what, problems)
        return None if document is None else (fetched, document)

    async def tag(
        self, ref: ImageReference, tag: str, problems: list[str]
    ) -> FetchedManifest | None:
        try:
            return await self.client.manifest(ref, tag)
        except TagNotFound:
            return None
        except RegistryError as exc:
            problems.append(f"tag {tag} unreadable: {_reason(exc)}")
            return None

    async def small_layers(
        self,
        ref: ImageReference,
        document: Mapping[str, Any],
        media_types: set[str],
        problems: list[str],
    ) -> dict[str, bytes]:
        """The bytes of `document`'s layers of `media_types`, each at most a signature's cap."""
        wanted = []
        for entry in objects(document, "layers", sg.MAX_SIGNATURE_LAYERS):
            try:
                layer = mf.Descriptor.from_json(entry)
            except mf.ManifestError:
                continue
            if layer.media_type in media_types:
                wanted.append(layer)

        async def one(layer: mf.Descriptor) -> tuple[str, bytes] | None:
            try:
                body = await self.client.blob(
                    ref, layer.digest, size=layer.size, max_bytes=sg.MAX_SIGNATURE_BLOB
                )
            except RegistryError as exc:
                problems.append(f"layer {_short(layer.digest)} unreadable: {_reason(exc)}")
                return None
            return layer.digest, body

        return dict(r for r in await asyncio.gather(*(one(w) for w in wanted)) if r is not None)

    async def envelopes(
        self, ref: ImageReference, document: Mapping[str, Any], problems: list[str]
    ) -> list[bytes]:
        out = []
        for entry in objects(document, "layers", sg.MAX_SIGNATURE_LAYERS):
            try:
                layer = mf.Descriptor.from_json(entry)
                if layer.media_type != DSSE_ENVELOPE:
                    continue
                out.append(
                    await self.client.blob(
                        ref, layer.digest, size=layer.size, max_bytes=MAX_SBOM_BYTES
                    )
                )
            except (mf.ManifestError, RegistryError) as exc:
                problems.append(f"cosign attestation layer unreadable: {_reason(exc)}")
        return out


async def _nothing() -> None:
    return None


def _descriptors(index: Mapping[str, Any]) -> list[mf.Descriptor]:
    """The entries of an index that are well-formed descriptors; bad ones are skipped."""
    out = []
    for entry in objects(index, "manifests", 256):
        try:
            out.append(mf.Descriptor.from_json(entry))
        except mf.ManifestError:
            continue
    return out


def _is_provenance_or_sbom(statement: at.Statement) -> bool:
    return at.is_provenance(statement.predicate_type) or at.is_sbom(statement.predicate_type)


def _interpret(
    statements: Sequence[at.Statement], problems: list[str]
) -> tuple[Provenance | None, PackageSet | None]:
    provenance: Provenance | None = None
    packages: PackageSet | None = None
    for statement in statements:
        if provenance is None and at.is_provenance(statement.predicate_type):
            provenance = parse_provenance(statement.predicate_type, statement.predicate)
        elif packages is None and at.is_sbom(statement.predicate_type):
            try:
                packages = parse_sbom(statement.predicate_type, statement.predicate)
            except SupplyChainError as exc:
                problems.append(f"SBOM unreadable: {exc}")
    return provenance, packages


def _parsed(fetched: FetchedManifest, what: str, problems: list[str]) -> dict[str, Any] | None:
    """The manifest's JSON object; None, with `what` unreadable and why in `problems`, when
    it is not one."""
    try:
        return mf.parse_json(fetched.body)
    except mf.ManifestError as exc:
        problems.append(f"{what} unreadable: {_reason(exc)}")
        return None


def _short(digest: str) -> str:
    return digest.partition(":")[2][:12] or digest[:12]


def _reason(exc: Exception) -> str:
    detail = getattr(exc, "detail", None)
    return str(detail if isinstance(detail, str) else exc)
