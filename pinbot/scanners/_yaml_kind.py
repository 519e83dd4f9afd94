"""The skeleton most YAML file kinds share: named by their file names, read document by document.

A kind declares its `kind`, its `file_names` (or its own `matches`) and what it finds in one
document; composing the documents, reporting each span once (the first report wins) and file
order come from here, with the two readings CI files repeat: a section of steps written as a
list or as a map, and a step's `image` field; and, for the kinds that read any YAML file by
its content, whose error a file that is not YAML is.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable, Iterator
from typing import ClassVar

from pinbot.scanners._yaml import (
    MappingNode,
    Node,
    SequenceNode,
    compose_documents,
    map_get,
    map_items,
    scalar_finding,
)
from pinbot.scanners.interface import Finding, ScanError

__all__ = ["YamlKind", "documents_if_yaml", "image_field", "members"]


def documents_if_yaml(text: str, *, claimed: bool) -> tuple[tuple[Node, ...], int]:
    """`compose_documents` for a scanner that reads files by content as well as by name: a
    file that is not YAML raises `ScanError` only when the scanner `claimed` it (by its name),
    else it holds no documents for this scanner (the scanner of its own kind reports it)."""
    try:
        return compose_documents(text)
    except ScanError:
        if claimed:
            raise
        return (), 0


def members(section: Node | None, context: str) -> Iterator[tuple[Node, str]]:
    """Each member of a list or a map, with its context: `steps[0]`, or `steps.build` for a
    map from name to step; nothing for a section of another shape."""
    if isinstance(section, SequenceNode):
        for index, member in enumerate(section.value):
            yield member, f"{context}[{index}]"
    elif isinstance(section, MappingNode):
        for key, _key_node, member in map_items(section):
            yield member, f"{context}.{key}"


def image_field(holder: Node | None, text: str, offset: int, context: str) -> Iterator[Finding]:
    """The reference in a mapping's `image` scalar, when it holds one; `context` names the
    field."""
    found = scalar_finding(map_get(holder, "image"), text, offset, context)
    if found is not None:
        yield found


class YamlKind:
    kind: str
    file_names: ClassVar[tuple[str, ...]] = ()
    # Which documents of a file are read: a workspace config reads only its first.
    documents: ClassVar[slice] = slice(None)
    # What a document must be to be read: a mapping, or for some kinds a list of steps too.
    shapes: ClassVar[tuple[type[Node], ...]] = (MappingNode,)

    def matches(self, path: str) -> bool:
        return posixpath.basename(path) in self.file_names

    def scan(self, path: str, text: str) -> Iterator[Finding]:
        documents, offset = compose_documents(text)
        findings: dict[tuple[int, int], Finding] = {}
        for document in documents[self.documents]:
            if not isinstance(document, self.shapes):
                continue
            for finding in self.document(document, text, offset):
                findings.setdefault((finding.start, finding.end), finding)
        return iter(sorted(findings.values(), key=lambda f: (f.start, f.end)))

    def document(self, document: Node, text: str, offset: int) -> Iterable[Finding]:
        """What one document of one of the `shapes` holds; `offset` is added to its marks (see
        `compose_documents`)."""
        raise NotImplementedError
