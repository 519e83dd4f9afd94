"""A repository's own settings file merged over the run's configuration, and choosing it."""

from __future__ import annotations

import textwrap
from dataclasses import replace
from pathlib import Path

import pytest

from pinbot.bot import SETTINGS_FILES, lookup_pin, settings_file
from pinbot.config import (
    REPOSITORY_KEYS,
    Config,
    ConfigError,
    GithubConfig,
    PinConfig,
    RepositoryConfig,
    ScanConfig,
    load_config,
    load_config_text,
    load_repository_config,
)

FILE = ".github/pinbot.yaml"


@pytest.fixture
def run_config(tmp_path: Path) -> Config:
    """An operator's configuration with a registry, lists and a branch prefix of its own."""
    path = tmp_path / "pinbot.yaml"
    path.write_text(
        textwrap.dedent(
            """
            registries:
              registry.acme.internal:5000:
                token-env: ACME_TOKEN
            scan:
              ignore-paths: ["vendor/*"]
              ignore-images: ["*:local"]
            github:
              labels: [dependencies, images]
              reviewers: [octo]
              branch-prefix: deps/
            """
        ),
        encoding="utf-8",
    )
    return load_config(path)


def repository(text: str, base: Config) -> RepositoryConfig:
    return load_repository_config(textwrap.dedent(text).lstrip("\n"), FILE, base)


def test_no_keys_keep_the_run_configuration(run_config: Config) -> None:
    for text in ("", "# nothing\n", "---\n", "scan:\ngithub:\n"):
        settings = repository(text, run_config)
        assert settings == RepositoryConfig(run_config, enabled=True, source=FILE)


def test_keys_set_in_the_file_are_merged_over_the_run_configuration(run_config: Config) -> None:
    settings = repository(
        """
        pin:
          style: digest
        github:
          labels: [deps]
          draft: true
        """,
        run_config,
    )
    config = settings.config
    assert settings.enabled
    assert config.pin == PinConfig(style="digest")
    assert config.github == GithubConfig(
        labels=("deps",), reviewers=("octo",), draft=True, branch_prefix="deps/"
    )
    # What the file leaves out is the run's, registries included.
    assert config.scan == run_config.scan
    assert config.registries == run_config.registries
    assert config.registry("registry.acme.internal:5000").token_env == "ACME_TOKEN"
    assert config.source == run_config.source
    # The run's configuration itself is untouched.
    assert run_config.github.labels == ("dependencies", "images")


def test_a_repository_sets_its_own_title_prefix_and_open_pull_limit(run_config: Config) -> None:
    config = repository(
        """
        github:
          title-prefix: "build(deps): "
          max-open-pulls: 3
        """,
        run_config,
    ).config
    assert config.github == GithubConfig(
        labels=("dependencies", "images"),
        reviewers=("octo",),
        branch_prefix="deps/",
        title_prefix="build(deps): ",
        max_open_pulls=3,
    )
    with pytest.raises(ConfigError) as caught:
        repository("github:\n  max-open-pulls: -2\n", run_config)
    assert (caught.value.line, caught.value.key) == (2, "github.max-open-pulls")


def test_lists_replace_and_do_not_append(run_config: Config) -> None:
    config = repository(
        """
        scan:
          ignore-paths: ["docs/*"]
          ignore-images: []
        github:
          reviewers:
        """,
        run_config,
    ).config
    assert config.scan == ScanConfig(ignore_paths=("docs/*",), ignore_images=())
    assert config.github.reviewers == ()
    assert config.github.labels == ("dependencies", "images")


@pytest.mark.parametrize(
    ("text", "enabled"),
    [("enabled: false\n", False), ("enabled: true\n", True), ("pin: {}\n", True)],
)
def test_enabled_false_turns_a_repository_off_and_anything_else_leaves_it_on(
    run_config: Config, text: str, enabled: bool
) -> None:
    assert repository(text, run_config).enabled is enabled


# (file text, line, key path, words of the problem)
REFUSED: list[tuple[str, int, str, str]] = [
    (
        "pin:\n  style: digest\nregistries:\n  evil.example:\n    insecure: true\n",
        3,
        "registries",
        "set only by the configuration of the run",
    ),
    ("github:\n  labels: [x]\n  branch-prefix: mine/\n", 3, "github.branch-prefix", "configuration of the run"),
    ("github:\n  branch_prefix: mine/\n", 2, "github.branch_prefix", "unknown key"),
    ("pin:\n  stlye: digest\n", 2, "pin.stlye", "did you mean 'style'"),
    ("enable: false\n", 1, "enable", "did you mean 'enabled'"),
    ("enabled: no\n", 1, "enabled", "must be true or false, not a string"),
    ("github:\n  labels: deps\n", 2, "github.labels", "must be a list of strings"),
    ("pin:\n  style: [digest\n", 3, "(yaml)", ""),
    ("pin: style: digest\n", 1, "(yaml)", ""),
    ("- enabled: false\n", 1, "(top level)", "must be a mapping"),
]


