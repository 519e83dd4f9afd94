"""Scanning a set of files streamed and in worker processes gives what scanning it whole does."""

from __future__ import annotations

import gc
import os
import signal
import tracemalloc
from pathlib import Path
from typing import Any

import pytest

import pinbot.scanners._tree
from pinbot.errors import ProblemKind
from pinbot.scanners import (
    TreeScan,
    candidate_paths,
    scan_files,
    scan_stream,
    scan_tree,
)
from pinbot.scanners._tree import _Job, _Links, _scan_job
from pinbot.scanners._walk import choose_files
from tests.support.corpus import corpus_root


def _same(one: TreeScan, other: TreeScan) -> None:
    assert one.occurrences == other.occurrences
    assert one.errors == other.errors
    assert one.files_scanned == other.files_scanned
    assert one.contents == other.contents


@pytest.mark.slow
def test_the_corpus_scans_the_same_with_one_worker_and_with_several() -> None:
    root = corpus_root()
    alone = scan_tree(root, workers=1)
    assert len(alone.occurrences) > 1000
    for workers in (2, 3):
        _same(scan_tree(root, workers=workers), alone)


@pytest.mark.slow
def test_the_corpus_streamed_gives_what_its_files_read_together_give() -> None:
    # The links between files are found by reading them from disk as the linking scanners ask:
    # the same as from every file held in memory at once.
    root = corpus_root()
    files = {path: (root / path).read_bytes() for path in candidate_paths(root)}
    together = scan_files(files)
    streamed = scan_tree(root, workers=1)
    assert streamed.occurrences == [o for outcome in together.values() for o in outcome.occurrences]
    assert streamed.errors == [e for outcome in together.values() for e in outcome.errors]
    assert any("(image of " in o.context for o in streamed.occurrences)  # a linked finding


def _pipeline(tmp_path: Path, files: int) -> None:
    """A GitLab CI variable defined in the first file and used as an image in the last, with
    many Dockerfiles between them: the files fill several chunks of work."""
    (tmp_path / "a-ci").mkdir()
    (tmp_path / "a-ci" / "vars.gitlab-ci.yml").write_text(
        "variables:\n  BUILD_IMAGE: golang:1.22\n"
    )
    for index in range(files):
        folder = tmp_path / f"m{index:03}"
        folder.mkdir()
        (folder / "Dockerfile").write_text(f"FROM alpine:3.{index}\nFROM busybox:1.{index}\n")
    (tmp_path / "z-ci").mkdir()
    (tmp_path / "z-ci" / "build.gitlab-ci.yml").write_text(
        "build:\n  image: $BUILD_IMAGE\n  script: [make]\n"
    )


def test_links_reach_across_chunks_and_workers(tmp_path: Path) -> None:
    _pipeline(tmp_path, 80)
    alone = scan_tree(tmp_path, workers=1)
    (linked,) = [o for o in alone.occurrences if "(image of " in o.context]
    assert (linked.file, linked.text) == ("a-ci/vars.gitlab-ci.yml", "golang:1.22")
    assert len(alone.occurrences) == 2 + 2 * 80
    _same(scan_tree(tmp_path, workers=2), alone)


def test_a_file_whose_scan_kills_its_worker_costs_that_file_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Nothing found so far crashes a scan in C or runs it out of memory (sizes, depth and
    # aliases are bounded before composing); a scan that kills its own process stands in.
    _pipeline(tmp_path, 80)
    alone = scan_tree(tmp_path, workers=1)
    real = pinbot.scanners._tree.scan_read

    def deadly(path: str, data: bytes, **options: Any) -> Any:
        if path == "m040/Dockerfile":
            os.kill(os.getpid(), signal.SIGKILL)
        return real(path, data, **options)

    monkeypatch.setattr(pinbot.scanners._tree, "scan_read", deadly)
    scanned = scan_tree(tmp_path, workers=2)

    assert scanned.occurrences == [o for o in alone.occurrences if o.file != "m040/Dockerfile"]
    (problem,) = scanned.errors
    assert (problem.kind, problem.file) == (ProblemKind.UNREADABLE_FILE, "m040/Dockerfile")
    assert problem.message == "the process scanning it was killed by signal 9; not scanned"
    assert scanned.files_scanned == alone.files_scanned - 1
    assert any("(image of " in o.context for o in scanned.occurrences)  # links still found


@pytest.mark.parametrize("changed", ["before its scan", "after its scan"])
def test_a_file_changed_after_its_links_were_found_keeps_its_own_findings_only(
    tmp_path: Path, changed: str
) -> None:
    _pipeline(tmp_path, 0)
    chosen = choose_files([tmp_path], root=tmp_path)
    links = _Links(chosen, ())
    path = "a-ci/vars.gitlab-ci.yml"
    definitions = tmp_path / path
    job = _Job(path, chosen[path], linkable=True)
    edit = "variables:\n  BUILD_IMAGE: golang:1.23  # changed\n"
    if changed == "before its scan":
        definitions.write_text(edit)
    scanned = _scan_job(job, (), keep_contents=False)
    if changed == "after its scan":  # the text to place the links in is read again
        definitions.write_text(edit)
    outcome = links.added(*scanned).outcome
    assert outcome.occurrences == []  # the linked reference is left out
    (problem,) = outcome.errors
    assert (problem.file, problem.message) == (path, "changed while it was scanned; scan it again")


def test_an_unchanged_file_gets_its_links(tmp_path: Path) -> None:
    _pipeline(tmp_path, 0)
    chosen = choose_files([tmp_path], root=tmp_path)
    links = _Links(chosen, ())
    path = "a-ci/vars.gitlab-ci.yml"
    for keep_contents in (False, True):
        scanned = _scan_job(_Job(path, chosen[path], linkable=True), (), keep_contents)
        outcome = links.added(*scanned).outcome
        assert [o.text for o in outcome.occurrences] == ["golang:1.22"]
        assert outcome.errors == []


def test_a_stream_reads_each_file_when_its_turn_comes_and_keeps_no_bytes(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "Dockerfile").write_text("FROM alpine:3.19\n")
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "Dockerfile").write_text("FROM alpine:3.19\n")
    stream = scan_stream([tmp_path], root=tmp_path, workers=1)
    first = next(stream)
    (tmp_path / "b" / "Dockerfile").write_text("FROM alpine:3.20\n")
    second = next(stream)
    assert [o.text for o in first.outcome.occurrences] == ["alpine:3.19"]
    assert [o.text for o in second.outcome.occurrences] == ["alpine:3.20"]
    assert (first.data, second.data) == (None, None)
    assert next(stream, None) is None


