"""A string as a file writes it, and the finding at it: JSON, HCL and Bake values alike."""

from __future__ import annotations

from dataclasses import dataclass

from pinbot.scanners.interface import Finding

__all__ = ["ESCAPED", "WrittenString", "string_finding"]

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