@pytest.mark.parametrize(("text", "line", "key", "problem"), REFUSED)
def test_errors_name_the_file_line_and_key(
    run_config: Config, text: str, line: int, key: str, problem: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        load_repository_config(text, FILE, run_config)
    error = caught.value
    assert (error.file, error.line, error.key) == (FILE, line, key)
    assert problem in error.problem
    assert str(error).startswith(f"{FILE}:{line}: {key}: ")


def test_unknown_key_lists_only_what_a_repository_may_set(run_config: Config) -> None:
    with pytest.raises(ConfigError) as caught:
        load_repository_config("github:\n  colour: red\n", FILE, run_config)
    problem = caught.value.problem
    assert "known keys: " + ", ".join(REPOSITORY_KEYS["github"]) in problem
    assert "branch-prefix" not in problem


def test_a_secret_in_the_file_is_never_echoed(run_config: Config) -> None:
    secret = "ghp_0123456789abcdefghijklmnopqrstuvwxyz"
    for text in (
        f"registries:\n  ghcr.io:\n    password: {secret}\n",
        f"github:\n  token: {secret}\n",
        f"pin:\n  style: digest\n  style: {secret}\n",
    ):
        with pytest.raises(ConfigError) as caught:
            load_repository_config(text, FILE, run_config)
        assert secret not in str(caught.value)


def test_a_settings_file_that_is_not_utf8_is_an_error_at_its_line(run_config: Config) -> None:
    with pytest.raises(ConfigError) as caught:
        load_repository_config(b"pin:\n  style: \xff\n", FILE, run_config)
    assert (caught.value.line, caught.value.key) == (2, "(file)")


def test_config_text_is_read_merged_over_a_base_and_refuses_keys_outside_what_is_allowed(
    run_config: Config, tmp_path: Path
) -> None:
    assert load_config_text("pin:\n  style: digest\n", "inline").pin.style == "digest"
    assert load_config_text("", "inline") == Config()
    merged = load_config_text("scan:\n  ignore-images: [x]\n", "inline", run_config)
    assert merged.scan == ScanConfig(ignore_paths=("vendor/*",), ignore_images=("x",))
    (tmp_path / "ca.pem").write_text("x", encoding="utf-8")
    text = "registries:\n  reg.example:\n    ca-file: ca.pem\n"
    loaded = load_config_text(text, "inline", base_dir=tmp_path)
    assert loaded.registry("reg.example").ca_file == (tmp_path / "ca.pem").resolve()
    with pytest.raises(ConfigError) as caught:
        load_config_text(text, "inline", allowed_sections={"pin": ("style",)})
    assert (caught.value.line, caught.value.key) == (1, "registries")
    assert "not allowed" in caught.value.problem
    with pytest.raises(ConfigError) as caught:
        load_config_text("pin:\n  pin-untagged: true\n", "x", allowed_sections={"pin": ("style",)})
    assert (caught.value.line, caught.value.key) == (2, "pin.pin-untagged")


@pytest.mark.parametrize(
    ("paths", "chosen", "warnings"),
    [
        (["Dockerfile"], None, []),
        ([".pinbot.yaml", "Dockerfile"], ".pinbot.yaml", []),
        ([".github/pinbot.yaml"], ".github/pinbot.yaml", []),
        (
            [".pinbot.yaml", ".github/pinbot.yaml"],
            ".github/pinbot.yaml",
            [".pinbot.yaml: not read, .github/pinbot.yaml comes first"],
        ),
        (["sub/.pinbot.yaml", ".github/pinbot.yml"], None, []),
    ],
)
def test_settings_file_first_found_wins(
    paths: list[str], chosen: str | None, warnings: list[str]
) -> None:
    assert settings_file(paths) == (chosen, warnings)
    assert chosen is None or chosen in SETTINGS_FILES


@pytest.mark.parametrize(
    ("run", "repositories", "expected"),
    [
        (PinConfig(), [], PinConfig()),
        (PinConfig(style="digest"), [PinConfig()], PinConfig(style="digest")),
        (PinConfig(), [PinConfig(pin_untagged=True)], PinConfig(pin_untagged=True)),
        (
            PinConfig(),
            [PinConfig(helm_insert_digest=True), PinConfig(style="digest")],
            PinConfig(helm_insert_digest=True),
        ),
        (PinConfig(pin_untagged=True), [PinConfig()], PinConfig(pin_untagged=True)),
    ],
)
def test_shared_lookups_cover_every_repository(
    run: PinConfig, repositories: list[PinConfig], expected: PinConfig
) -> None:
    assert lookup_pin(run, repositories) == expected


# --- automerge: a repository's file turns it off, and on only when the run allows it -------


@pytest.mark.parametrize(
    ("text", "line", "key"),
    [
        ("github:\n  automerge: true\n", 2, "github.automerge"),
        ("github:\n  labels: [deps]\n  automerge-first-pin: true\n", 3, "github.automerge-first-pin"),
        ("rules:\n  - images: [nginx]\n  - images: ['*']\n    automerge: true\n", 4, "rules[1].automerge"),
        ("rules:\n  - automerge-first-pin: true\n", 2, "rules[0].automerge-first-pin"),
    ],
)
def test_a_repository_cannot_turn_automerge_on_unless_the_run_allows_it(
    run_config: Config, text: str, line: int, key: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        repository(text, run_config)
    assert (caught.value.file, caught.value.line, caught.value.key) == (FILE, line, key)
    assert "github.automerge-allowed" in caught.value.problem
    allowed = replace(run_config, github=replace(run_config.github, automerge_allowed=True))
    assert repository(text, allowed).config != allowed


def test_a_repository_may_always_turn_automerge_off(run_config: Config) -> None:
    base = replace(run_config, github=replace(run_config.github, automerge=True))
    text = "github:\n  automerge: false\nrules:\n  - images: [nginx]\n    automerge: false\n"
    settings = repository(text, base)
    assert settings.config.github.automerge is False
    assert [rule.automerge for rule in settings.config.rules] == [False]


def test_only_the_run_configuration_allows_automerge_in_repositories(run_config: Config) -> None:
    with pytest.raises(ConfigError) as caught:
        repository("github:\n  automerge-allowed: true\n", run_config)
    assert (caught.value.line, caught.value.key) == (2, "github.automerge-allowed")
    assert "not by a repository's file" in caught.value.problem
