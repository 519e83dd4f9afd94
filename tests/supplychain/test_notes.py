"""Supply-chain notes: provenance, package diff and signature lines from real pushed images."""

from __future__ import annotations

import re
from pathlib import Path

import cmarkgfm

from pinbot.registry import RegistryClient
from pinbot.supplychain.findings import ImageFindings
from pinbot.supplychain.notes import compare, render
from pinbot.supplychain.provenance import BaseImage, Provenance
from pinbot.supplychain.reader import SupplyChainReader
from pinbot.supplychain.sbom import Package, PackageSet
from tests.supplychain.support import ref_in, run_with, unique
from tests.support.registry import RunningRegistry
from tests.support.supplychain import push_attested_index, slsa_v02

OLD_COMMIT = "1" * 40
NEW_COMMIT = "2" * 40
OLD_PACKAGES = {"openssl": "3.0.13-r0", "musl": "1.2.4-r2", "zlib": "1.3-r0", "old-tool": "1"}
NEW_PACKAGES = {"openssl": "3.0.15-r0", "musl": "1.2.4-r2", "zlib": "1.3.1-r0", "new-tool": "2"}


def render_html(lines: list[str]) -> str:
    markdown = "\n".join(f"- {line}" for line in lines)
    return cmarkgfm.github_flavored_markdown_to_html(
        markdown, options=cmarkgfm.Options.CMARK_OPT_UNSAFE
    )


def read_pair(
    reg: RunningRegistry, tmp_path: Path, repo: str, old: str, new: str
) -> tuple[ImageFindings, ImageFindings]:
    async def work(client: RegistryClient) -> tuple[ImageFindings, ImageFindings]:
        reader = SupplyChainReader(client)
        ref = ref_in(reg, repo)
        return await reader.read(ref, old), await reader.read(ref, new)

    return run_with(reg, tmp_path, work)


def test_bump_notes_give_compare_link_package_diff_and_base_change(
    registry_http: RunningRegistry, tmp_path: Path
) -> None:
    repo = unique("bump-notes")
    old = push_attested_index(
        registry_http,
        repo,
        "1.0",
        packages=OLD_PACKAGES,
        provenance=slsa_v02(commit=OLD_COMMIT, base=("alpine:3.19", "a" * 64)),
        seed="old",
    )
    new = push_attested_index(
        registry_http,
        repo,
        "1.0",
        packages=NEW_PACKAGES,
        provenance=slsa_v02(commit=NEW_COMMIT, base=("alpine:3.19", "b" * 64)),
        seed="new",
    )
    before, after = read_pair(registry_http, tmp_path, repo, old.digest, new.digest)
    note = compare(before, after)
    assert note.provenance is not None
    assert note.provenance.compare_url == (
        f"https://github.com/acme/api/compare/{OLD_COMMIT}...{NEW_COMMIT}"
    )
    assert note.packages is not None and note.packages.diff is not None
    assert (note.packages.diff.changed, note.packages.diff.added, note.packages.diff.removed) == (
        2,
        1,
        1,
    )
    lines = render(note)
    assert lines == [
        "provenance: built from [`acme/api`](https://github.com/acme/api) commit "
        f"[`1111111`](https://github.com/acme/api/commit/{OLD_COMMIT}) → "
        f"[`2222222`](https://github.com/acme/api/commit/{NEW_COMMIT}) "
        f"([compare](https://github.com/acme/api/compare/{OLD_COMMIT}...{NEW_COMMIT}))",
        "builder `https://github.com/acme/api/actions/runs/1/attempts/1`; trigger `push`",
        "base image `alpine:3.19` changed (provenance): `sha256:aaaaaaaaaaaa` → `sha256:bbbbbbbbbbbb`",
        "packages (SPDX SBOM): `openssl` `3.0.13-r0` → `3.0.15-r0`, `zlib` `1.3-r0` → `1.3.1-r0`,"
        " `old-tool` `1` removed, `new-tool` `2` added; 4 packages changed (2 updated, 1 added,"
        " 1 removed)",
        "signature: none found",
    ]


