"""YAML documents composed to nodes with positions, and the findings the YAML scanners make
of them: one scalar, a digest slot, YAML embedded in a literal block.

Scanners walk nodes (never constructed values) so every scalar keeps the offsets where it is
written. libyaml's composer is used when ruamel.yaml.clib is installed: it is an order of
magnitude faster than the pure one and gives the same marks.
"""

from __future__ import annotations

import bisect
import functools
import gc
import operator
import re
import warnings
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from typing import Any, ClassVar

from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.events import CollectionEndEvent, CollectionStartEvent
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from pinbot.scanners.interface import DigestSlot, Dismissal, Finding, ScanError

__all__ = [
    "NOT_SPLICEABLE",
    "MappingNode",
    "Node",
    "ScalarNode",
    "SequenceNode",
    "compose_documents",
    "digest_slot",
    "embedded_findings",
    "entries",
    "format_path",
    "is_manifest",
    "map_get",
    "map_items",
    "may_spell",
    "scalar_dismissal",
    "scalar_finding",
    "scalar_or_key_finding",
    "scalar_span",
    "scalar_value",
    "unrewritable_map_finding",
    "walk",
    "written_span",
]

NOT_SPLICEABLE = (
    "written as a block, folded, multi-line or escaped YAML scalar; cannot be rewritten in place"
)

# Configuration files of other tools that borrow `apiVersion`/`kind`: their own scanners
# read them (Skaffold's `build.artifacts[].image` names an image it builds).
_OTHER_TOOLS = ("skaffold/", "kustomize.config.k8s.io/")

# ruamel.yaml warns about what YAML allows (an anchor defined again), quoting the file's lines
# on stderr; what matters in a file the scanners report themselves, located and escaped.
warnings.filterwarnings("ignore", module=r"ruamel\.yaml\.")

_FastLoader: Any = None
try:  # pragma: no branch - which composer is a property of the installation
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from ruamel.yaml.cyaml import CBaseLoader

    class _NodeLoader(CBaseLoader):
        """libyaml's composer with the base resolver's answers given directly.

        The base resolver has no implicit resolvers: every node gets its kind's default tag.
        Asking it costs a dictionary walk per scalar, a fifth of composing. Nor has it path
        resolvers, so descending into a node and ascending from it do nothing; the composer
        still calls both for every node, so they are builtins that take the arguments and do
        nothing with them, which spares two Python calls a node (a tenth of composing).
        """

        _DEFAULT_TAGS: ClassVar[dict[type, Any]] = {
            ScalarNode: CBaseLoader.DEFAULT_SCALAR_TAG,
            SequenceNode: CBaseLoader.DEFAULT_SEQUENCE_TAG,
            MappingNode: CBaseLoader.DEFAULT_MAPPING_TAG,
        }
        descend_resolver = operator.is_  # type: ignore[assignment]  # (node, index) -> ignored
        ascend_resolver = gc.isenabled  # type: ignore[assignment]  # () -> ignored

        def __init__(self, stream: str) -> None:
            # The parser alone. The constructor and resolver parts are never asked (nodes are
            # not constructed, the resolver's answers are above), and setting them up ties the
            # loader to itself in cycles that keep it, the text and its copy alive until a
            # full garbage collection.
            parser: Any = super(CBaseLoader, self)  # libyaml's parser, next in line
            parser.__init__(stream)

        def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
            return self._DEFAULT_TAGS[kind]

    if CBaseLoader.yaml_path_resolvers:  # pragma: no cover - none in any ruamel.yaml so far
        del _NodeLoader.descend_resolver, _NodeLoader.ascend_resolver, _NodeLoader.__init__

    _FastLoader = _NodeLoader
except ImportError:  # pragma: no cover - pure fallback
    pass

_BOM = "\ufeff"

# Deeper than any configuration file is written. A document nested deeper, counting through
# aliases and merge keys, is refused: scanners walk nodes recursively.
MAX_DEPTH = 200
# libyaml's composer recurses in C, once per level, without a limit: tens of thousands of
# levels overflow the stack and kill the process. A text that may nest this deep is measured
# first with the parser, which keeps its own stack.
_COMPOSE_SAFELY = 5000


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


def _nesting_bound(text: str) -> int:
    """An upper bound on how deep the collections of `text` nest.

    Each two levels of block collections start at least one column further right, so lines
    bound them; every flow level is written with a bracket.
    """
    longest = max(map(len, text.split("\n")))
    return 2 * (longest + 1) + text.count("[") + text.count("{")


