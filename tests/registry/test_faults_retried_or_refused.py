"""Faults between pinbot and a real registry: rate limits, 5xx, drops, slowness, lies.

Either a success within the retry budget or a clear error; never a wrong digest.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import pytest
from tenacity import AsyncRetrying, RetryCallState

from pinbot.config import Config, RegistryConfig
from pinbot.reference import ImageReference, parse_normalized
from pinbot.registry import (
    DigestMismatch,
    RateLimited,
    RegistryClient,
    RegistryError,
    RegistryUnavailable,
    Resolution,
    TagNotFound,
)
from pinbot.registry import manifest as mf
from pinbot.registry.retry import jittered_backoff, parse_retry_after
from tests.support.fault_proxy import FaultProxy
from tests.support.registry import RunningRegistry

_names = itertools.count()
NOW = datetime(2026, 11, 26, 12, 0, 0, tzinfo=UTC)


def unique(prefix: str) -> str:
    return f"{prefix}-{next(_names)}"


# --- pure: Retry-After and backoff -----------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        ("", None),
        ("  ", None),
        ("0", 0.0),
        ("1", 1.0),
        (" 120 ", 120.0),
        ("1.5", 1.5),
        ("-3", None),
        ("soon", None),
        ("Thu, 26 Nov 2026 12:00:30 GMT", 30.0),
        ("Thu, 26 Nov 2026 11:59:00 GMT", 0.0),
        ("Thursday, 26-Nov-26 12:01:00 GMT", 60.0),
        ("Thu Nov 26 12:00:05 2026", 5.0),
        ("Thu, 32 Nov 2026 12:00:30 GMT", None),
    ],
)
def test_retry_after_is_read_as_seconds_or_a_date(value: str | None, expected: float | None) -> None:
    assert parse_retry_after(value, now=NOW) == expected


def backoff_after(attempt: int, *, initial: float, maximum: float) -> float:
    state = RetryCallState(AsyncRetrying(), None, (), {})
    state.attempt_number = attempt
    return float(jittered_backoff(initial=initial, maximum=maximum)(state))


def test_backoff_grows_is_capped_and_jittered_within_half_a_step() -> None:
    for attempt in range(1, 8):
        step = min(4.0, 0.5 * 2 ** (attempt - 1))
        delays = {backoff_after(attempt, initial=0.5, maximum=4.0) for _ in range(50)}
        assert all(step / 2 <= delay <= step for delay in delays)
        assert len(delays) > 1  # jittered, so clients that failed together spread out


# --- against the fault proxy -----------------------------------------------------------------


def proxied_client(proxy: FaultProxy, tmp_path: Path, **options: Any) -> RegistryClient:
    config = Config(registries={proxy.host: RegistryConfig(host=proxy.host, insecure=True)})
    options.setdefault("max_attempts", 4)
    options.setdefault("max_wait", 20.0)
    options.setdefault("timeout", 5.0)
    options.setdefault("backoff", 0.05)
    options.setdefault("max_backoff", 0.2)
    return RegistryClient(
        config, docker_config_dir=tmp_path, certs_d=tmp_path, environ={}, **options
    )


def ref_at(proxy: FaultProxy, text: str) -> ImageReference:
    return parse_normalized(f"{proxy.host}/{text}")


def resolve_via(
    proxy: FaultProxy, tmp_path: Path, text: str, *, verify: bool = False, **options: Any
) -> tuple[Resolution, RegistryClient, float]:
    client = proxied_client(proxy, tmp_path, **options)

    async def main() -> Resolution:
        async with client:
            return await client.resolve(ref_at(proxy, text), verify=verify)

    started = time.monotonic()
    result = asyncio.run(main())
    return result, client, time.monotonic() - started


def test_429_with_retry_after_is_waited_out(
    fault_proxy: FaultProxy, registry_http: RunningRegistry, tmp_path: Path
) -> None:
    repo = unique("faults/ratelimit")
    pushed = registry_http.push_image(repo, "1")
    fault = fault_proxy.inject("/manifests/1", status=429, headers={"Retry-After": "1"}, times=2)
    found, client, elapsed = resolve_via(fault_proxy, tmp_path, f"{repo}:1")
    assert found.digest == pushed.digest
    assert fault.hits == 2 and elapsed >= 2.0
    assert client.stats.count("manifest_head") == 3


def test_429_with_retry_after_as_an_http_date_is_waited_out(
    fault_proxy: FaultProxy, registry_http: RunningRegistry, tmp_path: Path
) -> None:
    repo = unique("faults/ratelimit-date")
    pushed = registry_http.push_image(repo, "1")
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=2), usegmt=True)
    fault_proxy.inject("/manifests/", status=429, headers={"Retry-After": when})
    found, _, elapsed = resolve_via(fault_proxy, tmp_path, f"{repo}:1")
    assert found.digest == pushed.digest and 0.5 <= elapsed < 6


def test_429_asking_for_more_than_the_budget_fails_at_once(
    fault_proxy: FaultProxy, registry_http: RunningRegistry, tmp_path: Path
) -> None:
    repo = unique("faults/ratelimit-long")
    registry_http.push_image(repo, "1")
    fault_proxy.inject("/manifests/", status=429, headers={"Retry-After": "120"}, times=10)
    started = time.monotonic()
    with pytest.raises(RateLimited) as caught:
        resolve_via(fault_proxy, tmp_path, f"{repo}:1", max_wait=10.0)
    assert time.monotonic() - started < 3
    assert caught.value.retry_after == 120
    message = str(caught.value)
    assert message.startswith(f"registry {fault_proxy.host}: rate limited (HTTP 429)")
    assert "wait 120 s" in message


def test_429_forever_stops_after_max_attempts(
    fault_proxy: FaultProxy, registry_http: RunningRegistry, tmp_path: Path
) -> None:
    repo = unique("faults/ratelimit-forever")
    registry_http.push_image(repo, "1")
    fault = fault_proxy.inject("/manifests/", status=429, times=100)
    with pytest.raises(RateLimited):
        resolve_via(fault_proxy, tmp_path, f"{repo}:1", max_attempts=3)
    assert fault.hits == 3


@pytest.mark.parametrize("status", [502, 503, 504])
def test_gateway_errors_are_retried(
    fault_proxy: FaultProxy, registry_http: RunningRegistry, tmp_path: Path, status: int
) -> None:
    repo = unique(f"faults/s{status}")
    pushed = registry_http.push_image(repo, "1")
    fault = fault_proxy.inject("/manifests/", status=status, times=2)
    found, _, _ = resolve_via(fault_proxy, tmp_path, f"{repo}:1", verify=True)
    assert found.digest == pushed.digest and found.verified
    assert fault.hits == 2


def test_503_forever_is_a_clear_error_within_the_time_budget(
    fault_proxy: FaultProxy, registry_http: RunningRegistry, tmp_path: Path
) -> None:
    repo = unique("faults/down")
    registry_http.push_image(repo, "1")
    fault_proxy.inject("/manifests/", status=503, times=1000)
    started = time.monotonic()
    with pytest.raises(RegistryUnavailable) as caught:
        resolve_via(
            fault_proxy,
            tmp_path,
            f"{repo}:1",
            max_attempts=100,
            max_wait=1.5,
            backoff=0.2,
            max_backoff=0.4,
        )
    assert time.monotonic() - started < 3.5
    assert str(caught.value).startswith(
        f"registry {fault_proxy.host}: HTTP 503 on /v2/{repo}/manifests/1"
    )


def test_dropped_connections_are_retried(
    fault_proxy: FaultProxy, registry_http: RunningRegistry, tmp_path: Path
) -> None:
    repo = unique("faults/drop")
    pushed = registry_http.push_image(repo, "1")
    fault = fault_proxy.inject("/manifests/", drop=True, times=2)
    found, _, _ = resolve_via(fault_proxy, tmp_path, f"{repo}:1")
    assert found.digest == pushed.digest and fault.hits == 2


def test_dropped_forever_is_unavailable(
    fault_proxy: FaultProxy, registry_http: RunningRegistry, tmp_path: Path
) -> None:
    repo = unique("faults/drop-forever")
    registry_http.push_image(repo, "1")
    fault_proxy.inject("/manifests/", drop=True, times=100)
    with pytest.raises(RegistryUnavailable, match="connection dropped"):
        resolve_via(fault_proxy, tmp_path, f"{repo}:1", max_attempts=3)


def test_slow_answer_times_out_and_is_retried(
    fault_proxy: FaultProxy, registry_http: RunningRegistry, tmp_path: Path
) -> None:
    repo = unique("faults/slow")
    pushed = registry_http.push_image(repo, "1")
    fault_proxy.inject("/manifests/", delay=3.0)
    found, _, elapsed = resolve_via(fault_proxy, tmp_path, f"{repo}:1", timeout=0.5)
    assert found.digest == pushed.digest and elapsed < 2.5


def test_slow_forever_is_unavailable(
    fault_proxy: FaultProxy, registry_http: RunningRegistry, tmp_path: Path
) -> None:
    repo = unique("faults/slow-forever")
    registry_http.push_image(repo, "1")
    fault_proxy.inject("/manifests/", delay=3.0, times=10)
    with pytest.raises(RegistryUnavailable, match=r"no answer within 0\.5 s"):
        resolve_via(fault_proxy, tmp_path, f"{repo}:1", timeout=0.5, max_attempts=2)


def test_concurrency_is_limited_per_registry(
    fault_proxy: FaultProxy, registry_http: RunningRegistry, tmp_path: Path
) -> None:
    repo = unique("faults/limit")
    tags = [str(i) for i in range(6)]
    for tag in tags:
        registry_http.push_image(repo, tag, seed=tag)
    fault_proxy.inject("/manifests/", delay=0.4, times=6, method="HEAD")
    # The delayed requests are answered by forwarding after the delay.
    client = proxied_client(fault_proxy, tmp_path, per_registry_concurrency=2)

    async def main() -> list[Resolution]:
        async with client:
            return list(
                await asyncio.gather(
                    *(client.resolve(ref_at(fault_proxy, f"{repo}:{t}")) for t in tags)
                )
            )

    started = time.monotonic()
    results = asyncio.run(main())
    assert len(results) == 6
    assert time.monotonic() - started >= 3 * 0.4


# --- the registry lies -----------------------------------------------------------------------


def test_verify_catches_bytes_that_do_not_match_the_digest(
    fault_proxy: FaultProxy, registry_http: RunningRegistry, tmp_path: Path
) -> None:
    repo = unique("lies/body")
    pushed = registry_http.push_image(repo, "1")
    forged = json.dumps({**pushed.manifest, "annotations": {"evil": "yes"}}).encode()
    fault_proxy.inject(
        f"/manifests/{pushed.digest}",
        method="GET",
        status=200,
        body=forged,
        headers={"Content-Type": pushed.media_type, "Docker-Content-Digest": pushed.digest},
        times=10,
    )
    with pytest.raises(DigestMismatch) as caught:
        resolve_via(fault_proxy, tmp_path, f"{repo}:1", verify=True)
    assert caught.value.expected == pushed.digest
    assert caught.value.actual == mf.digest_of(forged)
    assert "hash to" in str(caught.value)

    async def verify_only() -> Resolution:
        async with proxied_client(fault_proxy, tmp_path) as client:
            return await client.verify(ref_at(fault_proxy, f"{repo}:1"), pushed.digest)

    with pytest.raises(DigestMismatch):
        asyncio.run(verify_only())


def test_a_lying_digest_header_is_never_verified(
    fault_proxy: FaultProxy, registry_http: RunningRegistry, tmp_path: Path
) -> None:
    repo = unique("lies/header")
    pushed = registry_http.push_image(repo, "1")
    fake = "sha256:" + "f" * 64
    fault_proxy.inject(
        f"/v2/{repo}/manifests/1",
        method="HEAD",
        status=200,
        body=b"",
        headers={"Content-Type": pushed.media_type, "Docker-Content-Digest": fake},
        times=10,
    )
    unverified, _, _ = resolve_via(fault_proxy, tmp_path, f"{repo}:1")
    assert unverified.digest == fake and not unverified.verified
    with pytest.raises(TagNotFound):
        resolve_via(fault_proxy, tmp_path, f"{repo}:1", verify=True)


def test_a_get_by_tag_whose_digest_header_lies_is_a_digest_mismatch(
    fault_proxy: FaultProxy, registry_http: RunningRegistry, tmp_path: Path
) -> None:
    repo = unique("lies/get-header")
    pushed = registry_http.push_image(repo, "1")
    fault_proxy.inject(f"/v2/{repo}/manifests/1", method="HEAD", status=405, times=10)
    fault_proxy.inject(
        f"/v2/{repo}/manifests/1",
        method="GET",
        status=200,
        body=pushed.body,
        headers={"Content-Type": pushed.media_type, "Docker-Content-Digest": "sha256:" + "e" * 64},
        times=10,
    )
    with pytest.raises(DigestMismatch):
        resolve_via(fault_proxy, tmp_path, f"{repo}:1")


@pytest.mark.parametrize("head", ["refused", "no-digest-header"])
def test_a_head_refused_or_without_a_digest_falls_back_to_one_hashed_get(
    fault_proxy: FaultProxy, registry_http: RunningRegistry, tmp_path: Path, head: str
) -> None:
    repo = unique("faults/head")
    pushed = registry_http.push_multiarch(repo, "1")
    if head == "refused":
        fault_proxy.inject(f"/v2/{repo}/manifests/1", method="HEAD", status=405)
    else:
        fault_proxy.inject(
            f"/v2/{repo}/manifests/1",
            method="HEAD",
            status=200,
            body=b"",
            headers={"Content-Type": pushed.media_type},
        )
    found, client, _ = resolve_via(fault_proxy, tmp_path, f"{repo}:1", verify=True)
    assert found.digest == pushed.digest and found.verified
    assert found.media_type == pushed.media_type
    # The GET by tag was hashed already: no second GET by digest.
    assert client.stats.count("manifest_get") == 1
    assert [m for m, _ in fault_proxy.manifest_requests()] == ["HEAD", "GET"]


def test_an_unexpected_status_is_a_registry_error(
    fault_proxy: FaultProxy, registry_http: RunningRegistry, tmp_path: Path
) -> None:
    fault_proxy.inject("/manifests/", status=418, times=10)
    with pytest.raises(RegistryError, match="unexpected HTTP 418"):
        resolve_via(fault_proxy, tmp_path, "x/y:1")
