"""Find image references in files: the one list of scanners, and the driver that runs them.

A file kind is one module here exposing `SCANNER`; adding a kind is one module and one name
in `SCANNER_MODULES`. Scanners are pure; the driver computes lines, columns, byte spans and
status, and applies ignore comments and ignore globs.
"""

from __future__ import annotations

import bisect
import fnmatch
import importlib
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pinbot.reference import ImageReference, InvalidReference, parse_normalized
from pinbot.scanners.interface import (
    DigestSlot,
    Finding,
    Occurrence,
    ScanError,
    Scanner,
    Status,
)

__all__ = [
    "DigestSlot",
    "Finding",
    "Occurrence",
    "ScanError",
    "ScanOutcome",
    "Scanner",
    "Status",
    "TreeScan",
    "all_scanners",
    "scan_bytes",
    "scan_text",
    "scan_tree",
]

# Order matters: when two scanners report the same span, the earlier one names the kind.
# The generic Helm-values scanner comes last so specific kinds win.
SCANNER_MODULES: tuple[str, ...] = (
    "dockerfile",
    "compose",
    "kubernetes",
    "kustomize",
    "github_actions",
    "gitlab_ci",
    "circleci",
    "bitbucket",
    "drone",
    "cloudbuild",
    "skaffold",
    "gitpod",
    "devcontainer",
    "bake",
    "azure_pipelines",
    "woodpecker",
    "buildkite",
    "jenkinsfile",
    "nomad",
    "earthfile",
    "concourse",
    "helm",
)

# Directories that never hold a project's own image references.
SKIPPED_DIRS = frozenset({".git", ".hg", ".svn", "node_modules", ".venv", "venv", "__pycache__", ".tox"})
MAX_FILE_BYTES = 4 * 1024 * 1024

IGNORE_MARK = "pinbot: ignore"
# Jinja/Helm/Go templates, shell and Compose variables, GitLab `$[[ inputs.x ]]`,
# CircleCI `<< parameters.x >>`, ERB.
_TEMPLATE = re.compile(r"\{\{|\{%|\$\{|\$\(|\$\[\[|\$[A-Za-z_]|<<\s*[\w.]|<%")


def all_scanners() -> list[Scanner]:
    """One scanner per module in `SCANNER_MODULES`, in that order."""
    return [importlib.import_module(f"pinbot.scanners.{name}").SCANNER for name in SCANNER_MODULES]


_SCANNERS: list[Scanner] | None = None


def _scanners() -> list[Scanner]:
    global _SCANNERS
    if _SCANNERS is None:
        _SCANNERS = all_scanners()
    return _SCANNERS


def scanners_for(path: str) -> list[Scanner]:
    """The scanners whose file names match `path` (a POSIX path)."""
    return [scanner for scanner in _scanners() if scanner.matches(path)]


def is_templated(text: str) -> bool:
    return _TEMPLATE.search(text) is not None


@dataclass
class ScanOutcome:
    """What scanning one file gave: occurrences, and problems that stopped a scanner."""

    occurrences: list[Occurrence] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


@dataclass
class TreeScan:
    occurrences: list[Occurrence] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    files_scanned: int = 0


class _Lines:
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
    familiar = reference.familiar()
    short = familiar.split("@", 1)[0]
    if reference.tag is not None:
        short = short[: -(len(reference.tag) + 1)]
    names = (reference.name, short, familiar, str(reference))
    return any(fnmatch.fnmatchcase(name, glob) for name in names for glob in globs)


def _occurrence(
    path: str, kind: str, finding: Finding, lines: _Lines, ignore_images: Sequence[str]
) -> Occurrence:
    text = lines.text[finding.start : finding.end]
    reference_text = finding.reference_text if finding.reference_text is not None else text
    line = lines.line_of(finding.start)
    column = finding.start - lines.starts[line - 1] + 1
    reference: ImageReference | None = None
    note = finding.note
    rewritable = finding.rewritable
    if finding.templated or is_templated(reference_text):
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
    if IGNORE_MARK in lines.line_text(line) or IGNORE_MARK in lines.line_text(line - 1):
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
    )


def scan_text(
    path: str,
    text: str,
    *,
    scanners: Iterable[Scanner] | None = None,
    ignore_images: Sequence[str] = (),
) -> ScanOutcome:
    """Occurrences of image references in one file's text, in file order."""
    outcome = ScanOutcome()
    lines: _Lines | None = None
    seen: set[tuple[int, int]] = set()
    failed_at: set[int | None] = set()
    for scanner in scanners_for(path) if scanners is None else scanners:
        try:
            findings = list(scanner.scan(path, text))
        except ScanError as exc:
            if exc.line not in failed_at:  # two YAML scanners fail on the same broken line
                failed_at.add(exc.line)
                where = f"{path}:{exc.line}" if exc.line else path
                outcome.errors.append(f"{where}: {exc.message}; file left unchanged")
            continue
        for finding in findings:
            if (finding.start, finding.end) in seen:
                continue
            seen.add((finding.start, finding.end))
            if lines is None:
                lines = _Lines(text)
            outcome.occurrences.append(_occurrence(path, scanner.kind, finding, lines, ignore_images))
    outcome.occurrences.sort(key=lambda o: (o.start, o.end))
    return outcome


def scan_bytes(path: str, data: bytes, *, ignore_images: Sequence[str] = ()) -> ScanOutcome:
    """Like `scan_text`, for a file's bytes; a file that is not UTF-8 is reported and skipped."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        return ScanOutcome(errors=[f"{path}:{line}: not UTF-8 text; file left unchanged"])
    return scan_text(path, text, ignore_images=ignore_images)


def candidate_paths(root: Path, ignore_paths: Sequence[str] = ()) -> list[str]:
    """POSIX paths under `root` (relative) that some scanner would read, sorted."""
    found: list[str] = []
    for directory, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIPPED_DIRS)
        relative_dir = Path(directory).relative_to(root).as_posix()
        for filename in filenames:
            relative = filename if relative_dir == "." else f"{relative_dir}/{filename}"
            if any(fnmatch.fnmatchcase(relative, glob) for glob in ignore_paths):
                continue
            if scanners_for(relative):
                found.append(relative)
    return sorted(found)


def scan_tree(
    root: Path, *, ignore_paths: Sequence[str] = (), ignore_images: Sequence[str] = ()
) -> TreeScan:
    """Scan every candidate file under `root`."""
    result = TreeScan()
    for relative in candidate_paths(root, ignore_paths):
        file_path = root / relative
        try:
            if file_path.stat().st_size > MAX_FILE_BYTES or not file_path.is_file():
                continue
            data = file_path.read_bytes()
        except OSError as exc:
            result.errors.append(f"{relative}: cannot read: {exc.strerror}")
            continue
        outcome = scan_bytes(relative, data, ignore_images=ignore_images)
        result.files_scanned += 1
        result.occurrences.extend(outcome.occurrences)
        result.errors.extend(outcome.errors)
    return result
