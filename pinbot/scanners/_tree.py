"""Scan the files chosen from files and folders as one set, file by file, in path order.

The links between files (GitLab CI variables defined in one file and used in another) are
found first, each file the linking scanners ask for read from disk when they ask. Then every
file is read, scanned and handed on in path order; its bytes are dropped unless the caller
keeps them, so a scan streams in memory that does not grow with the tree. From
`PARALLEL_FROM` files on, worker processes scan chunks of files and their results are taken
in order: the findings are the same whatever the number of workers.
"""

from __future__ import annotations

import gc
import hashlib
import os
import sys
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pinbot.errors import Problem
from pinbot.scanners._driver import (
    ScanOutcome,
    add_links,
    link,
    links_possible,
    scan_read,
    scanners_for,
    unreadable,
)
from pinbot.scanners._forked import InOrder
from pinbot.scanners._walk import choose_files, read_candidate
from pinbot.scanners.interface import Occurrence

__all__ = ["PARALLEL_FROM", "FileScan", "TreeScan", "scan_paths", "scan_stream", "scan_tree"]

# Below this many files, starting workers costs more than it saves.
PARALLEL_FROM = 400
# Files per task: enough that a task outweighs sending it, few enough to share the work.
_CHUNK = 24
# More workers than this add memory faster than they take time off.
_MOST_WORKERS = 4
# New objects between two collections of the youngest generation while a tree is scanned.
_YOUNG_COLLECTION = 5000
# Chunks handed to the workers before any result is taken: while this process finds the links
# (half a second for a 10,000-file tree) the workers scan on instead of waiting, and what they
# return is still bounded (3,072 files' results).
_IN_FLIGHT = 128


@dataclass
class FileScan:
    """One file of a scan: what it gave, and its bytes when the caller keeps them."""

    path: str
    outcome: ScanOutcome
    read: bool  # False when the file could not be read: its problem is the outcome's error
    data: bytes | None = None


@dataclass
class TreeScan:
    occurrences: list[Occurrence] = field(default_factory=list)
    errors: list[Problem] = field(default_factory=list)
    files_scanned: int = 0
    # The bytes each file had when it was scanned: `pin` writes only over these.
    contents: dict[str, bytes] = field(default_factory=dict)
    # The folder every path above is relative to.
    root: Path = field(default_factory=lambda: Path("."))


def scan_paths(
    paths: Sequence[Path],
    *,
    root: Path,
    ignore_paths: Sequence[str] = (),
    ignore_images: Sequence[str] = (),
    workers: int | None = None,
) -> TreeScan:
    """Scan files and folders as one set (see `scan_files`), paths relative to `root`, and
    keep every file's bytes.

    Which files are read is `choose_files`'s: it raises `PathNotFound` for a path that does
    not exist, before anything is read, and `ValueError` for one outside `root`.
    """
    result = TreeScan(root=root)
    stream = scan_stream(
        paths,
        root=root,
        ignore_paths=ignore_paths,
        ignore_images=ignore_images,
        keep_contents=True,
        workers=workers,
    )
    for scanned in stream:
        if scanned.read:
            result.files_scanned += 1
            assert scanned.data is not None
            result.contents[scanned.path] = scanned.data
        result.occurrences.extend(scanned.outcome.occurrences)
        result.errors.extend(scanned.outcome.errors)
    return result


def scan_tree(
    root: Path,
    *,
    ignore_paths: Sequence[str] = (),
    ignore_images: Sequence[str] = (),
    workers: int | None = None,
) -> TreeScan:
    """Scan every candidate file under the folder `root`, as one set (see `scan_paths`).

    A file that cannot be read (permissions, not a regular file, over `MAX_FILE_BYTES`) is a
    problem of the result, like one that cannot be decoded or parsed.
    """
    return scan_paths(
        [root], root=root, ignore_paths=ignore_paths, ignore_images=ignore_images, workers=workers
    )


def scan_stream(
    paths: Sequence[Path],
    *,
    root: Path,
    ignore_paths: Sequence[str] = (),
    ignore_images: Sequence[str] = (),
    keep_contents: bool = False,
    workers: int | None = None,
) -> Iterator[FileScan]:
    """Each file `scan_paths` would read, scanned, in path order, as it is done.

    `workers` processes scan (1: this one); by default as many as there are processors, at
    most four, once a walk finds `PARALLEL_FROM` files (Linux). The files are chosen before
    this returns (`PathNotFound`, `ValueError` as for `scan_paths`); reading and scanning them
    happens as the result is iterated.
    """
    found = choose_files(paths, root=root, ignore_paths=ignore_paths, match_walked=False)
    count = _worker_count(len(found), workers)
    if count <= 1:
        found = {path: file for path, file in found.items() if scanners_for(path)}
    # Else each worker matches its files against the scanners: that is work to share too.
    return _scanned(found, ignore_images, keep_contents, count)


