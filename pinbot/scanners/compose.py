"""Image references in Compose files: each service's `image`, anchors and merge keys followed.

Files are recognised by name (`compose.yaml`, `docker-compose.*.yml`, …) or by content: a
top-level `services` mapping whose entries have an `image`.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator

from pinbot.scanners._yaml import (
    MappingNode,
    Node,
    ScalarNode,
    compose_documents,
    entries,
    format_path,
    is_manifest,
    map_get,
    scalar_finding,
    walk,
)
from pinbot.scanners.interface import Finding, ScanError

__all__ = ["SCANNER", "ComposeScanner", "is_compose_name"]

_COMPOSE_NAME = re.compile(r"^(docker-)?compose([.-][^/]*)?\.ya?ml$", re.IGNORECASE)


def is_compose_name(path: str) -> bool:
    """`compose.yaml`, `compose.prod.yml`, `docker-compose.yml`, `docker-compose-dev.yaml`."""
    return _COMPOSE_NAME.match(posixpath.basename(path)) is not None


def _service_images(document: Node) -> set[int]:
    """Ids of the `image` scalar nodes of every service, merge keys followed."""
    images: set[int] = set()
    for _name, _key, service in entries(map_get(document, "services")):
        image = map_get(service, "image") if isinstance(service, MappingNode) else None
        if isinstance(image, ScalarNode):
            images.add(id(image))
    return images


class ComposeScanner:
    """Any `*.yaml`/`*.yml`: only Compose-named files are required to be Compose files."""

    kind = "compose"

    def matches(self, path: str) -> bool:
        return posixpath.basename(path).lower().endswith((".yaml", ".yml"))

    def scan(self, path: str, text: str) -> Iterator[Finding]:
        named = is_compose_name(path)
        try:
            documents, offset = compose_documents(text)
        except ScanError:
            if named:
                raise
            return  # by content only: not this scanner's file to complain about
        for document in documents:
            if not isinstance(document, MappingNode) or is_manifest(document):
                continue
            images = _service_images(document)
            if not images:
                continue
            # Walk in document order so an image shared through an anchor (`x-base: &b`,
            # `<<: *b`) is reported once, where it is written.
            for key_path, node in walk(document):
                if id(node) in images:
                    images.discard(id(node))
                    finding = scalar_finding(node, text, offset, format_path(key_path))
                    if finding is not None:
                        yield finding


SCANNER = ComposeScanner()
