"""Benchmark: one scripted week of upstream pushes, and how often pinbot proposes a change.

Not a test (pytest does not collect it). Run from the repository root:

    python3 tests/bench/bench_quiet_week.py [--every HOURS] [--json]

It starts a real registry on loopback and replays a week (2026-11-30 to 2026-12-07, virtual
time) of pushes to four multi-platform images:

- `library/debian:12`: rebuilt every day at 02:20 (every platform);
- `library/python:3.12`: rebuilt every day at 04:40, and once more on day 3 at 15:10;
- `acme/api:2`: a new release on day 2 landing in three pushes, one platform at a time
  (09:10 linux/amd64 alone, 10:20 with linux/arm64, 11:40 with linux/arm/v7);
- `tools/proxy:1`: on day 4 at 08:30 only its linux/s390x manifest is rebuilt.

Every image's config `created` is its push time. A repository pins each tag's index, and
pins one platform's manifest of three of them (`FROM --platform=linux/arm64`, and Pods with a
`kubernetes.io/arch` node selector). pinbot runs every `--every` hours (default 1) over three
copies of it, with `now` the week's virtual time, writing what it would propose (as if each
change were merged before the next run):

- `index only`: pinbot as it was before platform-exact pins (every pin follows the tag's
  digest: the index), emulated by withholding what the registry says about platforms;
- `defaults`: pinbot now, with the default configuration;
- `min-age 3d + platforms`: `pin.min-age: 3d` and `pin.platforms: [linux/amd64, linux/arm64]`,
  with the settle memory kept between runs.

It prints, per configuration: runs that changed something (with the bot: a pull request write,
opened or updated), references changed (digest edits), of which platform pins, platform pins
kept while their tag moved (current: their platform's manifest was in the new index), platform
pins turned into index pins, updates still waiting at the end, and registry requests.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from pinbot.config import Config, load_config_text  # noqa: E402
from pinbot.files import write_if_unchanged  # noqa: E402
from pinbot.pipeline import Settling, file_changes, look_up, min_age_in_force  # noqa: E402
from pinbot.plan import Lookup, plan  # noqa: E402
from pinbot.registry import RegistryClient  # noqa: E402
from pinbot.scanners import scan_tree  # noqa: E402
from pinbot.settle import SettleState  # noqa: E402
from tests.support.registry import Pushed, RunningRegistry, start_registry  # noqa: E402

START = datetime(2026, 11, 30, tzinfo=UTC)
AMD64, ARM64, ARMV7, S390X = ("linux", "amd64", None), ("linux", "arm64", "v8"), ("linux", "arm", "v7"), ("linux", "s390x", None)
Platform = tuple[str, str, str | None]


@dataclass
class Push:
    """At `when`, `repo:tag` becomes an index of `platforms`, those in `rebuilt` built anew."""

    when: datetime
    repo: str
    tag: str
    platforms: tuple[Platform, ...]
    rebuilt: tuple[Platform, ...]
    label: str


def _week() -> list[Push]:
    both = (AMD64, ARM64)
    pushes = []
    for day in range(7):
        at = START + timedelta(days=day)
        pushes.append(Push(at + timedelta(hours=2, minutes=20), "library/debian", "12", both, both, "daily rebuild"))
        pushes.append(Push(at + timedelta(hours=4, minutes=40), "library/python", "3.12", both, both, "daily rebuild"))
    day3 = START + timedelta(days=3, hours=15, minutes=10)
    pushes.append(Push(day3, "library/python", "3.12", both, both, "security rebuild"))
    day2 = START + timedelta(days=2)
    pushes += [
        Push(day2 + timedelta(hours=9, minutes=10), "acme/api", "2", (AMD64,), (AMD64,), "release, push 1/3"),
        Push(day2 + timedelta(hours=10, minutes=20), "acme/api", "2", (AMD64, ARM64), (ARM64,), "release, push 2/3"),
        Push(day2 + timedelta(hours=11, minutes=40), "acme/api", "2", (AMD64, ARM64, ARMV7), (ARMV7,), "release, push 3/3"),
    ]
    day4 = START + timedelta(days=4, hours=8, minutes=30)
    pushes.append(Push(day4, "tools/proxy", "1", (AMD64, ARM64, S390X), (S390X,), "s390x-only rebuild"))
    return sorted(pushes, key=lambda push: push.when)


INITIAL = {
    ("library/debian", "12"): (AMD64, ARM64),
    ("library/python", "3.12"): (AMD64, ARM64),
    ("acme/api", "2"): (AMD64, ARM64),
    ("tools/proxy", "1"): (AMD64, ARM64, S390X),
}


class Upstream:
    """The registry and, per tag, the manifest each platform has now."""

    def __init__(self, registry: RunningRegistry) -> None:
        self.registry = registry
        self.children: dict[tuple[str, str], dict[Platform, Pushed]] = {}
        self.index: dict[tuple[str, str], Pushed] = {}
        self.manifests: set[str] = set()  # every platform manifest ever pushed
        self.count = 0

    def push(self, repo: str, tag: str, platforms: tuple[Platform, ...], rebuilt: tuple[Platform, ...], when: datetime) -> None:
        current = self.children.setdefault((repo, tag), {})
        created = when.strftime("%Y-%m-%dT%H:%M:%SZ")
        for platform in rebuilt:
            self.count += 1
            current[platform] = self.registry.push_image(
                repo, None, platform=platform, oci=True, seed=f"{repo}-{self.count}", created=created
            )
            self.manifests.add(current[platform].digest)
        children = [(current[p], p) for p in platforms]
        self.index[(repo, tag)] = self.registry.push_index(repo, tag, children)

    def child(self, repo: str, tag: str, platform: Platform) -> str:
        return self.children[(repo, tag)][platform].digest


def write_repository(root: Path, host: str, upstream: Upstream) -> set[tuple[str, int]]:
    """The sample repository; returns the (file, line) of its platform pins (those pinning
    one platform's manifest)."""
    index = {key: pushed.digest for key, pushed in upstream.index.items()}
    deb, py = f"{host}/library/debian:12", f"{host}/library/python:3.12"
    api, proxy = f"{host}/acme/api:2", f"{host}/tools/proxy:1"
    (root / "deploy").mkdir(parents=True)
    (root / "Dockerfile").write_text(
        f"FROM {deb}@{index[('library/debian', '12')]} AS base\n"
        f"FROM --platform=linux/arm64 {deb}@{upstream.child('library/debian', '12', ARM64)} AS arm\n"
        f"FROM {py}@{index[('library/python', '3.12')]}\n"
    )
    pod = (
        "apiVersion: v1\nkind: Pod\nmetadata: {{name: {name}}}\nspec:\n"
        "  nodeSelector:\n    kubernetes.io/arch: {arch}\n"
        "  containers:\n    - name: c\n      image: {image}\n"
    )
    deployment = (
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: {name}}}\nspec:\n  template:\n"
        "    spec:\n      containers:\n        - name: c\n          image: {image}\n"
    )
    (root / "deploy" / "api.yaml").write_text(
        deployment.format(name="api", image=f"{api}@{index[('acme/api', '2')]}")
        + "---\n"
        + pod.format(name="api-arm", arch="arm64", image=f"{api}@{upstream.child('acme/api', '2', ARM64)}")
    )
    (root / "deploy" / "proxy.yaml").write_text(
        deployment.format(name="proxy", image=f"{proxy}@{index[('tools/proxy', '1')]}")
        + "---\n"
        + pod.format(name="proxy-amd", arch="amd64", image=f"{proxy}@{upstream.child('tools/proxy', '1', AMD64)}")
    )
    manifests = {p.digest for children in upstream.children.values() for p in children.values()}
    pins = {
        (o.file, o.line)
        for o in scan_tree(root).occurrences
        if o.reference is not None and o.reference.digest in manifests
    }
    assert len(pins) == 3, pins
    return pins


