"""Image references in Kubernetes objects: every `image` field of a manifest, at any depth.

Pods, workload templates, Argo Workflows, Tekton steps and custom resources such as
Prometheus' `spec.image` all name their images in a field called `image`; Helm templates,
which are not YAML until rendered, are read line by line instead.

Two more fields name images the cluster pulls: an image volume's `volumes[].image.reference`
(core/v1 `ImageVolumeSource`, which "behaves in the same way as pod.spec.containers[*].image";
beta since Kubernetes 1.33) and a Tekton bundle, the OCI image a `taskRef`, `pipelineRef` or
step `ref` is read from (`bundle:`, or `resolver: bundles` with a `bundle` parameter).
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator
from dataclasses import replace

from pinbot.scanners._yaml import (
    MappingNode,
    Node,
    ScalarNode,
    SequenceNode,
    compose_documents,
    embedded_findings,
    format_path,
    is_manifest,
    map_get,
    may_spell,
    scalar_finding,
    scalar_span,
    scalar_value,
    walk,
    written_span,
)
from pinbot.scanners._yaml_kind import documents_if_yaml
from pinbot.scanners.interface import Dismissal, Finding, ScanError, SinglePassScanner

__all__ = ["SCANNER", "KubernetesScanner"]

# Subtrees that describe, not request, images: `status.containerStatuses[].image` is what
# the kubelet pulled, `metadata` holds labels and annotations, and ConfigMap/Secret `data`
# is configuration text for some program, whatever its keys are called.
_SKIPPED_ROOTS = frozenset({"status", "metadata", "data", "stringData", "binaryData"})

# Keys under which an `image` field is not a container image: an Argo loop's items are
# parameters (`{image: debian, tag: "9.1"}` becomes `{{item.image}}:{{item.tag}}`), and an
# RBD volume's `image` is a Ceph block device.
_SKIPPED_KEYS = frozenset({"withItems", "rbd"})

# Why an `image` under a skipped root or key is not pulled, for `scan --explain`.
_SKIP_REASONS = {
    "status": "a status field: what the cluster reports it ran, not what it pulls",
    "metadata": "in metadata (labels, annotations): describes the object, nothing pulls it",
    "data": "ConfigMap or Secret data: configuration text for some program",
    "stringData": "Secret data: configuration text for some program",
    "binaryData": "ConfigMap data: configuration for some program",
    "withItems": "an Argo loop item: a parameter the template combines, not an image",
    "rbd": "a Ceph RBD volume's image is a block device, not a container image",
}

# Tekton: the references that name where a Task, Pipeline or StepAction comes from.
_TEKTON_REFS = frozenset({"taskRef", "pipelineRef", "ref"})
_KEYS = ("image", "bundle")

# A Tekton step whose image is a parameter: `$(params.NAME)` or `$(params["NAME"])`.
_TEKTON_PARAM = re.compile(r"""\$\(params\.([A-Za-z0-9_.-]+)\)|\$\(params\[["']([^"']+)["']\]\)""")

# `image: value` on one line of a template; the key may be quoted and the line a list item.
_TEMPLATE_IMAGE = re.compile(
    r"""^[ \t]*(?:-[ \t]+)?(?:image|"image"|'image')[ \t]*:[ \t]+(?P<value>\S.*?)[ \t]*\r?$""",
    re.MULTILINE,
)

# `image:` with nothing after it on its line, and the lines of a mapping below it.
_TEMPLATE_IMAGE_MAP = re.compile(
    r"""^[ \t]*(?:-[ \t]+)?(?P<key>image|"image"|'image')[ \t]*:[ \t]*(?:#.*)?\r?$""",
    re.MULTILINE,
)
_TEMPLATE_LINE = re.compile(r"^(?P<content>.*?)\r?$", re.MULTILINE)
_TEMPLATE_REFERENCE = re.compile(
    r"""[ ]+(?:reference|"reference"|'reference')[ \t]*:[ \t]+(?P<value>\S.*?)[ \t]*"""
)

# A file that fails to parse is only this scanner's to report when it reads like a manifest.
_MANIFEST_LINE = re.compile(r"^apiVersion[ \t]*:", re.MULTILINE)


def _may_be_template(path: str, text: str) -> bool:
    return "{{" in text or "/templates/" in f"/{path}"


def _strip_comment(value: str) -> str:
    """`value` without a trailing `# comment`; a `#` inside `{{ }}` or quotes is kept."""
    depth = 0
    quote = ""
    i = 0
    while i < len(value):
        if quote:
            if value[i] == quote:
                quote = ""
        elif value.startswith("{{", i):
            depth += 1
            i += 1
        elif value.startswith("}}", i):
            depth = max(0, depth - 1)
            i += 1
        elif value[i] in "\"'" and depth == 0 and i == 0:
            quote = value[i]
        elif value[i] == "#" and depth == 0 and i > 0 and value[i - 1] in " \t":
            return value[:i].rstrip()
        i += 1
    return value


