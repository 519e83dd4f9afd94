"""Image references in Concourse pipelines and task configs: the images that tasks and resource
types run in, composed from a registry-image or docker-image resource's `source`.

Files are recognised by content, not name. A task's `image_resource` (in a task config file or
inline under a step's `config`) is pinned the way Concourse reads it: by
`image_resource.version.digest`, added after the entry on a first pin. The registry-image and
docker-image resources have no `source.digest` (concourse/registry-image-resource#45), and a
resource type has no `version` (atc's `ResourceType`), so a resource type's image is reported but
cannot be pinned in the file. Entries of `resources` are not reported: they are version streams
the pipeline checks, gets and puts (often its own build output); Concourse records the digest of
each version it uses, and freezing one would stop the pipeline following it.
"""

from __future__ import annotations

import math
import posixpath
from collections.abc import Iterator

from pinbot.scanners._image_map import ImageMap, composed_reference, line_after
from pinbot.scanners._kinds import is_concourse_document
from pinbot.scanners._yaml import (
    NOT_SPLICEABLE,
    MappingNode,
    Node,
    ScalarNode,
    SequenceNode,
    format_path,
    map_get,
    map_items,
    scalar_value,
    walk,
)
from pinbot.scanners._yaml_kind import documents_if_yaml
from pinbot.scanners.interface import DigestSlot, Finding

__all__ = ["SCANNER", "ConcourseScanner"]

IMAGE_TYPES = frozenset({"registry-image", "docker-image"})

NO_TYPE_PIN = (
    "Concourse cannot pin a resource type's image by digest "
    "(resource_types have no version; the resource ignores source.digest)"
)
NO_TAG = "no tag: registry-image follows the newest semver tag, not one named tag"
ECR = "the registry is chosen at run time from aws_region (ECR)"
NO_INSERT = "image_resource is not written one key per line; a version cannot be added in place"
NUMBER_TAG = "the tag is written as a number YAML spells differently; quote it to pin it"
NO_VERSION_DIGEST = "image_resource.version has no digest key to write"

_CONCOURSE_VARIABLE = "(("


def _changes_as_number(node: ScalarNode) -> bool:
    """Whether a plain tag is one YAML reads as a number spelled differently (`1.20` is 1.2):
    Concourse passes the number on, not the characters written."""
    value = node.value
    if node.style not in (None, "") or not isinstance(value, str) or "_" in value:
        return False
    try:
        number = float(value)
    except ValueError:
        return False
    if not math.isfinite(number):
        return False
    spelled = str(int(number)) if number.is_integer() and "." not in value else repr(number)
    return spelled != value


def _end_of_entry(node: MappingNode, text: str, offset: int) -> tuple[int, str] | None:
    """Where the last line written for a block mapping ends (before its line break), and its
    line break (see `line_after`); None when its last value is not written on lines of its
    own."""
    current: Node = node
    while True:
        if isinstance(current, MappingNode) and not current.flow_style:
            if not current.value:
                return None
            key, value = current.value[-1]
            # An alias points back at a node written earlier in the file: not this entry's end.
            if value.start_mark.index < key.start_mark.index:
                return None
            current = value
        elif isinstance(current, SequenceNode) and not current.flow_style:
            if not current.value:
                return None
            current = current.value[-1]
        else:
            return line_after(current, text, offset)


def _version_insertion(image_resource: MappingNode, text: str, offset: int) -> DigestSlot | None:
    """A new `version: {digest: …}` written as two lines after the image_resource's last one."""
    if image_resource.flow_style or not image_resource.value:
        return None
    found = _end_of_entry(image_resource, text, offset)
    if found is None:
        return None
    end, newline = found
    column = image_resource.value[0][0].start_mark.column
    step = 2
    source = map_get(image_resource, "source")
    if isinstance(source, MappingNode) and not source.flow_style and source.value:
        for key, key_node, value in map_items(image_resource):
            if key == "source" and value is source:
                step = max(1, source.value[0][0].start_mark.column - key_node.start_mark.column)
    indent = " " * column
    prefix = f"{newline}{indent}version:{newline}{indent}{' ' * step}digest: "
    return DigestSlot(end, end, prefix=prefix)


def _image_source(
    node: MappingNode,
    key_path: tuple[str | int, ...],
    text: str,
    offset: int,
    *,
    anonymous: bool,
) -> Finding | None:
    """The image a registry-image/docker-image `type` + `source` pair pulls; the finding sits on
    `source.repository`. `anonymous` for a task's image_resource (which takes a version)."""
    kind = scalar_value(map_get(node, "type"))
    source = map_get(node, "source")
    if kind not in IMAGE_TYPES or not isinstance(source, MappingNode):
        return None
    repository = map_get(source, "repository")
    if not isinstance(repository, ScalarNode) or not scalar_value(repository):
        return None
    tag_node = map_get(source, "tag")
    tag = scalar_value(tag_node) or ""
    version = map_get(node, "version") if anonymous else None
    digest_node = map_get(version, "digest")
    digest = scalar_value(digest_node) or ""
    image = ImageMap(
        repository,
        format_path((*key_path, "source", "repository")),
        composed_reference(repository.value, tag, digest),
        text,
        offset,
    )
    span = image.span()
    if span is None:
        return image.unspliceable()
    if any(_CONCOURSE_VARIABLE in part for part in (repository.value, tag, digest)):
        return Finding(
            *span, image.context, reference_text=image.reference, structured=True, templated=True
        )
    note: str | None = None
    if scalar_value(map_get(source, "aws_region")):
        note = ECR
    elif isinstance(tag_node, ScalarNode) and _changes_as_number(tag_node):
        note = NUMBER_TAG
    elif not anonymous:
        note = NO_TYPE_PIN
    elif not tag and not digest and kind == "registry-image":
        note = NO_TAG
    if note is not None:
        return image.unrewritable(span, note)
    if isinstance(digest_node, ScalarNode):
        return image.pinned_at(span, image.digest_slot(digest_node), NOT_SPLICEABLE)
    if version is not None:
        return image.unrewritable(span, NO_VERSION_DIGEST)
    return image.pinned_at(span, _version_insertion(node, text, offset), NO_INSERT)


class ConcourseScanner:
    """Any `*.yml`/`*.yaml`; only documents shaped like a pipeline or a task config are read."""

    kind = "concourse"

    def matches(self, path: str) -> bool:
        return posixpath.basename(path).lower().endswith((".yml", ".yaml"))

    def scan(self, path: str, text: str) -> Iterator[Finding]:
        documents, offset = documents_if_yaml(text, claimed=False)
        for document in documents:
            if is_concourse_document(document):
                yield from self._document(document, text, offset)

    def _document(self, document: Node, text: str, offset: int) -> Iterator[Finding]:
        types = map_get(document, "resource_types")
        if isinstance(types, SequenceNode):
            for index, entry in enumerate(types.value):
                if isinstance(entry, MappingNode):
                    path: tuple[str | int, ...] = ("resource_types", index)
                    finding = _image_source(entry, path, text, offset, anonymous=False)
                    if finding is not None:
                        yield finding
        # A task config's image_resource, at the top of a task file or in any step's `config`.
        for top in ("image_resource", "jobs"):
            node = map_get(document, top)
            if node is None:
                continue
            for key_path, found in walk(node, (top,)):
                if key_path[-1] == "image_resource" and isinstance(found, MappingNode):
                    finding = _image_source(found, key_path, text, offset, anonymous=True)
                    if finding is not None:
                        yield finding


SCANNER = ConcourseScanner()
