"""Keys declared for the settle window, platforms, per-image rules, automerge and the trust gate:
those pinbot does not act on yet are refused, and all are read and checked for the code."""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from pinbot.config import (
    REPOSITORY_KEYS,
    Config,
    ConfigError,
    GithubConfig,
    PinConfig,
    Rule,
    Verification,
    load_config_text,
    load_repository_config,
)
from pinbot.config._tables import Table, key
from pinbot.config._values import Boolean, Place, format_duration, parse_duration
from pinbot.reference import parse

REPO = Path(__file__).resolve().parents[2]


def read(text: str, base_dir: Path | None = None) -> Config:
    return load_config_text(
        textwrap.dedent(text).lstrip("\n"), "pinbot.yaml", base_dir=base_dir, accept_planned=True
    )


# --- refused until acted on ---------------------------------------------------------------


@dataclass(frozen=True)
class _Coming:
    """A section with a key declared for a coming release (every key of `Config` is acted on
    now, so the machinery is proved on a schema of its own)."""

    ready: bool = key(Boolean(), False, "acted on")
    soon: bool = key(Boolean(), False, "not acted on yet", planned=True)


def _read_coming(text: str, accept_planned: bool = False) -> _Coming:
    at = Place("pinbot.yaml", "", 1, REPO, accept_planned=accept_planned)
    return Table(_Coming).read(YAML(typ="rt").load(text), at, _Coming())


def test_a_key_not_acted_on_yet_is_refused_not_ignored() -> None:
    with pytest.raises(ConfigError) as caught:
        _read_coming("ready: true\nsoon: true\n")
    assert (caught.value.line, caught.value.key) == (2, "soon")
    assert "not acted on yet" in caught.value.problem
    # Read for the code that wires it, the same text is accepted.
    assert _read_coming("soon: true\n", accept_planned=True) == _Coming(soon=True)


def test_a_key_not_acted_on_yet_at_its_default_is_accepted() -> None:
    assert _read_coming("soon: false\n") == _Coming()
    text = (
        "pin:\n  min-age: 0s\n  min-age-first-pin: false\n  platforms: []\n"
        "rules: []\nverify:\n"
    )
    assert load_config_text(text, "x") == Config()


# --- durations ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("72h", timedelta(hours=72)),
        ("3d", timedelta(days=3)),
        ("1d12h", timedelta(days=1, hours=12)),
        ("90m", timedelta(minutes=90)),
        ("2w", timedelta(weeks=2)),
        ("0s", timedelta()),
        ("0", timedelta()),
    ],
)
def test_min_age_is_a_duration(text: str, expected: timedelta) -> None:
    assert read(f"pin:\n  min-age: {text}\n").pin.min_age == expected


@pytest.mark.parametrize("text", ["3", "'3'", "3 days", "-1d", "1.5d", "''", "3D", "d", "true", "[3d]"])
def test_a_duration_without_a_unit_or_with_a_wrong_one_is_refused(text: str) -> None:
    with pytest.raises(ConfigError) as caught:
        read(f"pin:\n  min-age: {text}\n")
    assert (caught.value.line, caught.value.key) == (2, "pin.min-age")
    assert "must be a duration such as 72h, 3d or 0s" in caught.value.problem


@pytest.mark.parametrize("value", [timedelta(), timedelta(days=3), timedelta(days=1, hours=12, seconds=5)])
def test_durations_are_written_as_they_read_back(value: timedelta) -> None:
    assert parse_duration(format_duration(value)) == value


# --- pin and github keys ------------------------------------------------------------------


def test_min_age_platforms_automerge_and_merge_method_are_read_and_default_off() -> None:
    config = read(
        """
        pin:
          min-age: 3d
          min-age-first-pin: true
          platforms: [linux/amd64, linux/arm64/v8]
        github:
          automerge: true
          merge-method: rebase
        """
    )
    assert config.pin == PinConfig(
        min_age=timedelta(days=3),
        min_age_first_pin=True,
        platforms=("linux/amd64", "linux/arm64/v8"),
    )
    assert config.github == GithubConfig(automerge=True, merge_method="rebase")
    assert Config().pin.min_age == timedelta() and Config().github.merge_method == "squash"


