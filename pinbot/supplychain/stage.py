"""The trust gate as a stage: edits in, the edits whose new digest passes out, the rest held.

`TrustGate.screen` takes a plan's edits (first pins and bumps alike) and lets through only
those whose new digest meets the first `verify:` entry matching its image; `check_pinned` asks
the same of digests already pinned in files. Each digest is read once (`SupplyChainReader`
caches by digest); an image no entry matches costs nothing and needs nothing. What cannot be
read or checked is held back: the gate fails closed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from pinbot.config import Config
from pinbot.errors import Problem, ProblemKind
from pinbot.logs import logger
from pinbot.pipeline import look_up
from pinbot.plan import Edit, Lookup, existence_key
from pinbot.policy import Rule as PolicyRule
from pinbot.policy import Violation
from pinbot.reference import ImageReference
from pinbot.registry import RegistryClient
from pinbot.scanners import Occurrence, Status
from pinbot.supplychain._fields import SupplyChainError
from pinbot.supplychain.findings import ImageFindings
from pinbot.supplychain.gate import (
    Requirement,
    Rule,
    TrustPolicy,
    Verdict,
    VerifyEntry,
    evaluate,
    needs_children,
    policy_for,
)
from pinbot.supplychain.reader import SupplyChainReader
from pinbot.supplychain.signatures import SignatureCheck, SignatureStatus, load_key

log = logger(__name__)

#: Unreadable supply-chain data named in a held digest's reason.
SHOWN_PROBLEMS = 3
#: One verdict: the image's canonical name, the digest, the index of the entry that applies.
_Key = tuple[str, str, int]


def trust_policies(entries: Sequence[VerifyEntry]) -> tuple[TrustPolicy, ...]:
    """The `verify:` entries as policies, each key file read and parsed now.

    `SupplyChainError` names the entry whose key is missing, too big or not a usable public
    key: a gate that cannot check anything is a configuration error, not a silent pass.
    """
    policies = []
    for number, entry in enumerate(entries):
        try:
            policy = TrustPolicy.from_entry(entry)
            if policy.key is not None:
                load_key(policy.key)
        except SupplyChainError as exc:
            raise SupplyChainError(f"verify[{number}].key: {exc}") from exc
        policies.append(policy)
    return tuple(policies)


@dataclass(frozen=True)
class HeldDigest:
    """A digest the gate did not let through, where it is or would have been written."""

    occurrence: Occurrence
    digest: str
    rule: Rule
    reason: str
    edit: Edit | None = None  # the edit that would have written it; None for a pin in a file

    @property
    def reference(self) -> str:
        """The reference as written (`ghcr.io/acme/api:2.3`, or with its pinned digest)."""
        return self.occurrence.reference_text

    @property
    def message(self) -> str:
        if self.edit is not None:
            return f"{self.reference}: {self.digest} held back: {self.reason}"
        return f"{self.reference}: {self.reason}"

    def problem(self) -> Problem:
        """A held proposal as the run reports it (kind: the rule)."""
        return Problem(
            ProblemKind(self.rule.value),
            self.message,
            self.occurrence.file,
            self.occurrence.line,
            self.occurrence.column,
            self.reference,
        )

    def violation(self) -> Violation:
        """A pin in a file that fails its entry, as `check` and `audit` report it."""
        return Violation(self.occurrence, PolicyRule(self.rule.value), self.message)


@dataclass(frozen=True)
class Screened:
    """A plan's edits after the gate: those that may be written, and those held back."""

    passed: tuple[Edit, ...]
    held: tuple[HeldDigest, ...] = ()


