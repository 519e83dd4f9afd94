"""The configuration's sections as frozen values, each field declared once as a key.

A new key is one ``key(...)`` line in its section below; the reader, the errors, what a
repository's file may set and the documentation checks all follow from it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Literal, get_args

from pinbot.config._tables import HostTable, Table, TableAt, key
from pinbot.config._values import (
    Boolean,
    Choice,
    Count,
    EnvName,
    ExistingFile,
    OneLine,
    Strings,
    Text,
)
from pinbot.reference import (
    DEFAULT_DOMAIN,
    DOCKER_HUB_REGISTRY,
    LEGACY_DEFAULT_DOMAIN,
    is_valid_domain,
)

PinStyle = Literal["tag-digest", "digest"]
PrGroup = Literal["repository", "image"]


def _registry_key(host: str) -> str:
    """The form two spellings of one registry host share (Docker Hub has three)."""
    host = host.lower()
    if host in (LEGACY_DEFAULT_DOMAIN, DOCKER_HUB_REGISTRY):
        return DEFAULT_DOMAIN
    return host


def _host_problem(host: str) -> str | None:
    if "://" in host or "/" in host or not is_valid_domain(host):
        return (
            "must be a registry host with optional port (e.g. registry.example.com:5000), "
            "without scheme or path"
        )
    return None


@dataclass(frozen=True)
class RegistryConfig:
    """How to reach one registry. Credentials are names of environment variables only."""

    host: str
    insecure: bool = key(Boolean(), False, "plain HTTP for this registry")
    ca_file: Path | None = key(
        ExistingFile(), None, "extra CA (PEM) to trust for this registry, relative to the config file"
    )
    username_env: str | None = key(
        EnvName(), None, "name of the environment variable holding the Basic user name"
    )
    password_env: str | None = key(
        EnvName(), None, "name of the environment variable holding the Basic password"
    )
    token_env: str | None = key(
        EnvName(),
        None,
        "name of an environment variable holding an access token (GHCR, GitLab, Quay, "
        "Docker Hub PATs), sent as the password to the registry's token service",
    )


def _check_credentials(entry: RegistryConfig, table: TableAt) -> None:
    """Either a token or a user name and password, never half of a pair or both kinds."""
    if entry.token_env and (entry.username_env or entry.password_env):
        other = "username-env" if entry.username_env else "password-env"
        raise table.place("token-env").error(
            f"give either token-env or username-env/password-env, not both (see {other})"
        )
    if bool(entry.username_env) != bool(entry.password_env):
        present, missing = (
            ("username-env", "password-env")
            if entry.username_env
            else ("password-env", "username-env")
        )
        raise table.place(present).error(f"{present} needs {missing} too")


@dataclass(frozen=True)
class ScanConfig:
    """What the scanners skip: path globs (relative to the root) and image globs."""

    ignore_paths: tuple[str, ...] = key(
        Strings(), (), "fnmatch globs of files to skip, relative to the repository root"
    )
    ignore_images: tuple[str, ...] = key(
        Strings(),
        (),
        "fnmatch globs of images to skip (matched against the name, the familiar name and the "
        "reference as written)",
    )


@dataclass(frozen=True)
class PinConfig:
    """How references are written when pinned."""

    style: PinStyle = key(
        Choice(get_args(PinStyle)),
        "tag-digest",
        "`tag-digest` (`nginx:1.27@sha256:…`) or `digest` (`nginx@sha256:…`)",
    )
    pin_untagged: bool = key(
        Boolean(), False, "also pin references with no tag (written as `:latest@sha256:…`)"
    )
    helm_insert_digest: bool = key(
        Boolean(), False, "add a `digest:` key to Helm image maps that have none"
    )


def _registry_glob_problem(pattern: str) -> str | None:
    if "/" in pattern:
        return "must be a registry host glob (e.g. *.example.com), without scheme or path"
    return None


@dataclass(frozen=True)
class PolicyConfig:
    """What `check` and `audit` report as violations."""

    allowed_registries: tuple[str, ...] = key(
        Strings(check=_registry_glob_problem),
        (),
        "registry host globs images may come from (empty: all)",
    )
    forbid_latest: bool = key(
        Boolean(), True, "report references with no tag or `latest` (rule `latest-tag`)"
    )
    require_pinned: bool = key(
        Boolean(), True, "report references not pinned by digest (rule `unpinned`)"
    )


# Characters git refuses in branch names (git check-ref-format).
_BAD_BRANCH = re.compile(r"[\x00-\x20\x7f~^:?*\[\\]|\.\.|@\{|//|^/|^-")


def _branch_prefix_problem(prefix: str) -> str | None:
    if _BAD_BRANCH.search(prefix):
        return (
            "must be usable in a git branch name (no spaces, '..', '~', '^', ':', '?', '*', "
            "'[', '\\', '//', and not starting with '/' or '-')"
        )
    return None


@dataclass(frozen=True)
class GithubConfig:
    """How pull requests are opened."""

    labels: tuple[str, ...] = key(
        Strings(), ("dependencies",), "labels on pull requests (created when missing)"
    )
    reviewers: tuple[str, ...] = key(Strings(), (), "users asked to review")
    team_reviewers: tuple[str, ...] = key(
        Strings(), (), "teams asked to review (slugs, without the organisation)"
    )
    assignees: tuple[str, ...] = key(Strings(), (), "users pull requests are assigned to")
    draft: bool = key(Boolean(), False, "open pull requests as drafts")
    group: PrGroup = key(
        Choice(get_args(PrGroup)),
        "repository",
        "one pull request per `repository` or per `image`",
    )
    branch_prefix: str = key(
        Text(check=_branch_prefix_problem),
        "pinbot/",
        "start of the branch names pinbot pushes",
        operator_only=True,
    )
    title_prefix: str = key(
        OneLine(),
        "",
        'put before pull request titles and commit subjects, e.g. `"chore(deps): "`',
    )
    max_open_pulls: int = key(
        Count(),
        10,
        "pinbot pull requests open at once per repository (0: no limit); new ones beyond it "
        "wait for a later run",
    )


_REGISTRIES = HostTable(
    Table(RegistryConfig, check=_check_credentials),
    check_name=_host_problem,
    same=_registry_key,
    entry=lambda host: RegistryConfig(host=host.lower()),
)


@dataclass(frozen=True)
class Config:
    """The whole configuration; :func:`pinbot.config.load_config` builds it."""

    registries: Mapping[str, RegistryConfig] = key(
        _REGISTRIES,
        MappingProxyType({}),
        "registries that need more than the defaults, keyed by `host[:port]` as references "
        "spell it; a file's mapping replaces the one it is read over",
        operator_only=True,
    )
    scan: ScanConfig = key(Table(ScanConfig), ScanConfig(), "what the scanners skip")
    pin: PinConfig = key(Table(PinConfig), PinConfig(), "how references are pinned")
    policy: PolicyConfig = key(
        Table(PolicyConfig), PolicyConfig(), "what `check` and `audit` report"
    )
    github: GithubConfig = key(
        Table(GithubConfig), GithubConfig(), "how pull requests are opened"
    )
    source: Path | None = None

    def registry(self, host: str) -> RegistryConfig:
        """The entry for ``host[:port]`` (case-insensitive, Docker Hub aliases merged),
        or a default entry when the file has none."""
        wanted = _registry_key(host)
        for name, entry in self.registries.items():
            if _registry_key(name) == wanted:
                return entry
        return RegistryConfig(host=host)


@dataclass(frozen=True)
class RepositoryConfig:
    """A repository's settings file merged over the run's configuration.

    ``enabled`` is false when the file asks pinbot to leave the repository alone;
    ``source`` names the file (``None`` when the repository has none).
    """

    config: Config
    enabled: bool = key(
        Boolean(), True, "`false`: pinbot leaves the repository alone (a repository's file only)"
    )
    source: str | None = None
