"""Image references in Buildkite pipelines: the Docker plugin's `image`, and the `image` a
hosted agent runs a step in, at pipeline or step level.

What is reported:

- ``image`` at the top of a pipeline and on a step (hosted agents run the job in it);
- ``image`` in the configuration of the Docker plugin, however it is named: ``docker#v5.13.0``,
  ``buildkite-plugins/docker#v5``, a Git URL of ``docker-buildkite-plugin``;
- in the configuration of the Kubernetes plugin (agent-stack-k8s), ``image`` of
  ``podSpec.containers``, ``podSpec.initContainers`` and ``sidecars``.

Steps inside a ``group`` are read too. Not images: the Docker Compose plugin's options (``run``
names a service, ``image-repository`` and ``cache-from`` are push and cache locations),
``agents`` tags, ``env`` values, and any other plugin's configuration.
"""

from __future__ import annotations

from collections.abc import Iterator

from pinbot.scanners._paths import path_parts
from pinbot.scanners._yaml import (
    MappingNode,
    Node,
    SequenceNode,
    map_get,
    map_items,
)
from pinbot.scanners._yaml_kind import YamlKind, image_field
from pinbot.scanners.interface import Finding

__all__ = ["SCANNER", "BuildkiteScanner", "is_buildkite_path", "plugin_name"]


def is_buildkite_path(path: str) -> bool:
    """`buildkite.yml`, `.buildkite/pipeline*.yml` and YAML under `.buildkite/pipelines/`.

    >>> [is_buildkite_path(p) for p in (".buildkite/pipeline.deploy.yml", ".buildkite/docker-compose.yml")]
    [True, False]
    """
    parts = path_parts(path)
    if not parts or not parts[-1].lower().endswith((".yml", ".yaml")):
        return False
    name = parts[-1].lower()
    if name.lstrip(".") in ("buildkite.yml", "buildkite.yaml"):
        return True
    directories = parts[:-1]
    if ".buildkite" not in directories:
        return False
    return name.startswith("pipeline") or directories[-1] == "pipelines"


def plugin_name(reference: str) -> str:
    """The short name of a plugin reference: its repository's name without the version and
    the `-buildkite-plugin` suffix.

    >>> [plugin_name(r) for r in ("docker#v5.13.0", "https://github.com/buildkite-plugins/docker-compose-buildkite-plugin.git#v4")]
    ['docker', 'docker-compose']
    """
    name = reference.split("#", 1)[0].rstrip("/").rsplit("/", 1)[-1].lower()
    name = name.removesuffix(".git")
    return name.removesuffix("-buildkite-plugin")


def _plugins(node: Node | None) -> Iterator[tuple[str, Node]]:
    """(reference, configuration) of each plugin, from the list form or the older map form."""
    if isinstance(node, SequenceNode):
        for item in node.value:
            for key, _key_node, config in map_items(item) if isinstance(item, MappingNode) else ():
                yield key, config
    elif isinstance(node, MappingNode):
        for key, _key_node, config in map_items(node):
            yield key, config


class _Reader:
    def __init__(self, text: str, offset: int) -> None:
        self.text = text
        self.offset = offset

    def image(self, holder: Node | None, context: str) -> Iterator[Finding]:
        return image_field(holder, self.text, self.offset, context)

    def steps(self, node: Node | None, path: str) -> Iterator[Finding]:
        if not isinstance(node, SequenceNode):
            return
        for index, step in enumerate(node.value):
            if not isinstance(step, MappingNode):
                continue  # "wait", "block"
            here = f"{path}[{index}]"
            yield from self.image(step, f"{here}.image")
            for reference, config in _plugins(map_get(step, "plugins")):
                yield from self.plugin(reference, config, f"{here}.plugins.{reference}")
            yield from self.steps(map_get(step, "steps"), f"{here}.steps")

    def plugin(self, reference: str, config: Node, here: str) -> Iterator[Finding]:
        name = plugin_name(reference)
        if name == "docker":
            yield from self.image(config, f"{here}.image")
        elif name == "kubernetes":
            pod = map_get(config, "podSpec")
            for key in ("containers", "initContainers"):
                yield from self.containers(map_get(pod, key), f"{here}.podSpec.{key}")
            yield from self.containers(map_get(config, "sidecars"), f"{here}.sidecars")

    def containers(self, node: Node | None, path: str) -> Iterator[Finding]:
        if isinstance(node, SequenceNode):
            for index, container in enumerate(node.value):
                yield from self.image(container, f"{path}[{index}].image")


class BuildkiteScanner(YamlKind):
    kind = "buildkite"
    shapes = (MappingNode, SequenceNode)

    def matches(self, path: str) -> bool:
        return is_buildkite_path(path)

    def document(self, document: Node, text: str, offset: int) -> Iterator[Finding]:
        reader = _Reader(text, offset)
        if isinstance(document, SequenceNode):  # a pipeline written as its list of steps
            yield from reader.steps(document, "steps")
        elif isinstance(document, MappingNode):
            yield from reader.image(document, "image")
            yield from reader.steps(map_get(document, "steps"), "steps")


SCANNER = BuildkiteScanner()
