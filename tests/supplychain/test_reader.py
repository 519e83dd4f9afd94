"""Reading attestations from a real registry: BuildKit-shaped indexes pushed by the tests."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pinbot.registry import RegistryClient
from pinbot.supplychain.findings import ImageFindings
from pinbot.supplychain.provenance import BaseImage
from pinbot.supplychain.reader import SupplyChainReader
from pinbot.supplychain.sbom import Package
from tests.supplychain.support import ref_in, run_with, unique
from tests.support.registry import RunningRegistry
from tests.support.supplychain import (
    SLSA_V02,
    SLSA_V1,
    SPDX,
    push_attested_index,
    push_cosign_attestation,
    slsa_v02,
    slsa_v1,
    spdx_document,
    statement,
)

COMMIT = "3f1c0e9a" * 5


def read(reg: RunningRegistry, tmp_path: Path, repo: str, digest: str) -> ImageFindings:
    async def work(client: RegistryClient) -> ImageFindings:
        return await SupplyChainReader(client).read(ref_in(reg, repo), digest)

    return run_with(reg, tmp_path, work)


def test_buildkit_index_gives_provenance_and_packages(
    registry_http: RunningRegistry, tmp_path: Path
) -> None:
    repo = unique("attested")
    image = push_attested_index(
        registry_http,
        repo,
        "1.0",
        packages={"openssl": "3.0.13-r0", "musl": "1.2.4-r2"},
        provenance=slsa_v02(commit=COMMIT, base=("alpine:3.19", "c" * 64)),
        platforms=[("linux", "amd64", None), ("linux", "arm64", "v8")],
    )
    findings = read(registry_http, tmp_path, repo, image.digest)
    assert findings.problems == ()
    assert findings.is_index
    assert findings.provenance is not None
    assert findings.provenance.source == "https://github.com/acme/api"
    assert findings.provenance.commit == COMMIT
    assert findings.provenance.builder == "https://github.com/acme/api/actions/runs/1/attempts/1"
    assert findings.provenance.trigger == "push"
    assert findings.provenance.base_images == (BaseImage("alpine:3.19", "sha256:" + "c" * 64),)
    assert findings.packages is not None
    assert findings.packages.format == "SPDX"
    assert findings.packages.packages == {
        Package("apk", "openssl", "3.0.13-r0"),
        Package("apk", "musl", "1.2.4-r2"),
    }


def test_slsa_v1_provenance_is_read(registry_http: RunningRegistry, tmp_path: Path) -> None:
    repo = unique("slsa-v1")
    image = push_attested_index(
        registry_http,
        repo,
        "1.0",
        provenance=slsa_v1(commit=COMMIT, source="https://github.com/acme/web"),
        provenance_type=SLSA_V1,
    )
    findings = read(registry_http, tmp_path, repo, image.digest)
    assert findings.provenance is not None
    assert (findings.provenance.source, findings.provenance.commit) == (
        "https://github.com/acme/web",
        COMMIT,
    )
    assert findings.provenance.trigger == "release"
    assert findings.packages is None


def test_reads_are_cached_by_digest_and_ask_only_what_is_needed(
    registry_http: RunningRegistry, tmp_path: Path
) -> None:
    repo = unique("cached")
    image = push_attested_index(
        registry_http, repo, "1.0", packages={"zlib": "1.3"}, provenance=slsa_v02()
    )
    registry_http.reset_counts()

    async def work(client: RegistryClient) -> list[ImageFindings]:
        reader = SupplyChainReader(client)
        ref = ref_in(registry_http, repo)
        return [await reader.read(ref, image.digest), await reader.read(ref, image.digest)]

    first, second = run_with(registry_http, tmp_path, work)
    assert first == second
    seen = registry_http.requests_seen()
    # the index, the attestation manifest, two statements; referrers API (404), referrers tag,
    # cosign .sig and .att tags for the index and its one platform image.
    paths = [path for _, path in seen if path != "/v2/"]
    assert len(paths) == len(set(paths)), "nothing is asked twice"
    assert f"/v2/{repo}/manifests/{image.digest}" in paths
    assert f"/v2/{repo}/manifests/{image.attestations[0].digest}" in paths
    blobs = [p for p in paths if "/blobs/" in p]
    assert sorted(blobs) == sorted(
        f"/v2/{repo}/blobs/{d}" for d in image.attestations[0].layer_digests
    )


def test_malformed_statements_are_problems_not_failures(
    registry_http: RunningRegistry, tmp_path: Path
) -> None:
    repo = unique("malformed")
    nested = b"[" * 100_000 + b"]" * 100_000
    wrong_subject = statement(SPDX, spdx_document({"a": "1"}), "sha256:" + "0" * 64)
    not_a_statement = json.dumps({"_type": "x", "predicate": {}}).encode()
    image = push_attested_index(
        registry_http,
        repo,
        "1.0",
        raw_layers=[
            (SPDX, nested),
            (SLSA_V02, not_a_statement),
            (SPDX, wrong_subject),
            (SLSA_V02, b"\xff\xfe not json"),
        ],
    )
    findings = read(registry_http, tmp_path, repo, image.digest)
    assert findings.provenance is None
    assert findings.packages is None  # the statement about another digest is ignored
    assert len(findings.problems) == 3
    assert all("unreadable" in problem for problem in findings.problems)


def test_blob_larger_than_its_descriptor_says_is_refused(
    registry_http: RunningRegistry, tmp_path: Path
) -> None:
    repo = unique("lying-size")
    image = push_attested_index(registry_http, repo, None, packages={"a": "1"})
    attestation = json.loads(image.attestations[0].body)
    attestation["layers"][0]["size"] -= 1
    body = json.dumps(attestation).encode()
    attestation_digest = registry_http.put_manifest(repo, None, body, attestation["mediaType"])
    index = json.loads(image.index.body)
    index["manifests"][1]["digest"] = attestation_digest
    index["manifests"][1]["size"] = len(body)
    index_body = json.dumps(index).encode()
    digest = registry_http.put_manifest(repo, "lying", index_body, index["mediaType"])
    findings = read(registry_http, tmp_path, repo, digest)
    assert findings.packages is None
    assert any("descriptor says" in p for p in findings.problems)


def test_blob_over_the_cap_is_not_fetched(
    registry_http: RunningRegistry, tmp_path: Path, monkeypatch: object
) -> None:
    import pinbot.supplychain.reader as reader_module

    repo = unique("over-cap")
    image = push_attested_index(
        registry_http, repo, None, packages={f"p{i}": "1" for i in range(200)}
    )
    setattr_ = monkeypatch.setattr  # type: ignore[attr-defined]
    setattr_(reader_module, "MAX_SBOM_BYTES", 1000)
    registry_http.reset_counts()
    findings = read(registry_http, tmp_path, repo, image.digest)
    assert findings.packages is None
    assert any("over the cap" in p for p in findings.problems)
    assert not [p for _, p in registry_http.requests_seen() if "/blobs/" in p]


def test_image_without_attestations_has_no_findings_and_no_problems(
    registry_http: RunningRegistry, tmp_path: Path
) -> None:
    repo = unique("bare")
    pushed = registry_http.push_multiarch(repo, "1.0", attestations=False)
    findings = read(registry_http, tmp_path, repo, pushed.digest)
    assert findings == ImageFindings(pushed.digest, is_index=True)


def test_missing_digest_is_a_problem(registry_http: RunningRegistry, tmp_path: Path) -> None:
    repo = unique("missing")
    registry_http.push_image(repo, "1.0")
    findings = read(registry_http, tmp_path, repo, "sha256:" + "9" * 64)
    assert findings.problems and "manifest unreadable" in findings.problems[0]


def test_cosign_attestation_tag_gives_provenance_for_a_single_image(
    registry_http: RunningRegistry, tmp_path: Path
) -> None:
    from tests.support.supplychain import CosignKey

    repo = unique("att-tag")
    pushed = registry_http.push_image(repo, "1.0", oci=True)
    body = statement(SLSA_V02, slsa_v02(commit=COMMIT), pushed.digest)
    push_cosign_attestation(registry_http, repo, pushed.digest, CosignKey(), body)
    findings = read(registry_http, tmp_path, repo, pushed.digest)
    assert findings.provenance is not None and findings.provenance.commit == COMMIT
    assert not findings.is_index


def test_a_bug_while_reading_costs_the_note_not_the_update(
    registry_http: RunningRegistry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import pinbot.supplychain.reader as reader_module

    def broken(*args: object) -> None:
        raise RuntimeError("bug")

    monkeypatch.setattr(reader_module, "parse_provenance", broken)
    repo = unique("bug")
    image = push_attested_index(registry_http, repo, None, provenance=slsa_v02())
    findings = read(registry_http, tmp_path, repo, image.digest)
    assert findings == ImageFindings(image.digest, problems=("unexpected RuntimeError",))
