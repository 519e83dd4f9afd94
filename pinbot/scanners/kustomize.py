"""Image references in Kustomize `images:` overrides, composed from `newName`, `newTag`, `digest`.

A first pin adds a `digest` key to the entry and keeps `newTag` as documentation (kustomize
uses the digest when both are set); a later bump rewrites the `digest` value.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterator

from pinbot.scanners._yaml import (
    NOT_SPLICEABLE,
    MappingNode,
    Node,
    ScalarNode,
    SequenceNode,
    compose_documents,
    digest_slot,
    format_path,
    map_get,
    map_items,
    scalar_span,
    scalar_value,
    unrewritable_map_finding,
    written_span,
)
from pinbot.scanners.interface import DigestSlot, Finding

__all__ = ["SCANNER", "KustomizeScanner"]

KUSTOMIZATION_NAMES = frozenset({"kustomization.yaml", "kustomization.yml", "Kustomization"})

NO_TAG = "no newTag or digest: the tag comes from the resources this entry rewrites"
NO_INSERT = "the entry is not written one key per line; a digest cannot be added in place"


def _insertion(entry: MappingNode, text: str, offset: int) -> DigestSlot | None:
    """Where a first `digest:` line goes: after the entry's last line, at its keys' indent."""
    if entry.flow_style or not entry.value:
        return None
    first_key, _ = entry.value[0]
    last_value = entry.value[-1][1]
    if not isinstance(last_value, ScalarNode) or last_value.style not in (None, "", '"', "'"):
        return None
    if last_value.start_mark.line != last_value.end_mark.line:
        return None
    end = last_value.end_mark.index + offset
    line_end = text.find("\n", end)
    if line_end < 0:
        line_end = len(text)
        newline = "\r\n" if "\r\n" in text else "\n"
    else:
        newline = "\r\n" if line_end > 0 and text[line_end - 1] == "\r" else "\n"
        if newline == "\r\n":
            line_end -= 1
    indent = " " * first_key.start_mark.column
    return DigestSlot(line_end, line_end, prefix=f"{newline}{indent}digest: ")


def _entry(entry: Node, index: int, text: str, offset: int) -> Finding | None:
    if not isinstance(entry, MappingNode):
        return None
    fields = {
        key: value for key, _key_node, value in map_items(entry) if isinstance(value, ScalarNode)
    }
    name = scalar_value(fields.get("name")) or ""
    new_name = scalar_value(fields.get("newName")) or ""
    tag = scalar_value(fields.get("newTag")) or ""
    digest = scalar_value(fields.get("digest")) or ""
    if not (name or new_name):
        return None
    if not (new_name or tag or digest):
        # A name alone (with `tagSuffix`, say) selects images to rewrite; it names no image.
        return None
    span_key = "newTag" if tag else "newName" if new_name else "name"
    span_node = fields[span_key]
    context = format_path(("images", index, span_key))
    reference = (new_name or name) + (f":{tag}" if tag else "") + (f"@{digest}" if digest else "")
    span = scalar_span(span_node, text, offset)
    if span is None:
        written = written_span(span_node, text, offset)
        return unrewritable_map_finding(written, context, reference, NOT_SPLICEABLE)
    if not (tag or digest):
        return unrewritable_map_finding(span, context, reference, NO_TAG)
    digest_node = fields.get("digest")
    slot: DigestSlot | None
    if digest_node is not None:
        slot = digest_slot(digest_node, text, offset)
    else:
        slot = _insertion(entry, text, offset)
    if slot is None:
        return unrewritable_map_finding(span, context, reference, NO_INSERT)
    return Finding(*span, context, reference_text=reference, digest_slot=slot, structured=True)


class KustomizeScanner:
    kind = "kustomize"

    def matches(self, path: str) -> bool:
        return posixpath.basename(path) in KUSTOMIZATION_NAMES

    def scan(self, path: str, text: str) -> Iterator[Finding]:
        documents, offset = compose_documents(text)
        for document in documents:
            images = map_get(document, "images") if isinstance(document, MappingNode) else None
            if not isinstance(images, SequenceNode):
                continue
            for index, entry in enumerate(images.value):
                finding = _entry(entry, index, text, offset)
                if finding is not None:
                    yield finding


SCANNER = KustomizeScanner()
