"""The trust gate: may a digest be proposed, given the `verify:` entry that matches its image?

Pure: `evaluate(policy, findings)` returns a `Verdict`, held back with a rule name (`unsigned`,
`signature-invalid`, `provenance-mismatch`) when the entry's requirements are not met. Without
an entry nothing is required. Everything that cannot be checked fails closed.
"""

from __future__ import annotations

import enum
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Protocol

from pinbot.config import image_matches
from pinbot.reference import ImageReference
from pinbot.supplychain._fields import SupplyChainError
from pinbot.supplychain.findings import ImageFindings, signature_check
from pinbot.supplychain.signatures import PublicKey, SignatureCheck, SignatureStatus

#: Why a digest under a keyless entry is held back whatever it carries.
KEYLESS_REASON = (
    "the verify entry asks for a keyless signature (identity and issuer), which pinbot does "
    "not verify yet; give a cosign public key (key:) to let signed digests through"
)
#: A public key file larger than this is not a key.
MAX_KEY_BYTES = 64 * 1024


class Requirement(enum.StrEnum):
    SIGNATURE = "signature"
    PROVENANCE = "provenance"


class Rule(enum.StrEnum):
    """Why a digest was held back; the names `check --drift` and `audit` report."""

    UNSIGNED = "unsigned"
    SIGNATURE_INVALID = "signature-invalid"
    PROVENANCE_MISMATCH = "provenance-mismatch"


class VerifyEntry(Protocol):
    """A `verify:` entry as the config declares it."""

    @property
    def images(self) -> Sequence[str]: ...
    @property
    def require(self) -> Collection[str]: ...
    @property
    def public_key(self) -> Path | None: ...
    @property
    def identity(self) -> str | None: ...
    @property
    def issuer(self) -> str | None: ...
    @property
    def source(self) -> str | None: ...


@dataclass(frozen=True)
class TrustPolicy:
    """One `verify:` entry: which images, what they need, and what to check it with."""

    images: tuple[str, ...]
    require: frozenset[Requirement] = frozenset()
    key: PublicKey | None = None
    identity: str | None = None  # keyless: certificate identity (exact or a regular expression)
    issuer: str | None = None  # keyless: OIDC issuer
    source: str | None = None  # provenance: the repository URL glob it must be built from

    @classmethod
    def from_config(
        cls,
        images: Sequence[str],
        require: Collection[str] = (),
        *,
        key_file: Path | None = None,
        identity: str | None = None,
        issuer: str | None = None,
        source: str | None = None,
    ) -> TrustPolicy:
        """An entry as the config declares it; the key file is read here (`SupplyChainError`
        when it is missing, too big or not a PEM public key)."""
        unknown = set(require) - {r.value for r in Requirement}
        if unknown:
            raise SupplyChainError(f"unknown requirement {sorted(unknown)[0]!r}")
        key = None
        if key_file is not None:
            key = PublicKey(read_key_file(key_file), str(key_file.name))
        return cls(
            images=tuple(images),
            require=frozenset(Requirement(r) for r in require),
            key=key,
            identity=identity,
            issuer=issuer,
            source=source,
        )

    @classmethod
    def from_entry(cls, entry: VerifyEntry) -> TrustPolicy:
        """A `verify:` entry of the config (its key file read now)."""
        return cls.from_config(
            entry.images,
            entry.require,
            key_file=entry.public_key,
            identity=entry.identity,
            issuer=entry.issuer,
            source=entry.source,
        )

    @property
    def keyless(self) -> bool:
        """Whether the entry asks for keyless signatures (certificate identity and issuer)."""
        return self.key is None and (self.identity is not None or self.issuer is not None)

    def applies_to(self, image: str | ImageReference) -> bool:
        """Whether the entry's globs match: a reference as `scan.ignore-images` matches it
        (name, familiar name, the reference itself), a bare name as it is."""
        if isinstance(image, ImageReference):
            return image_matches(image, self.images)
        return any(fnmatchcase(image, pattern) for pattern in self.images)


