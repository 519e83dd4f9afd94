"""One digest change reviewed: read both digests' findings, note what changed, gate the new one.

The one call the notes and the plan use: `review(reader, ref, old, new, policies)` asks the
registry about the two digests only (nothing when they are equal) and returns a `Review` with
the note, the verdict and the Markdown lines for the pull request.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace

from pinbot.reference import ImageReference
from pinbot.supplychain.gate import TrustPolicy, Verdict, evaluate, needs_children, policy_for
from pinbot.supplychain.notes import SupplyChainNote, compare, held_back_line, render
from pinbot.supplychain.osv import OsvClient
from pinbot.supplychain.reader import SupplyChainReader

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Review:
    """What the supply-chain data says about moving `image` from `old_digest` to `new_digest`."""

    image: str
    old_digest: str | None
    new_digest: str
    note: SupplyChainNote
    verdict: Verdict

    @property
    def lines(self) -> list[str]:
        """Markdown lines for the notes block of this image (the verdict first when held)."""
        lines = render(self.note)
        if not self.verdict.allowed and self.verdict.rule is not None:
            held = held_back_line(
                self.image, self.new_digest, self.verdict.rule.value, self.verdict.reason
            )
            lines.insert(0, held)
        return lines


async def review(
    reader: SupplyChainReader,
    ref: ImageReference,
    old_digest: str | None,
    new_digest: str,
    policies: Sequence[TrustPolicy] = (),
    osv: OsvClient | None = None,
) -> Review | None:
    """The review of a digest change of `ref`'s image; None (and no request) when unchanged.

    With `osv`, the packages the bump changes are asked about known vulnerabilities."""
    if old_digest == new_digest:
        return None
    repository = ref.without_digest()
    policy = policy_for(policies, ref)
    # Read as the trust gate reads it, so a digest the gate passed costs nothing more here.
    new = await reader.read(repository, new_digest, children=needs_children(policy))
    old = await reader.read(repository, old_digest, signatures=False) if old_digest else None
    key = policy.key if policy else None
    note = compare(old, new, key)
    if osv is not None and note.packages is not None and note.packages.diff is not None:
        note = replace(note, vulnerabilities=await osv.delta(note.packages.diff))
    return Review(
        image=ref.name,
        old_digest=old_digest,
        new_digest=new_digest,
        note=note,
        verdict=evaluate(policy, new),
    )


async def bump_lines(
    reader: SupplyChainReader,
    ref: ImageReference,
    old_digest: str | None,
    new_digest: str,
    policies: Sequence[TrustPolicy] = (),
    osv: OsvClient | None = None,
) -> list[str]:
    """The supply-chain lines for the notes block of a digest bump or a first pin.

    None for an unchanged digest, and for a first pin no `verify:` entry applies to (no old
    build to compare with; its reads would cost registry pulls for every image pinned). A
    first pin the gate judged was read for it already, so its lines cost nothing more. Never
    raises: notes are best effort.
    """
    if old_digest is None and policy_for(policies, ref) is None:
        return []
    try:
        result = await review(reader, ref, old_digest, new_digest, policies, osv)
    except Exception:  # the notes must not cost the pull request
        log.warning("supply-chain review of %s failed", ref, exc_info=True)
        return []
    return result.lines if result is not None else []