def _too_deep_at(events: Iterator[Any]) -> int | None:
    """The 1-based line where collections first nest deeper than `MAX_DEPTH`, read from parser
    events (which keep their own stack, unlike the composers); None if they never do."""
    depth = 0
    try:
        for event in events:
            if isinstance(event, CollectionStartEvent):
                depth += 1
                if depth > MAX_DEPTH:
                    return int(event.start_mark.line) + 1
            elif isinstance(event, CollectionEndEvent):
                depth -= 1
    except YAMLError:
        pass  # composing reports the error where it is
    return None


def _fast_events(text: str) -> Iterator[Any]:
    loader: Any = _FastLoader(text)
    try:
        while loader.check_event():
            yield loader.get_event()
    finally:
        loader.dispose()


def _children(node: Node) -> list[Node]:
    if isinstance(node, MappingNode):
        return [child for pair in node.value for child in pair if not isinstance(child, ScalarNode)]
    if isinstance(node, SequenceNode):
        return [child for child in node.value if not isinstance(child, ScalarNode)]
    return []


def _check_shape(documents: Iterable[Node]) -> None:
    """Refuse an alias to a node that holds it (a cycle) and nesting deeper than MAX_DEPTH,
    counting through aliases: scanners that follow them would recurse without end."""
    heights: dict[int, int] = {}
    for document in documents:
        top = _children(document)
        path: list[tuple[Node, list[Node], Iterator[Node]]] = [(document, top, iter(top))]
        on_path = {id(document)}
        while path:
            node, children, pending = path[-1]
            child = next(pending, None)
            if child is None:
                path.pop()
                on_path.discard(id(node))
                heights[id(node)] = 1 + max((heights[id(c)] for c in children), default=0)
                continue
            if id(child) in on_path:
                line = child.start_mark.line + 1
                raise ScanError("an alias refers to a node that contains it", line)
            if id(child) in heights:
                if heights[id(child)] + len(path) > MAX_DEPTH:
                    raise ScanError("nested too deeply", child.start_mark.line + 1)
                continue
            if len(path) >= MAX_DEPTH:
                raise ScanError("nested too deeply", child.start_mark.line + 1)
            below = _children(child)
            path.append((child, below, iter(below)))
            on_path.add(id(child))


def _pure_events(text: str) -> Iterator[Any]:
    from ruamel.yaml import YAML

    return iter(YAML(typ="safe", pure=True).parse(text))


def _compose_pure(text: str) -> list[Node]:
    from ruamel.yaml import YAML

    return [node for node in YAML(typ="safe", pure=True).compose_all(text) if node is not None]


def compose_documents(text: str) -> tuple[tuple[Node, ...], int]:
    """All documents of `text` as nodes, and the offset to add to every mark index.

    libyaml drops a leading byte-order mark from its character count, so marks are shifted
    by one in such a file; callers go through `scalar_span`, which applies the offset.
    Raises `ScanError` with the 1-based line of the problem, and for a document nested deeper
    than `MAX_DEPTH` or holding an alias to a node that contains it.
    """
    composed = _composed(text)
    if isinstance(composed, ScanError):
        # A fresh exception each time: re-raising one object would chain its tracebacks.
        raise ScanError(composed.message, composed.line)
    return composed


# Every YAML scanner a path names composes the same text: the last few answers are kept, a
# refusal too (a broken file was composed twice over, by both composers, per scanner).
@functools.lru_cache(maxsize=8)
def _composed(text: str) -> tuple[tuple[Node, ...], int] | ScanError:
    offset = 1 if text.startswith(_BOM) else 0
    body = text[offset:]
    try:
        nodes = _compose(body)
        if not _shallow_tree(body):
            _check_shape(nodes)
    except ScanError as exc:
        return exc
    return tuple(nodes), offset


# Where an alias may be written: `*` and a name's first character at the start of a token,
# which follows a space or line break, a flow bracket or comma, or an indicator (a colon
# may touch a JSON-like key's value). A `*` elsewhere is inside a scalar (`**/*.yaml`).
_ALIAS = re.compile(r"(?:^|[\s\[\]{},:?\-\ufeff])\*[^\s\[\]{},]", re.MULTILINE)
# What may come before a block collection's first token on its line: indentation, the
# indicators of the entries and keys holding it (`- `, `? `, `: `), and a byte-order mark,
# which libyaml skips at the start of a line.
_BEFORE_BLOCK_NODE = " \t?:\ufeff-"