def read_key_file(path: Path) -> bytes:
    try:
        with path.open("rb") as handle:
            pem = handle.read(MAX_KEY_BYTES + 1)
    except OSError as exc:
        raise SupplyChainError(f"cannot read key {path}: {exc.strerror}") from exc
    if len(pem) > MAX_KEY_BYTES or b"-----BEGIN PUBLIC KEY-----" not in pem:
        raise SupplyChainError(f"{path} is not a PEM public key")
    return pem


def policy_for(policies: Sequence[TrustPolicy], image: str | ImageReference) -> TrustPolicy | None:
    """The first entry whose `images` globs match `image` (a reference, or a canonical name)."""
    return next((policy for policy in policies if policy.applies_to(image)), None)


def needs_children(policy: TrustPolicy | None) -> bool:
    """Whether an unsigned index's platform images are asked for their own signatures (three
    requests each): only when a signature is required."""
    return policy is not None and Requirement.SIGNATURE in policy.require


@dataclass(frozen=True)
class Verdict:
    """Whether a digest may be proposed; `rule` and `reason` say why not."""

    allowed: bool
    signature: SignatureCheck
    rule: Rule | None = None
    reason: str = ""


def _signature_verdict(policy: TrustPolicy, check: SignatureCheck) -> Verdict | None:
    if check.status is SignatureStatus.VERIFIED:
        return None
    if policy.keyless:
        if check.status is SignatureStatus.UNSIGNED:
            found = check.detail or "no signature found"
            return Verdict(False, check, Rule.UNSIGNED, f"{found}; {KEYLESS_REASON}")
        return Verdict(False, check, Rule.SIGNATURE_INVALID, KEYLESS_REASON)
    if policy.key is None:
        reason = "the verify entry requires a signature but names no key"
        return Verdict(False, check, Rule.SIGNATURE_INVALID, reason)
    if check.status is SignatureStatus.UNSIGNED:
        return Verdict(False, check, Rule.UNSIGNED, check.detail or "no signature found")
    if check.status is SignatureStatus.UNVERIFIED:
        reason = f"no signature pinbot can verify ({check.detail})"
        return Verdict(False, check, Rule.UNSIGNED, reason)
    return Verdict(False, check, Rule.SIGNATURE_INVALID, check.detail)


def _provenance_verdict(
    policy: TrustPolicy, findings: ImageFindings, check: SignatureCheck
) -> Verdict | None:
    provenance = findings.provenance
    if provenance is None:
        return Verdict(False, check, Rule.PROVENANCE_MISMATCH, "no provenance attestation found")
    if policy.source is None:
        return None
    if provenance.source is None:
        reason = "the provenance names no source repository"
        return Verdict(False, check, Rule.PROVENANCE_MISMATCH, reason)
    if not fnmatchcase(provenance.source, policy.source):
        reason = f"built from {provenance.source}, not {policy.source}"
        return Verdict(False, check, Rule.PROVENANCE_MISMATCH, reason)
    return None


def evaluate(policy: TrustPolicy | None, findings: ImageFindings) -> Verdict:
    """May `findings.digest` be proposed under `policy`? Signature first, then provenance.

    A `source` in the entry implies that provenance is required; an entry naming a keyless
    signer (identity and issuer) holds every digest back, as pinbot does not verify those.
    """
    check = signature_check(findings, policy.key if policy else None)
    if policy is None:
        return Verdict(True, check)
    # An entry naming a keyless signer asked for a check pinbot cannot make: never a pass.
    if Requirement.SIGNATURE in policy.require or policy.keyless:
        verdict = _signature_verdict(policy, check)
        if verdict is not None:
            return verdict
    if Requirement.PROVENANCE in policy.require or policy.source is not None:
        verdict = _provenance_verdict(policy, findings, check)
        if verdict is not None:
            return verdict
    return Verdict(True, check)