def template_findings(text: str) -> Iterator[Finding]:
    """`image:` values of a text that is not YAML yet (a Helm template), line by line."""
    for match in _TEMPLATE_IMAGE.finditer(text):
        start = match.start("value")
        value = _strip_comment(match.group("value"))
        if len(value) >= 2 and value[0] in "\"'" and value[-1] == value[0]:
            start, value = start + 1, value[1:-1]
        elif value[0] in "|>[&*!%@`" or (value[0] == "{" and not value.startswith("{{")):
            continue  # a block scalar, flow collection, anchor or tag: not a one-line value
        if not value.strip():
            continue
        yield Finding(start, start + len(value), "image (template, read line by line)")
    yield from _template_volume_images(text)


def _template_volume_images(text: str) -> Iterator[Finding]:
    """`reference:` under an `image:` key with no value of its own, in a template: an image
    volume (in a manifest an `image` mapping holding `reference` is nothing else)."""
    for match in _TEMPLATE_IMAGE_MAP.finditer(text):
        column = match.start("key") - match.start()
        position = match.end()
        for line in _TEMPLATE_LINE.finditer(text, position):
            content = line.group("content")
            if not content.strip() or content.lstrip().startswith("#"):
                continue
            if len(content) - len(content.lstrip(" ")) <= column:
                break  # dedented: the `image` mapping ended without a `reference`
            child = _TEMPLATE_REFERENCE.fullmatch(content)
            if child is None:
                continue
            start = line.start() + child.start("value")
            value = _strip_comment(child.group("value"))
            if len(value) >= 2 and value[0] in "\"'" and value[-1] == value[0]:
                start, value = start + 1, value[1:-1]
            one_line = value.startswith("{{") or value[:1] not in ("", *"|>[{&*!%@`")
            if value.strip() and one_line:
                yield Finding(
                    start, start + len(value), "image.reference (template, read line by line)"
                )
            break


class KubernetesScanner(SinglePassScanner):
    """Any `*.yaml`/`*.yml`; documents without `apiVersion` and `kind` give nothing."""

    kind = "kubernetes"

    def matches(self, path: str) -> bool:
        return posixpath.basename(path).lower().endswith((".yaml", ".yml"))

    def read(self, path: str, text: str) -> Iterator[Finding | Dismissal]:
        try:
            documents, offset = compose_documents(text)
        except ScanError:
            if _may_be_template(path, text):
                yield from template_findings(text)
                return
            if _MANIFEST_LINE.search(text):
                raise
            return  # not recognisably a manifest: the scanner of its own kind reports it
        for document in documents:
            # Every image this kind reads sits under an `image` or `bundle` key.
            if is_manifest(document) and may_spell(document, text, offset, _KEYS):
                yield from self._manifest(document, text, offset)

    def _manifest(self, document: Node, text: str, offset: int) -> Iterator[Finding | Dismissal]:
        parameters: dict[str, str] = {}  # Tekton parameter name -> the image field using it
        mappings: dict[tuple[str | int, ...], MappingNode] = {}
        for key_path, node in walk(document):
            if isinstance(node, MappingNode):
                mappings[key_path] = node
            if not key_path:
                continue
            skipped = _skipped(key_path)
            if isinstance(node, MappingNode) and key_path[-1] in _TEKTON_REFS and not skipped:
                yield from _bundles(node, key_path, text, offset)
            if not isinstance(node, ScalarNode):
                continue
            if skipped:
                if key_path[-1] == "image" or _is_image_volume(key_path):
                    span = scalar_span(node, text, offset) or written_span(node, text, offset)
                    yield Dismissal(*span, format_path(key_path), _SKIP_REASONS[skipped])
                continue
            if key_path[-1] == "image" or _is_image_volume(key_path):
                finding = scalar_finding(node, text, offset, format_path(key_path))
                if finding is not None:
                    platform = _pod_platform(mappings, key_path)
                    yield replace(finding, platform=platform) if platform else finding
                    used = _TEKTON_PARAM.fullmatch(node.value.strip())
                    if used:
                        parameters.setdefault(used.group(1) or used.group(2), format_path(key_path))
            elif key_path[-1] == "manifest" and node.style == "|":
                # Argo Workflows' `resource.manifest`: an object written as a literal block.
                yield from embedded_findings(
                    self._embedded, node, text, offset, format_path(key_path)
                )
        if parameters:
            yield from _parameter_defaults(document, parameters, text, offset)

    def _embedded(self, inner: str) -> Iterator[Finding]:
        documents, offset = documents_if_yaml(inner, claimed=False)
        for document in documents:
            if is_manifest(document):
                for seen in self._manifest(document, inner, offset):
                    if isinstance(seen, Finding):
                        yield seen


#: Where a container list sits in a pod spec (`spec.containers[0].image`).
_CONTAINER_LISTS = frozenset({"containers", "initContainers", "ephemeralContainers"})
_ARCH_LABELS = ("kubernetes.io/arch", "beta.kubernetes.io/arch")
_OS_LABELS = ("kubernetes.io/os", "beta.kubernetes.io/os")


