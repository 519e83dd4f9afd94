"""Image references in Gitpod workspace config: `.gitpod.yml`'s `image`.

`image: {file: .gitpod.Dockerfile}` names a Dockerfile (read by the Dockerfile scanner), not an image.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterator

from pinbot.scanners._yaml import (
    MappingNode,
    compose_documents,
    map_get,
    scalar_finding,
)
from pinbot.scanners.interface import Finding


class GitpodScanner:
    kind = "gitpod"

    def matches(self, path: str) -> bool:
        return posixpath.basename(path) in (".gitpod.yml", ".gitpod.yaml")

    def scan(self, path: str, text: str) -> Iterator[Finding]:
        documents, offset = compose_documents(text)
        for document in documents[:1]:
            image = map_get(document, "image") if isinstance(document, MappingNode) else None
            found = scalar_finding(image, text, offset, "image")
            if found is not None:
                yield found


SCANNER = GitpodScanner()
