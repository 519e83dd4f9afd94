"""The registry stage: ask OCI distribution registries what tags point at.

`RegistryClient` resolves tags to digests (HEAD with the full Accept list), verifies
manifest bytes before a digest is written, and reads image metadata for notes.
"""

from pinbot.registry.client import RegistryClient, RequestStats, Resolution, resolve_many
from pinbot.registry.credentials import Credential, CredentialFinder, CredentialLookup
from pinbot.registry.errors import (
    DigestMismatch,
    NotARegistry,
    PlatformNotFound,
    RateLimited,
    RegistryError,
    RegistryTLSError,
    RegistryUnavailable,
    TagNotFound,
    Unauthorized,
)
from pinbot.registry.manifest import ImageMetadata, Platform

__all__ = [
    "Credential",
    "CredentialFinder",
    "CredentialLookup",
    "DigestMismatch",
    "ImageMetadata",
    "NotARegistry",
    "Platform",
    "PlatformNotFound",
    "RateLimited",
    "RegistryClient",
    "RegistryError",
    "RegistryTLSError",
    "RegistryUnavailable",
    "RequestStats",
    "Resolution",
    "TagNotFound",
    "Unauthorized",
    "resolve_many",
]
