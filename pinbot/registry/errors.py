"""What can go wrong when pinbot talks to a registry.

Every error names the registry and the reference it is about and never carries a secret.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from pinbot.errors import PinbotError

if TYPE_CHECKING:
    from pinbot.registry.quota import QuotaReading


class RegistryError(PinbotError):
    """A registry could not answer a question about a reference.

    The message reads ``registry HOST: what happened``.
    """

    def __init__(self, registry: str, detail: str, *, reference: str | None = None) -> None:
        self.registry = registry
        self.detail = detail
        self.reference = reference
        super().__init__(f"registry {registry}: {detail}")


class TagNotFound(RegistryError):
    """The registry has no manifest under that tag (or digest)."""


class PlatformNotFound(RegistryError):
    """The image has no manifest for the requested platform."""


class Unauthorized(RegistryError):
    """The registry refused access; says which credential sources were tried."""

    def __init__(
        self,
        registry: str,
        detail: str,
        *,
        reference: str | None = None,
        sources_tried: Sequence[str] = (),
    ) -> None:
        self.sources_tried = tuple(sources_tried)
        if self.sources_tried:
            detail = f"{detail} (credential sources tried: {', '.join(self.sources_tried)})"
        else:
            detail = f"{detail} (no credential sources configured)"
        super().__init__(registry, detail, reference=reference)


class RateLimited(RegistryError):
    """The registry kept answering 429 beyond the retry budget, or its pull quota is used up.

    `quota` is what the registry's `RateLimit-*` headers said, when it sent them.
    """

    def __init__(
        self,
        registry: str,
        detail: str,
        *,
        reference: str | None = None,
        retry_after: float | None = None,
        quota: QuotaReading | None = None,
    ) -> None:
        self.retry_after = retry_after
        self.quota = quota
        super().__init__(registry, detail, reference=reference)


class RegistryTLSError(RegistryError):
    """The TLS handshake failed: unknown CA, wrong name, or not TLS at all."""


class NotARegistry(RegistryError):
    """The server answered, but not like an OCI distribution registry."""


class DigestMismatch(RegistryError):
    """The bytes served do not hash to the digest that names them."""

    def __init__(
        self,
        registry: str,
        detail: str,
        *,
        reference: str | None = None,
        expected: str,
        actual: str,
    ) -> None:
        self.expected = expected
        self.actual = actual
        super().__init__(registry, detail, reference=reference)


class RegistryUnavailable(RegistryError):
    """Server errors, timeouts or dropped connections outlasted the retry budget, or a
    lookup ran out of its deadline."""


class ResponseTooLarge(RegistryError):
    """An answer was larger than pinbot reads for its kind (see `pinbot.registry.limits`)."""


class UnexpectedError(RegistryError):
    """A lookup failed in a way no check foresaw (a bug, or an answer nothing expected).

    It costs the one reference it happened to, like any other registry error, so one bad
    reference never stops a run; the message names the exception so it can be reported.
    """


def contained(registry: str, reference: object, exc: Exception) -> RegistryError:
    """`exc` as the error of looking up `reference`: registry errors as they are, anything
    else as an `UnexpectedError`.

    >>> str(contained("ghcr.io", "ghcr.io/a/b:1", ValueError("no such port")))
    'registry ghcr.io: unexpected ValueError while looking up ghcr.io/a/b:1: no such port'
    """
    if isinstance(exc, RegistryError):
        return exc
    detail = f"unexpected {type(exc).__name__} while looking up {reference}"
    text = str(exc)
    return UnexpectedError(
        registry, f"{detail}: {text}" if text else detail, reference=str(reference)
    )
