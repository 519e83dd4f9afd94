"""The bot's pull request notes carry the supply-chain lines for a digest bump (end to end)."""

from __future__ import annotations

from pathlib import Path

from pinbot.bot.run import run_bot
from pinbot.cli import build_parser
from pinbot.commands.run import run_options
from pinbot.config import Config, load_config
from pinbot.forge.github import Credentials
from tests.supplychain.support import unique
from tests.support.github_fake import GitHubFake
from tests.support.registry import RunningRegistry
from tests.support.supplychain import push_attested_index, slsa_v02


def test_a_bump_pull_request_says_what_changed_inside(
    fake: GitHubFake, registry_http: RunningRegistry, tmp_path: Path
) -> None:
    image = unique("bot-notes")
    old = push_attested_index(
        registry_http,
        image,
        "2.3",
        packages={"openssl": "3.0.13-r0", "zlib": "1.3-r0"},
        provenance=slsa_v02(commit="1" * 40),
        seed="old",
    )
    ref = registry_http.ref(image, "2.3")
    fake.create_repo("acme", "app", {"Dockerfile": f"FROM {ref}@{old.digest}\n".encode()})
    new = push_attested_index(
        registry_http,
        image,
        "2.3",
        packages={"openssl": "3.0.15-r0", "zlib": "1.3-r0"},
        provenance=slsa_v02(commit="2" * 40),
        seed="new",
    )
    path = tmp_path / "pinbot.yaml"
    path.write_text(f"registries:\n  {registry_http.host}:\n    insecure: true\n")
    config: Config = load_config(path)
    args = build_parser().parse_args(["run", "--repo", "acme/app", "--write-interval", "0"])
    summary = run_bot(config, Credentials(token=fake.token, api_url=fake.url), run_options(args))
    assert not summary.failures
    [pull] = fake.pulls("acme", "app")
    body = pull.body or ""
    assert new.digest in body
    assert (
        "- provenance: built from [`acme/api`](https://github.com/acme/api) commit "
        f"[`1111111`](https://github.com/acme/api/commit/{'1' * 40}) → "
        f"[`2222222`](https://github.com/acme/api/commit/{'2' * 40}) "
        f"([compare](https://github.com/acme/api/compare/{'1' * 40}...{'2' * 40}))\n"
    ) in body
    assert (
        "- packages (SPDX SBOM): `openssl` `3.0.13-r0` → `3.0.15-r0`; 1 package changed "
        "(1 updated)\n"
    ) in body
    assert "- signature: none found\n\n</details>" in body
