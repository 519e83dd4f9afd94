"""The contract every scanner keeps, checked over each scanner's fixture table (`tables/`).

- It claims the file names it should, and no others.
- Each case gives exactly its references, in file order; each trap gives none; each broken
  text is refused with a `ScanError` naming its line.
- Every span holds what it says: the text there, the same bytes in the encoded file, and the
  reference it names when it is rewritten in place.
- Empty, blank and malformed input gives nothing or a `ScanError`, never another exception.
- Damaged files (the fuzz mutations below, over real-world corpus files, the seeds in
  `tests/fuzz_seeds/` and every fixture text) never crash the scan, and pinning them either
  changes only the reported spans or refuses the file whole.

The seeds are small files written for these tests, one or two per kind the corpus lacks: their
scanners have parsers of their own. A seed's path below tests/fuzz_seeds/ is the path it is
scanned as, so it must be a name its scanner claims.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pinbot.apply import ApplyError, apply_edits, distinct
from pinbot.plan import Lookup, lookup_key, plan
from pinbot.scanners import Finding, Occurrence, ScanError, all_scanners, candidate_paths, scan_text
from pinbot.scanners._registry import scanner_of_kind
from tests.scanners.tables import Broken, Case, FixtureTable, Trap, all_tables
from tests.support.corpus import corpus_root, scan_corpus_file

TABLES = all_tables()
SEEDS_ROOT = Path(__file__).parents[1] / "fuzz_seeds"


def _path(table: FixtureTable, entry: Case | Trap | Broken) -> str:
    return entry.path or table.path


def _entries(kind: str) -> list[object]:
    params = []
    for table in TABLES:
        for entry in getattr(table, kind):
            params.append(pytest.param(table, entry, id=f"{table.kind}: {entry.name}"))
    return params


def shown(text: str, findings: Iterable[Finding]) -> list[tuple[str, str]]:
    """(text at the span, or the reference named by an empty span; context), in file order."""
    ordered = sorted(findings, key=lambda f: (f.start, f.end))
    return [
        (text[f.start : f.end] if f.end > f.start else f.reference_text or "", f.context)
        for f in ordered
    ]


def assert_findings_hold(text: str, findings: Iterable[Finding]) -> None:
    for finding in findings:
        assert 0 <= finding.start <= finding.end <= len(text), finding
        written = text[finding.start : finding.end]
        assert written or finding.reference_text, finding  # something to show
        if finding.rewritable and finding.digest_slot is None:
            assert written and written == (finding.reference_text or written), finding
        if finding.digest_slot is not None:
            assert 0 <= finding.digest_slot.start <= finding.digest_slot.end <= len(text)


def assert_occurrences_hold(text: str, occurrences: Iterable[Occurrence]) -> None:
    data = text.encode("utf-8")
    for o in occurrences:
        assert 0 <= o.start <= o.end <= len(text)
        assert o.text == text[o.start : o.end]
        assert data[o.byte_start : o.byte_end] == o.text.encode("utf-8")
        assert text.count("\n", 0, o.start) + 1 == o.line
        if o.rewritable and o.digest_slot is None:
            assert o.text == o.reference_text, o
        if o.digest_slot is not None:
            assert 0 <= o.digest_slot.start <= o.digest_slot.end <= len(text)


def test_every_scanner_has_one_fixture_table() -> None:
    assert [table.kind for table in TABLES] == sorted(s.kind for s in all_scanners())
    for table in TABLES:
        assert table.cases, f"{table.kind}: a table needs at least one case"


@pytest.mark.parametrize(
    ("kind", "path", "claimed"),
    [
        pytest.param(table.kind, path, claimed, id=f"{table.kind}: {path}")
        for table in TABLES
        for path, claimed in [
            (table.path, True),
            *((path, True) for path in table.claims),
            *((path, False) for path in table.ignores),
        ]
    ],
)
def test_claims_its_file_names_and_no_others(kind: str, path: str, claimed: bool) -> None:
    assert scanner_of_kind(kind).matches(path) is claimed


@pytest.mark.parametrize(("table", "case"), _entries("cases"))
def test_a_case_gives_exactly_its_references(table: FixtureTable, case: Case) -> None:
    path = _path(table, case)
    findings = list(scanner_of_kind(table.kind).scan(path, case.text))
    assert shown(case.text, findings) == list(case.expected)
    assert_findings_hold(case.text, findings)


@pytest.mark.parametrize(("table", "case"), _entries("cases"))
def test_spans_hold_what_they_say_through_the_driver(table: FixtureTable, case: Case) -> None:
    for text in (case.text, case.text.replace("\n", "\r\n"), "\ufeff" + case.text):
        outcome = scan_text(_path(table, case), text)
        assert_occurrences_hold(text, outcome.occurrences)


@pytest.mark.parametrize(("table", "trap"), _entries("traps"))
def test_a_trap_gives_nothing(table: FixtureTable, trap: Trap) -> None:
    assert shown(trap.text, scanner_of_kind(table.kind).scan(_path(table, trap), trap.text)) == []


@pytest.mark.parametrize(("table", "broken"), _entries("broken"))
def test_broken_input_is_refused_with_its_line(table: FixtureTable, broken: Broken) -> None:
    with pytest.raises(ScanError) as refused:
        list(scanner_of_kind(table.kind).scan(_path(table, broken), broken.text))
    assert refused.value.line == broken.line


@pytest.mark.parametrize("table", TABLES, ids=[table.kind for table in TABLES])
@pytest.mark.parametrize("text", ["", "\n", "\r\n", "  \n \n", "\ufeff"], ids=repr)
def test_empty_and_blank_input_gives_nothing(table: FixtureTable, text: str) -> None:
    assert list(scanner_of_kind(table.kind).scan(table.path, text)) == []


MALFORMED = [
    "\x00\x01\x02",
    "{",
    "}",
    "[",
    '"',
    "'",
    ":",
    "- - -",
    "{{{{",
    "<<EOF\n",
    "\\",
    "${",
    "image: [unterminated",
    'image = "unterminated\n',
    "FROM",
    "/*",
    "key: 'a\n  b",
    "\t- \t:",
    "&a [*a]",
    "a" * 20000,
    "[" * 5000,
    "{" * 5000,
    "- " * 5000 + "x",
    "a {\n" * 500,
    "(" * 5000,
    '"${' * 500,
]


@pytest.mark.parametrize("table", TABLES, ids=[table.kind for table in TABLES])
@pytest.mark.parametrize("text", MALFORMED, ids=lambda text: repr(text[:12]))
def test_malformed_input_gives_nothing_or_a_scan_error(table: FixtureTable, text: str) -> None:
    try:
        findings = list(scanner_of_kind(table.kind).scan(table.path, text))
    except ScanError as refused:
        assert refused.line is None or 1 <= refused.line <= text.count("\n") + 1
        return
    assert_findings_hold(text, findings)


@pytest.mark.corpus
@pytest.mark.parametrize(
    ("kind", "relative", "count"),
    [
        pytest.param(table.kind, relative, count, id=f"{table.kind}: {relative}")
        for table in TABLES
        for relative, count in sorted(table.corpus.items())
    ],
)
def test_real_files_give_the_counted_references(kind: str, relative: str, count: int) -> None:
    occurrences = [o for o in scan_corpus_file(relative) if o.kind == kind]
    assert len(occurrences) == count, [(o.line, o.text) for o in occurrences]
    text = (corpus_root() / relative).read_text(encoding="utf-8")
    assert_occurrences_hold(text, occurrences)


# -- fuzz: damaged files -----------------------------------------------------------------

PUNCTUATION = [
    # YAML, Dockerfile, JSON
    ":", " ", "\n", "\r\n", "\t", "-", "'", '"', "{", "}", "[", "]", "#", "&a ", "*a", "|",
    ">", "\\", "$", "{{", "@", "/", ",", "\ufeff", "é",
    # Groovy (Jenkinsfile), HCL (Nomad, Bake), JSON with comments, Earthfile, Concourse, Azure
    "'''", '"""', "${", "${{", "}}", "%{", "$${", "//", "/*", "*/", "=", "(", ")", "<<",
    "<<EOF\n", "<<-EOT\n", "\nEOT\n", "((", "))", "\\\n", "+", "\\u00e9", '\\"', ".",
]  # fmt: skip


