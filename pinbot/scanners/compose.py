"""Image references in Compose files: each service's `image`, anchors and merge keys followed.

Files are recognised by name (`compose.yaml`, `docker-compose.*.yml`, …) or by content: a
top-level `services` mapping whose entries have an `image`. A service that also has `build:`
names with `image` what compose builds and tags, not what it pulls: reported, not rewritten.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator
from dataclasses import replace

from pinbot.scanners._template import is_templated
from pinbot.scanners._yaml import (
    MappingNode,
    Node,
    ScalarNode,
    entries,
    format_path,
    is_manifest,
    map_get,
    scalar_finding,
    scalar_value,
    walk,
)
from pinbot.scanners._yaml_kind import documents_if_yaml
from pinbot.scanners.interface import Finding

__all__ = ["SCANNER", "ComposeScanner", "is_compose_name"]

_COMPOSE_NAME = re.compile(r"^(docker-)?compose([.-][^/]*)?\.ya?ml$", re.IGNORECASE)


def is_compose_name(path: str) -> bool:
    """`compose.yaml`, `compose.prod.yml`, `docker-compose.yml`, `docker-compose-dev.yaml`."""
    return _COMPOSE_NAME.match(posixpath.basename(path)) is not None


BUILT_HERE = "image built by this service (build: is set); not pulled"


def _builds(service: MappingNode) -> bool:
    """Whether a service has a `build` section (`build: .` or a mapping; not an empty value)."""
    build = map_get(service, "build")
    return build is not None and not (
        isinstance(build, ScalarNode) and build.value in ("", "~", "null")
    )


def _service_images(document: Node) -> dict[int, tuple[bool, str | None]]:
    """Ids of the `image` scalar nodes of every service, merge keys followed, each with
    whether some service using it builds it and the `platform:` every such service names
    (None when one names none, or two differ)."""
    images: dict[int, tuple[bool, str | None]] = {}
    for _name, _key, service in entries(map_get(document, "services")):
        if not isinstance(service, MappingNode):
            continue
        image = map_get(service, "image")
        if isinstance(image, ScalarNode):
            platform = scalar_value(map_get(service, "platform")) or None
            built, seen = images.get(id(image), (False, platform))
            images[id(image)] = (built or _builds(service), platform if seen == platform else None)
    return images


class ComposeScanner:
    """Any `*.yaml`/`*.yml`: only Compose-named files are required to be Compose files."""

    kind = "compose"

    def matches(self, path: str) -> bool:
        return posixpath.basename(path).lower().endswith((".yaml", ".yml"))

    def scan(self, path: str, text: str) -> Iterator[Finding]:
        documents, offset = documents_if_yaml(text, claimed=is_compose_name(path))
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
                    built, platform = images.pop(id(node))
                    finding = scalar_finding(node, text, offset, format_path(key_path))
                    if finding is not None and platform:
                        finding = replace(finding, platform=platform)
                    if finding is not None and built and not is_templated(node.value):
                        # Pinning a build output would make compose tag its build with a digest.
                        finding = replace(
                            finding,
                            rewritable=False,
                            note=finding.note or BUILT_HERE,
                            built_here=True,
                        )
                    if finding is not None:
                        yield finding


SCANNER = ComposeScanner()
