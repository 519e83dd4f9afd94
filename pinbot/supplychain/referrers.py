"""Finding what is attached to a digest: OCI 1.1 referrers and cosign's legacy tags.

The referrers API (`/v2/<name>/referrers/<digest>`) first; where a registry lacks it, the
referrers tag schema (`sha256-<hex>` tagging an index of referrers). Cosign 2 keeps its
signatures and attestations under `sha256-<hex>.sig` and `sha256-<hex>.att` instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pinbot.registry import manifest as mf
from pinbot.supplychain._fields import objects, string

MAX_REFERRERS = 64


@dataclass(frozen=True)
class Referrer:
    """One artifact that says it refers to a digest, and how it was found."""

    digest: str
    media_type: str
    artifact_type: str
    size: int
    found_by: str


def tag_for(digest: str, suffix: str = "") -> str:
    """The tag cosign and the referrers tag schema use for `digest` (`sha256-<hex>[suffix]`)."""
    algorithm, _, encoded = digest.partition(":")
    return f"{algorithm}-{encoded}{suffix}"


def referrers_in(index: Mapping[str, Any], found_by: str) -> list[Referrer]:
    """The referrers an index lists (at most `MAX_REFERRERS`); bad entries are skipped."""
    out = []
    for entry in objects(index, "manifests", MAX_REFERRERS):
        try:
            descriptor = mf.Descriptor.from_json(entry)
        except mf.ManifestError:
            continue
        artifact_type = string(entry, "artifactType", limit=256) or ""
        out.append(
            Referrer(
                descriptor.digest,
                descriptor.media_type,
                artifact_type,
                descriptor.size,
                found_by,
            )
        )
    return out


def artifact_type_of(manifest: Mapping[str, Any]) -> str:
    """An artifact manifest's type: `artifactType`, else its config's media type."""
    return string(manifest, "artifactType", limit=256) or (
        string(manifest.get("config"), "mediaType", limit=256) or ""
    )


def subject_of(manifest: Mapping[str, Any]) -> str | None:
    """The digest an artifact manifest's `subject` names, if any."""
    subject = manifest.get("subject")
    digest = string(subject, "digest", limit=200)
    return digest if digest and mf.is_digest(digest) else None
