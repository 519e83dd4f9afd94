"""Image references in Google Cloud Build config: each step's `name` is its builder image.

`images:` lists the images the build pushes (outputs), not images it uses.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterator

from pinbot.scanners._yaml import (
    MappingNode,
    ScalarNode,
    SequenceNode,
    compose_documents,
    map_get,
    scalar_span,
    scalar_value,
)
from pinbot.scanners.interface import Finding

_NOT_SPLICEABLE = "written as a block, folded or escaped scalar; cannot be rewritten in place"


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
                node = map_get(step, "name")
                value = scalar_value(node)
                if value is None or not value.strip():
                    continue
                assert isinstance(node, ScalarNode)
                context = f"steps[{index}].name"
                span = scalar_span(node, text, offset)
                if span is None:
                    start = node.start_mark.index + offset
                    yield Finding(
                        start,
                        start,
                        context,
                        reference_text=value,
                        rewritable=False,
                        note=_NOT_SPLICEABLE,
                    )
                else:
                    yield Finding(span[0], span[1], context)


SCANNER = CloudBuildScanner()