@dataclass(frozen=True)
class _Job:
    """One file to scan; `linkable` when a linking scanner reads it: the digest of the bytes
    scanned comes back with the result, to check against those the links were found in."""

    path: str
    file: str
    linkable: bool


# A file scanned, and the digest of its bytes when its job asked for it.
_Scanned = tuple[FileScan, bytes | None]


def _scanned(
    chosen: Mapping[str, str], ignore_images: Sequence[str], keep_contents: bool, workers: int
) -> Iterator[FileScan]:
    jobs = [_Job(path, file, links_possible(path)) for path, file in chosen.items()]
    # A file's nodes live while it is scanned: a young-generation collection every 700 new
    # objects walks them again and again for the few cycles there are to free (a twentieth
    # of a scan's time). Fewer collections, as many objects freed; set back when it ends.
    thresholds = gc.get_threshold()
    gc.set_threshold(max(thresholds[0], _YOUNG_COLLECTION), *thresholds[1:])
    try:
        if workers <= 1:
            links = _Links(chosen, ignore_images)
            for job in jobs:
                scanned = _scan_job(job, ignore_images, keep_contents)
                if scanned is not None:
                    yield links.added(*scanned)
            return
        chunks = [jobs[start : start + _CHUNK] for start in range(0, len(jobs), _CHUNK)]
        yield from _in_workers(chunks, chosen, ignore_images, keep_contents, workers)
    finally:
        gc.set_threshold(*thresholds)


def _in_workers(
    chunks: list[list[_Job]],
    chosen: Mapping[str, str],
    ignore_images: Sequence[str],
    keep_contents: bool,
    workers: int,
) -> Iterator[FileScan]:
    """The chunks scanned by `workers` forked processes, results in chunk order, while this
    process finds the links. A bounded number of chunks is in flight: enough to keep the
    workers busy while the links are found, few enough that results never pile up ahead of
    the reader."""
    # Objects that exist before the fork are left out of the workers' garbage collections:
    # a collection touches every object it tracks, which copies the memory a fork shares.
    gc.freeze()
    try:
        with InOrder(
            len(chunks),
            lambda number: _scan_chunk(chunks[number], ignore_images, keep_contents),
            workers=workers,
            in_flight=_IN_FLIGHT,
            on_lost=lambda number, _how: _scan_each_alone(
                chunks[number], ignore_images, keep_contents
            ),
        ) as done:
            links = _Links(chosen, ignore_images)
            for chunk in done:
                for scanned in chunk:
                    yield links.added(*scanned)
    finally:
        gc.unfreeze()


def _scan_chunk(
    chunk: list[_Job], ignore_images: Sequence[str], keep_contents: bool
) -> list[_Scanned]:
    scanned = (_scan_job(job, ignore_images, keep_contents) for job in chunk)
    return [one for one in scanned if one is not None]


def _scan_each_alone(
    chunk: list[_Job], ignore_images: Sequence[str], keep_contents: bool
) -> list[_Scanned]:
    """A chunk whose worker died (killed, out of memory, a crash in C), each file scanned in a
    process of its own: the file whose scan ends its process costs that file alone, reported
    unreadable; the others are scanned as usual."""
    scanned = (_scan_alone(job, ignore_images, keep_contents) for job in chunk)
    return [one for one in scanned if one is not None]


def _scan_alone(job: _Job, ignore_images: Sequence[str], keep_contents: bool) -> _Scanned | None:
    with InOrder(
        1,
        lambda _: _scan_job(job, ignore_images, keep_contents),
        workers=1,
        in_flight=0,
        on_lost=lambda _, how: _lost(job, how),
    ) as alone:
        return next(alone)


def _lost(job: _Job, how: str) -> _Scanned:
    problem = unreadable(job.path, f"the process scanning it {how}; not scanned")
    return FileScan(job.path, ScanOutcome(errors=[problem]), read=False), None


