"""Benchmark: pinbot resolving many tags against a TLS + token registry, next to skopeo.

Not a test (pytest does not collect it). Run from the repository root:

    python3 tests/bench/bench_resolve.py --tags 500 --repos 10 --pool 8
    python3 tests/bench/bench_resolve.py --cli --tags 100 --runs 5

It starts a token server and a real registry on loopback, pushes N unique tags spread over
R repositories, resolves every tag with pinbot (verifying each digest against what was
pushed), then runs `skopeo inspect --raw` over the same tags sequentially and with a small
thread pool, and prints wall times, the ratio, and requests per tag.

`--cli` times the command line instead, as CI runs it: one `python3 -m pinbot resolve REF…
--format json --config FILE` process for all tags (the config names the test CA and the
credentials by environment-variable name), against `skopeo inspect --raw` one tag after
another, `--runs` times interleaved, with the load average at each run; every digest the
command prints is checked against what was pushed. Then the same against a plain HTTP registry
without auth (`insecure: true`), unless `--skip-plain`. It prints the medians of wall and CPU
time and their ratios.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import statistics
import subprocess
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


def write_cli_config(workdir: Path, reg: RunningRegistry) -> Path:
    """A pinbot config naming the registry's CA and its credentials' variables (or `insecure`)."""
    config = workdir / "pinbot.yaml"
    entry = "    insecure: true\n" if reg.ca_file is None else f"    ca-file: {reg.ca_file}\n"
    if reg.username:
        entry += (
            "    username-env: BENCH_REGISTRY_USER\n    password-env: BENCH_REGISTRY_PASSWORD\n"
        )
    config.write_text(f"registries:\n  {json.dumps(reg.host)}:\n{entry}")
    return config


def cli_environment(workdir: Path, reg: RunningRegistry) -> dict[str, str]:
    """The environment a CI job would give the command: the checkout on PYTHONPATH, the
    credentials in the variables the config names, no Docker config or extra CA bundle."""
    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in ("SSL_CERT_FILE", "SSL_CERT_DIR", "DOCKER_CONFIG", "GITHUB_TOKEN")
    }
    docker_config = workdir / "docker-config"
    docker_config.mkdir(exist_ok=True)
    environment["DOCKER_CONFIG"] = str(docker_config)
    environment["PYTHONPATH"] = str(ROOT)
    # An installed pinbot has its bytecode (pip compiles it); the warm-up run writes it here,
    # away from the checkout, even when the caller's environment says not to write any.
    environment.pop("PYTHONDONTWRITEBYTECODE", None)
    environment["PYTHONPYCACHEPREFIX"] = str(workdir / "pycache")
    if reg.username and reg.password:
        environment["BENCH_REGISTRY_USER"] = reg.username
        environment["BENCH_REGISTRY_PASSWORD"] = reg.password
    return environment


def children_cpu() -> float:
    """CPU seconds (user + system) of the child processes that have ended so far."""
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def run_cli(
    command: list[str], environment: dict[str, str], cwd: Path, pushed: dict[str, str], host: str
) -> tuple[float, float]:
    """Wall and CPU seconds of `pinbot resolve`; raises when it fails or prints a digest not
    pushed."""
    cpu = children_cpu()
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, env=environment, cwd=cwd, check=False)
    seconds = time.perf_counter() - started
    cpu = children_cpu() - cpu
    if done.returncode != 0:
        raise RuntimeError(f"pinbot resolve exited {done.returncode}: {done.stderr.decode()}")
    rows = json.loads(done.stdout)
    printed = {row["reference"]: row["digest"] for row in rows}
    expected = {f"{host}/{ref}": digest for ref, digest in pushed.items()}
    if len(rows) != len(expected) or printed != expected:
        wrong = sum(1 for ref, digest in expected.items() if printed.get(ref) != digest)
        raise RuntimeError(f"pinbot resolve printed {wrong} digests that differ from the pushed")
    return seconds, cpu


def run_skopeo_sequential(reg: RunningRegistry, pushed: dict[str, str]) -> tuple[float, float]:
    """Wall and CPU seconds of one `skopeo inspect --raw` after another over every tag."""
    cpu = children_cpu()
    started = time.perf_counter()
    digests = [skopeo_digest(reg, ref) for ref in pushed]
    seconds = time.perf_counter() - started
    cpu = children_cpu() - cpu
    if digests != list(pushed.values()):
        raise RuntimeError("skopeo disagrees with what was pushed")
    return seconds, cpu


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load {one:.2f} {five:.2f} {fifteen:.2f}"


def compare_cli(
    name: str, workdir: Path, reg: RunningRegistry, tags: int, repos: int, runs: int
) -> float:
    """Time the command line against sequential skopeo on `reg`; returns the median ratio."""
    pushed = push_tags(reg, tags, repos)
    config = write_cli_config(workdir, reg)
    environment = cli_environment(workdir, reg)
    command = [sys.executable, "-m", "pinbot", "resolve"]
    command += [f"{reg.host}/{ref}" for ref in pushed]
    command += ["--format", "json", "--config", str(config)]
    print(f"{name}: {len(pushed)} tags in {repos} repositories, {runs} runs ({load()})")
    run_cli(command, environment, workdir, pushed, reg.host)  # warm the page cache, bytecode
    cli: list[tuple[float, float]] = []
    skopeo: list[tuple[float, float]] = []
    for run in range(runs):
        # Alternate which goes first, so a burst of load from elsewhere falls on both alike.
        if run % 2 == 0:
            cli.append(run_cli(command, environment, workdir, pushed, reg.host))
            skopeo.append(run_skopeo_sequential(reg, pushed))
        else:
            skopeo.append(run_skopeo_sequential(reg, pushed))
            cli.append(run_cli(command, environment, workdir, pushed, reg.host))
        print(
            f"  run {run + 1}: pinbot resolve {cli[-1][0]:6.3f} s (CPU {cli[-1][1]:.3f} s)  "
            f"skopeo sequential {skopeo[-1][0]:6.2f} s (CPU {skopeo[-1][1]:.2f} s)  "
            f"ratio {skopeo[-1][0] / cli[-1][0]:4.1f}x  ({load()})"
        )
    # CPU time does not grow with the load the way wall time does: on a busy machine it tells
    # what each costs where wall time mostly tells how busy the machine was.
    cli_wall, cli_cpu = (statistics.median(times) for times in zip(*cli, strict=True))
    skopeo_wall, skopeo_cpu = (statistics.median(times) for times in zip(*skopeo, strict=True))
    ratio = skopeo_wall / cli_wall
    print(
        f"  median: pinbot resolve {cli_wall:.3f} s (min {min(t for t, _ in cli):.3f}), "
        f"skopeo sequential {skopeo_wall:.2f} s (min {min(t for t, _ in skopeo):.2f}), "
        f"{skopeo_wall / len(pushed) * 1000:.1f} ms/tag; ratio {ratio:.1f}x\n"
        f"  median CPU: pinbot resolve {cli_cpu:.3f} s, skopeo sequential {skopeo_cpu:.2f} s, "
        f"ratio {skopeo_cpu / cli_cpu:.1f}x ({load()})"
    )
    return ratio


def main_cli(args: argparse.Namespace) -> int:
    workdir = Path(tempfile.mkdtemp(prefix="pinbot-bench-cli-"))
    ca = TestCA(workdir / "ca")
    token_server = TokenServer(
        workdir / "token-server", users={USER: PASSWORD}, ca=ca, public_prefixes=()
    ).start()
    reg = start_registry(
        workdir / "registry", ca=ca, token_server=token_server, username=USER, password=PASSWORD
    )
    try:
        compare_cli("TLS + token", workdir / "registry", reg, args.tags, args.repos, args.runs)
    finally:
        reg.close()
        token_server.close()
    if not args.skip_plain:
        with start_registry(workdir / "plain") as plain:
            compare_cli(
                "plain HTTP, no auth", workdir / "plain", plain, args.tags, args.repos, args.runs
            )
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tags", type=int, default=None, help="500, or 100 with --cli")
    parser.add_argument("--repos", type=int, default=10)
    parser.add_argument("--pool", type=int, default=8, help="skopeo processes at once")
    parser.add_argument("--concurrency", type=int, default=8, help="pinbot requests at once")
    parser.add_argument("--skip-sequential", action="store_true", help="skip sequential skopeo")
    parser.add_argument("--cli", action="store_true", help="time `python3 -m pinbot resolve`")
    parser.add_argument("--runs", type=int, default=5, help="with --cli: runs of each")
    parser.add_argument("--skip-plain", action="store_true", help="with --cli: TLS + token only")
    args = parser.parse_args()
    if args.tags is None:
        args.tags = 100 if args.cli else 500
    if args.cli:
        return main_cli(args)

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
