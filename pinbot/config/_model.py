"""The configuration's sections as frozen values, each field declared once as a key.

A new key is one ``key(...)`` line in its section below; the reader, the errors, what a
repository's file may set and the documentation checks all follow from it.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from types import MappingProxyType
from typing import Literal, get_args

from pinbot.config._tables import HostTable, Table, TableAt, TableList, key
from pinbot.config._values import (
    Boolean,
    Choice,
    Count,
    Duration,
    EnvName,
    ExistingFile,
    Maybe,
    OneLine,
    Strings,
    Text,
)
from pinbot.reference import (
    DEFAULT_DOMAIN,
    DOCKER_HUB_REGISTRY,
    LEGACY_DEFAULT_DOMAIN,
    ImageReference,
    is_valid_domain,
)

PinStyle = Literal["tag-digest", "digest"]
PrGroup = Literal["repository", "image"]
MergeMethod = Literal["squash", "merge", "rebase"]
#: What a `verify:` entry may require of a digest before it is proposed.
REQUIREMENTS = ("signature", "provenance")


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
        ExistingFile(),
        None,
        "extra CA (PEM) to trust for this registry, relative to the config file",
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


_PLATFORM = re.compile(r"[a-z0-9][a-z0-9._-]*/[a-z0-9][a-z0-9._-]*(/[a-z0-9][a-z0-9._-]*)?")


def _platform_problem(text: str) -> str | None:
    if not _PLATFORM.fullmatch(text):
        return "must be a platform written OS/ARCH[/VARIANT] in lower case, e.g. linux/arm64"
    return None


_PLATFORMS = Strings(check=_platform_problem)


@dataclass(frozen=True)
class PinConfig:
    """How references are written when pinned, and when a new digest is proposed."""

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
    min_age: timedelta = key(
        Duration(),
        timedelta(),
        "propose a new digest only once it has been the tag's digest this long (`72h`, `3d`; "
        "units w, d, h, m, s)",
    )
    min_age_first_pin: bool = key(
        Boolean(),
        False,
        "make first pins (references not pinned yet) wait `min-age` too",
    )
    platforms: tuple[str, ...] = key(
        _PLATFORMS,
        (),
        "the platforms that matter (`[linux/amd64, linux/arm64]`): an index whose manifests "
        "for these are unchanged is not proposed; empty: all",
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
    automerge: bool = key(
        Boolean(),
        False,
        "merge pinbot's pull requests once mergeable and every status and check on their head "
        "is green (see [Automerge](#automerge))",
    )
    automerge_first_pin: bool = key(
        Boolean(),
        False,
        "let automerge merge first pins too (references not pinned before)",
    )
    merge_method: MergeMethod = key(
        Choice(get_args(MergeMethod)),
        "squash",
        "how automerge merges: `squash`, `merge`, `rebase`",
    )
    automerge_allowed: bool = key(
        Boolean(),
        False,
        "let a repository's own file turn automerge on (`automerge` or `automerge-first-pin` "
        "`true` in `github` or a rule); without it such a file is refused",
        operator_only=True,
    )


VulnerabilitySource = Literal["none", "osv"]


def _api_url_problem(url: str) -> str | None:
    if not re.fullmatch(r"https?://[^\s/?#]+(/[^\s?#]*)?", url):
        return "must be an http(s) URL without query or fragment, e.g. https://api.osv.dev"
    return None


@dataclass(frozen=True)
class NotesConfig:
    """What the notes of `pinbot run`'s pull requests include beyond the registry's own."""

    vulnerabilities: VulnerabilitySource = key(
        Choice(get_args(VulnerabilitySource)),
        "none",
        "`osv`: the known vulnerabilities a digest bump fixes and introduces in the packages it "
        "changes, from the OSV API (package names and versions are sent there); `none`: off",
    )
    osv_url: str = key(
        Text(check=_api_url_problem),
        "https://api.osv.dev",
        "the OSV API to ask (`POST …/v1/querybatch`)",
    )


def image_matches(reference: ImageReference, globs: Sequence[str]) -> bool:
    """Whether fnmatch ``globs`` name this image, as ``scan.ignore-images`` matches: against
    the full name, the familiar name, and the familiar and full references."""
    familiar = reference.familiar()
    short = familiar.split("@", 1)[0]
    if reference.tag is not None:
        short = short[: -(len(reference.tag) + 1)]
    names = (reference.name, short, familiar, str(reference))
    return any(fnmatch.fnmatchcase(name, glob) for name in names for glob in globs)


def _path_matches(path: str, globs: Sequence[str]) -> bool:
    """Whether ``path`` (POSIX, relative to the repository root) matches; no globs: any."""
    return not globs or any(fnmatch.fnmatchcase(path, glob) for glob in globs)


_GROUP_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


def _group_problem(name: str) -> str | None:
    # git refuses a branch name with "..", or ending in "." or ".lock".
    if not _GROUP_NAME.fullmatch(name) or ".." in name or name.endswith((".", ".lock")):
        return (
            "must be a group name of letters, digits, '.', '_' and '-', not ending in '.' or "
            "'.lock' (it names a branch)"
        )
    return None


def _pattern_problem(text: str) -> str | None:
    if not text.startswith("^"):
        return None
    try:
        re.compile(text)
    except re.error as exc:
        return f"is not a valid regular expression: {exc}"
    return None


@dataclass(frozen=True)
class Rule:
    """Settings for the occurrences it matches, over the global keys. Left out (None): the
    global key's value."""

    images: tuple[str, ...] = key(
        Strings(at_least=1),
        ("*",),
        "image globs, matched as `scan.ignore-images` matches",
    )
    paths: tuple[str, ...] = key(
        Strings(), (), "file globs relative to the repository root (`deploy/**`); empty: every file"
    )
    min_age: timedelta | None = key(
        Maybe(Duration(), "as `pin.min-age`"),
        None,
        "`pin.min-age` for these images",
    )
    platforms: tuple[str, ...] | None = key(
        Maybe(_PLATFORMS, "as `pin.platforms`"), None, "`pin.platforms` for these images"
    )
    ignore: bool = key(Boolean(), False, "leave these images alone, as `scan.ignore-images` does")
    group: str | None = key(
        Maybe(Text(check=_group_problem), "as `github.group`"),
        None,
        "a named group: one pull request for every image in it",
    )
    automerge: bool | None = key(
        Maybe(Boolean(), "as `github.automerge`"),
        None,
        "`github.automerge` for these images",
    )
    automerge_first_pin: bool | None = key(
        Maybe(Boolean(), "as `github.automerge-first-pin`"),
        None,
        "`github.automerge-first-pin` for these images",
    )
    labels: tuple[str, ...] | None = key(
        Maybe(Strings(), "as `github.labels`"),
        None,
        "`github.labels` for these images",
    )
    reviewers: tuple[str, ...] | None = key(
        Maybe(Strings(), "as `github.reviewers`"),
        None,
        "`github.reviewers` for these images",
    )

    def matches(self, reference: ImageReference, path: str) -> bool:
        return image_matches(reference, self.images) and _path_matches(path, self.paths)


