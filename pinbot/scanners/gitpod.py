"""Image references in Gitpod workspace config: `.gitpod.yml`'s `image`.

`image: {file: .gitpod.Dockerfile}` names a Dockerfile (read by the Dockerfile scanner), not an image.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterator

from pinbot.scanners._yaml import (
    MappingNode,
    ScalarNode,
    compose_documents,
    map_get,
    scalar_span,
    scalar_value,
)
from pinbot.scanners.interface import Finding

_NOT_SPLICEABLE = "written as a block, folded or escaped YAML scalar; cannot be rewritten in place"


class GitpodScanner:
    kind = "gitpod"

    def matches(self, path: str) -> bool:
        return posixpath.basename(path) in (".gitpod.yml", ".gitpod.yaml")

    def scan(self, path: str, text: str) -> Iterator[Finding]:
        documents, offset = compose_documents(text)
        for document in documents[:1]:
            image = map_get(document, "image") if isinstance(document, MappingNode) else None
            value = scalar_value(image)
            if value is None or not value.strip():
                continue
            assert isinstance(image, ScalarNode)
            span = scalar_span(image, text, offset)
            if span is None:
                start = image.start_mark.index + offset
                yield Finding(
                    start,
                    start,
                    "image",
                    reference_text=value,
                    rewritable=False,
                    note=_NOT_SPLICEABLE,
                )
            else:
                yield Finding(span[0], span[1], "image")


SCANNER = GitpodScanner()
