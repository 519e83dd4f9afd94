"""What BuildKit attaches inside an image index: attestation manifests and in-toto statements.

Pure: finds the attestation manifest for an image in an index (`vnd.docker.reference.type:
attestation-manifest`, `vnd.docker.reference.digest`), lists its in-toto layers, and reads an
in-toto statement (subject digests, predicate type, predicate) from hostile bytes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pinbot.registry import manifest as mf
from pinbot.supplychain._fields import (
    SupplyChainError,
    hex_digest,
    load_object,
    objects,
    string,
)

IN_TOTO_LAYER = "application/vnd.in-toto+json"
REFERENCE_TYPE = "vnd.docker.reference.type"
REFERENCE_DIGEST = "vnd.docker.reference.digest"
PREDICATE_TYPE_ANNOTATION = "in-toto.io/predicate-type"
ATTESTATION_MANIFEST = "attestation-manifest"

SLSA_PROVENANCE_V02 = "https://slsa.dev/provenance/v0.2"
SLSA_PROVENANCE_V1 = "https://slsa.dev/provenance/v1"
SPDX_PREFIX = "https://spdx.dev/Document"
CYCLONEDX_PREFIX = "https://cyclonedx.org/bom"

STATEMENT_TYPES = frozenset(
    {
        "https://in-toto.io/Statement/v0.1",
        "https://in-toto.io/Statement/v1",
    }
)
#: At most this many layers of one attestation manifest are read, and subjects of a statement.
MAX_LAYERS = 16
MAX_SUBJECTS = 256


def is_provenance(predicate_type: str) -> bool:
    return predicate_type in (SLSA_PROVENANCE_V02, SLSA_PROVENANCE_V1)


def is_sbom(predicate_type: str) -> bool:
    return predicate_type.startswith((SPDX_PREFIX, CYCLONEDX_PREFIX))


@dataclass(frozen=True)
class Statement:
    """An in-toto statement: what it is about (digests) and what it says (the predicate)."""

    predicate_type: str
    subject_digests: frozenset[str]
    predicate: Mapping[str, Any]

    def is_about(self, digest: str) -> bool:
        return digest in self.subject_digests


def parse_statement(body: bytes) -> Statement:
    """An in-toto statement from a layer's bytes; `SupplyChainError` when it is not one."""
    document = load_object(body, "in-toto statement")
    kind = string(document, "_type")
    if kind not in STATEMENT_TYPES:
        raise SupplyChainError("in-toto statement has an unknown _type")
    predicate_type = string(document, "predicateType")
    if predicate_type is None:
        raise SupplyChainError("in-toto statement has no predicateType")
    predicate = document.get("predicate")
    if not isinstance(predicate, Mapping):
        raise SupplyChainError("in-toto statement has no predicate object")
    subjects = set()
    for subject in objects(document, "subject", MAX_SUBJECTS):
        digests = subject.get("digest")
        sha256 = hex_digest(digests, "sha256", 64)
        if sha256:
            subjects.add(f"sha256:{sha256}")
    return Statement(predicate_type, frozenset(subjects), predicate)


def attestation_for(index: Mapping[str, Any], image_digest: str) -> mf.Descriptor | None:
    """The attestation manifest entry of `index` that refers to `image_digest`, if any."""
    entries = index.get("manifests")
    if not isinstance(entries, list):
        return None
    for entry in entries:
        try:
            descriptor = mf.Descriptor.from_json(entry)
        except mf.ManifestError:
            continue  # one bad entry does not hide the others
        if (
            descriptor.annotations.get(REFERENCE_TYPE) == ATTESTATION_MANIFEST
            and descriptor.annotations.get(REFERENCE_DIGEST) == image_digest
            and descriptor.media_type in mf.IMAGE_TYPES
        ):
            return descriptor
    return None


def statement_layers(attestation_manifest: Mapping[str, Any]) -> list[mf.Descriptor]:
    """The in-toto layers of an attestation manifest (at most `MAX_LAYERS`)."""
    out: list[mf.Descriptor] = []
    for entry in objects(attestation_manifest, "layers", MAX_LAYERS):
        try:
            descriptor = mf.Descriptor.from_json(entry)
        except mf.ManifestError:
            continue
        if descriptor.media_type == IN_TOTO_LAYER:
            out.append(descriptor)
    return out


def wanted_layers(layers: Sequence[mf.Descriptor]) -> list[mf.Descriptor]:
    """Layers worth fetching: provenance and SBOMs, judged by their predicate annotation.

    A layer without the annotation is fetched too (its statement says what it is).
    """
    out = []
    for layer in layers:
        predicate_type = layer.annotations.get(PREDICATE_TYPE_ANNOTATION)
        if predicate_type is None or is_provenance(predicate_type) or is_sbom(predicate_type):
            out.append(layer)
    return out
