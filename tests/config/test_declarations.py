"""The key declarations are the one source: the reference file, the README and what a
repository may set all follow them, and the table machinery reads any declared schema."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap

from pinbot.config import (
    REPOSITORY_KEYS,
    Config,
    ConfigError,
    KeyRow,
    RepositoryConfig,
    declared_keys,
    key_rows,
)
from pinbot.config._tables import (
    HostTable,
    OperatorKeysRefused,
    Table,
    TableList,
    key,
)
from pinbot.config._values import Boolean, Place, Strings, Text

REPO = Path(__file__).resolve().parents[2]
README = (REPO / "README.md").read_text(encoding="utf-8")


def _walk(schema: type, node: CommentedMap, path: str, text: str) -> list[str]:
    """The declared keys missing from ``node`` (or, inside collections, from the comments)."""
    missing = []
    for declared in declared_keys(schema):
        name = f"{path}{declared.name}"
        kind = declared.kind
        if declared.name not in node:
            missing.append(name)
        elif isinstance(kind, Table):
            missing += _walk(kind.schema, node[declared.name], f"{name}.", text)
        if isinstance(kind, HostTable | TableList):
            # Entries are examples in comments: each key is shown there as `# name:`.
            for inner in declared_keys(kind.table.schema):
                if not re.search(rf"^#[ \t]+(- )?{re.escape(inner.name)}:", text, re.MULTILINE):
                    missing.append(f"{name}[].{inner.name}")
    return missing


def test_reference_file_lists_every_declared_key() -> None:
    path = REPO / "config" / "pinbot.yaml"
    text = path.read_text(encoding="utf-8")
    document = YAML(typ="rt").load(text)
    assert _walk(Config, document, "", text) == []


def _readme_rows(heading: str) -> list[list[str]]:
    """The cells of the first table after ``heading`` in the README."""
    section = README.split(f"\n{heading}\n", 1)[1]
    table = re.search(r"^\|.*?(?=\n\n)", section, re.MULTILINE | re.DOTALL)
    assert table is not None, heading
    rows = [line.strip("|").split(" | ") for line in table.group(0).splitlines()]
    return [[cell.strip() for cell in row] for row in rows[2:]]


def _readme_table(rows: list[KeyRow]) -> list[list[str]]:
    """The README's rows. A key only the run's configuration sets says so, and a key not acted
    on yet says that, unless the key holding it already does."""
    cells = []
    marked: dict[str, list[str]] = {"operator": [], "planned": []}
    notes = {
        "operator": " (the run's configuration only)",
        "planned": " — *not acted on yet: a value other than the default is refused*",
    }
    for row in rows:
        default = f"`{row.default}`" if row.default_is_value else row.default
        meaning = row.help
        for flag, is_set in (("operator", row.operator_only), ("planned", row.planned)):
            outer = marked[flag]
            if is_set and not any(row.path.startswith((f"{p}.", f"{p}[")) for p in outer):
                meaning += notes[flag]
                outer.append(row.path)
        cells.append([f"`{row.path}`", default, meaning])
    return cells


def test_readme_configuration_table_is_the_declarations() -> None:
    expected = _readme_table(list(key_rows(Config)))
    shown = "\n".join("| " + " | ".join(row) + " |" for row in expected)
    assert _readme_rows("## Configuration") == expected, f"README should list:\n{shown}"


def test_readme_lists_what_a_repository_may_set() -> None:
    expected = [
        [f"`{name}`", ", ".join(f"`{inner}`" for inner in keys) or "the whole list"]
        for name, keys in REPOSITORY_KEYS.items()
    ]
    assert _readme_rows("### A repository's own settings") == expected


def test_repository_keys_are_every_key_but_the_operators() -> None:
    rows = list(key_rows(Config))
    operator = {row.path for row in rows if row.operator_only}
    assert {"registries", "github.branch-prefix"} <= operator
    for section, names in REPOSITORY_KEYS.items():
        assert section not in operator
        for name in names:
            assert f"{section}.{name}" not in operator
    assert "registries" not in REPOSITORY_KEYS
    assert "branch-prefix" not in REPOSITORY_KEYS["github"]
    # The repository's own switch is declared beside what it switches.
    assert [k.name for k in declared_keys(RepositoryConfig)] == ["enabled"]


# A schema of its own, to prove the machinery reads what a new section would declare:
# a list of small tables with a required key and an operator-only key inside.


@dataclass(frozen=True)
class _Step:
    images: tuple[str, ...] = key(Strings(), (), "images", required=True)
    note: str = key(Text(), "none", "a note")
    fast_lane: bool = key(Boolean(), False, "only the operator", operator_only=True)


@dataclass(frozen=True)
class _Plan:
    steps: tuple[_Step, ...] = key(TableList(Table(_Step, null_is_empty=False)), (), "steps")
    enabled: bool = key(Boolean(), True, "on")


def _read(text: str, restricted: bool = False) -> _Plan:
    restriction = OperatorKeysRefused("operator's only") if restricted else None
    at = Place("plan.yaml", "", 1, REPO, restriction)
    return Table(_Plan).read(YAML(typ="rt").load(text), at, _Plan())


def test_a_list_of_declared_tables_is_read_item_by_item() -> None:
    plan = _read("steps:\n  - images: [a, b]\n  - images: [c]\n    note: hi\n")
    assert plan.steps == (_Step(images=("a", "b")), _Step(images=("c",), note="hi"))
    assert _read("steps:\n").steps == ()
    assert [row.path for row in key_rows(_Plan)] == [
        "steps", "steps[].images", "steps[].note", "steps[].fast-lane", "enabled",
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("text", "line", "path", "problem"),
    [
        ("steps:\n  - images: [a]\n  - imagez: [b]\n", 3, "steps[1].imagez", "did you mean 'images'"),
        ("steps:\n  - note: x\n", 2, "steps[0]", "needs the key 'images'"),
        ("steps:\n  - images: [a]\n  -\n", 3, "steps[1]", "must be a mapping, not null"),
        ("steps: {images: [a]}\n", 1, "steps", "must be a list of mappings, not a mapping"),
        ("steps:\n  - images: [a, '']\n", 2, "steps[0].images[1]", "non-empty string"),
        ("enabled: true\nstep: []\n", 2, "step", "did you mean 'steps'"),
    ],
)
def test_errors_inside_lists_name_the_item(text: str, line: int, path: str, problem: str) -> None:
    with pytest.raises(ConfigError) as caught:
        _read(text)
    assert (caught.value.file, caught.value.line, caught.value.key) == ("plan.yaml", line, path)
    assert problem in caught.value.problem


def test_operator_keys_inside_list_items_are_refused_to_a_repository() -> None:
    assert _read("steps:\n  - images: [a]\n    fast-lane: true\n").steps[0].fast_lane
    with pytest.raises(ConfigError) as caught:
        _read("steps:\n  - images: [a]\n    fast-lane: true\n", restricted=True)
    assert (caught.value.line, caught.value.key) == (3, "steps[0].fast-lane")
    assert caught.value.problem == "operator's only"
    with pytest.raises(ConfigError) as caught:
        _read("steps:\n  - images: [a]\n    fast-lan: true\n", restricted=True)
    assert "known keys: images, note" in caught.value.problem
