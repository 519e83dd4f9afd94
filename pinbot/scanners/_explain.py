"""Why image-like text is not reported: what each scanner passed over, located, with its reason.

Only `scan --explain` asks: scanners that can explain (`ExplainingScanner`) read each file a
second time and return their dismissals (a stage name after `FROM`, a `status` field, an image
a build pushes, a Quadlet unit named as an image). Text that another scanner reports as a
reference is not explained away.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass

from pinbot.scanners._driver import scanners_for
from pinbot.scanners._occurrence import LineIndex
from pinbot.scanners.interface import ExplainingScanner, LocatedText, Occurrence, ScanError

__all__ = ["Explanation", "explain_files"]

#: The status an explanation has in `scan` output, beside the statuses of references.
SKIPPED = "skipped"


@dataclass(frozen=True)
class Explanation(LocatedText):
    """Text a scanner saw and did not report as a reference, where it is and why."""

    reason: str

    def to_json(self) -> dict[str, object]:
        """The keys of `Occurrence.to_json`, so a consumer reads both alike."""
        return self._record(None, SKIPPED, False, self.reason)


def explain_files(
    files: Mapping[str, bytes], reported: Collection[Occurrence] = ()
) -> list[Explanation]:
    """What the scanners of each file passed over, in file order; text that overlaps a
    reported occurrence of the same file is left out (another scanner reads it)."""
    taken: dict[str, list[tuple[int, int]]] = {}
    for occurrence in reported:
        taken.setdefault(occurrence.file, []).append((occurrence.start, occurrence.end))
    explained: list[Explanation] = []
    for path in sorted(files):
        try:
            text = files[path].decode("utf-8")
        except UnicodeDecodeError:
            continue  # reported as an error by the scan itself
        explained.extend(_explain(path, text, taken.get(path, [])))
    return explained


def _explain(path: str, text: str, taken: list[tuple[int, int]]) -> list[Explanation]:
    lines: LineIndex | None = None
    seen: set[tuple[int, int]] = set()
    found: list[Explanation] = []
    for scanner in scanners_for(path):
        if not isinstance(scanner, ExplainingScanner):
            continue
        try:
            dismissals = list(scanner.dismissals(path, text))
        except ScanError:
            continue  # the scan reports the file as it is
        for dismissal in dismissals:
            span = (dismissal.start, dismissal.end)
            overlaps = any(start < span[1] and span[0] < end for start, end in taken)
            if span in seen or overlaps or not 0 <= span[0] <= span[1] <= len(text):
                continue
            seen.add(span)
            lines = lines or LineIndex(text)
            line = lines.line_of(span[0])
            found.append(
                Explanation(
                    file=path,
                    kind=scanner.kind,
                    start=span[0],
                    end=span[1],
                    byte_start=lines.byte_offset(span[0]),
                    byte_end=lines.byte_offset(span[1]),
                    line=line,
                    column=span[0] - lines.starts[line - 1] + 1,
                    text=text[span[0] : span[1]],
                    context=dismissal.context,
                    reason=dismissal.reason,
                )
            )
    return sorted(found, key=lambda explanation: (explanation.start, explanation.end))
