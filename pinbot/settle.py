"""The settle window (`min-age`): since when a tag's digest counts as the tag's, from its build
time and from what pinbot saw on earlier runs. Pure: the state file is read and written in
`pinbot.settle_store`.

A digest's age starts at the later of its build time (the image config's `created`, ignored
before 2000 — reproducible builds write 1970 — or in the future) and, once pinbot has watched
the tag before, the first time it saw that digest under the tag. So a digest that appears
under a watched tag starts now, whatever its build time says (a second push inside the window
starts it again), and a tag seen for the first time counts from its build time, or from now
when that is not plausible. A memory that could not be read (`trusted=False`) makes every
digest it does not hold start now: lost memory means waiting again, never proposing early.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import MappingProxyType

from pinbot.errors import PinbotError
from pinbot.reference import is_valid_digest

#: Build times before this are not believed (reproducible builds write 1970).
EARLIEST_BUILD = datetime(2000, 1, 1, tzinfo=UTC)
#: The most tags the state remembers; the ones seen least recently go first.
MAX_TAGS = 50_000
#: A tag pinbot has not seen for this long is forgotten.
FORGET_AFTER = timedelta(days=400)
#: The longest tag key kept (`lookup_key`: a name and a tag, both bounded by the grammar).
MAX_KEY = 512
VERSION = 1

# A `name:tag` key: printable ASCII with no space (names and tags hold nothing else).
_KEY = re.compile(r"[\x21-\x7e]+:[A-Za-z0-9_][A-Za-z0-9._-]{0,127}")


class SettleStateError(PinbotError, ValueError):
    """A state file that is not one pinbot wrote: its memory cannot be used."""


@dataclass(frozen=True)
class Sighting:
    """A tag's digest as pinbot last saw it: since when it counts as the tag's, and when pinbot
    last looked."""

    digest: str
    since: datetime
    checked: datetime


@dataclass(frozen=True)
class SettleState:
    """What pinbot remembers of the tags it watches, by `lookup_key` (`name:tag`).

    `trusted` is False when a memory existed but could not be read: then nothing is known
    to be a first sighting, and every digest not remembered waits a whole window.
    """

    tags: Mapping[str, Sighting] = field(default_factory=lambda: MappingProxyType({}))
    trusted: bool = True


def _utc(when: datetime) -> datetime:
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def plausible_build_time(created: datetime | None, now: datetime) -> datetime | None:
    """`created` when it can be a build time: not before 2000, not after `now`."""
    if created is None:
        return None
    created = _utc(created)
    return created if EARLIEST_BUILD <= created <= now else None


def needs_build_time(state: SettleState, key: str, digest: str) -> bool:
    """Whether the digest's build time decides its start: the tag was never watched before."""
    return state.trusted and key not in state.tags


def settled_since(
    state: SettleState, key: str, digest: str, created: datetime | None, now: datetime
) -> datetime:
    """When `digest` counts as tag `key`'s from (see the module's docstring)."""
    seen = state.tags.get(key)
    if seen is not None and seen.digest == digest:
        return min(seen.since, now)
    if seen is not None or not state.trusted:
        return now  # new under a watched tag: later than any plausible build time
    build = plausible_build_time(created, now)
    return build if build is not None else now


def ready_at(since: datetime | None, min_age: timedelta, now: datetime) -> datetime:
    """When a digest settled since `since` (now when unknown) has been the tag's `min_age`."""
    return min(since or now, now) + min_age


def observe(
    state: SettleState, seen: Mapping[str, tuple[str, datetime]], now: datetime
) -> SettleState:
    """The state after a run saw each tag `key` at `(digest, since)`; tags not seen for
    `FORGET_AFTER` are forgotten, and at most `MAX_TAGS` kept (the most recently seen)."""
    tags = {
        key: sighting
        for key, sighting in state.tags.items()
        if now - sighting.checked <= FORGET_AFTER
    }
    for key, (digest, since) in seen.items():
        if _KEY.fullmatch(key) and len(key) <= MAX_KEY and is_valid_digest(digest):
            tags[key] = Sighting(digest, since, now)
    if len(tags) > MAX_TAGS:
        recent = sorted(tags.items(), key=lambda item: item[1].checked, reverse=True)
        tags = dict(recent[:MAX_TAGS])
    return SettleState(MappingProxyType(tags), trusted=True)


def _time(value: datetime) -> str:
    return _utc(value).strftime("%Y-%m-%dT%H:%M:%SZ")


def to_json(state: SettleState) -> bytes:
    """The state file's bytes: a version and one entry per tag, sorted."""
    document = {
        "version": VERSION,
        "tags": {
            key: {"digest": s.digest, "since": _time(s.since), "checked": _time(s.checked)}
            for key, s in sorted(state.tags.items())
        },
    }
    return json.dumps(document, indent=1, sort_keys=True).encode("utf-8") + b"\n"


def _read_time(value: object, where: str) -> datetime:
    if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", value):
        raise SettleStateError(f"{where}: not a UTC time written YYYY-MM-DDTHH:MM:SSZ")
    try:
        return datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    except ValueError:
        raise SettleStateError(f"{where}: not a time") from None


def _read_sighting(key: object, entry: object) -> tuple[str, Sighting]:
    if not isinstance(key, str) or len(key) > MAX_KEY or not _KEY.fullmatch(key):
        raise SettleStateError("a tag key is not a name:tag pinbot writes")
    if not isinstance(entry, dict) or set(entry) != {"digest", "since", "checked"}:
        raise SettleStateError(f"{key}: an entry holds exactly digest, since and checked")
    digest = entry["digest"]
    if not isinstance(digest, str) or not is_valid_digest(digest):
        raise SettleStateError(f"{key}: not a digest")
    since = _read_time(entry["since"], f"{key}: since")
    checked = _read_time(entry["checked"], f"{key}: checked")
    return key, Sighting(digest, since, checked)


def from_json(data: bytes) -> SettleState:
    """A state file's bytes read as hostile input: anything but what `to_json` writes is a
    `SettleStateError` (the caller then waits again; it never guesses)."""
    try:
        document = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise SettleStateError("not JSON text") from None
    if not isinstance(document, dict) or set(document) != {"version", "tags"}:
        raise SettleStateError("not a pinbot state file (version and tags)")
    if document["version"] != VERSION:
        raise SettleStateError(f"version {document['version']!r}, not {VERSION}")
    tags = document["tags"]
    if not isinstance(tags, dict) or len(tags) > MAX_TAGS:
        raise SettleStateError(f"tags must be a mapping of at most {MAX_TAGS} entries")
    return SettleState(MappingProxyType(dict(_read_sighting(k, v) for k, v in tags.items())))
