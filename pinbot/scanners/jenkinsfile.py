"""Image references in Jenkins pipelines: the Docker agent of declarative pipelines, the
images of scripted `docker.image(…)` calls and of Kubernetes `containerTemplate(…)`s.

What is reported (a string literal in single or double quotes):

- ``agent { docker 'IMAGE' }`` and ``agent { docker { image 'IMAGE' … } }`` (also
  ``dockerContainer``), at pipeline or stage level;
- ``docker.image('IMAGE')``, unless the image is then pushed or tagged (``.push()``,
  ``.tag()``): that names what the build made;
- ``containerTemplate(name: 'x', image: 'IMAGE', …)`` of the Kubernetes plugin.

A double-quoted string holding ``$`` is a GString: reported as templated. A string written
with escapes is reported but not rewritten. Comments (``//``, ``/* … */``) are skipped and
``docker.build('name')`` (an output) is not reported.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from pinbot.scanners._paths import path_name
from pinbot.scanners._strings import interpolation_end, line_of
from pinbot.scanners.interface import Dismissal, Finding, ScanError

__all__ = ["SCANNER", "JenkinsfileScanner", "is_jenkinsfile_name"]

_IDENT = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*")
# GString interpolations nest strings that hold interpolations; deeper than this is not a
# Jenkinsfile anyone writes, and reading it would exhaust the stack.
_MAX_NESTING = 100
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", "\\": "\\", "'": "'", '"': '"', "$": "$"}  # fmt: skip


# `Jenkinsfile.<suffix>` names a variant (`.release`, `.groovy`) unless the suffix says the file
# is documentation, a backup, data or source code in another language (the scanner's own
# `jenkinsfile.py`, a `jenkinsfile.go` parser).
_NOT_JENKINSFILE_SUFFIXES = frozenset(
    ["md", "txt", "rst", "adoc", "html", "orig", "bak", "swp", "tmp", "json", "yaml", "yml", "xml", "toml", "ini", "cfg", "py", "pyi", "pyc", "go", "java", "kt", "kts", "scala", "js", "mjs", "cjs", "ts", "tsx", "jsx", "rb", "rs", "c", "h", "cc", "cpp", "hpp", "cs", "php", "sh", "bash", "zsh", "ps1", "swift", "lua", "pl"]
)


def is_jenkinsfile_name(name: str) -> bool:
    """`Jenkinsfile`, `Jenkinsfile.release`, `deploy.Jenkinsfile` (any case), not documentation.

    >>> [is_jenkinsfile_name(n) for n in ("Jenkinsfile", "ci.jenkinsfile", "Jenkinsfile.md")]
    [True, True, False]
    """
    lowered = name.lower()
    if lowered == "jenkinsfile" or lowered.endswith(".jenkinsfile"):
        return True
    if lowered.startswith("jenkinsfile."):
        return lowered.rsplit(".", 1)[1] not in _NOT_JENKINSFILE_SUFFIXES
    return False


@dataclass(frozen=True)
class _Token:
    kind: str  # ident, string, punct
    start: int
    end: int
    text: str
    quote: str = ""


def _tokens(text: str) -> list[_Token]:
    """Identifiers, string literals and punctuation; comments and whitespace dropped."""
    found: list[_Token] = []
    position = 1 if text.startswith("\ufeff") else 0
    if text.startswith("#!", position):  # a shebang line
        newline = text.find("\n", position)
        position = len(text) if newline < 0 else newline
    length = len(text)
    while position < length:
        char = text[position]
        if char in " \t\r\n;":
            position += 1
        elif text.startswith("//", position):
            newline = text.find("\n", position)
            position = length if newline < 0 else newline
        elif text.startswith("/*", position):
            close = text.find("*/", position + 2)
            if close < 0:
                raise ScanError("unterminated comment", line_of(text, position))
            position = close + 2
        elif char in "'\"":
            quote = char * 3 if text.startswith(char * 3, position) else char
            end = _string_end(text, position, quote)
            found.append(_Token("string", position, end, text[position:end], quote))
            position = end
        elif match := _IDENT.match(text, position):
            found.append(_Token("ident", position, match.end(), match.group()))
            position = match.end()
        else:
            found.append(_Token("punct", position, position + 1, char))
            position += 1
    return found


def _string_end(text: str, start: int, quote: str, depth: int = 0) -> int:
    if depth > _MAX_NESTING:
        raise ScanError("strings nested too deeply", line_of(text, start))
    position = start + len(quote)
    while position < len(text):
        if text[position] == "\\":
            position += 2
        elif quote[0] == '"' and text.startswith("${", position):
            position = _interpolation_end(text, position + 2, depth)
        elif text.startswith(quote, position):
            return position + len(quote)
        elif text[position] == "\n" and len(quote) == 1:
            break
        else:
            position += 1
    raise ScanError("unterminated string", line_of(text, start))


def _interpolation_end(text: str, position: int, depth: int) -> int:
    """The offset after the `}` closing a GString interpolation (which may hold strings)."""

    def string_end(offset: int) -> int | None:
        char = text[offset]
        if char not in "'\"":
            return None
        quote = char * 3 if text.startswith(char * 3, offset) else char
        return _string_end(text, offset, quote, depth + 1)

    end = interpolation_end(text, position, string_end)
    if end is None:
        raise ScanError("unterminated interpolation", line_of(text, position))
    return end


def _decode(raw: str) -> str:
    return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), m.group(1)), raw)


class _Reader:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _tokens(text)
        self.dismissed: list[Dismissal] = []  # what `scan --explain` lists as not pulled

    def at(self, index: int, kind: str, text: str | None = None) -> bool:
        if index >= len(self.tokens):
            return False
        token = self.tokens[index]
        return token.kind == kind and (text is None or token.text == text)

    def read(self) -> Iterator[Finding]:
        for index, token in enumerate(self.tokens):
            if token.kind != "ident":
                continue
            if token.text == "agent" and self.at(index + 1, "punct", "{"):
                yield from self.agent(index + 2)
            elif (
                token.text == "docker"
                and self.at(index + 1, "punct", ".")
                and self.at(index + 2, "ident", "image")
            ):
                yield from self.scripted(index + 3)
            elif (
                token.text == "docker"
                and self.at(index + 1, "punct", ".")
                and self.at(index + 2, "ident", "build")
                and self.at(index + 3, "punct", "(")
                and self.at(index + 4, "string")
            ):
                self.dismiss(self.tokens[index + 4], "docker.build", "the image this build makes")
            elif token.text == "containerTemplate" and self.at(index + 1, "punct", "("):
                yield from self.named_argument(index + 2, "image", "containerTemplate image")

    def agent(self, index: int) -> Iterator[Finding]:
        if not (self.at(index, "ident", "docker") or self.at(index, "ident", "dockerContainer")):
            return
        kind = self.tokens[index].text
        index += 1
        if self.at(index, "punct", "{"):
            depth = 0
            for position in range(index, len(self.tokens)):
                token = self.tokens[position]
                if token.kind == "punct" and token.text in "{}":
                    depth += 1 if token.text == "{" else -1
                    if depth == 0:
                        return
                elif depth == 1 and token.kind == "ident" and token.text == "image":
                    yield from self.argument(position + 1, f"agent {kind} image")
            return
        yield from self.argument(index, f"agent {kind}")

    def argument(self, index: int, context: str) -> Iterator[Finding]:
        """A string given as `name 'x'` or `name('x')`."""
        if self.at(index, "punct", "("):
            index += 1
            if not self.at(index + 1, "punct", ")"):
                return
        if self.at(index, "string"):
            found = self.finding(self.tokens[index], context)
            if found is not None:
                yield found

    def scripted(self, index: int) -> Iterator[Finding]:
        if not (self.at(index, "punct", "(") and self.at(index + 2, "punct", ")")):
            return
        after = index + 3
        if self.at(after, "punct", ".") and (
            self.at(after + 1, "ident", "push") or self.at(after + 1, "ident", "tag")
        ):
            # An image this build made, pushed or tagged under another name.
            if self.at(index + 1, "string"):
                self.dismiss(
                    self.tokens[index + 1], "docker.image", "pushed or tagged by the build"
                )
            return
        if self.at(index + 1, "string"):
            found = self.finding(self.tokens[index + 1], "docker.image")
            if found is not None:
                yield found

    def named_argument(self, index: int, name: str, context: str) -> Iterator[Finding]:
        depth = 0
        for position in range(index, len(self.tokens)):
            token = self.tokens[position]
            if token.kind == "punct" and token.text in "([{":
                depth += 1
            elif token.kind == "punct" and token.text in ")]}":
                if depth == 0:
                    return
                depth -= 1
            elif (
                depth == 0
                and token.kind == "ident"
                and token.text == name
                and self.at(position + 1, "punct", ":")
                and self.at(position + 2, "string")
            ):
                found = self.finding(self.tokens[position + 2], context)
                if found is not None:
                    yield found
                return

    def dismiss(self, token: _Token, context: str, what: str) -> None:
        width = len(token.quote)
        reason = f"{what}: an output, not an image the build pulls"
        self.dismissed.append(Dismissal(token.start + width, token.end - width, context, reason))

    def finding(self, token: _Token, context: str) -> Finding | None:
        width = len(token.quote)
        start, end = token.start + width, token.end - width
        raw = self.text[start:end]
        if not raw.strip() or "\n" in raw:
            return None
        templated = token.quote.startswith('"') and "$" in raw
        if "\\" in raw:
            return Finding(
                start,
                end,
                context,
                reference_text=_decode(raw),
                templated=templated,
                rewritable=False,
                note="written with escape sequences; pin it by hand",
            )
        return Finding(start, end, context, templated=templated)


class JenkinsfileScanner:
    kind = "jenkinsfile"

    def matches(self, path: str) -> bool:
        return is_jenkinsfile_name(path_name(path))

    def scan(self, path: str, text: str) -> Iterator[Finding]:
        return iter(list(_Reader(text).read()))

    def dismissals(self, path: str, text: str) -> Iterator[Dismissal]:
        reader = _Reader(text)
        for _ in reader.read():
            pass
        return iter(reader.dismissed)


SCANNER = JenkinsfileScanner()
