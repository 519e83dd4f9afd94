"""The pinning pipeline shared by `pinbot pin` and the bot: look up, plan, apply.

One registry lookup per unique name:tag for the whole run; a digest is verified (manifest
bytes fetched and hashed) only when it is about to be written.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
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
    wants_existence_check,
    wants_lookup,
)
from pinbot.reference import DEFAULT_TAG, ImageReference
from pinbot.registry import RegistryClient, TagNotFound
from pinbot.registry import manifest as mf
from pinbot.registry.errors import contained
from pinbot.scanners import Occurrence

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


async def look_up(
    client: RegistryClient,
    occurrences: Iterable[Occurrence],
    pin: PinConfig = DEFAULT_PIN,
    *,
    verify: bool = True,
    rules: Sequence[Rule] = (),
) -> dict[str, Lookup]:
    """Resolve every unique tag once; verify the digests that would be written.

    A tag no file pins yet costs one GET (its bytes are hashed); a pinned tag costs a HEAD,
    plus a GET by digest only when it moved (or a file pins one platform's manifest of it).

    When a pinned digest is not the tag's digest nor one of its index's platform manifests,
    what it is is read (`pinned_manifests`): a HEAD, and for one platform's manifest its
    config, so it follows its own platform. Pinned digests that nothing can bump (no tag, or
    the tag is gone) are checked for existence, keyed by `existence_key`. With `verify=False`
    (reports that write nothing) no digest is verified and no config is read.
    """
    occurrences = list(occurrences)
    wanted = tags_to_look_up(occurrences, pin, rules)
    keys = list(wanted)
    results = await asyncio.gather(
        *(_look_up_tag(client, *wanted[key], verify=verify) for key in keys)
    )
    lookups = dict(zip(keys, results, strict=True))
    wants_children = bool(pin.platforms) or any(rule.platforms for rule in rules)
    lookups.update(
        await pinned_manifests(client, occurrences, lookups, verify=verify, children=wants_children)
    )

    async def exists(reference: ImageReference) -> Lookup | None:
        """A lookup only when the registry answered: a failed check proves nothing."""
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
    lookups.update((key, lookup) for key, lookup in zip(pinned, found, strict=True) if lookup)
    return lookups


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


async def pinned_manifests(
    client: RegistryClient,
    occurrences: Sequence[Occurrence],
    lookups: Mapping[str, Lookup],
    *,
    verify: bool,
    children: bool,
) -> dict[str, Lookup]:
    """What each pinned digest a moved index tag no longer holds is (`manifest_key`), and,
    with `verify`, the verified platform manifests that platform pins would be bumped to.

    A pinned digest costs a HEAD (its media type); one platform's manifest also its config
    blob (its own platform) when verifying; an index its bytes when `children` (for
    `pin.platforms`, comparing platform by platform). A tag now pointing at a single image
    has its platform read for the files that name one. Each is asked once a run.
    """
    held: dict[str, tuple[ImageReference, str]] = {}
    single: dict[str, ImageReference] = {}
    for occurrence in occurrences:
        reference = occurrence.reference
        if reference is None or reference.tag is None or reference.digest is None:
            continue
        key = lookup_key(reference)
        lookup = lookups.get(key)
        if lookup is None or lookup.digest is None or lookup.holds(reference.digest):
            continue
        if lookup.kind is ManifestKind.INDEX:
            held.setdefault(manifest_key(reference.name, reference.digest), (reference, key))
        elif verify and normal_platform(occurrence.platform) is not None:
            single.setdefault(key, reference.without_digest())
    read = await asyncio.gather(
        *(
            _read_pinned(client, reference, verify=verify, children=children)
            for reference, _ in held.values()
        ),
        *(_platform_of(client, ref, lookups[key]) for key, ref in single.items()),
    )
    found = dict(zip([*held, *single], read, strict=True))
    if verify:
        found.update(await _platform_targets(client, occurrences, lookups, found))
    return found


async def _read_pinned(
    client: RegistryClient, reference: ImageReference, *, verify: bool, children: bool
) -> Lookup:
    """What a pinned digest is: an index (with its platforms' manifests when `children`),
    one platform's image (with its own platform when `verify`), or missing."""
    assert reference.digest is not None
    digest = reference.digest
    pinned = reference.without_tag()
    try:
        head = await client.resolve(pinned)  # a HEAD by digest: free against pull quotas
        kind = _kind(head.media_type)
        if kind is ManifestKind.IMAGE and verify:
            metadata = await client.fetch_metadata(reference.without_digest(), digest)
            platform = normal_platform(metadata.platform)
            return Lookup(digest, verified=True, kind=kind, platform=platform)
        if kind is ManifestKind.INDEX:
            return await _described(client, pinned, digest, head.media_type, children=children)
        return Lookup(digest, verified=head.verified, kind=kind)
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
