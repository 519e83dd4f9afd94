"""YAML documents composed to nodes with positions, shared by the YAML scanners.

Scanners walk nodes (never constructed values) so every scalar keeps the offsets where it is
written. libyaml's composer is used when ruamel.yaml.clib is installed: it is an order of
magnitude faster than the pure one and gives the same marks.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Iterator
from typing import Any

from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from pinbot.scanners.interface import ScanError

__all__ = [
    "MappingNode",
    "Node",
    "ScalarNode",
    "SequenceNode",
    "compose_documents",
    "map_get",
    "map_items",
    "scalar_span",
    "scalar_value",
    "walk",
]

_FastLoader: Any = None
try:  # pragma: no branch - which composer is a property of the installation
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from ruamel.yaml.cyaml import CBaseLoader

    _FastLoader = CBaseLoader
except ImportError:  # pragma: no cover - pure fallback
    pass

_BOM = "\ufeff"


def _compose_fast(text: str) -> list[Node]:
    assert _FastLoader is not None
    loader: Any = _FastLoader(text)
    documents: list[Node] = []
    try:
        while loader.check_node():
            node = loader.get_node()
            if node is not None:
                documents.append(node)
    finally:
        loader.dispose()
    return documents


def _compose_pure(text: str) -> list[Node]:
    from ruamel.yaml import YAML

    return [node for node in YAML(typ="safe", pure=True).compose_all(text) if node is not None]


@functools.lru_cache(maxsize=8)
def compose_documents(text: str) -> tuple[tuple[Node, ...], int]:
    """All documents of `text` as nodes, and the offset to add to every mark index.

    libyaml drops a leading byte-order mark from its character count, so marks are shifted
    by one in such a file; callers go through `scalar_span`, which applies the offset.
    Raises `ScanError` with the 1-based line of the problem.
    """
    offset = 1 if text.startswith(_BOM) else 0
    body = text[offset:]
    if _FastLoader is not None:
        try:
            return tuple(_compose_fast(body)), offset
        except YAMLError:
            # libyaml refuses some YAML 1.2 that the pure composer reads (a plain scalar
            # with a colon inside a flow collection: `[acme/api:cache]`); ask it second.
            pass
    try:
        nodes = _compose_pure(body)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = exc.problem or exc.context or "invalid YAML"
        raise ScanError(f"cannot parse YAML: {problem}", line) from exc
    except YAMLError as exc:
        raise ScanError(f"cannot parse YAML: {exc}") from exc
    return tuple(nodes), offset


def scalar_value(node: Node | None) -> str | None:
    """The string value of a scalar node, None for anything else."""
    if isinstance(node, ScalarNode):
        value = node.value
        return value if isinstance(value, str) else str(value)
    return None


def scalar_span(node: ScalarNode, text: str, offset: int = 0) -> tuple[int, int] | None:
    """Character offsets of the scalar's value as written in `text`.

    Quotes are excluded. Returns None when the written characters are not the value itself
    (escapes, folded or multi-line scalars, block scalars): such a value cannot be spliced.
    """
    start = node.start_mark.index + offset
    end = node.end_mark.index + offset
    style = node.style
    if style in ('"', "'"):
        start += 1
        end -= 1
    elif style not in (None, ""):
        return None
    if start < 0 or end > len(text) or start > end:
        return None
    if text[start:end] != node.value:
        return None
    return start, end


def map_items(node: Node) -> Iterator[tuple[str, ScalarNode, Node]]:
    """(key, key node, value node) for each scalar key of a mapping, merge keys followed.

    Keys written in the mapping itself come first; merged keys they override are skipped.
    """
    if not isinstance(node, MappingNode):
        return
    seen: set[str] = set()
    merges: list[Node] = []
    for key_node, value_node in node.value:
        key = scalar_value(key_node)
        if key is None:
            continue
        if key == "<<":
            merges.append(value_node)
            continue
        seen.add(key)
        yield key, key_node, value_node
    for merged in merges:
        sources = merged.value if isinstance(merged, SequenceNode) else [merged]
        for source in sources:
            for key, key_node, value_node in map_items(source):
                if key not in seen:
                    seen.add(key)
                    yield key, key_node, value_node


def map_get(node: Node | None, key: str) -> Node | None:
    """The value node of `key` in a mapping node, merge keys followed."""
    if node is None:
        return None
    for name, _key_node, value_node in map_items(node):
        if name == key:
            return value_node
    return None


def walk(node: Node, path: tuple[str | int, ...] = ()) -> Iterator[tuple[tuple[str | int, ...], Node]]:
    """Every node under `node` with its key path, each node object visited once."""
    seen: set[int] = set()
    stack: list[tuple[tuple[str | int, ...], Node]] = [(path, node)]
    while stack:
        here, current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield here, current
        if isinstance(current, MappingNode):
            children = [((*here, key), value) for key, _k, value in map_items(current)]
            stack.extend(reversed(children))
        elif isinstance(current, SequenceNode):
            stack.extend(reversed([((*here, i), item) for i, item in enumerate(current.value)]))


def format_path(path: tuple[str | int, ...]) -> str:
    """`spec.containers[0].image` for ("spec", "containers", 0, "image")."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else part
    return out
