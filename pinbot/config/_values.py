"""How one configuration value is written in YAML, checked, and turned into a Python value.

A :class:`Kind` reads one value at a :class:`Place` (file, key path, line) and raises a
:class:`ConfigError` saying where and why when it cannot. Tables of keys build on these.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from ruamel.yaml.comments import CommentedMap, CommentedSeq

from pinbot.errors import PinbotError

if TYPE_CHECKING:
    from pinbot.config._tables import Restriction

T = TypeVar("T")

_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]")
# Prefixes of well-known token formats, to catch a token pasted where a variable name goes.
_TOKEN_PREFIXES = ("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_", "glpat-", "dckr_pat_")


class ConfigError(PinbotError, ValueError):
    """A configuration file that cannot be used, with where and why."""

    def __init__(self, file: str, line: int, key: str, problem: str) -> None:
        self.file = file
        self.line = line
        self.key = key
        self.problem = problem
        super().__init__(f"{file}:{line}: {key}: {problem}")


def type_name(value: object) -> str:
    """How a YAML value's type is named in an error ("a string", "null", ...)."""
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


def _shown(value: object) -> str:
    return "an empty string" if value == "" else type_name(value)


def key_line(node: CommentedMap, key: object, default: int) -> int:
    """The 1-based line of ``key`` in ``node``, or ``default`` when ruamel does not know it."""
    try:
        return int(node.lc.key(key)[0]) + 1
    except (KeyError, TypeError, AttributeError):
        return default


def item_line(node: CommentedSeq, index: int, default: int) -> int:
    """The 1-based line of item ``index`` of ``node``."""
    try:
        return int(node.lc.item(index)[0]) + 1
    except (KeyError, TypeError, AttributeError):
        return default


@dataclass(frozen=True)
class Place:
    """Where a value sits: its file, key path (``""`` at the top level) and line.

    It also carries what reading further down needs: the folder relative paths are
    resolved from, which keys this file may set, and whether keys declared for a coming
    release may be set (tests of their reading do; files do not).
    """

    file: str
    path: str
    line: int
    base_dir: Path
    restriction: Restriction | None = None
    #: The declared names leading here, list indices and registry hosts left out.
    schema_path: tuple[str, ...] = ()
    accept_planned: bool = False

    def key(self, name: str, line: int) -> Place:
        """The place of key ``name`` of the mapping here."""
        path = f"{self.path}.{name}" if self.path else name
        return replace(self, path=path, line=line, schema_path=(*self.schema_path, name))

    def item(self, index: int, line: int) -> Place:
        """The place of item ``index`` of the list here."""
        return replace(self, path=f"{self.path}[{index}]", line=line)

    def entry(self, name: str, line: int) -> Place:
        """The place of a free-form key such as a registry host, which may hold dots."""
        return replace(self, path=f"{self.path}[{name}]", line=line)

    def error(self, problem: str, line: int | None = None) -> ConfigError:
        return ConfigError(
            self.file, self.line if line is None else line, self.path or "(top level)", problem
        )


class Kind(ABC, Generic[T]):
    """How a key's value is written and checked; ``read`` is given the value as parsed
    (ruamel's nodes), never a missing one, and ``base`` is the value being read over."""

    @abstractmethod
    def read(self, value: object, at: Place, base: T) -> T:
        """The checked value, or a :class:`ConfigError` at ``at``."""

    @abstractmethod
    def show(self, value: T) -> str:
        """``value`` written as in the file, for the documentation."""


class Boolean(Kind[bool]):
    def read(self, value: object, at: Place, base: bool) -> bool:
        if not isinstance(value, bool):
            raise at.error(f"must be true or false, not {type_name(value)}")
        return value

    def show(self, value: bool) -> str:
        return "true" if value else "false"


@dataclass(frozen=True)
class Text(Kind[str]):
    """A non-empty string; ``check`` returns a problem or None."""

    check: Callable[[str], str | None] | None = None

    def read(self, value: object, at: Place, base: str) -> str:
        if not isinstance(value, str) or not value:
            raise at.error(f"must be a non-empty string, not {_shown(value)}")
        problem = self.check(value) if self.check else None
        if problem:
            raise at.error(problem)
        return str(value)

    def show(self, value: str) -> str:
        return value


class OneLine(Kind[str]):
    """One line of text, possibly empty (null means empty); no line breaks or controls."""

    def read(self, value: object, at: Place, base: str) -> str:
        if value is None:
            return ""
        if not isinstance(value, str):
            raise at.error(f"must be a string, not {type_name(value)}")
        if _CONTROL.search(value):
            raise at.error("must be one line of text, without line breaks or control characters")
        return str(value)

    def show(self, value: str) -> str:
        return repr(value).replace("'", '"') if value == "" else value


class Count(Kind[int]):
    """A whole number, zero or more."""

    def read(self, value: object, at: Place, base: int) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise at.error(f"must be a whole number, not {type_name(value)}")
        if value < 0:
            raise at.error(f"must be 0 or more, not {value}")
        return int(value)

    def show(self, value: int) -> str:
        return str(value)


@dataclass(frozen=True)
class Choice(Kind[Any]):
    """One of a few words (typed as the ``Literal`` the field declares)."""

    choices: tuple[str, ...]

    def read(self, value: object, at: Place, base: Any) -> Any:
        if value not in self.choices:
            raise at.error(f"must be {self.expected()}, not {_shown_choice(value)}")
        return str(value)

    def expected(self) -> str:
        return "one of " + ", ".join(repr(choice) for choice in self.choices)

    def show(self, value: Any) -> str:
        return str(value)


