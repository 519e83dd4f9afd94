#!/usr/bin/env python3
"""Time `pinbot scan` in-process over a whole corpus.

    python3 tests/bench/bench_scan.py [--corpus DIR] [--runs 5] [--json]

Runs `scan_tree` over the corpus `--runs` times (after one untimed warm-up that imports every
scanner and warms the page cache) and prints the minimum and median wall time, files/s and
references/s, then one more run under tracemalloc for the peak Python heap. The process's peak
RSS (ru_maxrss) is reported too. The corpus defaults to $PINBOT_CORPUS, else ../shared/corpus
relative to the repository.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import sys
import time
import tracemalloc
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from pinbot.scanners import scan_tree  # noqa: E402


def default_corpus() -> Path:
    env = os.environ.get("PINBOT_CORPUS")
    return Path(env) if env else (REPO / ".." / "shared" / "corpus").resolve()


def bench(corpus: Path, runs: int = 5) -> dict[str, object]:
    """Timings of `scan_tree(corpus)`: min/median seconds, rates and peak memory."""
    warm = scan_tree(corpus)
    files, refs = warm.files_scanned, len(warm.occurrences)
    times: list[float] = []
    cpu: list[float] = []
    for _ in range(max(1, runs)):
        c0, t0 = time.process_time(), time.perf_counter()
        result = scan_tree(corpus)
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
        if (result.files_scanned, len(result.occurrences)) != (files, refs):
            raise RuntimeError("scan results differ between runs")
    tracemalloc.start()
    scan_tree(corpus)
    _, peak_heap = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    best, median = min(times), statistics.median(times)
    return {
        "corpus": str(corpus),
        "runs": len(times),
        "files_scanned": files,
        "references": refs,
        "per_kind": dict(sorted(Counter(o.kind for o in warm.occurrences).items())),
        "errors": len(warm.errors),
        "wall_s_min": round(best, 4),
        "wall_s_median": round(median, 4),
        "cpu_s_min": round(min(cpu), 4),
        "files_per_s": round(files / median, 1),
        "references_per_s": round(refs / median, 1),
        "peak_heap_mb": round(peak_heap / 2**20, 1),
        # ru_maxrss is in KiB on Linux.
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def format_bench(b: dict[str, object]) -> str:
    return (
        f"pinbot scan (in-process, {b['runs']} runs): {b['files_scanned']} files, "
        f"{b['references']} references; wall min {b['wall_s_min']:.3f} s, "
        f"median {b['wall_s_median']:.3f} s (CPU min {b['cpu_s_min']:.3f} s); "
        f"{b['files_per_s']} files/s, {b['references_per_s']} references/s; "
        f"peak heap {b['peak_heap_mb']} MB (tracemalloc), peak RSS {b['peak_rss_mb']} MB"
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--corpus", type=Path, default=default_corpus())
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--json", action="store_true", help="print the figures as JSON")
    a = ap.parse_args(argv)
    if not a.corpus.is_dir():
        print(
            f"bench_scan: corpus {a.corpus} not found (set --corpus or PINBOT_CORPUS)",
            file=sys.stderr,
        )
        return 2
    b = bench(a.corpus, a.runs)
    print(json.dumps(b, indent=2) if a.json else format_bench(b))
    return 0


if __name__ == "__main__":
    sys.exit(main())
