"""Image references in Woodpecker CI workflows: the images of steps, services and clone steps,
in `.woodpecker.yml` and each workflow file under `.woodpecker/`.

`steps` and `services` may be a list of steps or a map from step name to step; `clone` is a
map from name to step; the legacy `pipeline:` map is read like `steps`. A step's `image` is
reported; a plugin's `settings` (such as the `repo` a build plugin pushes to) are not. Matrix
and environment substitutions (`golang:${GO_VERSION}`) are reported as templated.
"""

from __future__ import annotations

from collections.abc import Iterator

from pinbot.scanners._paths import path_parts
from pinbot.scanners._yaml import MappingNode, Node, map_get
from pinbot.scanners._yaml_kind import YamlKind, image_field, members
from pinbot.scanners.interface import Finding

__all__ = ["SCANNER", "WoodpeckerScanner", "is_woodpecker_path"]

_SECTIONS = ("steps", "pipeline", "services", "clone")


def is_woodpecker_path(path: str) -> bool:
    """`.woodpecker.yml`/`.yaml`, or a YAML file directly in a `.woodpecker/` directory.

    >>> [is_woodpecker_path(p) for p in (".woodpecker.yaml", ".woodpecker/test.yml", "woodpecker.yml")]
    [True, True, False]
    """
    parts = path_parts(path)
    if not parts:
        return False
    name = parts[-1]
    if name in (".woodpecker.yml", ".woodpecker.yaml"):
        return True
    return len(parts) >= 2 and parts[-2] == ".woodpecker" and name.endswith((".yml", ".yaml"))


class WoodpeckerScanner(YamlKind):
    kind = "woodpecker"

    def matches(self, path: str) -> bool:
        return is_woodpecker_path(path)

    def document(self, document: Node, text: str, offset: int) -> Iterator[Finding]:
        for section in _SECTIONS:
            for step, context in members(map_get(document, section), section):
                if isinstance(step, MappingNode):
                    yield from image_field(step, text, offset, f"{context}.image")


SCANNER = WoodpeckerScanner()
