"""Benchmark: what a hostile registry costs `pinbot resolve`: wall time, peak memory, outcome.

Not a test (pytest does not collect it). Run from the repository root:

    python3 tests/bench/bench_hostile.py [--tree DIR] [--timeout 240] [--memory-limit 2048]

Starts a hostile registry on loopback (tests/support/hostile_registry.py) and runs
`python -m pinbot resolve` from `--tree` (default: this checkout) once per case, each in a
fresh process whose peak resident set size comes from `os.wait4`. `--memory-limit` caps the
process's address space (MiB) so that a tree without body limits fails instead of taking the
machine's memory; `--timeout` kills a run that takes longer. Prints one Markdown table row
per case: exit status, wall time, peak RSS, and the first words of the error.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.support.hostile_registry import (  # noqa: E402
    MANIFEST_HEADERS,
    HostileRegistry,
    MiB,
    endless,
    filler_digest,
    image_manifest,
    sha256_digest,
    sized,
    trickle,
)

Case = tuple[str, list[str], Callable[[HostileRegistry], None]]


def good_image(hostile: HostileRegistry) -> None:
    hostile.serve_image("good", "1", b'{"architecture":"amd64","os":"linux"}')


def endless_manifest(hostile: HostileRegistry) -> None:
    hostile.answer("/v2/endless/manifests/1", headers=MANIFEST_HEADERS, chunks=endless())


def huge_manifest(hostile: HostileRegistry) -> None:
    hostile.answer(
        "/v2/huge/manifests/1", headers=MANIFEST_HEADERS, chunks=sized(100 * MiB), length=100 * MiB
    )


def huge_manifest_unannounced(hostile: HostileRegistry) -> None:
    hostile.answer("/v2/huge-chunked/manifests/1", headers=MANIFEST_HEADERS, chunks=sized(100 * MiB))


def slow_manifest(hostile: HostileRegistry) -> None:
    body = image_manifest()
    hostile.answer(
        "/v2/slow/manifests/1", headers=MANIFEST_HEADERS, chunks=trickle(body, every=1.0)
    )


def huge_config_blob(hostile: HostileRegistry, *, honest: bool) -> None:
    name = "blob-honest" if honest else "blob-lying"
    digest = filler_digest(300 * MiB)
    manifest = image_manifest(config_digest=digest, config_size=300 * MiB if honest else 2)
    headers = {**MANIFEST_HEADERS, "Docker-Content-Digest": sha256_digest(manifest)}
    for tag_or_digest in ("1", sha256_digest(manifest)):
        hostile.answer(f"/v2/{name}/manifests/{tag_or_digest}", headers=headers, body=manifest)
    hostile.answer(f"/v2/{name}/blobs/{digest}", chunks=sized(300 * MiB), length=300 * MiB)


def lying_length(hostile: HostileRegistry) -> None:
    body = image_manifest()
    headers = {**MANIFEST_HEADERS, "Docker-Content-Digest": sha256_digest(body)}
    hostile.answer(
        "/v2/short/manifests/1", headers=headers, chunks=lambda stop: iter([body]), length=10_000
    )
    hostile.answer("/v2/short/manifests/1", status=405, method="HEAD")  # so GET it is


def lying_digest(hostile: HostileRegistry) -> None:
    body = image_manifest()
    headers = {**MANIFEST_HEADERS, "Docker-Content-Digest": "sha256:" + "e" * 64}
    hostile.answer("/v2/liar/manifests/1", headers=headers, body=body)
    hostile.answer("/v2/liar/manifests/1", status=405, method="HEAD")  # so GET it is


CASES: list[Case] = [
    ("well-behaved image (baseline)", ["good:1"], good_image),
    ("endless manifest body", ["endless:1"], endless_manifest),
    ("100 MiB manifest, Content-Length announced", ["huge:1"], huge_manifest),
    ("100 MiB manifest, chunked", ["huge-chunked:1"], huge_manifest_unannounced),
    ("manifest at one byte a second", ["slow:1"], slow_manifest),
    (
        "300 MiB config blob, size in descriptor",
        ["blob-honest:1", "--platform", "linux/amd64"],
        lambda h: huge_config_blob(h, honest=True),
    ),
    (
        "300 MiB config blob, descriptor says 2 bytes",
        ["blob-lying:1", "--platform", "linux/amd64"],
        lambda h: huge_config_blob(h, honest=False),
    ),
    ("Content-Length larger than the body", ["short:1"], lying_length),
    ("Docker-Content-Digest that lies", ["liar:1"], lying_digest),
]


def run_case(
    tree: Path, hostile: HostileRegistry, args: list[str], config: Path, home: Path, limits: argparse.Namespace
) -> tuple[int | str, float, float, str]:
    reference, *options = args
    command = [sys.executable, "-m", "pinbot", "resolve", f"{hostile.host}/{reference}", *options]
    command += ["--config", str(config)]
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("DOCKER_", "PINBOT_"))}
    environ |= {"PYTHONPATH": str(tree), "HOME": str(home), "DOCKER_CONFIG": str(home / "docker")}
    memory = limits.memory_limit * MiB

    def cap_memory() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))

    with tempfile.TemporaryFile() as err:
        started = time.monotonic()
        process = subprocess.Popen(
            command,
            stdout=subprocess.DEVNULL,
            stderr=err,
            env=environ,
            cwd=home,
            preexec_fn=cap_memory,
        )
        while True:
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() - started > limits.timeout:
                process.kill()
                pid, status, usage = os.wait4(process.pid, 0)
                status = -1
                break
            time.sleep(0.05)
        seconds = time.monotonic() - started
        err.seek(0)
        lines = err.read().decode("utf-8", "replace").strip().splitlines()
    outcome: int | str = "killed" if status == -1 else os.waitstatus_to_exitcode(status)
    last = lines[-1] if lines else ""
    detail = last.partition("\terror: ")[2] or last
    return outcome, seconds, usage.ru_maxrss / 1024, detail[:110]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tree", type=Path, default=ROOT, help="the pinbot checkout to run")
    parser.add_argument("--timeout", type=float, default=240.0, help="seconds per case")
    parser.add_argument("--memory-limit", type=int, default=2048, help="MiB of address space")
    parser.add_argument("--only", help="run only cases whose title contains this")
    args = parser.parse_args()
    print("| case | exit | wall | peak RSS | error |")
    print("|---|---:|---:|---:|---|")
    with tempfile.TemporaryDirectory() as work, HostileRegistry() as hostile:
        home = Path(work)
        config = home / "pinbot.yaml"
        config.write_text(f'registries:\n  "{hostile.host}":\n    insecure: true\n')
        for title, case_args, prepare in CASES:
            if args.only and args.only not in title:
                continue
            prepare(hostile)
            code, seconds, rss, detail = run_case(args.tree, hostile, case_args, config, home, args)
            shown = detail.replace("|", "\\|")
            print(f"| {title} | {code} | {seconds:.1f} s | {rss:.0f} MiB | {shown} |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