@pytest.mark.parametrize(
    ("text", "line", "key", "problem"),
    [
        ("pin:\n  platforms: [linux]\n", 2, "pin.platforms[0]", "OS/ARCH[/VARIANT]"),
        ("pin:\n  platforms:\n    - linux/amd64\n    - Linux/ARM64\n", 4, "pin.platforms[1]", "lower case"),
        ("pin:\n  platforms: [linux/arm64/v8/x]\n", 2, "pin.platforms[0]", "OS/ARCH[/VARIANT]"),
        ("pin:\n  platforms: linux/amd64\n", 2, "pin.platforms", "must be a list of strings"),
        ("github:\n  merge-method: fast-forward\n", 2, "github.merge-method", "one of 'squash', 'merge', 'rebase'"),
        ("github:\n  automerge: yes\n", 2, "github.automerge", "true or false"),
    ],
)
def test_a_bad_platform_merge_method_or_automerge_value_names_its_line_and_key(
    text: str, line: int, key: str, problem: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        read(text)
    assert (caught.value.line, caught.value.key) == (line, key)
    assert problem in caught.value.problem


# --- rules --------------------------------------------------------------------------------

RULES = """
rules:
  - images: ["registry.acme.example/*"]
    paths: ["deploy/**"]
    automerge: true
    min-age: 0s
    group: base-images
  - images: ["nginx", "*/internal-*"]
    ignore: true
  - images: ["*"]
    min-age: 3d
    platforms: [linux/amd64]
    labels: [third-party]
    reviewers: []
"""


def test_rules_are_read_in_order_and_keys_left_out_are_none() -> None:
    rules = read(RULES).rules
    assert rules == (
        Rule(
            images=("registry.acme.example/*",),
            paths=("deploy/**",),
            automerge=True,
            min_age=timedelta(),
            group="base-images",
        ),
        Rule(images=("nginx", "*/internal-*"), ignore=True),
        Rule(
            images=("*",),
            min_age=timedelta(days=3),
            platforms=("linux/amd64",),
            labels=("third-party",),
            reviewers=(),
        ),
    )
    # Left out: the global key applies (None); an empty list given: none (not the global).
    assert rules[0].labels is None and rules[2].reviewers == ()
    assert Rule().images == ("*",)


@pytest.mark.parametrize(
    ("reference", "path", "index"),
    [
        ("registry.acme.example/base/python:3.12", "deploy/api/Dockerfile", 0),
        ("registry.acme.example/base/python:3.12", "Dockerfile", 2),  # outside deploy/
        ("nginx:1.27", "deploy/web.yaml", 1),  # the familiar name
        ("docker.io/library/nginx:1.27@sha256:" + "a" * 64, "compose.yaml", 1),
        ("ghcr.io/acme/internal-tools:2", "ci.yml", 1),
        ("quay.io/prometheus/node-exporter:v1", "k8s/ds.yaml", 2),
    ],
)
def test_the_first_matching_rule_wins(reference: str, path: str, index: int) -> None:
    config = read(RULES)
    assert config.rule_for(parse(reference), path) is config.rules[index]


def test_no_rule_means_the_global_keys() -> None:
    config = read("rules:\n  - images: ['ghcr.io/*']\n    paths: ['deploy/*']\n")
    assert config.rule_for(parse("ghcr.io/a/b:1"), "src/Dockerfile") is None
    assert config.rule_for(parse("nginx:1"), "deploy/x.yaml") is None
    assert Config().rule_for(parse("nginx:1"), "Dockerfile") is None


@pytest.mark.parametrize(
    ("text", "line", "key", "problem"),
    [
        ("rules:\n  - images: ['*']\n  - imagez: ['x']\n", 3, "rules[1].imagez", "did you mean 'images'"),
        ("rules:\n  - images: []\n", 2, "rules[0].images", "at least 1"),
        ("rules:\n  - images: ['*']\n    group: 'my group'\n", 3, "rules[0].group", "group name"),
        ("rules:\n  - images: ['*']\n    group: a..b\n", 3, "rules[0].group", "group name"),
        ("rules:\n  - images: ['*']\n    min-age: soon\n", 3, "rules[0].min-age", "duration"),
        ("rules:\n  - images: ['*']\n    automerge: 'yes'\n", 3, "rules[0].automerge", "true or false"),
        ("rules:\n  - images: ['*']\n    platforms: [amd64]\n", 3, "rules[0].platforms[0]", "OS/ARCH"),
        ("rules:\n  -\n", 2, "rules[0]", "must be a mapping, not null"),
        ("rules:\n  images: ['*']\n", 1, "rules", "must be a list of mappings, not a mapping"),
        ("rules:\n  - images: ['*']\n    token: abc\n", 3, "rules[0].token", "looks like a credential"),
    ],
)
def test_rule_errors_name_the_rule_and_key(text: str, line: int, key: str, problem: str) -> None:
    with pytest.raises(ConfigError) as caught:
        read(text)
    assert (caught.value.line, caught.value.key) == (line, key)
    assert problem in caught.value.problem


def test_a_repository_may_set_rules_which_replace_the_runs() -> None:
    assert "rules" in REPOSITORY_KEYS
    assert "images" in REPOSITORY_KEYS["rules"]
    run = read(RULES)
    settings = load_repository_config(
        "rules:\n  - images: ['*']\n    labels: [base]\n    automerge: false\n",
        ".github/pinbot.yaml",
        run,
        accept_planned=True,
    )
    assert settings.config.rules == (Rule(labels=("base",), automerge=False),)


# --- verify -------------------------------------------------------------------------------


@pytest.fixture
def key_file(tmp_path: Path) -> Path:
    path = tmp_path / "keys" / "cosign.pub"
    path.parent.mkdir()
    path.write_text("-----BEGIN PUBLIC KEY-----\n", encoding="utf-8")
    return path


def test_verify_entries_with_a_key_relative_to_the_config_file(key_file: Path, tmp_path: Path) -> None:
    config = read(
        """
        verify:
          - images: ["ghcr.io/acme/*"]
            require: [signature]
            key: keys/cosign.pub
          - images: ["quay.io/acme/*"]
            require: [signature, provenance]
            identity: "^https://github.com/acme/.+/.github/workflows/release.yml@refs/tags/.+$"
            issuer: https://token.actions.githubusercontent.com
            source: https://github.com/acme/*
        """,
        base_dir=tmp_path,
    )
    first, second = config.verify
    assert first == Verification(
        images=("ghcr.io/acme/*",), require=("signature",), public_key=key_file.resolve()
    )
    assert second.require == ("signature", "provenance") and second.public_key is None
    assert second.issuer == "https://token.actions.githubusercontent.com"
    assert config.verification_for(parse("ghcr.io/acme/api:1")) is first
    assert config.verification_for(parse("quay.io/acme/api:1")) is second
    assert config.verification_for(parse("nginx:1")) is None


def test_a_key_is_resolved_from_the_config_files_folder(key_file: Path, tmp_path: Path) -> None:
    path = tmp_path / "pinbot.yaml"
    path.write_text(
        "verify:\n  - images: ['*']\n    require: [signature]\n    key: keys/cosign.pub\n",
        encoding="utf-8",
    )
    config = load_config_text(path.read_text(), str(path), base_dir=tmp_path, accept_planned=True)
    assert config.verify[0].public_key == key_file.resolve()


@pytest.mark.parametrize(
    ("entry", "line", "key", "problem"),
    [
        ("    require: [signature]\n    key: keys/cosign.pub\n", 2, "verify[0]", "needs the key 'images'"),
        ("    images: ['*']\n", 2, "verify[0]", "needs the key 'require'"),
        ("    images: ['*']\n    require: []\n", 3, "verify[0].require", "at least 1"),
        ("    images: ['*']\n    require: [signed]\n", 3, "verify[0].require[0]", "one of 'signature', 'provenance', not 'signed'"),
        ("    images: ['*']\n    require: [signature]\n", 3, "verify[0].require", "needs key"),
        ("    images: ['*']\n    require: [signature]\n    key: keys/none.pub\n", 4, "verify[0].key", "file not found"),
        (
            "    images: ['*']\n    require: [signature]\n    key: keys/cosign.pub\n    identity: a\n    issuer: b\n",
            5, "verify[0].identity", "either key or identity/issuer",
        ),
        ("    images: ['*']\n    require: [signature]\n    identity: me@acme.example\n", 4, "verify[0].identity", "needs issuer"),
        ("    images: ['*']\n    require: [signature]\n    issuer: https://x\n", 4, "verify[0].issuer", "needs identity"),
        ("    images: ['*']\n    require: [signature]\n    identity: '^(a'\n    issuer: b\n", 4, "verify[0].identity", "regular expression"),
        ("    images: ['*']\n    require: [signature]\n    key: keys/cosign.pub\n    source: x\n", 5, "verify[0].source", "provenance"),
        ("    images: ['*']\n    require: [provenance]\n    keyfile: x\n", 4, "verify[0].keyfile", "did you mean 'key'"),
    ],
)
def test_verify_errors_name_the_entry_and_key(
    key_file: Path, tmp_path: Path, entry: str, line: int, key: str, problem: str
) -> None:
    text = "verify:\n  - " + entry[4:]
    with pytest.raises(ConfigError) as caught:
        read(text, base_dir=tmp_path)
    assert (caught.value.line, caught.value.key) == (line, key)
    assert problem in caught.value.problem


def test_only_the_run_sets_what_digests_must_carry() -> None:
    assert "verify" not in REPOSITORY_KEYS
    with pytest.raises(ConfigError) as caught:
        load_repository_config(
            "verify:\n  - images: ['*']\n    require: [provenance]\n",
            ".github/pinbot.yaml",
            Config(),
            accept_planned=True,
        )
    assert (caught.value.line, caught.value.key) == (1, "verify")
    assert "configuration of the run" in caught.value.problem


def test_the_reference_files_commented_examples_are_valid(tmp_path: Path) -> None:
    """The examples under `rules:` and `verify:` in config/pinbot.yaml read as they say."""
    text = (REPO / "config" / "pinbot.yaml").read_text(encoding="utf-8")
    for name in ("rules", "verify"):
        block = re.search(rf"^{name}: \[\]\n((?:#.*\n)+)", text, re.MULTILINE)
        assert block is not None, name
        example = f"{name}:\n" + "".join(line[1:] + "\n" for line in block.group(1).splitlines())
        (tmp_path / "keys").mkdir(exist_ok=True)
        (tmp_path / "keys" / "cosign.pub").write_text("x", encoding="utf-8")
        # The verify example shows key and identity as alternatives: one at a time.
        if name == "verify":
            example = re.sub(r"(?m)^ +(identity|issuer):.*\n", "", example)
        config = load_config_text(example, "example", base_dir=tmp_path, accept_planned=True)
        assert getattr(config, name)