@dataclass(frozen=True)
class Verification:
    """What a digest of the images it matches must carry before pinbot proposes it."""

    images: tuple[str, ...] = key(
        Strings(at_least=1),
        (),
        "image globs, matched as `scan.ignore-images` matches",
        required=True,
    )
    require: tuple[str, ...] = key(
        Strings(choices=REQUIREMENTS, at_least=1),
        (),
        "what a digest must have to be proposed: `signature`, `provenance`",
        required=True,
    )
    public_key: Path | None = key(
        ExistingFile(),
        None,
        "a cosign public key (PEM) that must have signed it, relative to the config file",
        name="key",
    )
    identity: str | None = key(
        Maybe(Text(check=_pattern_problem)),
        None,
        "keyless: the signing certificate's identity, exact, or a regular expression when it "
        "starts with `^`",
    )
    issuer: str | None = key(Maybe(Text()), None, "keyless: the OIDC issuer of that certificate")
    source: str | None = key(
        Maybe(Text()),
        None,
        "provenance: the source repository it must be built from (a glob, "
        "`https://github.com/acme/*`)",
    )

    def matches(self, reference: ImageReference) -> bool:
        return image_matches(reference, self.images)


def _check_verification(entry: Verification, table: TableAt) -> None:
    """A signature needs a way to check it, and no key is half given or given for nothing."""
    if entry.public_key is not None and entry.identity is not None:
        raise table.place("identity").error("give either key or identity/issuer, not both")
    if (entry.identity is None) != (entry.issuer is None):
        present, missing = ("identity", "issuer") if entry.identity else ("issuer", "identity")
        raise table.place(present).error(f"{present} needs {missing} too")
    signed = entry.public_key is not None or entry.identity is not None
    if "signature" in entry.require and not signed:
        raise table.place("require").error(
            "a signature needs key (a cosign public key) or identity and issuer (keyless)"
        )
    if entry.source is not None and "provenance" not in entry.require:
        raise table.place("source").error("source is checked only with provenance in require")


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
    github: GithubConfig = key(Table(GithubConfig), GithubConfig(), "how pull requests are opened")
    rules: tuple[Rule, ...] = key(
        TableList(Table(Rule, null_is_empty=False)),
        (),
        "per-image rules: the first whose `images` and `paths` match an occurrence wins over "
        "the global keys for it",
    )
    verify: tuple[Verification, ...] = key(
        TableList(Table(Verification, check=_check_verification, null_is_empty=False)),
        (),
        "what digests must carry to be proposed: the first entry whose `images` match applies; "
        "none: nothing is required",
        operator_only=True,
    )
    notes: NotesConfig = key(
        Table(NotesConfig),
        NotesConfig(),
        "what pull request notes include beyond the registry's metadata",
        operator_only=True,
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

    def rule_for(self, reference: ImageReference, path: str) -> Rule | None:
        """The first rule matching an occurrence of ``reference`` in ``path`` (POSIX, relative
        to the repository root), or None: then the global keys apply."""
        return next((rule for rule in self.rules if rule.matches(reference, path)), None)

    def verification_for(self, reference: ImageReference) -> Verification | None:
        """The first ``verify`` entry whose images match ``reference``, or None: nothing is
        required of its digests."""
        return next((entry for entry in self.verify if entry.matches(reference)), None)


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