def _shallow_tree(body: str) -> bool:
    """Whether `body` is sure to compose to trees no deeper than `MAX_DEPTH`: then the walk
    of `_check_shape` can find nothing, and is left out.

    No alias without its token, `*name` where a token may start (after a space, a line break,
    an indicator or a flow bracket), so every document is a tree. A block collection starts
    where its first token is, after only indentation and indicators on its line, and every
    two levels of block collections start at least one column further right (a sequence may
    sit at its mapping key's column; anything else nested is indented more), so lines that
    start with fewer than n such characters nest at most 2n block levels; each flow level is
    written with a bracket. `splitlines` breaks at every line break libyaml knows (YAML 1.1:
    CR, LF, NEL, LS, PS) and a few more, which only adds line starts to look at.
    """
    if "*" in body and _ALIAS.search(body):
        return False
    n = (MAX_DEPTH - 2 - body.count("[") - body.count("{")) // 2
    if n <= 0:
        return False
    for line in body.splitlines():
        if len(line) >= n and len(line) - len(line.lstrip(_BEFORE_BLOCK_NODE)) >= n:
            return False
    return True


def _compose(body: str) -> list[Node]:
    if _FastLoader is not None:
        if _nesting_bound(body) > _COMPOSE_SAFELY:
            line = _too_deep_at(_fast_events(body))
            if line is not None:
                raise ScanError("nested too deeply", line)
        try:
            return _compose_fast(body)
        except YAMLError:
            # libyaml refuses some YAML 1.2 that the pure composer reads (a plain scalar
            # with a colon inside a flow collection: `[acme/api:cache]`); ask it second.
            pass
    try:
        return _compose_pure(body)
    except RecursionError:
        raise ScanError("nested too deeply", _too_deep_at(_pure_events(body))) from None
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = exc.problem or exc.context or "invalid YAML"
        raise ScanError(f"cannot parse YAML: {problem}", line) from exc
    except YAMLError as exc:
        raise ScanError(f"cannot parse YAML: {exc}") from exc


def scalar_value(node: Node | None) -> str | None:
    """The string value of a scalar node, None for anything else."""
    if isinstance(node, ScalarNode):
        value = node.value
        return value if isinstance(value, str) else str(value)
    return None


_NODE_PROPERTIES = re.compile(r"(?:[&!][^\s]*\s+)*")


def scalar_span(node: ScalarNode, text: str, offset: int = 0) -> tuple[int, int] | None:
    """Character offsets of the scalar's value as written in `text`.

    Quotes, an anchor (`&name`) and a tag (`!!str`) before the value are excluded. Returns
    None when the written characters are not the value itself (escapes, folded or multi-line
    scalars, block scalars): such a value cannot be spliced.
    """
    first = node.start_mark.index + offset
    end = node.end_mark.index + offset
    style = node.style
    value = node.value
    if not isinstance(value, str) or end > len(text):
        return None
    if style in ('"', "'"):
        end -= 1  # the closing quote
        if end < 1 or text[end] != style:
            return None
    elif style not in (None, ""):
        return None
    start = end - len(value)
    opening = start - 1 if style in ('"', "'") else start
    if opening < first or text[start:end] != value:
        return None
    if style in ('"', "'") and text[opening] != style:
        return None
    # Whatever precedes the value inside the node must be its anchor and tag, nothing else.
    if _NODE_PROPERTIES.fullmatch(text, first, opening) is None:
        return None
    return start, end


def written_span(node: Node, text: str, offset: int = 0) -> tuple[int, int]:
    """Character offsets of a node as written: from its first character (a quote, a block
    indicator) to its last, trailing spaces and line breaks left out.

    Where a value that cannot be spliced is reported, so a person sees it as it is written.
    """
    start = node.start_mark.index + offset
    end = min(node.end_mark.index + offset, len(text))
    while end > start and text[end - 1] in " \t\r\n":
        end -= 1
    return start, max(start, end)


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


def entries(node: Node | None) -> Iterator[tuple[str, ScalarNode, Node]]:
    """`map_items` of a mapping; nothing for a missing value or one of another shape."""
    if isinstance(node, MappingNode):
        yield from map_items(node)


