"""Pin the whole real-world corpus to deterministic fake digests and prove the edits surgical.

For every file: bytes outside the edited spans are unchanged, each edited reference now holds
its digest, YAML still composes to the same structure except those values, and a second pass
over the output changes nothing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

import pytest

from pinbot.apply import ApplyError, apply_edits, distinct
from pinbot.pipeline import build_changes
from pinbot.plan import Lookup, Plan, lookup_key, plan
from pinbot.scanners import Occurrence, ScanError, candidate_paths, scan_bytes, scan_files
from pinbot.scanners._yaml import MappingNode, Node, ScalarNode, SequenceNode, compose_documents
from tests.support.corpus import corpus_root


def fake_digest(key: str) -> str:
    return "sha256:" + hashlib.sha256(key.encode()).hexdigest()


def fake_lookups(occurrences: Iterable[Occurrence], *, salt: str = "") -> dict[str, Lookup]:
    lookups: dict[str, Lookup] = {}
    for o in occurrences:
        if o.reference is not None:
            key = lookup_key(o.reference)
            lookups[key] = Lookup(fake_digest(salt + key), verified=True)
    return lookups


def _shape(node: Node, changed: set[str], drop_digest_keys: bool = False) -> object:
    """A YAML node tree as plain data, with the values pinbot may change blanked out.

    With `drop_digest_keys`, `digest:` entries are left out: a first pin of a structured
    reference (a Kustomize image) adds one.
    """
    if isinstance(node, MappingNode):
        return [
            (_shape(k, changed), _shape(v, changed, drop_digest_keys))
            for k, v in node.value
            if not (drop_digest_keys and isinstance(k, ScalarNode) and k.value == "digest")
        ]
    if isinstance(node, SequenceNode):
        return [_shape(item, changed, drop_digest_keys) for item in node.value]
    assert isinstance(node, ScalarNode)
    value = str(node.value)
    # Longest first: a replacement contains the text it replaced. Values inside block
    # scalars (an Argo resource manifest) hold an edited reference as a substring.
    for text in sorted(changed, key=len, reverse=True):
        value = value.replace(text, "<edited>")
    return value


@pytest.fixture(scope="module")
def corpus_files() -> list[tuple[str, bytes]]:
    root = corpus_root()
    return [(path, (root / path).read_bytes()) for path in candidate_paths(root)]


@pytest.mark.slow
def test_corpus_has_files_of_every_kind(corpus_files: list[tuple[str, bytes]]) -> None:
    kinds: set[str] = set()
    for path, data in corpus_files:
        kinds.update(o.kind for o in scan_bytes(path, data).occurrences)
    assert {"dockerfile", "kubernetes", "compose"} <= kinds


@pytest.mark.slow
def test_pinning_changes_only_the_reported_spans(corpus_files: list[tuple[str, bytes]]) -> None:
    edited_files = edits_total = yaml_compared = yaml_skipped = 0
    failures: list[str] = []
    for path, data in corpus_files:
        outcome = scan_bytes(path, data)
        edits = plan(outcome.occurrences, fake_lookups(outcome.occurrences)).edits
        if not edits:
            continue
        try:
            change = apply_edits(path, data, edits)
        except ApplyError as exc:
            failures.append(str(exc))
            continue
        edited_files += 1
        edits_total += len(edits)
        text = data.decode("utf-8")
        updated = change.updated.decode("utf-8")
        # Walk the edits in order: the text between them must be byte-identical.
        position_old = position_new = 0
        for edit in distinct(change.edits):
            gap = edit.start - position_old
            assert updated[position_new : position_new + gap] == text[position_old : edit.start], path
            position_new += gap
            assert updated[position_new : position_new + len(edit.replacement)] == edit.replacement
            position_new += len(edit.replacement)
            position_old = edit.end
        assert updated[position_new:] == text[position_old:], path

        if path.endswith((".yaml", ".yml")):
            changed = {e.occurrence.text for e in edits} | {e.replacement for e in edits}
            try:
                before, _ = compose_documents(text)
            except ScanError:  # a Helm template: read line by line, not as YAML
                yaml_skipped += 1
            else:
                after, _ = compose_documents(updated)
                slots = any(e.occurrence.digest_slot is not None for e in edits)
                shapes = (
                    [_shape(n, changed, slots) for n in before],
                    [_shape(n, changed, slots) for n in after],
                )
                assert shapes[0] == shapes[1], path
                yaml_compared += 1

        # A second pass with the same lookups changes nothing.
        second = scan_bytes(path, change.updated)
        assert plan(second.occurrences, fake_lookups(second.occurrences)).edits == [], path
    assert failures == []
    assert edited_files > 100 and edits_total > 500, (edited_files, edits_total)
    assert yaml_compared > 100 and yaml_skipped < yaml_compared / 5, (yaml_compared, yaml_skipped)


@pytest.mark.slow
def test_a_moved_tag_bumps_only_the_digest(corpus_files: list[tuple[str, bytes]]) -> None:
    bumped = 0
    for path, data in corpus_files[:400]:
        outcome = scan_bytes(path, data)
        first = plan(outcome.occurrences, fake_lookups(outcome.occurrences)).edits
        if not first:
            continue
        pinned = apply_edits(path, data, first).updated
        again = scan_bytes(path, pinned)
        moved = plan(again.occurrences, fake_lookups(again.occurrences, salt="new build ")).edits
        change = apply_edits(path, pinned, moved)
        for edit in change.edits:
            assert edit.old_digest is not None and edit.old_digest != edit.new_digest
            assert edit.replacement.endswith(edit.new_digest)
        bumped += len(change.edits)
        assert len(change.updated) == len(pinned), path  # same digest length: same size
    assert bumped > 100


@pytest.mark.slow
def test_the_corpus_pinned_as_one_set_checks_linked_definitions_too(
    corpus_files: list[tuple[str, bytes]],
) -> None:
    files = dict(corpus_files)
    occurrences = [o for outcome in scan_files(files).values() for o in outcome.occurrences]
    linked = {
        o.context.split(" ", 1)[0]: o
        for o in occurrences
        if o.kind == "gitlab-ci" and " (image of " in o.context
    }
    common = "gitlabhq__gitlab-runner/.gitlab/ci/_common.gitlab-ci.yml"
    assert sorted(linked) == [
        "variables.DOCS_HUGO_IMAGE",
        "variables.DOCS_LINT_IMAGE",
        "variables.RUNNER_LINTERS_IMAGE",
    ]
    assert all(o.file == common for o in linked.values())
    edits = plan(occurrences, fake_lookups(occurrences)).edits
    changes, errors = build_changes(files, Plan(edits=edits))
    assert errors == []
    (change,) = [c for c in changes if c.path == common]
    written = {e.occurrence.text for e in change.edits}
    assert linked["variables.DOCS_LINT_IMAGE"].text in written
    assert linked["variables.RUNNER_LINTERS_IMAGE"].text not in written  # templated

    # A second pass over the pinned set changes nothing.
    pinned = {**files, **{c.path: c.updated for c in changes}}
    again = [o for outcome in scan_files(pinned).values() for o in outcome.occurrences]
    assert len(again) == len(occurrences)
    assert plan(again, fake_lookups(again)).edits == []
