"""Image references in Woodpecker CI workflows: the images of steps, services and clone steps,
in `.woodpecker.yml` and each workflow file under `.woodpecker/`.

`steps` and `services` may be a list of steps or a map from step name to step; `clone` is a
map from name to step; the legacy `pipeline:` map is read like `steps`. A step's `image` is
reported; a plugin's `settings` (such as the `repo` a build plugin pushes to) are not. Matrix
and environment substitutions (`golang:${GO_VERSION}`) are reported as templated.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import PurePosixPath

from pinbot.scanners._yaml import (
    MappingNode,
    Node,
    SequenceNode,
    map_get,
    map_items,
    scalar_finding,
)
from pinbot.scanners._yaml_kind import YamlKind
from pinbot.scanners.interface import Finding

__all__ = ["SCANNER", "WoodpeckerScanner", "is_woodpecker_path"]

_SECTIONS = ("steps", "pipeline", "services", "clone")


def is_woodpecker_path(path: str) -> bool:
    """`.woodpecker.yml`/`.yaml`, or a YAML file directly in a `.woodpecker/` directory.

    >>> [is_woodpecker_path(p) for p in (".woodpecker.yaml", ".woodpecker/test.yml", "woodpecker.yml")]
    [True, True, False]
    """
    parts = PurePosixPath(path).parts
    if not parts:
        return False
    name = parts[-1]
    if name in (".woodpecker.yml", ".woodpecker.yaml"):
        return True
    return len(parts) >= 2 and parts[-2] == ".woodpecker" and name.endswith((".yml", ".yaml"))


def _steps(section: Node | None, name: str) -> Iterator[tuple[Node, str]]:
    """Each step of a section with its context: `steps[0]` or `steps.build`."""
    if isinstance(section, SequenceNode):
        for index, step in enumerate(section.value):
            yield step, f"{name}[{index}]"
    elif isinstance(section, MappingNode):
        for key, _key_node, step in map_items(section):
            yield step, f"{name}.{key}"


class WoodpeckerScanner(YamlKind):
    kind = "woodpecker"

    def matches(self, path: str) -> bool:
        return is_woodpecker_path(path)

    def document(self, document: Node, text: str, offset: int) -> Iterator[Finding]:
        if not isinstance(document, MappingNode):
            return
        for section in _SECTIONS:
            for step, context in _steps(map_get(document, section), section):
                if isinstance(step, MappingNode):
                    image = map_get(step, "image")
                    found = scalar_finding(image, text, offset, f"{context}.image")
                    if found is not None:
                        yield found


SCANNER = WoodpeckerScanner()
