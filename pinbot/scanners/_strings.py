"""A string as a file writes it, and the finding at it: JSON, HCL and Bake values alike; and
the interpolations (`${…}`) HCL and Groovy strings hold, which may hold strings in turn."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from pinbot.scanners.interface import Finding

__all__ = ["ESCAPED", "WrittenString", "interpolation_end", "line_of", "string_finding"]

ESCAPED = "written with escape sequences; pin it by hand"


@dataclass(frozen=True)
class WrittenString:
    """`start`/`end` span the characters between the quotes; `value` is what they decode to."""

    start: int
    end: int
    value: str
    escaped: bool


def string_finding(
    string: WrittenString, context: str, note: str | None = None, *, templated: bool = False
) -> Finding:
    """A finding at a string's span; a string written with escapes is reported, not rewritten."""
    if string.escaped:
        return Finding(
            string.start,
            string.end,
            context,
            reference_text=string.value,
            rewritable=False,
            note=note or ESCAPED,
        )
    return Finding(string.start, string.end, context, note=note, templated=templated)


def line_of(text: str, offset: int) -> int:
    """The 1-based line `offset` is on."""
    return text.count("\n", 0, offset) + 1


def interpolation_end(
    text: str, position: int, string_end: Callable[[int], int | None]
) -> int | None:
    """The offset after the `}` closing an interpolation whose body starts at `position`
    (just after `${`); None when the text ends first. Braces nest; `string_end(offset)` is the
    end of a string opening at `offset`, or None when none opens there, so that a brace
    inside a string does not count."""
    braces = 0
    while position < len(text):
        end = string_end(position)
        if end is not None:
            position = end
            continue
        char = text[position]
        if char == "{":
            braces += 1
        elif char == "}":
            if braces == 0:
                return position + 1
            braces -= 1
        position += 1
    return None
