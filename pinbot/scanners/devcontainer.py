"""Image references in dev container configurations: the `image` and the OCI Features.

`devcontainer.json` is JSON with comments and trailing commas; it is read by a small parser
that keeps the position of every string, so spans point into the file as written.

What is reported: the top-level ``image`` string, and each key of the top-level
``features`` map that is an OCI reference (a registry host, then a path; Features are OCI
artifacts and resolve to digests like images). The dev container CLI accepts a Feature as
``name:tag`` or ``name@sha256:…`` but rejects ``name:tag@sha256:…``, so a tagged Feature is
reported with ``rewritable=False``: pinning it means replacing the tag, and a
``devcontainer-lock.json`` beside the file then needs regenerating. Local Features (``./x``), tarball URLs and
the legacy short ids (``node``) are not references. ``build.dockerfile`` names a Dockerfile
(the Dockerfile scanner reads it) and ``dockerComposeFile`` names Compose files (read by the
Compose scanner). ``build.cacheFrom`` images are cache sources, not inputs to pin.
``devcontainer-template.json`` holds template options (tag fragments such as
``3.14-trixie``), never whole references, so it is not read.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from pinbot.scanners.interface import Finding, ScanError

__all__ = [
    "SCANNER",
    "DevcontainerScanner",
    "JsonArray",
    "JsonNode",
    "JsonObject",
    "JsonScalar",
    "JsonString",
    "parse_jsonc",
    "string_finding",
]

_MAX_DEPTH = 200
_ESCAPES = {'"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}


@dataclass(frozen=True)
class JsonString:
    """A string as written: `start`/`end` span the characters between the quotes."""

    start: int
    end: int
    value: str
    escaped: bool


@dataclass(frozen=True)
class JsonScalar:
    start: int
    end: int
    value: object


@dataclass
class JsonObject:
    start: int
    members: list[tuple[JsonString, JsonNode]] = field(default_factory=list)

    def get(self, key: str) -> JsonNode | None:
        """The last member named `key` (JSON parsers keep the last duplicate)."""
        found: JsonNode | None = None
        for name, value in self.members:
            if name.value == key:
                found = value
        return found


@dataclass
class JsonArray:
    start: int
    items: list[JsonNode] = field(default_factory=list)


JsonNode = JsonObject | JsonArray | JsonString | JsonScalar


def string_finding(node: JsonString, context: str, note: str | None = None) -> Finding:
    """A finding at a string's span; a string written with escapes is reported, not rewritten."""
    if node.escaped:
        return Finding(
            node.start,
            node.end,
            context,
            reference_text=node.value,
            rewritable=False,
            note=note or "written with escape sequences; pin it by hand",
        )
    return Finding(node.start, node.end, context, note=note)


