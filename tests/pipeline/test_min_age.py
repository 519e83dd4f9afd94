"""`pin.min-age` against a real registry, with `now` given instead of waited for: build times
that are today, years ago, 1970 or in the future; the memory of what was seen, across runs,
lost, or restarted by a second push."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

from pinbot.config import Config, load_config_text
from pinbot.pipeline import Settling, look_up
from pinbot.plan import Plan, plan
from pinbot.registry import RegistryClient
from pinbot.scanners import scan_tree
from pinbot.settle import SettleState
from tests.support.registry import Pushed, RunningRegistry

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
HOUR, DAY = timedelta(hours=1), timedelta(days=1)


def stamp(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def settings(reg: RunningRegistry, extra: str = "pin:\n  min-age: 3d\n") -> Config:
    return load_config_text(f'registries:\n  "{reg.host}":\n    insecure: true\n{extra}', "pinbot.yaml")


def one_run(config: Config, root: Path, memory: SettleState, now: datetime) -> tuple[Plan, SettleState]:
    """What `pin` decides at `now` with `memory`, and the memory it keeps."""
    occurrences = scan_tree(root).occurrences

    settling = Settling(memory, now, lambda occurrence: config)

    async def looked_up() -> dict:  # type: ignore[type-arg]
        async with RegistryClient(config) as client:
            return await look_up(client, occurrences, config.pin, rules=config.rules, settling=settling)

    lookups = asyncio.run(looked_up())
    assert settling.seen is not None
    return plan(occurrences, lookups, config.pin, rules=config.rules, now=now), settling.seen


def pinned_repository(tmp_path: Path, reg: RunningRegistry, repo: str, digest: str) -> Path:
    root = tmp_path / repo.replace("/", "-")
    root.mkdir()
    (root / "Dockerfile").write_text(f"FROM {reg.host}/{repo}:1.0@{digest}\n")
    return root


def rebuild(reg: RunningRegistry, repo: str, seed: str, created: datetime) -> Pushed:
    return reg.push_multiarch(repo, "1.0", seed=seed, created=stamp(created))


def test_a_tag_seen_first_counts_from_a_plausible_build_time(
    tmp_path: Path, registry_http: RunningRegistry
) -> None:
    config = settings(registry_http)
    cases = {
        "today": (NOW - 2 * HOUR, NOW - 2 * HOUR + 3 * DAY),
        "years": (datetime(2021, 5, 1, tzinfo=UTC), None),  # settled long ago: proposed
        "epoch": (datetime(1970, 1, 1, tzinfo=UTC), NOW + 3 * DAY),  # not believed: from now
        "future": (NOW + DAY, NOW + 3 * DAY),
    }
    for name, (created, until) in cases.items():
        repo = f"settle/first-{name}"
        old = rebuild(registry_http, repo, f"{name}-old", datetime(2020, 1, 1, tzinfo=UTC))
        new = rebuild(registry_http, repo, f"{name}-new", created)
        root = pinned_repository(tmp_path, registry_http, repo, old.digest)
        result, seen = one_run(config, root, SettleState(), NOW)
        if until is None:
            assert [e.new_digest for e in result.edits] == [new.digest], name
            assert result.waiting == []
        else:
            assert result.edits == [], name
            assert [(w.digest, w.until) for w in result.waiting] == [(new.digest, until)], name
        (sighting,) = seen.tags.values()
        assert sighting.digest == new.digest and sighting.checked == NOW


def test_the_memory_across_runs_and_a_second_push_restarting_the_wait(
    tmp_path: Path, registry_http: RunningRegistry
) -> None:
    reg, repo, config = registry_http, "settle/memory", settings(registry_http)
    first = rebuild(reg, repo, "m0", datetime(2021, 1, 1, tzinfo=UTC))
    root = pinned_repository(tmp_path, reg, repo, first.digest)

    result, memory = one_run(config, root, SettleState(), NOW)  # watched from now on
    assert (result.edits, result.waiting, result.unchanged) == ([], [], 1)

    # A digest built years ago, pushed now: the tag is watched, so its age starts now.
    second = rebuild(reg, repo, "m1", datetime(2021, 6, 1, tzinfo=UTC))
    result, memory = one_run(config, root, memory, NOW + HOUR)
    assert [(w.digest, w.until) for w in result.waiting] == [(second.digest, NOW + HOUR + 3 * DAY)]
    result, memory = one_run(config, root, memory, NOW + 2 * DAY)  # remembered, still waiting
    assert [w.until for w in result.waiting] == [NOW + HOUR + 3 * DAY]

    # Pushed again inside the window: the wait starts again.
    third = rebuild(reg, repo, "m2", NOW + 2 * DAY)
    result, memory = one_run(config, root, memory, NOW + 2 * DAY + HOUR)
    assert [(w.digest, w.until) for w in result.waiting] == [(third.digest, NOW + 5 * DAY + HOUR)]
    result, memory = one_run(config, root, memory, NOW + 4 * DAY)
    assert result.edits == [] and len(result.waiting) == 1
    result, memory = one_run(config, root, memory, NOW + 5 * DAY + HOUR)
    assert [e.new_digest for e in result.edits] == [third.digest] and result.waiting == []


def test_lost_memory_is_a_first_sighting_and_unreadable_memory_waits_again(
    tmp_path: Path, registry_http: RunningRegistry
) -> None:
    reg, repo, config = registry_http, "settle/lost", settings(registry_http)
    first = rebuild(reg, repo, "l0", datetime(2021, 1, 1, tzinfo=UTC))
    root = pinned_repository(tmp_path, reg, repo, first.digest)
    _, memory = one_run(config, root, SettleState(), NOW)
    second = rebuild(reg, repo, "l1", NOW - 10 * DAY)  # built ten days ago, pushed now
    result, _ = one_run(config, root, memory, NOW + HOUR)
    assert [w.until for w in result.waiting] == [NOW + HOUR + 3 * DAY]

    # No memory at all: as on a first run, its build time decides.
    result, _ = one_run(config, root, SettleState(), NOW + HOUR)
    assert [e.new_digest for e in result.edits] == [second.digest]
    # A memory that existed but could not be read: every new digest waits a whole window.
    result, kept = one_run(config, root, SettleState(trusted=False), NOW + HOUR)
    assert result.edits == [] and [w.until for w in result.waiting] == [NOW + HOUR + 3 * DAY]
    assert kept.trusted  # the next run trusts what this one saw


def test_a_first_pin_is_not_delayed_unless_asked(tmp_path: Path, registry_http: RunningRegistry) -> None:
    reg, repo = registry_http, "settle/first-pin"
    fresh = rebuild(reg, repo, "f0", NOW - HOUR)
    root = tmp_path / "first-pin"
    root.mkdir()
    (root / "Dockerfile").write_text(f"FROM {reg.host}/{repo}:1.0\n")
    result, _ = one_run(settings(reg), root, SettleState(), NOW)
    assert [e.new_digest for e in result.edits] == [fresh.digest]
    asked = settings(reg, "pin:\n  min-age: 3d\n  min-age-first-pin: true\n")
    result, _ = one_run(asked, root, SettleState(), NOW)
    assert result.edits == [] and [w.until for w in result.waiting] == [NOW - HOUR + 3 * DAY]


def test_an_update_that_waits_asks_the_registry_only_what_tells_it_waits(
    tmp_path: Path, registry_http: RunningRegistry
) -> None:
    reg, repo, config = registry_http, "settle/cost", settings(registry_http)
    first = rebuild(reg, repo, "c0", datetime(2021, 1, 1, tzinfo=UTC))
    arm = next(e["digest"] for e in first.manifest["manifests"] if e["platform"]["architecture"] == "arm64")
    root = tmp_path / "cost"
    root.mkdir()
    (root / "Dockerfile").write_text(f"FROM {reg.host}/{repo}:1.0@{arm}\n")
    _, memory = one_run(config, root, SettleState(), NOW)
    second = rebuild(reg, repo, "c1", NOW)
    reg.reset_counts()
    result, memory = one_run(config, root, memory, NOW + HOUR)
    assert [w.digest for w in result.waiting] == [second.digest]
    # The tag's HEAD and its new index (is the pin one of its manifests?); nothing about the
    # old pin's platform, nor the manifest it will take, until it has settled.
    path = f"/v2/{repo}/manifests/"
    asked = [r for r in reg.requests_seen() if r[1] != "/v2/"]  # the ping is not a question
    assert asked == [("HEAD", path + "1.0"), ("GET", path + second.digest)]
    reg.reset_counts()
    result, _ = one_run(config, root, memory, NOW + HOUR + 3 * DAY)
    (edit,) = result.edits
    assert edit.platform == "linux/arm64" and edit.new_digest in {e["digest"] for e in second.manifest["manifests"]}
    assert ("GET", path + edit.new_digest) in reg.requests_seen()
