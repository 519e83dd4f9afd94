"""From a scanner's finding to an `Occurrence`: line, column, byte span, status, ignores.

Character offsets become 1-based lines and columns and UTF-8 byte offsets; the status comes
from parsing the reference; an ignore comment or a `scan.ignore-images` glob marks it ignored.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Sequence

from pinbot.reference import ImageReference, InvalidReference, parse_normalized
from pinbot.scanners._template import is_templated
from pinbot.scanners.interface import Finding, Occurrence, Status

__all__ = ["IGNORE_MARK", "LineIndex", "occurrence"]

IGNORE_MARK = "pinbot: ignore"


class LineIndex:
    """Line starts of a text, to turn character offsets into lines, columns and bytes."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.starts = [0] + [m.end() for m in re.finditer("\n", text)]
        self.ascii = text.isascii()
        self._byte_starts: list[int] | None = None

    def line_of(self, offset: int) -> int:
        return bisect.bisect_right(self.starts, offset)

    def line_text(self, line: int) -> str:
        if line < 1 or line > len(self.starts):
            return ""
        start = self.starts[line - 1]
        end = self.starts[line] if line < len(self.starts) else len(self.text)
        return self.text[start:end]

    def byte_offset(self, offset: int) -> int:
        if self.ascii:
            return offset
        if self._byte_starts is None:
            total, starts = 0, []
            previous = 0
            for start in self.starts:
                total += len(self.text[previous:start].encode("utf-8"))
                starts.append(total)
                previous = start
            self._byte_starts = starts
        line = self.line_of(offset)
        line_start = self.starts[line - 1]
        return self._byte_starts[line - 1] + len(self.text[line_start:offset].encode("utf-8"))


def _ignored_image(reference: ImageReference, globs: Sequence[str]) -> bool:
    """Whether `scan.ignore-images` globs name this image (any spelling of its name)."""
    if not globs:
        return False
    # Imported here: without globs a scan does without the configuration module.
    from pinbot.config import image_matches

    return image_matches(reference, globs)


def occurrence(
    path: str, kind: str, finding: Finding, lines: LineIndex, ignore_images: Sequence[str]
) -> Occurrence:
    text = lines.text[finding.start : finding.end]
    reference_text = finding.reference_text if finding.reference_text is not None else text
    line = lines.line_of(finding.start)
    column = finding.start - lines.starts[line - 1] + 1
    reference: ImageReference | None = None
    note = finding.note
    rewritable = finding.rewritable
    if finding.invalid is not None:
        status, rewritable, note = Status.INVALID, False, finding.invalid
    elif finding.templated or is_templated(reference_text):
        status = Status.TEMPLATED
        rewritable = False
    else:
        try:
            reference = parse_normalized(reference_text.strip())
        except InvalidReference as exc:
            status = Status.INVALID
            rewritable = False
            note = note or str(exc)
        else:
            status = Status.PINNED if reference.digest else Status.UNPINNED
    # The comment counts beside the reference and beside where its digest would be written
    # (an ARG default feeding a FROM, a Helm `digest:` key).
    marked_lines = {line}
    if finding.digest_slot is not None:
        marked_lines.add(lines.line_of(finding.digest_slot.start))
    if any(
        IGNORE_MARK in lines.line_text(n) or IGNORE_MARK in lines.line_text(n - 1)
        for n in marked_lines
    ):
        status, rewritable, note = Status.IGNORED, False, note or f"'# {IGNORE_MARK}' comment"
    elif reference is not None and _ignored_image(reference, ignore_images):
        status, rewritable, note = Status.IGNORED, False, note or "ignored by scan.ignore-images"
    return Occurrence(
        file=path,
        kind=kind,
        start=finding.start,
        end=finding.end,
        byte_start=lines.byte_offset(finding.start),
        byte_end=lines.byte_offset(finding.end),
        line=line,
        column=column,
        text=text,
        context=finding.context,
        reference=reference,
        status=status,
        rewritable=rewritable,
        note=note,
        digest_slot=finding.digest_slot,
        structured=finding.structured,
        reference_text=reference_text,
        adds_digest_key=finding.adds_digest_key,
        built_here=finding.built_here,
        platform=finding.platform,
    )