def _scan_job(job: _Job, ignore_images: Sequence[str], keep_contents: bool) -> _Scanned | None:
    """The file scanned; None for one no scanner reads."""
    if not scanners_for(job.path):
        return None
    data = read_candidate(job.file, job.path)
    if isinstance(data, Problem):
        return FileScan(job.path, ScanOutcome(errors=[data]), read=False), None
    outcome = scan_read(job.path, data, ignore_images=ignore_images)
    scanned = FileScan(job.path, outcome, read=True, data=data if keep_contents else None)
    return scanned, _digest(data) if job.linkable else None


def _digest(data: bytes) -> bytes:
    return hashlib.blake2b(data, digest_size=16).digest()


class _Links:
    """What the linking scanners find across the chosen files, added to each file's own
    findings as it comes, as `scan_files` adds them.

    Only to the bytes they were found in: a file that changed between the two readings keeps
    its own findings and is reported, since the links' offsets would point astray.
    """

    CHANGED = "changed while it was scanned; scan it again"

    def __init__(self, chosen: Mapping[str, str], ignore_images: Sequence[str]) -> None:
        texts = _TextsOnDisk(chosen)
        self.linked = link(texts)
        self.found_in = {path: texts.digests.get(path) for path in self.linked.found}
        self.chosen = chosen
        self.ignore_images = ignore_images

    def added(self, scanned: FileScan, digest: bytes | None) -> FileScan:
        linked, problems = self.linked.of(scanned.path)
        if scanned.read:
            scanned.outcome.errors.extend(problems)
        if not linked or not scanned.read:
            return scanned
        text = self._text(scanned, digest)
        outcome = scanned.outcome
        if text is None:
            outcome.errors.insert(0, unreadable(scanned.path, self.CHANGED))
        else:
            scanned.outcome = add_links(scanned.path, text, outcome, linked, self.ignore_images)
        return scanned

    def _text(self, scanned: FileScan, digest: bytes | None) -> str | None:
        """The text that was scanned, if the links were found in the same bytes."""
        expected = self.found_in[scanned.path]
        if digest is None or digest != expected:
            return None
        data = scanned.data
        if data is None:  # not kept: read again, and check it is still the same
            read = read_candidate(self.chosen[scanned.path], scanned.path)
            if isinstance(read, Problem) or _digest(read) != expected:
                return None
            data = read
        return data.decode("utf-8")


class _TextsOnDisk(Mapping[str, str]):
    """The chosen files' texts, each read from disk when first asked for. Scanners ask for
    the same file again, and for every file a second time: texts are kept up to a bound.

    A file that cannot be read or is not UTF-8 reads as empty: it takes no part in links, and
    its own scan reports it. `digests` holds the digest of each file's bytes as first read,
    and one no bytes have when a later read found other bytes.
    """

    KEPT_CHARACTERS = 1 << 24

    def __init__(self, files: Mapping[str, str]) -> None:
        self._files = files
        self._kept: dict[str, str] = {}
        self._kept_size = 0
        self._last: tuple[str, str] | None = None
        self.digests: dict[str, bytes] = {}

    def __getitem__(self, path: str) -> str:
        if self._last is not None and self._last[0] == path:
            return self._last[1]
        text = self._kept.get(path)
        if text is None:
            text = self._read(path)
            if self._kept_size + len(text) <= self.KEPT_CHARACTERS:
                self._kept[path] = text
                self._kept_size += len(text)
        self._last = (path, text)
        return text

    def _read(self, path: str) -> str:
        data = read_candidate(self._files[path], path)
        if isinstance(data, Problem):
            return ""
        digest = _digest(data)
        if self.digests.setdefault(path, digest) != digest:
            self.digests[path] = b""
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            return ""

    def __contains__(self, path: object) -> bool:
        return path in self._files

    def __iter__(self) -> Iterator[str]:
        return iter(self._files)

    def __len__(self) -> int:
        return len(self._files)


def _worker_count(files: int, workers: int | None) -> int:
    """`workers` when given; else one per processor (at most `_MOST_WORKERS`) for a tree of
    `PARALLEL_FROM` files or more on Linux.

    Also when other processes keep the processors busy: each process gets its share of them,
    so the workers still finish sooner than one process would (measured with two processes
    spinning on a 2-processor machine: 0.66-1.06 s against 0.99-1.33 s for the corpus).
    """
    if not hasattr(os, "fork"):  # pragma: no cover - workers are forked
        return 1
    if workers is not None:
        return max(1, workers)
    if files < PARALLEL_FROM or not sys.platform.startswith("linux"):
        return 1
    try:
        processors = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        processors = os.cpu_count() or 1
    return max(1, min(processors, _MOST_WORKERS))
