"""The trust gate: a `verify:` entry's requirements against what a digest carries."""

from __future__ import annotations

from pathlib import Path

import pytest

from pinbot.supplychain._fields import SupplyChainError
from pinbot.supplychain.findings import ImageFindings
from pinbot.supplychain.gate import Requirement, Rule, TrustPolicy, evaluate, policy_for
from pinbot.supplychain.provenance import Provenance
from pinbot.supplychain.signatures import PublicKey, Signature, SignatureKind
from tests.support.supplychain import CosignKey, simple_signing_payload

DIGEST = "sha256:" + "d" * 64
OTHER = "sha256:" + "e" * 64
SIGNER = CosignKey()
KEY = PublicKey(SIGNER.public_pem, "cosign.pub")


def cosign(digest: str, signer: CosignKey = SIGNER) -> Signature:
    payload = simple_signing_payload("ghcr.io/acme/api", digest)
    return Signature(SignatureKind.COSIGN, "tag", payload, signer.sign(payload))


def findings(
    *signatures: Signature, source: str | None = "https://github.com/acme/api"
) -> ImageFindings:
    provenance = Provenance("https://slsa.dev/provenance/v1", source=source) if source else None
    return ImageFindings(DIGEST, is_index=True, signatures=signatures, provenance=provenance)


SIGNED = TrustPolicy(("ghcr.io/acme/*",), frozenset({Requirement.SIGNATURE}), key=KEY)
FROM_ACME = TrustPolicy(("ghcr.io/acme/*",), source="https://github.com/acme/*")


@pytest.mark.parametrize(
    ("policy", "found", "rule"),
    [
        (None, findings(), None),
        (SIGNED, findings(cosign(DIGEST)), None),
        (SIGNED, findings(), Rule.UNSIGNED),
        (SIGNED, findings(cosign(OTHER)), Rule.SIGNATURE_INVALID),
        (SIGNED, findings(cosign(DIGEST, CosignKey())), Rule.SIGNATURE_INVALID),
        (SIGNED, findings(Signature(SignatureKind.NOTATION, "referrers tag")), Rule.UNSIGNED),
        (FROM_ACME, findings(), None),
        (FROM_ACME, findings(source="https://github.com/evil/api"), Rule.PROVENANCE_MISMATCH),
        (FROM_ACME, findings(source=None), Rule.PROVENANCE_MISMATCH),
        (
            TrustPolicy(("*",), frozenset({Requirement.PROVENANCE})),
            findings(source=None),
            Rule.PROVENANCE_MISMATCH,
        ),
        (
            TrustPolicy(
                ("*",), frozenset({Requirement.SIGNATURE}), identity="^https://github.com/acme/"
            ),
            findings(cosign(DIGEST)),
            Rule.SIGNATURE_INVALID,
        ),
        (
            TrustPolicy(("*",), frozenset({Requirement.SIGNATURE})),
            findings(cosign(DIGEST)),
            Rule.SIGNATURE_INVALID,
        ),
    ],
)
def test_the_verdict_names_the_rule_a_digest_breaks_or_allows_it(
    policy: TrustPolicy | None, found: ImageFindings, rule: Rule | None
) -> None:
    verdict = evaluate(policy, found)
    assert verdict.rule is rule, verdict
    assert verdict.allowed is (rule is None)
    assert verdict.reason if rule else not verdict.reason


def test_signature_and_provenance_both_required_checks_both() -> None:
    both = TrustPolicy(
        ("*",),
        frozenset({Requirement.SIGNATURE, Requirement.PROVENANCE}),
        key=KEY,
        source="https://github.com/acme/*",
    )
    assert evaluate(both, findings(cosign(DIGEST))).allowed
    wrong = evaluate(both, findings(cosign(DIGEST), source="https://github.com/evil/x"))
    assert (wrong.rule, wrong.reason) == (
        Rule.PROVENANCE_MISMATCH,
        "built from https://github.com/evil/x, not https://github.com/acme/*",
    )


def test_first_matching_entry_applies() -> None:
    policies = [SIGNED, TrustPolicy(("*",))]
    assert policy_for(policies, "ghcr.io/acme/api") is SIGNED
    assert policy_for(policies, "docker.io/library/nginx") is policies[1]
    assert policy_for([SIGNED], "ghcr.io/other/api") is None


def test_from_config_reads_the_key_and_refuses_what_is_not_one(tmp_path: Path) -> None:
    key_file = tmp_path / "cosign.pub"
    key_file.write_bytes(SIGNER.public_pem)
    policy = TrustPolicy.from_config(["ghcr.io/acme/*"], ["signature"], key_file=key_file)
    assert policy.key == KEY
    assert evaluate(policy, findings(cosign(DIGEST))).allowed
    (tmp_path / "bad.pub").write_text("not a key")
    for path in (tmp_path / "bad.pub", tmp_path / "missing.pub"):
        with pytest.raises(SupplyChainError):
            TrustPolicy.from_config(["*"], ["signature"], key_file=path)
    with pytest.raises(SupplyChainError, match="unknown requirement"):
        TrustPolicy.from_config(["*"], ["signed"])


def test_a_key_of_another_kind_fails_closed() -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import dsa, x25519

    for private in (x25519.X25519PrivateKey.generate(), dsa.generate_private_key(2048)):
        pem = private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        policy = TrustPolicy(("*",), frozenset({Requirement.SIGNATURE}), key=PublicKey(pem, "k"))
        verdict = evaluate(policy, findings(cosign(DIGEST)))
        assert verdict.rule is Rule.SIGNATURE_INVALID
        assert "only ECDSA, RSA and Ed25519" in verdict.reason


def test_a_config_entry_becomes_a_policy(tmp_path: Path) -> None:
    from dataclasses import dataclass

    @dataclass(frozen=True)
    class Entry:  # the shape of the config's `verify:` entry
        images: tuple[str, ...]
        require: tuple[str, ...]
        public_key: Path | None = None
        identity: str | None = None
        issuer: str | None = None
        source: str | None = None

    key_file = tmp_path / "cosign.pub"
    key_file.write_bytes(SIGNER.public_pem)
    entry = Entry(
        ("ghcr.io/acme/*",),
        ("signature", "provenance"),
        key_file,
        source="https://github.com/acme/*",
    )
    policy = TrustPolicy.from_entry(entry)
    assert policy.require == {Requirement.SIGNATURE, Requirement.PROVENANCE}
    assert evaluate(policy, findings(cosign(DIGEST))).allowed
    assert not evaluate(policy, findings(cosign(DIGEST), source="https://github.com/x/y")).allowed
