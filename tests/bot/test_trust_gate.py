"""`pinbot run` with a `verify:` entry, against the GitHub fake and the real registry: a digest
that fails its entry is not proposed, the run summary says which and why, and a pull request
left with nothing else is not opened, or is closed with a comment saying why."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pinbot.bot.run import RunSummary, run_bot
from pinbot.cli import build_parser
from pinbot.commands.run import exit_status, run_options
from pinbot.config import load_config
from pinbot.forge.github import Credentials
from pinbot.report import run_summary
from tests.support.github_fake import GitHubFake
from tests.support.registry import RunningRegistry
from tests.support.supplychain import (
    AttestedImage,
    CosignKey,
    push_attested_index,
    push_legacy_signature,
    slsa_v02,
)

_count = iter(range(10_000))


@dataclass
class Bump:
    ref: str  # host/repo:tag
    old: AttestedImage
    new: AttestedImage


def bump(reg: RunningRegistry, name: str, key: CosignKey | None) -> Bump:
    """An image whose tag moved from an old build to a new one (BuildKit attestations on
    both), the new one signed with `key` when given."""
    repo = f"trust/{name}-{next(_count)}"
    old = push_attested_index(
        reg, repo, "2.3", packages={"openssl": "3.0.13-r0", "zlib": "1.3-r0", "musl": "1.2.4-r2"},
        provenance=slsa_v02(commit="1" * 40), seed=repo + "old",
    )  # fmt: skip
    new = push_attested_index(
        reg, repo, "2.3", packages={"openssl": "3.0.15-r0", "zlib": "1.3-r0", "busybox": "1.36.1-r15"},
        provenance=slsa_v02(commit="2" * 40, base=("alpine:3.19", "c" * 64)), seed=repo + "new",
    )  # fmt: skip
    if key is not None:
        push_legacy_signature(reg, repo, new.digest, key)
    return Bump(reg.ref(repo, "2.3"), old, new)


def config_file(tmp_path: Path, reg: RunningRegistry, key: CosignKey | None) -> Path:
    text = f'registries:\n  "{reg.host}":\n    insecure: true\n'
    if key is not None:
        (tmp_path / "keys").mkdir(exist_ok=True)
        (tmp_path / "keys" / "cosign.pub").write_bytes(key.public_pem)
        text += (
            f"verify:\n  - images: ['{reg.host}/trust/*']\n    require: [signature]\n"
            "    key: keys/cosign.pub\n"
        )
    path = tmp_path / "pinbot.yaml"
    path.write_text(text)
    return path


def run(fake: GitHubFake, config: Path, *repos: str) -> RunSummary:
    argv = ["run", "--write-interval", "0"]
    for repo in repos:
        argv += ["--repo", repo]
    return run_bot(
        load_config(config),
        Credentials(token=fake.token, api_url=fake.url),
        run_options(build_parser().parse_args(argv)),
    )


def test_the_pull_request_carries_the_signed_update_and_the_summary_names_the_held_digest(
    fake: GitHubFake, registry_http: RunningRegistry, tmp_path: Path
) -> None:
    key = CosignKey()
    signed = bump(registry_http, "api", key)
    unsigned = bump(registry_http, "worker", None)
    fake.create_repo(
        "acme",
        "app",
        {
            "Dockerfile": (
                f"FROM {signed.ref}@{signed.old.digest}\nFROM {unsigned.ref}@{unsigned.old.digest}\n"
            ).encode()
        },
    )
    summary = run(fake, config_file(tmp_path, registry_http, key), "acme/app")

    [pull] = fake.pulls("acme", "app")
    body = pull.body or ""
    files = fake.files_at("acme", "app", pull.head_ref)
    assert files["Dockerfile"].decode() == (
        f"FROM {signed.ref}@{signed.new.digest}\nFROM {unsigned.ref}@{unsigned.old.digest}\n"
    )
    assert signed.new.digest in body and unsigned.new.digest not in body
    assert (
        "- provenance: built from [`acme/api`](https://github.com/acme/api) commit "
        f"[`1111111`](https://github.com/acme/api/commit/{'1' * 40}) → "
        f"[`2222222`](https://github.com/acme/api/commit/{'2' * 40}) "
        f"([compare](https://github.com/acme/api/compare/{'1' * 40}...{'2' * 40}))\n"
    ) in body
    assert (
        "- packages (SPDX SBOM): `openssl` `3.0.13-r0` → `3.0.15-r0`, `musl` `1.2.4-r2` "
        "removed, `busybox` `1.36.1-r15` added; 3 packages changed (1 updated, 1 added, "
        "1 removed)\n"
    ) in body
    assert "- signature: cosign signature verified with `cosign.pub` on the index\n" in body

    text = run_summary.text(summary)
    assert "acme/app: INCOMPLETE (1 digest held back (unsigned)); " in text
    assert (
        f"  unsigned: Dockerfile:2:6: {unsigned.ref}@{unsigned.old.digest}: "
        f"{unsigned.new.digest} held back: no signature found\n"
    ) in text
    assert ", 1 digest held back (unsigned); " in text.splitlines()[0]
    assert any(
        line.startswith("::warning title=pinbot acme/app::Dockerfile:2:6: ")
        and unsigned.new.digest in line
        for line in run_summary.workflow_warnings(summary)
    )
    assert exit_status(summary) == 4
    print(f"\n--- pull request body ---\n{body}\n--- run summary ---\n{text}")


def test_a_pull_request_with_only_a_held_update_is_not_opened(
    fake: GitHubFake, registry_http: RunningRegistry, tmp_path: Path
) -> None:
    key = CosignKey()
    unsigned = bump(registry_http, "only", None)
    fake.create_repo(
        "acme", "solo", {"Dockerfile": f"FROM {unsigned.ref}@{unsigned.old.digest}\n".encode()}
    )
    summary = run(fake, config_file(tmp_path, registry_http, key), "acme/solo")
    assert fake.pulls("acme", "solo") == []
    [result] = summary.results
    assert [(p.kind.value, p.line) for p in result.problems] == [("unsigned", 1)]
    assert not result.opened and exit_status(summary) == 4


def test_an_open_pull_request_whose_update_is_now_held_is_closed_with_the_reason(
    fake: GitHubFake, registry_http: RunningRegistry, tmp_path: Path
) -> None:
    unsigned = bump(registry_http, "later", None)
    fake.create_repo(
        "acme", "late", {"Dockerfile": f"FROM {unsigned.ref}@{unsigned.old.digest}\n".encode()}
    )
    # Before the entry: the bump is proposed.
    first = run(fake, config_file(tmp_path, registry_http, None), "acme/late")
    [opened] = first.results[0].opened
    assert exit_status(first) == 0

    second = run(fake, config_file(tmp_path, registry_http, CosignKey()), "acme/late")

    [pull] = fake.pulls("acme", "late")
    assert pull.number == opened.number and pull.state == "closed" and not pull.merged
    [comment] = pull.comments
    assert comment.body.startswith(
        "The digests this pull request would propose now did not pass the trust gate "
        "(`verify:` in pinbot's configuration), so pinbot closed it and deleted its branch."
    )
    assert (
        f"- held back `{unsigned.ref.rsplit(':', 1)[0]}@sha256:{unsigned.new.digest[7:19]}`: "
        "unsigned — no signature found"
    ) in comment.body
    [closed] = second.results[0].closed
    assert closed.reason == "held-back"
    assert pull.head_ref not in fake.repo("acme", "late").refs

    # Closed by pinbot, not declined by a person: once the digest is signed, it is proposed.
    key = CosignKey()
    repo = unsigned.ref.split("/", 1)[1].rsplit(":", 1)[0]
    push_legacy_signature(registry_http, repo, unsigned.new.digest, key)
    third = run(fake, config_file(tmp_path, registry_http, key), "acme/late")
    assert len(third.results[0].opened) == 1 and exit_status(third) == 0


def test_a_first_pin_under_an_entry_says_its_signature_was_verified(
    fake: GitHubFake, registry_http: RunningRegistry, tmp_path: Path
) -> None:
    key = CosignKey()
    signed = bump(registry_http, "first", key)
    fake.create_repo("acme", "first", {"Dockerfile": f"FROM {signed.ref}\n".encode()})
    summary = run(fake, config_file(tmp_path, registry_http, key), "acme/first")
    assert exit_status(summary) == 0
    [pull] = fake.pulls("acme", "first")
    body = pull.body or ""
    assert "- signature: cosign signature verified with `cosign.pub` on the index\n" in body
    assert "- packages (SPDX SBOM): first pin\n" in body


def test_what_the_gate_adds_to_a_run_in_registry_requests(
    fake: GitHubFake, registry_http: RunningRegistry, tmp_path: Path
) -> None:
    """The README's figures for `run`: a bump's notes read both builds already, so the gate
    costs nothing more for it; a first pin under an entry costs the reads of its new digest."""
    key = CosignKey()
    signed = bump(registry_http, "cost", key)
    without = tmp_path / "without"
    without.mkdir()
    configs = {"plain": config_file(without, registry_http, None)}
    configs["gated"] = config_file(tmp_path, registry_http, key)
    texts = {"bump": f"FROM {signed.ref}@{signed.old.digest}\n", "pin": f"FROM {signed.ref}\n"}
    costs: dict[str, list[int]] = {}
    for case, text in texts.items():
        for kind, config in configs.items():
            fake.create_repo("acme", f"{case}-{kind}", {"Dockerfile": text.encode()})
            summary = run(fake, config, f"acme/{case}-{kind}")
            assert len(summary.results[0].opened) == 1
            costs.setdefault(case, []).append(summary.registry_requests)
    # A bump: the lookup (ping, 2 HEADs, the verifying GET) and the metadata notes (old index,
    # each build's platform manifest and config blob) make 9; the supply-chain notes 10 more
    # (see tests/supplychain/test_review.py). With the entry the gate makes the new digest's
    # reads first, and the notes find them cached: no request more.
    assert costs["bump"] == [19, 19]
    # A first pin: ping, the GET that resolves and verifies, its platform manifest and config
    # blob for the notes, and no supply-chain read without an entry; with one, the gate's 7
    # (attestation manifest, 2 statements, referrers API and tag, .sig tag and its payload),
    # which the notes then reuse.
    assert costs["pin"] == [4, 11]
