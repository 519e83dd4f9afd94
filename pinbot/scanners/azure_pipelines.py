"""Image references in Azure Pipelines YAML: container jobs, container resources and service
containers, at pipeline, stage and job level and in template files.

What is reported:

- ``resources.containers[].image``: the image of a container resource.
- ``container:`` of the pipeline or of a job (``job`` or ``deployment``): a string is an image
  unless it is the alias of a container resource (``resources.containers[].container``); a
  mapping names its image in ``image``.
- ``services:`` of the pipeline or of a job: each value is an image unless it is the alias of
  a container resource.

Keys under a conditional insertion (``${{ if … }}:``, ``${{ else }}:``) count as keys of the
mapping that holds them. Values written with template expressions (``${{ parameters.x }}``),
macros (``$(var)``) or runtime expressions (``$[ … ]``) are reported as templated.

Not images: ``pool.vmImage`` (a hosted agent's VM image), the aliases themselves, a step's
``target`` (an alias or ``host``), ``endpoint`` (a service connection) and the
``repository`` of an ACR container resource, which names no tag.
"""

from __future__ import annotations

from collections.abc import Iterator

from pinbot.scanners._paths import path_parts
from pinbot.scanners._yaml import (
    MappingNode,
    Node,
    ScalarNode,
    SequenceNode,
    format_path,
    map_items,
    scalar_finding,
    scalar_value,
)
from pinbot.scanners._yaml_kind import YamlKind
from pinbot.scanners.interface import Finding

__all__ = ["SCANNER", "AzurePipelinesScanner", "is_azure_pipelines_path"]

_DIRECTORIES = frozenset({".azure-pipelines", "azure-pipelines", ".azuredevops", ".pipelines"})
_Path = tuple[str | int, ...]


def is_azure_pipelines_path(path: str) -> bool:
    """Whether a path names an Azure Pipelines file by the usual conventions.

    >>> [is_azure_pipelines_path(p) for p in ("azure-pipelines.yml", ".pipelines/ci.yaml", "ci.yml")]
    [True, True, False]
    """
    parts = path_parts(path.lower())
    if not parts or not parts[-1].endswith((".yml", ".yaml")):
        return False
    return parts[-1].startswith("azure-pipelines") or any(
        part in _DIRECTORIES for part in parts[:-1]
    )


def _is_expression_key(key: str) -> bool:
    return key.startswith("${{")


def _members(node: Node | None) -> Iterator[tuple[str, Node]]:
    """(key, value) of a mapping, with the keys under `${{ if … }}:` lifted into it."""
    for key, _key_node, value in map_items(node) if isinstance(node, MappingNode) else ():
        if _is_expression_key(key):
            yield from _members(value)
        else:
            yield key, value


def _member(node: Node | None, key: str) -> Node | None:
    for name, value in _members(node):
        if name == key:
            return value
    return None


def _items(node: Node | None) -> Iterator[Node]:
    """The items of a sequence, with the items under `- ${{ if … }}:` lifted into it."""
    if not isinstance(node, SequenceNode):
        return
    for item in node.value:
        keys = [key for key, _k, _v in map_items(item)] if isinstance(item, MappingNode) else []
        if keys and all(_is_expression_key(key) for key in keys):
            for _key, _key_node, value in map_items(item):
                if isinstance(value, SequenceNode):
                    yield from _items(value)
                else:
                    yield value
        else:
            yield item


def _is_templated(node: Node | None) -> bool:
    value = scalar_value(node)
    return value is not None and "$[" in value


class _PipelineReader:
    def __init__(self, text: str, offset: int, aliases: set[str]) -> None:
        self.text = text
        self.offset = offset
        self.aliases = aliases

    def finding(self, node: Node | None, path: _Path) -> Iterator[Finding]:
        found = scalar_finding(
            node, self.text, self.offset, format_path(path), templated=_is_templated(node)
        )
        if found is not None:
            yield found

    def pipeline(self, document: Node) -> Iterator[Finding]:
        resources = _member(document, "resources")
        for index, resource in enumerate(_items(_member(resources, "containers"))):
            image = _member(resource, "image")
            yield from self.finding(image, ("resources", "containers", index, "image"))
        yield from self.job(document, ())
        for index, stage in enumerate(_items(_member(document, "stages"))):
            yield from self.jobs(_member(stage, "jobs"), ("stages", index, "jobs"))
        yield from self.jobs(_member(document, "jobs"), ("jobs",))

    def jobs(self, node: Node | None, path: _Path) -> Iterator[Finding]:
        for index, job in enumerate(_items(node)):
            if isinstance(job, MappingNode) and _member(job, "template") is None:
                yield from self.job(job, (*path, index))

    def job(self, job: Node, path: _Path) -> Iterator[Finding]:
        """`container` and `services` of a job, or of a pipeline that is one job."""
        # `${{ if }}` / `${{ else }}` branches may each set the key: every one counts.
        for key, value in _members(job):
            if key == "container":
                yield from self.container(value, (*path, "container"))
            elif key == "services":
                for name, service in _members(value):
                    if (
                        isinstance(service, ScalarNode)
                        and scalar_value(service) not in self.aliases
                    ):
                        yield from self.finding(service, (*path, "services", name))

    def container(self, container: Node, path: _Path) -> Iterator[Finding]:
        if isinstance(container, ScalarNode):
            if scalar_value(container) not in self.aliases:
                yield from self.finding(container, path)
        elif isinstance(container, MappingNode):
            for key, image in _members(container):
                if key == "image":
                    yield from self.finding(image, (*path, "image"))


def _aliases(document: Node) -> set[str]:
    resources = _member(document, "resources")
    names = (
        scalar_value(_member(item, "container"))
        for item in _items(_member(resources, "containers"))
    )
    return {name for name in names if name}


class AzurePipelinesScanner(YamlKind):
    kind = "azure-pipelines"

    def matches(self, path: str) -> bool:
        return is_azure_pipelines_path(path)

    def document(self, document: Node, text: str, offset: int) -> Iterator[Finding]:
        if isinstance(document, MappingNode):
            yield from _PipelineReader(text, offset, _aliases(document)).pipeline(document)


SCANNER = AzurePipelinesScanner()
