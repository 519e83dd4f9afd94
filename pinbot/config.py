"""pinbot's configuration file: read, checked key by key, and turned into frozen values.

Every problem is reported as ``<file>:<line>: <key path>: <what is wrong>``.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal, cast, get_args

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.constructor import DuplicateKeyError
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from pinbot.errors import PinbotError
from pinbot.reference import (
    DEFAULT_DOMAIN,
    DOCKER_HUB_REGISTRY,
    LEGACY_DEFAULT_DOMAIN,
    is_valid_domain,
)

__all__ = [
    "REPOSITORY_KEYS",
    "Config",
    "ConfigError",
    "GithubConfig",
    "PinConfig",
    "PolicyConfig",
    "RegistryConfig",
    "RepositoryConfig",
    "ScanConfig",
    "load_config",
    "load_config_text",
    "load_repository_config",
]

PinStyle = Literal["tag-digest", "digest"]
PrGroup = Literal["repository", "image"]


class ConfigError(PinbotError, ValueError):
    """A configuration file that cannot be used, with where and why."""

    def __init__(self, file: str, line: int, key: str, problem: str) -> None:
        self.file = file
        self.line = line
        self.key = key
        self.problem = problem
        super().__init__(f"{file}:{line}: {key}: {problem}")


@dataclass(frozen=True)
class RegistryConfig:
    """How to reach one registry. Credentials are names of environment variables only."""

    host: str
    insecure: bool = False
    ca_file: Path | None = None
    username_env: str | None = None
    password_env: str | None = None
    token_env: str | None = None


@dataclass(frozen=True)
class ScanConfig:
    """What the scanners skip: path globs (relative to the root) and image globs."""

    ignore_paths: tuple[str, ...] = ()
    ignore_images: tuple[str, ...] = ()


@dataclass(frozen=True)
class PinConfig:
    """How references are written when pinned."""

    style: PinStyle = "tag-digest"
    pin_untagged: bool = False
    helm_insert_digest: bool = False


@dataclass(frozen=True)
class PolicyConfig:
    """What `check` and `audit` report as violations."""

    allowed_registries: tuple[str, ...] = ()
    forbid_latest: bool = True
    require_pinned: bool = True


@dataclass(frozen=True)
class GithubConfig:
    """How pull requests are opened."""

    labels: tuple[str, ...] = ("dependencies",)
    reviewers: tuple[str, ...] = ()
    team_reviewers: tuple[str, ...] = ()
    assignees: tuple[str, ...] = ()
    draft: bool = False
    group: PrGroup = "repository"
    branch_prefix: str = "pinbot/"
    title_prefix: str = ""  # before each title and commit subject, e.g. "chore(deps): "
    max_open_pulls: int = 10  # pinbot pull requests open at once per repository; 0: no limit


def _registry_key(host: str) -> str:
    """The form two spellings of one registry host share (Docker Hub has three)."""
    host = host.lower()
    if host in (LEGACY_DEFAULT_DOMAIN, DOCKER_HUB_REGISTRY):
        return DEFAULT_DOMAIN
    return host


@dataclass(frozen=True)
class Config:
    """The whole configuration; :func:`load_config` builds it."""

    registries: Mapping[str, RegistryConfig] = field(
        default_factory=lambda: MappingProxyType({}), hash=False
    )
    scan: ScanConfig = field(default_factory=ScanConfig)
    pin: PinConfig = field(default_factory=PinConfig)
    policy: PolicyConfig = field(default_factory=PolicyConfig)
    github: GithubConfig = field(default_factory=GithubConfig)
    source: Path | None = None

    def registry(self, host: str) -> RegistryConfig:
        """The entry for ``host[:port]`` (case-insensitive, Docker Hub aliases merged),
        or a default entry when the file has none."""
        wanted = _registry_key(host)
        for key, entry in self.registries.items():
            if _registry_key(key) == wanted:
                return entry
        return RegistryConfig(host=host)


# --- reading YAML with positions --------------------------------------------------------

_MISSING: Any = object()
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]")
# Key names that suggest a credential written into the file itself.
_SECRET_KEY = re.compile(
    r"(^|[-_])(password|passwd|pass|passphrase|secret|token|auth|credentials?|"
    r"api[-_]?key|private[-_]?key|access[-_]?key)($|[-_])",
    re.IGNORECASE,
)
# Prefixes of well-known token formats, to catch a token pasted where a variable name goes.
_TOKEN_PREFIXES = ("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_", "glpat-", "dckr_pat_")


def _type_name(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


class _Section:
    """One YAML mapping being read; knows the file, its key path and where each key is."""

    def __init__(
        self,
        file: str,
        path: str,
        line: int,
        node: object,
        allowed: tuple[str, ...] | None,
        refused: Mapping[str, str] | None = None,
    ) -> None:
        """Check ``node`` is a mapping whose keys are all in ``allowed`` (any string if None).

        A key in ``refused`` is one this file may not set; its value says why.
        """
        self.file = file
        self.path = path
        self.line = line
        if node is None:
            node = CommentedMap()
        if not isinstance(node, CommentedMap):
            raise self.error(f"must be a mapping, not {_type_name(node)}")
        self.node = node
        for key in node:
            if not isinstance(key, str):
                raise self.error(f"keys must be strings, not {_type_name(key)}", self._line(key))
            if refused and key in refused:
                raise self.error(refused[key], self._line(key), key)
            if allowed is not None and key not in allowed:
                raise self._unknown(key, allowed)

    def _line(self, key: object) -> int:
        try:
            return int(self.node.lc.key(key)[0]) + 1
        except (KeyError, TypeError, AttributeError):
            return self.line

    def _key_path(self, key: str) -> str:
        if not self.path:
            return key
        # "[...]" marks a free-form key such as a registry host, which may hold dots.
        return f"{self.path}{key}" if key.startswith("[") else f"{self.path}.{key}"

    def error(self, problem: str, line: int | None = None, key: str | None = None) -> ConfigError:
        path = self._key_path(key) if key is not None else (self.path or "(top level)")
        return ConfigError(self.file, self.line if line is None else line, path, problem)

    def _unknown(self, key: str, allowed: tuple[str, ...]) -> ConfigError:
        line = self._line(key)
        if _SECRET_KEY.search(key) and not key.endswith("-env"):
            # Never repeat the value: it may be a real secret.
            return self.error(
                "looks like a credential; the file must not hold secrets, only the names of "
                "environment variables (username-env, password-env, token-env)",
                line,
                key,
            )
        hint = difflib.get_close_matches(key.replace("_", "-").lower(), allowed, n=1)
        suggestion = f" (did you mean {hint[0]!r}?)" if hint else ""
        known = ", ".join(allowed) if allowed else "none"
        return self.error(f"unknown key{suggestion}; known keys: {known}", line, key)

    def raw(self, key: str) -> Any:
        return self.node.get(key, _MISSING)

    def where(self, key: str) -> tuple[str, int]:
        """The key path and line of ``key``, for a nested section."""
        return self._key_path(key), self._line(key)

    def boolean(self, key: str, default: bool) -> bool:
        value = self.raw(key)
        if value is _MISSING:
            return default
        if not isinstance(value, bool):
            raise self.error(
                f"must be true or false, not {_type_name(value)}", self._line(key), key
            )
        return value

    def string(self, key: str, default: str) -> str:
        value = self.raw(key)
        if value is _MISSING:
            return default
        if not isinstance(value, str) or not value:
            shown = "an empty string" if value == "" else _type_name(value)
            raise self.error(f"must be a non-empty string, not {shown}", self._line(key), key)
        return str(value)

    def one_line(self, key: str, default: str) -> str:
        """One line of text, possibly empty (null means empty); no line breaks or controls."""
        value = self.raw(key)
        if value is _MISSING:
            return default
        if value is None:
            return ""
        if not isinstance(value, str):
            raise self.error(f"must be a string, not {_type_name(value)}", self._line(key), key)
        if _CONTROL.search(value):
            raise self.error(
                "must be one line of text, without line breaks or control characters",
                self._line(key),
                key,
            )
        return str(value)

    def count(self, key: str, default: int) -> int:
        """A whole number, zero or more."""
        value = self.raw(key)
        if value is _MISSING:
            return default
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.error(
                f"must be a whole number, not {_type_name(value)}", self._line(key), key
            )
        if value < 0:
            raise self.error(f"must be 0 or more, not {value}", self._line(key), key)
        return int(value)

    def choice(self, key: str, choices: tuple[str, ...], default: str) -> str:
        value = self.raw(key)
        if value is _MISSING:
            return default
        if value not in choices:
            options = ", ".join(repr(c) for c in choices)
            shown = repr(str(value)) if isinstance(value, str) else _type_name(value)
            raise self.error(f"must be one of {options}, not {shown}", self._line(key), key)
        return str(value)

    def strings(self, key: str, default: tuple[str, ...]) -> tuple[str, ...]:
        value = self.raw(key)
        if value is _MISSING:
            return default
        if value is None:
            return ()
        if not isinstance(value, CommentedSeq):
            raise self.error(
                f"must be a list of strings, not {_type_name(value)}", self._line(key), key
            )
        items: list[str] = []
        for index, item in enumerate(value):
            if not isinstance(item, str) or not item:
                line = int(value.lc.item(index)[0]) + 1
                shown = "an empty string" if item == "" else _type_name(item)
                raise self.error(
                    f"must be a non-empty string, not {shown}", line, f"{key}[{index}]"
                )
            items.append(str(item))
        return tuple(items)

    def env_name(self, key: str) -> str | None:
        """The name of an environment variable, checked without ever showing the value."""
        value = self.raw(key)
        if value is _MISSING or value is None:
            return None
        line = self._line(key)
        if not isinstance(value, str):
            raise self.error(
                f"must be the name of an environment variable, not {_type_name(value)}", line, key
            )
        if value.lower().startswith(_TOKEN_PREFIXES):
            raise self.error(
                "looks like a token, not the name of an environment variable; "
                "put the token in a variable and give its name here",
                line,
                key,
            )
        if not _ENV_NAME.fullmatch(value):
            raise self.error(
                "must be the name of an environment variable (letters, digits and '_', "
                "not starting with a digit)",
                line,
                key,
            )
        return str(value)


# --- sections: one small function each ------------------------------------------------

_REGISTRY_KEYS = ("insecure", "ca-file", "username-env", "password-env", "token-env")


def _parse_registry(section: _Section, host: str, node: object, base: Path) -> RegistryConfig:
    path, line = section.where(f"[{host}]")[0], section.where(host)[1]
    entry = _Section(section.file, path, line, node, _REGISTRY_KEYS)
    ca_file: Path | None = None
    ca_text = entry.string("ca-file", "")
    if ca_text:
        ca_file = (base / Path(ca_text).expanduser()).resolve()
        if not ca_file.is_file():
            raise entry.error(f"file not found: {ca_file}", entry.where("ca-file")[1], "ca-file")
    username_env = entry.env_name("username-env")
    password_env = entry.env_name("password-env")
    token_env = entry.env_name("token-env")
    if token_env and (username_env or password_env):
        other = "username-env" if username_env else "password-env"
        raise entry.error(
            f"give either token-env or username-env/password-env, not both (see {other})",
            entry.where("token-env")[1],
            "token-env",
        )
    if bool(username_env) != bool(password_env):
        present, missing = (
            ("username-env", "password-env") if username_env else ("password-env", "username-env")
        )
        raise entry.error(f"{present} needs {missing} too", entry.where(present)[1], present)
    return RegistryConfig(
        host=host.lower(),
        insecure=entry.boolean("insecure", False),
        ca_file=ca_file,
        username_env=username_env,
        password_env=password_env,
        token_env=token_env,
    )


def _parse_registries(
    section: _Section, base: Path, default: Mapping[str, RegistryConfig]
) -> Mapping[str, RegistryConfig]:
    # Like a list, the mapping a file gives replaces the one it is read over.
    registries: dict[str, RegistryConfig] = {}
    seen: dict[str, str] = {}
    for host in section.node:
        line = section.where(host)[1]
        if "://" in host or "/" in host or not is_valid_domain(host):
            raise section.error(
                "must be a registry host with optional port (e.g. registry.example.com:5000), "
                "without scheme or path",
                line,
                f"[{host}]",
            )
        key = _registry_key(host)
        if key in seen:
            raise section.error(f"same registry as {seen[key]!r}", line, f"[{host}]")
        seen[key] = host
        registries[host.lower()] = _parse_registry(section, host, section.node[host], base)
    return MappingProxyType(registries)


# Each section function reads the keys present and takes the rest from `default` (the
# built-in defaults, or the configuration a repository's file is merged over).


def _parse_scan(section: _Section, base: Path, default: ScanConfig) -> ScanConfig:
    return ScanConfig(
        ignore_paths=section.strings("ignore-paths", default.ignore_paths),
        ignore_images=section.strings("ignore-images", default.ignore_images),
    )


def _parse_pin(section: _Section, base: Path, default: PinConfig) -> PinConfig:
    return PinConfig(
        style=cast(PinStyle, section.choice("style", get_args(PinStyle), default.style)),
        pin_untagged=section.boolean("pin-untagged", default.pin_untagged),
        helm_insert_digest=section.boolean("helm-insert-digest", default.helm_insert_digest),
    )


def _parse_policy(section: _Section, base: Path, default: PolicyConfig) -> PolicyConfig:
    allowed = section.strings("allowed-registries", default.allowed_registries)
    for index, pattern in enumerate(allowed):
        if "/" in pattern and "allowed-registries" in section.node:
            line = int(section.node["allowed-registries"].lc.item(index)[0]) + 1
            raise section.error(
                "must be a registry host glob (e.g. *.example.com), without scheme or path",
                line,
                f"allowed-registries[{index}]",
            )
    return PolicyConfig(
        allowed_registries=allowed,
        forbid_latest=section.boolean("forbid-latest", default.forbid_latest),
        require_pinned=section.boolean("require-pinned", default.require_pinned),
    )


# Characters git refuses in branch names (git check-ref-format).
_BAD_BRANCH = re.compile(r"[\x00-\x20\x7f~^:?*\[\\]|\.\.|@\{|//|^/|^-")


def _parse_github(section: _Section, base: Path, default: GithubConfig) -> GithubConfig:
    prefix = section.string("branch-prefix", default.branch_prefix)
    if "branch-prefix" in section.node and _BAD_BRANCH.search(prefix):
        raise section.error(
            "must be usable in a git branch name (no spaces, '..', '~', '^', ':', '?', '*', "
            "'[', '\\', '//', and not starting with '/' or '-')",
            section.where("branch-prefix")[1],
            "branch-prefix",
        )
    return GithubConfig(
        labels=section.strings("labels", default.labels),
        reviewers=section.strings("reviewers", default.reviewers),
        team_reviewers=section.strings("team-reviewers", default.team_reviewers),
        assignees=section.strings("assignees", default.assignees),
        draft=section.boolean("draft", default.draft),
        group=cast(PrGroup, section.choice("group", get_args(PrGroup), default.group)),
        branch_prefix=prefix,
        title_prefix=section.one_line("title-prefix", default.title_prefix),
        max_open_pulls=section.count("max-open-pulls", default.max_open_pulls),
    )


@dataclass(frozen=True)
class _SectionSpec:
    keys: tuple[str, ...] | None  # None: free-form keys, checked by the parse function
    parse: Callable[[_Section, Path, Any], Any]


# A new section is one function above plus one line here (and a field on Config).
_SECTIONS: dict[str, _SectionSpec] = {
    "registries": _SectionSpec(None, _parse_registries),
    "scan": _SectionSpec(("ignore-paths", "ignore-images"), _parse_scan),
    "pin": _SectionSpec(("style", "pin-untagged", "helm-insert-digest"), _parse_pin),
    "policy": _SectionSpec(
        ("allowed-registries", "forbid-latest", "require-pinned"), _parse_policy
    ),
    "github": _SectionSpec(
        (
            "labels",
            "reviewers",
            "team-reviewers",
            "assignees",
            "draft",
            "group",
            "branch-prefix",
            "title-prefix",
            "max-open-pulls",
        ),
        _parse_github,
    ),
}


#: What only the operator's configuration sets: registries (credentials and TLS) and the names
#: of the branches pinbot pushes. Everything else a repository's own file may set.
_OPERATOR_ONLY: frozenset[tuple[str, str | None]] = frozenset(
    {("registries", None), ("github", "branch-prefix")}
)

#: What a repository's own settings file may set, section by section, derived from the
#: sections above so a new key is allowed there unless it is listed as the operator's.
REPOSITORY_KEYS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        name: tuple(key for key in spec.keys if (name, key) not in _OPERATOR_ONLY)
        for name, spec in _SECTIONS.items()
        if spec.keys is not None and (name, None) not in _OPERATOR_ONLY
    }
)

_REPOSITORY_REFUSAL = "set only by the configuration of the run, not by a repository's file"
_NOT_ALLOWED = "not allowed in this file"


@dataclass(frozen=True)
class RepositoryConfig:
    """A repository's settings file merged over the run's configuration.

    ``enabled`` is false when the file asks pinbot to leave the repository alone;
    ``source`` names the file (``None`` when the repository has none).
    """

    config: Config
    enabled: bool = True
    source: str | None = None


def _parse_document(data: bytes | str, file: str) -> object:
    if isinstance(data, bytes):
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = data[: exc.start].count(b"\n") + 1
            raise ConfigError(file, line, "(file)", "not UTF-8 text") from None
    else:
        text = data
    try:
        return YAML(typ="rt").load(text)
    except DuplicateKeyError as exc:
        # ruamel's own message repeats both values, which may be secrets.
        mark = exc.problem_mark
        line = mark.line + 1 if mark is not None else 1
        raise ConfigError(file, line, "(yaml)", "duplicate key") from None
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        raise ConfigError(file, line, "(yaml)", str(exc.problem or exc.context)) from None
    except YAMLError as exc:
        raise ConfigError(file, 1, "(yaml)", type(exc).__name__) from None


def _top_section(
    document: object,
    file: str,
    allowed: Mapping[str, tuple[str, ...]] | None,
    refusal: str,
    extra: tuple[str, ...] = (),
) -> _Section:
    """The top-level mapping; a section outside ``allowed`` (when given) is refused."""
    if allowed is None:
        return _Section(file, "", 1, document, (*_SECTIONS, *extra))
    refused = {name: refusal for name in _SECTIONS if name not in allowed}
    return _Section(file, "", 1, document, (*allowed, *extra), refused)


def _merge(
    top: _Section,
    base: Config,
    base_dir: Path,
    allowed: Mapping[str, tuple[str, ...]] | None,
    refusal: str,
) -> Config:
    """``base`` with every section the file holds read over it; lists replace, not append."""
    values: dict[str, Any] = {}
    for name, spec in _SECTIONS.items():
        attr = name.replace("-", "_")
        if name not in top.node:
            values[attr] = getattr(base, attr)
            continue
        keys, refused = spec.keys, None
        if allowed is not None and spec.keys is not None:
            keys = allowed[name]
            refused = {key: refusal for key in spec.keys if key not in keys}
        section = _Section(top.file, *top.where(name), top.raw(name), keys, refused)
        values[attr] = spec.parse(section, base_dir, getattr(base, attr))
    return Config(**values, source=base.source)


def load_config_text(
    text: bytes | str,
    source_name: str,
    base: Config | None = None,
    *,
    allowed_sections: Mapping[str, tuple[str, ...]] | None = None,
    base_dir: Path | None = None,
) -> Config:
    """Read configuration text (named ``source_name`` in errors) over ``base``.

    Keys the text leaves out keep ``base``'s values (the defaults when ``base`` is None); a
    list (or the ``registries`` mapping) the text gives replaces ``base``'s. With ``allowed_sections`` only those sections
    and keys may appear; any other known key is refused. Relative paths (``ca-file``) are
    resolved from ``base_dir``, the working directory by default.

    >>> load_config_text("pin:\n  style: digest\n", "inline").pin.style
    'digest'
    """
    refusal = _NOT_ALLOWED
    top = _top_section(_parse_document(text, source_name), source_name, allowed_sections, refusal)
    base_dir = (base_dir or Path.cwd()).resolve()
    return _merge(top, base or Config(), base_dir, allowed_sections, refusal)


def load_repository_config(text: bytes | str, source_name: str, base: Config) -> RepositoryConfig:
    """A repository's own settings file (``source_name``, e.g. ``.github/pinbot.yaml``)
    merged over the run's configuration ``base``.

    It may set the keys in :data:`REPOSITORY_KEYS` and a top-level ``enabled``; anything
    else, including ``registries`` and ``github.branch-prefix``, is a :class:`ConfigError`
    naming the file, line and key.
    """
    document = _parse_document(text, source_name)
    refusal = _REPOSITORY_REFUSAL
    top = _top_section(document, source_name, REPOSITORY_KEYS, refusal, extra=("enabled",))
    enabled = top.boolean("enabled", True)
    # Nothing a repository may set is a path, so there is no folder to resolve from.
    config = _merge(top, base, Path.cwd(), REPOSITORY_KEYS, refusal)
    return RepositoryConfig(config=config, enabled=enabled, source=source_name)


def load_config(path: Path | str | None) -> Config:
    """Read the configuration at ``path``; ``None`` gives the defaults.

    Raises :class:`ConfigError` for anything wrong in the file and ``OSError`` when it
    cannot be read.
    """
    if path is None:
        return Config()
    path = Path(path)
    file = str(path)
    top = _top_section(_parse_document(path.read_bytes(), file), file, None, _NOT_ALLOWED)
    config = _merge(top, Config(), path.resolve().parent, None, _NOT_ALLOWED)
    return replace(config, source=path)
