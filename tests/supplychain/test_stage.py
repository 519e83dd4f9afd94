"""The trust gate as a stage, against the real registry: which edits pass, which are held back
and why, and what it costs in registry requests per proposed digest.

The request figures asserted here are the README's: counted by the client's own `RequestStats`
after the tags were looked up as `pin` and `run` look them up, so they are the gate's alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from pinbot.config import load_config_text
from pinbot.pipeline import look_up
from pinbot.plan import Action, plan
from pinbot.registry import RegistryClient
from pinbot.scanners import Occurrence, scan_files
from pinbot.supplychain import SupplyChainError
from pinbot.supplychain.gate import Rule, TrustPolicy
from pinbot.supplychain.reader import SupplyChainReader
from pinbot.supplychain.stage import HeldDigest, Screened, TrustGate, trust_policies
from tests.supplychain.support import run_with, unique
from tests.support.registry import RunningRegistry
from tests.support.supplychain import (
    AttestedImage,
    CosignKey,
    push_attested_index,
    push_legacy_signature,
    slsa_v02,
)


@dataclass
class Gated:
    screened: Screened
    cost: dict[str, int]  # requests by kind, the gate's alone


def attested(reg: RunningRegistry, repo: str, seed: str, commit: str = "1" * 40) -> AttestedImage:
    return push_attested_index(
        reg,
        repo,
        "2.3",
        packages={"openssl": f"3.0.{len(seed)}-r0", "zlib": "1.3-r0"},
        provenance=slsa_v02(commit=commit),
        seed=seed,
    )


def occurrences(dockerfile: str) -> list[Occurrence]:
    return [o for outcome in scan_files({"Dockerfile": dockerfile.encode()}).values()
            for o in outcome.occurrences]  # fmt: skip


def policies_for(tmp_path: Path, entries: str, key: CosignKey | None) -> tuple[TrustPolicy, ...]:
    if key is not None:
        (tmp_path / "cosign.pub").write_bytes(key.public_pem)
    config = load_config_text(entries, "pinbot.yaml", base_dir=tmp_path)
    return trust_policies(config.verify)


def gated(
    reg: RunningRegistry, tmp_path: Path, dockerfile: str, policies: Sequence[TrustPolicy]
) -> Gated:
    """Look the tags up as `pin` does, plan, then screen the edits; the screen's own cost."""
    found = occurrences(dockerfile)

    async def work(client: RegistryClient) -> Gated:
        lookups = await look_up(client, found)
        edits = plan(found, lookups).edits
        before = dict(client.stats.counts)
        screened = await TrustGate(SupplyChainReader(client), policies).screen(edits)
        cost = {
            kind: n - before.get((host, kind), 0)
            for (host, kind), n in client.stats.counts.items()
            if n - before.get((host, kind), 0)
        }
        return Gated(screened, cost)

    return run_with(reg, tmp_path, work)


SIGNED_ENTRY = "verify:\n  - images: ['{host}/supply/*']\n    require: [signature]\n    key: cosign.pub\n"


def test_a_first_pin_signed_with_the_key_passes_and_an_unsigned_one_is_held(
    registry_http: RunningRegistry, tmp_path: Path
) -> None:
    signed_repo, unsigned_repo = unique("stage-signed"), unique("stage-unsigned")
    signed = attested(registry_http, signed_repo, "signed")
    unsigned = attested(registry_http, unsigned_repo, "unsigned")
    key = CosignKey()
    push_legacy_signature(registry_http, signed_repo, signed.digest, key)
    policies = policies_for(tmp_path, SIGNED_ENTRY.format(host=registry_http.host), key)

    dockerfile = (
        f"FROM {registry_http.ref(signed_repo, '2.3')}\n"
        f"FROM {registry_http.ref(unsigned_repo, '2.3')}\n"
    )
    result = gated(registry_http, tmp_path, dockerfile, policies)

    [passed] = result.screened.passed
    assert (passed.action, passed.new_digest) == (Action.PIN, signed.digest)
    [held] = result.screened.held
    assert (held.digest, held.rule, held.occurrence.line) == (unsigned.digest, Rule.UNSIGNED, 2)
    assert held.edit is not None and held.edit.new_digest == unsigned.digest
    assert held.reason == "no signature found"
    problem = held.problem()
    assert (problem.kind.value, problem.file, problem.line) == ("unsigned", "Dockerfile", 2)
    assert str(problem) == (
        f"Dockerfile:2:6: {registry_http.ref(unsigned_repo, '2.3')}: {unsigned.digest} "
        "held back: no signature found"
    )
    # Signed: attestation manifest, 2 statements, referrers API (404), referrers tag (404),
    # .sig tag and its payload (the index itself was fetched by the lookup, and is cached).
    # Unsigned: the same without the payload, then, the index being unsigned, its one platform
    # image asked for its own signatures (referrers API, referrers tag, .sig tag).
    assert result.cost == {"manifest_get": 3 + 5, "blob": 3 + 2, "referrers": 1 + 2}


