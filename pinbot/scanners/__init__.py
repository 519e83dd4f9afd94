"""Find image references in files: the one list of scanners, and the driver that runs them.

A file kind is one module here exposing `SCANNER`; adding a kind is one module and one name
in `SCANNER_MODULES`. Scanners are pure; the driver computes lines, columns, byte spans and
status, and applies ignore comments and ignore globs.

A scanner whose files name each other (GitLab CI's included files) may also have a `link`
method (`LinkingScanner`): given every file of a set it matches, it reports what only shows
when they are read together. `scan_files` runs it over a tree or a snapshot; `scan_text`
runs it over the files passed as `linked`, so one file re-scanned after an edit sees the same.
"""

from __future__ import annotations

import bisect
import fnmatch
import importlib
import os
import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, runtime_checkable

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
    "LinkingScanner",
    "Occurrence",
    "ScanError",
    "ScanOutcome",
    "Scanner",
    "Status",
    "TreeScan",
    "all_scanners",
    "scan_bytes",
    "scan_files",
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


@runtime_checkable
class LinkingScanner(Protocol):
    """A scanner that also reads a set of files together.

    `link` gets the texts of every file of the set the scanner matches, by path, and returns
    what no file shows alone, by path (offsets into that path's text), for the files in
    `paths` only: a file re-scanned after an edit asks for its own. The driver drops a
    linked finding whose span the file's own scan already reported.
    """

    kind: str

    def matches(self, path: str) -> bool: ...

    def scan(self, path: str, text: str) -> Iterable[Finding]: ...

    def link(
        self, files: Mapping[str, str], paths: Collection[str]
    ) -> Mapping[str, Sequence[Finding]]: ...


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
    )


# What a scanner reported, with the kind that names it.
_KindFindings = list[tuple[str, Finding]]


def _scan_one(path: str, text: str, scanners: Iterable[Scanner]) -> tuple[_KindFindings, list[str]]:
    """Each scanner's findings in one file, and the errors of those that failed."""
    found: _KindFindings = []
    errors: list[str] = []
    failed_at: set[int | None] = set()
    for scanner in scanners:
        try:
            findings = list(scanner.scan(path, text))
        except ScanError as exc:
            if exc.line not in failed_at:  # two YAML scanners fail on the same broken line
                failed_at.add(exc.line)
                where = f"{path}:{exc.line}" if exc.line else path
                errors.append(f"{where}: {exc.message}; file left unchanged")
            continue
        found.extend((scanner.kind, finding) for finding in findings)
    return found, errors


def _link(
    texts: Mapping[str, str], paths: Collection[str], scanners: Iterable[Scanner]
) -> dict[str, _KindFindings]:
    """What the linking scanners find in `paths` of a set of files read together, by path."""
    found: dict[str, _KindFindings] = {}
    for scanner in scanners:
        if not isinstance(scanner, LinkingScanner):
            continue
        members = {path: text for path, text in texts.items() if scanner.matches(path)}
        wanted = [path for path in paths if path in members]
        if not wanted:
            continue
        for path, findings in scanner.link(members, wanted).items():
            if path in wanted:
                found.setdefault(path, []).extend((scanner.kind, finding) for finding in findings)
    return found


def _outcome(
    path: str, text: str, found: _KindFindings, errors: list[str], ignore_images: Sequence[str]
) -> ScanOutcome:
    """Occurrences from findings in the order given; a span already reported is skipped."""
    outcome = ScanOutcome(errors=errors)
    lines: _Lines | None = None
    seen: set[tuple[int, int]] = set()
    for kind, finding in found:
        if (finding.start, finding.end) in seen:
            continue
        seen.add((finding.start, finding.end))
        if lines is None:
            lines = _Lines(text)
        outcome.occurrences.append(_occurrence(path, kind, finding, lines, ignore_images))
    outcome.occurrences.sort(key=lambda o: (o.start, o.end))
    return outcome


def scan_text(
    path: str,
    text: str,
    *,
    scanners: Iterable[Scanner] | None = None,
    ignore_images: Sequence[str] = (),
    linked: Mapping[str, str] | None = None,
) -> ScanOutcome:
    """Occurrences of image references in one file's text, in file order.

    `linked` holds the texts of the set of files this one was scanned with (as by
    `scan_files`; an entry for `path` itself is replaced by `text`): the file then also gets
    what linking scanners find through the others, exactly as `scan_files` reported it.
    """
    chosen = scanners_for(path) if scanners is None else list(scanners)
    found, errors = _scan_one(path, text, chosen)
    if linked is not None:
        found += _link({**linked, path: text}, [path], chosen).get(path, [])
    return _outcome(path, text, found, errors, ignore_images)


def _decode(path: str, data: bytes) -> str | ScanOutcome:
    """A file's text, or the outcome that reports it is not UTF-8."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        return ScanOutcome(errors=[f"{path}:{line}: not UTF-8 text; file left unchanged"])


def scan_bytes(path: str, data: bytes, *, ignore_images: Sequence[str] = ()) -> ScanOutcome:
    """Like `scan_text`, for a file's bytes; a file that is not UTF-8 is reported and skipped."""
    text = _decode(path, data)
    if isinstance(text, ScanOutcome):
        return text
    return scan_text(path, text, ignore_images=ignore_images)


def scan_files(
    files: Mapping[str, bytes], *, ignore_images: Sequence[str] = ()
) -> dict[str, ScanOutcome]:
    """Scan a set of files together (a tree, a branch): each file, then the links between them.

    Returns one outcome per path, in path order. A file that is not UTF-8 is reported and
    skipped, and takes no part in links.
    """
    outcomes: dict[str, ScanOutcome] = {}
    texts: dict[str, str] = {}
    for path in sorted(files):
        decoded = _decode(path, files[path])
        if isinstance(decoded, ScanOutcome):
            outcomes[path] = decoded
        else:
            texts[path] = decoded
    linked = _link(texts, list(texts), _scanners())
    for path, text in texts.items():
        found, errors = _scan_one(path, text, scanners_for(path))
        found += linked.get(path, [])
        outcomes[path] = _outcome(path, text, found, errors, ignore_images)
    return dict(sorted(outcomes.items()))


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
    """Scan every candidate file under `root`, as one set (see `scan_files`)."""
    result = TreeScan()
    files: dict[str, bytes] = {}
    unreadable: dict[str, str] = {}
    for relative in candidate_paths(root, ignore_paths):
        file_path = root / relative
        try:
            if file_path.stat().st_size > MAX_FILE_BYTES or not file_path.is_file():
                continue
            files[relative] = file_path.read_bytes()
        except OSError as exc:
            unreadable[relative] = f"{relative}: cannot read: {exc.strerror}"
    outcomes = scan_files(files, ignore_images=ignore_images)
    for relative in sorted((*outcomes, *unreadable)):
        if relative in unreadable:
            result.errors.append(unreadable[relative])
            continue
        outcome = outcomes[relative]
        result.files_scanned += 1
        result.occurrences.extend(outcome.occurrences)
        result.errors.extend(outcome.errors)
    return result
