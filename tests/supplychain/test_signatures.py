"""Signatures verified on the exact digest: cosign tags, referrers (tag schema and API), bundles.

Keys are made in each test; signatures are pushed to the real registry as cosign writes them.
The referrers API (distribution 2.8 has none) is answered by the fault proxy in front of it.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from pinbot.reference import parse_normalized
from pinbot.registry import RegistryClient
from pinbot.supplychain.findings import ImageFindings, signature_check
from pinbot.supplychain.reader import SupplyChainReader
from pinbot.supplychain.signatures import PublicKey, SignatureCheck, SignatureKind, SignatureStatus
from tests.supplychain.support import client_for, ref_in, run_with, unique
from tests.support.fault_proxy import FaultProxy
from tests.support.registry import OCI_INDEX, Pushed, RunningRegistry
from tests.support.supplychain import (
    CosignKey,
    push_attested_index,
    push_bundle_signature,
    push_legacy_signature,
    push_notation_signature,
    push_referrer_signature,
    referrers_index,
    slsa_v02,
)


def key_of(signer: CosignKey, name: str = "keys/cosign.pub") -> PublicKey:
    return PublicKey(signer.public_pem, name)


def read(reg: RunningRegistry, tmp_path: Path, repo: str, digest: str) -> ImageFindings:
    async def work(client: RegistryClient) -> ImageFindings:
        return await SupplyChainReader(client).read(ref_in(reg, repo), digest)

    return run_with(reg, tmp_path, work)


def check_read(
    reg: RunningRegistry, tmp_path: Path, repo: str, digest: str, signer: CosignKey
) -> SignatureCheck:
    """Read what `digest` carries and check its signatures against `signer`'s public key."""
    return signature_check(read(reg, tmp_path, repo, digest), key_of(signer))


def assert_invalid(check: SignatureCheck, reason: str) -> None:
    assert check.status is SignatureStatus.INVALID
    assert reason in check.detail


def multiarch(reg: RunningRegistry, repo: str) -> Pushed:
    return push_attested_index(
        reg,
        repo,
        "1.0",
        packages={"a": "1"},
        provenance=slsa_v02(),
        platforms=[("linux", "amd64", None), ("linux", "arm64", "v8")],
        seed=repo,  # each test its own digests: a signature pushed by one never helps another
    ).index


@pytest.mark.parametrize("kind", ["ecdsa", "rsa", "ed25519"])
def test_cosign_tag_signature_on_the_index_verifies(
    registry_http: RunningRegistry, tmp_path: Path, kind: str
) -> None:
    repo = unique(f"signed-{kind}")
    index = multiarch(registry_http, repo)
    signer = CosignKey(kind)
    push_legacy_signature(registry_http, repo, index.digest, signer)
    findings = read(registry_http, tmp_path, repo, index.digest)
    check = signature_check(findings, key_of(signer))
    assert check.status is SignatureStatus.VERIFIED, check
    assert (check.signer, check.scope, check.kinds) == (
        "keys/cosign.pub",
        "the index",
        (SignatureKind.COSIGN,),
    )
    other = signature_check(findings, key_of(CosignKey(kind)))
    assert_invalid(other, "does not verify with the key")


def test_tampered_payload_is_invalid(registry_http: RunningRegistry, tmp_path: Path) -> None:
    repo = unique("tampered")
    index = multiarch(registry_http, repo)
    signer = CosignKey()
    push_legacy_signature(registry_http, repo, index.digest, signer, tamper=True)
    check = check_read(registry_http, tmp_path, repo, index.digest, signer)
    assert_invalid(check, "does not verify with the key")


def test_signature_made_for_another_digest_is_invalid(
    registry_http: RunningRegistry, tmp_path: Path
) -> None:
    repo = unique("wrong-digest")
    index = multiarch(registry_http, repo)
    other = registry_http.push_image(repo, "other", oci=True, seed="other")
    signer = CosignKey()
    # A valid signature of `other`, copied under this digest's signature tag.
    push_legacy_signature(registry_http, repo, index.digest, signer, signed_digest=other.digest)
    check = check_read(registry_http, tmp_path, repo, index.digest, signer)
    assert_invalid(check, "signs another digest")


def test_signatures_on_every_platform_image_sign_the_index(
    registry_http: RunningRegistry, tmp_path: Path
) -> None:
    repo = unique("children")
    image = push_attested_index(
        registry_http,
        repo,
        "1.0",
        packages={"a": "1"},
        platforms=[("linux", "amd64", None), ("linux", "arm64", "v8")],
        seed=repo,
    )
    signer = CosignKey()
    push_legacy_signature(registry_http, repo, image.children[0].digest, signer)
    partly = check_read(registry_http, tmp_path, repo, image.digest, signer)
    assert partly.status is SignatureStatus.UNSIGNED
    assert partly.detail == "1 of 2 platform images carry no signature"

    push_legacy_signature(registry_http, repo, image.children[1].digest, signer)
    check = check_read(registry_http, tmp_path, repo, image.digest, signer)
    assert check.status is SignatureStatus.VERIFIED
    assert check.scope == "each platform image"

    # A child signed with the signature of its sibling does not count.
    repo2 = unique("children-swapped")
    image2 = push_attested_index(
        registry_http,
        repo2,
        "1.0",
        platforms=[("linux", "amd64", None), ("linux", "arm64", "v8")],
        seed=repo2,
    )
    first, second = image2.children
    push_legacy_signature(registry_http, repo2, first.digest, signer)
    push_legacy_signature(registry_http, repo2, second.digest, signer, signed_digest=first.digest)
    check = check_read(registry_http, tmp_path, repo2, image2.digest, signer)
    assert_invalid(check, "signs another digest")


