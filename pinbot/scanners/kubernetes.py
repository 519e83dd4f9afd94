"""Image references in Kubernetes objects: every `image` field of a manifest, at any depth.

Pods, workload templates, Argo Workflows, Tekton steps and custom resources such as
Prometheus' `spec.image` all name their images in a field called `image`; Helm templates,
which are not YAML until rendered, are read line by line instead.
"""

from __future__ import annotations

import bisect
import posixpath
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace

from pinbot.scanners._yaml import (
    MappingNode,
    Node,
    ScalarNode,
    SequenceNode,
    compose_documents,
    format_path,
    map_get,
    scalar_span,
    scalar_value,
    walk,
)
from pinbot.scanners.interface import DigestSlot, Finding, ScanError

__all__ = ["SCANNER", "KubernetesScanner", "embedded_findings", "is_manifest", "scalar_finding"]

NOT_SPLICEABLE = (
    "written as a block, folded, multi-line or escaped YAML scalar; cannot be rewritten in place"
)

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

# Configuration files of other tools that borrow `apiVersion`/`kind`: their own scanners
# read them (Skaffold's `build.artifacts[].image` names an image it builds).
_OTHER_TOOLS = ("skaffold/", "kustomize.config.k8s.io/")

# `image: value` on one line of a template; the key may be quoted and the line a list item.
_TEMPLATE_IMAGE = re.compile(
    r"""^[ \t]*(?:-[ \t]+)?(?:image|"image"|'image')[ \t]*:[ \t]+(?P<value>\S.*?)[ \t]*\r?$""",
    re.MULTILINE,
)

# A file that fails to parse is only this scanner's to report when it reads like a manifest.
_MANIFEST_LINE = re.compile(r"^apiVersion[ \t]*:", re.MULTILINE)


def scalar_finding(
    node: Node | None,
    text: str,
    offset: int,
    context: str,
    *,
    note: str | None = None,
) -> Finding | None:
    """A finding for a scalar holding a whole image reference; None for anything else.

    A value that cannot be spliced (block or escaped scalar) is still reported, at its
    first character and not rewritable.
    """
    value = scalar_value(node)
    if value is None or not value.strip():
        return None
    assert isinstance(node, ScalarNode)
    span = scalar_span(node, text, offset)
    if span is None:
        start = node.start_mark.index + offset
        return Finding(
            start,
            start,
            context,
            reference_text=value.strip(),
            rewritable=False,
            note=NOT_SPLICEABLE,
        )
    return Finding(span[0], span[1], context, note=note)


def is_manifest(document: Node) -> bool:
    """Whether a YAML document is a Kubernetes object: a mapping with `apiVersion` and `kind`."""
    api_version = scalar_value(map_get(document, "apiVersion"))
    return (
        isinstance(document, MappingNode)
        and bool(api_version)
        and bool(scalar_value(map_get(document, "kind")))
        and not str(api_version).startswith(_OTHER_TOOLS)
    )


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


def _block_lines(
    node: ScalarNode, text: str, offset: int
) -> tuple[list[int], list[int], int] | None:
    """For a literal block scalar: where each value line starts in the value and in `text`,
    and the block's indentation. None when the block does not map line by line."""
    value = node.value
    indicator = node.start_mark.index + offset
    first = text.find("\n", indicator) + 1
    if first == 0 or not isinstance(value, str):
        return None
    inner_starts = [0]
    for i, char in enumerate(value):
        if char == "\n":
            inner_starts.append(i + 1)
    outer_starts = [first]
    for _ in inner_starts[1:]:
        following = text.find("\n", outer_starts[-1])
        if following < 0:
            break
        outer_starts.append(following + 1)
    for inner_start, outer_start in zip(inner_starts, outer_starts, strict=False):
        line_end = value.find("\n", inner_start)
        line = value[inner_start : len(value) if line_end < 0 else line_end]
        if line.strip():
            written = len(text) - len(text[outer_start:].lstrip(" ")) - outer_start
            indent = written - (len(line) - len(line.lstrip(" ")))
            return inner_starts, outer_starts, indent
    return None


def embedded_findings(
    scan: Callable[[str], Iterable[Finding]], node: ScalarNode, text: str, offset: int, context: str
) -> Iterator[Finding]:
    """Findings in YAML held in a literal block scalar, their offsets moved into `text`.

    A finding whose text does not sit verbatim at the moved span (tabs, odd indentation) is
    still reported, not rewritable.
    """
    layout = _block_lines(node, text, offset)
    if layout is None:
        return
    inner_starts, outer_starts, indent = layout
    inner = node.value

    def moved(position: int) -> int | None:
        line = bisect.bisect_right(inner_starts, position) - 1
        if line >= len(outer_starts):
            return None
        return outer_starts[line] + indent + position - inner_starts[line]

    for finding in scan(inner):
        start, end = moved(finding.start), moved(finding.end)
        nested = f"{context}: {finding.context}"
        exact = (
            start is not None
            and end is not None
            and text[start:end] == inner[finding.start : finding.end]
        )
        slot = finding.digest_slot
        if exact and slot is not None:
            slot_start, slot_end = moved(slot.start), moved(slot.end)
            if (
                slot_start is None
                or slot_end is None
                or text[slot_start:slot_end] != inner[slot.start : slot.end]
            ):
                exact = False
            else:
                pad = "\n" + " " * indent
                slot = DigestSlot(
                    slot_start,
                    slot_end,
                    slot.prefix.replace("\n", pad),
                    slot.suffix.replace("\n", pad),
                )
        if exact and start is not None and end is not None:
            yield replace(finding, start=start, end=end, context=nested, digest_slot=slot)
        else:
            anchor = node.start_mark.index + offset
            yield replace(
                finding,
                start=anchor,
                end=anchor,
                context=nested,
                reference_text=finding.reference_text or inner[finding.start : finding.end],
                digest_slot=None,
                rewritable=False,
                note=NOT_SPLICEABLE,
            )


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
