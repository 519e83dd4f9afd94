"""Tests for pinbot.config: defaults, every key, and errors that say file, line and key."""

from __future__ import annotations

import dataclasses
import textwrap
from pathlib import Path

import pytest

from pinbot.config import (
    Config,
    ConfigError,
    GithubConfig,
    PinConfig,
    PolicyConfig,
    RegistryConfig,
    ScanConfig,
    load_config,
)

REPO = Path(__file__).resolve().parents[2]


def write(tmp_path: Path, text: str, name: str = "pinbot.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def test_none_gives_defaults() -> None:
    config = load_config(None)
    assert config.source is None
    assert dict(config.registries) == {}
    assert config.scan == ScanConfig()
    assert config.pin == PinConfig(style="tag-digest", pin_untagged=False, helm_insert_digest=False)
    assert config.policy == PolicyConfig(allowed_registries=(), forbid_latest=True, require_pinned=True)
    assert config.github.labels == ("dependencies",)
    assert config.github.group == "repository"
    assert config.github.branch_prefix == "pinbot/"


@pytest.mark.parametrize("text", ["", "# only a comment\n", "---\n"])
def test_empty_file_gives_defaults(tmp_path: Path, text: str) -> None:
    path = write(tmp_path, text)
    config = load_config(path)
    assert config == Config(source=path)


def test_documented_defaults_file_matches_the_code() -> None:
    path = REPO / "config" / "pinbot.yaml"
    # Every key in the reference file is set to its default (that it lists every key is
    # tests/config/test_declarations.py's job).
    assert load_config(path) == Config(source=path)


def test_the_example_config_file_loads_with_its_registries_and_policy() -> None:
    path = REPO / "config" / "example.yaml"
    config = load_config(str(path))
    assert config.source == path
    internal = config.registry("registry.acme.internal:5000")
    assert internal.username_env and internal.password_env
    assert internal.token_env is None
    assert config.registry("ghcr.io").token_env
    assert config.registry("localhost:5000").insecure
    assert config.policy.allowed_registries
    assert config.github.group in ("repository", "image")


def test_every_key_is_read_into_its_field_as_a_plain_value(tmp_path: Path) -> None:
    (tmp_path / "certs").mkdir()
    ca = tmp_path / "certs" / "ca.pem"
    ca.write_text("-----BEGIN CERTIFICATE-----\n", encoding="utf-8")
    path = write(
        tmp_path,
        """
        registries:
          myreg.example:5000:
            insecure: true
            ca-file: certs/ca.pem
            username-env: MYREG_USER
            password-env: MYREG_PASSWORD
          ghcr.io:
            token-env: GHCR_TOKEN
          "[::1]:5000":
        scan:
          ignore-paths: ["vendor/*", "test/*"]
          ignore-images: ["*/internal-*"]
        pin:
          style: digest
          pin-untagged: true
          helm-insert-digest: true
        policy:
          allowed-registries: [docker.io, "*.example.com"]
          forbid-latest: false
          require-pinned: false
        github:
          labels: [deps, docker]
          reviewers: [alice]
          team-reviewers: [platform]
          assignees: [bob, carol]
          draft: true
          group: image
          branch-prefix: deps/
        """,
    )
    config = load_config(path)
    assert config.registries["myreg.example:5000"] == RegistryConfig(
        host="myreg.example:5000",
        insecure=True,
        ca_file=ca.resolve(),
        username_env="MYREG_USER",
        password_env="MYREG_PASSWORD",
    )
    assert config.registries["ghcr.io"] == RegistryConfig(host="ghcr.io", token_env="GHCR_TOKEN")
    assert config.registries["[::1]:5000"] == RegistryConfig(host="[::1]:5000")
    assert config.scan == ScanConfig(ignore_paths=("vendor/*", "test/*"), ignore_images=("*/internal-*",))
    assert config.pin == PinConfig(style="digest", pin_untagged=True, helm_insert_digest=True)
    assert config.policy == PolicyConfig(
        allowed_registries=("docker.io", "*.example.com"), forbid_latest=False, require_pinned=False
    )
    assert config.github == GithubConfig(
        labels=("deps", "docker"),
        reviewers=("alice",),
        team_reviewers=("platform",),
        assignees=("bob", "carol"),
        draft=True,
        group="image",
        branch_prefix="deps/",
    )
    # Plain str values, not YAML node subclasses that carry formatting.
    assert type(config.github.labels[0]) is str
    assert type(config.registries["ghcr.io"].token_env) is str


def test_ca_file_is_resolved_from_the_config_folder_not_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "conf"
    folder.mkdir()
    (folder / "ca.pem").write_text("x", encoding="utf-8")
    path = write(folder, "registries:\n  reg.example:\n    ca-file: ca.pem\n")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    config = load_config(Path("..") / "conf" / "pinbot.yaml")
    assert config.registry("reg.example").ca_file == (folder / "ca.pem").resolve()
    assert path.exists()


def test_registry_settings_match_the_host_in_any_case_with_its_port_and_docker_hub_aliases(
    tmp_path: Path
) -> None:
    path = write(
        tmp_path,
        """
        registries:
          Registry.Example.com:5000:
            insecure: true
          index.docker.io:
            token-env: HUB_TOKEN
        """,
    )
    config = load_config(path)
    assert config.registry("registry.example.com:5000").insecure
    assert config.registry("REGISTRY.example.com:5000").insecure
    # The port is part of the registry's identity.
    assert not config.registry("registry.example.com").insecure
    assert config.registry("registry.example.com") == RegistryConfig(host="registry.example.com")
    for hub in ("docker.io", "index.docker.io", "registry-1.docker.io"):
        assert config.registry(hub).token_env == "HUB_TOKEN"
    assert config.registry("quay.io") == RegistryConfig(host="quay.io")


def test_values_are_frozen() -> None:
    config = load_config(None)
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.pin = PinConfig()  # type: ignore[misc]
    with pytest.raises(TypeError):
        config.registries["x"] = RegistryConfig(host="x")  # type: ignore[index]


# (yaml text, line, key path, words of the problem)
ERRORS: list[tuple[str, int, str, str]] = [
    ("scan:\n  ignore-path: []\n", 2, "scan.ignore-path", "did you mean 'ignore-paths'"),
    ("pin:\n  pin_untagged: true\n", 2, "pin.pin_untagged", "did you mean 'pin-untagged'"),
    ("scans: {}\n", 1, "scans", "unknown key"),
    ("pin:\n  style: digest\n\n  draft: true\n", 4, "pin.draft", "unknown key"),
    ("pin:\n  style: sha\n", 2, "pin.style", "must be one of 'tag-digest', 'digest'"),
    ("github:\n  group: org\n", 2, "github.group", "must be one of 'repository', 'image'"),
    ("pin:\n  pin-untagged: yes\n", 2, "pin.pin-untagged", "must be true or false, not a string"),
    ("policy:\n  forbid-latest: 1\n", 2, "policy.forbid-latest", "must be true or false, not a number"),
    ("github:\n  draft:\n", 2, "github.draft", "must be true or false, not null"),
    ("github:\n  labels: deps\n", 2, "github.labels", "must be a list of strings, not a string"),
    ("github:\n  labels:\n    - a\n    - 3\n", 4, "github.labels[1]", "non-empty string, not a number"),
    ("github:\n  reviewers: ['']\n", 2, "github.reviewers[0]", "an empty string"),
    ("github:\n  branch-prefix: 'my branch/'\n", 2, "github.branch-prefix", "git branch name"),
    ("github:\n  branch-prefix: ''\n", 2, "github.branch-prefix", "non-empty string"),
    ("scan: [a]\n", 1, "scan", "must be a mapping, not a list"),
    ("- a\n- b\n", 1, "(top level)", "must be a mapping, not a list"),
    ("registries:\n  https://reg.example: {}\n", 2, "registries[https://reg.example]", "without scheme"),
    ("registries:\n  reg.example/path: {}\n", 2, "registries[reg.example/path]", "registry host"),
    ("registries:\n  reg.example: []\n", 2, "registries[reg.example]", "must be a mapping"),
    ("registries:\n  reg.example:\n    insecure: 'true'\n", 3, "registries[reg.example].insecure", "true or false"),
    ("registries:\n  docker.io: {}\n  index.docker.io: {}\n", 3, "registries[index.docker.io]", "same registry as 'docker.io'"),
    ("registries:\n  reg.example:\n    username-env: U\n", 3, "registries[reg.example].username-env", "needs password-env"),
    ("registries:\n  reg.example:\n    password-env: P\n", 3, "registries[reg.example].password-env", "needs username-env"),
    (
        "registries:\n  reg.example:\n    username-env: U\n    password-env: P\n    token-env: T\n",
        5,
        "registries[reg.example].token-env",
        "either token-env or username-env/password-env",
    ),
    ("registries:\n  reg.example:\n    ca-file: missing.pem\n", 3, "registries[reg.example].ca-file", "file not found"),
    ("registries:\n  reg.example:\n    token-env: 3\n", 3, "registries[reg.example].token-env", "not a number"),
    ("registries:\n  reg.example:\n    insecure: true\n    username: bob\n", 4, "registries[reg.example].username", "unknown key"),
    ("policy:\n  allowed-registries: [docker.io/library]\n", 2, "policy.allowed-registries[0]", "host glob"),
    ("github:\n  title-prefix: 3\n", 2, "github.title-prefix", "must be a string, not a number"),
    ('github:\n  title-prefix: "chore:\\n"\n', 2, "github.title-prefix", "one line of text"),
    ('github:\n  title-prefix: "a\\tb"\n', 2, "github.title-prefix", "control characters"),
    ("github:\n  max-open-pulls: -1\n", 2, "github.max-open-pulls", "must be 0 or more, not -1"),
    ("github:\n  max-open-pulls: true\n", 2, "github.max-open-pulls", "whole number, not a boolean"),
    ("github:\n  max-open-pulls: 2.5\n", 2, "github.max-open-pulls", "whole number, not a number"),
    ("github:\n  max-open-pulls: '5'\n", 2, "github.max-open-pulls", "whole number, not a string"),
    ("github:\n  max-open-pulls:\n", 2, "github.max-open-pulls", "whole number, not null"),
    ("pin:\n  style: digest\n  style: tag-digest\n", 3, "(yaml)", "duplicate key"),
    ("pin:\n  style: [digest\n", 3, "(yaml)", ""),
]


@pytest.mark.parametrize(("text", "line", "key", "problem"), ERRORS)
def test_errors_name_file_line_and_key(
    tmp_path: Path, text: str, line: int, key: str, problem: str
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    error = caught.value
    assert (error.file, error.line, error.key) == (str(path), line, key)
    assert problem in error.problem
    assert str(error) == f"{path}:{line}: {key}: {error.problem}"
    assert isinstance(error, ValueError)


SECRET = "s3cr3t-Value-9f8e7d"

# Secrets in the file, in several places and spellings.
SECRET_ERRORS: list[tuple[str, int, str]] = [
    (f"registries:\n  reg.example:\n    password: {SECRET}\n", 3, "registries[reg.example].password"),
    (f"registries:\n  reg.example:\n    token: {SECRET}\n", 3, "registries[reg.example].token"),
    (f"registries:\n  reg.example:\n    auth: {SECRET}\n", 3, "registries[reg.example].auth"),
    (f"registries:\n  reg.example:\n    api_key: {SECRET}\n", 3, "registries[reg.example].api_key"),
    (f"github:\n  token: {SECRET}\n", 2, "github.token"),
    (f"github_token: {SECRET}\n", 1, "github_token"),
    (f"credentials:\n  user: bob\n  secret: {SECRET}\n", 1, "credentials"),
    (f"registries:\n  reg.example:\n    password-env: '{SECRET}!'\n    username-env: U\n", 3, "registries[reg.example].password-env"),
    ("registries:\n  ghcr.io:\n    token-env: ghp_" + SECRET.replace("-", "") + "\n", 3, "registries[ghcr.io].token-env"),
    (f"pin:\n  style: digest\n  style: {SECRET}\n", 3, "(yaml)"),
]


@pytest.mark.parametrize(("text", "line", "key"), SECRET_ERRORS)
def test_secrets_are_refused_and_never_echoed(
    tmp_path: Path, text: str, line: int, key: str
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert (caught.value.line, caught.value.key) == (line, key)
    assert SECRET not in str(caught.value)
    assert SECRET.replace("-", "") not in str(caught.value)
    assert caught.value.__cause__ is None


def test_credential_key_message_points_at_env_keys(tmp_path: Path) -> None:
    path = write(tmp_path, "registries:\n  reg.example:\n    password: hunter2\n")
    with pytest.raises(ConfigError, match="password-env"):
        load_config(path)


def test_missing_file_is_an_os_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        load_config(tmp_path / "absent.yaml")


def test_a_file_that_is_not_utf8_is_an_error_at_its_line(tmp_path: Path) -> None:
    path = tmp_path / "pinbot.yaml"
    path.write_bytes(b"pin:\n  style: \xff\n")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert caught.value.line == 2
    assert "UTF-8" in caught.value.problem


def test_anchors_are_followed_an_empty_section_is_the_defaults_and_an_empty_list_none(
    tmp_path: Path
) -> None:
    path = write(
        tmp_path,
        """
        scan:
        github:
          reviewers: &people [alice, bob]
          assignees: *people
          labels:
        """,
    )
    config = load_config(path)
    assert config.scan == ScanConfig()
    assert config.github.reviewers == ("alice", "bob") == config.github.assignees
    # An empty list key means "none", not the default.
    assert config.github.labels == ()


def test_title_prefix_and_max_open_pulls_are_read_and_a_null_prefix_means_none(
    tmp_path: Path
) -> None:
    assert load_config(None).github.title_prefix == ""
    assert load_config(None).github.max_open_pulls == 10
    path = write(
        tmp_path,
        """
        github:
          title-prefix: "chore(deps): "
          max-open-pulls: 0
        """,
    )
    github = load_config(path).github
    assert (github.title_prefix, github.max_open_pulls) == ("chore(deps): ", 0)
    assert type(github.title_prefix) is str
    # Null, like an empty string, means no prefix.
    assert load_config(write(tmp_path, "github:\n  title-prefix:\n")).github.title_prefix == ""
    assert load_config(write(tmp_path, "github:\n  title-prefix: ''\n")).github.title_prefix == ""
