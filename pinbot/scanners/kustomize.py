"""Image references in Kustomize `images:` overrides, composed from `newName`, `newTag`, `digest`.

A first pin adds a `digest` key to the entry and keeps `newTag` as documentation (kustomize
uses the digest when both are set); a later bump rewrites the `digest` value.

kustomize reads a kustomization by turning its YAML into JSON (sigs.k8s.io/yaml `YAMLToJSON`,
YAML 1.1 scalars as go-yaml v2 resolves them) and decoding that into its `Image` type, whose
fields are strings. A value that is not a string there (`newTag: 2.5`, `newTag: yes`) makes
kustomize refuse the file; such an entry is reported invalid with kustomize's message.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator

from pinbot.scanners._image_map import ImageMap, composed_reference, line_after
from pinbot.scanners._yaml import (
    MappingNode,
    Node,
    ScalarNode,
    SequenceNode,
    compose_documents,
    format_path,
    map_get,
    map_items,
    scalar_value,
    written_span,
)
from pinbot.scanners.interface import DigestSlot, Finding

__all__ = ["SCANNER", "KustomizeScanner"]

KUSTOMIZATION_NAMES = frozenset({"kustomization.yaml", "kustomization.yml", "Kustomization"})

NO_TAG = "no newTag or digest: the tag comes from the resources this entry rewrites"
NO_INSERT = "the entry is not written one key per line; a digest cannot be added in place"


# go-yaml v2 (resolve.go): plain scalars that are not strings.
_V2_BOOLS = frozenset(
    [
        "y",
        "Y",
        "yes",
        "Yes",
        "YES",
        "true",
        "True",
        "TRUE",
        "on",
        "On",
        "ON",
        "n",
        "N",
        "no",
        "No",
        "NO",
        "false",
        "False",
        "FALSE",
        "off",
        "Off",
        "OFF",
    ]
)
_V2_NULLS = frozenset({"", "~", "null", "Null", "NULL"})
_V2_NOT_FINITE = frozenset(
    [
        ".nan",
        ".NaN",
        ".NAN",
        ".inf",
        ".Inf",
        ".INF",
        "+.inf",
        "+.Inf",
        "+.INF",
        "-.inf",
        "-.Inf",
        "-.INF",
    ]
)
_V2_FLOAT = re.compile(r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?")
_V2_DOT_FLOAT = re.compile(r"\.[0-9]+(?:[eE][-+]?[0-9]+)?")
# Go's strconv.ParseInt with base 0: a sign, then 0x/0o/0b, a leading 0 (octal) or decimal.
_GO_INT = re.compile(r"([-+]?)(0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+|0[0-7]*|[1-9][0-9]*)")
_V2_TIMESTAMP = re.compile(
    r"[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(?:[Tt ][0-9]{1,2}:[0-9]{1,2}:[0-9]{1,2}(?:\.[0-9]+)?"
    r"(?:Z|[-+][0-9]{2}:[0-9]{2})?)?"
)
_TAGGED = {
    "tag:yaml.org,2002:int": "number",
    "tag:yaml.org,2002:float": "number",
    "tag:yaml.org,2002:bool": "bool",
    "tag:yaml.org,2002:null": "null",
}


def _go_int_fits(sign: str, digits: str) -> bool:
    """Whether ParseInt or ParseUint (base 0) accepts the number: it fits 64 bits."""
    lowered = digits.lower()
    base = {"0x": 16, "0o": 8, "0b": 2}.get(lowered[:2], 8 if digits[:1] == "0" else 10)
    body = digits[2:] if lowered[:2] in ("0x", "0o", "0b") else digits
    value = int(body, base)
    if sign == "-":
        return value <= 2**63
    return value < 2**64 and (sign == "" or value < 2**63)


def json_type(node: Node, text: str, offset: int) -> str:
    """What kustomize's YAML-to-JSON step makes of a value: "string", "number", "bool",
    "null", "object", "array", or "unsupported" (NaN and infinities, which JSON cannot hold)."""
    if isinstance(node, MappingNode):
        return "object"
    if isinstance(node, SequenceNode):
        return "array"
    assert isinstance(node, ScalarNode)
    start = node.start_mark.index + offset
    if text.startswith("!", start):  # an explicit tag decides
        return _TAGGED.get(str(node.tag), "string")
    if node.style not in (None, ""):
        return "string"  # quoted or block scalars are strings
    return plain_scalar_type(node.value)


def plain_scalar_type(value: str) -> str:
    """go-yaml v2's `resolve` for a plain scalar, as JSON sees the result."""
    if value in _V2_NULLS:
        return "null"
    if value in _V2_BOOLS:
        return "bool"
    if value in _V2_NOT_FINITE:
        return "unsupported"
    first = value[0]
    if first == ".":
        return "number" if _V2_DOT_FLOAT.fullmatch(value) else "string"
    if not (first.isdigit() and first.isascii()) and first not in "+-":
        return "string"
    if _V2_TIMESTAMP.fullmatch(value):
        return "string"  # a timestamp stays the string it is written as
    plain = value.replace("_", "")
    integer = _GO_INT.fullmatch(plain)
    if integer is not None and _go_int_fits(integer.group(1), integer.group(2)):
        return "number"
    if _V2_FLOAT.fullmatch(plain) and float(plain) not in (float("inf"), float("-inf")):
        return "number"
    return "string"


