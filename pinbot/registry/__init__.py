"""The registry stage: ask OCI distribution registries what tags point at.

`RegistryClient` resolves tags to digests (HEAD with the full Accept list), verifies
manifest bytes before a digest is written, and reads image metadata for notes.
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
from pinbot.registry.transport import RequestStats

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
