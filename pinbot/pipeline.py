"""The pinning pipeline shared by `pinbot pin` and the bot: look up, plan, apply.

One registry lookup per unique name:tag for the whole run; a digest is verified (manifest
bytes fetched and hashed) only when it is about to be written.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from pinbot.apply import ApplyError, FileChange, apply_edits
from pinbot.config import Config, PinConfig, Rule
from pinbot.errors import Problem
from pinbot.plan import (
    DEFAULT_PIN,
    Child,
    Edit,
    Lookup,
    ManifestKind,
    Plan,
    existence_key,
    ignored_by_rule,
    lookup_key,
    manifest_key,
    normal_platform,
    plan,
    platform_to_follow,
    settings_for,
    waits_until,
    wants_existence_check,
    wants_lookup,
)
from pinbot.reference import DEFAULT_TAG, ImageReference
from pinbot.registry import RegistryClient, TagNotFound
from pinbot.registry import manifest as mf
from pinbot.registry.errors import contained
from pinbot.scanners import Occurrence, Status
from pinbot.settle import SettleState, needs_build_time, observe, settled_since

if TYPE_CHECKING:  # the gate stage builds on this module, not the other way round
    from pinbot.supplychain.stage import HeldDigest, Screened

#: The trust gate as the pipeline calls it: a plan's edits in, those that may be written out.
Screen = Callable[[Sequence[Edit]], "Screened"]


@dataclass
class Outcome:
    """What one pass over a set of files produced."""

    plan: Plan
    changes: list[FileChange] = field(default_factory=list)
    # Files whose edits were refused (the file is left as it was).
    problems: list[Problem] = field(default_factory=list)
    lookups: dict[str, Lookup] = field(default_factory=dict)
    # Edits the trust gate (`verify:`) held back: planned, not applied.
    held: list[HeldDigest] = field(default_factory=list)

    @property
    def errors(self) -> list[str]:
        """The problems as lines of text."""
        return [str(problem) for problem in self.problems]


def tags_to_look_up(
    occurrences: Iterable[Occurrence], pin: PinConfig = DEFAULT_PIN, rules: Sequence[Rule] = ()
) -> dict[str, tuple[ImageReference, set[str | None]]]:
    """Unique name:tag to resolve, each with the digests the files hold for it now (those a
    rule ignores left out)."""
    wanted: dict[str, tuple[ImageReference, set[str | None]]] = {}
    for occurrence in occurrences:
        if not wants_lookup(occurrence, pin) or ignored_by_rule(occurrence, rules) is not None:
            continue
        reference = occurrence.reference
        assert reference is not None
        key = lookup_key(reference)
        if key not in wanted:
            target = reference.without_digest()
            if target.tag is None:
                target = target.with_tag(DEFAULT_TAG)
            wanted[key] = (target, set())
        wanted[key][1].add(reference.digest)
    return wanted


@dataclass
class Settling:
    """`min-age` for one lookup: the memory it reads (`state`) at `now`, the configuration of
    each occurrence (a repository's own, for the bot), and afterwards the memory to keep."""

    state: SettleState
    now: datetime
    config_for: Callable[[Occurrence], Config]
    seen: SettleState | None = None

    def waits(self, occurrence: Occurrence, lookup: Lookup) -> bool:
        config = self.config_for(occurrence)
        settings = settings_for(occurrence, config.pin, config.rules)
        return waits_until(occurrence, lookup, settings, self.now) is not None


async def look_up(
    client: RegistryClient,
    occurrences: Iterable[Occurrence],
    pin: PinConfig = DEFAULT_PIN,
    *,
    verify: bool = True,
    rules: Sequence[Rule] = (),
    settling: Settling | None = None,
) -> dict[str, Lookup]:
    """Resolve every unique tag once; verify the digests that would be written.

    A tag no file pins yet costs one GET (its bytes are hashed); a pinned tag costs a HEAD,
    plus a GET by digest only when it moved (or a file pins one platform's manifest of it).

    When a pinned digest is not the tag's digest nor one of its index's platform manifests,
    what it is is read (`pinned_manifests`): a HEAD, and for one platform's manifest its
    config, so it follows its own platform. Pinned digests that nothing can bump (no tag, or
    the tag is gone) are checked for existence, keyed by `existence_key`. With `verify=False`
    (reports that write nothing) no digest is verified and no config is read.

    With `settling` (a `min-age` in force), each tag's lookup says since when its digest
    counts (`settle_lookups`), `settling.seen` is the memory to keep, and updates that wait
    are not verified yet (they are on the run that proposes them).
    """
    occurrences = list(occurrences)
    wanted = tags_to_look_up(occurrences, pin, rules)
    keys = list(wanted)
    results = await asyncio.gather(
        *(_look_up_tag(client, *wanted[key], verify=verify) for key in keys)
    )
    lookups = dict(zip(keys, results, strict=True))
    waits = _never
    if settling is not None:
        lookups, settling.seen = await settle_lookups(
            client, occurrences, lookups, settling.state, now=settling.now
        )
        waits = settling.waits
    wants_children = bool(pin.platforms) or any(rule.platforms for rule in rules)
    lookups.update(
        await pinned_manifests(
            client, occurrences, lookups, verify=verify, children=wants_children, waits=waits
        )
    )
    lookups.update(await _existence_checks(client, occurrences, lookups))
    return lookups


async def _existence_checks(
    client: RegistryClient, occurrences: Sequence[Occurrence], lookups: Mapping[str, Lookup]
) -> dict[str, Lookup]:
    """For pinned digests nothing can bump, whether each still exists, by `existence_key`;
    only those the registry answered for (a failed check proves nothing)."""

    async def exists(reference: ImageReference) -> Lookup | None:
        assert reference.digest is not None
        try:
            found = await client.exists(reference.without_tag(), reference.digest)
        except Exception:  # RegistryError or not, a failed check proves nothing
            return None
        if found:
            return Lookup(reference.digest)
        return Lookup(error=f"{reference.digest} no longer exists in {reference.name}")

    pinned: dict[str, ImageReference] = {}
    for occurrence in occurrences:
        reference = occurrence.reference
        if reference is not None and wants_existence_check(
            occurrence, lookups.get(lookup_key(reference))
        ):
            pinned.setdefault(existence_key(reference), reference)
    found = await asyncio.gather(*(exists(reference) for reference in pinned.values()))
    return {key: lookup for key, lookup in zip(pinned, found, strict=True) if lookup}


def _kind(media_type: str) -> ManifestKind | None:
    if media_type in mf.INDEX_TYPES:
        return ManifestKind.INDEX
    if media_type in mf.IMAGE_TYPES:
        return ManifestKind.IMAGE
    return None


def _children(body: bytes) -> tuple[Child, ...]:
    """An index's image manifests by platform (first entry wins); a platform that is not a
    plain `os/arch[/variant]` is never matched, so it is left out."""
    children: dict[str, Child] = {}
    for entry in mf.image_children(mf.index_children(mf.parse_json(body))):
        platform = normal_platform(str(entry.platform)) if entry.platform else None
        if platform is not None and platform not in children:
            children[platform] = Child(platform, entry.digest)
    return tuple(children.values())


async def _described(
    client: RegistryClient, ref: ImageReference, digest: str, media_type: str, *, children: bool
) -> Lookup:
    """A lookup of `digest` with its kind, and an index's platform manifests when asked."""
    kind = _kind(media_type)
    if kind is not ManifestKind.INDEX or not children:
        return Lookup(digest, verified=True, kind=kind)
    got = await client.manifest(ref, digest)  # remembered by digest: asked once a run
    return Lookup(digest, verified=True, kind=kind, children=_children(got.body))


async def _look_up_tag(
    client: RegistryClient, target: ImageReference, held: set[str | None], *, verify: bool
) -> Lookup:
    """What a tag points at now; its bytes hashed (and an index's children listed) when a
    file holds another digest, since that one may be one platform's manifest of it."""
    try:
        if verify and held == {None}:
            # Nothing pinned yet: whatever the tag points at will be written, so one GET
            # both resolves and verifies.
            fetched = await client.fetch(target)
            return await _described(
                client, target, fetched.digest, fetched.media_type, children=False
            )
        resolution = await client.resolve(target)
        kind = _kind(resolution.media_type)
        if held <= {resolution.digest, None} and not verify:
            return Lookup(resolution.digest, verified=False, kind=kind)
        if held == {resolution.digest}:
            return Lookup(resolution.digest, verified=False, kind=kind)
        if verify:
            verified = await client.verify(target, resolution.digest)
            return await _described(
                client, target, verified.digest, verified.media_type, children=True
            )
        if kind is ManifestKind.INDEX:  # is a pinned digest one of its platforms' manifests?
            return await _described(
                client, target, resolution.digest, resolution.media_type, children=True
            )
        return Lookup(resolution.digest, verified=False, kind=kind)
    except Exception as exc:  # one reference's failure, whatever it is, is its own
        return Lookup(error=str(contained(target.domain or "docker.io", target, exc)))


def _never(occurrence: Occurrence, lookup: Lookup) -> bool:
    return False


async def pinned_manifests(
    client: RegistryClient,
    occurrences: Sequence[Occurrence],
    lookups: Mapping[str, Lookup],
    *,
    verify: bool,
    children: bool,
    waits: Callable[[Occurrence, Lookup], bool] = _never,
) -> dict[str, Lookup]:
    """What each pinned digest a moved index tag no longer holds is (`manifest_key`), and,
    with `verify`, the verified platform manifests that platform pins would be bumped to.

    A pinned digest costs a HEAD (its media type), or a GET when `children` (for
    `pin.platforms`, an index is compared platform by platform); one platform's manifest
    also its config blob (its own platform) when verifying. A tag now pointing at a single image
    has its platform read for the files that name one. Each is asked once a run. An update
    that `waits` (for `min-age`) is asked only what `pin.platforms` needs to tell whether it
    is one: its config is not read and its new platform manifest not fetched.
    """
    held: dict[str, tuple[ImageReference, bool]] = {}
    single: dict[str, ImageReference] = {}
    for occurrence in occurrences:
        reference = occurrence.reference
        if reference is None or reference.tag is None or reference.digest is None:
            continue
        key = lookup_key(reference)
        lookup = lookups.get(key)
        if lookup is None or lookup.digest is None or lookup.holds(reference.digest):
            continue
        waiting = waits(occurrence, lookup)
        if lookup.kind is ManifestKind.INDEX and (children or not waiting):
            pinned = manifest_key(reference.name, reference.digest)
            _, configured = held.get(pinned, (reference, False))
            held[pinned] = (reference, configured or (verify and not waiting))
        elif verify and not waiting and normal_platform(occurrence.platform) is not None:
            single.setdefault(key, reference.without_digest())
    read = await asyncio.gather(
        *(
            _read_pinned(client, reference, verify=configured, children=children)
            for reference, configured in held.values()
        ),
        *(_platform_of(client, ref, lookups[key]) for key, ref in single.items()),
    )
    found = dict(zip([*held, *single], read, strict=True))
    if verify:
        ready = [o for o in occurrences if not _waiting(o, lookups, waits)]
        found.update(await _platform_targets(client, ready, lookups, found))
    return found


def _waiting(
    occurrence: Occurrence,
    lookups: Mapping[str, Lookup],
    waits: Callable[[Occurrence, Lookup], bool],
) -> bool:
    reference = occurrence.reference
    lookup = lookups.get(lookup_key(reference)) if reference is not None else None
    return lookup is not None and waits(occurrence, lookup)


async def _read_pinned(
    client: RegistryClient, reference: ImageReference, *, verify: bool, children: bool
) -> Lookup:
    """What a pinned digest is: an index (with its platforms' manifests when `children`),
    one platform's image (with its own platform when `verify`), or missing."""
    assert reference.digest is not None
    digest = reference.digest
    pinned = reference.without_tag()
    try:
        if children:  # an index's bytes are read anyway: one GET says what it is too
            media_type = (await client.manifest(pinned, digest)).media_type
        else:  # a HEAD by digest: free against pull quotas, and enough for an index pin
            media_type = (await client.resolve(pinned)).media_type
        kind = _kind(media_type)
        if kind is ManifestKind.IMAGE and verify:
            metadata = await client.fetch_metadata(reference.without_digest(), digest)
            platform = normal_platform(metadata.platform)
            return Lookup(digest, verified=True, kind=kind, platform=platform)
        if kind is ManifestKind.INDEX:
            return await _described(client, pinned, digest, media_type, children=children)
        return Lookup(digest, verified=children, kind=kind)
    except TagNotFound:
        return Lookup(error=f"{digest} no longer exists in {reference.name}", missing=True)
    except Exception as exc:  # one reference's failure, whatever it is, is its own
        return Lookup(error=str(contained(reference.domain or "docker.io", reference, exc)))


async def _platform_of(client: RegistryClient, ref: ImageReference, lookup: Lookup) -> Lookup:
    """The tag's lookup with the platform of the single image it now points at."""
    assert lookup.digest is not None
    try:
        metadata = await client.fetch_metadata(ref, lookup.digest)
    except Exception:  # unknown platform: the bump is checked against nothing, as before
        return lookup
    return replace(lookup, platform=normal_platform(metadata.platform))


async def _platform_targets(
    client: RegistryClient,
    occurrences: Sequence[Occurrence],
    lookups: Mapping[str, Lookup],
    pinned: Mapping[str, Lookup],
) -> dict[str, Lookup]:
    """The platform manifests platform pins follow into their tag's new index, verified."""
    targets: dict[str, tuple[ImageReference, str]] = {}
    for occurrence in occurrences:
        reference = occurrence.reference
        if reference is None or reference.digest is None:
            continue
        held = pinned.get(manifest_key(reference.name, reference.digest))
        lookup = lookups.get(lookup_key(reference))
        if held is None or lookup is None or lookup.kind is not ManifestKind.INDEX:
            continue
        platform = platform_to_follow(occurrence, held)
        child = lookup.child_for(platform) if platform is not None else None
        if child is not None:
            key = manifest_key(reference.name, child.digest)
            targets.setdefault(key, (reference.without_digest(), child.digest))

    async def verified(ref: ImageReference, digest: str) -> Lookup:
        try:
            got = await client.verify(ref, digest)
        except Exception as exc:  # one reference's failure, whatever it is, is its own
            return Lookup(error=str(contained(ref.domain or "docker.io", ref, exc)))
        return Lookup(got.digest, verified=True, kind=_kind(got.media_type))

    results = await asyncio.gather(*(verified(*target) for target in targets.values()))
    return dict(zip(targets, results, strict=True))


def min_age_in_force(configs: Iterable[Config]) -> bool:
    """Whether any of these configurations makes some update wait (`min-age`, in `pin` or a
    rule): only then is the settle state read, written, and build times asked for."""
    zero = timedelta()
    return any(
        config.pin.min_age > zero or any((rule.min_age or zero) > zero for rule in config.rules)
        for config in configs
    )


async def settle_lookups(
    client: RegistryClient,
    occurrences: Iterable[Occurrence],
    lookups: Mapping[str, Lookup],
    state: SettleState,
    *,
    now: datetime,
) -> tuple[dict[str, Lookup], SettleState]:
    """Each tag's lookup with `since`, when its digest counts as the tag's from (see
    `pinbot.settle`), and the state with what this run saw.

    A build time is asked for (the image config's `created`: for an index, its linux/amd64
    or first manifest's; one manifest GET and one blob GET) only for a tag never watched
    before whose digest some file does not hold yet.
    """
    held: dict[str, tuple[ImageReference, set[str | None]]] = {}
    for occurrence in occurrences:
        reference = occurrence.reference
        if reference is None or occurrence.status not in (Status.PINNED, Status.UNPINNED):
            continue
        key = lookup_key(reference)
        lookup = lookups.get(key)
        if lookup is not None and lookup.digest is not None:
            held.setdefault(key, (reference.without_digest(), set()))[1].add(reference.digest)
    need = [
        key
        for key, (_, digests) in held.items()
        if any(not lookups[key].holds(d) for d in digests)
        and needs_build_time(state, key, lookups[key].digest or "")
    ]

    async def build_time(key: str) -> datetime | None:
        digest = lookups[key].digest
        assert digest is not None
        try:
            return (await client.fetch_metadata(held[key][0], digest)).created
        except Exception:  # no build time: the digest waits a whole window from now
            return None

    built = dict(zip(need, await asyncio.gather(*map(build_time, need)), strict=True))
    settled = dict(lookups)
    seen: dict[str, tuple[str, datetime]] = {}
    for key in held:
        digest = lookups[key].digest
        assert digest is not None
        since = settled_since(state, key, digest, built.get(key), now)
        settled[key] = replace(lookups[key], since=since)
        seen[key] = (digest, since)
    return settled, observe(state, seen, now)


async def look_up_with_new_client(
    config: Config, occurrences: Iterable[Occurrence], *, verify: bool = True
) -> dict[str, Lookup]:
    """`look_up` with a client made for this run from `config`."""
    async with RegistryClient(config) as client:
        return await look_up(client, occurrences, config.pin, verify=verify, rules=config.rules)


def scanned_texts(files: Mapping[str, bytes]) -> dict[str, str]:
    """The files that were scanned as text (UTF-8), by path; the others take no part."""
    texts: dict[str, str] = {}
    for path, data in files.items():
        try:
            texts[path] = data.decode("utf-8")
        except UnicodeDecodeError:
            continue
    return texts


def file_changes(
    files: Mapping[str, bytes], edits_plan: Plan
) -> tuple[list[FileChange], list[Problem]]:
    """Apply a plan's edits file by file; a file that fails its check is reported, not changed.

    `files` is the set the occurrences were scanned in; each file's check reads it again, for
    the occurrences one file shows only with the others (`scan_files`).
    """
    by_file: dict[str, list[Edit]] = {}
    for edit in edits_plan.edits:
        by_file.setdefault(edit.file, []).append(edit)
    if not by_file:
        return [], []
    linked = scanned_texts(files)
    changes: list[FileChange] = []
    problems: list[Problem] = []
    for path in sorted(by_file):
        try:
            change = apply_edits(path, files[path], by_file[path], linked=linked)
        except ApplyError as exc:
            problems.append(exc.problem())
            continue
        if change.updated != change.original:
            changes.append(change)
    return changes, problems


def build_changes(
    files: Mapping[str, bytes], edits_plan: Plan
) -> tuple[list[FileChange], list[str]]:
    """`file_changes` with the problems as lines of text."""
    changes, problems = file_changes(files, edits_plan)
    return changes, [str(problem) for problem in problems]


def plan_and_apply(
    files: Mapping[str, bytes],
    occurrences: list[Occurrence],
    lookups: Mapping[str, Lookup],
    config: Config,
    *,
    now: datetime | None = None,
    screen: Screen | None = None,
) -> Outcome:
    """Plan and apply, given lookups already made (the bot shares them across repositories).

    `now` is what `min-age` windows are measured against (the clock when None). `screen` is
    the trust gate (`pinbot.supplychain.stage.TrustGate.screen`, run to its end): the edits it
    holds back are not applied, and are in `Outcome.held`.
    """
    edits_plan = plan(occurrences, lookups, config.pin, rules=config.rules, now=now)
    held: list[HeldDigest] = []
    if screen is not None:
        screened = screen(edits_plan.edits)
        edits_plan.edits = list(screened.passed)
        held = list(screened.held)
    changes, problems = file_changes(files, edits_plan)
    return Outcome(
        plan=edits_plan, changes=changes, problems=problems, lookups=dict(lookups), held=held
    )
