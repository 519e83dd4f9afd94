"""Tables of declared keys: a section of the configuration is a frozen dataclass whose fields
are declared with :func:`key` (kind, default, help, operator only), and everything else —
the reader, unknown-key errors, what a repository's file may set, the documentation — is
derived from those declarations.
"""

from __future__ import annotations

import difflib
import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from types import MappingProxyType
from typing import Any, Generic, TypeVar

from ruamel.yaml.comments import CommentedMap, CommentedSeq

from pinbot.config._values import ConfigError, Kind, Place, item_line, key_line, type_name

T = TypeVar("T")
S = TypeVar("S")

_DECLARATION = "pinbot.config.key"

# Key names that suggest a credential written into the file itself.
_SECRET_KEY = re.compile(
    r"(^|[-_])(password|passwd|pass|passphrase|secret|token|auth|credentials?|"
    r"api[-_]?key|private[-_]?key|access[-_]?key)($|[-_])",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class _Declaration:
    kind: Kind[Any]
    help: str
    operator_only: bool
    required: bool
    name: str | None
    planned: bool


def key(
    kind: Kind[T],
    default: T,
    help: str,
    *,
    operator_only: bool = False,
    required: bool = False,
    name: str | None = None,
    planned: bool = False,
) -> T:
    """Declare the dataclass field it is assigned to as a configuration key.

    The key's name is ``name``, else the field's with ``-`` for ``_``. ``operator_only``: only
    the run's configuration sets it, never a repository's own file. ``required``: the table
    that holds it must give it (``default`` is then only what the dataclass starts from).
    ``planned``: declared for a coming release but not acted on yet, so a file that sets it to
    anything but its default is refused rather than silently ignored.
    """
    declaration = _Declaration(kind, help, operator_only, required, name, planned)
    metadata = {_DECLARATION: declaration}
    if isinstance(default, Mapping):  # unhashable: a factory, and left out of the hash
        made: T = field(default_factory=lambda: default, hash=False, metadata=metadata)
        return made
    declared: T = field(default=default, metadata=metadata)
    return declared


@dataclass(frozen=True)
class DeclaredKey:
    """One key of a table as declared: its name in files, the field, kind, default, help."""

    name: str
    attribute: str
    kind: Kind[Any]
    default: Any
    help: str
    operator_only: bool
    required: bool
    planned: bool


def declared_keys(schema: type) -> tuple[DeclaredKey, ...]:
    """The keys the dataclass ``schema`` declares, in declaration order."""
    keys = []
    for item in fields(schema):
        declaration = item.metadata.get(_DECLARATION)
        if not isinstance(declaration, _Declaration):
            continue
        factory = item.default_factory
        default = factory() if callable(factory) else item.default
        keys.append(
            DeclaredKey(
                name=declaration.name or item.name.replace("_", "-"),
                attribute=item.name,
                kind=declaration.kind,
                default=default,
                help=declaration.help,
                operator_only=declaration.operator_only,
                required=declaration.required,
                planned=declaration.planned,
            )
        )
    return tuple(keys)


class Restriction(ABC):
    """Which declared keys a file may set; a known key it may not set is refused."""

    def __init__(self, refusal: str) -> None:
        self.refusal = refusal

    @abstractmethod
    def allows(self, schema_path: tuple[str, ...], declared: DeclaredKey) -> bool:
        """Whether ``declared``, in the table reached by ``schema_path``, may be set."""


class OperatorKeysRefused(Restriction):
    """A repository's own file: every key except the operator's."""

    def allows(self, schema_path: tuple[str, ...], declared: DeclaredKey) -> bool:
        return not declared.operator_only


class OnlySections(Restriction):
    """Only the listed top-level keys, and in each only the listed keys."""

    def __init__(self, refusal: str, sections: Mapping[str, tuple[str, ...]]) -> None:
        super().__init__(refusal)
        self.sections = sections

    def allows(self, schema_path: tuple[str, ...], declared: DeclaredKey) -> bool:
        if not schema_path:
            return declared.name in self.sections
        if len(schema_path) == 1:
            return declared.name in self.sections.get(schema_path[0], ())
        return True


_PLANNED = (
    "not acted on yet by this version of pinbot; refused rather than ignored (leave it out "
    "or at its default)"
)


def _unknown(name: str, allowed: Sequence[str], at: Place) -> ConfigError:
    if _SECRET_KEY.search(name) and not name.endswith("-env"):
        # Never repeat the value: it may be a real secret.
        return at.error(
            "looks like a credential; the file must not hold secrets, only the names of "
            "environment variables (username-env, password-env, token-env)"
        )
    hint = difflib.get_close_matches(name.replace("_", "-").lower(), allowed, n=1)
    suggestion = f" (did you mean {hint[0]!r}?)" if hint else ""
    known = ", ".join(allowed) if allowed else "none"
    return at.error(f"unknown key{suggestion}; known keys: {known}")


def mapping(value: object, at: Place, null_is_empty: bool = True) -> CommentedMap:
    """``value`` as a mapping with string keys (null is an empty one when allowed)."""
    if value is None and null_is_empty:
        value = CommentedMap()
    if not isinstance(value, CommentedMap):
        raise at.error(f"must be a mapping, not {type_name(value)}")
    for name in value:
        if not isinstance(name, str):
            raise at.error(
                f"keys must be strings, not {type_name(name)}", key_line(value, name, at.line)
            )
    return value


def check_keys(node: CommentedMap, at: Place, keys: Sequence[DeclaredKey]) -> None:
    """Every key of ``node`` is declared in ``keys`` and allowed here; required ones are given.

    The unknown-key error names the closest allowed key and lists the allowed ones.
    """
    restriction = at.restriction
    allowed = [k.name for k in keys if restriction is None or restriction.allows(at.schema_path, k)]
    for name in node:
        place = at.key(name, key_line(node, name, at.line))
        if name not in allowed:
            if restriction is not None and any(k.name == name for k in keys):
                raise place.error(restriction.refusal)
            raise _unknown(name, allowed, place)
    for declared in keys:
        if declared.required and declared.name in allowed and declared.name not in node:
            raise at.error(f"needs the key {declared.name!r}")


def read_keys(node: CommentedMap, at: Place, keys: Sequence[DeclaredKey], base: S) -> S:
    """``base`` with every key ``node`` gives read over it (a list given replaces the base's)."""
    values = {}
    for declared in keys:
        if declared.name in node:
            place = at.key(declared.name, key_line(node, declared.name, at.line))
            current = getattr(base, declared.attribute)
            value = declared.kind.read(node[declared.name], place, current)
            if declared.planned and value != declared.default and not at.accept_planned:
                raise place.error(_PLANNED)
            values[declared.attribute] = value
    return replace(base, **values)  # type: ignore[type-var]


class TableAt:
    """A table as read, for checks between its keys: where each key sits."""

    def __init__(self, node: CommentedMap, at: Place) -> None:
        self.node = node
        self.at = at

    def given(self, name: str) -> bool:
        return name in self.node

    def place(self, name: str) -> Place:
        return self.at.key(name, key_line(self.node, name, self.at.line))


#: A check between a table's keys, run after they are read: raises through ``TableAt``.
TableCheck = Callable[[S, TableAt], None]


@dataclass(frozen=True)
class Table(Kind[S], Generic[S]):
    """A mapping whose keys are the ones the dataclass ``schema`` declares."""

    schema: type[S]
    check: TableCheck[S] | None = None
    null_is_empty: bool = True

    def declared(self) -> tuple[DeclaredKey, ...]:
        return declared_keys(self.schema)

    def read(self, value: object, at: Place, base: S) -> S:
        node = mapping(value, at, self.null_is_empty)
        keys = self.declared()
        check_keys(node, at, keys)
        result = read_keys(node, at, keys, base)
        if self.check is not None:
            self.check(result, TableAt(node, at))
        return result

    def show(self, value: S) -> str:
        return ""


@dataclass(frozen=True)
class TableList(Kind[tuple[S, ...]], Generic[S]):
    """A list of tables (``- images: [...]``), each read from the schema's defaults."""

    table: Table[S]

    def read(self, value: object, at: Place, base: tuple[S, ...]) -> tuple[S, ...]:
        if value is None:
            return ()
        if not isinstance(value, CommentedSeq):
            raise at.error(f"must be a list of mappings, not {type_name(value)}")
        fresh = self.table.schema()
        return tuple(
            self.table.read(item, at.item(index, item_line(value, index, at.line)), fresh)
            for index, item in enumerate(value)
        )

    def show(self, value: tuple[S, ...]) -> str:
        return "[]" if not value else "…"


@dataclass(frozen=True)
class HostTable(Kind[Mapping[str, S]], Generic[S]):
    """A mapping from free-form names (registry hosts) to tables; it replaces, never merges.

    ``check_name`` returns a problem with a name or None; ``same`` gives the form two
    spellings of one name share; ``entry`` makes the table a name starts from.
    """

    table: Table[S]
    check_name: Callable[[str], str | None]
    same: Callable[[str], str]
    entry: Callable[[str], S]

    def read(self, value: object, at: Place, base: Mapping[str, S]) -> Mapping[str, S]:
        node = mapping(value, at)
        entries: dict[str, S] = {}
        seen: dict[str, str] = {}
        for name in node:
            place = at.entry(name, key_line(node, name, at.line))
            problem = self.check_name(name)
            if problem:
                raise place.error(problem)
            identity = self.same(name)
            if identity in seen:
                raise place.error(f"same registry as {seen[identity]!r}")
            seen[identity] = name
            entries[name.lower()] = self.table.read(node[name], place, self.entry(name))
        return MappingProxyType(entries)

    def show(self, value: Mapping[str, S]) -> str:
        return "{}" if not value else "…"


@dataclass(frozen=True)
class KeyRow:
    """One key for the documentation: its path (``registries.<host>.insecure``, ``rules[].group``),
    its default (as written in a file when ``default_is_value``, else words such as "none"),
    its help, whether only the operator sets it, and whether it is not acted on yet."""

    path: str
    default: str
    help: str
    operator_only: bool
    default_is_value: bool = True
    planned: bool = False


def key_rows(
    schema: type, prefix: str = "", operator_only: bool = False, planned: bool = False
) -> Iterator[KeyRow]:
    """Every key reachable from ``schema``, depth first, in declaration order; a key inside
    an operator-only or planned one is so too."""
    outer_planned = planned
    for declared in declared_keys(schema):
        path = prefix + declared.name
        operator = operator_only or declared.operator_only
        planned = outer_planned or declared.planned
        kind = declared.kind
        if isinstance(kind, Table):
            yield from key_rows(kind.schema, f"{path}.", operator, planned)
            continue
        if declared.required:
            yield KeyRow(path, "required", declared.help, operator, False, planned)
        else:
            shown, is_value = kind.show(declared.default), declared.default is not None
            yield KeyRow(path, shown, declared.help, operator, is_value, planned)
        if isinstance(kind, HostTable):
            yield from key_rows(kind.table.schema, f"{path}.<host[:port]>.", operator, planned)
        elif isinstance(kind, TableList):
            yield from key_rows(kind.table.schema, f"{path}[].", operator, planned)


def settable_keys(schema: type) -> Mapping[str, tuple[str, ...]]:
    """What a repository's file may set: each top-level key that is not the operator's, with
    the keys it may set inside (of a section, or of each item of a list of tables)."""
    result: dict[str, tuple[str, ...]] = {}
    for declared in declared_keys(schema):
        if declared.operator_only:
            continue
        kind = declared.kind
        inner = kind.table if isinstance(kind, TableList | HostTable) else kind
        names: tuple[str, ...] = ()
        if isinstance(inner, Table):
            names = tuple(k.name for k in inner.declared() if not k.operator_only)
        result[declared.name] = names
    return MappingProxyType(result)
