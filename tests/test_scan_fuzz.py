"""Damaged real-world files: no scanner crashes, every span lies where it says, and pinning
either changes only the reported spans or refuses the file whole. Nothing is ever corrupted.

Real corpus files and the seeds in tests/fuzz_seeds/ are mutated by hypothesis (cut,
duplicated, repeated, spliced with YAML, Dockerfile, JSON, Groovy and HCL punctuation or with
a piece of the file itself, line endings changed), then scanned and pinned to fake verified
digests.

The seeds are small files written for these tests, one or two per kind the corpus lacks
(Jenkinsfile, Nomad, Azure Pipelines, Woodpecker, Buildkite, Earthfile, Concourse, Bake, dev
container): their scanners have parsers of their own. A seed's path below tests/fuzz_seeds/ is
the path it is scanned as, so it must be a name its scanner claims. The seeds are always there,
so that half of the test runs without the corpus too.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pinbot.apply import ApplyError, apply_edits, distinct
from pinbot.plan import Lookup, lookup_key, plan
from pinbot.scanners import candidate_paths, scan_text
from tests.support.corpus import corpus_root

SEEDS_ROOT = Path(__file__).parent / "fuzz_seeds"

PUNCTUATION = [
    # YAML, Dockerfile, JSON
    ":", " ", "\n", "\r\n", "\t", "-", "'", '"', "{", "}", "[", "]", "#", "&a ", "*a", "|",
    ">", "\\", "$", "{{", "@", "/", ",", "\ufeff", "é",
    # Groovy (Jenkinsfile), HCL (Nomad, Bake), JSON with comments, Earthfile, Concourse, Azure
    "'''", '"""', "${", "${{", "}}", "%{", "$${", "//", "/*", "*/", "=", "(", ")", "<<",
    "<<EOT\n", "<<-EOT\n", "\nEOT\n", "((", "))", "\\\n", "+", "\\u00e9", '\\"', ".",
]  # fmt: skip


def _seed_files() -> list[tuple[str, str]]:
    return sorted(
        (path.relative_to(SEEDS_ROOT).as_posix(), path.read_text(encoding="utf-8"))
        for path in SEEDS_ROOT.rglob("*")
        if path.is_file()
    )


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
    # Half the examples start from a seed, so the kinds the corpus lacks are fuzzed as often.
    sources = [st.sampled_from(SEEDS)] + ([st.sampled_from(CORPUS)] if CORPUS else [])
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
    for o in outcome.occurrences:
        assert 0 <= o.start <= o.end <= len(text)
        assert o.text == text[o.start : o.end]
        if o.rewritable and o.digest_slot is None:
            assert o.text == o.reference_text, (path, o)
        if o.digest_slot is not None:
            assert 0 <= o.digest_slot.start <= o.digest_slot.end <= len(text)
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


YAML_PATHS = [
    "docker-compose.yml",
    "k8s/deployment.yaml",
    ".gitlab-ci.yml",
    ".github/workflows/ci.yml",
    "azure-pipelines.yml",
    ".woodpecker.yml",
    ".buildkite/pipeline.yml",
    "ci/pipeline.yml",
    "charts/app/values.yaml",
]


@pytest.mark.parametrize("path", YAML_PATHS)
@pytest.mark.parametrize(
    "text",
    [
        # A merge key naming the mapping that holds it: following merges recursed without end.
        "&base\n<<: *base\nimage: alpine:3\n",
        "services: &s\n  web:\n    <<: [*s]\n    image: alpine:3\n",
        # Found by the fuzzer above: YAML nested deeper than the pure composer's stack.
        "steps:\n" + "  -" * 800 + " x\n  - [a\n",
    ],
    ids=["self-merge", "merge-of-ancestor", "deep"],
)
def test_yaml_that_cannot_be_walked_is_refused_not_a_crash(path: str, text: str) -> None:
    # Reported as an error by the scanners a path names; YAML of unknown kind is passed over.
    assert scan_text(path, text).occurrences == []


def test_yaml_nested_past_the_c_stack_is_refused_not_a_crash() -> None:
    # libyaml's composer recursed once per level in C: tens of thousands of levels killed the
    # process (SIGSEGV). A child process, so that a regression fails this test, not the run.
    program = (
        "from pinbot.scanners import scan_text\n"
        "for text in ('[' * 200000, '- ' * 100000 + 'x', '{a: ' * 100000):\n"
        "    assert 'nested too deeply' in scan_text('docker-compose.yml', text).errors[0]\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", program], cwd=Path(__file__).parents[1], check=False
    )
    assert done.returncode == 0
