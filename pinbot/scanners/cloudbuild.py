"""Image references in Google Cloud Build config: each step's `name` is its builder image.

`images:` lists the images the build pushes (outputs), not images it uses.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterator

from pinbot.scanners._yaml import MappingNode, Node, SequenceNode, map_get, scalar_finding
from pinbot.scanners._yaml_kind import YamlKind
from pinbot.scanners.interface import Finding


class CloudBuildScanner(YamlKind):
    # JSON is YAML's flow style: the same composer gives the same marks.
    kind = "cloudbuild"

    def matches(self, path: str) -> bool:
        name = posixpath.basename(path)
        return name.startswith("cloudbuild") and name.endswith((".yaml", ".yml", ".json"))

    def document(self, document: Node, text: str, offset: int) -> Iterator[Finding]:
        steps = map_get(document, "steps")
        for index, step in enumerate(steps.value if isinstance(steps, SequenceNode) else ()):
            if isinstance(step, MappingNode):
                found = scalar_finding(map_get(step, "name"), text, offset, f"steps[{index}].name")
                if found is not None:
                    yield found


SCANNER = CloudBuildScanner()
