"""Benchmark: registry requests and wall time of pinbot and Renovate pinning the same sample.

Not a test (pytest does not collect it). Run from the repository root:

    python3 tests/bench/bench_lookups.py [--auth none|token|both] [--repos 20] [--tags 5]
        [--newer-tags 1] [--multiarch-every 4] [--runs 3] [--keep DIR] [--pinbot-only]
        [--tree DIR]

For each registry flavour (`--auth`: anonymous TLS, TLS + token auth, or both one after the
other) it starts a real registry on loopback (and a token server), pushes `--repos` x `--tags`
referenced tags (some multi-arch OCI indexes with attestation manifests, some single OCI
manifests, the rest Docker schema 2) plus `--newer-tags` newer tags per repository that no file
references, and writes a sample folder: one multi-stage Dockerfile per repository (every
referenced tag once), a compose.yaml and a Kubernetes Deployment file that reference some of the
same tags again, so there are fewer unique tags than references.

Then, in turn, with the counters reset before each:
- Renovate: the peer script `lookup.sh DIR OUT.json` (`--dry-run=lookup`, `pinDigests`; the CA
  via PEER_CA_FILE, credentials via RENOVATE_HOST_RULES);
- `pinbot pin DIR --dry-run --config CFG` (the registry's `ca-file`, `username-env` and
  `password-env`);
- `pinbot pin COPY --config CFG` on a copy of the sample (writes, so it fetches and hashes the
  manifest of every digest it writes).
Each is run `--runs` times (wall time: the median; request counts: the first run, and a note
if a later run counted differently). Requests are counted from the registry's access log
(manifest HEAD/GET by tag or by digest, blob GET/HEAD, tag list, catalog, `/v2/` ping; 401
answers to unauthenticated first tries included) and from the token server.

Finally it checks that both tools propose the same digest for every reference: Renovate's
`pinDigest` `newDigest` against the digest pinbot wrote, and both against skopeo
(`skopeo inspect --raw`, hashed) as the oracle. It prints one table per flavour: requests by
kind, per unique tag and per reference, totals, wall time and ratios.

Renovate comes from $RENOVATE_PEER_DIR (default ../shared/peers/renovate relative to the
repository), installed under $RENOVATE_PREFIX (see its README). `--pinbot-only` leaves Renovate
out (pinbot's request counts and digests against skopeo only); `--tree DIR` runs the pinbot of
another checkout, to compare request counts before and after a change.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.support.certs import TestCA  # noqa: E402
from tests.support.registry import RunningRegistry, start_registry  # noqa: E402
from tests.support.token_server import TokenServer  # noqa: E402

USER = "bench"
PASSWORD = "bench-password"

KINDS = [
    "/v2/ ping",
    "token",
    "manifest HEAD by tag",
    "manifest GET by tag",
    "manifest HEAD by digest",
    "manifest GET by digest",
    "blob GET",
    "blob HEAD",
    "tag list",
    "catalog",
    "other",
]


def default_peer_dir() -> Path:
    env = os.environ.get("RENOVATE_PEER_DIR")
    return Path(env) if env else ROOT.parent / "shared" / "peers" / "renovate"


# --------------------------------------------------------------------------- sample


@dataclass
class Sample:
    host: str
    referenced: dict[str, str] = field(default_factory=dict)  # "repo:tag" -> pushed digest
    newer: dict[str, str] = field(default_factory=dict)  # pushed, referenced nowhere
    references: int = 0


def tag_name(i: int) -> str:
    return f"1.{i}.0"


def push_images(
    reg: RunningRegistry, repos: int, tags: int, newer: int, multiarch_every: int
) -> Sample:
    """Push the images; every `multiarch_every`-th repository holds OCI indexes."""
    sample = Sample(host=reg.host)
    shared_layer = [b"pinbot lookup bench shared layer\n"]
    for r in range(repos):
        repo = f"bench/svc{r:02d}"
        for i in range(tags + newer):
            tag = tag_name(i)
            labels = {"bench.image": f"{repo}:{tag}"}
            if multiarch_every and r % multiarch_every == 0:
                digest = reg.push_multiarch(repo, tag, seed=f"{repo}:{tag}", labels=labels).digest
            else:
                oci = bool(multiarch_every) and r % multiarch_every == 1
                digest = reg.push_image(
                    repo, tag, oci=oci, layers=shared_layer, labels=labels
                ).digest
            (sample.referenced if i < tags else sample.newer)[f"{repo}:{tag}"] = digest
    return sample


def write_sample(root: Path, sample: Sample, repos: int, tags: int) -> None:
    """Dockerfiles (every referenced tag once), compose.yaml and a Deployment file (again)."""
    h = sample.host
    refs = 0
    for r in range(repos):
        repo = f"bench/svc{r:02d}"
        lines = []
        for i in range(tags):
            lines.append(f"FROM {h}/{repo}:{tag_name(i)} AS stage{i}")
            lines.append(f"RUN echo stage {i}\n")
            refs += 1
        lines.append("FROM stage0")
        lines.append(f"COPY --from=stage{tags - 1} /etc/hostname /built-from-{tags - 1}\n")
        path = root / "services" / f"svc{r:02d}" / "Dockerfile"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\n".join(lines))

    compose = ["services:"]
    for r in range(repos):
        repo = f"bench/svc{r:02d}"
        for i in sorted({r % tags, tags - 1}):
            compose += [f"  svc{r:02d}-{i}:", f"    image: {h}/{repo}:{tag_name(i)}"]
            refs += 1
    (root / "compose.yaml").write_text("\n".join(compose) + "\n")

    docs = []
    for r in range(repos):
        repo = f"bench/svc{r:02d}"
        name = f"svc{r:02d}"
        docs.append(
            "\n".join(
                [
                    "apiVersion: apps/v1",
                    "kind: Deployment",
                    "metadata:",
                    f"  name: {name}",
                    "spec:",
                    "  selector:",
                    "    matchLabels:",
                    f"      app: {name}",
                    "  template:",
                    "    metadata:",
                    "      labels:",
                    f"        app: {name}",
                    "    spec:",
                    "      initContainers:",
                    "        - name: init",
                    f"          image: {h}/{repo}:{tag_name(0)}",
                    "      containers:",
                    "        - name: app",
                    f"          image: {h}/{repo}:{tag_name((r + 1) % tags)}",
                ]
            )
        )
        refs += 2
    deploy = root / "deploy" / "deployment.yaml"
    deploy.parent.mkdir(parents=True, exist_ok=True)
    deploy.write_text("\n---\n".join(docs) + "\n")
    sample.references = refs


def pinbot_config(path: Path, reg: RunningRegistry) -> Path:
    entry: dict[str, Any] = {"ca-file": str(reg.ca_file)}
    if reg.username:
        entry |= {"username-env": "BENCH_REGISTRY_USER", "password-env": "BENCH_REGISTRY_PASS"}
    # JSON is YAML.
    path.write_text(json.dumps({"registries": {reg.host: entry}}, indent=2) + "\n")
    return path


# --------------------------------------------------------------------------- counting


def classify(method: str, path: str) -> str:
    p = path.split("?", 1)[0]
    if p in ("/v2/", "/v2"):
        return "/v2/ ping"
    if p == "/v2/_catalog":
        return "catalog"
    m = re.match(r"^/v2/(.+)/(manifests|blobs|tags)/(.+)$", p)
    if m is None:
        return "other"
    what, ref = m.group(2), m.group(3)
    if what == "tags":
        return "tag list"
    if what == "blobs":
        return f"blob {method}" if method in ("GET", "HEAD") else "other"
    by = "digest" if ref.startswith("sha256:") else "tag"
    return f"manifest {method} by {by}" if method in ("GET", "HEAD") else "other"


@dataclass
class Counts:
    kinds: Counter[str] = field(default_factory=Counter)
    unauthorized: int = 0  # registry answers 401 (unauthenticated first tries)
    manifest_unreferenced: int = 0  # manifest requests for tags no file references
    token_scopes: Counter[str] = field(default_factory=Counter)

    @property
    def registry_total(self) -> int:
        return sum(n for k, n in self.kinds.items() if k != "token")

    @property
    def total(self) -> int:
        return sum(self.kinds.values())

    def key(self) -> tuple[Any, ...]:
        return (sorted(self.kinds.items()), self.unauthorized, self.manifest_unreferenced)


def collect(reg: RunningRegistry, sample: Sample, log: Path | None = None) -> Counts:
    """Counts since the last reset; `log` gets every request, one a line (tokens last)."""
    counts = Counts()
    unreferenced = {f"/v2/{name.replace(':', '/manifests/')}" for name in sample.newer}
    seen = reg.responses_seen()
    lines = [f"{status} {method} {path}" for method, path, status in seen]
    for method, path, status in seen:
        kind = classify(method, path)
        counts.kinds[kind] += 1
        if status == 401:
            counts.unauthorized += 1
        if kind.startswith("manifest") and path.split("?", 1)[0] in unreferenced:
            counts.manifest_unreferenced += 1
    if reg.token_server is not None:
        for req in reg.token_server.token_requests():
            counts.kinds["token"] += 1
            counts.token_scopes[" ".join(req.scopes) or "(none)"] += 1
            lines.append(f"{req.status} token {' '.join(req.scopes) or '(no scope)'}")
    if log is not None:
        log.write_text("\n".join(lines) + "\n")
    return counts


# --------------------------------------------------------------------------- tools


@dataclass
class Run:
    name: str
    counts: Counts
    walls: list[float]
    notes: list[str] = field(default_factory=list)
    output: Any = None

    @property
    def wall(self) -> float:
        return statistics.median(self.walls)


def run_timed(
    cmd: list[str], env: dict[str, str], cwd: Path
) -> tuple[float, subprocess.CompletedProcess[str]]:
    started = time.monotonic()
    proc = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, check=False)
    return time.monotonic() - started, proc


def base_env(workdir: Path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("RENOVATE_", "REGISTRY_", "PEER_"))
        and k not in ("SSL_CERT_FILE", "NODE_EXTRA_CA_CERTS", "GITHUB_TOKEN")
    }
    docker_config = workdir / "docker-config"  # no credentials but the ones given here
    docker_config.mkdir(exist_ok=True)
    env["DOCKER_CONFIG"] = str(docker_config)
    return env


def run_repeated(
    name: str,
    reg: RunningRegistry,
    sample: Sample,
    runs: int,
    log_dir: Path,
    once: Any,
) -> Run:
    """`once(i)` runs the tool and returns (wall seconds, output); counters reset before each."""
    result: Run | None = None
    repo_ms: list[int] = []  # Renovate's own repository time, per run
    for i in range(runs):
        reg.reset_counts()
        wall, output = once(i)
        slug = re.sub(r"[^a-z]+", "-", name.lower()).strip("-")
        counts = collect(reg, sample, log_dir / f"requests-{slug}-{i}.txt")
        if isinstance(output, dict) and "summary" in output:
            repo_ms.append(output["summary"].get("renovate_repo_ms") or 0)
            output["repo_ms"] = repo_ms
        if result is None:
            result = Run(name, counts, [wall], output=output)
        else:
            result.walls.append(wall)
            if counts.key() != result.counts.key():
                result.notes.append(
                    f"run {i + 1} counted {counts.total} requests, run 1 {result.counts.total}"
                )
    assert result is not None
    return result


def renovate_once(
    peer_dir: Path, sample_dir: Path, reg: RunningRegistry, env: dict[str, str], out: Path
) -> tuple[float, dict[str, Any]]:
    env = dict(env)
    env["PEER_CA_FILE"] = str(reg.ca_file)
    if reg.username:
        env["RENOVATE_HOST_RULES"] = json.dumps(
            [
                {
                    "matchHost": reg.url,
                    "hostType": "docker",
                    "username": reg.username,
                    "password": reg.password,
                }
            ]
        )
    wall, proc = run_timed(
        ["bash", str(peer_dir / "lookup.sh"), str(sample_dir), str(out)], env, sample_dir
    )
    if proc.returncode != 0:
        raise SystemExit(f"lookup.sh failed ({proc.returncode}):\n{proc.stderr[-4000:]}")
    text = proc.stderr
    summary = json.loads(text[text.index("{") :]) if "{" in text else {}
    return wall, {"rows": json.loads(out.read_text()), "summary": summary}


def pinbot_once(
    target: Path, config: Path, env: dict[str, str], *, dry_run: bool, tree: Path = ROOT
) -> tuple[float, str]:
    cmd = [sys.executable, "-m", "pinbot", "pin", str(target), "--config", str(config)]
    if dry_run:
        cmd.append("--dry-run")
    wall, proc = run_timed(cmd, {**env, "PYTHONPATH": str(tree)}, tree)
    if proc.returncode != 0:
        raise SystemExit(f"pinbot pin failed ({proc.returncode}):\n{proc.stderr[-4000:]}")
    return wall, proc.stdout


# --------------------------------------------------------------------------- digests


def split_ref(text: str) -> tuple[str, str | None]:
    """'host/repo:tag@sha256:…' -> ('host/repo:tag', 'sha256:…')."""
    name, _, digest = text.partition("@")
    return name, digest or None


def pinbot_written(
    target: Path, env: dict[str, str]
) -> dict[tuple[str, int], tuple[str, str | None]]:
    """(file, line) -> (image:tag, digest) from `pinbot scan` over the pinned copy."""
    proc = subprocess.run(
        [sys.executable, "-m", "pinbot", "scan", str(target), "--format", "json"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    out = {}
    for item in json.loads(proc.stdout):
        out[(item["file"], item["line"])] = split_ref(item["text"])
    return out


def renovate_proposed(
    rows: list[dict[str, Any]],
) -> tuple[dict[tuple[str, int], tuple[str, str | None]], Counter[str], set[tuple[str, str]]]:
    """(file, line) -> (image:tag, pinDigest newDigest); the update types proposed; and the
    (image:newValue, newDigest) pairs of the other updates (newer tags)."""
    out = {}
    types: Counter[str] = Counter()
    others: set[tuple[str, str]] = set()
    for row in rows:
        digest = None
        for update in row.get("updates") or []:
            types[str(update.get("updateType"))] += 1
            if update.get("updateType") == "pinDigest":
                digest = update.get("newDigest")
            elif update.get("newDigest"):
                others.add((f"{row['depName']}:{update['newValue']}", update["newDigest"]))
        out[(row["file"], row["line"])] = (f"{row['depName']}:{row['currentValue']}", digest)
    return out, types, others


def check_digests(
    reg: RunningRegistry,
    sample: Sample,
    renovate: dict[tuple[str, int], tuple[str, str | None]] | None,
    pinbot: dict[tuple[str, int], tuple[str, str | None]],
    renovate_newer: set[tuple[str, str]],
) -> list[str]:
    """Digests that differ between pinbot, Renovate (when it ran) and skopeo."""
    problems = []
    if renovate is None:
        renovate = pinbot
    oracle = {}
    for name, pushed in (sample.referenced | sample.newer).items():
        digest = oracle[f"{sample.host}/{name}"] = reg.skopeo_raw_digest(name)
        if digest != pushed:
            problems.append(f"skopeo: {name} is {digest}, pushed {pushed}")
    if len(pinbot) != sample.references:
        problems.append(f"pinbot scan lists {len(pinbot)} references, wrote {sample.references}")
    if len(renovate) != sample.references:
        problems.append(f"Renovate lists {len(renovate)} references, wrote {sample.references}")
    for key in sorted(set(pinbot) | set(renovate)):
        p_name, p_digest = pinbot.get(key, ("(missing)", None))
        r_name, r_digest = renovate.get(key, ("(missing)", None))
        want = oracle.get(p_name)
        if p_name != r_name or want is None or p_digest != want or r_digest != want:
            problems.append(
                f"{key[0]}:{key[1]}: pinbot {p_name}@{p_digest}, Renovate {r_name}@{r_digest}, "
                f"skopeo {want}"
            )
    for name, digest in sorted(renovate_newer):
        if oracle.get(name) != digest:
            problems.append(f"Renovate update {name}@{digest}, skopeo {oracle.get(name)}")
    return problems


# --------------------------------------------------------------------------- report


def print_table(title: str, sample: Sample, runs: list[Run]) -> None:
    tags, refs = len(sample.referenced), sample.references
    print(f"\n### {title}: {tags} unique tags, {refs} references\n")
    head = "| requests |"
    rule = "|---|"
    for run in runs:
        head += f" {run.name} | per tag | per ref |"
        rule += "---:|---:|---:|"
    print(head)
    print(rule)

    def row(label: str, values: list[int]) -> None:
        cells = "".join(f" {v} | {v / tags:.2f} | {v / refs:.2f} |" for v in values)
        print(f"| {label} |{cells}")

    for kind in KINDS:
        values = [run.counts.kinds.get(kind, 0) for run in runs]
        if any(values):
            row(kind, values)
    row("**registry total**", [run.counts.registry_total for run in runs])
    row("**total with tokens**", [run.counts.total for run in runs])
    row("of which answered 401", [run.counts.unauthorized for run in runs])
    row("manifest requests, unreferenced tags", [run.counts.manifest_unreferenced for run in runs])
    walls = "".join(f" {run.wall:.2f} s | | |" for run in runs)
    print(f"| wall time (median of {len(runs[0].walls)}) |{walls}")
    base = runs[0]
    for run in runs[1:]:
        print(
            f"\n{base.name} / {run.name}: requests {base.counts.total / run.counts.total:.1f}x, "
            f"wall time {base.wall / run.wall:.1f}x"
        )
    for run in runs:
        walls = ", ".join(f"{w:.2f}" for w in run.walls)
        print(f"{run.name} walls: {walls} s")
        if run.counts.token_scopes:
            print(
                f"{run.name} token requests: {sum(run.counts.token_scopes.values())} "
                f"({len(run.counts.token_scopes)} distinct scope sets)"
            )
        for note in run.notes:
            print(f"NOTE {run.name}: {note}")


# --------------------------------------------------------------------------- main


def bench_flavour(auth: str, args: argparse.Namespace, workdir: Path, ca: TestCA) -> int:
    flavour_dir = workdir / auth
    token_server = None
    if auth == "token":
        token_server = TokenServer(
            flavour_dir / "token-server", users={USER: PASSWORD}, ca=ca, public_prefixes=()
        ).start()
        reg = start_registry(
            flavour_dir / "registry",
            ca=ca,
            token_server=token_server,
            username=USER,
            password=PASSWORD,
        )
    else:
        reg = start_registry(flavour_dir / "registry", ca=ca)
    try:
        started = time.monotonic()
        sample = push_images(reg, args.repos, args.tags, args.newer_tags, args.multiarch_every)
        sample_dir = flavour_dir / "sample"
        write_sample(sample_dir, sample, args.repos, args.tags)
        print(
            f"[{auth}] {reg.url}: pushed {len(sample.referenced)} referenced and "
            f"{len(sample.newer)} newer tags in {args.repos} repositories in "
            f"{time.monotonic() - started:.1f} s; sample {sample_dir} has "
            f"{sample.references} references",
            flush=True,
        )
        env = base_env(flavour_dir)
        config = pinbot_config(flavour_dir / "pinbot.yaml", reg)
        pinbot_env = dict(env)
        if reg.username:
            pinbot_env |= {"BENCH_REGISTRY_USER": USER, "BENCH_REGISTRY_PASS": PASSWORD}

        renovate = None
        if not args.pinbot_only:
            renovate = run_repeated(
                "Renovate",
                reg,
                sample,
                args.runs,
                flavour_dir,
                lambda i: renovate_once(
                    args.peer_dir, sample_dir, reg, env, flavour_dir / f"renovate-{i}.json"
                ),
            )
        dry = run_repeated(
            "pinbot --dry-run",
            reg,
            sample,
            args.runs,
            flavour_dir,
            lambda i: pinbot_once(sample_dir, config, pinbot_env, dry_run=True, tree=args.tree),
        )

        def pin_copy(i: int) -> tuple[float, str]:
            copy = flavour_dir / f"pinned-{i}"
            shutil.copytree(sample_dir, copy)
            return pinbot_once(copy, config, pinbot_env, dry_run=False, tree=args.tree)

        pin = run_repeated("pinbot pin", reg, sample, args.runs, flavour_dir, pin_copy)

        written = pinbot_written(flavour_dir / "pinned-0", env)
        if renovate is None:
            problems = check_digests(reg, sample, None, written, set())
            print_table(f"TLS, auth {auth}", sample, [dry, pin])
            if problems:
                print(f"DIGESTS DIFFER ({len(problems)}):")
                for p in problems[:20]:
                    print("  " + p)
                return 1
            print(f"digests: pinbot (written) and skopeo agree on all {sample.references} references")
            return 0
        renovate_refs, update_types, renovate_newer = renovate_proposed(renovate.output["rows"])
        problems = check_digests(reg, sample, renovate_refs, written, renovate_newer)

        print_table(f"TLS, auth {auth}", sample, [renovate, dry, pin])
        print(
            f"Renovate updates proposed: {dict(sorted(update_types.items()))}; "
            f"Renovate's own 'Repository finished' time (median): "
            f"{statistics.median(renovate.output['repo_ms']) / 1000:.2f} s"
        )
        if problems:
            print(f"DIGESTS DIFFER ({len(problems)}):")
            for p in problems[:20]:
                print("  " + p)
            return 1
        print(
            f"digests: Renovate pinDigest, pinbot (written) and skopeo agree on all "
            f"{sample.references} references ({len(sample.referenced)} unique tags); "
            f"so do the digests of the {len(renovate_newer)} tags Renovate's updates move to"
        )
        return 0
    finally:
        reg.close()
        if token_server is not None:
            token_server.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--auth", choices=["none", "token", "both"], default="both")
    parser.add_argument("--repos", type=int, default=20)
    parser.add_argument("--tags", type=int, default=5, help="referenced tags per repository")
    parser.add_argument(
        "--newer-tags", type=int, default=1, help="newer tags per repository no file references"
    )
    parser.add_argument(
        "--multiarch-every", type=int, default=4, help="every Nth repository holds OCI indexes"
    )
    parser.add_argument("--runs", type=int, default=3, help="runs per tool (median wall time)")
    parser.add_argument("--peer-dir", type=Path, default=default_peer_dir())
    parser.add_argument("--keep", type=Path, help="work under DIR and keep it")
    parser.add_argument("--pinbot-only", action="store_true", help="leave Renovate out")
    parser.add_argument("--tree", type=Path, default=ROOT, help="the pinbot checkout to run")
    args = parser.parse_args()
    if not args.pinbot_only and not (args.peer_dir / "lookup.sh").exists():
        print(f"no lookup.sh under {args.peer_dir}", file=sys.stderr)
        return 2

    workdir = args.keep or Path(tempfile.mkdtemp(prefix="pinbot-lookups-"))
    workdir.mkdir(parents=True, exist_ok=True)
    ca = TestCA(workdir / "ca")
    rc = 0
    try:
        for auth in ["none", "token"] if args.auth == "both" else [args.auth]:
            rc |= bench_flavour(auth, args, workdir, ca)
    finally:
        if args.keep is None:
            shutil.rmtree(workdir, ignore_errors=True)
    return rc


if __name__ == "__main__":
    raise SystemExit(main())
