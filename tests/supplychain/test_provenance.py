"""SLSA provenance reduced to source, commit, builder, trigger and base images."""

from __future__ import annotations

from typing import Any

import pytest

from pinbot.supplychain.attestations import SLSA_PROVENANCE_V02, SLSA_PROVENANCE_V1
from pinbot.supplychain.provenance import BaseImage, Provenance, parse_provenance
from tests.support.supplychain import slsa_v02, slsa_v1

COMMIT = "0123456789abcdef" * 2 + "01234567"


def test_buildkit_v02_provenance_gives_source_commit_builder_trigger_and_base_images() -> None:
    found = parse_provenance(SLSA_PROVENANCE_V02, slsa_v02(commit=COMMIT))
    assert found == Provenance(
        SLSA_PROVENANCE_V02,
        source="https://github.com/acme/api",
        commit=COMMIT,
        builder="https://github.com/acme/api/actions/runs/1/attempts/1",
        trigger="push",
        base_images=(BaseImage("alpine:3.19", "sha256:" + "b" * 64),),
    )


def test_v02_without_vcs_falls_back_to_config_source_then_git_material() -> None:
    predicate = slsa_v02(commit=COMMIT, source="https://github.com/acme/cfg")
    del predicate["metadata"]
    found = parse_provenance(SLSA_PROVENANCE_V02, predicate)
    assert (found.source, found.commit) == ("https://github.com/acme/cfg", COMMIT)
    del predicate["invocation"]
    found = parse_provenance(SLSA_PROVENANCE_V02, predicate)
    assert (found.source, found.commit) == ("https://github.com/acme/cfg", COMMIT)
    assert found.trigger is None


def test_v1_reads_build_definition_and_run_details() -> None:
    found = parse_provenance(SLSA_PROVENANCE_V1, slsa_v1(commit=COMMIT))
    assert (found.source, found.commit, found.trigger) == (
        "https://github.com/acme/api",
        COMMIT,
        "release",
    )
    assert found.base_images == (BaseImage("alpine:3.19", "sha256:" + "b" * 64),)


@pytest.mark.parametrize(
    "predicate",
    [
        {},
        {"builder": "not an object", "materials": "nope", "invocation": []},
        {"metadata": {"https://mobyproject.org/buildkit@v1#metadata": {"vcs": {"revision": 1}}}},
        {"materials": [{"uri": "pkg:docker/alpine@3", "digest": {"sha256": "XYZ"}}]},
    ],
)
def test_hostile_shapes_read_as_absent(predicate: dict[str, Any]) -> None:
    found = parse_provenance(SLSA_PROVENANCE_V02, predicate)
    assert (found.source, found.commit, found.builder, found.trigger) == (None,) * 4
    assert all(image.digest is None for image in found.base_images)


def test_a_commit_that_is_not_hex_is_not_taken() -> None:
    predicate = slsa_v02(commit=COMMIT)
    predicate["metadata"]["https://mobyproject.org/buildkit@v1#metadata"]["vcs"]["revision"] = (
        "main; rm -rf /"
    )
    predicate["invocation"]["configSource"]["digest"]["sha1"] = "nothex"
    predicate["materials"][1]["digest"]["sha1"] = "g" * 40
    found = parse_provenance(SLSA_PROVENANCE_V02, predicate)
    assert found.source == "https://github.com/acme/api"
    assert found.commit is None
