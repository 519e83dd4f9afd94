"""Run scanners over one file or a set of files read together, and collect what they found.

Each file's scanners run in registry order (the first to report a span names its kind); the
linking scanners then read the set together. A scanner's `ScanError` costs that scanner's
findings in that file, never the run: it is reported as a `Problem` of the outcome
(`unreadable-file`, with the file and the line where known).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from pinbot.errors import Problem, ProblemKind
from pinbot.scanners._occurrence import LineIndex, occurrence
from pinbot.scanners.interface import (
    Finding,
    LinkingScanner,
    Occurrence,
    ScanError,
    Scanner,
)

__all__ = [
    "ScanOutcome",
    "add_links",
    "all_scanners",
    "link",
    "links_possible",
    "scan_bytes",
    "scan_files",
    "scan_read",
    "scan_text",
    "scanners_for",
    "unreadable",
]


def all_scanners() -> list[Scanner]:
    """Every scanner, in registry order."""
    # Imported on first use: the scanners and ruamel.yaml cost ~80 ms that commands which
    # never scan (resolve) should not pay.
    from pinbot.scanners import _registry

    return list(_registry.SCANNERS)


def scanners_for(path: str) -> list[Scanner]:
    """The scanners whose file names match `path` (a POSIX path), in registry order."""
    return list(_MATCHING.scanners(path))


class _Matching:
    """Which scanners match a path, remembered: a tree walk asks for every file, and the scan
    asks again for each file it reads. Forgotten when the registry changes or when full."""

    LIMIT = 1 << 16

    def __init__(self) -> None:
        self.registry: tuple[Scanner, ...] = ()
        self.by_path: dict[str, tuple[Scanner, ...]] = {}
        self.linking_scanners: tuple[Scanner, ...] = ()

    def scanners(self, path: str) -> tuple[Scanner, ...]:
        self.refresh()
        found = self.by_path.get(path)
        if found is None:
            if len(self.by_path) >= self.LIMIT:
                self.by_path.clear()
            found = tuple(scanner for scanner in self.registry if scanner.matches(path))
            self.by_path[path] = found
        return found

    def linking(self) -> tuple[Scanner, ...]:
        self.refresh()
        return self.linking_scanners

    def refresh(self) -> None:
        from pinbot.scanners import _registry

        if _registry.SCANNERS is not self.registry:
            self.registry, self.by_path = _registry.SCANNERS, {}
            self.linking_scanners = tuple(
                scanner for scanner in self.registry if isinstance(scanner, LinkingScanner)
            )


_MATCHING = _Matching()


@dataclass
class ScanOutcome:
    """What scanning one file gave: occurrences, and problems that stopped a scanner."""

    occurrences: list[Occurrence] = field(default_factory=list)
    errors: list[Problem] = field(default_factory=list)


def unreadable(path: str, message: str, line: int | None = None) -> Problem:
    """A file, or part of one, that could not be read for references."""
    return Problem(ProblemKind.UNREADABLE_FILE, message, file=path, line=line)


# What a scanner reported, with the kind that names it.
_KindFindings = list[tuple[str, Finding]]


def _scan_one(
    path: str, text: str, scanners: Iterable[Scanner]
) -> tuple[_KindFindings, list[Problem]]:
    """Each scanner's findings in one file, and the problems of those that failed."""
    found: _KindFindings = []
    errors: list[Problem] = []
    failed_at: set[int | None] = set()
    for scanner in scanners:
        try:
            findings = list(scanner.scan(path, text))
        except ScanError as exc:
            if exc.line not in failed_at:  # two YAML scanners fail on the same broken line
                failed_at.add(exc.line)
                errors.append(unreadable(path, f"{exc.message}; file left unchanged", exc.line))
            continue
        except Exception as exc:  # a scanner's bug: this file goes unchecked, said, the rest on
            why = f"{type(exc).__name__}: {exc}"
            message = f"the {scanner.kind} scanner failed on it ({why}); file left unchanged"
            errors.append(unreadable(path, message))
            continue
        found.extend((scanner.kind, finding) for finding in findings)
    return found, errors


class _Members(Mapping[str, str]):
    """The files of a set that one scanner matches. A text is fetched only when the scanner
    asks for it: the set may be read from disk as it goes (`_tree`)."""

    def __init__(self, texts: Mapping[str, str], scanner: Scanner) -> None:
        self._texts = texts
        self._paths = [path for path in texts if scanner.matches(path)]
        self._known = frozenset(self._paths)

    def __getitem__(self, path: str) -> str:
        if path not in self._known:
            raise KeyError(path)
        return self._texts[path]

    def __contains__(self, path: object) -> bool:
        return path in self._known

    def __iter__(self) -> Iterator[str]:
        return iter(self._paths)

    def __len__(self) -> int:
        return len(self._paths)


