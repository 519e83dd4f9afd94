"""A reader for JSON with comments and trailing commas (JSONC), as dev container and Bake files
are written, that keeps where every string is written.

Spans point into the file as written, so a finding at a string can be rewritten in place.
Anything it cannot read raises `ScanError` with the line.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from pinbot.scanners._strings import WrittenString, line_of
from pinbot.scanners.interface import ScanError

__all__ = [
    "JsonArray",
    "JsonNode",
    "JsonObject",
    "JsonScalar",
    "JsonString",
    "parse_jsonc",
]

_MAX_DEPTH = 200
_ESCAPES = {'"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}


# A JSON string is a string as written: its span between the quotes, and its value.
JsonString = WrittenString


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


def parse_jsonc(text: str) -> JsonNode | None:
    """Parse JSON with `//` and `/* */` comments and trailing commas; None for an empty file.

    >>> node = parse_jsonc('{"image": "alpine:3", // base\\n}')
    >>> isinstance(node, JsonObject) and node.get("image")
    WrittenString(start=11, end=19, value='alpine:3', escaped=False)
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
        raise ScanError(f"invalid JSON: {message}", line_of(self.text, self.position))

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

        def member() -> None:
            if self.text[self.position] != '"':
                self.fail("expected a quoted member name")
            key = self.string()
            self.skip()
            if not self.text.startswith(":", self.position):
                self.fail("expected ':' after a member name")
            self.position += 1
            node.members.append((key, self.value(depth + 1)))

        self.container("object", "}", member)
        return node

    def array(self, depth: int) -> JsonArray:
        node = JsonArray(self.position)
        self.container("array", "]", lambda: node.items.append(self.value(depth + 1)))
        return node

    def container(self, what: str, closing: str, member: Callable[[], None]) -> None:
        """Read from the opening bracket to `closing`, each member by `member`."""
        self.position += 1
        while True:
            self.skip()
            if self.position >= len(self.text):
                self.fail(f"unterminated {what}")
            if self.text[self.position] == closing:
                self.position += 1
                return
            member()
            self.separator(closing)

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
