"""Image governance: which occurrences break the policy, and why. Pure, no I/O.

Rules: every reference pinned by digest, no missing or `latest` tag, only allowed
registries, no digest that the tag no longer points to (drift, when lookups are given), no
single platform's manifest pinned where nothing says which platform is meant (when lookups
are given). What the lookups could not settle is not a pass: `unchecked` names it.
"""

from __future__ import annotations

import enum
import fnmatch
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from pinbot.config import PolicyConfig
from pinbot.errors import Problem, ProblemKind
from pinbot.plan import Lookup, ManifestKind, existence_key, lookup_key, manifest_key
from pinbot.reference import DEFAULT_TAG
from pinbot.scanners import Occurrence, Status


class Rule(enum.StrEnum):
    UNPINNED = "unpinned"
    LATEST = "latest-tag"
    REGISTRY = "registry-not-allowed"
    DRIFT = "digest-drift"
    MISSING = "digest-missing"
    INVALID = "invalid-reference"
    PLATFORM = "platform-unspecified"
    # A pinned digest that fails the `verify:` entry matching its image (`--drift`).
    UNSIGNED = "unsigned"
    SIGNATURE_INVALID = "signature-invalid"
    PROVENANCE_MISMATCH = "provenance-mismatch"


RULE_TEXT: dict[Rule, str] = {
    Rule.UNPINNED: "Image reference is not pinned by digest",
    Rule.LATEST: "Image reference has no tag or uses `latest`",
    Rule.REGISTRY: "Image comes from a registry that is not allowed",
    Rule.DRIFT: "Pinned digest is no longer what the tag points to",
    Rule.MISSING: "Pinned digest no longer exists in the registry",
    Rule.INVALID: "Text in an image field is not a valid image reference",
    Rule.PLATFORM: "Pinned digest is one platform's manifest, and nothing says which platform",
    Rule.UNSIGNED: "Pinned digest carries no signature its verify entry accepts",
    Rule.SIGNATURE_INVALID: "Pinned digest's signature does not verify for its verify entry",
    Rule.PROVENANCE_MISMATCH: "Pinned digest's provenance does not meet its verify entry",
}


@dataclass(frozen=True)
class Violation:
    occurrence: Occurrence
    rule: Rule
    message: str

    def __str__(self) -> str:
        return f"{self.occurrence.location}: {self.rule.value}: {self.message}"


def registry_allowed(domain: str, allowed: Iterable[str]) -> bool:
    """`allowed` holds host[:port] globs (`*.example.com`, `docker.io`)."""
    return any(fnmatch.fnmatchcase(domain, pattern) for pattern in allowed)


def evaluate(
    occurrences: Iterable[Occurrence],
    policy: PolicyConfig,
    lookups: Mapping[str, Lookup] | None = None,
) -> list[Violation]:
    """Every policy violation among `occurrences`, in file order."""
    violations: list[Violation] = []
    for o in occurrences:
        if o.status is Status.INVALID:
            violations.append(Violation(o, Rule.INVALID, o.note or f"{o.text!r} cannot be parsed"))
            continue
        reference = o.reference
        if reference is None or o.status not in (Status.PINNED, Status.UNPINNED):
            continue
        if o.built_here:  # an image this file builds is not pulled: nothing to govern
            continue
        shown = o.reference_text
        if policy.require_pinned and reference.digest is None:
            violations.append(Violation(o, Rule.UNPINNED, f"{shown} is not pinned by digest"))
        if policy.forbid_latest and reference.digest is None and reference.tag in (None, DEFAULT_TAG):
            what = "has no tag (means `latest`)" if reference.tag is None else "uses the `latest` tag"
            violations.append(Violation(o, Rule.LATEST, f"{shown} {what}"))
        if policy.allowed_registries and not registry_allowed(
            reference.domain, policy.allowed_registries
        ):
            violations.append(
                Violation(
                    o,
                    Rule.REGISTRY,
                    f"{shown}: registry {reference.domain} is not in policy.allowed-registries",
                )
            )
        gone = lookups.get(existence_key(reference)) if lookups and reference.digest else None
        if gone is not None and gone.digest is None:
            violations.append(Violation(o, Rule.MISSING, f"{shown}: {gone.error}"))
        if lookups is not None and reference.digest is not None and reference.tag is not None:
            lookup = lookups.get(lookup_key(reference))
            if lookup is not None and lookup.digest is not None and not lookup.holds(reference.digest):
                violations.append(
                    Violation(
                        o,
                        Rule.DRIFT,
                        f"{shown}: tag {reference.tag} now points to {lookup.digest}",
                    )
                )
            unspecified = _platform_unspecified(o, lookup, lookups)
            if unspecified is not None:
                violations.append(Violation(o, Rule.PLATFORM, f"{shown}: {unspecified}"))
    return violations


def _platform_unspecified(
    occurrence: Occurrence, lookup: Lookup | None, lookups: Mapping[str, Lookup]
) -> str | None:
    """Why a pin is one platform's manifest of a multi-platform image with nothing in the
    file saying which platform is meant (`exec format error` on the other architecture)."""
    reference = occurrence.reference
    if occurrence.platform or lookup is None or reference is None or reference.digest is None:
        return None
    platform = lookup.child_platform(reference.digest)
    if platform is not None:
        return (
            f"pins the {platform} manifest of the index tag {reference.tag} points to, and "
            "nothing says which platform is meant (FROM --platform, a node selector, "
            "platform:); pin the index, or say the platform"
        )
    held = lookups.get(manifest_key(reference.name, reference.digest))
    if lookup.kind is ManifestKind.INDEX and held is not None and held.kind is ManifestKind.IMAGE:
        return (
            f"pins one platform's manifest of the multi-platform image tag {reference.tag} "
            "names, and nothing says which platform is meant (FROM --platform, a node "
            "selector, platform:); pin the index, or say the platform"
        )
    return None


def unchecked(occurrences: Iterable[Occurrence], lookups: Mapping[str, Lookup]) -> list[Problem]:
    """Pinned references whose drift the registry did not answer for, in file order.

    A pinned reference is settled when its tag resolved (drift is compared) or, when it has
    no tag or the tag did not resolve, when the registry answered whether the digest exists
    (a missing one is `digest-missing`). Anything else — the registry down, refusing, or
    answering garbage — leaves it unchecked: a `lookup-failed` problem, never a silent pass.
    `lookups` are those `pipeline.look_up` made for these occurrences: every pinned reference
    it was given gets a tag lookup or an existence check.
    """
    problems: list[Problem] = []
    for o in occurrences:
        reference = o.reference
        if reference is None or reference.digest is None or o.status is not Status.PINNED:
            continue
        if o.built_here:
            continue
        tag_lookup = lookups.get(lookup_key(reference)) if reference.tag is not None else None
        if tag_lookup is not None and tag_lookup.digest is not None:
            continue
        if existence_key(reference) in lookups:
            continue
        why = tag_lookup.error if tag_lookup is not None and tag_lookup.error else None
        message = f"{o.reference_text}: the registry did not answer" + (f" ({why})" if why else "")
        problems.append(
            Problem(
                ProblemKind.LOOKUP_FAILED,
                message,
                file=o.file,
                line=o.line,
                column=o.column,
                reference=str(reference),
            )
        )
    return problems