def parse_jsonc(text: str) -> JsonNode | None:
    """Parse JSON with `//` and `/* */` comments and trailing commas; None for an empty file.

    >>> node = parse_jsonc('{"image": "alpine:3", // base\\n}')
    >>> isinstance(node, JsonObject) and node.get("image")
    JsonString(start=11, end=19, value='alpine:3', escaped=False)
    """
    parser = _Parser(text)
    parser.skip()
    if parser.position >= len(text):
        return None
    node = parser.value(0)
    parser.skip()
    if parser.position < len(text):
        parser.fail("unexpected text after the JSON value")
    return node


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.position = 1 if text.startswith("\ufeff") else 0

    def fail(self, message: str) -> None:
        line = self.text.count("\n", 0, self.position) + 1
        raise ScanError(f"invalid JSON: {message}", line)

    def skip(self) -> None:
        """Whitespace and comments."""
        text = self.text
        while self.position < len(text):
            char = text[self.position]
            if char in " \t\r\n":
                self.position += 1
            elif text.startswith("//", self.position):
                newline = text.find("\n", self.position)
                self.position = len(text) if newline < 0 else newline + 1
            elif text.startswith("/*", self.position):
                close = text.find("*/", self.position + 2)
                if close < 0:
                    self.fail("unterminated comment")
                self.position = close + 2
            else:
                return

    def value(self, depth: int) -> JsonNode:
        if depth > _MAX_DEPTH:
            self.fail("nested too deeply")
        self.skip()
        if self.position >= len(self.text):
            self.fail("unexpected end of file")
        char = self.text[self.position]
        if char == "{":
            return self.object(depth)
        if char == "[":
            return self.array(depth)
        if char == '"':
            return self.string()
        return self.scalar()

    def object(self, depth: int) -> JsonObject:
        node = JsonObject(self.position)
        self.position += 1
        while True:
            self.skip()
            if self.position >= len(self.text):
                self.fail("unterminated object")
            if self.text[self.position] == "}":
                self.position += 1
                return node
            if self.text[self.position] != '"':
                self.fail("expected a quoted member name")
            key = self.string()
            self.skip()
            if not self.text.startswith(":", self.position):
                self.fail("expected ':' after a member name")
            self.position += 1
            node.members.append((key, self.value(depth + 1)))
            self.separator("}")

    def array(self, depth: int) -> JsonArray:
        node = JsonArray(self.position)
        self.position += 1
        while True:
            self.skip()
            if self.position >= len(self.text):
                self.fail("unterminated array")
            if self.text[self.position] == "]":
                self.position += 1
                return node
            node.items.append(self.value(depth + 1))
            self.separator("]")

    def separator(self, closing: str) -> None:
        self.skip()
        if self.text.startswith(",", self.position):
            self.position += 1
        elif not self.text.startswith(closing, self.position):
            self.fail(f"expected ',' or '{closing}'")

    def string(self) -> JsonString:
        text = self.text
        start = self.position + 1
        position = start
        pieces: list[str] = []
        escaped = False
        while True:
            if position >= len(text) or text[position] == "\n":
                self.position = position
                self.fail("unterminated string")
            char = text[position]
            if char == '"':
                break
            if char == "\\":
                escaped = True
                code = text[position + 1 : position + 2]
                if code == "u":
                    digits = text[position + 2 : position + 6]
                    try:
                        pieces.append(chr(int(digits, 16)))
                    except ValueError:
                        self.position = position
                        self.fail("bad \\u escape")
                    position += 6
                    continue
                if code not in _ESCAPES:
                    self.position = position
                    self.fail("bad escape")
                pieces.append(_ESCAPES[code])
                position += 2
                continue
            pieces.append(char)
            position += 1
        self.position = position + 1
        return JsonString(start, position, "".join(pieces), escaped)

    def scalar(self) -> JsonScalar:
        start = self.position
        text = self.text
        while self.position < len(text) and text[self.position] not in " \t\r\n,]}/":
            self.position += 1
        word = text[start : self.position]
        literals: dict[str, object] = {"true": True, "false": False, "null": None}
        if word in literals:
            return JsonScalar(start, self.position, literals[word])
        try:
            number = float(word)
        except ValueError:
            self.position = start
            self.fail(f"unexpected {word[:20]!r}" if word else f"unexpected {text[start]!r}")
        return JsonScalar(start, self.position, number)


def is_feature_reference(key: str) -> bool:
    """Whether a `features` key is an OCI reference rather than a local path, URL or short id."""
    if key.startswith((".", "/")) or "://" in key:
        return False
    host, slash, _ = key.partition("/")
    return bool(slash) and ("." in host or ":" in host or host == "localhost")


def _has_tag(reference: str) -> bool:
    name = reference.split("@", 1)[0]
    return ":" in name.rsplit("/", 1)[-1]


def _feature_finding(key: JsonString) -> Finding:
    finding = string_finding(key, "features")
    if finding.rewritable and "@" not in key.value and _has_tag(key.value):
        # The dev container CLI reads `name@sha256:…` or `name:tag`, never both: with a tag
        # before the digest it rejects the Feature. Pinning means dropping the tag.
        return Finding(
            key.start,
            key.end,
            "features",
            rewritable=False,
            note="Features take name@sha256:… without a tag; replace the tag by the digest by hand",
        )
    return finding


class DevcontainerScanner:
    kind = "devcontainer"

    def matches(self, path: str) -> bool:
        parts = PurePosixPath(path).parts
        if not parts:
            return False
        if parts[-1] == ".devcontainer.json":
            return True
        return parts[-1] == "devcontainer.json" and ".devcontainer" in parts[-3:-1]

    def scan(self, path: str, text: str) -> Iterator[Finding]:
        root = parse_jsonc(text)
        if not isinstance(root, JsonObject):
            return
        image = root.get("image")
        if isinstance(image, JsonString) and image.value.strip():
            yield string_finding(image, "image")
        features = root.get("features")
        if isinstance(features, JsonObject):
            for key, _options in features.members:
                if is_feature_reference(key.value):
                    yield _feature_finding(key)


SCANNER = DevcontainerScanner()
