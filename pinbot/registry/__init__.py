"""The registry stage: ask OCI distribution registries what tags point at.

`RegistryClient` resolves tags to digests (HEAD with the full Accept list), verifies
manifest bytes before a digest is written, reads image metadata for notes, and reads
manifests and blobs by digest for supply-chain notes. It sits on three layers:

- `transport`: one HTTP exchange, body capped and deadline bounded (`limits`), retried
  (`retry`) within the lookup's time budget (`budget`), TLS explained, quotas counted;
- `session`: authenticated API requests (`auth`, `challenge`, `credentials`), redirects;
- `distribution`: manifests, blobs and referrers, each question asked once (`memo`).
"""

from pinbot.registry.client import FetchedManifest, RegistryClient, Resolution, resolve_many
from pinbot.registry.credentials import Credential, CredentialFinder, CredentialLookup
from pinbot.registry.errors import (
    DigestMismatch,
    NotARegistry,
    PlatformNotFound,
    RateLimited,
    RegistryError,
    RegistryTLSError,
    RegistryUnavailable,
    ResponseTooLarge,
    TagNotFound,
    Unauthorized,
    UnexpectedError,
)
from pinbot.registry.manifest import ImageMetadata, Platform
from pinbot.registry.quota import PullQuota, QuotaReading, parse_quota
from pinbot.registry.stats import RequestStats

__all__ = [
    "Credential",
    "CredentialFinder",
    "CredentialLookup",
    "DigestMismatch",
    "FetchedManifest",
    "ImageMetadata",
    "NotARegistry",
    "Platform",
    "PlatformNotFound",
    "PullQuota",
    "QuotaReading",
    "RateLimited",
    "RegistryClient",
    "RegistryError",
    "RegistryTLSError",
    "RegistryUnavailable",
    "RequestStats",
    "Resolution",
    "ResponseTooLarge",
    "TagNotFound",
    "Unauthorized",
    "UnexpectedError",
    "parse_quota",
    "resolve_many",
]
