"""The trust gate from the command line: `pin` writes only digests that pass their `verify:`
entry, `check --drift` and `audit --drift` report pins that do not.

A key generated in the test signs one image (cosign's legacy `.sig` tag) and not another, both
pushed to the real registry with BuildKit attestations; the CLI runs as a user runs it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.registry import RunningRegistry
from tests.support.supplychain import (
    CosignKey,
    push_attested_index,
    push_legacy_signature,
    slsa_v02,
)

ROOT = Path(__file__).resolve().parents[2]


def pinbot(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pinbot", *map(str, args)],
        capture_output=True, text=True, timeout=180,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip


@dataclass
class Images:
    signed_ref: str  # host/repo:tag
    signed: str  # its digest
    unsigned_ref: str
    unsigned: str
    config: Path  # insecure registry, and a verify entry with the key beside it


_count = iter(range(10_000))


def images(reg: RunningRegistry, tmp_path: Path, *, entry: str | None = None) -> Images:
    """Two images under `gate/`; the first signed with a generated key, the second not."""
    n = next(_count)
    signed_repo, unsigned_repo = f"gate/signed-{n}", f"gate/unsigned-{n}"
    signed = push_attested_index(
        reg, signed_repo, "1.0", packages={"openssl": "3.0.15-r0"}, provenance=slsa_v02(),
        seed=f"signed-{n}",
    )  # fmt: skip
    unsigned = push_attested_index(
        reg, unsigned_repo, "1.0", packages={"openssl": "3.0.15-r0"}, provenance=slsa_v02(),
        seed=f"unsigned-{n}",
    )  # fmt: skip
    key = CosignKey()
    push_legacy_signature(reg, signed_repo, signed.digest, key)
    folder = tmp_path / "conf"
    (folder / "keys").mkdir(parents=True)
    (folder / "keys" / "cosign.pub").write_bytes(key.public_pem)
    entry = entry or (
        f"  - images: ['{reg.host}/gate/*']\n    require: [signature]\n    key: keys/cosign.pub\n"
    )
    config = folder / "pinbot.yaml"
    config.write_text(f'registries:\n  "{reg.host}":\n    insecure: true\nverify:\n{entry}')
    return Images(
        reg.ref(signed_repo, "1.0"), signed.digest, reg.ref(unsigned_repo, "1.0"),
        unsigned.digest, config,
    )  # fmt: skip


def test_pin_writes_the_signed_digest_and_holds_back_the_unsigned_one(
    registry_http: RunningRegistry, tmp_path: Path
) -> None:
    found = images(registry_http, tmp_path)
    tree = tmp_path / "tree"
    tree.mkdir()
    dockerfile = tree / "Dockerfile"
    dockerfile.write_text(f"FROM {found.signed_ref}\nFROM {found.unsigned_ref}\n")

    done = pinbot("pin", tree, "--config", found.config)

    assert done.returncode == 1, done.stderr
    assert dockerfile.read_text() == (
        f"FROM {found.signed_ref}@{found.signed}\nFROM {found.unsigned_ref}\n"
    )
    assert (
        f"held back: unsigned: Dockerfile:2:6: {found.unsigned_ref}: {found.unsigned} held "
        "back: no signature found\n"
    ) in done.stderr
    assert "1 pinned, 0 bumped in 1 files; 1 held back by verify; " in done.stderr

    # A second run writes nothing more, and still says what it holds back.
    again = pinbot("pin", tree, "--config", found.config, "--format", "json")
    assert again.returncode == 1
    report = json.loads(again.stdout)
    assert report["edits"] == []
    assert report["held_back"] == [
        {
            "file": "Dockerfile", "line": 2, "column": 6, "rule": "unsigned",
            "reason": "no signature found", "image": found.unsigned_ref.rsplit(":", 1)[0],
            "tag": "1.0", "old_digest": None, "new_digest": found.unsigned,
            "text": found.unsigned_ref,
        }
    ]  # fmt: skip
    assert dockerfile.read_text().count("@sha256:") == 1


def test_pin_holds_back_a_bump_to_an_unsigned_digest(
    registry_http: RunningRegistry, tmp_path: Path
) -> None:
    found = images(registry_http, tmp_path)
    tree = tmp_path / "tree"
    tree.mkdir()
    old = "sha256:" + "0" * 64  # a digest the tag has moved away from
    text = f"FROM {found.unsigned_ref}@{old}\n"
    (tree / "Dockerfile").write_text(text)
    done = pinbot("pin", tree, "--config", found.config, "--check")
    assert done.returncode == 1
    assert f"held back: unsigned: Dockerfile:1:6: {found.unsigned_ref}@{old}: " in done.stderr
    assert (tree / "Dockerfile").read_text() == text


def test_without_a_matching_entry_nothing_is_required(
    registry_http: RunningRegistry, tmp_path: Path
) -> None:
    found = images(
        registry_http,
        tmp_path,
        entry="  - images: ['ghcr.io/acme/*']\n    require: [signature]\n    key: keys/cosign.pub\n",
    )
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "Dockerfile").write_text(f"FROM {found.unsigned_ref}\n")
    done = pinbot("pin", tree, "--config", found.config)
    assert done.returncode == 0, done.stderr
    assert f"@{found.unsigned}" in (tree / "Dockerfile").read_text()
    assert pinbot("check", tree, "--drift", "--config", found.config).returncode == 0


def test_a_keyless_entry_fails_closed_with_its_reason(
    registry_http: RunningRegistry, tmp_path: Path
) -> None:
    found = images(
        registry_http,
        tmp_path,
        entry=f"  - images: ['{registry_http.host}/gate/*']\n    require: [signature]\n"
        "    identity: '^https://github.com/acme/.+$'\n"
        "    issuer: https://token.actions.githubusercontent.com\n",
    )
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "Dockerfile").write_text(f"FROM {found.signed_ref}\n")
    done = pinbot("pin", tree, "--config", found.config)
    assert done.returncode == 1
    assert "held back: signature-invalid: Dockerfile:1:6: " in done.stderr
    assert "keyless signature (identity and issuer), which pinbot does not verify yet" in done.stderr
    assert "@sha256:" not in (tree / "Dockerfile").read_text()


def test_a_key_file_that_is_no_key_is_a_configuration_error(
    registry_http: RunningRegistry, tmp_path: Path
) -> None:
    found = images(registry_http, tmp_path)
    (found.config.parent / "keys" / "cosign.pub").write_text("-----BEGIN PUBLIC KEY-----\nx\n")
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "Dockerfile").write_text(f"FROM {found.signed_ref}\n")
    for command in (["pin", tree], ["check", tree, "--drift"]):
        done = pinbot(*command, "--config", found.config)
        assert done.returncode == 2, command
        assert "verify[0].key: " in done.stderr and "is not a PEM public key" in done.stderr
    assert (tree / "Dockerfile").read_text() == f"FROM {found.signed_ref}\n"


def test_check_drift_flags_an_unsigned_pin_in_every_format(
    registry_http: RunningRegistry, tmp_path: Path
) -> None:
    found = images(registry_http, tmp_path)
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "Dockerfile").write_text(
        f"FROM {found.signed_ref}@{found.signed}\nFROM {found.unsigned_ref}@{found.unsigned}\n"
    )
    done = {
        name: pinbot("check", tree, "--drift", "--config", found.config, "--format", name)
        for name in ("json", "text", "github", "sarif")
    }
    assert {name: run.returncode for name, run in done.items()} == dict.fromkeys(done, 1)
    [finding] = json.loads(done["json"].stdout)
    assert (finding["rule"], finding["file"], finding["line"]) == ("unsigned", "Dockerfile", 2)
    assert finding["message"] == f"{found.unsigned_ref}@{found.unsigned}: no signature found"
    assert finding["reference"] == f"{found.unsigned_ref}@{found.unsigned}"
    assert done["text"].stdout.startswith("Dockerfile:2:6: unsigned: ")
    assert done["github"].stdout.startswith(
        "::error file=Dockerfile,line=2,col=6,title=Pinned digest carries no signature"
    )
    results = json.loads(done["sarif"].stdout)["runs"][0]["results"]
    assert [r["ruleId"] for r in results] == ["unsigned"]
    assert results[0]["locations"][0]["physicalLocation"]["region"]["startLine"] == 2
    # Without --drift the registry is not asked, and nothing is required.
    assert pinbot("check", tree, "--config", found.config).returncode == 0


def test_check_drift_flags_a_pin_signed_for_another_digest_as_signature_invalid(
    registry_http: RunningRegistry, tmp_path: Path
) -> None:
    found = images(registry_http, tmp_path)
    repo = found.unsigned_ref.split("/", 1)[1].rsplit(":", 1)[0]
    key = CosignKey()
    (found.config.parent / "keys" / "cosign.pub").write_bytes(key.public_pem)
    push_legacy_signature(registry_http, repo, found.unsigned, key, signed_digest=found.signed)
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "Dockerfile").write_text(f"FROM {found.unsigned_ref}@{found.unsigned}\n")
    done = pinbot("check", tree, "--drift", "--config", found.config, "--format", "json")
    [finding] = json.loads(done.stdout)
    assert finding["rule"] == "signature-invalid"
    assert "signs another digest" in finding["message"]


def test_audit_drift_reports_an_unsigned_pin_as_a_violation(
    registry_http: RunningRegistry,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from pinbot.cli import main
    from tests.support.github_fake import GitHubFake

    found = images(registry_http, tmp_path)
    with GitHubFake() as fake:
        fake.create_org("acme")
        fake.create_repo(
            "acme",
            "web",
            {
                "Dockerfile": (
                    f"FROM {found.signed_ref}@{found.signed}\n"
                    f"FROM {found.unsigned_ref}@{found.unsigned}\n"
                ).encode()
            },
        )
        monkeypatch.setenv("GITHUB_TOKEN", fake.token)
        monkeypatch.setenv("GITHUB_API_URL", fake.url)
        common = ["audit", "--repo", "acme/web", "--config", str(found.config), "-q"]
        assert main([*common, "--format", "json"]) == 0  # offline: nothing is asked
        capsys.readouterr()
        status = main([*common, "--format", "json", "--drift"])
        report = json.loads(capsys.readouterr().out)
        assert main([*common, "--format", "text", "--drift"]) == 1
        text = capsys.readouterr().out

    assert status == 1
    assert report["summary"]["violations_by_rule"]["unsigned"] == 1
    [violation] = report["violations"]
    assert (violation["rule"], violation["file"], violation["line"]) == ("unsigned", "Dockerfile", 2)
    assert "unsigned 1" in text
