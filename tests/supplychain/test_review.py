"""A digest change reviewed end to end against the real registry, with its request cost.

The figures asserted here are the ones the README gives: extra registry requests per proposed
digest, counted by the client's own `RequestStats` (a retry would count too).
"""

from __future__ import annotations

from pathlib import Path

from pinbot.notes import describe
from pinbot.registry import RegistryClient
from pinbot.supplychain.gate import Requirement, Rule, TrustPolicy
from pinbot.supplychain.reader import SupplyChainReader
from pinbot.supplychain.review import Review, Reviewer
from pinbot.supplychain.signatures import PublicKey
from tests.supplychain.support import ref_in, run_with, unique
from tests.support.registry import RunningRegistry
from tests.support.supplychain import (
    AttestedImage,
    CosignKey,
    push_attested_index,
    push_legacy_signature,
    slsa_v02,
)

OLD_COMMIT = "5" * 40
NEW_COMMIT = "6" * 40


def pair(reg: RunningRegistry, repo: str) -> tuple[AttestedImage, AttestedImage]:
    old = push_attested_index(
        reg,
        repo,
        "2.3",
        packages={"openssl": "3.0.13-r0", "busybox": "1.36.1-r15", "zlib": "1.3-r0"},
        provenance=slsa_v02(commit=OLD_COMMIT, base=("alpine:3.19", "a" * 64)),
        seed=repo + "old",
    )
    new = push_attested_index(
        reg,
        repo,
        "2.3",
        packages={"openssl": "3.0.15-r0", "busybox": "1.36.1-r15", "zlib": "1.3.1-r0"},
        provenance=slsa_v02(commit=NEW_COMMIT, base=("alpine:3.19", "b" * 64), event="schedule"),
        seed=repo + "new",
    )
    return old, new


def reviewed(
    reg: RunningRegistry,
    tmp_path: Path,
    repo: str,
    old: str | None,
    new: str,
    policies: list[TrustPolicy],
    *,
    warm: bool = False,
) -> tuple[Review | None, dict[str, int]]:
    """The review, and the requests it alone cost by kind (`warm`: as in a run, where both
    manifests were already fetched for the metadata notes and the new one verified)."""

    async def work(client: RegistryClient) -> tuple[Review | None, dict[str, int]]:
        ref = ref_in(reg, f"{repo}:2.3")
        if warm:
            for digest in (old, new):
                if digest:
                    await client.fetch_metadata(ref.without_digest(), digest)
        before = dict(client.stats.counts)
        result = await Reviewer(SupplyChainReader(client), policies).review(ref, old, new)
        cost = {
            kind: n - before.get((host, kind), 0)
            for (host, kind), n in client.stats.counts.items()
            if n - before.get((host, kind), 0)
        }
        return result, cost

    return run_with(reg, tmp_path, work)


def test_signed_bump_reviewed_with_notes_and_its_request_cost(
    registry_http: RunningRegistry, tmp_path: Path
) -> None:
    repo = unique("review-signed")
    old, new = pair(registry_http, repo)
    signer = CosignKey()
    push_legacy_signature(registry_http, repo, new.digest, signer)
    policy = TrustPolicy(
        (f"{registry_http.host}/supply/*",),
        frozenset({Requirement.SIGNATURE, Requirement.PROVENANCE}),
        key=PublicKey(signer.public_pem, "cosign.pub"),
        source="https://github.com/acme/*",
    )
    result, cost = reviewed(registry_http, tmp_path, repo, old.digest, new.digest, [policy])
    assert result is not None and result.verdict.allowed
    lines = result.lines
    assert lines[0].startswith("provenance: built from [`acme/api`]")
    assert "([compare](https://github.com/acme/api/compare/" in lines[0]
    assert lines[1].endswith("trigger `schedule`")
    assert lines[2].startswith("base image `alpine:3.19` changed (provenance)")
    assert lines[3].startswith("packages (SPDX SBOM): `openssl` `3.0.13-r0` → `3.0.15-r0`")
    assert lines[4] == "signature: cosign signature verified with `cosign.pub` on the index"
    # cold: ping; new: index, attestation manifest, 2 statements, referrers API (404),
    # referrers tag (404), .sig tag, its payload; old: index, attestation manifest, 2 statements.
    assert cost == {"ping": 1, "manifest_get": 6, "blob": 5, "referrers": 1}

    _, warm = reviewed(registry_http, tmp_path, repo, old.digest, new.digest, [policy], warm=True)
    assert warm == {"manifest_get": 4, "blob": 5, "referrers": 1}


def test_gate_holds_back_an_unsigned_digest_and_says_why(
    registry_http: RunningRegistry, tmp_path: Path
) -> None:
    repo = unique("review-held")
    old, new = pair(registry_http, repo)
    policy = TrustPolicy(
        ("*",),
        frozenset({Requirement.SIGNATURE}),
        key=PublicKey(CosignKey().public_pem, "cosign.pub"),
    )
    result, cost = reviewed(registry_http, tmp_path, repo, old.digest, new.digest, [policy])
    assert result is not None and not result.verdict.allowed
    assert result.verdict.rule is Rule.UNSIGNED
    assert result.lines[0].startswith("held back `")
    assert "unsigned — no signature found" in result.lines[0]
    # An unsigned index: each platform image is asked for its own signatures too.
    assert cost == {"ping": 1, "manifest_get": 8, "blob": 4, "referrers": 2}


def test_unchanged_reference_costs_nothing(registry_http: RunningRegistry, tmp_path: Path) -> None:
    repo = unique("review-same")
    _, new = pair(registry_http, repo)
    result, cost = reviewed(registry_http, tmp_path, repo, new.digest, new.digest, [])
    assert result is None
    assert cost == {}


def test_pull_request_notes_block_with_supply_chain_lines(
    registry_http: RunningRegistry, tmp_path: Path
) -> None:
    """The notes block a reviewer sees: registry metadata, then the supply-chain lines."""
    repo = unique("review-body")
    old, new = pair(registry_http, repo)
    signer = CosignKey()
    push_legacy_signature(registry_http, repo, new.digest, signer)
    key = PublicKey(signer.public_pem, "cosign.pub")
    policy = TrustPolicy(("*",), frozenset({Requirement.SIGNATURE}), key=key)

    async def work(client: RegistryClient) -> str:
        ref = ref_in(registry_http, f"{repo}:2.3")
        repository = ref.without_digest()
        before = await client.fetch_metadata(repository, old.digest)
        after = await client.fetch_metadata(repository, new.digest)
        result = await Reviewer(SupplyChainReader(client), [policy]).review(
            ref, old.digest, new.digest
        )
        assert result is not None
        block = describe(ref.name, "2.3", before, after)
        head, _, tail = block.rpartition("\n\n</details>")
        return head + "".join(f"\n- {line}" for line in result.lines) + "\n\n</details>" + tail

    block = run_with(registry_http, tmp_path, work)
    assert "signature: cosign signature verified with `cosign.pub` on the index" in block
    assert block.count("<details>") == 1 and block.endswith("</details>\n")


def test_without_a_verify_entry_platform_images_are_not_asked(
    registry_http: RunningRegistry, tmp_path: Path
) -> None:
    repo = unique("review-notes-only")
    old, new = pair(registry_http, repo)
    result, cost = reviewed(registry_http, tmp_path, repo, old.digest, new.digest, [])
    assert result is not None and result.verdict.allowed
    assert result.lines[-1] == "signature: none found"
    assert cost == {"ping": 1, "manifest_get": 6, "blob": 4, "referrers": 1}
