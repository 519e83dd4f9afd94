"""The skeleton most YAML file kinds share: named by their file names, read document by document.

A kind declares its `kind`, its `file_names` (or its own `matches`) and what it finds in one
document; composing the documents, reporting each span once (the first report wins) and file
order come from here.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable, Iterator
from typing import ClassVar

from pinbot.scanners._yaml import Node, compose_documents
from pinbot.scanners.interface import Finding

__all__ = ["YamlKind"]


class YamlKind:
    kind: str
    file_names: ClassVar[tuple[str, ...]] = ()
    # Which documents of a file are read: a workspace config reads only its first.
    documents: ClassVar[slice] = slice(None)

    def matches(self, path: str) -> bool:
        return posixpath.basename(path) in self.file_names

    def scan(self, path: str, text: str) -> Iterator[Finding]:
        documents, offset = compose_documents(text)
        findings: dict[tuple[int, int], Finding] = {}
        for document in documents[self.documents]:
            for finding in self.document(document, text, offset):
                findings.setdefault((finding.start, finding.end), finding)
        return iter(sorted(findings.values(), key=lambda f: (f.start, f.end)))

    def document(self, document: Node, text: str, offset: int) -> Iterable[Finding]:
        """What one document holds; `offset` is added to its marks (see `compose_documents`)."""
        raise NotImplementedError
