#!/usr/bin/env python3
"""Time `pinbot scan` against Renovate's extraction in one run: the corpus and a 10,000-file tree.

    python3 tests/bench/bench_scan.py [--corpus DIR] [--runs 3] [--tree-files 10000]
        [--no-renovate] [--in-process N] [--json]

For the corpus, then for a tree of at least `--tree-files` files made of copies of the corpus's
repositories (in a temporary folder), runs `python3 -m pinbot scan PATH --format json` and
Renovate's extraction (`extract.sh --corpus-single PATH`, see ../shared/peers/renovate)
alternately, `--runs` times each, and prints for each side the median and range of:

- wall time; for Renovate also the Renovate process alone (extract.sh then normalises its
  report: the ratio is taken against Renovate alone, the smaller figure);
- CPU time, user and system, of the process and every process it waited for;
- peak memory: the largest sum of the resident set sizes of the process and its descendants,
  sampled every 10 ms (pinbot's worker processes share pages with their parent, so this
  counts those more than once), and the largest single process (ru_maxrss).

Then the ratios Renovate/pinbot of the medians, the references each side found, and the
machine: processors and load average before and after, since it may be shared.

pinbot runs the way installed code does: its Python bytecode is compiled by one untimed run
first (kept under a temporary PYTHONPYCACHEPREFIX), not on every run. `--in-process N` also
times `scan_tree` N times in this process, with one worker and with the default.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))


def shared(*parts: str) -> Path:
    """`../shared/…` beside the checkout (or beside the folder of worktrees holding it)."""
    places = [REPO.parent.joinpath("shared", *parts), REPO.parent.parent.joinpath("shared", *parts)]
    return next((place for place in places if place.exists()), places[0]).resolve()


def default_corpus() -> Path:
    env = os.environ.get("PINBOT_CORPUS")
    return Path(env) if env else shared("corpus")


def default_peer_dir() -> Path:
    env = os.environ.get("RENOVATE_PEER_DIR")
    return Path(env) if env else shared("peers", "renovate")


# --------------------------------------------------------------------------- one measured run


@dataclass
class Run:
    wall_s: float
    cpu_s: float
    tree_rss_mb: float  # largest sum over the process and its descendants
    process_rss_mb: float  # largest single process
    found: int = 0  # references (pinbot) or image dependencies (Renovate)
    own_wall_s: float | None = None  # Renovate alone, without extract.sh's normalising


def _children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as listing:
            return [int(child) for child in listing.read().split()]
    except OSError:
        return []


def _rss_bytes(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/statm") as statm:
            return int(statm.read().split()[1]) * PAGE
    except (OSError, IndexError, ValueError):
        return 0


PAGE = os.sysconf("SC_PAGE_SIZE")


def _tree_rss(pid: int) -> int:
    total, pending = 0, [pid]
    while pending:
        current = pending.pop()
        total += _rss_bytes(current)
        pending.extend(_children(current))
    return total


def measure(
    command: Sequence[str], stdout: Path, stderr: Path, env: dict[str, str], cwd: Path
) -> Run:
    """Run `command` to completion; wall and CPU time and peak memory of its process tree."""
    with stdout.open("wb") as out, stderr.open("wb") as err:
        started = time.perf_counter()
        process = subprocess.Popen(command, stdout=out, stderr=err, env=env, cwd=cwd)
        peak = 0
        while True:
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            peak = max(peak, _tree_rss(process.pid))
            time.sleep(0.01)
        wall = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        sys.stderr.write(stderr.read_text(errors="replace")[-3000:])
        raise SystemExit(f"bench_scan: {' '.join(command)} exited {process.returncode}")
    # ru_maxrss (KiB on Linux) is the largest of the process and the descendants it waited for.
    return Run(
        wall_s=wall,
        cpu_s=usage.ru_utime + usage.ru_stime,
        tree_rss_mb=peak / 2**20,
        process_rss_mb=usage.ru_maxrss / 1024,
    )


# --------------------------------------------------------------------------- the two sides


class Pinbot:
    name = "pinbot scan (CLI)"

    def __init__(self, work: Path) -> None:
        self.env = {**os.environ, "PYTHONPATH": str(REPO)}
        self.env.pop("PYTHONDONTWRITEBYTECODE", None)
        self.env["PYTHONPYCACHEPREFIX"] = str(work / "pycache")
        self.work = work

    def command(self, tree: Path) -> list[str]:
        return [sys.executable, "-m", "pinbot", "scan", str(tree), "--format", "json"]

    def run(self, tree: Path) -> Run:
        out, err = self.work / "pinbot.json", self.work / "pinbot.stderr"
        result = measure(self.command(tree), out, err, self.env, REPO)
        result.found = len(json.loads(out.read_text()))
        return result


class Renovate:
    name = "Renovate extraction"

    def __init__(self, work: Path, peer_dir: Path, flag: str = "--corpus-single") -> None:
        self.work, self.peer_dir, self.flag = work, peer_dir, flag
        self.env = dict(os.environ)

    def command(self, tree: Path) -> list[str]:
        return ["bash", str(self.peer_dir / "extract.sh"), self.flag, str(tree)]

    def run(self, tree: Path) -> Run:
        out, err = self.work / "renovate.json", self.work / "renovate.stderr"
        result = measure(self.command(tree), out, err, self.env, self.work)
        result.found = len(json.loads(out.read_text()))
        text = err.read_text(errors="replace")
        start = text.find("{\n")
        if start >= 0:
            summary = json.loads(text[start : text.rindex("}") + 1])
            result.own_wall_s = summary.get("renovate_wall_s")
        return result


# --------------------------------------------------------------------------- trees


def file_count(root: Path) -> int:
    return sum(len(files) for _, _, files in os.walk(root))


def copied_tree(corpus: Path, files: int, into: Path) -> Path:
    """A tree of at least `files` files: the corpus's repositories copied side by side
    (`name`, `name.2`, …), so it is laid out as the corpus is: one repository per folder."""
    tree = into / "tree"
    tree.mkdir()
    per_copy = file_count(corpus)
    copies = max(1, -(-files // per_copy))
    for copy in range(1, copies + 1):
        for repository in sorted(corpus.iterdir()):
            suffix = "" if copy == 1 else f".{copy}"
            if repository.is_dir():
                shutil.copytree(repository, tree / f"{repository.name}{suffix}", symlinks=True)
    return tree


# --------------------------------------------------------------------------- comparing


@dataclass
class Side:
    name: str
    runs: list[Run] = field(default_factory=list)

    def median(self, key: str) -> float:
        values = [getattr(run, key) for run in self.runs if getattr(run, key) is not None]
        return statistics.median(values) if values else float("nan")

    def spread(self, key: str) -> str:
        values = [getattr(run, key) for run in self.runs if getattr(run, key) is not None]
        if len(values) < 2:
            return ""
        return f" ({min(values):.2f}–{max(values):.2f})"


def compare(
    trees: list[tuple[str, Path]], sides: list[Pinbot | Renovate], runs: int
) -> dict[str, dict[str, Side]]:
    results: dict[str, dict[str, Side]] = {}
    for label, tree in trees:
        results[label] = {side.name: Side(side.name) for side in sides}
        for number in range(1, runs + 1):
            for side in sides:
                print(f"{label}: {side.name}, run {number}/{runs} ...", file=sys.stderr)
                results[label][side.name].runs.append(side.run(tree))
    return results


def describe(side: Side) -> str:
    wall = f"wall {side.median('wall_s'):.2f} s{side.spread('wall_s')}"
    own = side.median("own_wall_s")
    if own == own:  # not NaN: Renovate alone
        wall += f" (Renovate alone {own:.2f} s{side.spread('own_wall_s')})"
    return (
        f"{wall}, CPU {side.median('cpu_s'):.2f} s, peak RSS {side.median('tree_rss_mb'):.0f} MB"
        f" all processes{side.spread('tree_rss_mb')}, {side.median('process_rss_mb'):.0f} MB"
        f" largest process; {side.median('found'):.0f} found"
    )


def ratios(renovate: Side, pinbot: Side) -> str:
    own = renovate.median("own_wall_s")
    renovate_wall = own if own == own else renovate.median("wall_s")
    return (
        f"Renovate/pinbot: wall {renovate_wall / pinbot.median('wall_s'):.1f}x"
        f" (extract.sh whole {renovate.median('wall_s') / pinbot.median('wall_s'):.1f}x),"
        f" CPU {renovate.median('cpu_s') / pinbot.median('cpu_s'):.1f}x,"
        f" peak RSS {renovate.median('tree_rss_mb') / pinbot.median('tree_rss_mb'):.1f}x"
    )


def machine() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{os.cpu_count()} processors, load average {one:.2f} / {five:.2f} / {fifteen:.2f}"


# --------------------------------------------------------------------------- in-process


def bench(corpus: Path, runs: int = 5, workers: int | None = 1) -> dict[str, object]:
    """Timings of `scan_tree(corpus)` in this process: min/median seconds, rates, memory."""
    from pinbot.scanners import scan_tree

    warm = scan_tree(corpus, workers=workers)
    files, refs = warm.files_scanned, len(warm.occurrences)
    times: list[float] = []
    cpu: list[float] = []
    for _ in range(max(1, runs)):
        c0, t0 = time.process_time(), time.perf_counter()
        children0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        result = scan_tree(corpus, workers=workers)
        times.append(time.perf_counter() - t0)
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu.append(
            time.process_time()
            - c0
            + children.ru_utime
            - children0.ru_utime
            + children.ru_stime
            - children0.ru_stime
        )
        if (result.files_scanned, len(result.occurrences)) != (files, refs):
            raise RuntimeError("scan results differ between runs")
    tracemalloc.start()
    scan_tree(corpus, workers=1)
    _, peak_heap = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    median = statistics.median(times)
    return {
        "corpus": str(corpus),
        "workers": workers or "default",
        "runs": len(times),
        "files_scanned": files,
        "references": refs,
        "per_kind": dict(sorted(Counter(o.kind for o in warm.occurrences).items())),
        "errors": len(warm.errors),
        "wall_s_min": round(min(times), 4),
        "wall_s_median": round(median, 4),
        "cpu_s_min": round(min(cpu), 4),
        "files_per_s": round(files / median, 1),
        "references_per_s": round(refs / median, 1),
        "peak_heap_mb": round(peak_heap / 2**20, 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def format_bench(b: dict[str, object]) -> str:
    return (
        f"pinbot scan_tree in-process ({b['runs']} runs, workers {b['workers']}): "
        f"{b['files_scanned']} files, {b['references']} references; wall min "
        f"{b['wall_s_min']:.3f} s, median {b['wall_s_median']:.3f} s (CPU min "
        f"{b['cpu_s_min']:.3f} s, workers included); {b['files_per_s']} files/s; peak heap "
        f"{b['peak_heap_mb']} MB (tracemalloc, one worker), peak RSS {b['peak_rss_mb']} MB"
    )


# --------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--corpus", type=Path, default=default_corpus())
    ap.add_argument("--peer-dir", type=Path, default=default_peer_dir())
    ap.add_argument("--runs", type=int, default=3, help="runs of each side on each tree")
    ap.add_argument("--tree-files", type=int, default=10_000, help="0: the corpus only")
    ap.add_argument("--no-renovate", action="store_true", help="time pinbot alone")
    ap.add_argument("--in-process", type=int, default=0, metavar="N")
    ap.add_argument("--json", action="store_true", help="print the figures as JSON")
    a = ap.parse_args(argv)
    corpus = a.corpus.resolve()
    if not corpus.is_dir():
        print(f"bench_scan: corpus {corpus} not found (--corpus, PINBOT_CORPUS)", file=sys.stderr)
        return 2
    work = Path(tempfile.mkdtemp(prefix="pinbot-bench-scan."))
    try:
        return _run(a, corpus, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _run(a: argparse.Namespace, corpus: Path, work: Path) -> int:
    pinbot = Pinbot(work)
    sides: list[Pinbot | Renovate] = [pinbot]
    if not a.no_renovate:
        sides.insert(0, Renovate(work, a.peer_dir.resolve()))
    trees = [(f"corpus ({file_count(corpus):,} files)", corpus)]
    if a.tree_files:
        tree = copied_tree(corpus, a.tree_files, work)
        trees.append((f"{file_count(tree):,}-file tree (corpus copied)", tree))
    before = machine()
    pinbot.run(corpus)  # compiles pinbot's bytecode, as installing it does
    results = compare(trees, sides, max(1, a.runs))
    after = machine()
    in_process = [bench(corpus, a.in_process, workers) for workers in (1, None) if a.in_process > 0]
    if a.json:
        document = {
            "machine": {"before": before, "after": after},
            "trees": {
                label: {name: [asdict(run) for run in side.runs] for name, side in by.items()}
                for label, by in results.items()
            },
            "in_process": in_process,
        }
        print(json.dumps(document, indent=2))
        return 0
    print(f"machine: {before} (start); {after} (end); medians of {a.runs} runs, alternated")
    for label, by in results.items():
        print(f"\n{label}")
        for name, side in by.items():
            print(f"  {name:22} {describe(side)}")
        if len(by) == 2:
            renovate, own = by[Renovate.name], by[Pinbot.name]
            print(f"  {ratios(renovate, own)}")
    for figures in in_process:
        print("\n" + format_bench(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
