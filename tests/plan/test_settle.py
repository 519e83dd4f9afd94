"""The settle window, decided with `now` given: since when a digest counts as its tag's, what
waits and until when, and the state file read as hostile input."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from types import MappingProxyType

import pytest

from pinbot.config import PinConfig, Rule
from pinbot.plan import Action, Lookup, ManifestKind, plan
from pinbot.scanners import scan_bytes
from pinbot.settle import (
    MAX_TAGS,
    SettleState,
    SettleStateError,
    Sighting,
    from_json,
    observe,
    plausible_build_time,
    settled_since,
    to_json,
)

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)
KEY = "registry.example/demo/app:1.0"
OLD, NEW = "sha256:" + "1" * 64, "sha256:" + "2" * 64


def state(*sightings: tuple[str, str, datetime], trusted: bool = True) -> SettleState:
    tags = {key: Sighting(digest, since, NOW - DAY) for key, digest, since in sightings}
    return SettleState(MappingProxyType(tags), trusted)


@pytest.mark.parametrize(
    ("created", "expected"),
    [
        (NOW - timedelta(hours=2), NOW - timedelta(hours=2)),  # built today
        (datetime(2021, 3, 1, tzinfo=UTC), datetime(2021, 3, 1, tzinfo=UTC)),  # years ago
        (datetime(1970, 1, 1, tzinfo=UTC), None),  # reproducible builds
        (datetime(1999, 12, 31, 23, 59, tzinfo=UTC), None),
        (NOW + timedelta(minutes=5), None),  # in the future
        (datetime(2026, 12, 6, 11, 0), datetime(2026, 12, 6, 11, 0, tzinfo=UTC)),  # no zone: UTC
        (None, None),
    ],
)
def test_a_build_time_is_believed_only_between_2000_and_now(
    created: datetime | None, expected: datetime | None
) -> None:
    assert plausible_build_time(created, NOW) == expected


@pytest.mark.parametrize(
    ("memory", "created", "expected"),
    [
        # Never watched: the build time, when plausible, else now.
        (state(), NOW - 5 * DAY, NOW - 5 * DAY),
        (state(), datetime(1970, 1, 1, tzinfo=UTC), NOW),
        (state(), NOW + DAY, NOW),
        (state(), None, NOW),
        # Watched, and the digest is new under the tag: now, whatever the build time says.
        (state((KEY, OLD, NOW - 30 * DAY)), NOW - 5 * DAY, NOW),
        # Watched with this digest: since it was first seen (or its build time then).
        (state((KEY, NEW, NOW - 2 * DAY)), NOW - 5 * DAY, NOW - 2 * DAY),
        # A memory that could not be read: wait again.
        (state(trusted=False), NOW - 5 * DAY, NOW),
        # Another tag's memory says nothing about this one.
        (state(("other:1", NEW, NOW - 9 * DAY)), NOW - 5 * DAY, NOW - 5 * DAY),
    ],
)
def test_since_when_a_digest_counts_as_the_tags(
    memory: SettleState, created: datetime | None, expected: datetime
) -> None:
    assert settled_since(memory, KEY, NEW, created, NOW) == expected


def test_what_a_run_saw_is_remembered_and_old_tags_forgotten() -> None:
    before = SettleState(
        MappingProxyType(
            {
                "kept:1": Sighting(OLD, NOW - 50 * DAY, NOW - 50 * DAY),
                "stale:1": Sighting(OLD, NOW - 500 * DAY, NOW - 401 * DAY),
            }
        ),
        trusted=False,
    )
    after = observe(before, {KEY: (NEW, NOW - DAY), "bad key:1": (NEW, NOW)}, NOW)
    assert after.trusted
    assert dict(after.tags) == {
        "kept:1": Sighting(OLD, NOW - 50 * DAY, NOW - 50 * DAY),
        KEY: Sighting(NEW, NOW - DAY, NOW),
    }


def test_the_memory_is_bounded_keeping_the_most_recently_seen() -> None:
    many = {f"r/i{n}:1": Sighting(OLD, NOW, NOW - timedelta(seconds=n)) for n in range(MAX_TAGS + 5)}
    after = observe(SettleState(MappingProxyType(many)), {}, NOW)
    assert len(after.tags) == MAX_TAGS and "r/i0:1" in after.tags and f"r/i{MAX_TAGS + 4}:1" not in after.tags


def test_the_state_file_reads_back_what_was_written() -> None:
    written = observe(SettleState(), {KEY: (NEW, NOW - DAY), "[::1]:5000/a/b:v1.2": (OLD, NOW)}, NOW)
    again = from_json(to_json(written))
    assert {k: (s.digest, s.since, s.checked) for k, s in again.tags.items()} == {
        KEY: (NEW, NOW - DAY, NOW),
        "[::1]:5000/a/b:v1.2": (OLD, NOW, NOW),
    }


GOOD = {"digest": NEW, "since": "2026-12-01T00:00:00Z", "checked": "2026-12-06T00:00:00Z"}


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\xff\xfe",
        b"[]",
        b'{"version": 1}',
        b'{"version": 2, "tags": {}}',
        json.dumps({"version": 1, "tags": [], "extra": 1}).encode(),
        json.dumps({"version": 1, "tags": {KEY: {**GOOD, "more": 1}}}).encode(),
        json.dumps({"version": 1, "tags": {KEY: {**GOOD, "digest": "sha256:short"}}}).encode(),
        json.dumps({"version": 1, "tags": {KEY: {**GOOD, "since": "yesterday"}}}).encode(),
        json.dumps({"version": 1, "tags": {KEY: {**GOOD, "since": "2026-13-01T00:00:00Z"}}}).encode(),
        json.dumps({"version": 1, "tags": {KEY: {**GOOD, "since": 1733443200}}}).encode(),
        json.dumps({"version": 1, "tags": {"no tag here": GOOD}}).encode(),
        json.dumps({"version": 1, "tags": {"a\nb:1": GOOD}}).encode(),
        json.dumps({"version": 1, "tags": {"x" * 600 + ":1": GOOD}}).encode(),
        b'{"version": 1, "tags": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
    ],
)
def test_a_state_file_pinbot_did_not_write_is_refused(data: bytes) -> None:
    with pytest.raises(SettleStateError):
        from_json(data)


# --- what waits ---------------------------------------------------------------------------

NAME = "registry.example/demo/app"


def occurrences(text: str) -> list:  # type: ignore[type-arg]
    return scan_bytes("deploy/Dockerfile", text.encode()).occurrences


def waits(text: str, since: datetime | None, pin: PinConfig, rules: tuple[Rule, ...] = ()):  # type: ignore[no-untyped-def]
    lookups = {KEY: Lookup(NEW, verified=True, kind=ManifestKind.IMAGE, since=since)}
    return plan(occurrences(text), lookups, pin, rules=rules, now=NOW)


THREE_DAYS = PinConfig(min_age=3 * DAY)


@pytest.mark.parametrize(
    ("since", "until"),
    [
        (NOW, NOW + 3 * DAY),
        (NOW - 2 * DAY, NOW + DAY),
        (None, NOW + 3 * DAY),  # not known: a whole window from now
        (NOW + 5 * DAY, NOW + 3 * DAY),  # never later than a window from now
    ],
)
def test_a_bump_waits_until_its_digest_has_settled(since: datetime | None, until: datetime) -> None:
    result = waits(f"FROM {NAME}:1.0@{OLD}\n", since, THREE_DAYS)
    assert result.edits == []
    (waiting,) = result.waiting
    assert (waiting.until, waiting.digest, waiting.occurrence.line) == (until, NEW, 1)
    assert str(waiting).endswith(f"{NEW} waits until {until:%Y-%m-%d %H:%M} UTC (min-age 3d)")


def test_a_settled_bump_is_made() -> None:
    (edit,) = waits(f"FROM {NAME}:1.0@{OLD}\n", NOW - 3 * DAY, THREE_DAYS).edits
    assert edit.new_digest == NEW and waits(f"FROM {NAME}:1.0@{OLD}\n", NOW, PinConfig()).edits


def test_a_first_pin_waits_only_when_asked() -> None:
    assert [e.action for e in waits(f"FROM {NAME}:1.0\n", NOW, THREE_DAYS).edits] == [Action.PIN]
    asked = PinConfig(min_age=3 * DAY, min_age_first_pin=True)
    assert [w.until for w in waits(f"FROM {NAME}:1.0\n", NOW, asked).waiting] == [NOW + 3 * DAY]


def test_the_first_matching_rule_sets_min_age_for_its_occurrences() -> None:
    ours = Rule(images=("registry.example/*",), paths=("deploy/*",), min_age=timedelta())
    (edit,) = waits(f"FROM {NAME}:1.0@{OLD}\n", NOW, THREE_DAYS, (ours,)).edits
    assert edit.rule is ours
    slower = Rule(images=("*",), min_age=7 * DAY)
    (waiting,) = waits(f"FROM {NAME}:1.0@{OLD}\n", NOW - 4 * DAY, THREE_DAYS, (slower,)).waiting
    assert waiting.until == NOW + 3 * DAY and waiting.rule is slower