def test_no_compare_link_unless_both_builds_are_on_the_same_github_repository() -> None:
    def findings(source: str, commit: str) -> ImageFindings:
        return ImageFindings(
            "sha256:" + "0" * 64, provenance=Provenance("v", source=source, commit=commit)
        )

    gitlab = compare(
        findings("https://gitlab.com/acme/api", OLD_COMMIT),
        findings("https://gitlab.com/acme/api", NEW_COMMIT),
    )
    moved = compare(
        findings("https://github.com/acme/api", OLD_COMMIT),
        findings("https://github.com/other/api", NEW_COMMIT),
    )
    same = compare(
        findings("https://github.com/acme/api", NEW_COMMIT),
        findings("https://github.com/acme/api", NEW_COMMIT),
    )
    assert [n.provenance.compare_url for n in (gitlab, moved, same) if n.provenance] == [None] * 3
    assert "(was [`acme/api`]" in render(moved)[0]
    assert render(same)[0].endswith("(unchanged)")


def test_first_pin_and_missing_old_sbom_say_so() -> None:
    packages = PackageSet("SPDX", frozenset({Package("apk", "a", "1")}))
    new = ImageFindings("sha256:" + "1" * 64, packages=packages)
    assert "first pin" in render(compare(None, new))[0]
    assert "old build has no SBOM" in render(compare(ImageFindings("sha256:" + "2" * 64), new))[0]


def test_many_changes_show_the_first_few_and_the_totals() -> None:
    old = PackageSet("SPDX", frozenset(Package("npm", f"p{i:02}", "1") for i in range(41)))
    new = PackageSet(
        "SPDX",
        frozenset(
            {Package("npm", f"p{i:02}", "2") for i in range(41)} | {Package("apk", "openssl", "3")}
        ),
    )
    note = compare(
        ImageFindings("sha256:" + "1" * 64, packages=old),
        ImageFindings("sha256:" + "2" * 64, packages=new),
    )
    line = render(note)[0]
    assert line.startswith("packages (SPDX SBOM): `openssl` `3` added, `p00` `1` → `2`, ")
    assert line.count("→") == 4  # five shown: the notable one first, then by name
    assert line.endswith("42 packages changed (41 updated, 1 added)")


HOSTILE = [
    "x`y",
    "<img src=x onerror=alert(1)>",
    "@octocat",
    "[click](https://evil.example/)",
    "1.0\n## Reviewed, safe to merge",
    "a <!-- pinbot:state",
]


def test_outside_strings_render_as_literal_text_only() -> None:
    for value in HOSTILE:
        provenance = Provenance(
            "v",
            source=value,
            commit=value,
            builder=value,
            trigger=value,
            base_images=(BaseImage(value, "sha256:" + "1" * 64),),
        )
        old_provenance = Provenance(
            "v", source=value, commit="c", base_images=(BaseImage(value, None),)
        )
        packages = PackageSet("SPDX", frozenset({Package(value, value, value)}))
        old_packages = PackageSet("SPDX", frozenset({Package(value, value, "0")}))
        note = compare(
            ImageFindings("sha256:" + "1" * 64, provenance=old_provenance, packages=old_packages),
            ImageFindings(
                "sha256:" + "2" * 64,
                provenance=provenance,
                packages=packages,
                problems=(value,),
            ),
        )
        html = render_html(render(note))
        without_code = re.sub(r"<code>.*?</code>", "", html, flags=re.S)
        tags = set(re.findall(r"</?([a-z0-9]+)", without_code))
        assert tags <= {"ul", "li", "strong"}, (value, html)
        assert "<!--" not in html
        assert not re.search(r"(?<![\w/])@octocat", without_code.replace("\u200b", "|")), html
        assert "<h2>" not in html
