"""Changelog notes from image metadata: what a reviewer reads in the pull request."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from pinbot.notes import (
    add_lines,
    describe,
    github_repository,
    human_size,
    moved_line,
    short_digest,
)
from pinbot.registry.manifest import ImageMetadata

REV_OLD = "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678"
REV_NEW = "e4f5a6b7c8d90112233445566778899aabbccdde"


def meta(**kw: object) -> ImageMetadata:
    labels = kw.pop("labels", {})
    defaults: dict[str, object] = {"digest": "sha256:" + "0" * 64, "media_type": "application/vnd.oci.image.index.v1+json"}
    defaults.update(kw)
    return ImageMetadata(labels=labels, **defaults)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("https://github.com/nginx/docker-nginx", "nginx/docker-nginx"),
        ("https://github.com/acme/api.git", "acme/api"),
        ("git@github.com:acme/api.git", "acme/api"),
        ("https://gitlab.com/acme/api", None),
        ("https://github.com/acme", None),
        (None, None),
    ],
)
def test_the_source_label_names_a_github_repository_only_when_it_is_one(
    source: str | None, expected: str | None
) -> None:
    assert github_repository(source) == expected


@pytest.mark.parametrize(
    ("size", "text"), [(999, "999 B"), (67_100_000, "67.1 MB"), (1_500, "1.5 kB"), (2_300_000_000, "2.3 GB")]
)
def test_sizes_read_in_decimal_units_to_one_place(size: int, text: str) -> None:
    assert human_size(size) == text


def test_a_short_digest_keeps_twelve_hex_digits_and_none_says_none() -> None:
    assert short_digest("sha256:" + "ab" * 32) == "sha256:abababababab"
    assert short_digest(None) == "none"


def test_bump_notes_name_every_change_with_a_compare_link() -> None:
    source = {"org.opencontainers.image.source": "https://github.com/acme/api"}
    old = meta(
        created=datetime(2026, 11, 20, 8, 0, tzinfo=UTC),
        labels={**source, "org.opencontainers.image.version": "1.27.2", "org.opencontainers.image.revision": REV_OLD},
        platforms=("linux/amd64", "linux/arm64", "linux/s390x"),
        size=67_100_000,
        platform="linux/amd64",
    )
    new = meta(
        created=datetime(2026, 11, 25, 9, 30, tzinfo=UTC),
        labels={
            **source,
            "org.opencontainers.image.version": "1.27.3",
            "org.opencontainers.image.revision": REV_NEW,
            "org.opencontainers.image.base.name": "debian:bookworm-slim",
            "org.opencontainers.image.base.digest": "sha256:" + "1" * 64,
        },
        platforms=("linux/amd64", "linux/arm64", "linux/riscv64"),
        size=67_400_000,
        platform="linux/amd64",
    )
    text = describe("ghcr.io/acme/api", "1.27", old, new)
    assert text.startswith("<details><summary><code>ghcr.io/acme/api:1.27</code> — rebuilt 2026-11-20 08:00 UTC → 2026-11-25 09:30 UTC</summary>")
    assert "- version: `1.27.2` → `1.27.3`" in text
    assert f"https://github.com/acme/api/compare/{REV_OLD}...{REV_NEW}" in text
    assert "[`a1b2c3d`]" in text and "[`e4f5a6b`]" in text
    assert "platforms: added `linux/riscv64`; **removed** `linux/s390x`" in text
    assert "compressed size (`linux/amd64`): 67.1 MB → 67.4 MB (+0.4%)" in text
    assert "base image: `none`" not in text
    assert "base image `debian:bookworm-slim` digest changed: `none` → `sha256:111111111111`" in text
    assert text.rstrip().endswith("</details>")


def test_unchanged_metadata_says_unchanged() -> None:
    same = {"org.opencontainers.image.version": "3.19.1"}
    old = meta(labels=same, platforms=("linux/amd64",), size=3_400_000)
    new = meta(labels=same, platforms=("linux/amd64",), size=3_400_000)
    text = describe("alpine", "3.19", old, new)
    assert "new digest" in text
    assert "version: `3.19.1` (unchanged)" in text
    assert "platforms: `linux/amd64` (unchanged)" in text
    assert "3.4 MB (unchanged)" in text


def test_bare_images_say_the_registry_gave_nothing() -> None:
    text = describe("busybox", "1", meta(), meta())
    assert "gives no version, revision, platform or size metadata" in text


def test_first_pin_says_what_is_pinned() -> None:
    new = meta(
        created=datetime(2026, 11, 25, tzinfo=UTC),
        labels={"org.opencontainers.image.version": "16.4", "org.opencontainers.image.revision": "v16.4-1"},
        platforms=("linux/amd64", "linux/arm64"),
        size=150_000_000,
    )
    text = describe("postgres", "16", None, new)
    assert "pinned to the build of 2026-11-25 00:00 UTC" in text
    assert "version `16.4`" in text
    assert "revision `v16.4-1`" in text
    assert "platforms: `linux/amd64`, `linux/arm64`" in text
    assert "compressed size: 150.0 MB" in text


def test_missing_new_metadata_is_said_plainly() -> None:
    assert "no metadata" in describe("nginx", "1.27", None, None)


def test_bump_whose_old_digest_is_gone_says_so() -> None:
    new = meta(created=datetime(2026, 11, 25, tzinfo=UTC), platforms=("linux/amd64",))
    text = describe("nginx", "1.27", None, new, old_digest="sha256:" + "9" * 64)
    assert "new digest, built 2026-11-25 00:00 UTC" in text
    assert "no longer describes the old digest `sha256:999999999999`" in text
    assert "pinned to the build" not in text


def test_moved_line_chains_each_earlier_proposal_with_its_time() -> None:
    a, b, c = ("sha256:" + x * 64 for x in "abc")
    assert moved_line([(a, datetime(2026, 11, 20, 8, 0, tzinfo=UTC))], b) == (
        "the tag moved while this pull request was open: "
        "`sha256:aaaaaaaaaaaa` (was proposed 2026-11-20 08:00 UTC) → `sha256:bbbbbbbbbbbb`"
    )
    two = moved_line([(a, datetime(2026, 11, 20, tzinfo=UTC)), (b, None)], c)
    assert two.endswith(
        "(was proposed 2026-11-20 00:00 UTC) → `sha256:bbbbbbbbbbbb` "
        "(was proposed unknown time) → `sha256:cccccccccccc`"
    )


def test_add_lines_puts_the_line_first_in_the_image_tag_s_blocks_only_and_once() -> None:
    new = meta(created=datetime(2026, 11, 25, tzinfo=UTC), platforms=("linux/amd64",))
    nginx = describe("nginx", "1.27", None, new)
    alpine = describe("nginx", "1.27-alpine", None, new)
    [with_line, untouched] = add_lines([nginx, alpine], "nginx", "1.27", ["moved"])
    assert untouched == alpine
    assert with_line.replace("- moved\n", "", 1) == nginx
    assert with_line.index("- moved\n") < with_line.index("- built ")
    assert add_lines([with_line], "nginx", "1.27", ["moved"]) == [with_line]


def test_add_lines_adds_a_block_when_there_are_no_notes_for_the_image_tag() -> None:
    [block] = add_lines([], "redis", None, ["moved"])
    assert block.startswith("<details><summary><code>redis</code> — moved while this pull")
    assert "- moved\n" in block and block.endswith("</details>\n")


def test_a_huge_label_or_platform_list_is_shortened_inside_its_code_span() -> None:
    huge = "v" * 1_000_000
    many = tuple(f"linux/arch{i}" for i in range(500))
    text = describe("nginx", "1", None, meta(labels={"org.opencontainers.image.version": huge}, platforms=many))
    assert len(text) < 3_000
    assert "version `" + "v" * 199 + "…`" in text
    assert "`linux/arch19` and 480 more" in text
