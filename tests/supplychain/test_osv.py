"""The vulnerability delta of a bump, from an OSV API fake on loopback (real HTTP): what is
asked, what is fixed and introduced, what is cached, and what a slow or broken OSV costs (a
note, never the pull request)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import pytest

from pinbot.supplychain.notes import vulnerability_line
from pinbot.supplychain.osv import OsvClient, VulnerabilityDelta
from pinbot.supplychain.sbom import PackageDiff, diff_packages, osv_name, parse_sbom
from tests.support.osv_fake import OsvFake
from tests.support.supplychain import SPDX, spdx_document

ALPINE = "Alpine:v3.19"


def diff(old: dict[str, str], new: dict[str, str], distro: str | None = "alpine-3.19.1") -> PackageDiff:
    before = parse_sbom(SPDX, spdx_document(old, distro=distro))
    after = parse_sbom(SPDX, spdx_document(new, distro=distro))
    return diff_packages(before, after)


@pytest.fixture
def osv() -> Iterator[OsvFake]:
    with OsvFake(
        {
            (ALPINE, "openssl", "3.0.13-r0"): ["CVE-2024-0727", "CVE-2024-2511"],
            (ALPINE, "openssl", "3.0.15-r0"): ["CVE-2024-2511"],
            (ALPINE, "busybox", "1.36.1-r15"): ["CVE-2023-42363"],
            (ALPINE, "zlib", "1.3-r0"): ["CVE-2023-45853"],  # unchanged: never asked
        }
    ) as running:
        yield running


def delta(fake: OsvFake, changes: PackageDiff, **options: float) -> VulnerabilityDelta:
    async def work() -> VulnerabilityDelta:
        async with OsvClient(fake.url, **options) as client:
            return await client.delta(changes)

    return asyncio.run(work())


def test_fixed_and_introduced_from_the_changed_packages_only(osv: OsvFake) -> None:
    changes = diff(
        {"openssl": "3.0.13-r0", "zlib": "1.3-r0", "musl": "1.2.4-r2"},
        {"openssl": "3.0.15-r0", "zlib": "1.3-r0", "busybox": "1.36.1-r15"},
    )
    found = delta(osv, changes)
    assert found == VulnerabilityDelta(
        fixed=("CVE-2024-0727",), introduced=("CVE-2023-42363",), asked=4
    )
    assert [r["path"] for r in osv.requests] == ["/v1/querybatch"]
    assert sorted(osv.queries()) == sorted(
        [
            (ALPINE, "openssl", "3.0.13-r0"), (ALPINE, "musl", "1.2.4-r2"),
            (ALPINE, "openssl", "3.0.15-r0"), (ALPINE, "busybox", "1.36.1-r15"),
        ]
    )  # fmt: skip
    assert vulnerability_line(found) == (
        "vulnerabilities (OSV): 1 fixed (`CVE-2024-0727`), **1 introduced** (`CVE-2023-42363`)"
    )


def test_answers_are_kept_for_the_run(osv: OsvFake) -> None:
    changes = diff({"openssl": "3.0.13-r0"}, {"openssl": "3.0.15-r0"})

    async def work() -> list[VulnerabilityDelta]:
        async with OsvClient(osv.url) as client:
            first = await client.delta(changes)
            again = await client.delta(changes)
            return [first, again]

    first, again = asyncio.run(work())
    assert first == again and first.fixed == ("CVE-2024-0727",)
    assert len(osv.requests) == 1


def test_packages_without_an_osv_ecosystem_are_counted_not_asked(osv: OsvFake) -> None:
    changes = diff({"openssl": "3.0.13-r0"}, {"openssl": "3.0.15-r0"}, distro=None)
    found = delta(osv, changes)
    assert found == VulnerabilityDelta(unknown=1)
    assert osv.requests == []
    assert vulnerability_line(found) == (
        "vulnerabilities (OSV): no changed package OSV can be asked about; 1 changed package "
        "not asked (no OSV ecosystem in the SBOM)"
    )


def test_a_slow_osv_is_a_note_within_the_deadline(osv: OsvFake) -> None:
    osv.delay = 3.0
    started = time.monotonic()
    found = delta(osv, diff({"openssl": "3.0.13-r0"}, {"openssl": "3.0.15-r0"}), deadline=0.3)
    assert time.monotonic() - started < 2.0
    assert found.error == "no answer in 0.3 s" and not found.fixed
    # Markdown: the escaper keeps "0.3" from reading as a list item.
    assert vulnerability_line(found) == "vulnerabilities (OSV): not checked (no answer in 0\\.3 s)"


@pytest.mark.parametrize(
    ("status", "raw", "error"),
    [
        (500, b"{}", "HTTP 500"),
        (200, b"<html>", "the answer is not JSON"),
        (200, b'{"results": []}', "the answer does not hold one result per query"),
        (200, b'{"results": [{"vulns": "x"}, {}]}', "a result's vulns is not a list"),
    ],
)
def test_a_broken_answer_is_a_note(osv: OsvFake, status: int, raw: bytes, error: str) -> None:
    osv.status, osv.raw = status, raw
    found = delta(osv, diff({"openssl": "3.0.13-r0"}, {"openssl": "3.0.15-r0"}))
    assert found.error == error


def test_ids_that_are_not_ids_are_dropped(osv: OsvFake) -> None:
    osv.raw = b'{"results": [{"vulns": [{"id": "CVE-1"}, {"id": "<img src=x>"}, {"id": 7}]}]}'
    found = delta(osv, diff({"openssl": "3.0.13-r0"}, {}))
    assert found.fixed == ("CVE-1",)


def test_nothing_listening_is_a_note() -> None:
    async def work() -> VulnerabilityDelta:
        async with OsvClient("http://127.0.0.1:9") as client:
            return await client.delta(diff({"openssl": "3.0.13-r0"}, {"openssl": "3.0.15-r0"}))

    assert asyncio.run(work()).error == "ConnectError"


@pytest.mark.parametrize(
    ("purl", "name"),
    [
        ("pkg:npm/%40babel/core@7.0.0", ("npm", "@babel/core")),
        ("pkg:pypi/django@4.2", ("PyPI", "django")),
        ("pkg:golang/github.com/foo/bar@v1.2.3", ("Go", "github.com/foo/bar")),
        ("pkg:deb/debian/libc6@2.36-9?arch=amd64&distro=debian-12", ("Debian:12", "libc6")),
        ("pkg:deb/ubuntu/libc6@2.35?distro=ubuntu-22.04", ("Ubuntu:22.04", "libc6")),
        ("pkg:apk/alpine/musl@1.2.4-r2?distro=3.19.1", ("Alpine:v3.19", "musl")),
        ("pkg:maven/log4j-core@2.14.1", None),  # no group: not an OSV Maven name
        ("pkg:rpm/redhat/openssl@3.0.7", None),
        ("not a purl", None),
    ],
)
def test_osv_names_from_package_urls(purl: str, name: tuple[str, str] | None) -> None:
    assert osv_name(purl) == name


def test_after_one_failure_the_run_does_not_wait_for_osv_again(osv: OsvFake) -> None:
    osv.delay = 3.0

    async def work() -> list[VulnerabilityDelta]:
        async with OsvClient(osv.url, deadline=0.3) as client:
            first = await client.delta(diff({"openssl": "3.0.13-r0"}, {"openssl": "3.0.15-r0"}))
            second = await client.delta(diff({"zlib": "1.3-r0"}, {"zlib": "1.3.1-r0"}))
            return [first, second]

    started = time.monotonic()
    first, second = asyncio.run(work())
    assert time.monotonic() - started < 2.0
    assert first.error == "no answer in 0.3 s"
    assert second.error == "no answer in 0.3 s, earlier in this run"
    assert len(osv.requests) == 1
