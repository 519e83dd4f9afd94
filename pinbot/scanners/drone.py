"""Image references in Drone pipelines: the images of steps and services, in every
`kind: pipeline` document, and of the legacy 0.8 `pipeline:` and `services:` maps.
"""

from __future__ import annotations

from collections.abc import Iterator

from pinbot.scanners._yaml import Node, map_get, scalar_value
from pinbot.scanners._yaml_kind import YamlKind, image_field, members
from pinbot.scanners.interface import Finding


class DroneScanner(YamlKind):
    kind = "drone"
    file_names = (".drone.yml", ".drone.yaml")

    def document(self, document: Node, text: str, offset: int) -> Iterator[Finding]:
        kind = scalar_value(map_get(document, "kind"))
        if kind not in (None, "pipeline"):
            return  # secrets, signatures, templates
        name = scalar_value(map_get(document, "name"))
        prefix = f"{name}: " if name else ""
        # 0.8 wrote its sections as maps: `pipeline: {build: {image: …}}`
        for section in ("steps", "services", "pipeline"):
            for entry, here in members(map_get(document, section), f"{prefix}{section}"):
                yield from image_field(entry, text, offset, f"{here}.image")


SCANNER = DroneScanner()
