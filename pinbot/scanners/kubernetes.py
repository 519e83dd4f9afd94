"""Image references in Kubernetes objects: every `image` field of a manifest, at any depth.

Pods, workload templates, Argo Workflows, Tekton steps and custom resources such as
Prometheus' `spec.image` all name their images in a field called `image`; Helm templates,
which are not YAML until rendered, are read line by line instead.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator

from pinbot.scanners._yaml import (
    Node,
    ScalarNode,
    SequenceNode,
    compose_documents,
    embedded_findings,
    format_path,
    is_manifest,
    map_get,
    scalar_finding,
    scalar_value,
    walk,
)
from pinbot.scanners.interface import Finding, ScanError

__all__ = ["SCANNER", "KubernetesScanner"]

# Subtrees that describe, not request, images: `status.containerStatuses[].image` is what
# the kubelet pulled, `metadata` holds labels and annotations, and ConfigMap/Secret `data`
# is configuration text for some program, whatever its keys are called.
_SKIPPED_ROOTS = frozenset({"status", "metadata", "data", "stringData", "binaryData"})

# Keys under which an `image` field is not a container image: an Argo loop's items are
# parameters (`{image: debian, tag: "9.1"}` becomes `{{item.image}}:{{item.tag}}`), and an
# RBD volume's `image` is a Ceph block device.
_SKIPPED_KEYS = frozenset({"withItems", "rbd"})

# A Tekton step whose image is a parameter: `$(params.NAME)` or `$(params["NAME"])`.
_TEKTON_PARAM = re.compile(r"""\$\(params\.([A-Za-z0-9_.-]+)\)|\$\(params\[["']([^"']+)["']\]\)""")

# `image: value` on one line of a template; the key may be quoted and the line a list item.
_TEMPLATE_IMAGE = re.compile(
    r"""^[ \t]*(?:-[ \t]+)?(?:image|"image"|'image')[ \t]*:[ \t]+(?P<value>\S.*?)[ \t]*\r?$""",
    re.MULTILINE,
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


class KubernetesScanner:
    """Any `*.yaml`/`*.yml`; documents without `apiVersion` and `kind` give nothing."""

    kind = "kubernetes"

    def matches(self, path: str) -> bool:
        return posixpath.basename(path).lower().endswith((".yaml", ".yml"))

    def scan(self, path: str, text: str) -> Iterator[Finding]:
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
            if is_manifest(document):
                yield from self._manifest(document, text, offset)

    def _manifest(self, document: Node, text: str, offset: int) -> Iterator[Finding]:
        parameters: dict[str, str] = {}  # Tekton parameter name -> the image field using it
        for key_path, node in walk(document):
            if not key_path or not isinstance(node, ScalarNode) or _skipped(key_path):
                continue
            if key_path[-1] == "image":
                finding = scalar_finding(node, text, offset, format_path(key_path))
                if finding is not None:
                    yield finding
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
        try:
            documents, offset = compose_documents(inner)
        except ScanError:
            return
        for document in documents:
            if is_manifest(document):
                yield from self._manifest(document, inner, offset)


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


def _skipped(key_path: tuple[str | int, ...]) -> bool:
    """Whether a path is under an object's `metadata`, `status` or ConfigMap `data`.

    Objects inside a `kind: List` (`items[N]`) are treated like top-level ones.
    """
    if len(key_path) > 2 and key_path[0] == "items" and isinstance(key_path[1], int):
        key_path = key_path[2:]
    return key_path[0] in _SKIPPED_ROOTS or any(part in _SKIPPED_KEYS for part in key_path)


SCANNER = KubernetesScanner()
