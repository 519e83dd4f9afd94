"""Image references in Google Cloud Build config: each step's `name` is its builder image.

`images:` lists the images the build pushes (outputs), not images it uses.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterator

from pinbot.scanners._yaml import (
    MappingNode,
    SequenceNode,
    compose_documents,
    map_get,
    scalar_finding,
)
from pinbot.scanners.interface import Finding


class CloudBuildScanner:
    kind = "cloudbuild"

    def matches(self, path: str) -> bool:
        name = posixpath.basename(path)
        return name.startswith("cloudbuild") and name.endswith((".yaml", ".yml", ".json"))

    def scan(self, path: str, text: str) -> Iterator[Finding]:
        # JSON is YAML's flow style: the same composer gives the same marks.
        documents, offset = compose_documents(text)
        for document in documents:
            steps = map_get(document, "steps") if isinstance(document, MappingNode) else None
            if not isinstance(steps, SequenceNode):
                continue
            for index, step in enumerate(steps.value):
                if not isinstance(step, MappingNode):
                    continue
                found = scalar_finding(map_get(step, "name"), text, offset, f"steps[{index}].name")
                if found is not None:
                    yield found


SCANNER = CloudBuildScanner()