def index_only(lookups: dict[str, Lookup]) -> dict[str, Lookup]:
    """What pinbot saw before platform-exact pins: each tag's digest, nothing about platforms."""
    return {
        key: replace(lookup, children=(), kind=None, platform=None)
        for key, lookup in lookups.items()
        if not key.endswith(" manifest")
    }


@dataclass
class Tally:
    name: str
    config: Config
    root: Path
    platform_pins: set[tuple[str, int]]
    manifests: set[str]  # every platform manifest pushed: a pin holding one is a platform pin
    filter_lookups: Callable[[dict[str, Lookup]], dict[str, Lookup]] = lambda lookups: lookups
    memory: SettleState = field(default_factory=SettleState)
    runs_with_changes: int = 0
    edits: int = 0
    platform_edits: int = 0
    platform_kept: int = 0
    platform_to_index: int = 0
    waiting_at_end: int = 0
    requests: int = 0
    previous: dict[str, str | None] = field(default_factory=dict)
    log: list[str] = field(default_factory=list)

    def row(self) -> dict[str, Any]:
        return {
            "configuration": self.name,
            "runs that changed something (PR writes)": self.runs_with_changes,
            "references changed": self.edits,
            "of which platform pins": self.platform_edits,
            "platform pins kept as their tag moved": self.platform_kept,
            "platform pins turned into index pins": self.platform_to_index,
            "updates waiting at the end": self.waiting_at_end,
            "registry requests": self.requests,
        }