def kustomize_rejects(key: str, node: Node, text: str, offset: int) -> str | None:
    """kustomize's error for an `images` field whose value is not a string, else None."""
    found = json_type(node, text, offset)
    if found in ("string", "null"):
        return None
    if found == "unsupported":
        value = (scalar_value(node) or "").lower()
        written = "NaN" if value.endswith("nan") else "-Inf" if value.startswith("-") else "+Inf"
        return f"invalid Kustomization: json: unsupported value: {written}"
    return (
        f"invalid Kustomization: json: cannot unmarshal {found} into Go struct field "
        f"Image.images.{key} of type string"
    )


def _insertion(entry: MappingNode, text: str, offset: int) -> DigestSlot | None:
    """Where a first `digest:` line goes: after the entry's last line, at its keys' indent."""
    if entry.flow_style or not entry.value:
        return None
    first_key, _ = entry.value[0]
    last_value = entry.value[-1][1]
    found = line_after(last_value, text, offset) if isinstance(last_value, ScalarNode) else None
    if found is None:
        return None
    line_end, newline = found
    indent = " " * first_key.start_mark.column
    return DigestSlot(line_end, line_end, prefix=f"{newline}{indent}digest: ")


def _entry(entry: Node, index: int, text: str, offset: int) -> Finding | None:
    if not isinstance(entry, MappingNode):
        return None
    items = {key: value for key, _key_node, value in map_items(entry)}
    # A null (`newTag: ~`) is an empty string to kustomize.
    fields = {
        key: value
        for key, value in items.items()
        if isinstance(value, ScalarNode) and json_type(value, text, offset) != "null"
    }
    name = scalar_value(fields.get("name")) or ""
    new_name = scalar_value(fields.get("newName")) or ""
    tag = scalar_value(fields.get("newTag")) or ""
    digest = scalar_value(fields.get("digest")) or ""
    reference = composed_reference(new_name or name, tag, digest)
    for key in ("name", "newName", "newTag", "digest"):
        value = items.get(key)
        rejected = None if value is None else kustomize_rejects(key, value, text, offset)
        if value is not None and rejected is not None:
            start, end = written_span(value, text, offset)
            context = format_path(("images", index, key))
            return Finding(
                start,
                end,
                context,
                reference_text=reference,
                structured=True,
                rewritable=False,
                invalid=rejected,
            )
    if not (name or new_name):
        return None
    if not (new_name or tag or digest):
        # A name alone (with `tagSuffix`, say) selects images to rewrite; it names no image.
        return None
    span_key = "newTag" if tag else "newName" if new_name else "name"
    image = ImageMap(
        fields[span_key], format_path(("images", index, span_key)), reference, text, offset
    )
    span = image.span()
    if span is None:
        return image.unspliceable()
    if not (tag or digest):
        return image.unrewritable(span, NO_TAG)
    digest_node = fields.get("digest")
    if digest_node is not None:
        return image.pinned_at(span, image.digest_slot(digest_node), NO_INSERT)
    return image.pinned_at(span, _insertion(entry, text, offset), NO_INSERT)


class KustomizeScanner:
    kind = "kustomize"

    def matches(self, path: str) -> bool:
        return posixpath.basename(path) in KUSTOMIZATION_NAMES

    def scan(self, path: str, text: str) -> Iterator[Finding]:
        documents, offset = compose_documents(text)
        for document in documents:
            images = map_get(document, "images") if isinstance(document, MappingNode) else None
            if not isinstance(images, SequenceNode):
                continue
            for index, entry in enumerate(images.value):
                finding = _entry(entry, index, text, offset)
                if finding is not None:
                    yield finding


SCANNER = KustomizeScanner()
