"""Scan, plan and apply one file with verified fake lookups: what a pin run writes."""

from __future__ import annotations

from pinbot.apply import apply_edits
from pinbot.plan import Lookup, Plan, plan
from pinbot.scanners import scan_bytes


def pin_file(path: str, data: bytes, digests: dict[str, str]) -> tuple[bytes, Plan]:
    """The file after pinning, each `name:tag` lookup key resolving to its digest."""
    lookups = {key: Lookup(digest, verified=True) for key, digest in digests.items()}
    result = plan(scan_bytes(path, data).occurrences, lookups)
    return apply_edits(path, data, result.edits).updated, result
