"""Image references in Helm values and any other YAML: `image` strings and image maps.

The generic fallback, run last: `image: "repo:tag"` anywhere (also under camelCase `…Image` and
snake_case `…_image` keys), maps shaped like `{registry, repository, tag, digest}` (some charts
say `name` for `repository`, or `version` for `tag`), and the image list a Chart.yaml carries in
its annotations. Kubernetes objects' own `image` fields are left to the Kubernetes scanner, files a
CI or build tool's scanner claims by name (workflows, pipelines, kustomizations) to it, and
Concourse pipelines and task configs (an `image` there names a resource, or a tarball to push)
to the Concourse scanner.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator, Sequence

from pinbot.scanners._image_map import ImageMap, composed_reference
from pinbot.scanners._kinds import is_concourse_document, is_gitlab_path
from pinbot.scanners._yaml import (
    NOT_SPLICEABLE,
    MappingNode,
    Node,
    ScalarNode,
    SequenceNode,
    embedded_findings,
    format_path,
    is_manifest,
    map_get,
    may_spell,
    scalar_finding,
    scalar_value,
    walk,
    written_span,
)
from pinbot.scanners._yaml_kind import documents_if_yaml
from pinbot.scanners.interface import DigestSlot, Finding, Scanner

__all__ = ["HelmScanner", "is_image_key"]

NO_DIGEST_FIELD = "chart has no digest field for this image"
FROM_APP_VERSION = "tag comes from the chart's appVersion"

# Chart.yaml annotations holding a YAML list of {name, image}: Artifact Hub's and Bitnami's.
IMAGE_ANNOTATIONS = ("artifacthub.io/images", "images")

_VALUES_NAME = re.compile(r"^values[^/]*\.ya?ml$", re.IGNORECASE)
_CAMEL_IMAGE_KEY = re.compile(r"^[a-z][A-Za-z0-9]*Image$")
_SNAKE_IMAGE_KEY = re.compile(r"^[a-z][a-z0-9]*(?:_[a-z0-9]+)*_image$")
# Where an image map keeps its tag: `tag`, or `version` in charts that spell it so
# (`{{ .Values.image.repository }}:{{ .Values.image.version }}`).
_TAG_KEYS = ("tag", "version")
# Plain scalars YAML 1.1 reads as booleans or null, and numbers: settings, not references.
_NOT_REFERENCE = re.compile(
    r"^(?:true|false|yes|no|on|off|null|~|[-+]?[0-9][0-9_.]*)$", re.IGNORECASE
)
_TEMPLATE_MARK = re.compile(r"\{\{|\$\{|\$\(")


def is_image_key(key: str | int) -> bool:
    """`image`, or a camelCase or snake_case key ending in it (`clientImage`, `inline_image`).

    `images` is not one: charts use it for a registry prefix shared by many images.
    """
    if not isinstance(key, str) or not key.endswith(("image", "Image")):
        return False  # asked for every key: most end otherwise
    return (
        key == "image"
        or _CAMEL_IMAGE_KEY.match(key) is not None
        or _SNAKE_IMAGE_KEY.match(key) is not None
    )


def _tag(node: MappingNode) -> Node | None:
    """The value of the first of `tag`, `version` the map has."""
    for key in _TAG_KEYS:
        value = map_get(node, key)
        if value is not None:
            return value
    return None


def _looks_like_reference(node: ScalarNode) -> bool:
    value = node.value.strip() if isinstance(node.value, str) else ""
    if not value:
        return False
    if _TEMPLATE_MARK.search(value):
        return True
    if node.style in (None, "") and _NOT_REFERENCE.match(value):
        return False
    return not any(char.isspace() for char in value)


def _line_insertion(after: ScalarNode, column: int, text: str, offset: int) -> DigestSlot | None:
    """A new `digest:` line after the line holding `after`, indented to `column`."""
    if after.start_mark.line != after.end_mark.line or after.style not in (None, "", '"', "'"):
        return None
    line_end = text.find("\n", after.end_mark.index + offset)
    if line_end < 0:
        newline = "\r\n" if "\r\n" in text else "\n"
        return DigestSlot(len(text), len(text), prefix=newline + " " * column + "digest: ")
    newline = "\n"
    if line_end > 0 and text[line_end - 1] == "\r":
        newline, line_end = "\r\n", line_end - 1
    return DigestSlot(line_end, line_end, prefix=newline + " " * column + "digest: ")


def _repository(node: MappingNode) -> tuple[str, ScalarNode] | None:
    """The key naming the image's repository, and its value.

    `repository`, or `name` in charts that spell it so (`{registry, name, tag}`); `name` counts
    only beside a `tag` key and when it holds no tag itself, as GitLab's `image: {name: x:1}`
    and a container's `name` do not.
    """
    repository = map_get(node, "repository")
    if repository is not None:
        return ("repository", repository) if isinstance(repository, ScalarNode) else None
    name = map_get(node, "name")
    if not isinstance(name, ScalarNode) or _tag(node) is None:
        return None
    value = scalar_value(name) or ""
    if "@" in value or ":" in value.rsplit("/", 1)[-1]:
        return None
    return "name", name


def _image_map(
    node: MappingNode, key_path: tuple[str | int, ...], text: str, offset: int
) -> Finding | None:
    """`{registry, repository, tag, digest}` (or `name` for `repository`): the finding sits on
    the repository."""
    found = _repository(node)
    if found is None or not scalar_value(found[1]):
        return None
    repository_key, repository = found
    registry = scalar_value(map_get(node, "registry")) or ""
    tag_node = _tag(node)
    tag = scalar_value(tag_node) or ""
    digest_node = map_get(node, "digest")
    digest = scalar_value(digest_node) or ""
    reference = composed_reference(repository.value, tag, digest, registry)
    image = ImageMap(repository, format_path((*key_path, repository_key)), reference, text, offset)
    span = image.span()
    if span is None:
        return image.unspliceable()
    slot: DigestSlot | None = None
    note: str | None = None
    rewritable = True
    adds_key = False
    if isinstance(digest_node, ScalarNode):
        slot = image.digest_slot(digest_node)
        rewritable = slot is not None
        note = None if rewritable else NOT_SPLICEABLE
    else:
        # An inserted `digest:` key is only honoured by charts whose templates read it: it is
        # written only when the user opts in (`pin.helm-insert-digest`). A new line goes into a
        # block mapping the map writes itself, never into one it merges from an anchor.
        own_tag = any(value is tag_node for _key, value in node.value)
        if isinstance(tag_node, ScalarNode) and own_tag and not node.flow_style:
            slot = _line_insertion(tag_node, node.value[0][0].start_mark.column, text, offset)
        rewritable, note = False, NO_DIGEST_FIELD
        adds_key = slot is not None
    if not tag and not digest:
        # No tag to resolve (the chart's appVersion is used): nothing to add a digest for.
        rewritable, note, adds_key = False, FROM_APP_VERSION, False
    return Finding(
        *span,
        image.context,
        reference_text=reference,
        digest_slot=slot,
        structured=True,
        rewritable=rewritable,
        note=note,
        adds_digest_key=adds_key,
    )


def _annotation_images(inner: str) -> Iterator[Finding]:
    """`image` values of the YAML list held in a Chart.yaml images annotation."""
    documents, offset = documents_if_yaml(inner, claimed=False)
    for document in documents:
        if not isinstance(document, SequenceNode):
            continue
        for index, item in enumerate(document.value):
            finding = scalar_finding(map_get(item, "image"), inner, offset, f"[{index}].image")
            if finding is not None:
                yield finding


class HelmScanner:
    """Any `*.yaml`/`*.yml` no CI or build tool claims by name; only `values*.yaml` and
    `Chart.yaml` must parse."""

    kind = "helm"

    def __init__(self, claimed_by_name: Sequence[Scanner]) -> None:
        # The scanners that claim files by name: an `image` key there is that tool's to
        # interpret (`with.image` of a workflow step is an input of some action, not an image
        # pulled). GitLab CI's scanner also reads YAML of GitLab's shape by content; only its
        # names count here.
        self.claimed_by_name = tuple(claimed_by_name)

    def matches(self, path: str) -> bool:
        name = posixpath.basename(path).lower()
        return name.endswith((".yaml", ".yml")) and not self._claimed_by_name(path)

    def _claimed_by_name(self, path: str) -> bool:
        """Whether a CI or build tool's scanner claims `path` by its name."""
        return is_gitlab_path(path) or any(s.matches(path) for s in self.claimed_by_name)

    def scan(self, path: str, text: str) -> Iterator[Finding]:
        name = posixpath.basename(path)
        # Another kind's file (or a template) is for its own scanner to report.
        values = bool(_VALUES_NAME.match(name)) or name == "Chart.yaml"
        documents, offset = documents_if_yaml(
            text, claimed=values and "/templates/" not in f"/{path}"
        )
        for document in documents:
            if is_concourse_document(document):
                continue
            if name == "Chart.yaml":
                yield from self._chart(document, text, offset)
            if may_spell(document, text, offset, ("mage",)):  # every image key ends so
                yield from self._values(document, text, offset)

    def _values(self, document: Node, text: str, offset: int) -> Iterator[Finding]:
        # Strings in a Kubernetes object or another tool's `apiVersion`/`kind` file (Skaffold's
        # `build.artifacts[].image` names what it builds) belong to that kind's scanner.
        owned = is_manifest(document) or (
            isinstance(document, MappingNode)
            and scalar_value(map_get(document, "apiVersion")) is not None
            and scalar_value(map_get(document, "kind")) is not None
        )
        for key_path, node in walk(document):
            if not key_path or not is_image_key(key_path[-1]):
                continue
            if isinstance(node, MappingNode):
                finding = _image_map(node, key_path, text, offset)
            elif isinstance(node, ScalarNode) and not owned and _looks_like_reference(node):
                finding = scalar_finding(node, text, offset, format_path(key_path))
            else:
                finding = None
            if finding is not None:
                yield finding

    def _chart(self, document: Node, text: str, offset: int) -> Iterator[Finding]:
        annotations = map_get(document, "annotations")
        for key in IMAGE_ANNOTATIONS:
            node = map_get(annotations, key)
            if not isinstance(node, ScalarNode):
                continue
            context = f"annotations.{key}"
            if node.style == "|":
                yield from embedded_findings(_annotation_images, node, text, offset, context)
            else:
                # Folded or quoted: the images are found, but their positions are not exact.
                # Each is shown where its text is written, or as the whole scalar.
                start, end = written_span(node, text, offset)
                cursor = start
                for finding in _annotation_images(node.value):
                    reference = finding.reference_text or node.value[finding.start : finding.end]
                    found = text.find(reference, cursor, end)
                    if found >= 0:
                        cursor = found + len(reference)
                        where = (found, cursor)
                    else:
                        where = (start, end)
                    yield Finding(
                        *where,
                        f"{context}: {finding.context}",
                        reference_text=reference,
                        rewritable=False,
                        note=NOT_SPLICEABLE,
                    )