class TrustGate:
    """The `verify:` entries, applied to digests through one reader for the run."""

    def __init__(self, reader: SupplyChainReader, policies: Sequence[TrustPolicy]) -> None:
        self.reader = reader
        self.policies = tuple(policies)

    def policy_for(self, reference: ImageReference) -> TrustPolicy | None:
        return policy_for(self.policies, reference)

    async def verdict(self, reference: ImageReference, digest: str, policy: TrustPolicy) -> Verdict:
        """`policy`'s verdict on `digest` of `reference`'s repository; never raises."""
        try:
            findings = await self.reader.read(
                reference.without_digest(), digest, children=needs_children(policy)
            )
            return _with_problems(evaluate(policy, findings), findings)
        except Exception as exc:  # a bug must hold the digest back, not let it through
            log.warning("trust gate on %s failed", digest, exc_info=True)
            signed = Requirement.SIGNATURE in policy.require or policy.keyless
            rule = Rule.SIGNATURE_INVALID if signed else Rule.PROVENANCE_MISMATCH
            reason = f"could not be checked (unexpected {type(exc).__name__})"
            return Verdict(False, SignatureCheck(SignatureStatus.UNSIGNED), rule, reason)

    def _key(self, reference: ImageReference | None, digest: str | None) -> _Key | None:
        """What one verdict is about: image, digest and the entry that applies (none: None)."""
        if reference is None or digest is None:
            return None
        policy = self.policy_for(reference)
        if policy is None:
            return None
        return reference.name, digest, self.policies.index(policy)

    async def _verdicts(
        self, wanted: Iterable[tuple[ImageReference | None, str | None]]
    ) -> dict[_Key, Verdict]:
        """One verdict per image, digest and entry."""
        unique: dict[_Key, tuple[ImageReference, str]] = {}
        for reference, digest in wanted:
            key = self._key(reference, digest)
            if key is not None and reference is not None and digest is not None:
                unique.setdefault(key, (reference, digest))
        keys = list(unique)
        found = await asyncio.gather(
            *(self.verdict(*unique[key], self.policies[key[2]]) for key in keys)
        )
        return dict(zip(keys, found, strict=True))

    def _held(
        self,
        verdicts: dict[_Key, Verdict],
        occurrence: Occurrence,
        digest: str,
        edit: Edit | None = None,
    ) -> HeldDigest | None:
        key = self._key(occurrence.reference, digest)
        verdict = verdicts.get(key) if key is not None else None
        if verdict is None or verdict.allowed or verdict.rule is None:
            return None
        return HeldDigest(occurrence, digest, verdict.rule, verdict.reason, edit)

    async def screen(self, edits: Sequence[Edit]) -> Screened:
        """The edits whose new digest passes its entry (all of them when none applies)."""
        if not self.policies:
            return Screened(tuple(edits))
        verdicts = await self._verdicts((e.occurrence.reference, e.new_digest) for e in edits)
        passed: list[Edit] = []
        held: list[HeldDigest] = []
        for edit in edits:
            found = self._held(verdicts, edit.occurrence, edit.new_digest, edit)
            if found is None:
                passed.append(edit)
            else:
                held.append(found)
        return Screened(tuple(passed), tuple(held))

    async def check_pinned(self, occurrences: Iterable[Occurrence]) -> list[HeldDigest]:
        """Digests already pinned in files that fail their entry, in the order given.

        Images a compose file builds itself are not pulled, and are not judged.
        """
        if not self.policies:
            return []
        pinned = [o for o in occurrences if _pinned(o)]
        verdicts = await self._verdicts((o.reference, _digest(o)) for o in pinned)
        held = (self._held(verdicts, o, _digest(o)) for o in pinned)
        return [found for found in held if found is not None]


def _digest(occurrence: Occurrence) -> str:
    assert occurrence.reference is not None and occurrence.reference.digest is not None
    return occurrence.reference.digest


def _pinned(occurrence: Occurrence) -> bool:
    reference = occurrence.reference
    return (
        reference is not None
        and reference.digest is not None
        and occurrence.status is Status.PINNED
        and not occurrence.built_here
    )


def _with_problems(verdict: Verdict, findings: ImageFindings) -> Verdict:
    """A held verdict's reason, with what could not be read (a registry that refused the
    signature tag reads as unsigned; the reason says so)."""
    if verdict.allowed or not findings.problems:
        return verdict
    shown = "; ".join(findings.problems[:SHOWN_PROBLEMS])
    more = len(findings.problems) - SHOWN_PROBLEMS
    if more > 0:
        shown += f" (and {more} more)"
    reason = f"{verdict.reason} (supply-chain data partly unreadable: {shown})"
    return Verdict(verdict.allowed, verdict.signature, verdict.rule, reason)


@dataclass(frozen=True)
class DriftCheck:
    """What `--drift` learnt of pinned references, and the registry requests it took."""

    lookups: dict[str, Lookup]
    held: list[HeldDigest]
    requests: int


async def check_drift(
    config: Config, pinned: Sequence[Occurrence], policies: Sequence[TrustPolicy]
) -> DriftCheck:
    """`check --drift` and `audit --drift` on one client: the pinned references' tags looked
    up (nothing fetched to verify), and the pinned digests that fail their `verify:` entry.

    A digest the registry says no longer exists is `digest-missing` already, not judged again.
    """
    async with RegistryClient(config) as client:
        lookups = await look_up(client, pinned, config.pin, verify=False, rules=config.rules)
        gone = {key for key, lookup in lookups.items() if "@" in key and lookup.digest is None}
        present = [
            o for o in pinned if o.reference is None or existence_key(o.reference) not in gone
        ]
        held = await TrustGate(SupplyChainReader(client), policies).check_pinned(present)
        return DriftCheck(lookups, held, client.stats.count())