def _seed_files() -> list[tuple[str, str]]:
    return sorted(
        (path.relative_to(SEEDS_ROOT).as_posix(), path.read_text(encoding="utf-8"))
        for path in SEEDS_ROOT.rglob("*")
        if path.is_file()
    )


def _fixture_texts() -> list[tuple[str, str]]:
    return [
        (_path(table, case), case.text) for table in TABLES for case in table.cases if case.expected
    ]


def _sample_files() -> list[tuple[str, str]]:
    try:
        root = corpus_root()
    except pytest.skip.Exception:
        return []
    chosen = []
    seen_kinds: dict[str, int] = {}
    for relative in candidate_paths(root):
        kind = Path(relative).suffix or Path(relative).name
        if seen_kinds.get(kind, 0) >= 12:
            continue
        try:
            text = (root / relative).read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        if "image" not in text.lower() and "FROM" not in text:
            continue
        seen_kinds[kind] = seen_kinds.get(kind, 0) + 1
        chosen.append((relative, text[:6000]))
    return chosen


SEEDS = _seed_files()
FIXTURES = _fixture_texts()
CORPUS = _sample_files()


def test_every_seed_is_read_by_its_scanner() -> None:
    """A seed no scanner claims, or one its scanner rejects, would fuzz nothing."""
    assert SEEDS
    for path, text in SEEDS:
        outcome = scan_text(path, text)
        assert outcome.errors == [], path
        assert outcome.occurrences, path


