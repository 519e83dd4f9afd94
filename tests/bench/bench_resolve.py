"""Benchmark: pinbot resolving many tags against a TLS + token registry, next to skopeo.

Not a test (pytest does not collect it). Run from the repository root:

    python3 tests/bench/bench_resolve.py --tags 500 --repos 10 --pool 8

It starts a token server and a real registry on loopback, pushes N unique tags spread over
R repositories, resolves every tag with pinbot (verifying each digest against what was
pushed), then runs `skopeo inspect --raw` over the same tags sequentially and with a small
thread pool, and prints wall times, the ratio, and requests per tag.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from pinbot.config import Config, RegistryConfig  # noqa: E402
from pinbot.reference import parse_normalized  # noqa: E402
from pinbot.registry import RegistryClient, Resolution  # noqa: E402
from tests.support.certs import TestCA  # noqa: E402
from tests.support.registry import RunningRegistry, sha256_digest, start_registry  # noqa: E402
from tests.support.token_server import TokenServer  # noqa: E402

USER = "bench"
PASSWORD = "bench-password"


def push_tags(reg: RunningRegistry, tags: int, repos: int) -> dict[str, str]:
    """Push `tags` unique tags over `repos` repositories; returns "repo:tag" -> digest."""
    pushed: dict[str, str] = {}
    shared_layer = [b"pinbot bench shared layer\n"]
    for i in range(tags):
        repo = f"bench/app{i % repos}"
        tag = f"v{i}"
        image = reg.push_image(repo, tag, layers=shared_layer, labels={"bench.index": str(i)})
        pushed[f"{repo}:{tag}"] = image.digest
    return pushed


async def resolve_all(
    reg: RunningRegistry, refs: list[str], concurrency: int
) -> tuple[list[Resolution], RegistryClient]:
    assert reg.ca_file is not None
    config = Config(
        registries={
            reg.host: RegistryConfig(
                host=reg.host, ca_file=reg.ca_file, username_env="U", password_env="P"
            )
        }
    )
    client = RegistryClient(
        config,
        environ={"U": USER, "P": PASSWORD},
        docker_config_dir=Path(tempfile.mkdtemp()),
        per_registry_concurrency=concurrency,
    )
    async with client:
        results = await asyncio.gather(
            *(client.resolve(parse_normalized(f"{reg.host}/{ref}")) for ref in refs)
        )
    return list(results), client


def skopeo_digest(reg: RunningRegistry, ref: str) -> str:
    return sha256_digest(reg.skopeo_raw(ref))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tags", type=int, default=500)
    parser.add_argument("--repos", type=int, default=10)
    parser.add_argument("--pool", type=int, default=8, help="skopeo processes at once")
    parser.add_argument("--concurrency", type=int, default=8, help="pinbot requests at once")
    parser.add_argument("--skip-sequential", action="store_true", help="skip sequential skopeo")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="pinbot-bench-"))
    ca = TestCA(workdir / "ca")
    token_server = TokenServer(
        workdir / "token-server", users={USER: PASSWORD}, ca=ca, public_prefixes=()
    ).start()
    reg = start_registry(
        workdir / "registry", ca=ca, token_server=token_server, username=USER, password=PASSWORD
    )
    try:
        started = time.monotonic()
        pushed = push_tags(reg, args.tags, args.repos)
        push_seconds = time.monotonic() - started
        refs = list(pushed)
        print(f"pushed {len(refs)} tags in {args.repos} repositories in {push_seconds:.1f} s")

        reg.reset_counts()
        started = time.monotonic()
        results, client = asyncio.run(resolve_all(reg, refs, args.concurrency))
        pinbot_seconds = time.monotonic() - started
        wrong = [r for r, ref in zip(results, refs, strict=True) if r.digest != pushed[ref]]
        if wrong:
            print(f"ERROR: {len(wrong)} digests differ from what was pushed", file=sys.stderr)
            return 1
        pinbot_manifest = len(reg.manifest_requests())
        pinbot_tokens = len(token_server.token_requests())
        print(
            f"pinbot:           {pinbot_seconds:7.2f} s  "
            f"manifest requests/tag {pinbot_manifest / len(refs):.3f}  "
            f"token requests/tag {pinbot_tokens / len(refs):.3f}  "
            f"(client stats: {client.stats.count('manifest_head')} HEAD, "
            f"{client.stats.count('token')} token, {client.stats.count('ping')} ping)"
        )

        timings: list[tuple[str, float]] = []
        if not args.skip_sequential:
            reg.reset_counts()
            started = time.monotonic()
            digests = [skopeo_digest(reg, ref) for ref in refs]
            seconds = time.monotonic() - started
            timings.append(("skopeo sequential", seconds))
            assert digests == [pushed[ref] for ref in refs], "skopeo disagrees"
            print(
                f"skopeo sequential:{seconds:7.2f} s  "
                f"manifest requests/tag {len(reg.manifest_requests()) / len(refs):.3f}  "
                f"token requests/tag {len(token_server.token_requests()) / len(refs):.3f}"
            )

        reg.reset_counts()
        started = time.monotonic()
        with ThreadPoolExecutor(max_workers=args.pool) as pool:
            digests = list(pool.map(lambda ref: skopeo_digest(reg, ref), refs))
        seconds = time.monotonic() - started
        timings.append((f"skopeo pool of {args.pool}", seconds))
        assert digests == [pushed[ref] for ref in refs], "skopeo disagrees"
        print(
            f"skopeo pool of {args.pool}: {seconds:7.2f} s  "
            f"manifest requests/tag {len(reg.manifest_requests()) / len(refs):.3f}  "
            f"token requests/tag {len(token_server.token_requests()) / len(refs):.3f}"
        )
        for name, seconds in timings:
            print(f"ratio {name} / pinbot: {seconds / pinbot_seconds:.1f}x")
    finally:
        reg.close()
        token_server.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
