"""Wall time and API calls of `pinbot run --org` over a 200-repository organisation on the fake.

Not collected by pytest. Run from the repository root:

    python3 -m tests.bench.bench_bot [--repos 200] [--no-cache]

The first run opens a pull request in every repository; the next two find nothing changed
and must make no write calls. With the response cache (`--cache-dir`, the default here) the
first no-change run still sees the answers the opening run changed (its own pull requests
and pushes); the second is the steady state of a scheduled job, answered by 304s, which do
not count against the primary rate limit. Writes are not paced here (`--write-interval 0`);
on GitHub the default pause of one second between writes adds about five seconds per pull
request opened.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from pinbot.bot.run import RunSummary, run_bot
from pinbot.cli import build_parser
from pinbot.commands.run import run_options
from pinbot.config import load_config
from pinbot.forge.github import Credentials
from pinbot.report import run_summary
from tests.support.github_fake import GitHubFake
from tests.support.registry import start_registry


def _per_repository(summary: RunSummary) -> str:
    calls = summary.calls
    names = [r.repository for r in summary.results]
    counts = [calls.counted(name) for name in names]

    def median(counter: Counter[str]) -> float:
        return statistics.median(counter[name] for name in names)

    return (
        f"API calls counted against the rate limit per repository: min {min(counts)}, "
        f"median {statistics.median(counts)}, max {max(counts)}; medians per repository: "
        f"writes {median(calls.writes)}, answered 304 {median(calls.not_modified)}, "
        f"read from the cache {median(calls.cached)}; run-level (organisation listing): "
        f"{calls.counted(calls.RUN)} counted, {calls.not_modified[calls.RUN]} answered 304"
    )


def main() -> int:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--repos", type=int, default=200)
    options.add_argument("--no-cache", action="store_true", help="run without --cache-dir")
    parsed = options.parse_args()
    count = parsed.repos
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
                argv = ["run", "--org", "bench", "--write-interval", "0"]
                if not parsed.no_cache:
                    argv += ["--cache-dir", str(workdir / "github-cache")]
                args = build_parser().parse_args(argv)
                credentials = Credentials(token=fake.token, api_url=fake.url)
                for label in ("opening run", "no-change run", "second no-change run"):
                    fake.reset_calls()
                    started = time.monotonic()
                    summary = run_bot(config, credentials, run_options(args))
                    elapsed = time.monotonic() - started
                    print(f"{label}: {run_summary.headline(summary)}")
                    print(f"  wall time {elapsed:.2f} s for {len(summary.results)} repositories")
                    print(f"  {_per_repository(summary)}")
                    statuses = Counter(c.status for c in fake.calls)
                    print(
                        f"  requests seen by the fake: {len(fake.calls)} "
                        f"({', '.join(f'{n} × {s}' for s, n in sorted(statuses.items()))}), "
                        f"writes: {len(fake.write_calls())}"
                    )
                    if summary.failures:
                        print(run_summary.text(summary), file=sys.stderr)
                        return 1
        finally:
            registry.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
