"""Whatever a registry sends, a lookup ends in bounded time with bounded memory.

Hostile registries on loopback flood (endless and huge bodies), stall (one byte a second)
and lie (`Content-Length`, `Docker-Content-Digest`, descriptor sizes). `pinbot resolve` runs
as a subprocess, so its peak memory is its own; the deadline cases run in process with short
deadlines, since the default ones are long enough for a slow but honest registry.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pinbot.config import Config, RegistryConfig
from pinbot.reference import parse_normalized
from pinbot.registry import (
    DigestMismatch,
    RegistryClient,
    RegistryError,
    RegistryUnavailable,
    Resolution,
    ResponseTooLarge,
    TagNotFound,
)
from pinbot.registry.limits import CONFIG_BLOB_CAP, MANIFEST_LIMIT, SMALL_BODY_CAP, TOKEN_LIMIT
from tests.registry.running import Finished, registry_config, run_pinbot
from tests.support.hostile_registry import (
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

#: Peak memory a hostile answer may add to `pinbot resolve` over a well-behaved one.
MEMORY_HEADROOM_MIB = 50
#: Wall time a refused answer may take, generous for a loaded machine.
SECONDS = 30


@pytest.fixture(scope="module")
def hostile_baseline_mib(tmp_path_factory: pytest.TempPathFactory) -> Iterator[float]:
    """Peak RSS of `pinbot resolve` of one well-behaved image."""
    home = tmp_path_factory.mktemp("baseline")
    with HostileRegistry() as hostile:
        hostile.serve_image("good", "1", b'{"architecture":"amd64","os":"linux"}')
        config = registry_config(home / "pinbot.yaml", hostile.host)
        done = run_pinbot(
            "resolve", f"{hostile.host}/good:1", "--verify", "--config", str(config), cwd=home
        )
        assert done.returncode == 0, done.stderr
        yield done.peak_rss_mib


def resolve(hostile: HostileRegistry, tmp_path: Path, *args: str) -> Finished:
    config = registry_config(tmp_path / "pinbot.yaml", hostile.host)
    reference, *options = args
    return run_pinbot(
        "resolve", f"{hostile.host}/{reference}", *options, "--config", str(config), cwd=tmp_path
    )


def assert_refused_within_bounds(done: Finished, baseline: float, host: str) -> str:
    """The reference failed on its own, quickly, without a memory spike; its error."""
    assert done.returncode == 1, done.stdout
    assert "Traceback" not in done.stderr, done.stderr
    assert done.seconds < SECONDS
    assert done.peak_rss_mib < baseline + MEMORY_HEADROOM_MIB, (done.peak_rss_mib, baseline)
    reference, _, error = done.stderr.strip().splitlines()[-1].partition("\terror: ")
    assert reference.startswith(host) and error.startswith(f"registry {host}: ")
    return error


def test_an_endless_manifest_is_cut_at_the_manifest_cap(
    hostile_registry: HostileRegistry, tmp_path: Path, hostile_baseline_mib: float
) -> None:
    hostile_registry.answer("/v2/endless/manifests/1", headers=MANIFEST_HEADERS, chunks=endless())
    done = resolve(hostile_registry, tmp_path, "endless:1")
    error = assert_refused_within_bounds(done, hostile_baseline_mib, hostile_registry.host)
    assert "larger than the 4 MiB pinbot reads for a manifest" in error
    # pinbot hung up soon after the cap: the rest was never sent (socket buffers aside).
    sent = sum(r.sent for r in hostile_registry.requests_to("/manifests/"))
    assert sent < MANIFEST_LIMIT.size + 16 * MiB


@pytest.mark.parametrize("announced", [True, False], ids=["content-length", "chunked"])
def test_a_100_mib_manifest_is_refused_without_being_read(
    hostile_registry: HostileRegistry,
    tmp_path: Path,
    hostile_baseline_mib: float,
    announced: bool,
) -> None:
    hostile_registry.answer(
        "/v2/huge/manifests/1",
        headers=MANIFEST_HEADERS,
        chunks=sized(100 * MiB),
        length=100 * MiB if announced else None,
    )
    done = resolve(hostile_registry, tmp_path, "huge:1")
    error = assert_refused_within_bounds(done, hostile_baseline_mib, hostile_registry.host)
    assert "larger than the 4 MiB" in error
    if announced:
        assert f"{100 * MiB} bytes announced" in error


def serve_huge_config(hostile: HostileRegistry, *, descriptor_size: int) -> None:
    """A small, honest manifest whose config blob is 300 MiB."""
    digest = filler_digest(300 * MiB)
    manifest = image_manifest(config_digest=digest, config_size=descriptor_size)
    headers = {**MANIFEST_HEADERS, "Docker-Content-Digest": sha256_digest(manifest)}
    for name in ("1", sha256_digest(manifest)):
        hostile.answer(f"/v2/big/manifests/{name}", headers=headers, body=manifest)
    hostile.answer(f"/v2/big/blobs/{digest}", chunks=sized(300 * MiB), length=300 * MiB)


@pytest.mark.parametrize("descriptor_size", [300 * MiB, 2], ids=["honest-size", "lying-size"])
def test_a_300_mib_config_blob_is_never_read_whole(
    hostile_registry: HostileRegistry,
    tmp_path: Path,
    hostile_baseline_mib: float,
    descriptor_size: int,
) -> None:
    serve_huge_config(hostile_registry, descriptor_size=descriptor_size)
    # A single-platform image: `--platform` reads its config blob to learn its platform.
    done = resolve(hostile_registry, tmp_path, "big:1", "--platform", "linux/amd64")
    error = assert_refused_within_bounds(done, hostile_baseline_mib, hostile_registry.host)
    assert "larger than the" in error
    sent = sum(r.sent for r in hostile_registry.requests_to("/blobs/"))
    assert sent < CONFIG_BLOB_CAP + 16 * MiB


def test_a_content_length_larger_than_the_body_is_an_error(
    hostile_registry: HostileRegistry, tmp_path: Path, hostile_baseline_mib: float
) -> None:
    body = image_manifest()
    headers = {**MANIFEST_HEADERS, "Docker-Content-Digest": sha256_digest(body)}
    hostile_registry.answer(
        "/v2/short/manifests/1", headers=headers, chunks=lambda stop: iter([body]), length=10_000
    )
    hostile_registry.answer("/v2/short/manifests/1", status=405, method="HEAD")
    done = resolve(hostile_registry, tmp_path, "short:1")
    error = assert_refused_within_bounds(done, hostile_baseline_mib, hostile_registry.host)
    assert "connection dropped before a complete answer" in error


def test_a_content_length_smaller_than_the_body_never_verifies(
    hostile_registry: HostileRegistry, tmp_path: Path, hostile_baseline_mib: float
) -> None:
    # What is cut off is only whitespace: the first `length` bytes are a valid manifest too,
    # but not the one the digest header names.
    manifest = image_manifest()
    body = manifest + b" " * 16
    headers = {**MANIFEST_HEADERS, "Docker-Content-Digest": sha256_digest(body)}
    hostile_registry.answer(
        "/v2/long/manifests/1",
        headers=headers,
        chunks=lambda stop: iter([body]),
        length=len(manifest),
    )
    hostile_registry.answer("/v2/long/manifests/1", status=405, method="HEAD")
    done = resolve(hostile_registry, tmp_path, "long:1")
    error = assert_refused_within_bounds(done, hostile_baseline_mib, hostile_registry.host)
    assert f"hash to {sha256_digest(manifest)}, not {sha256_digest(body)}" in error


def test_a_lying_digest_header_is_refused(
    hostile_registry: HostileRegistry, tmp_path: Path, hostile_baseline_mib: float
) -> None:
    body = image_manifest()
    headers = {**MANIFEST_HEADERS, "Docker-Content-Digest": "sha256:" + "e" * 64}
    hostile_registry.answer("/v2/liar/manifests/1", headers=headers, body=body, method="GET")
    hostile_registry.answer("/v2/liar/manifests/1", status=405, method="HEAD")
    done = resolve(hostile_registry, tmp_path, "liar:1")
    error = assert_refused_within_bounds(done, hostile_baseline_mib, hostile_registry.host)
    assert f"hash to {sha256_digest(body)}, not sha256:{'e' * 64}" in error


# --- deadlines, in process --------------------------------------------------------------------


def client_for(hostile: HostileRegistry, tmp_path: Path, **options: Any) -> RegistryClient:
    config = Config(registries={hostile.host: RegistryConfig(host=hostile.host, insecure=True)})
    options.setdefault("backoff", 0.05)
    options.setdefault("max_backoff", 0.1)
    return RegistryClient(
        config, docker_config_dir=tmp_path, certs_d=tmp_path, environ={}, **options
    )


def fetch(
    hostile: HostileRegistry, tmp_path: Path, *names: str, **options: Any
) -> tuple[list[Resolution | RegistryError], float]:
    async def main() -> list[Resolution | RegistryError]:
        async with client_for(hostile, tmp_path, **options) as client:

            async def one(name: str) -> Resolution | RegistryError:
                try:
                    return await client.fetch(parse_normalized(f"{hostile.host}/{name}"))
                except RegistryError as exc:
                    return exc

            return list(await asyncio.gather(*(one(name) for name in names)))

    started = time.monotonic()
    results = asyncio.run(main())
    return results, time.monotonic() - started


def test_one_byte_a_second_cannot_stretch_a_request_past_its_deadline(
    hostile_registry: HostileRegistry, tmp_path: Path
) -> None:
    body = image_manifest()
    hostile_registry.answer(
        "/v2/slow/manifests/1", headers=MANIFEST_HEADERS, chunks=trickle(body, every=0.2)
    )
    # Every byte comes well within the read timeout; the request as a whole does not.
    (failed,), elapsed = fetch(
        hostile_registry, tmp_path, "slow:1", timeout=5.0, request_deadline=1.0, max_attempts=2
    )
    assert isinstance(failed, RegistryUnavailable)
    assert "no complete answer within 1 s" in str(failed)
    assert elapsed < 6  # two attempts of 1 s, not len(body) * 0.2 s = 30 s
    assert len(hostile_registry.requests_to("/manifests/")) == 2


def test_retries_cannot_stretch_a_lookup_past_its_deadline(
    hostile_registry: HostileRegistry, tmp_path: Path
) -> None:
    body = image_manifest()
    hostile_registry.answer(
        "/v2/slow/manifests/1", headers=MANIFEST_HEADERS, chunks=trickle(body, every=0.2)
    )
    (failed,), elapsed = fetch(
        hostile_registry,
        tmp_path,
        "slow:1",
        request_deadline=1.0,
        lookup_deadline=2.5,
        max_attempts=100,
        max_wait=100.0,
    )
    assert isinstance(failed, RegistryUnavailable)
    assert "within the 2.5 s a lookup may take" in str(failed)
    assert elapsed < 5


def test_time_queued_behind_other_lookups_does_not_count(
    hostile_registry: HostileRegistry, tmp_path: Path
) -> None:
    names = [f"queued{n}" for n in range(4)]
    for name in names:
        body = image_manifest(name.encode())
        headers = {**MANIFEST_HEADERS, "Docker-Content-Digest": sha256_digest(body)}
        # About 0.8 s per answer: one at a time, the last waits over 2 s for its turn.
        slow = trickle(body[-8:], every=0.1, first=body[:-8])
        hostile_registry.answer(f"/v2/{name}/manifests/1", headers=headers, chunks=slow)
    results, elapsed = fetch(
        hostile_registry,
        tmp_path,
        *(f"{name}:1" for name in names),
        per_registry_concurrency=1,
        lookup_deadline=2.0,
    )
    assert all(isinstance(r, Resolution) for r in results), results
    assert elapsed > 3.0


def test_an_endless_error_body_is_cut_and_the_status_still_counts(
    hostile_registry: HostileRegistry, tmp_path: Path
) -> None:
    hostile_registry.answer("/v2/gone/manifests/1", status=404, chunks=endless())
    (failed,), elapsed = fetch(hostile_registry, tmp_path, "gone:1")
    assert isinstance(failed, TagNotFound)
    assert elapsed < SECONDS
    sent = sum(r.sent for r in hostile_registry.requests_to("/manifests/"))
    assert sent < SMALL_BODY_CAP + 16 * MiB


def test_an_endless_token_answer_is_refused(
    hostile_registry: HostileRegistry, tmp_path: Path
) -> None:
    realm = f"{hostile_registry.url}/token"
    hostile_registry.answer(
        "/v2/", status=401, headers={"WWW-Authenticate": f'Bearer realm="{realm}",service="x"'}
    )
    hostile_registry.answer("/token", headers={"Content-Type": "application/json"}, chunks=endless())
    (failed,), elapsed = fetch(hostile_registry, tmp_path, "private:1")
    assert isinstance(failed, ResponseTooLarge)
    assert f"larger than the {TOKEN_LIMIT}" in str(failed)
    assert elapsed < SECONDS


def test_a_compressed_answer_that_was_not_asked_for_is_refused(
    hostile_registry: HostileRegistry, tmp_path: Path
) -> None:
    hostile_registry.answer(
        "/v2/zipped/manifests/1",
        headers={**MANIFEST_HEADERS, "Content-Encoding": "gzip"},
        body=b"\x1f\x8b" + b"\0" * 64,
    )
    (failed,), _ = fetch(hostile_registry, tmp_path, "zipped:1")
    assert isinstance(failed, RegistryError)
    assert "Content-Encoding gzip" in str(failed)
    asked = hostile_registry.requests_to("/manifests/")[0]
    assert {k.lower(): v for k, v in asked.headers.items()}["accept-encoding"] == "identity"


def test_a_manifest_whose_digest_header_lies_is_never_resolved(
    hostile_registry: HostileRegistry, tmp_path: Path
) -> None:
    body = image_manifest()
    headers = {**MANIFEST_HEADERS, "Docker-Content-Digest": "sha256:" + "e" * 64}
    hostile_registry.answer("/v2/liar/manifests/1", headers=headers, body=body)
    (failed,), _ = fetch(hostile_registry, tmp_path, "liar:1")
    assert isinstance(failed, DigestMismatch)


def test_streamed_answers_still_reuse_their_connection(
    hostile_registry: HostileRegistry, tmp_path: Path
) -> None:
    # Reading every answer as a stream must still hand the connection back to the pool,
    # HEAD answers included (their empty body is read to the end too).
    tags = [str(n) for n in range(6)]
    for tag in tags:
        hostile_registry.serve_image("reused", tag, f'{{"os":"linux","n":{tag}}}'.encode())

    async def main() -> list[Resolution]:
        async with client_for(hostile_registry, tmp_path) as client:
            found = []
            for tag in tags:  # one after another: one connection is enough
                ref = parse_normalized(f"{hostile_registry.host}/reused:{tag}")
                found.append(await client.resolve(ref))
                found.append(await client.fetch(ref))
            return found

    found = asyncio.run(main())
    assert len(found) == 12
    assert len(hostile_registry.requests_to("/manifests/")) == 12
    assert hostile_registry.connections == 1
