"""The lookup stage against a real registry behind the fault proxy: one request per unique tag,
verification only for digests about to be written, and existence checks that only speak when
the registry answered."""

from __future__ import annotations

import asyncio
from pathlib import Path

from pinbot.pipeline import look_up
from pinbot.plan import NoticeKind, existence_key, lookup_key, plan
from pinbot.reference import parse_normalized
from pinbot.scanners import scan_text
from tests.registry.test_faults_retried_or_refused import proxied_client
from tests.support.fault_proxy import FaultProxy
from tests.support.registry import RunningRegistry


def test_each_tag_costs_one_request_and_a_moved_one_two(
    fault_proxy: FaultProxy, registry_http: RunningRegistry, tmp_path: Path
) -> None:
    reg = registry_http
    current = reg.push_image("pipeline/app", "1", seed="p1").digest
    reg.push_image("pipeline/app", "2", seed="p2")
    old = reg.push_image("pipeline/app", "3", seed="p3-old").digest
    moved = reg.push_image("pipeline/app", "3", seed="p3-new").digest
    host = fault_proxy.host
    dockerfile = (
        f"FROM {host}/pipeline/app:1@{current}\n"  # already current: one HEAD
        f"FROM {host}/pipeline/app:1@{current}\n"
        f"FROM {host}/pipeline/app:2\n"  # first pin: one GET by tag, hashed
        f"FROM {host}/pipeline/app:2\n"
        f"FROM {host}/pipeline/app:3@{old}\n"  # moved: a HEAD, then a GET of the new digest
    )
    occurrences = scan_text("Dockerfile", dockerfile).occurrences
    fault_proxy.clear()

    async def main() -> dict[str, object]:
        async with proxied_client(fault_proxy, tmp_path) as client:
            return await look_up(client, occurrences)  # type: ignore[return-value]

    lookups = asyncio.run(main())
    assert sorted(fault_proxy.manifest_requests()) == sorted(
        [
            ("HEAD", "/v2/pipeline/app/manifests/1"),
            ("GET", "/v2/pipeline/app/manifests/2"),
            ("HEAD", "/v2/pipeline/app/manifests/3"),
            ("GET", f"/v2/pipeline/app/manifests/{moved}"),
        ]
    )
    result = plan(occurrences, lookups)  # type: ignore[arg-type]
    assert [(e.occurrence.line, e.action.value) for e in result.edits] == [
        (3, "pin"),
        (4, "pin"),
        (5, "bump"),
    ]
    assert result.edits[0].new_digest == reg.skopeo_raw_digest("pipeline/app:2")
    assert result.edits[2].new_digest == moved
    assert result.unchanged == 2


def test_a_gone_digest_is_reported_only_when_the_registry_says_so(
    fault_proxy: FaultProxy, registry_http: RunningRegistry, tmp_path: Path
) -> None:
    reg = registry_http
    gone = reg.push_image("pipeline/gone", "x", seed="g1").digest
    kept = reg.push_image("pipeline/gone", "y", seed="g2").digest
    reg.delete("pipeline/gone", gone)
    host = fault_proxy.host
    text = f"FROM {host}/pipeline/gone@{gone}\nFROM {host}/pipeline/gone@{kept}\n"
    occurrences = scan_text("Dockerfile", text).occurrences

    def run(**options: object) -> dict[str, object]:
        async def main() -> dict[str, object]:
            async with proxied_client(fault_proxy, tmp_path, **options) as client:  # type: ignore[arg-type]
                return await look_up(client, occurrences)  # type: ignore[return-value]

        return asyncio.run(main())

    lookups = run()
    gone_key = existence_key(parse_normalized(f"{host}/pipeline/gone@{gone}"))
    kept_key = existence_key(parse_normalized(f"{host}/pipeline/gone@{kept}"))
    assert lookups[kept_key].digest == kept  # type: ignore[attr-defined]
    notices = plan(occurrences, lookups).notices  # type: ignore[arg-type]
    assert [(n.occurrence.line, n.kind) for n in notices if n.kind is NoticeKind.DIGEST_GONE] == [
        (1, NoticeKind.DIGEST_GONE)
    ]

    # A registry that keeps failing proves nothing: no "gone" notice, only the digest-only note.
    fault_proxy.inject("/manifests/sha256:", status=503, times=100)
    lookups = run(max_attempts=2)
    assert gone_key not in lookups and kept_key not in lookups
    kinds = {n.kind for n in plan(occurrences, lookups).notices}  # type: ignore[arg-type]
    assert kinds == {NoticeKind.DIGEST_ONLY}
    assert lookup_key(parse_normalized(f"{host}/pipeline/gone:x")) not in lookups


def test_a_first_pin_whose_bytes_do_not_match_the_header_is_never_written(
    fault_proxy: FaultProxy, registry_http: RunningRegistry, tmp_path: Path
) -> None:
    pushed = registry_http.push_image("pipeline/lies", "1", seed="l1")
    fault_proxy.inject(
        "/v2/pipeline/lies/manifests/1",
        method="GET",
        status=200,
        body=pushed.body + b" ",
        headers={"Content-Type": pushed.media_type, "Docker-Content-Digest": pushed.digest},
        times=10,
    )
    occurrences = scan_text("Dockerfile", f"FROM {fault_proxy.host}/pipeline/lies:1\n").occurrences

    async def main() -> dict[str, object]:
        async with proxied_client(fault_proxy, tmp_path) as client:
            return await look_up(client, occurrences)  # type: ignore[return-value]

    lookups = asyncio.run(main())
    result = plan(occurrences, lookups)  # type: ignore[arg-type]
    assert result.edits == []
    (notice,) = result.notices
    assert notice.kind is NoticeKind.LOOKUP_FAILED and "hash to" in notice.message
