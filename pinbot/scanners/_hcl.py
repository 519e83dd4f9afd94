"""A lexer for HCL, the configuration language Docker Bake and Nomad files are written in.

Tokens keep their character offsets, so a reader built on them reports spans into the file as
written; strings are decoded (escapes, `$${`) with the offset each character came from.
Anything it cannot read raises `ScanError` with the line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pinbot.scanners._strings import interpolation_end, line_of
from pinbot.scanners.interface import ScanError

__all__ = [
    *("MAX_NESTING", "HclLexer", "Token", "TokenReader"),
    *("decode", "decode_with_offsets", "line_of"),
]

_IDENT_START = re.compile(r"[A-Za-z_]")
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
_HEREDOC = re.compile(r"<<(-?)([A-Za-z_][A-Za-z0-9_-]*)[ \t]*\r?\n")
_NUMBER = re.compile(r"[0-9][0-9.eE+-]*")
# Blocks in blocks, strings in interpolations: deeper than any HCL file is written, and
# reading it would exhaust the stack.
MAX_NESTING = 100
_SIMPLE_ESCAPES = {
    "n": "\n",
    "r": "\r",
    "t": "\t",
    '"': '"',
    "\\": "\\",
    "/": "/",
    "b": "\b",
    "f": "\f",
}


@dataclass(frozen=True)
class Token:
    kind: str  # ident, string, heredoc, number, nl, punct, eof
    start: int
    end: int
    text: str
    body: tuple[int, int] | None = None  # heredoc body span
    escaped: bool = False


class HclLexer:
    def __init__(self, text: str) -> None:
        self.text = text

    def fail(self, message: str, offset: int) -> None:
        raise ScanError(f"invalid HCL: {message}", line_of(self.text, offset))

    def tokens(self) -> list[Token]:
        text = self.text
        found: list[Token] = []
        position = 1 if text.startswith("\ufeff") else 0
        length = len(text)
        while position < length:
            char = text[position]
            if char in " \t\r":
                position += 1
            elif char == "\n":
                found.append(Token("nl", position, position + 1, "\n"))
                position += 1
            elif char == "#" or text.startswith("//", position):
                newline = text.find("\n", position)
                position = length if newline < 0 else newline
            elif text.startswith("/*", position):
                close = text.find("*/", position + 2)
                if close < 0:
                    self.fail("unterminated comment", position)
                position = close + 2
            elif char == '"':
                end, escaped = self.string(position)
                found.append(Token("string", position, end, text[position:end], escaped=escaped))
                position = end
            elif (
                text.startswith("<<", position) and (heredoc := self.heredoc(position)) is not None
            ):
                found.append(heredoc)
                position = heredoc.end
            elif _IDENT_START.match(char):
                match = _IDENT.match(text, position)
                assert match is not None
                found.append(Token("ident", position, match.end(), match.group()))
                position = match.end()
            elif char.isdigit():
                match = _NUMBER.match(text, position)
                assert match is not None
                found.append(Token("number", position, match.end(), match.group()))
                position = match.end()
            else:
                found.append(Token("punct", position, position + 1, char))
                position += 1
        found.append(Token("eof", length, length, ""))
        return found

    def string(self, start: int, depth: int = 0) -> tuple[int, bool]:
        """End (after the closing quote) of the string opening at `start`, and whether it has escapes."""
        if depth > MAX_NESTING:
            self.fail("strings nested too deeply", start)
        text = self.text
        position = start + 1
        escaped = False
        while position < len(text):
            char = text[position]
            if char == "\\":
                escaped = True
                position += 2
            elif char == '"':
                return position + 1, escaped
            elif char == "\n":
                break
            elif text.startswith(("$${", "%%{"), position):
                escaped = True
                position += 3
            elif text.startswith(("${", "%{"), position):
                position = self.template(position + 2, depth)
            else:
                position += 1
        self.fail("unterminated string", start)
        raise AssertionError  # unreachable: fail raises

    def template(self, position: int, depth: int) -> int:
        """Skip an interpolation body (which may hold strings and braces) up to its `}`."""

        def string_end(offset: int) -> int | None:
            return self.string(offset, depth + 1)[0] if self.text[offset] == '"' else None

        end = interpolation_end(self.text, position, string_end)
        if end is None:
            self.fail("unterminated interpolation", position)
            raise AssertionError  # unreachable: fail raises
        return end

    def heredoc(self, start: int) -> Token | None:
        match = _HEREDOC.match(self.text, start)
        if match is None:
            return None
        marker = match.group(2)
        body_start = match.end()
        position = body_start
        text = self.text
        while position <= len(text):
            newline = text.find("\n", position)
            line_end = len(text) if newline < 0 else newline
            if text[position:line_end].strip() == marker:
                return Token(
                    "heredoc", start, line_end, text[start:line_end], body=(body_start, position)
                )
            if newline < 0:
                break
            position = newline + 1
        self.fail(f"heredoc {marker} is not closed", start)
        return None


def decode(raw: str) -> str:
    return "".join(decode_with_offsets(raw, 0)[0])


def decode_with_offsets(raw: str, base: int) -> tuple[list[str], list[int]]:
    """Characters of an escaped string and where each is written (offset `base` + index)."""
    characters: list[str] = []
    offsets: list[int] = []
    position = 0
    while position < len(raw):
        char = raw[position]
        width = 1
        if char == "\\" and position + 1 < len(raw):
            code = raw[position + 1]
            if code == "u" and re.fullmatch(r"[0-9a-fA-F]{4}", raw[position + 2 : position + 6]):
                char, width = chr(int(raw[position + 2 : position + 6], 16)), 6
            else:
                char, width = _SIMPLE_ESCAPES.get(code, code), 2
        elif raw.startswith(("$${", "%%{"), position):
            # `$${` and `%%{` are a literal `${` and `%{`.
            characters.extend((raw[position + 1], "{"))
            offsets.extend((base + position + 1, base + position + 2))
            position += 3
            continue
        characters.append(char)
        offsets.append(base + position)
        position += width
    return characters, offsets


class TokenReader:
    """Where a reader of an HCL file's tokens is: what comes next, and failing at it."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = HclLexer(text).tokens()
        self.position = 0

    def fail(self, message: str) -> None:
        raise ScanError(f"invalid HCL: {message}", line_of(self.text, self.peek().start))

    def peek(self, ahead: int = 0) -> Token:
        return self.tokens[min(self.position + ahead, len(self.tokens) - 1)]

    def is_punct(self, text: str, ahead: int = 0) -> bool:
        token = self.peek(ahead)
        return token.kind == "punct" and token.text == text

    def expect_end(self) -> None:
        """After the top-level body: only the end of the file may follow."""
        if self.peek().kind != "eof":
            self.fail("unexpected '}'")

    def skip_expression(self, stops: str = "") -> None:
        """Past an expression: up to a newline, a closing bracket or one of `stops` outside
        brackets."""
        depth = 0
        while True:
            token = self.peek()
            if token.kind == "eof":
                if depth:
                    self.fail("unbalanced brackets")
                return
            if token.kind == "punct":
                if token.text in "([{":
                    depth += 1
                elif token.text in ")]}":
                    if depth == 0:
                        return
                    depth -= 1
                elif depth == 0 and token.text in stops:
                    return
            elif token.kind == "nl" and depth == 0:
                return
            self.position += 1