def test_one_signed_digest_costs_four_manifest_gets_three_blobs_and_one_referrers_call(
    registry_http: RunningRegistry, tmp_path: Path
) -> None:
    repo = unique("stage-cost")
    image = attested(registry_http, repo, "cost")
    key = CosignKey()
    push_legacy_signature(registry_http, repo, image.digest, key)
    policies = policies_for(tmp_path, SIGNED_ENTRY.format(host=registry_http.host), key)
    # Two references to the same tag: one lookup, one verdict, and one set of reads.
    ref = registry_http.ref(repo, "2.3")
    result = gated(registry_http, tmp_path, f"FROM {ref}\nFROM {ref} AS again\n", policies)
    assert len(result.screened.passed) == 2 and not result.screened.held
    assert result.cost == {"manifest_get": 3, "blob": 3, "referrers": 1}


def test_an_image_no_entry_matches_costs_nothing_and_passes(
    registry_http: RunningRegistry, tmp_path: Path
) -> None:
    repo = unique("stage-free")
    attested(registry_http, repo, "free")
    key = CosignKey()
    policies = policies_for(
        tmp_path,
        "verify:\n  - images: ['ghcr.io/acme/*']\n    require: [signature]\n    key: cosign.pub\n",
        key,
    )
    result = gated(registry_http, tmp_path, f"FROM {registry_http.ref(repo, '2.3')}\n", policies)
    assert len(result.screened.passed) == 1 and not result.screened.held
    assert result.cost == {}
    assert gated(registry_http, tmp_path, f"FROM {registry_http.ref(repo, '2.3')}\n", ()).cost == {}


@pytest.mark.parametrize(
    ("signer", "signed_digest", "tamper", "rule", "reason"),
    [
        ("other", None, False, Rule.SIGNATURE_INVALID, "does not verify with the key"),
        ("same", "sha256:" + "0" * 64, False, Rule.SIGNATURE_INVALID, "signs another digest"),
        ("same", None, True, Rule.SIGNATURE_INVALID, "does not verify with the key"),
    ],
)
def test_a_signature_by_another_key_on_another_digest_or_tampered_is_held(
    registry_http: RunningRegistry,
    tmp_path: Path,
    signer: str,
    signed_digest: str | None,
    tamper: bool,
    rule: Rule,
    reason: str,
) -> None:
    repo = unique("stage-bad")
    image = attested(registry_http, repo, f"bad-{signer}-{tamper}-{signed_digest}")
    key = CosignKey()
    push_legacy_signature(
        registry_http,
        repo,
        image.digest,
        CosignKey() if signer == "other" else key,
        signed_digest=signed_digest,
        tamper=tamper,
    )
    policies = policies_for(tmp_path, SIGNED_ENTRY.format(host=registry_http.host), key)
    result = gated(registry_http, tmp_path, f"FROM {registry_http.ref(repo, '2.3')}\n", policies)
    assert not result.screened.passed
    [held] = result.screened.held
    assert held.rule is rule
    assert reason in held.reason


def test_a_keyless_entry_holds_every_digest_back_and_says_why(
    registry_http: RunningRegistry, tmp_path: Path
) -> None:
    repo = unique("stage-keyless")
    image = attested(registry_http, repo, "keyless")
    push_legacy_signature(registry_http, repo, image.digest, CosignKey())
    policies = policies_for(
        tmp_path,
        f"verify:\n  - images: ['{registry_http.host}/supply/*']\n    require: [signature]\n"
        "    identity: '^https://github.com/acme/'\n"
        "    issuer: https://token.actions.githubusercontent.com\n",
        None,
    )
    result = gated(registry_http, tmp_path, f"FROM {registry_http.ref(repo, '2.3')}\n", policies)
    [held] = result.screened.held
    assert held.rule is Rule.SIGNATURE_INVALID
    assert "keyless signature (identity and issuer), which pinbot does not verify" in held.reason


