"""The pinning pipeline shared by `pinbot pin` and the bot: look up, plan, apply.

One registry lookup per unique name:tag for the whole run; a digest is verified (manifest
bytes fetched and hashed) only when it is about to be written.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from pinbot.apply import ApplyError, FileChange, apply_edits
from pinbot.config import Config, PinConfig
from pinbot.errors import Problem
from pinbot.plan import (
    DEFAULT_PIN,
    Edit,
    Lookup,
    Plan,
    existence_key,
    lookup_key,
    plan,
    wants_existence_check,
    wants_lookup,
)
from pinbot.reference import DEFAULT_TAG, ImageReference
from pinbot.registry import RegistryClient
from pinbot.registry.errors import contained
from pinbot.scanners import Occurrence


@dataclass
class Outcome:
    """What one pass over a set of files produced."""

    plan: Plan
    changes: list[FileChange] = field(default_factory=list)
    # Files whose edits were refused (the file is left as it was).
    problems: list[Problem] = field(default_factory=list)
    lookups: dict[str, Lookup] = field(default_factory=dict)

    @property
    def errors(self) -> list[str]:
        """The problems as lines of text."""
        return [str(problem) for problem in self.problems]


def tags_to_look_up(
    occurrences: Iterable[Occurrence], pin: PinConfig = DEFAULT_PIN
) -> dict[str, tuple[ImageReference, set[str | None]]]:
    """Unique name:tag to resolve, each with the digests the files hold for it now."""
    wanted: dict[str, tuple[ImageReference, set[str | None]]] = {}
    for occurrence in occurrences:
        if not wants_lookup(occurrence, pin):
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
) -> dict[str, Lookup]:
    """Resolve every unique tag once; verify the digests that would be written.

    A tag no file pins yet costs one GET (its bytes are hashed); a pinned tag costs a HEAD,
    plus a GET by digest only when it moved.

    Pinned digests that nothing can bump (no tag, or the tag is gone) are checked for
    existence, keyed by `existence_key`. With `verify=False` (reports that write nothing)
    no manifest is fetched.
    """
    occurrences = list(occurrences)
    wanted = tags_to_look_up(occurrences, pin)

    async def one(target: ImageReference, held: set[str | None]) -> Lookup:
        try:
            if verify and held == {None}:
                # Nothing pinned yet: whatever the tag points at will be written, so one GET
                # both resolves and verifies.
                fetched = await client.fetch(target)
                return Lookup(fetched.digest, verified=True)
            resolution = await client.resolve(target)
            if not verify or held == {resolution.digest}:
                return Lookup(resolution.digest, verified=False)
            verified = await client.verify(target, resolution.digest)
        except Exception as exc:  # one reference's failure, whatever it is, is its own
            return Lookup(error=str(contained(target.domain or "docker.io", target, exc)))
        return Lookup(verified.digest, verified=True)

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

    keys = list(wanted)
    results = await asyncio.gather(*(one(*wanted[key]) for key in keys))
    lookups = dict(zip(keys, results, strict=True))

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


async def look_up_with_new_client(
    config: Config, occurrences: Iterable[Occurrence], *, verify: bool = True
) -> dict[str, Lookup]:
    """`look_up` with a client made for this run from `config`."""
    async with RegistryClient(config) as client:
        return await look_up(client, occurrences, config.pin, verify=verify)


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
) -> Outcome:
    """Plan and apply, given lookups already made (the bot shares them across repositories)."""
    edits_plan = plan(occurrences, lookups, config.pin)
    changes, problems = file_changes(files, edits_plan)
    return Outcome(plan=edits_plan, changes=changes, problems=problems, lookups=dict(lookups))