def test_referrer_signature_through_the_tag_schema(
    registry_http: RunningRegistry, tmp_path: Path
) -> None:
    repo = unique("referrers-tag")
    index = multiarch(registry_http, repo)
    signer = CosignKey()
    push_referrer_signature(registry_http, repo, index, signer)
    findings = read(registry_http, tmp_path, repo, index.digest)
    assert [s.found_by for s in findings.signatures] == ["referrers tag"]
    assert signature_check(findings, key_of(signer)).status is SignatureStatus.VERIFIED


def test_sigstore_bundle_referrer_verifies_and_names_its_subject(
    registry_http: RunningRegistry, tmp_path: Path
) -> None:
    repo = unique("bundle")
    index = multiarch(registry_http, repo)
    signer = CosignKey()
    push_bundle_signature(registry_http, repo, index, signer)
    findings = read(registry_http, tmp_path, repo, index.digest)
    check = signature_check(findings, key_of(signer))
    assert (check.status, check.kinds) == (
        SignatureStatus.VERIFIED,
        (SignatureKind.SIGSTORE_BUNDLE,),
    )

    repo2 = unique("bundle-wrong")
    index2 = multiarch(registry_http, repo2)
    push_bundle_signature(registry_http, repo2, index2, signer, signed_digest=index.digest)
    check = check_read(registry_http, tmp_path, repo2, index2.digest, signer)
    assert_invalid(check, "signs another digest")


def test_notation_signature_is_named_not_verified(
    registry_http: RunningRegistry, tmp_path: Path
) -> None:
    repo = unique("notation")
    index = multiarch(registry_http, repo)
    push_notation_signature(registry_http, repo, index)
    findings = read(registry_http, tmp_path, repo, index.digest)
    check = signature_check(findings, key_of(CosignKey()))
    assert (check.status, check.kinds) == (SignatureStatus.UNVERIFIED, (SignatureKind.NOTATION,))
    assert check.detail == "only Notation found"


def test_without_a_key_signatures_are_found_not_verified(
    registry_http: RunningRegistry, tmp_path: Path
) -> None:
    repo = unique("no-key")
    index = multiarch(registry_http, repo)
    push_legacy_signature(registry_http, repo, index.digest, CosignKey())
    check = signature_check(read(registry_http, tmp_path, repo, index.digest), None)
    assert (check.status, check.detail) == (SignatureStatus.UNVERIFIED, "no key configured")


def test_unsigned_image_is_unsigned(registry_http: RunningRegistry, tmp_path: Path) -> None:
    repo = unique("unsigned")
    index = multiarch(registry_http, repo)
    check = check_read(registry_http, tmp_path, repo, index.digest, CosignKey())
    assert check.status is SignatureStatus.UNSIGNED


def test_referrers_api_is_used_when_the_registry_has_it(
    registry_http: RunningRegistry, fault_proxy: FaultProxy, tmp_path: Path
) -> None:
    repo = unique("referrers-api")
    index = multiarch(registry_http, repo)
    signer = CosignKey()
    referrer = push_referrer_signature(registry_http, repo, index, signer, tag_schema=False)
    fault_proxy.inject(
        path_contains=f"/v2/{repo}/referrers/{index.digest}",
        status=200,
        headers={"Content-Type": OCI_INDEX},
        body=referrers_index(referrer),
        times=1,
    )

    async def main() -> ImageFindings:
        async with client_for(_ProxiedRegistry(fault_proxy), tmp_path) as client:  # type: ignore[arg-type]
            ref = parse_normalized(f"{fault_proxy.host}/{repo}")
            return await SupplyChainReader(client).read(ref, index.digest)

    findings = asyncio.run(main())
    assert [s.found_by for s in findings.signatures] == ["referrers API"]
    assert signature_check(findings, key_of(signer)).status is SignatureStatus.VERIFIED
    asked = [r.path for r in fault_proxy.requests]
    tag = "sha256-" + index.digest.split(":", 1)[1]
    assert f"/v2/{repo}/manifests/{tag}" not in asked, "no tag schema when the API answers"


class _ProxiedRegistry:
    """What `client_for` needs to know of a registry, for the proxy in front of it."""

    def __init__(self, proxy: FaultProxy) -> None:
        self.host = proxy.host
        self.tls = False
