"""Image references in Bitbucket Pipelines: the build image, each step's image, service
definitions' images and `docker://` pipes.

A step's `services: [docker]` names a service definition, and `pipe: atlassian/…:1.2` a
Bitbucket pipe; neither is an image reference.
"""

from __future__ import annotations

from collections.abc import Iterator

from pinbot.scanners._yaml import (
    MappingNode,
    Node,
    SequenceNode,
    entries,
    format_path,
    map_get,
    scalar_finding,
    scalar_or_key_finding,
    walk,
)
from pinbot.scanners._yaml_kind import YamlKind
from pinbot.scanners.interface import Finding

DOCKER_SCHEME = "docker://"

def _image(owner: Node, text: str, offset: int, here: str) -> Finding | None:
    """`image: ref` or `image: {name: ref, username: …}` of a mapping."""
    return scalar_or_key_finding(map_get(owner, "image"), "name", text, offset, f"{here}image")


class BitbucketPipelinesScanner(YamlKind):
    kind = "bitbucket-pipelines"
    file_names = ("bitbucket-pipelines.yml", "bitbucket-pipelines.yaml")

    def document(self, document: Node, text: str, offset: int) -> Iterator[Finding]:
        found = _image(document, text, offset, "")
        if found is not None:
            yield found
        services = map_get(map_get(document, "definitions"), "services")
        for name, _key, service in entries(services):
            if isinstance(service, MappingNode):
                found = _image(service, text, offset, f"definitions.services.{name}.")
                if found is not None:
                    yield found
        # Steps sit at any depth (branches, parallel groups, stages, anchored definitions);
        # `walk` visits an anchored step once, where it is defined.
        for path, node in walk(document):
            if not path or path[-1] != "step" or not isinstance(node, MappingNode):
                continue
            here = format_path(path)
            found = _image(node, text, offset, f"{here}.")
            if found is not None:
                yield found
            for section in ("script", "after-script"):
                commands = map_get(node, section)
                if not isinstance(commands, SequenceNode):
                    continue
                for index, command in enumerate(commands.value):
                    if isinstance(command, MappingNode):
                        where = f"{here}.{section}[{index}].pipe"
                        found = scalar_finding(
                            map_get(command, "pipe"), text, offset, where, prefix=DOCKER_SCHEME
                        )
                        if found is not None:
                            yield found


SCANNER = BitbucketPipelinesScanner()
