"""Image references in CircleCI config: the `docker` images of jobs and executors.

Orbs are packages of config, not images (an inline orb's own jobs and executors are read);
`machine.image` names a virtual machine image and is left alone.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterator

from pinbot.scanners._yaml import (
    MappingNode,
    Node,
    SequenceNode,
    entries,
    map_get,
)
from pinbot.scanners._yaml_kind import YamlKind, image_field
from pinbot.scanners.interface import Finding


class CircleCIScanner(YamlKind):
    kind = "circleci"

    def matches(self, path: str) -> bool:
        directory, name = posixpath.split(path)
        in_circleci = directory == ".circleci" or directory.endswith("/.circleci")
        return in_circleci and name.endswith((".yml", ".yaml"))

    def document(self, document: Node, text: str, offset: int) -> Iterator[Finding]:
        return self._config(document, "", text, offset)

    def _config(self, config: Node, here: str, text: str, offset: int) -> Iterator[Finding]:
        # Sections in written order, so an anchored image is named where it is defined.
        for section, _key, body in entries(config):
            if section in ("jobs", "executors"):
                for name, _name_key, job in entries(body):
                    yield from self._docker(job, f"{here}{section}.{name}", text, offset)
            elif section == "orbs":
                for name, _name_key, orb in entries(body):
                    # `name: circleci/node@5` is a packaged orb; a mapping is an inline orb.
                    if isinstance(orb, MappingNode):
                        yield from self._config(orb, f"{here}orbs.{name}.", text, offset)

    def _docker(self, body: Node, here: str, text: str, offset: int) -> Iterator[Finding]:
        docker = map_get(body, "docker") if isinstance(body, MappingNode) else None
        if not isinstance(docker, SequenceNode):
            return
        for index, container in enumerate(docker.value):
            if isinstance(container, MappingNode):
                yield from image_field(container, text, offset, f"{here}.docker[{index}].image")


SCANNER = CircleCIScanner()
