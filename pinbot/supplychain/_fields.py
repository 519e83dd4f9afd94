"""Typed reads of hostile JSON: each getter returns a value of the wanted shape or nothing.

Attestations and signatures come from whoever pushed the image; every field is checked for
type and length before it is used, and an unexpected shape reads as "absent", never a crash.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from typing import Any

from pinbot.errors import PinbotError

#: Longest string pinbot keeps from an attestation field (URIs, names, versions, ids).
MAX_FIELD_CHARS = 512
_HEX = re.compile(r"^[0-9a-f]+$")


class SupplyChainError(PinbotError):
    """An attestation, SBOM or signature that pinbot cannot read; becomes a note."""


def load_object(body: bytes, what: str) -> dict[str, Any]:
    """`body` as a JSON object, or `SupplyChainError` naming `what`."""
    try:
        document = json.loads(body)
    except (ValueError, RecursionError) as exc:
        raise SupplyChainError(f"{what} is not JSON") from exc
    if not isinstance(document, dict):
        raise SupplyChainError(f"{what} is not a JSON object")
    return document


def mapping(obj: object, *path: str) -> Mapping[str, Any] | None:
    """The object at `path` inside `obj`, if every step is an object."""
    current = obj
    for key in path:
        if not isinstance(current, Mapping):
            return None
        current = current.get(key)
    return current if isinstance(current, Mapping) else None


def string(obj: object, *path: str, limit: int = MAX_FIELD_CHARS) -> str | None:
    """The non-empty string at `path`, at most `limit` characters, else None."""
    if not path:
        value: object = obj
    else:
        parent = mapping(obj, *path[:-1]) if len(path) > 1 else obj
        value = parent.get(path[-1]) if isinstance(parent, Mapping) else None
    if not isinstance(value, str) or not value or len(value) > limit:
        return None
    return value


def objects(obj: object, key: str, limit: int) -> Iterator[Mapping[str, Any]]:
    """The objects of the list at `key`, at most `limit` of them; other entries skipped."""
    values = obj.get(key) if isinstance(obj, Mapping) else None
    if not isinstance(values, list):
        return
    for value in values[:limit]:
        if isinstance(value, Mapping):
            yield value


def hex_digest(obj: object, algorithm: str, length: int) -> str | None:
    """`obj[algorithm]` when it is lower-case hex of `length` characters (a digest set)."""
    value = string(obj, algorithm, limit=length)
    if value is None or len(value) != length or not _HEX.match(value):
        return None
    return value
