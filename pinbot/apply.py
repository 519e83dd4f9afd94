"""Splice edits into a file's text at the scanned spans, then prove nothing else moved.

After splicing, the new text is scanned again: every edited occurrence must now hold the
intended reference, and every other occurrence must be exactly as it was. A file that fails
this check is not changed at all. A file scanned with others (`scan_files`) is checked with
them, so what it shows only through them (a GitLab CI variable another file's image names)
is checked too.
"""

from __future__ import annotations

import difflib
import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from pinbot.errors import PinbotError, Problem, ProblemKind
from pinbot.plan import Edit
from pinbot.report.escape import terminal
from pinbot.scanners import scan_text


class ApplyError(PinbotError):
    """Edits that could not be applied safely; the file is left as it was."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}; file left unchanged")
        self.path = path
        self.reason = f"{message}; file left unchanged"

    def problem(self) -> Problem:
        return Problem(ProblemKind.WRITE_REFUSED, self.reason, file=self.path)


@dataclass(frozen=True)
class FileChange:
    """One file's bytes before and after its edits."""

    path: str
    original: bytes
    updated: bytes
    edits: tuple[Edit, ...]

    def diff(self) -> str:
        """A unified diff of the change, for `--dry-run` and logs."""
        before = self.original.decode("utf-8").splitlines(keepends=True)
        after = self.updated.decode("utf-8").splitlines(keepends=True)
        # The path is escaped: a file name cannot add a line of its own to the output.
        path = terminal(self.path)
        lines = difflib.unified_diff(before, after, f"a/{path}", f"b/{path}")
        return "".join(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in lines)


def distinct(edits: Sequence[Edit]) -> list[Edit]:
    """One edit per (span, replacement), in file order.

    Several occurrences can share one place to write: FROM lines whose tag and digest come
    from the same ARG default, or one Kustomize entry seen twice. They write it once.
    """
    seen: dict[tuple[int, int, str], Edit] = {}
    for edit in edits:
        seen.setdefault((edit.start, edit.end, edit.replacement), edit)
    return sorted(seen.values(), key=lambda edit: edit.start)


def splice(text: str, edits: Sequence[Edit]) -> str:
    """`text` with each edit's span replaced; spans must not overlap."""
    ordered = distinct(edits)
    for before, after in itertools.pairwise(ordered):
        if after.start < before.end:
            raise ValueError(f"overlapping edits at {before.start} and {after.start}")
    pieces: list[str] = []
    position = 0
    for edit in ordered:
        pieces.append(text[position : edit.start])
        pieces.append(edit.replacement)
        position = edit.end
    pieces.append(text[position:])
    return "".join(pieces)


def _shift(offset: int, edits: Sequence[Edit]) -> int:
    """Where `offset` of the old text lands in the new text."""
    delta = 0
    for edit in edits:
        if edit.end <= offset:
            delta += len(edit.replacement) - (edit.end - edit.start)
    return offset + delta


def apply_edits(
    path: str,
    original: bytes,
    edits: Sequence[Edit],
    *,
    linked: Mapping[str, str] | None = None,
) -> FileChange:
    """Apply `edits` to one file's bytes and verify the result by scanning it again.

    `linked` holds the texts of the files this one was scanned with (`scan_text`): both
    scans read them, so occurrences found through them are checked like the others.
    """
    if not edits:
        return FileChange(path, original, original, ())
    text = original.decode("utf-8")
    before = scan_text(path, text, linked=linked)
    try:
        updated = splice(text, edits)
    except ValueError as exc:
        raise ApplyError(path, str(exc)) from exc
    written = distinct(edits)
    after = scan_text(path, updated, linked=linked)
    if after.errors:
        raise ApplyError(path, f"the edited file no longer scans cleanly ({after.errors[0]})")
    found = {o.start: o for o in after.occurrences}

    edited_starts = {edit.occurrence.start for edit in edits}
    for edit in edits:
        moved = found.get(_shift(edit.occurrence.start, written))
        if moved is None or moved.reference_text != edit.expected:
            held = moved.reference_text if moved is not None else "nothing"
            raise ApplyError(
                path,
                f"line {edit.occurrence.line}: expected {edit.expected!r} after editing, found {held!r}",
            )
    for occurrence in before.occurrences:
        if occurrence.start in edited_starts:
            continue
        moved = found.get(_shift(occurrence.start, written))
        if moved is None or moved.reference_text != occurrence.reference_text:
            raise ApplyError(
                path, f"line {occurrence.line}: {occurrence.text!r} changed though it was not edited"
            )
    if len(after.occurrences) != len(before.occurrences):
        raise ApplyError(
            path,
            f"{len(before.occurrences)} references before editing, {len(after.occurrences)} after",
        )
    return FileChange(path, original, updated.encode("utf-8"), tuple(sorted(edits, key=lambda e: e.start)))