@dataclass
class Linked:
    """What the linking scanners found across a set of files, by path, each finding with the
    kind that names it; and, for a linking scanner that broke, a problem on each file it was
    to link (the links it would have found are missing there)."""

    found: dict[str, _KindFindings] = field(default_factory=dict)
    problems: dict[str, list[Problem]] = field(default_factory=dict)

    def of(self, path: str) -> tuple[_KindFindings, list[Problem]]:
        return self.found.get(path, []), self.problems.get(path, [])


def link(texts: Mapping[str, str]) -> Linked:
    """What the linking scanners find in a set of files read together (for `scan_read`)."""
    return _link(texts, texts.keys(), all_scanners())


def _link(texts: Mapping[str, str], paths: Collection[str], scanners: Iterable[Scanner]) -> Linked:
    """What the linking scanners find in `paths` of a set of files read together, by path."""
    linked = Linked()
    for scanner in scanners:
        if not isinstance(scanner, LinkingScanner):
            continue
        members = _Members(texts, scanner)
        wanted = [path for path in paths if path in members]
        if not wanted:
            continue
        try:
            found = scanner.link(members, wanted)
        except Exception as exc:  # a scanner's bug: these files go without their links, said
            why = f"{type(exc).__name__}: {exc}"
            message = (
                f"the {scanner.kind} scanner failed linking it to the other files ({why}); "
                "what it names through them is not read"
            )
            for path in wanted:
                linked.problems.setdefault(path, []).append(unreadable(path, message))
            continue
        for path, findings in found.items():
            if path in wanted:
                kinds = ((scanner.kind, finding) for finding in findings)
                linked.found.setdefault(path, []).extend(kinds)
    return linked


def _outcome(
    path: str,
    text: str,
    found: _KindFindings,
    errors: list[Problem],
    ignore_images: Sequence[str],
) -> ScanOutcome:
    """Occurrences from findings in the order given; a span already reported is skipped."""
    outcome = ScanOutcome(errors=errors)
    lines: LineIndex | None = None
    seen: set[tuple[int, int]] = set()
    for kind, finding in found:
        if (finding.start, finding.end) in seen:
            continue
        seen.add((finding.start, finding.end))
        if lines is None:
            lines = LineIndex(text)
        outcome.occurrences.append(occurrence(path, kind, finding, lines, ignore_images))
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
        more, problems = _link({**linked, path: text}, [path], chosen).of(path)
        found, errors = found + more, errors + problems
    return _outcome(path, text, found, errors, ignore_images)


def _decode(path: str, data: bytes) -> str | ScanOutcome:
    """A file's text, or the outcome that reports it is not UTF-8."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        return ScanOutcome(errors=[unreadable(path, "not UTF-8 text; file left unchanged", line)])


def scan_bytes(path: str, data: bytes, *, ignore_images: Sequence[str] = ()) -> ScanOutcome:
    """Like `scan_text`, for a file's bytes; a file that is not UTF-8 is reported and skipped."""
    text = _decode(path, data)
    if isinstance(text, ScanOutcome):
        return text
    return scan_text(path, text, ignore_images=ignore_images)


def scan_read(path: str, data: bytes, *, ignore_images: Sequence[str] = ()) -> ScanOutcome:
    """One file of a set read alone: what `scan_files` gives for it but the links to the
    others (`add_links`). A file that is not UTF-8 is reported and skipped."""
    text = _decode(path, data)
    if isinstance(text, ScanOutcome):
        return text
    found, errors = _scan_one(path, text, scanners_for(path))
    return _outcome(path, text, found, errors, ignore_images)


def add_links(
    path: str,
    text: str,
    outcome: ScanOutcome,
    linked: Sequence[tuple[str, Finding]],
    ignore_images: Sequence[str] = (),
) -> ScanOutcome:
    """`outcome` of the file `path` read alone (`scan_read` of `text`) with what `link` found
    for it, as `scan_files` gives them together: a span the file's own scanners reported
    keeps their report."""
    seen = {(o.start, o.end) for o in outcome.occurrences}
    lines: LineIndex | None = None
    added: list[Occurrence] = []
    for kind, finding in linked:
        if (finding.start, finding.end) in seen:
            continue
        seen.add((finding.start, finding.end))
        lines = lines or LineIndex(text)
        added.append(occurrence(path, kind, finding, lines, ignore_images))
    occurrences = sorted([*outcome.occurrences, *added], key=lambda o: (o.start, o.end))
    return ScanOutcome(occurrences, outcome.errors)


def links_possible(path: str) -> bool:
    """Whether a linking scanner reads `path`: what it finds may depend on other files."""
    return any(scanner.matches(path) for scanner in _MATCHING.linking())


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
    linked = _link(texts, list(texts), all_scanners())
    for path, text in texts.items():
        found, errors = _scan_one(path, text, scanners_for(path))
        more, problems = linked.of(path)
        outcomes[path] = _outcome(path, text, found + more, errors + problems, ignore_images)
    return dict(sorted(outcomes.items()))
