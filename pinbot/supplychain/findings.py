"""What one image digest says about itself: provenance, packages and signatures, as data.

`ImageFindings` is what the reader gathered for one digest (nothing verified yet);
`signature_check` gives the verdict on its signatures for a key, on the index itself or, when
the index is not signed, on every platform image it holds.
"""

from __future__ import annotations

from dataclasses import dataclass

from pinbot.supplychain.provenance import Provenance
from pinbot.supplychain.sbom import PackageSet
from pinbot.supplychain.signatures import (
    PublicKey,
    Signature,
    SignatureCheck,
    SignatureStatus,
    check,
)


@dataclass(frozen=True)
class ImageFindings:
    """Attestations and signatures found for one digest; `problems` says what was unreadable."""

    digest: str
    is_index: bool = False
    provenance: Provenance | None = None
    packages: PackageSet | None = None
    signatures: tuple[Signature, ...] = ()
    #: When the index itself carries no signature: each platform image's digest and its own.
    children: tuple[tuple[str, tuple[Signature, ...]], ...] = ()
    problems: tuple[str, ...] = ()


def signature_check(findings: ImageFindings, key: PublicKey | None) -> SignatureCheck:
    """The verdict on the digest pinbot writes: its own signatures, else all its children's.

    A signed index is enough; an unsigned index counts as signed only when every platform
    image in it is, each on its own digest.
    """
    own_scope = "the index" if findings.is_index else "the image"
    if findings.signatures or not findings.children:
        return check(findings.signatures, findings.digest, key, own_scope)
    scope = "each platform image"
    results = [check(sigs, digest, key, scope) for digest, sigs in findings.children]
    kinds = tuple(dict.fromkeys(k for r in results for k in r.kinds))
    worst = max(results, key=lambda r: list(SignatureStatus).index(r.status))
    if worst.status is SignatureStatus.UNSIGNED and any(
        r.status is not SignatureStatus.UNSIGNED for r in results
    ):
        unsigned = sum(r.status is SignatureStatus.UNSIGNED for r in results)
        detail = f"{unsigned} of {len(results)} platform images carry no signature"
        return SignatureCheck(SignatureStatus.UNSIGNED, scope=scope, detail=detail, kinds=kinds)
    if worst.status is SignatureStatus.UNSIGNED:
        return SignatureCheck(SignatureStatus.UNSIGNED, detail="no signature found")
    signer = worst.signer if worst.status is SignatureStatus.VERIFIED else None
    return SignatureCheck(
        worst.status, signer=signer, scope=scope, detail=worst.detail, kinds=kinds
    )