def map_get(node: Node | None, key: str) -> Node | None:
    """The value node of `key` in a mapping node, merge keys followed."""
    if not isinstance(node, MappingNode):
        return None
    merges = False
    for key_node, value_node in node.value:  # the keys written in the mapping itself win
        if isinstance(key_node, ScalarNode):
            name = key_node.value
            if not isinstance(name, str):
                name = str(name)
            if name == "<<":
                merges = True
            elif name == key:
                found: Node = value_node
                return found
    if merges:
        for name, _key_node, value_node in map_items(node):
            if name == key:
                return value_node
    return None


def walk(
    node: Node, path: tuple[str | int, ...] = ()
) -> Iterator[tuple[tuple[str | int, ...], Node]]:
    """Every node under `node` with its key path, each node object visited once."""
    # Every scanner walks every node: the children of a mapping without merge keys are read
    # here directly, as `map_items` gives them.
    seen: set[int] = set()
    stack: list[tuple[tuple[str | int, ...], Node]] = [(path, node)]
    pop, push = stack.pop, stack.extend
    while stack:
        here, current = pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield here, current
        if isinstance(current, MappingNode):
            children: list[tuple[tuple[str | int, ...], Node]] = []
            for key_node, value_node in current.value:
                if isinstance(key_node, ScalarNode):
                    key = key_node.value
                    if not isinstance(key, str):
                        key = str(key)
                    if key == "<<":
                        children = [((*here, k), v) for k, _k, v in map_items(current)]
                        break
                    children.append(((*here, key), value_node))
            children.reverse()
            push(children)
        elif isinstance(current, SequenceNode):
            items = current.value
            push([((*here, i), items[i]) for i in range(len(items) - 1, -1, -1)])


def may_spell(node: Node, text: str, offset: int, words: tuple[str, ...]) -> bool:
    """Whether one of `words` may be a key or value within a document's node: written in its
    text, or an escape (`\\`) is, which could spell one.

    Aliases and merge keys point inside their document, so what is not written in its text is
    nowhere in it: a scanner that reads only such keys has nothing to walk.
    """
    start, end = node.start_mark.index + offset, node.end_mark.index + offset
    return text.find("\\", start, end) >= 0 or any(
        text.find(word, start, end) >= 0 for word in words
    )


