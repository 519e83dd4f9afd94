"""Reading configuration files: the run's own, and a repository's settings merged over it.

Every problem is reported as ``<file>:<line>: <key path>: <what is wrong>``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.constructor import DuplicateKeyError
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from pinbot.config._model import Config, RepositoryConfig
from pinbot.config._tables import (
    OnlySections,
    OperatorKeysRefused,
    Restriction,
    Table,
    check_keys,
    declared_keys,
    mapping,
    read_keys,
    settable_keys,
)
from pinbot.config._values import ConfigError, Place, item_line, key_line

#: What a repository's own settings file may set, top-level key by key, derived from the
#: declarations: every key not declared operator-only.
REPOSITORY_KEYS: Mapping[str, tuple[str, ...]] = settable_keys(Config)

_REPOSITORY_REFUSAL = "set only by the configuration of the run, not by a repository's file"
_NOT_ALLOWED = "not allowed in this file"
#: The keys, in `github` and in each rule, that turn automerge on when `true`.
_AUTOMERGE_KEYS = ("automerge", "automerge-first-pin")
_AUTOMERGE_REFUSAL = (
    "a repository's file may turn automerge off but not on: the run's configuration does not "
    "allow it (its operator sets github.automerge-allowed: true to let repositories do so)"
)


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


def _read(
    data: bytes | str,
    file: str,
    base: Config,
    base_dir: Path,
    restriction: Restriction | None,
    accept_planned: bool = False,
) -> Config:
    top = Place(file, "", 1, base_dir, restriction, accept_planned=accept_planned)
    return Table(Config).read(_parse_document(data, file), top, base)


def load_config_text(
    text: bytes | str,
    source_name: str,
    base: Config | None = None,
    *,
    allowed_sections: Mapping[str, tuple[str, ...]] | None = None,
    base_dir: Path | None = None,
    accept_planned: bool = False,
) -> Config:
    """Read configuration text (named ``source_name`` in errors) over ``base``.

    Keys the text leaves out keep ``base``'s values (the defaults when ``base`` is None); a
    list (or the ``registries`` mapping) the text gives replaces ``base``'s. With
    ``allowed_sections`` only those sections and keys may appear; any other known key is
    refused. Relative paths (``ca-file``) are resolved from ``base_dir``, the working
    directory by default. ``accept_planned`` reads keys declared for a coming release (not
    acted on yet) instead of refusing them: for the code and tests that wire them.

    >>> load_config_text("pin:\n  style: digest\n", "inline").pin.style
    'digest'
    """
    restriction = None
    if allowed_sections is not None:
        restriction = OnlySections(_NOT_ALLOWED, allowed_sections)
    base_dir = (base_dir or Path.cwd()).resolve()
    return _read(text, source_name, base or Config(), base_dir, restriction, accept_planned)


def load_repository_config(
    text: bytes | str, source_name: str, base: Config, *, accept_planned: bool = False
) -> RepositoryConfig:
    """A repository's own settings file (``source_name``, e.g. ``.github/pinbot.yaml``)
    merged over the run's configuration ``base``.

    It may set the keys in :data:`REPOSITORY_KEYS` and a top-level ``enabled``; anything
    else, including ``registries``, ``verify`` and ``github.branch-prefix``, is a
    :class:`ConfigError` naming the file, line and key. ``accept_planned`` as for
    :func:`load_config_text`.
    """
    # Nothing a repository may set is a path, so there is no folder to resolve from.
    refusal = OperatorKeysRefused(_REPOSITORY_REFUSAL)
    top = Place(source_name, "", 1, Path.cwd(), refusal, accept_planned=accept_planned)
    node = mapping(_parse_document(text, source_name), top)
    config_keys, own_keys = declared_keys(Config), declared_keys(RepositoryConfig)
    check_keys(node, top, (*config_keys, *own_keys))
    config = read_keys(node, top, config_keys, base)
    if not base.github.automerge_allowed:
        _refuse_automerge(node, top)
    return read_keys(node, top, own_keys, RepositoryConfig(config, source=source_name))


def _refuse_automerge(node: CommentedMap, top: Place) -> None:
    """Refuse, at its line, an automerge key a repository's file sets to `true` (its values
    are read and checked by now)."""
    tables: list[tuple[CommentedMap, Place]] = []
    github = node.get("github")
    if isinstance(github, CommentedMap):
        tables.append((github, top.key("github", key_line(node, "github", top.line))))
    rules = node.get("rules")
    if isinstance(rules, CommentedSeq):
        at = top.key("rules", key_line(node, "rules", top.line))
        tables += [
            (rule, at.item(index, item_line(rules, index, at.line)))
            for index, rule in enumerate(rules)
            if isinstance(rule, CommentedMap)
        ]
    for table, at in tables:
        for name in _AUTOMERGE_KEYS:
            if table.get(name) is True:
                raise at.key(name, key_line(table, name, at.line)).error(_AUTOMERGE_REFUSAL)


def load_config(path: Path | str | None) -> Config:
    """Read the configuration at ``path``; ``None`` gives the defaults.

    Raises :class:`ConfigError` for anything wrong in the file and ``OSError`` when it
    cannot be read.
    """
    if path is None:
        return Config()
    path = Path(path)
    config = _read(path.read_bytes(), str(path), Config(), path.resolve().parent, None)
    return replace(config, source=path)
