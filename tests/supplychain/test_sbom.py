"""SBOM package lists (SPDX, CycloneDX) and the package diff, as pure functions."""

from __future__ import annotations

from typing import Any

import pytest

from pinbot.supplychain._fields import SupplyChainError
from pinbot.supplychain.sbom import (
    Package,
    PackageChange,
    PackageSet,
    diff_packages,
    parse_sbom,
)
from tests.support.supplychain import spdx_document

CYCLONEDX = "https://cyclonedx.org/bom"


def packages(*items: tuple[str, str, str]) -> PackageSet:
    return PackageSet("SPDX", frozenset(Package(*item) for item in items))


def test_spdx_lists_packages_with_their_purl_type_and_skips_versionless_entries() -> None:
    found = parse_sbom("https://spdx.dev/Document", spdx_document({"busybox": "1.36.1-r15"}))
    assert found.packages == {Package("apk", "busybox", "1.36.1-r15")}


def test_cyclonedx_reads_nested_components_and_groups() -> None:
    bom: dict[str, Any] = {
        "bomFormat": "CycloneDX",
        "specVersion": "1.5",
        "components": [
            {
                "type": "library",
                "group": "org.apache.logging.log4j",
                "name": "log4j-core",
                "version": "2.17.1",
                "purl": "pkg:maven/org.apache.logging.log4j/log4j-core@2.17.1",
                "components": [{"name": "inner", "version": "1", "purl": "pkg:npm/inner@1"}],
            },
            {"name": "no-version"},
            "not an object",
        ],
    }
    found = parse_sbom(CYCLONEDX, bom)
    assert found.format == "CycloneDX"
    assert found.packages == {
        Package("maven", "org.apache.logging.log4j/log4j-core", "2.17.1"),
        Package("npm", "inner", "1"),
    }


def test_cyclonedx_nesting_is_bounded() -> None:
    bom: dict[str, Any] = {"bomFormat": "CycloneDX", "components": []}
    holder = bom
    for depth in range(100):
        child = {"name": f"p{depth}", "version": "1", "components": []}
        holder["components"].append(child)
        holder = child
    found = parse_sbom(CYCLONEDX, bom)
    assert found.truncated
    assert len(found.packages) == 16


@pytest.mark.parametrize(
    ("predicate_type", "predicate"),
    [
        ("https://spdx.dev/Document", {"spdxVersion": "SPDX-3.0", "packages": []}),
        ("https://spdx.dev/Document", {"packages": []}),
        (CYCLONEDX, {"bomFormat": "SPDX"}),
        ("https://example.com/other", {}),
    ],
)
def test_what_is_not_spdx_2_or_cyclonedx_is_refused(
    predicate_type: str, predicate: dict[str, Any]
) -> None:
    with pytest.raises(SupplyChainError):
        parse_sbom(predicate_type, predicate)


def test_hostile_fields_are_skipped() -> None:
    document = spdx_document({"ok": "1"})
    document["packages"] += [
        {"name": 5, "versionInfo": "1"},
        {"name": "x" * 10_000, "versionInfo": "1"},
        {"name": "y", "versionInfo": ["1"]},
        {"name": "z", "versionInfo": "2", "externalRefs": "not a list"},
    ]
    found = parse_sbom("https://spdx.dev/Document", document)
    assert found.packages == {Package("apk", "ok", "1"), Package("", "z", "2")}


def test_diff_names_version_changes_added_and_removed_most_important_first() -> None:
    old = packages(
        ("npm", "left-pad", "1.0.0"),
        ("apk", "openssl", "3.0.13-r0"),
        ("apk", "zlib", "1.3-r0"),
        ("apk", "curl", "8.5.0-r0"),
        ("apk", "gone", "1"),
    )
    new = packages(
        ("npm", "left-pad", "1.1.0"),
        ("apk", "openssl", "3.0.15-r0"),
        ("apk", "zlib", "1.3-r0"),
        ("apk", "curl", "8.9.0-r0"),
        ("apk", "fresh", "2"),
    )
    diff = diff_packages(old, new)
    assert (diff.changed, diff.added, diff.removed, diff.total) == (3, 1, 1, 5)
    assert diff.changes == (
        PackageChange("apk", "curl", "8.5.0-r0", "8.9.0-r0"),
        PackageChange("apk", "openssl", "3.0.13-r0", "3.0.15-r0"),
        PackageChange("npm", "left-pad", "1.0.0", "1.1.0"),
        PackageChange("apk", "gone", "1", None),
        PackageChange("apk", "fresh", None, "2"),
    )


def test_diff_with_several_versions_of_one_name_counts_each_version() -> None:
    old = packages(("npm", "ms", "2.0.0"), ("npm", "ms", "2.1.2"))
    new = packages(("npm", "ms", "2.1.3"), ("npm", "ms", "2.1.2"))
    assert diff_packages(old, new).changes == (PackageChange("npm", "ms", "2.0.0", "2.1.3"),)
    three = packages(("npm", "ms", "3"), ("npm", "ms", "4"))
    diff = diff_packages(old, three)
    assert (diff.added, diff.removed, diff.changed) == (2, 2, 0)


def test_identical_lists_have_no_diff() -> None:
    same = packages(("apk", "a", "1"))
    assert diff_packages(same, same).total == 0