def format_path(path: tuple[str | int, ...]) -> str:
    """`spec.containers[0].image` for ("spec", "containers", 0, "image")."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else part
    return out


def is_manifest(document: Node) -> bool:
    """Whether a YAML document is a Kubernetes object: a mapping with `apiVersion` and `kind`."""
    api_version = scalar_value(map_get(document, "apiVersion"))
    return (
        isinstance(document, MappingNode)
        and bool(api_version)
        and bool(scalar_value(map_get(document, "kind")))
        and not str(api_version).startswith(_OTHER_TOOLS)
    )


def scalar_finding(
    node: Node | None,
    text: str,
    offset: int,
    context: str,
    *,
    prefix: str = "",
    templated: bool = False,
    note: str | None = None,
) -> Finding | None:
    """A finding for a scalar holding a whole image reference; None for anything else.

    With `prefix` (a scheme such as `docker://`) only values that start with it count, and
    the span skips it. A value that cannot be spliced (block or escaped scalar) is still
    reported, spanning the scalar as written, and not rewritable.
    """
    value = scalar_value(node)
    if value is None or not value.startswith(prefix) or not value[len(prefix) :].strip():
        return None
    assert isinstance(node, ScalarNode)
    span = scalar_span(node, text, offset)
    if span is None:
        return Finding(
            *written_span(node, text, offset),
            context,
            reference_text=value[len(prefix) :].strip(),
            templated=templated,
            rewritable=False,
            note=NOT_SPLICEABLE,
        )
    return Finding(span[0] + len(prefix), span[1], context, templated=templated, note=note)


def scalar_dismissal(
    node: Node | None, text: str, offset: int, context: str, reason: str
) -> Dismissal | None:
    """A dismissal of a non-empty scalar (text that is not a reference to pin), where it is
    written; None for anything else."""
    value = scalar_value(node)
    if value is None or not value.strip():
        return None
    assert isinstance(node, ScalarNode)
    span = scalar_span(node, text, offset) or written_span(node, text, offset)
    return Dismissal(*span, context, reason)


def scalar_or_key_finding(
    node: Node | None, key: str, text: str, offset: int, context: str
) -> Finding | None:
    """`scalar_finding` for a reference written either as the value itself or under `key` of a
    mapping (`image: alpine:3` or `image: {name: alpine:3}`)."""
    if isinstance(node, MappingNode):
        return scalar_finding(map_get(node, key), text, offset, f"{context}.{key}")
    return scalar_finding(node, text, offset, context)


def unrewritable_map_finding(
    span: tuple[int, int], context: str, reference: str, note: str
) -> Finding:
    """A reference composed from a mapping's fields, reported at `span` but not rewritten,
    with `note` saying why."""
    return Finding(
        *span, context, reference_text=reference, structured=True, rewritable=False, note=note
    )


def digest_slot(node: ScalarNode, text: str, offset: int) -> DigestSlot | None:
    """The slot of an existing `digest` key: its value, or right after `digest:` when empty."""
    if node.value == "" and node.style in (None, ""):
        # An empty plain value is marked right after the colon: write " sha256:…" there.
        start = node.start_mark.index + offset
        return DigestSlot(start, start, prefix=" ")
    span = scalar_span(node, text, offset)
    return DigestSlot(*span) if span is not None else None


@dataclass(frozen=True)
class _Block:
    """A literal block scalar holding YAML, line by line: where each line of its value starts
    in the value (`inner_starts`) and in `text` (`outer_starts`), and its indentation."""

    node: ScalarNode
    text: str
    offset: int
    inner_starts: list[int]
    outer_starts: list[int]
    indent: int

    @classmethod
    def of(cls, node: ScalarNode, text: str, offset: int) -> _Block | None:
        """The block's layout; None when it does not map line by line."""
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
                return cls(node, text, offset, inner_starts, outer_starts, indent)
        return None

    def moved(self, position: int) -> int | None:
        """Where value char `position` is written in `text`; None past the written lines."""
        line = bisect.bisect_right(self.inner_starts, position) - 1
        if line >= len(self.outer_starts):
            return None
        return self.outer_starts[line] + self.indent + position - self.inner_starts[line]

    def moved_span(self, start: int, end: int) -> tuple[int, int] | None:
        """Value chars [start, end) in `text`; None when they are not written there verbatim."""
        moved_start, moved_end = self.moved(start), self.moved(end)
        if moved_start is None or moved_end is None:
            return None
        if self.text[moved_start:moved_end] != self.node.value[start:end]:
            return None
        return moved_start, moved_end

    def moved_slot(self, slot: DigestSlot) -> DigestSlot | None:
        """A digest slot in `text`, the lines it writes indented as the block's; None when its
        span is not written there verbatim."""
        span = self.moved_span(slot.start, slot.end)
        if span is None:
            return None
        pad = "\n" + " " * self.indent
        return DigestSlot(*span, slot.prefix.replace("\n", pad), slot.suffix.replace("\n", pad))

    def lines_of(self, start: int, end: int) -> tuple[int, int]:
        """The written lines holding value chars [start, end), indentation left out."""
        first = bisect.bisect_right(self.inner_starts, start) - 1
        last = bisect.bisect_right(self.inner_starts, max(start, end - 1)) - 1
        if last >= len(self.outer_starts):
            return written_span(self.node, self.text, self.offset)
        text = self.text
        begin = self.outer_starts[first]
        newline = text.find("\n", self.outer_starts[last])
        finish = len(text) if newline < 0 else newline
        while begin < finish and text[begin] in " \t":
            begin += 1
        while finish > begin and text[finish - 1] in " \t\r":
            finish -= 1
        return begin, finish


def embedded_findings(
    scan: Callable[[str], Iterable[Finding]], node: ScalarNode, text: str, offset: int, context: str
) -> Iterator[Finding]:
    """Findings in YAML held in a literal block scalar, their offsets moved into `text`.

    A finding whose text does not sit verbatim at the moved span (tabs, odd indentation) is
    still reported, not rewritable, spanning the lines that hold it.
    """
    block = _Block.of(node, text, offset)
    if block is None:
        return
    inner = node.value
    for finding in scan(inner):
        nested = f"{context}: {finding.context}"
        span = block.moved_span(finding.start, finding.end)
        slot = finding.digest_slot
        if span is not None and slot is not None:
            slot = block.moved_slot(slot)
            span = span if slot is not None else None
        if span is not None:
            yield replace(finding, start=span[0], end=span[1], context=nested, digest_slot=slot)
            continue
        line_start, line_end = block.lines_of(finding.start, finding.end)
        yield replace(
            finding,
            start=line_start,
            end=line_end,
            context=nested,
            reference_text=finding.reference_text or inner[finding.start : finding.end],
            digest_slot=None,
            rewritable=False,
            note=NOT_SPLICEABLE,
        )
