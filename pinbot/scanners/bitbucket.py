"""Image references in Bitbucket Pipelines: the build image, each step's image, service
definitions' images and `docker://` pipes.

A step's `services: [docker]` names a service definition, and `pipe: atlassian/…:1.2` a
Bitbucket pipe; neither is an image reference.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterator

from pinbot.scanners._yaml import (
    MappingNode,
    Node,
    ScalarNode,
    SequenceNode,
    compose_documents,
    format_path,
    map_get,
    map_items,
    scalar_span,
    scalar_value,
    walk,
)
from pinbot.scanners.interface import Finding

DOCKER_SCHEME = "docker://"

_NOT_SPLICEABLE = "written as a block, folded or escaped YAML scalar; cannot be rewritten in place"


def _finding(
    node: Node | None, text: str, offset: int, context: str, prefix: str = ""
) -> Finding | None:
    """A finding for a scalar image value, the span skipping `prefix` (e.g. `docker://`)."""
    value = scalar_value(node)
    if value is None or not value.startswith(prefix) or not value[len(prefix) :].strip():
        return None
    assert isinstance(node, ScalarNode)
    span = scalar_span(node, text, offset)
    if span is None:
        start = node.start_mark.index + offset
        return Finding(
            start,
            start,
            context,
            reference_text=value[len(prefix) :],
            rewritable=False,
            note=_NOT_SPLICEABLE,
        )
    return Finding(span[0] + len(prefix), span[1], context)


def _image(owner: Node, text: str, offset: int, here: str) -> Finding | None:
    """`image: ref` or `image: {name: ref, username: …}` of a mapping."""
    image = map_get(owner, "image")
    if isinstance(image, MappingNode):
        return _finding(map_get(image, "name"), text, offset, f"{here}image.name")
    return _finding(image, text, offset, f"{here}image")


class BitbucketPipelinesScanner:
    kind = "bitbucket-pipelines"

    def matches(self, path: str) -> bool:
        return posixpath.basename(path) in ("bitbucket-pipelines.yml", "bitbucket-pipelines.yaml")

    def scan(self, path: str, text: str) -> Iterator[Finding]:
        documents, offset = compose_documents(text)
        for document in documents:
            if isinstance(document, MappingNode):
                yield from self._document(document, text, offset)

    def _document(self, document: MappingNode, text: str, offset: int) -> Iterator[Finding]:
        found = _image(document, text, offset, "")
        if found is not None:
            yield found
        services = map_get(map_get(document, "definitions"), "services")
        for name, _key, service in map_items(services) if isinstance(services, MappingNode) else ():
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
                        found = _finding(
                            map_get(command, "pipe"), text, offset, where, DOCKER_SCHEME
                        )
                        if found is not None:
                            yield found


SCANNER = BitbucketPipelinesScanner()
