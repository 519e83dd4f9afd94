"""Image references in Earthfiles: the images recipes start `FROM` and the images
`WITH DOCKER --pull` loads.

What is reported:

- ``FROM IMAGE`` (flags such as ``--platform`` skipped);
- ``FROM $NAME`` / ``FROM ${NAME}``: the default of ``ARG NAME=…`` in the base recipe (before
  the first target) or declared ``--global`` is the image, reported where the ``ARG`` writes
  it; when the variable is also used elsewhere it is reported but not rewritten;
- ``WITH DOCKER --pull IMAGE``: an image pulled into the Docker daemon of the step.

Not images: ``FROM +target``, ``FROM ./dir+target``, ``FROM github.com/org/repo+target`` and
``FROM alias+target`` of an ``IMPORT`` (any word holding ``+`` names a target),
``FROM DOCKERFILE``, ``IMPORT`` lines, ``SAVE IMAGE`` (an output), ``BUILD`` and ``COPY``.
A ``FROM`` that combines variables with text is reported as templated.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from pinbot.scanners._paths import path_name
from pinbot.scanners.interface import Dismissal, Finding

__all__ = ["SCANNER", "EarthfileScanner"]

_TARGET = re.compile(r"[A-Za-z][A-Za-z0-9._-]*:[ \t]*(?:#.*)?")
_WORD = re.compile(r"\"[^\"]*\"|'[^']*'|\S+")
_ONE_VARIABLE = re.compile(r"\$(?:([A-Za-z_][A-Za-z0-9_]*)|\{([A-Za-z_][A-Za-z0-9_]*)\})")
_USES = r"\$(?:{name}(?![A-Za-z0-9_])|\{{{name}[}}:])"


@dataclass(frozen=True)
class _Word:
    start: int  # offsets in the file, quotes excluded
    end: int
    text: str


@dataclass(frozen=True)
class _Default:
    start: int
    end: int
    value: str


def _logical_lines(text: str) -> Iterator[tuple[int, list[_Word]]]:
    """(1-based line, words) of each instruction; continuation lines (`\\`) joined."""
    position = 1 if text.startswith("\ufeff") else 0
    words: list[_Word] = []
    first_line = 0
    line = 0
    for raw in text[position:].split("\n"):
        line += 1
        start = position
        position += len(raw) + 1
        content = raw.rstrip("\r")
        if not words:
            first_line = line
            if not content.strip() or content.lstrip().startswith("#"):
                continue
        continued = content.rstrip().endswith("\\")
        if continued:
            content = content.rstrip()[:-1]
        for match in _WORD.finditer(content):
            if (
                match.group().startswith("#")
                and match.start() > 0
                and content[match.start() - 1] in " \t"
            ):
                break  # a trailing comment
            value = match.group()
            quoted = len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'"
            skip = 1 if quoted else 0
            words.append(
                _Word(
                    start + match.start() + skip,
                    start + match.end() - skip,
                    value[skip : len(value) - skip],
                )
            )
        if not continued and words:
            yield first_line, words
            words = []
    if words:
        yield first_line, words


class EarthfileScanner:
    kind = "earthfile"

    def matches(self, path: str) -> bool:
        return path_name(path) == "Earthfile"

    def scan(self, path: str, text: str) -> Iterator[Finding]:
        findings: list[Finding] = []
        defaults: dict[str, _Default] = {}
        variable_froms: dict[str, list[int]] = {}
        in_base = True
        for line, words in _logical_lines(text):
            if _TARGET.fullmatch(text, words[0].start, words[-1].end) and len(words) == 1:
                in_base = False
                continue
            keyword = words[0].text.upper()
            arguments = words[1:]
            if keyword == "ARG":
                self._arg(arguments, in_base, defaults)
            elif keyword == "FROM":
                image = next((w for w in arguments if not w.text.startswith("--")), None)
                if image is None or "+" in image.text or image.text.upper() == "DOCKERFILE":
                    continue
                only = _ONE_VARIABLE.fullmatch(image.text)
                if only is not None and (only.group(1) or only.group(2)) in defaults:
                    variable_froms.setdefault(only.group(1) or only.group(2), []).append(line)
                    continue
                findings.append(Finding(image.start, image.end, "FROM"))
            elif keyword == "WITH" and arguments and arguments[0].text.upper() == "DOCKER":
                findings.extend(self._pulls(arguments[1:]))
        for name, lines in variable_froms.items():
            default = defaults[name]
            used = len(re.findall(_USES.format(name=re.escape(name)), text))
            plural = "lines" if len(lines) > 1 else "line"
            context = f"ARG {name} (used by FROM {plural} {', '.join(map(str, lines))})"
            if used > len(lines):
                findings.append(
                    Finding(
                        default.start,
                        default.end,
                        context,
                        rewritable=False,
                        note=f"ARG {name} is also used outside FROM; pin it by hand",
                    )
                )
            else:
                findings.append(Finding(default.start, default.end, context))
        return iter(sorted(findings, key=lambda f: f.start))

    def dismissals(self, path: str, text: str) -> Iterator[Dismissal]:
        """`FROM +target` (an Earthly target) and `SAVE IMAGE` names (what the target makes)."""
        for _line, words in _logical_lines(text):
            keyword = words[0].text.upper()
            arguments = [w for w in words[1:] if not w.text.startswith("--")]
            if keyword == "FROM" and arguments and "+" in arguments[0].text:
                target = arguments[0]
                reason = "an Earthly target, built by this run: not an image"
                yield Dismissal(target.start, target.end, "FROM", reason)
            elif keyword == "SAVE" and arguments and arguments[0].text.upper() == "IMAGE":
                for name in arguments[1:]:
                    reason = "the image this target makes (an output), not one it pulls"
                    yield Dismissal(name.start, name.end, "SAVE IMAGE", reason)

    @staticmethod
    def _arg(arguments: list[_Word], in_base: bool, defaults: dict[str, _Default]) -> None:
        flags = {w.text for w in arguments if w.text.startswith("--")}
        rest = [w for w in arguments if not w.text.startswith("--")]
        if not rest or not (in_base or "--global" in flags):
            return
        declaration = rest[0]
        name, equals, value = declaration.text.partition("=")
        if equals and value:
            start = declaration.start + len(name) + 1
            defaults[name] = _Default(start, declaration.end, value)
        elif not equals and len(rest) >= 3 and rest[1].text == "=":
            defaults[name] = _Default(rest[2].start, rest[2].end, rest[2].text)

    @staticmethod
    def _pulls(arguments: list[_Word]) -> Iterator[Finding]:
        for index, word in enumerate(arguments):
            if word.text == "--pull" and index + 1 < len(arguments):
                image = arguments[index + 1]
                yield Finding(image.start, image.end, "WITH DOCKER --pull")
            elif word.text.startswith("--pull="):
                skip = len("--pull=")
                if word.end - word.start > skip:
                    yield Finding(word.start + skip, word.end, "WITH DOCKER --pull")


SCANNER = EarthfileScanner()
