"""Wall time and API calls of `pinbot run --org` over a 200-repository organisation on the fake.

Not collected by pytest. Run from the repository root:

    python3 -m tests.bench.bench_bot [--repos 200]

The first run opens a pull request in every repository; the second finds nothing changed and
must make no write calls. Writes are not paced here (`--write-interval 0`); on GitHub the
default pause of one second between writes adds about five seconds per pull request opened.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from pinbot.cli import build_parser
from pinbot.commands.run import RunSummary, execute
from pinbot.config import load_config
from pinbot.forge.github import Credentials
from tests.support.github_fake import GitHubFake
from tests.support.registry import start_registry


def _per_repository(summary: RunSummary) -> str:
    counts = [summary.calls.requests[r.repository] for r in summary.results]
    writes = [summary.calls.writes[r.repository] for r in summary.results]
    return (
        f"API calls per repository: min {min(counts)}, median {statistics.median(counts)}, "
        f"max {max(counts)}; writes per repository: median {statistics.median(writes)}; "
        f"run-level calls (organisation listing): {summary.calls.requests['(run)']}"
    )


def main() -> int:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--repos", type=int, default=200)
    count = options.parse_args().repos
    with tempfile.TemporaryDirectory() as scratch:
        workdir = Path(scratch)
        registry = start_registry(workdir / "registry")
        try:
            images = []
            for i in range(5):
                registry.push_image(f"bench/image{i}", "1.0", seed=f"bench-{i}")
                images.append(registry.ref(f"bench/image{i}", "1.0"))
            config_path = workdir / "pinbot.yaml"
            config_path.write_text(f"registries:\n  {registry.host}:\n    insecure: true\n")
            config = load_config(config_path)
            with GitHubFake() as fake:
                fake.create_org("bench")
                for i in range(count):
                    image = images[i % len(images)]
                    fake.create_repo(
                        "bench",
                        f"service-{i:03d}",
                        {
                            "Dockerfile": f"FROM {image}\nRUN true\n".encode(),
                            "README.md": b"# service\n",
                            "src/main.py": b"print('hi')\n",
                        },
                    )
                args = build_parser().parse_args(["run", "--org", "bench", "--write-interval", "0"])
                credentials = Credentials(token=fake.token, api_url=fake.url)
                for label in ("opening run", "no-change run"):
                    fake.reset_calls()
                    started = time.monotonic()
                    summary = execute(args, config, credentials)
                    elapsed = time.monotonic() - started
                    print(f"{label}: {summary.headline()}")
                    print(f"  wall time {elapsed:.2f} s for {len(summary.results)} repositories")
                    print(f"  {_per_repository(summary)}")
                    print(
                        f"  requests seen by the fake: {len(fake.calls)}, "
                        f"writes: {len(fake.write_calls())}"
                    )
                    if summary.failures:
                        print(summary.text(), file=sys.stderr)
                        return 1
        finally:
            registry.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