def _shown_choice(value: object) -> str:
    return repr(str(value)) if isinstance(value, str) else type_name(value)


@dataclass(frozen=True)
class Strings(Kind[tuple[str, ...]]):
    """A list of non-empty strings (null means an empty list).

    ``check`` returns a problem with one item or None; ``choices`` limits the items to a
    few words; ``at_least`` is the fewest items allowed.
    """

    check: Callable[[str], str | None] | None = None
    choices: tuple[str, ...] = ()
    at_least: int = 0

    def read(self, value: object, at: Place, base: tuple[str, ...]) -> tuple[str, ...]:
        if value is None:
            value = CommentedSeq()
        if not isinstance(value, CommentedSeq):
            raise at.error(f"must be a list of strings, not {type_name(value)}")
        if len(value) < self.at_least:
            raise at.error(f"must list at least {self.at_least}")
        return tuple(self._item(item, at.item(index, item_line(value, index, at.line)))
                     for index, item in enumerate(value))  # fmt: skip

    def _item(self, item: object, at: Place) -> str:
        if self.choices:
            return str(Choice(self.choices).read(item, at, ""))
        return Text(self.check).read(item, at, "")

    def show(self, value: tuple[str, ...]) -> str:
        return "[" + ", ".join(_flow_item(item) for item in value) + "]"


_PLAIN_ITEM = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/-]*")


def _flow_item(text: str) -> str:
    """``text`` as an item of a YAML flow list, quoted when it would not read back as itself."""
    return text if _PLAIN_ITEM.fullmatch(text) else '"' + text.replace('"', '\\"') + '"'


class EnvName(Kind["str | None"]):
    """The name of an environment variable (null: none), checked without showing the value."""

    def read(self, value: object, at: Place, base: str | None) -> str | None:
        if value is None:
            return None
        if not isinstance(value, str):
            raise at.error(f"must be the name of an environment variable, not {type_name(value)}")
        if value.lower().startswith(_TOKEN_PREFIXES):
            raise at.error(
                "looks like a token, not the name of an environment variable; "
                "put the token in a variable and give its name here"
            )
        if not _ENV_NAME.fullmatch(value):
            raise at.error(
                "must be the name of an environment variable (letters, digits and '_', "
                "not starting with a digit)"
            )
        return str(value)

    def show(self, value: str | None) -> str:
        return "none" if value is None else value


class ExistingFile(Kind["Path | None"]):
    """A file that must exist; a relative path is resolved from the configuration's folder."""

    def read(self, value: object, at: Place, base: Path | None) -> Path | None:
        text = Text().read(value, at, "")
        path = (at.base_dir / Path(text).expanduser()).resolve()
        if not path.is_file():
            raise at.error(f"file not found: {path}")
        return path

    def show(self, value: Path | None) -> str:
        return "none" if value is None else str(value)


_DURATION_PART = re.compile(r"(\d+)([smhdw])")
_DURATION = re.compile(rf"(?:{_DURATION_PART.pattern})+")
_UNITS = {"w": timedelta(weeks=1), "d": timedelta(days=1), "h": timedelta(hours=1),
          "m": timedelta(minutes=1), "s": timedelta(seconds=1)}  # fmt: skip


def parse_duration(text: str) -> timedelta:
    """A duration written as whole numbers with units, largest first or not.

    >>> parse_duration("1d12h")
    datetime.timedelta(days=1, seconds=43200)
    """
    if not _DURATION.fullmatch(text):
        raise ValueError(f"not a duration: {text!r}")
    return sum(
        (int(count) * _UNITS[unit] for count, unit in _DURATION_PART.findall(text)), timedelta()
    )


def format_duration(value: timedelta) -> str:
    """The shortest spelling :func:`parse_duration` reads back: ``3d``, ``1d12h``, ``0s``."""
    seconds = int(value.total_seconds())
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        count, seconds = divmod(seconds, size)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts) or "0s"


class Duration(Kind[timedelta]):
    """A length of time: ``72h``, ``3d``, ``90m``, ``1d12h``, ``0s`` (w, d, h, m, s)."""

    def read(self, value: object, at: Place, base: timedelta) -> timedelta:
        expected = "must be a duration such as 72h, 3d or 0s (units w, d, h, m, s)"
        if isinstance(value, bool) or (isinstance(value, int) and value != 0):
            raise at.error(f"{expected}, not a number without a unit")
        if value == 0:
            return timedelta()
        if not isinstance(value, str):
            raise at.error(f"{expected}, not {type_name(value)}")
        try:
            return parse_duration(value.strip())
        except ValueError:
            raise at.error(f"{expected}, not {value!r}") from None

    def show(self, value: timedelta) -> str:
        return format_duration(value)


@dataclass(frozen=True)
class Maybe(Kind["T | None"]):
    """A key that may be left out (``None``); ``absent`` says what that means, for the
    documentation ("none", "as `pin.min-age`")."""

    kind: Kind[T]
    absent: str = "none"

    def read(self, value: object, at: Place, base: T | None) -> T | None:
        # The inner kinds are never tables, so they read without a base.
        return self.kind.read(value, at, base)  # type: ignore[arg-type]

    def show(self, value: T | None) -> str:
        return self.absent if value is None else self.kind.show(value)
