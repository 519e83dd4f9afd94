"""Images written across a YAML mapping's fields (`repository`, `tag`, `digest`, ...) and
reported on one of them: Helm image maps, Kustomize `images` entries, Concourse sources.
"""

from __future__ import annotations

from dataclasses import dataclass

from pinbot.scanners._yaml import (
    NOT_SPLICEABLE,
    Node,
    ScalarNode,
    digest_slot,
    scalar_span,
    unrewritable_map_finding,
    written_span,
)
from pinbot.scanners.interface import DigestSlot, Finding


def composed_reference(repository: str, tag: str, digest: str, registry: str = "") -> str:
    """`registry/repository:tag@digest`, each part only when the mapping sets it."""
    return (
        (f"{registry.rstrip('/')}/" if registry else "")
        + repository
        + (f":{tag}" if tag else "")
        + (f"@{digest}" if digest else "")
    )


def line_after(node: Node, text: str, offset: int) -> tuple[int, str] | None:
    """Where a key line can be added after `node`, the last value written for a block
    mapping: the end of the line `node` ends on (before its line break), and the line break to
    write there (the line's own; at the end of the file, the file's). None when `node` is a
    block or folded scalar, or is written over more than one line."""
    if isinstance(node, ScalarNode) and node.style not in (None, "", '"', "'"):
        return None
    if node.start_mark.line != node.end_mark.line:
        return None
    end = node.end_mark.index + offset
    line_end = text.find("\n", end)
    if line_end < 0:
        return len(text), "\r\n" if "\r\n" in text else "\n"
    if line_end > 0 and text[line_end - 1] == "\r":
        return line_end - 1, "\r\n"
    return line_end, "\n"


@dataclass(frozen=True)
class ImageMap:
    """One image composed from a mapping, reported on its `anchor` field (the part a person
    would point at) as `reference`, from the document at `offset` in `text`."""

    anchor: ScalarNode
    context: str
    reference: str
    text: str
    offset: int

    def span(self) -> tuple[int, int] | None:
        """The anchor's value, or None when it is not written so that it can be spliced."""
        return scalar_span(self.anchor, self.text, self.offset)

    def digest_slot(self, digest: ScalarNode) -> DigestSlot | None:
        """The slot of the map's own `digest` key (see `_yaml.digest_slot`)."""
        return digest_slot(digest, self.text, self.offset)

    def unspliceable(self) -> Finding:
        """Reported where the anchor is written, not rewritten: its scalar cannot be spliced."""
        written = written_span(self.anchor, self.text, self.offset)
        return unrewritable_map_finding(written, self.context, self.reference, NOT_SPLICEABLE)

    def unrewritable(self, span: tuple[int, int], note: str) -> Finding:
        """Reported at `span`, not rewritten, with `note` saying why."""
        return unrewritable_map_finding(span, self.context, self.reference, note)

    def pinned_at(self, span: tuple[int, int], slot: DigestSlot | None, no_slot: str) -> Finding:
        """Reported at `span` and pinned by writing the digest in `slot`; without a slot, not
        rewritten, with `no_slot` saying why."""
        if slot is None:
            return self.unrewritable(span, no_slot)
        return Finding(
            *span, self.context, reference_text=self.reference, digest_slot=slot, structured=True
        )