def test_provenance_from_another_source_is_held_as_provenance_mismatch(
    registry_http: RunningRegistry, tmp_path: Path
) -> None:
    repo = unique("stage-source")
    attested(registry_http, repo, "source")
    policies = policies_for(
        tmp_path,
        f"verify:\n  - images: ['{registry_http.host}/supply/*']\n    require: [provenance]\n"
        "    source: https://github.com/other/*\n",
        None,
    )
    result = gated(registry_http, tmp_path, f"FROM {registry_http.ref(repo, '2.3')}\n", policies)
    [held] = result.screened.held
    assert (held.rule, held.reason) == (
        Rule.PROVENANCE_MISMATCH,
        "built from https://github.com/acme/api, not https://github.com/other/*",
    )
    # Provenance only: no signature is required, so platform images are not asked.
    assert result.cost == {"manifest_get": 3, "blob": 2, "referrers": 1}


def test_the_first_matching_entry_applies_as_scan_ignore_images_matches(
    registry_http: RunningRegistry, tmp_path: Path
) -> None:
    """Entries match as `scan.ignore-images` does (the familiar name too), first one wins: a
    catch-all after a looser entry does not apply to what the first one matched."""
    repo = unique("stage-order")
    attested(registry_http, repo, "order")
    key = CosignKey()
    policies = policies_for(
        tmp_path,
        f"verify:\n  - images: ['{registry_http.host}/{repo}']\n    require: [provenance]\n"
        "  - images: ['*']\n    require: [signature]\n    key: cosign.pub\n",
        key,
    )
    ref = registry_http.ref(repo, "2.3")
    result = gated(registry_http, tmp_path, f"FROM {ref}\n", policies)
    assert len(result.screened.passed) == 1


def test_pins_in_files_are_checked_against_their_entry(
    registry_http: RunningRegistry, tmp_path: Path
) -> None:
    signed_repo, unsigned_repo = unique("stage-pin-signed"), unique("stage-pin-unsigned")
    signed = attested(registry_http, signed_repo, "pin-signed")
    unsigned = attested(registry_http, unsigned_repo, "pin-unsigned")
    key = CosignKey()
    push_legacy_signature(registry_http, signed_repo, signed.digest, key)
    policies = policies_for(tmp_path, SIGNED_ENTRY.format(host=registry_http.host), key)
    found = occurrences(
        f"FROM {registry_http.ref(signed_repo, '2.3')}@{signed.digest}\n"
        f"FROM {registry_http.ref(unsigned_repo, '2.3')}@{unsigned.digest}\n"
        f"FROM {registry_http.ref(unsigned_repo, '2.3')}\n"  # not pinned: nothing to check
    )

    async def work(client: RegistryClient) -> list[HeldDigest]:
        return await TrustGate(SupplyChainReader(client), policies).check_pinned(found)

    [held] = run_with(registry_http, tmp_path, work)
    assert (held.occurrence.line, held.digest, held.rule) == (2, unsigned.digest, Rule.UNSIGNED)
    assert held.edit is None
    violation = held.violation()
    assert (violation.rule.value, violation.occurrence.line) == ("unsigned", 2)
    assert violation.message.endswith(": no signature found")


def test_a_key_file_that_is_no_key_is_refused_naming_the_entry(tmp_path: Path) -> None:
    (tmp_path / "cosign.pub").write_text("-----BEGIN PUBLIC KEY-----\nnot base64\n")
    config = load_config_text(
        "verify:\n  - images: ['*']\n    require: [provenance]\n"
        "  - images: ['*']\n    require: [signature]\n    key: cosign.pub\n",
        "pinbot.yaml",
        base_dir=tmp_path,
    )
    with pytest.raises(SupplyChainError, match=r"^verify\[1\]\.key: .*cosign\.pub is not a PEM"):
        trust_policies(config.verify)


def test_check_drift_costs_for_a_signed_pin(registry_http: RunningRegistry, tmp_path: Path) -> None:
    """`check --drift` on one signed pin: the tag's HEAD as without an entry, then the pinned
    index (not fetched by a HEAD) and the gate's 7 reads."""
    import asyncio

    from pinbot.supplychain.stage import check_drift

    repo = unique("stage-drift")
    image = attested(registry_http, repo, "drift")
    key = CosignKey()
    push_legacy_signature(registry_http, repo, image.digest, key)
    entry = SIGNED_ENTRY.format(host=registry_http.host)
    (tmp_path / "cosign.pub").write_bytes(key.public_pem)
    config = load_config_text(
        f'registries:\n  "{registry_http.host}":\n    insecure: true\n{entry}',
        "pinbot.yaml",
        base_dir=tmp_path,
    )
    pinned = occurrences(f"FROM {registry_http.ref(repo, '2.3')}@{image.digest}\n")
    plain = asyncio.run(check_drift(config, pinned, ()))
    gated_run = asyncio.run(check_drift(config, pinned, trust_policies(config.verify)))
    assert (plain.held, gated_run.held) == ([], [])
    assert (plain.requests, gated_run.requests) == (2, 2 + 1 + 7)
