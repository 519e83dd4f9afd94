#!/usr/bin/env python3
"""Time how long `pinbot check` takes on a small repository, against the bare interpreter.

    python3 tests/bench/bench_startup.py [--runs 21] [--json]

Writes a 10-file repository (Dockerfiles, Compose, Kubernetes, a workflow, GitLab CI, Helm
values, Kustomize), then runs, interleaved so machine load falls on all alike,
`python3 -c pass`, `python3 -m pinbot check REPO` and `python3 -m pinbot scan REPO`, each in a
fresh process, `--runs` times. Prints the median and minimum wall time of each and what pinbot
adds to the bare interpreter: what a pre-commit hook costs on every commit.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DIGEST = "sha256:" + "ab" * 32

FILES = {
    "Dockerfile": f"FROM golang:1.22@{DIGEST} AS build\nRUN make\nFROM gcr.io/distroless/static:nonroot@{DIGEST}\n",
    "tools/Dockerfile.lint": f"FROM alpine:3.20@{DIGEST}\n",
    "compose.yaml": f"services:\n  web:\n    image: nginx:1.27@{DIGEST}\n  db:\n    image: postgres:16@{DIGEST}\n",
    "deploy/app.yaml": (
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: app}\nspec:\n  template:\n"
        f"    spec:\n      containers:\n        - name: app\n          image: ghcr.io/acme/app:2.3@{DIGEST}\n"
    ),
    "deploy/job.yaml": (
        "apiVersion: batch/v1\nkind: Job\nmetadata: {name: job}\nspec:\n  template:\n"
        f"    spec:\n      containers:\n        - name: job\n          image: busybox:1.36@{DIGEST}\n"
    ),
    "deploy/kustomization.yaml": f"images:\n  - name: app\n    newTag: '2.3'\n    digest: {DIGEST}\n",
    "chart/values.yaml": f"image:\n  repository: acme/api\n  tag: '1.0'\n  digest: {DIGEST}\n",
    ".github/workflows/ci.yml": f"on: push\njobs:\n  test:\n    runs-on: ubuntu-latest\n    container: node:20@{DIGEST}\n    steps: [{{run: make}}]\n",
    ".gitlab-ci.yml": f"image: python:3.12@{DIGEST}\ntest:\n  script: [make]\n",
    "docker-compose.override.yml": f"services:\n  cache:\n    image: redis:7@{DIGEST}\n",
}


def write_repository(root: Path) -> None:
    for relative, text in FILES.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def timed(command: list[str], environment: dict[str, str], cwd: Path) -> float:
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, env=environment, cwd=cwd, check=False)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"{command} exited {done.returncode}: {done.stderr.decode()}")
    return elapsed


def bench(runs: int) -> dict[str, object]:
    environment = {**os.environ, "PYTHONPATH": str(REPO)}
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        write_repository(root)
        commands = {
            "python3 -c pass": [sys.executable, "-c", "pass"],
            "pinbot check": [sys.executable, "-m", "pinbot", "check", "."],
            "pinbot scan": [sys.executable, "-m", "pinbot", "scan", "."],
        }
        # Run inside the repository, as a hook does (and so `-m` finds no other checkout).
        for command in commands.values():  # warm the page cache and bytecode
            timed(command, environment, root)
        times: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(runs):
            for name, command in commands.items():
                times[name].append(timed(command, environment, root))
    bare = statistics.median(times["python3 -c pass"])
    bare_min = min(times["python3 -c pass"])
    return {
        "runs": runs,
        "files": len(FILES),
        "median_s": {name: round(statistics.median(t), 4) for name, t in times.items()},
        "min_s": {name: round(min(t), 4) for name, t in times.items()},
        "above_bare_s": {
            name: round(statistics.median(t) - bare, 4)
            for name, t in times.items()
            if name != "python3 -c pass"
        },
        "min_above_bare_min_s": {
            name: round(min(t) - bare_min, 4)
            for name, t in times.items()
            if name != "python3 -c pass"
        },
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=21)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    figures = bench(max(1, args.runs))
    if args.json:
        print(json.dumps(figures, indent=2))
        return 0
    print(f"{figures['files']} files, {figures['runs']} runs each, interleaved")
    medians, minimums = figures["median_s"], figures["min_s"]
    above, above_min = figures["above_bare_s"], figures["min_above_bare_min_s"]
    assert isinstance(medians, dict) and isinstance(minimums, dict)
    assert isinstance(above, dict) and isinstance(above_min, dict)
    for name in medians:
        extra = (
            f"  (over the bare interpreter: +{above[name]:.3f} s median, "
            f"+{above_min[name]:.3f} s min)"
            if name in above
            else ""
        )
        print(f"{name:16} median {medians[name]:.3f} s  min {minimums[name]:.3f} s{extra}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
