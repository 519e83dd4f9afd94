"""Image references in Drone pipelines: the images of steps and services, in every
`kind: pipeline` document, and of the legacy 0.8 `pipeline:` and `services:` maps.
"""

from __future__ import annotations

from collections.abc import Iterator

from pinbot.scanners._yaml import (
    MappingNode,
    Node,
    SequenceNode,
    map_get,
    map_items,
    scalar_finding,
    scalar_value,
)
from pinbot.scanners._yaml_kind import YamlKind
from pinbot.scanners.interface import Finding


def _image(container: Node, text: str, offset: int, here: str) -> Iterator[Finding]:
    found = scalar_finding(map_get(container, "image"), text, offset, f"{here}.image")
    if found is not None:
        yield found


class DroneScanner(YamlKind):
    kind = "drone"
    file_names = (".drone.yml", ".drone.yaml")

    def document(self, document: Node, text: str, offset: int) -> Iterator[Finding]:
        if not isinstance(document, MappingNode):
            return
        kind = scalar_value(map_get(document, "kind"))
        if kind not in (None, "pipeline"):
            return  # secrets, signatures, templates
        name = scalar_value(map_get(document, "name"))
        prefix = f"{name}: " if name else ""
        for section in ("steps", "services", "pipeline"):
            entries = map_get(document, section)
            if isinstance(entries, SequenceNode):
                for index, entry in enumerate(entries.value):
                    yield from _image(entry, text, offset, f"{prefix}{section}[{index}]")
            elif isinstance(entries, MappingNode):  # 0.8: `pipeline: {build: {image: …}}`
                for key, _key_node, entry in map_items(entries):
                    yield from _image(entry, text, offset, f"{prefix}{section}.{key}")


SCANNER = DroneScanner()
