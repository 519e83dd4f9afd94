"""Fixture tables: for each file kind, texts and what its scanner must find in them.

Each module here describes one scanner (by its `kind`) with a `TABLE`; `tests/scanners/
test_contract.py` runs every table through the same checks. Adding a file kind means adding
one table module here.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

# (text at the finding's span, or the reference it names when the span is empty; context)
Expected = Sequence[tuple[str, str]]


@dataclass(frozen=True)
class Case:
    """A text and everything the scanner must find in it, in file order."""

    name: str
    text: str
    expected: Expected
    path: str | None = None  # the table's path unless given


@dataclass(frozen=True)
class Trap:
    """A text that looks like it holds references but holds none the scanner may report."""

    name: str
    text: str
    path: str | None = None


@dataclass(frozen=True)
class Broken:
    """A text the scanner must refuse with a `ScanError` naming `line`."""

    name: str
    text: str
    line: int | None
    path: str | None = None


@dataclass(frozen=True)
class FixtureTable:
    """One scanner's fixtures.

    `path` is a name the scanner claims, used for texts that give none; `claims` and `ignores`
    are paths it must and must not claim; `corpus` counts the references of this kind in files
    of the shared real-world corpus.
    """

    kind: str
    path: str
    claims: Sequence[str]
    ignores: Sequence[str]
    cases: Sequence[Case]
    traps: Sequence[Trap] = ()
    broken: Sequence[Broken] = ()
    corpus: Mapping[str, int] = field(default_factory=dict)


def cases(rows: Sequence[tuple[str, str, Expected]], path: str | None = None) -> list[Case]:
    """Cases from (name, text, expected) rows."""
    return [Case(name, text, list(expected), path) for name, text, expected in rows]


def traps(rows: Sequence[tuple[str, str]], path: str | None = None) -> list[Trap]:
    """Traps from (name, text) rows."""
    return [Trap(name, text, path) for name, text in rows]


def all_tables() -> list[FixtureTable]:
    """The `TABLE` of every module in this package, by kind."""
    found = []
    for module in pkgutil.iter_modules(__path__):
        found.append(importlib.import_module(f"{__name__}.{module.name}").TABLE)
    return sorted(found, key=lambda table: table.kind)
