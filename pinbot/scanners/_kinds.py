"""Signs that a file is of one kind, for the scanners that must leave that kind's files alone.

The generic Helm-values scanner skips GitLab CI files and Concourse documents; the GitLab CI
and Concourse scanners read the same signs to claim them.
"""

from __future__ import annotations

import posixpath

from pinbot.scanners._yaml import MappingNode, Node, SequenceNode, map_get, map_items

__all__ = ["is_concourse_document", "is_gitlab_path"]


def is_gitlab_path(path: str) -> bool:
    """Whether the file name alone says GitLab CI."""
    directory, name = posixpath.split(path)
    if not name.endswith((".yml", ".yaml")):
        return False
    if name.startswith(".gitlab-ci.") or name.endswith((".gitlab-ci.yml", ".gitlab-ci.yaml")):
        return True
    parts = directory.split("/")
    return ".gitlab" in parts or ".gitlab-ci" in parts


def _entries_with(node: Node | None, *keys: str) -> bool:
    """Whether `node` is a list holding a mapping that has all of `keys`."""
    if not isinstance(node, SequenceNode):
        return False
    for item in node.value:
        names = {name for name, _k, _v in map_items(item)}
        if names.issuperset(keys):
            return True
    return False


def is_concourse_document(document: Node) -> bool:
    """A pipeline (jobs with a `plan`, or resources/resource types with `type` and `source`) or a
    task config (`platform` and `run`)."""
    if not isinstance(document, MappingNode):
        return False
    if map_get(document, "platform") is not None and map_get(document, "run") is not None:
        return True
    return (
        _entries_with(map_get(document, "jobs"), "name", "plan")
        or _entries_with(map_get(document, "resource_types"), "name", "type", "source")
        or _entries_with(map_get(document, "resources"), "name", "type", "source")
    )
