"""One digest change reviewed: read both digests' findings, note what changed, gate the new one.

The one call the notes and the plan use: `Reviewer(reader, policies).review(ref, old, new)`
asks the registry about the two digests only (nothing when they are equal) and returns a
`Review` with the note, the verdict and the Markdown lines for the pull request.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from pinbot.logs import logger
from pinbot.reference import ImageReference
from pinbot.supplychain.gate import TrustPolicy, Verdict, evaluate, needs_children, policy_for
from pinbot.supplychain.notes import SupplyChainNote, compare, held_back_line, render
from pinbot.supplychain.osv import OsvClient
from pinbot.supplychain.reader import SupplyChainReader

log = logger(__name__)


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


@dataclass(frozen=True)
class Reviewer:
    """Reviews digest changes for one run: what it reads with, which `verify:` entries it
    judges by, and where it asks about vulnerabilities (`osv`, or none)."""

    reader: SupplyChainReader
    policies: Sequence[TrustPolicy] = ()
    osv: OsvClient | None = None

    async def review(
        self, ref: ImageReference, old_digest: str | None, new_digest: str
    ) -> Review | None:
        """The review of a digest change of `ref`'s image; None (and no request) when
        unchanged. With `osv`, the packages the bump changes are asked about known
        vulnerabilities."""
        if old_digest == new_digest:
            return None
        repository = ref.without_digest()
        policy = policy_for(self.policies, ref)
        # Read as the trust gate reads it, so a digest the gate passed costs nothing more here.
        reader = self.reader
        new = await reader.read(repository, new_digest, children=needs_children(policy))
        old = await reader.read(repository, old_digest, signatures=False) if old_digest else None
        note = compare(old, new, policy.key if policy else None)
        if self.osv is not None and note.packages is not None and note.packages.diff is not None:
            note = replace(note, vulnerabilities=await self.osv.delta(note.packages.diff))
        return Review(ref.name, old_digest, new_digest, note, evaluate(policy, new))

    async def bump_lines(
        self, ref: ImageReference, old_digest: str | None, new_digest: str
    ) -> list[str]:
        """The supply-chain lines for the notes block of a digest bump or a first pin.

        None for an unchanged digest, and for a first pin no `verify:` entry applies to (no
        old build to compare with; its reads would cost registry pulls for every image
        pinned). A first pin the gate judged was read for it already, so its lines cost
        nothing more. Never raises: notes are best effort.
        """
        if old_digest is None and policy_for(self.policies, ref) is None:
            return []
        try:
            result = await self.review(ref, old_digest, new_digest)
        except Exception:  # the notes must not cost the pull request
            log.warning("supply-chain review of %s failed", ref, exc_info=True)
            return []
        return result.lines if result is not None else []