async def one_run(tally: Tally, now: datetime, last: bool) -> None:
    scanned = scan_tree(tally.root)
    occurrences = scanned.occurrences
    config = tally.config
    settling = None
    if min_age_in_force([config]):
        settling = Settling(tally.memory, now, lambda occurrence: config)
    async with RegistryClient(config) as client:
        lookups = await look_up(client, occurrences, config.pin, rules=config.rules, settling=settling)
        tally.requests += client.stats.count()
    if settling is not None and settling.seen is not None:
        tally.memory = settling.seen
    lookups = tally.filter_lookups(lookups)
    result = plan(occurrences, lookups, config.pin, rules=config.rules, now=now)
    changes, problems = file_changes(scanned.contents, result)
    assert not problems, problems
    edited = {(edit.file, edit.occurrence.line) for change in changes for edit in change.edits}
    for change in changes:
        write_if_unchanged(change.path, tally.root / change.path, change.original, change.updated)
    tally.runs_with_changes += bool(changes)
    for change in changes:
        for edit in change.edits:
            tally.edits += 1
            if edit.old_digest in tally.manifests:
                tally.platform_edits += 1
                if edit.new_digest not in tally.manifests:
                    tally.platform_to_index += 1
            tally.log.append(f"{now:%a %H:%M} {edit.file}:{edit.occurrence.line} {edit.image} → {edit.new_digest[:19]} {' '.join(edit.notes)}")
    for occurrence in occurrences:
        where = (occurrence.file, occurrence.line)
        reference = occurrence.reference
        if reference is None or reference.digest not in tally.manifests or where in edited:
            continue
        lookup = lookups.get(f"{reference.name}:{reference.tag}")
        moved = lookup is not None and tally.previous.get(f"{reference.name}:{reference.tag}") not in (None, lookup.digest)
        # The tag moved, and the pinned manifest is still its platform's in the new index.
        if moved and lookup is not None and lookup.digest != reference.digest and lookup.holds(reference.digest):
            tally.platform_kept += 1
    for occurrence in occurrences:
        reference = occurrence.reference
        if reference is not None and reference.tag is not None:
            key = f"{reference.name}:{reference.tag}"
            tally.previous[key] = lookups[key].digest if key in lookups else None
    if last:
        tally.waiting_at_end = len(result.waiting)


def replay(every: int) -> list[Tally]:
    with tempfile.TemporaryDirectory(prefix="pinbot-week-") as work:
        base = Path(work)
        registry = start_registry(base / "registry")
        try:
            return _replay(registry, base, every)
        finally:
            registry.close()


def _replay(registry: RunningRegistry, base: Path, every: int) -> list[Tally]:
    upstream = Upstream(registry)
    for (repo, tag), platforms in INITIAL.items():
        upstream.push(repo, tag, platforms, platforms, START - timedelta(days=10))
    host = registry.host
    settings = f'registries:\n  "{host}":\n    insecure: true\n'
    quiet = settings + "pin:\n  min-age: 3d\n  platforms: [linux/amd64, linux/arm64]\n"
    tallies = []
    for name, text, filtered in (
        ("index only (as before)", settings, index_only),
        ("defaults", settings, None),
        ("min-age 3d + platforms", quiet, None),
    ):
        root = base / name.split()[0]
        pins = write_repository(root, host, upstream)
        tally = Tally(name, load_config_text(text, "pinbot.yaml"), root, pins, upstream.manifests)
        if filtered is not None:
            tally.filter_lookups = filtered
        tallies.append(tally)
    pushes = _week()
    hours = 7 * 24
    for hour in range(0, hours + 1, every):
        now = START + timedelta(hours=hour)
        while pushes and pushes[0].when <= now:
            push = pushes.pop(0)
            upstream.push(push.repo, push.tag, push.platforms, push.rebuilt, push.when)
        for tally in tallies:
            asyncio.run(one_run(tally, now, last=hour + every > hours))
    return tallies


def table(tallies: list[Tally]) -> str:
    rows = [tally.row() for tally in tallies]
    keys = list(rows[0])[1:]
    width = max(map(len, keys))
    header = " " * width + " | " + " | ".join(f"{row['configuration']:>24}" for row in rows)
    lines = [header, "-" * len(header)]
    for key in keys:
        lines.append(f"{key:<{width}} | " + " | ".join(f"{row[key]:>24}" for row in rows))
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--every", type=int, default=1, help="hours between runs (default 1)")
    parser.add_argument("--json", action="store_true", help="print the rows as JSON")
    parser.add_argument("--log", action="store_true", help="also print every change made")
    args = parser.parse_args()
    tallies = replay(args.every)
    pushes = _week()
    print(f"{len(pushes)} upstream pushes in the week; pinbot every {args.every} h ({7 * 24 // args.every + 1} runs)")
    if args.json:
        print(json.dumps([tally.row() for tally in tallies], indent=2))
    else:
        print(table(tallies))
    if args.log:
        for tally in tallies:
            print(f"\n{tally.name}:")
            print("\n".join(f"  {line}" for line in tally.log))


if __name__ == "__main__":
    main()