def _pod_platform(
    mappings: dict[tuple[str | int, ...], MappingNode], key_path: tuple[str | int, ...]
) -> str | None:
    """`os/arch` a container's pod is scheduled on, when its pod spec pins the architecture
    with a `nodeSelector` or a required node affinity naming one architecture; else None."""
    if len(key_path) < 3 or key_path[-3] not in _CONTAINER_LISTS or key_path[-1] != "image":
        return None
    spec = mappings.get(key_path[:-3])
    if spec is None:
        return None
    selector = map_get(spec, "nodeSelector")
    arch = _first_label(selector, _ARCH_LABELS)
    os_name = _first_label(selector, _OS_LABELS)
    if arch is None:
        arch = _affinity_value(spec, _ARCH_LABELS)
    if os_name is None:
        os_name = _affinity_value(spec, _OS_LABELS)
    if arch is None:
        return None
    return f"{os_name or 'linux'}/{arch}"


def _first_label(selector: Node | None, labels: tuple[str, ...]) -> str | None:
    for label in labels:
        value = scalar_value(map_get(selector, label))
        if value:
            return value
    return None


def _affinity_value(spec: MappingNode, labels: tuple[str, ...]) -> str | None:
    """The one value every required node-selector term allows for `labels`, if there is one."""
    required = map_get(
        map_get(map_get(spec, "affinity"), "nodeAffinity"),
        "requiredDuringSchedulingIgnoredDuringExecution",
    )
    terms = map_get(required, "nodeSelectorTerms")
    if not isinstance(terms, SequenceNode) or not terms.value:
        return None
    found: set[str] = set()
    for term in terms.value:  # terms are ORed: each must name the same one value
        values: set[str] = set()
        expressions = map_get(term, "matchExpressions")
        for expression in expressions.value if isinstance(expressions, SequenceNode) else ():
            if scalar_value(map_get(expression, "key")) not in labels:
                continue
            allowed = map_get(expression, "values")
            if scalar_value(map_get(expression, "operator")) != "In" or not isinstance(
                allowed, SequenceNode
            ):
                return None
            values |= {v for v in map(scalar_value, allowed.value) if v}
        if len(values) != 1:
            return None
        found |= values
    return found.pop() if len(found) == 1 else None


def _is_image_volume(key_path: tuple[str | int, ...]) -> bool:
    """Whether a path is `…volumes[N].image.reference`: an image volume's image."""
    return (
        len(key_path) >= 4
        and key_path[-1] == "reference"
        and key_path[-2] == "image"
        and isinstance(key_path[-3], int)
        and key_path[-4] == "volumes"
    )


def _bundles(
    ref: MappingNode, key_path: tuple[str | int, ...], text: str, offset: int
) -> Iterator[Finding]:
    """The OCI image a Tekton `taskRef`/`pipelineRef`/step `ref` is read from.

    Two spellings: `bundle: IMAGE` (Tekton's v1beta1 field), and `resolver: bundles` with a
    parameter named `bundle` whose `value` is the image (the bundles resolver, which parses
    it with go-containerregistry: a tag, a digest, or both).
    """
    finding = scalar_finding(
        map_get(ref, "bundle"), text, offset, format_path((*key_path, "bundle"))
    )
    if finding is not None:
        yield finding
    if scalar_value(map_get(ref, "resolver")) != "bundles":
        return
    params = map_get(ref, "params")
    if not isinstance(params, SequenceNode):
        return
    for index, item in enumerate(params.value):
        if scalar_value(map_get(item, "name")) == "bundle":
            context = format_path((*key_path, "params", index, "value"))
            finding = scalar_finding(map_get(item, "value"), text, offset, context)
            if finding is not None:
                yield finding


def _parameter_defaults(
    document: Node, parameters: dict[str, str], text: str, offset: int
) -> Iterator[Finding]:
    """The `default` of each Tekton parameter that a step uses whole as its image."""
    for key_path, node in walk(document):
        if not key_path or key_path[-1] != "params" or not isinstance(node, SequenceNode):
            continue
        for index, item in enumerate(node.value):
            name = scalar_value(map_get(item, "name"))
            if name is None or name not in parameters:
                continue
            context = f"{format_path((*key_path, index, 'default'))} (image of {parameters[name]})"
            finding = scalar_finding(map_get(item, "default"), text, offset, context)
            if finding is not None:
                yield finding


def _skipped(key_path: tuple[str | int, ...]) -> str | None:
    """The root (`metadata`, `status`, ConfigMap `data`) or key a path is skipped under.

    Objects inside a `kind: List` (`items[N]`) are treated like top-level ones.
    """
    if len(key_path) > 2 and key_path[0] == "items" and isinstance(key_path[1], int):
        key_path = key_path[2:]
    if isinstance(key_path[0], str) and key_path[0] in _SKIPPED_ROOTS:
        return key_path[0]
    if _SKIPPED_KEYS.isdisjoint(key_path):  # asked for every node: the common answer first
        return None
    return next(
        (part for part in key_path if isinstance(part, str) and part in _SKIPPED_KEYS), None
    )


SCANNER = KubernetesScanner()
