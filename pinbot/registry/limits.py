"""How much pinbot reads from a registry, and for how long: every cap and deadline in one place.

A registry is someone else's server. Every body is read as a stream and dropped once it
passes the cap for its kind; every request and every lookup has a total deadline that a
server sending one byte at a time cannot stretch (the HTTP read timeout alone restarts on
every byte). The README lists these figures; keep them in step.
"""

from __future__ import annotations

from dataclasses import dataclass

KiB = 1024
MiB = 1024 * KiB


@dataclass(frozen=True)
class BodyLimit:
    """The most bytes pinbot reads as one kind of successful answer, and what to call it."""

    size: int
    what: str

    def __str__(self) -> str:
        return f"{_size(self.size)} pinbot reads for {self.what}"


#: Manifests and indexes: a few KiB in practice; containerd refuses more than 4 MiB too.
MANIFEST_LIMIT = BodyLimit(4 * MiB, "a manifest or index")
#: Image config blobs: never more than the descriptor's size, and never more than this.
#: (Attestation and signature layers read for supply-chain notes have their own caps.)
CONFIG_BLOB_CAP = 8 * MiB
#: Token server answers: a JWT or two in a small JSON object.
TOKEN_LIMIT = BodyLimit(64 * KiB, "a token answer")
#: Error answers, redirects and the `/v2/` ping: read this much at most, the rest is ignored.
SMALL_BODY_CAP = 64 * KiB

#: One HTTP exchange, from sending to the last byte of the body.
REQUEST_DEADLINE = 30.0
#: One lookup (resolve, fetch, verify, exists, metadata) with its pings, tokens and retries.
#: Time spent queued behind other lookups of the same registry does not count.
LOOKUP_DEADLINE = 90.0


def blob_limit(size: int, *, cap: int = CONFIG_BLOB_CAP) -> BodyLimit:
    """The limit for a blob whose descriptor says `size` bytes: that size, at most `cap`."""
    if size > cap:
        return BodyLimit(cap, "a blob of this kind")
    return BodyLimit(max(0, size), "this blob, the size its descriptor says")


def _size(size: int) -> str:
    """
    >>> _size(4 * MiB), _size(64 * KiB), _size(1500)
    ('4 MiB', '64 KiB', '1500 bytes')
    """
    if size >= MiB and size % MiB == 0:
        return f"{size // MiB} MiB"
    if size >= KiB and size % KiB == 0:
        return f"{size // KiB} KiB"
    return f"{size} bytes"