@st.composite
def damaged(draw: st.DrawFn) -> tuple[str, str]:
    # Seeds and fixture texts are drawn as often as corpus files, so the kinds the corpus
    # lacks are fuzzed as often.
    sources = [st.sampled_from(SEEDS), st.sampled_from(FIXTURES)]
    sources += [st.sampled_from(CORPUS)] if CORPUS else []
    path, text = draw(st.one_of(sources))
    for _ in range(draw(st.integers(1, 4))):
        if not text:
            break
        where = draw(st.integers(0, len(text)))
        action = draw(
            st.sampled_from(["insert", "delete", "duplicate-line", "splice", "repeat", "crlf"])
        )
        if action == "insert":
            text = text[:where] + draw(st.sampled_from(PUNCTUATION)) + text[where:]
        elif action == "delete":
            length = draw(st.integers(1, 40))
            text = text[:where] + text[where + length :]
        elif action == "duplicate-line":
            start = text.rfind("\n", 0, where) + 1
            end = text.find("\n", where)
            end = len(text) if end < 0 else end + 1
            text = text[:end] + text[start:end] + text[end:]
        elif action == "splice":  # a piece of the file again elsewhere: nesting, stray quotes
            start = draw(st.integers(0, len(text) - 1))
            piece = text[start : start + draw(st.integers(1, 80))]
            text = text[:where] + piece + text[where:]
        elif action == "repeat":  # one short piece many times over: deep nesting
            start = draw(st.integers(0, len(text) - 1))
            piece = text[start : start + draw(st.integers(1, 8))]
            text = text[:where] + piece * draw(st.integers(2, 1500)) + text[where:]
        else:
            text = text.replace("\n", "\r\n")
    return path, text


def fake_lookups(text_path: str, text: str) -> dict[str, Lookup]:
    out = {}
    for o in scan_text(text_path, text).occurrences:
        if o.reference is not None:
            key = lookup_key(o.reference)
            out[key] = Lookup("sha256:" + hashlib.sha256(key.encode()).hexdigest(), verified=True)
    return out


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(damaged())
def test_damaged_files_never_crash_and_never_get_corrupted(case: tuple[str, str]) -> None:
    path, text = case
    outcome = scan_text(path, text)  # must not raise, whatever the text
    # The driver contains a scanner's bug to its file (`the … scanner failed on it`); under
    # fuzzing there must be none to contain.
    assert [p for p in outcome.errors if "scanner failed on it" in p.message] == []
    assert_occurrences_hold(text, outcome.occurrences)
    edits = plan(outcome.occurrences, fake_lookups(path, text)).edits
    data = text.encode("utf-8")
    try:
        change = apply_edits(path, data, edits)
    except ApplyError:
        return  # refused whole: the file stays exactly as it was
    updated = change.updated.decode("utf-8")
    rebuilt, position = [], 0
    for edit in distinct(change.edits):
        rebuilt.append(text[position : edit.start])
        rebuilt.append(edit.replacement)
        position = edit.end
    rebuilt.append(text[position:])
    assert "".join(rebuilt) == updated
