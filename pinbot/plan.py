"""Decide what to write: occurrences plus what the registry said become edits and notices.

Pure: no I/O. An edit is made only from a digest whose manifest bytes were fetched and
hashed (`Lookup.verified`); anything else becomes a notice saying why nothing was written.

A pinned digest that is one platform's manifest of the index its tag points at is current; when
the tag moves, it follows its own platform into the new index, never to the index itself or to
another platform. With `pin.platforms` an index whose manifests for those platforms did not
change is not proposed, and with `pin.min-age` a new digest waits until it has settled. The
first `rules:` entry matching an occurrence decides those settings for it.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from pinbot.config import PinConfig, PinStyle, Rule
from pinbot.config._values import format_duration
from pinbot.reference import ImageReference
from pinbot.scanners import Occurrence, Status
from pinbot.settle import ready_at

DEFAULT_PIN = PinConfig()

#: How a platform may be spelled to be matched or shown: `os/arch[/variant]` in lower case.
#: A registry's platform strings that are anything else are never matched.
_PLATFORM = re.compile(r"[a-z0-9][a-z0-9._-]{0,31}/[a-z0-9][a-z0-9._-]{0,31}(/[a-z0-9][a-z0-9._-]{0,31})?")


def lookup_key(reference: ImageReference) -> str:
    """What is resolved for a reference: its name and tag (`latest` when it has none)."""
    return f"{reference.name}:{reference.tag or 'latest'}"


def existence_key(reference: ImageReference) -> str:
    """What is asked to learn whether a pinned digest still exists: `name@digest`."""
    return f"{reference.name}@{reference.digest}"


def manifest_key(name: str, digest: str) -> str:
    """What was read about one manifest of a repository (a pinned digest the tag moved away
    from, or a platform's manifest about to be written): `name@digest manifest`."""
    return f"{name}@{digest} manifest"


def normal_platform(text: str | None) -> str | None:
    """`text` as one platform in containerd's normal form (`linux/aarch64/v8` is
    `linux/arm64`), or None when it is not a plain `os/arch[/variant]` (`$BUILDPLATFORM`)."""
    if text is None:
        return None
    parts = text.strip().lower().split("/")
    if len(parts) not in (2, 3) or not _PLATFORM.fullmatch("/".join(parts)):
        return None
    # Imported here: the registry package is I/O, and only its pure value type is needed.
    from pinbot.registry.manifest import Platform

    normal = str(Platform(*parts))
    return normal if _PLATFORM.fullmatch(normal) else None


class ManifestKind(enum.StrEnum):
    INDEX = "index"  # a multi-platform index or manifest list
    IMAGE = "image"  # one platform's image manifest


@dataclass(frozen=True)
class Child:
    """One platform's image manifest in an index (attestations left out)."""

    platform: str  # normal form, see `normal_platform`
    digest: str


@dataclass(frozen=True)
class Lookup:
    """What the registry said about one name:tag (or one manifest): a digest, or an error.

    `kind` says whether the digest names an index or one platform's image (None: not known);
    an index read in full lists its image manifests in `children`; an image whose config was
    read has its own `platform`. `since` is when the digest counts as the tag's from, for
    `pin.min-age` (None: not known, it waits a whole window from now). `missing`: the
    registry answered that the manifest does not exist.
    """

    digest: str | None = None
    verified: bool = False
    error: str | None = None
    kind: ManifestKind | None = None
    children: tuple[Child, ...] = ()
    platform: str | None = None
    since: datetime | None = None
    missing: bool = False

    def holds(self, digest: str | None) -> bool:
        """Whether `digest` is this digest or one platform's manifest in this index."""
        return digest is not None and (
            digest == self.digest or any(child.digest == digest for child in self.children)
        )

    def child_for(self, platform: str) -> Child | None:
        return next((child for child in self.children if child.platform == platform), None)

    def child_platform(self, digest: str | None) -> str | None:
        """The platform of `digest` when it is one of this index's manifests."""
        return next((c.platform for c in self.children if c.digest == digest), None)


class Action(enum.StrEnum):
    PIN = "pin"  # first digest for a reference
    BUMP = "bump"  # the tag moved: replace the digest


@dataclass(frozen=True)
class Edit:
    """Replace `[start, end)` of a file's text with `replacement`.

    `expected` is the reference text the occurrence holds afterwards, which `apply` checks by
    scanning the new text again.
    """

    occurrence: Occurrence
    action: Action
    start: int
    end: int
    replacement: str
    expected: str
    old_digest: str | None
    new_digest: str
    #: The platform whose manifest is written, when the pin is one platform's manifest.
    platform: str | None = None
    #: With `pin.platforms`: those of them whose manifest changed in the new index.
    changed_platforms: tuple[str, ...] = ()
    #: The `rules:` entry that decided this occurrence's settings (None: the global keys).
    rule: Rule | None = None

    @property
    def file(self) -> str:
        return self.occurrence.file

    @property
    def notes(self) -> tuple[str, ...]:
        """Plain-text lines saying what kind of update this is (escape them to show them)."""
        lines = []
        if self.platform is not None:
            lines.append(f"{self.platform} manifest")
        if self.changed_platforms:
            lines.append("changed for " + ", ".join(self.changed_platforms))
        return tuple(lines)

    @property
    def image(self) -> str:
        """The image name as a person writes it (`nginx`, `ghcr.io/acme/api`)."""
        assert self.occurrence.reference is not None
        return self.occurrence.reference.familiar_name

    @property
    def tag(self) -> str | None:
        assert self.occurrence.reference is not None
        return self.occurrence.reference.tag


class NoticeKind(enum.StrEnum):
    UNTAGGED = "untagged"  # means `latest`; pinned only when configured
    NOT_REWRITABLE = "not-rewritable"
    LOOKUP_FAILED = "lookup-failed"
    NOT_VERIFIED = "not-verified"
    DIGEST_ONLY = "digest-only"  # pinned with no tag: nothing to follow
    DIGEST_GONE = "digest-gone"  # the pinned digest no longer exists in the registry
    PLATFORM_MISSING = "platform-missing"  # the tag's new image has no manifest for its platform
    PLATFORM_UNKNOWN = "platform-unknown"  # a platform pin whose platform cannot be told
    PLATFORMS_UNCHANGED = "platforms-unchanged"  # only platforms outside `pin.platforms` changed
    NOT_READ = "not-read"  # what the pinned digest is was not asked in this run


@dataclass(frozen=True)
class Notice:
    occurrence: Occurrence
    kind: NoticeKind
    message: str

    def __str__(self) -> str:
        return f"{self.occurrence.location}: {self.occurrence.text}: {self.message}"


@dataclass(frozen=True)
class Waiting:
    """An update held back by `min-age`: the occurrence takes its tag's new `digest` (or that
    index's manifest for its platform) once `until` has passed."""

    occurrence: Occurrence
    digest: str  # the tag's digest that is settling
    until: datetime
    min_age: timedelta
    rule: Rule | None = None  # the `rules:` entry that set its min-age (None: `pin.min-age`)

    def __str__(self) -> str:
        when = self.until.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
        return (
            f"{self.occurrence.location}: {self.occurrence.text}: {self.digest} "
            f"waits until {when} (min-age {format_duration(self.min_age)})"
        )


@dataclass
class Plan:
    edits: list[Edit] = field(default_factory=list)
    notices: list[Notice] = field(default_factory=list)
    unchanged: int = 0
    #: Updates `min-age` holds back, with when each may be proposed.
    waiting: list[Waiting] = field(default_factory=list)


@dataclass(frozen=True)
class Settings:
    """The keys that decide one occurrence's update: its rule's, else the global ones."""

    min_age: timedelta = timedelta()
    min_age_first_pin: bool = False
    platforms: tuple[str, ...] = ()
    rule: Rule | None = None


def settings_for(
    occurrence: Occurrence, pin: PinConfig = DEFAULT_PIN, rules: Sequence[Rule] = ()
) -> Settings:
    """The first rule matching the occurrence over `pin`'s keys (`rules` in file order)."""
    reference = occurrence.reference
    rule = None
    if reference is not None:
        rule = next((r for r in rules if r.matches(reference, occurrence.file)), None)
    min_age = pin.min_age if rule is None or rule.min_age is None else rule.min_age
    platforms = pin.platforms if rule is None or rule.platforms is None else rule.platforms
    normal = tuple(p for p in map(normal_platform, platforms) if p is not None)
    return Settings(min_age, pin.min_age_first_pin, normal, rule)


def ignored_by_rule(occurrence: Occurrence, rules: Sequence[Rule]) -> int | None:
    """The index of the rule that tells pinbot to leave this occurrence alone (`ignore:
    true`), when the first rule matching it does."""
    reference = occurrence.reference
    if reference is None:
        return None
    for index, rule in enumerate(rules):
        if rule.matches(reference, occurrence.file):
            return index if rule.ignore else None
    return None


def apply_ignore_rules(occurrences: Iterable[Occurrence], rules: Sequence[Rule]) -> list[Occurrence]:
    """The occurrences with those an `ignore: true` rule matches marked ignored, as
    `scan.ignore-images` marks them: nothing looks them up, pins them or judges them."""
    marked = []
    for occurrence in occurrences:
        index = ignored_by_rule(occurrence, rules) if rules else None
        if index is not None and occurrence.status in (Status.PINNED, Status.UNPINNED):
            occurrence = replace(
                occurrence,
                status=Status.IGNORED,
                rewritable=False,
                note=occurrence.note or f"ignored by rules[{index}]",
            )
        marked.append(occurrence)
    return marked


def can_rewrite(occurrence: Occurrence, pin: PinConfig = DEFAULT_PIN) -> bool:
    """Rewritable as scanned, or by adding a `digest:` key when the user opted in."""
    if occurrence.rewritable:
        return True
    return (
        pin.helm_insert_digest
        and occurrence.adds_digest_key
        and occurrence.digest_slot is not None
    )


def wants_lookup(occurrence: Occurrence, pin: PinConfig = DEFAULT_PIN) -> bool:
    """Whether the registry should be asked about this occurrence's tag."""
    reference = occurrence.reference
    if reference is None or occurrence.status not in (Status.PINNED, Status.UNPINNED):
        return False
    if not can_rewrite(occurrence, pin):
        return False
    if reference.tag is None:
        return reference.digest is None and pin.pin_untagged
    return True


def wants_existence_check(occurrence: Occurrence, tag_lookup: Lookup | None) -> bool:
    """A pinned digest nothing can bump (no tag, or the tag is gone): does it still exist?"""
    reference = occurrence.reference
    if reference is None or reference.digest is None or occurrence.status is not Status.PINNED:
        return False
    return reference.tag is None or tag_lookup is None or tag_lookup.digest is None


def _written_name_and_tag(occurrence: Occurrence) -> tuple[str, str | None]:
    """Split the text as written into name and tag, keeping the user's spelling."""
    text = occurrence.text
    name = text.split("@", 1)[0]
    reference = occurrence.reference
    assert reference is not None
    tag = reference.tag
    if tag is not None and name.endswith(":" + tag):
        return name[: -(len(tag) + 1)], tag
    return name, None


def pinned_text(occurrence: Occurrence, digest: str, style: PinStyle) -> str:
    """The reference as written, with `digest` pinned (`nginx:1.27` -> `nginx:1.27@sha256:…`)."""
    name, tag = _written_name_and_tag(occurrence)
    if style == "digest":
        return f"{name}@{digest}"
    return f"{name}:{tag or 'latest'}@{digest}"


def _edit(occurrence: Occurrence, action: Action, digest: str, style: PinStyle) -> Edit:
    reference = occurrence.reference
    assert reference is not None
    slot = occurrence.digest_slot
    if slot is not None:
        base = occurrence.reference_text.split("@", 1)[0]
        return Edit(
            occurrence=occurrence,
            action=action,
            start=slot.start,
            end=slot.end,
            replacement=f"{slot.prefix}{digest}{slot.suffix}",
            expected=f"{base}@{digest}",
            old_digest=reference.digest,
            new_digest=digest,
        )
    replacement = pinned_text(occurrence, digest, style)
    return Edit(
        occurrence=occurrence,
        action=action,
        start=occurrence.start,
        end=occurrence.end,
        replacement=replacement,
        expected=replacement,
        old_digest=reference.digest,
        new_digest=digest,
    )


def plan(
    occurrences: Iterable[Occurrence],
    lookups: Mapping[str, Lookup],
    pin: PinConfig = DEFAULT_PIN,
    *,
    rules: Sequence[Rule] = (),
    now: datetime | None = None,
) -> Plan:
    """Edits for every occurrence whose tag resolves to a verified digest it does not hold.

    `lookups` holds what the registry said per `lookup_key` (name:tag), per `existence_key`
    (name@digest) for pinned digests nothing can bump, and per `manifest_key` for pinned
    digests the tag moved away from (what they are) and platform manifests to write. A pinned
    digest with no `manifest_key` entry is followed as a whole index, unless the tag's lookup
    lists its index's platforms (then it was not read, and nothing is written for it). `now`
    is the time `min-age` windows are measured against (the clock when None).
    """
    occurrences = list(occurrences)
    result = Plan()
    clock = now if now is not None else datetime.now(UTC)
    for occurrence in occurrences:
        reference = occurrence.reference
        if reference is None or occurrence.status not in (Status.PINNED, Status.UNPINNED):
            continue
        if ignored_by_rule(occurrence, rules) is not None:
            continue
        gone = _gone(occurrence, lookups)
        if gone is not None:
            result.notices.append(gone)
        outcome = _decide(occurrence, lookups, pin)
        if isinstance(outcome, Notice):
            result.notices.append(outcome)
            continue
        if outcome is None:
            result.unchanged += 1
            continue
        settings = settings_for(occurrence, pin, rules)
        changed = _platforms_changed(occurrence, outcome, lookups, settings)
        if isinstance(changed, Notice):
            result.notices.append(changed)
            continue
        until = waits_until(occurrence, outcome, settings, clock)
        if until is not None:
            assert outcome.digest is not None
            waiting = Waiting(occurrence, outcome.digest, until, settings.min_age, settings.rule)
            result.waiting.append(waiting)
            continue
        found = _follow(occurrence, outcome, lookups, pin.style)
        if isinstance(found, Notice):
            result.notices.append(found)
        else:
            result.edits.append(replace(found, changed_platforms=changed, rule=settings.rule))
    return _keep_shared_places_whole(result, occurrences)


def waits_until(
    occurrence: Occurrence, lookup: Lookup, settings: Settings, now: datetime
) -> datetime | None:
    """When the occurrence's update to its tag's digest may be made, while `min-age` holds it
    back (a first pin waits only with `min-age-first-pin`); None when it need not wait."""
    reference = occurrence.reference
    first_pin = reference is None or reference.digest is None
    if settings.min_age <= timedelta() or (first_pin and not settings.min_age_first_pin):
        return None
    until = ready_at(lookup.since, settings.min_age, now)
    return until if until > now else None


def _platforms_changed(
    occurrence: Occurrence, lookup: Lookup, lookups: Mapping[str, Lookup], settings: Settings
) -> tuple[str, ...] | Notice:
    """With `platforms`, those whose manifest differs between the pinned index and the tag's
    new one, or a notice when none does (only other platforms were rebuilt)."""
    reference = occurrence.reference
    assert reference is not None
    if not settings.platforms or reference.digest is None or lookup.kind is not ManifestKind.INDEX:
        return ()
    held = lookups.get(manifest_key(reference.name, reference.digest))
    if held is None or held.kind is not ManifestKind.INDEX:
        return ()
    changed = tuple(
        p for p in settings.platforms if _child_digest(held, p) != _child_digest(lookup, p)
    )
    if changed:
        return changed
    shown = ", ".join(settings.platforms)
    message = f"only platforms other than {shown} changed in {lookup.digest}; not proposed"
    return Notice(occurrence, NoticeKind.PLATFORMS_UNCHANGED, message)


def _gone(occurrence: Occurrence, lookups: Mapping[str, Lookup]) -> Notice | None:
    reference = occurrence.reference
    assert reference is not None
    if reference.digest is None:
        return None
    gone = lookups.get(existence_key(reference))
    if gone is None or gone.digest is not None:
        return None
    message = gone.error or f"{reference.digest} no longer exists in the registry"
    return Notice(occurrence, NoticeKind.DIGEST_GONE, message)


def _decide(
    occurrence: Occurrence, lookups: Mapping[str, Lookup], pin: PinConfig
) -> Notice | Lookup | None:
    """The tag's lookup when the occurrence may need an edit, None when it holds the tag's
    digest (or one platform's manifest of it), or a notice saying why nothing is written."""
    reference = occurrence.reference
    assert reference is not None
    if not can_rewrite(occurrence, pin):
        why = occurrence.note or "this reference cannot be rewritten"
        return Notice(occurrence, NoticeKind.NOT_REWRITABLE, why)
    if reference.tag is None and reference.digest is not None:
        return Notice(occurrence, NoticeKind.DIGEST_ONLY, "pinned by digest with no tag to follow")
    if reference.tag is None and not pin.pin_untagged:
        message = "no tag (means `latest`); set pin.pin-untagged to pin it"
        return Notice(occurrence, NoticeKind.UNTAGGED, message)
    lookup = lookups.get(lookup_key(reference))
    if lookup is None or lookup.digest is None:
        message = lookup.error if lookup is not None and lookup.error else "not resolved"
        return Notice(occurrence, NoticeKind.LOOKUP_FAILED, message)
    if lookup.holds(reference.digest):
        return None
    if not lookup.verified:
        return Notice(
            occurrence,
            NoticeKind.NOT_VERIFIED,
            f"{lookup.digest} was not verified against the manifest bytes; not written",
        )
    return lookup


def _follow(
    occurrence: Occurrence, lookup: Lookup, lookups: Mapping[str, Lookup], style: PinStyle
) -> Edit | Notice:
    """The edit that takes the occurrence to what its tag points at now, by the kind of its
    pin: a first pin and a whole index take the tag's digest, one platform's manifest takes
    the same platform's manifest in the new index."""
    reference = occurrence.reference
    assert reference is not None and lookup.digest is not None
    if reference.digest is None:
        return _edit(occurrence, Action.PIN, lookup.digest, style)
    held = lookups.get(manifest_key(reference.name, reference.digest))
    if held is not None and held.error is not None and not held.missing:
        message = f"what the pinned {reference.digest} is could not be read: {held.error}"
        return Notice(occurrence, NoticeKind.LOOKUP_FAILED, message)
    if held is None and lookup.kind is ManifestKind.INDEX and lookup.children:
        # Not asked while it waited for min-age, which ended since: never guess it is an index.
        message = f"what the pinned {reference.digest} is was not read in this run; next run"
        return Notice(occurrence, NoticeKind.NOT_READ, message)
    hint = normal_platform(occurrence.platform)
    platform_pin = held is not None and (
        held.kind is ManifestKind.IMAGE or (held.missing and hint is not None)
    )
    if lookup.kind is ManifestKind.INDEX and held is not None and platform_pin:
        return _follow_platform(occurrence, lookup, held, lookups, style)
    if lookup.kind is ManifestKind.IMAGE and hint and lookup.platform and lookup.platform != hint:
        message = (
            f"the tag now points at a single-platform image for {lookup.platform}, not "
            f"{hint}; left alone"
        )
        return Notice(occurrence, NoticeKind.PLATFORM_MISSING, message)
    return _edit(occurrence, Action.BUMP, lookup.digest, style)


def _child_digest(index: Lookup, platform: str) -> str | None:
    child = index.child_for(platform)
    return child.digest if child is not None else None


def platform_to_follow(occurrence: Occurrence, held: Lookup) -> str | None:
    """The platform a pinned platform manifest follows: its own (from its config), else the
    one the file names; None when neither is known or they disagree."""
    own = held.platform if not held.missing else None
    hint = normal_platform(occurrence.platform)
    if own is not None and hint is not None and own != hint:
        return None
    return own or hint


def _follow_platform(
    occurrence: Occurrence,
    lookup: Lookup,
    held: Lookup,
    lookups: Mapping[str, Lookup],
    style: PinStyle,
) -> Edit | Notice:
    """One platform's manifest follows the same platform into the index the tag points at."""
    reference = occurrence.reference
    assert reference is not None and reference.digest is not None
    own = held.platform if not held.missing else None
    hint = normal_platform(occurrence.platform)
    platform = platform_to_follow(occurrence, held)
    if own is not None and hint is not None and own != hint:
        message = (
            f"the pinned {reference.digest} is the {own} manifest, but the file says {hint}; "
            "left alone"
        )
        return Notice(occurrence, NoticeKind.PLATFORM_UNKNOWN, message)
    if platform is None:
        message = (
            f"the pinned {reference.digest} is one platform's manifest, and neither its config "
            "nor the file says which platform; left alone"
        )
        return Notice(occurrence, NoticeKind.PLATFORM_UNKNOWN, message)
    child = lookup.child_for(platform)
    if child is None:
        offered = ", ".join(c.platform for c in lookup.children) or "none"
        message = (
            f"the index the tag now points at ({lookup.digest}) has no {platform} manifest "
            f"(it has: {offered}); left alone"
        )
        return Notice(occurrence, NoticeKind.PLATFORM_MISSING, message)
    fetched = lookups.get(manifest_key(reference.name, child.digest))
    if fetched is None or not fetched.verified or fetched.digest != child.digest:
        message = (
            f"{child.digest} ({platform} manifest) was not verified against the manifest "
            "bytes; not written"
        )
        return Notice(occurrence, NoticeKind.NOT_VERIFIED, message)
    return replace(_edit(occurrence, Action.BUMP, child.digest, style), platform=platform)


def _keep_shared_places_whole(result: Plan, occurrences: list[Occurrence]) -> Plan:
    """Drop edits that would write where a reference left alone also reads.

    One ARG default can feed several FROM lines; when one of them is ignored (or cannot be
    rewritten), writing the digest would change it too, so none of them is written.
    """
    edited = {id(edit.occurrence) for edit in result.edits}
    untouched = {
        (o.digest_slot.start, o.digest_slot.end): o
        for o in occurrences
        if o.digest_slot is not None and id(o) not in edited
    }
    if not untouched:
        return result
    kept: list[Edit] = []
    for edit in result.edits:
        other = untouched.get((edit.start, edit.end))
        if edit.occurrence.digest_slot is None or other is None:
            kept.append(edit)
            continue
        result.notices.append(
            Notice(
                edit.occurrence,
                NoticeKind.NOT_REWRITABLE,
                f"its digest is written where line {other.line} reads too, "
                f"which is left alone ({other.status.value}); not written",
            )
        )
    result.edits = kept
    return result