def test_a_missing_path_is_refused_before_the_stream_starts(tmp_path: Path) -> None:
    from pinbot.scanners import PathNotFound

    with pytest.raises(PathNotFound):
        scan_stream([tmp_path / "gone"], root=tmp_path)


def _peak_streaming(root: Path, workers: int) -> int:
    tracemalloc.start()
    try:
        scanned = scan_stream([root], root=root, workers=workers)
        references = sum(len(one.outcome.occurrences) for one in scanned)
        return tracemalloc.get_traced_memory()[1] if references else 0
    finally:
        tracemalloc.stop()


@pytest.mark.slow
@pytest.mark.parametrize("workers", [1, 2])
def test_memory_of_a_streamed_scan_does_not_grow_with_the_references(
    tmp_path: Path, workers: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Workers send back a bounded number of chunks ahead of the reader: one file a chunk here,
    # so that bound is well below the tree.
    monkeypatch.setattr(pinbot.scanners._tree, "_CHUNK", 1)

    def tree(name: str, references: int) -> Path:
        root = tmp_path / name
        for index in range(400):
            folder = root / f"s{index:04}"
            folder.mkdir(parents=True)
            body = "".join(
                f"FROM registry.example/team/image-{n}:1.{index}\n" for n in range(references)
            )
            (folder / "Dockerfile").write_text(body)
        return root

    few, many = tree("few", 1), tree("many", 30)  # 400 and 12,000 references in 400 files
    _peak_streaming(few, workers)  # what the first scan imports and compiles is not counted
    growth = _peak_streaming(many, workers) - _peak_streaming(few, workers)
    tracemalloc.start()
    try:
        held = len(scan_tree(many, workers=1).occurrences)
        whole = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert held == 12_000
    # 11,600 more references cost the stream the few files in flight (at most 16 chunks of one
    # file: 4% of the tree), not what holding them all costs. The peaks also carry what the
    # result-handling thread happens to hold when the parent is slow (seen up to 15% on a loaded
    # machine), so the bound is a quarter: far below holding everything, not a timing test.
    assert growth < whole / 4


@pytest.mark.parametrize(
    ("files", "processors", "expected"),
    [
        (399, 2, 1),  # a small tree: starting workers costs more than it saves
        (400, 2, 2),  # one per processor
        (400, 16, 4),  # at most four
    ],
)
def test_how_many_workers_by_default(
    monkeypatch: pytest.MonkeyPatch, files: int, processors: int, expected: int
) -> None:
    from pinbot.scanners import _tree

    monkeypatch.setattr("sys.platform", "linux")
    monkeypatch.setattr("os.sched_getaffinity", lambda _pid: set(range(processors)))
    assert _tree._worker_count(files, None) == expected
    assert _tree._worker_count(files, 3) == 3  # asked for: always
    monkeypatch.setattr("sys.platform", "darwin")
    assert _tree._worker_count(files, None) == 1  # forking is Linux's safe default only


@pytest.mark.slow  # starts worker processes
def test_a_scan_sets_the_garbage_collector_back_as_it_found_it(tmp_path: Path) -> None:
    (tmp_path / "compose.yaml").write_text("services:\n  web:\n    image: redis:7\n")
    before = gc.get_threshold()
    for workers in (1, 2):
        stream = scan_stream([tmp_path], root=tmp_path, workers=workers)
        next(stream)
        assert gc.get_threshold()[0] >= 5000  # while the scan runs
        stream.close()  # stopped early too
        assert gc.get_threshold() == before
        assert gc.get_freeze_count() == 0
