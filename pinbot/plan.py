"""Decide what to write: occurrences plus what the registry said become edits and notices.

Pure: no I/O. An edit is made only from a digest whose manifest bytes were fetched and
hashed (`Lookup.verified`); anything else becomes a notice saying why nothing was written.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from pinbot.config import PinConfig, PinStyle
from pinbot.reference import ImageReference
from pinbot.scanners import Occurrence, Status

DEFAULT_PIN = PinConfig()


def lookup_key(reference: ImageReference) -> str:
    """What is resolved for a reference: its name and tag (`latest` when it has none)."""
    return f"{reference.name}:{reference.tag or 'latest'}"


def existence_key(reference: ImageReference) -> str:
    """What is asked to learn whether a pinned digest still exists: `name@digest`."""
    return f"{reference.name}@{reference.digest}"


@dataclass(frozen=True)
class Lookup:
    """What the registry said about one name:tag: a digest, or an error message."""

    digest: str | None = None
    verified: bool = False
    error: str | None = None


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

    @property
    def file(self) -> str:
        return self.occurrence.file

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


@dataclass(frozen=True)
class Notice:
    occurrence: Occurrence
    kind: NoticeKind
    message: str

    def __str__(self) -> str:
        return f"{self.occurrence.location}: {self.occurrence.text}: {self.message}"


@dataclass
class Plan:
    edits: list[Edit] = field(default_factory=list)
    notices: list[Notice] = field(default_factory=list)
    unchanged: int = 0


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
) -> Plan:
    """Edits for every occurrence whose tag resolves to a verified digest it does not hold.

    `lookups` holds what the registry said per `lookup_key` (name:tag) and, for pinned
    digests nothing can bump, per `existence_key` (name@digest).
    """
    occurrences = list(occurrences)
    result = Plan()
    for occurrence in occurrences:
        reference = occurrence.reference
        if reference is None or occurrence.status not in (Status.PINNED, Status.UNPINNED):
            continue
        if reference.digest is not None:
            gone = lookups.get(existence_key(reference))
            if gone is not None and gone.digest is None:
                result.notices.append(
                    Notice(
                        occurrence,
                        NoticeKind.DIGEST_GONE,
                        gone.error or f"{reference.digest} no longer exists in the registry",
                    )
                )
        if not can_rewrite(occurrence, pin):
            why = occurrence.note or "this reference cannot be rewritten"
            result.notices.append(Notice(occurrence, NoticeKind.NOT_REWRITABLE, why))
            continue
        if reference.tag is None and reference.digest is not None:
            result.notices.append(
                Notice(occurrence, NoticeKind.DIGEST_ONLY, "pinned by digest with no tag to follow")
            )
            continue
        if reference.tag is None and not pin.pin_untagged:
            result.notices.append(
                Notice(
                    occurrence,
                    NoticeKind.UNTAGGED,
                    "no tag (means `latest`); set pin.pin-untagged to pin it",
                )
            )
            continue
        lookup = lookups.get(lookup_key(reference))
        if lookup is None or lookup.digest is None:
            message = lookup.error if lookup is not None and lookup.error else "not resolved"
            result.notices.append(Notice(occurrence, NoticeKind.LOOKUP_FAILED, message))
            continue
        if lookup.digest == reference.digest:
            result.unchanged += 1
            continue
        if not lookup.verified:
            result.notices.append(
                Notice(
                    occurrence,
                    NoticeKind.NOT_VERIFIED,
                    f"{lookup.digest} was not verified against the manifest bytes; not written",
                )
            )
            continue
        action = Action.PIN if reference.digest is None else Action.BUMP
        result.edits.append(_edit(occurrence, action, lookup.digest, pin.style))
    return _keep_shared_places_whole(result, occurrences)


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
