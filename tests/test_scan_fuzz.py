"""Damaged real-world files: no scanner crashes, every span lies where it says, and pinning
either changes only the reported spans or refuses the file whole. Nothing is ever corrupted.

Real corpus files are mutated by hypothesis (cut, duplicated, spliced with YAML, Dockerfile
and JSON punctuation, line endings changed), then scanned and pinned to fake verified digests.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pinbot.apply import ApplyError, apply_edits, distinct
from pinbot.plan import Lookup, lookup_key, plan
from pinbot.scanners import candidate_paths, scan_text
from tests.support.corpus import corpus_root

PUNCTUATION = [":", " ", "\n", "\r\n", "\t", "-", "'", '"', "{", "}", "[", "]", "#", "&a ", "*a", "|", ">", "\\", "$", "{{", "@", "/", ",", "\ufeff", "é"]


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


FILES = _sample_files()


@st.composite
def damaged(draw: st.DrawFn) -> tuple[str, str]:
    if not FILES:
        pytest.skip("real-world corpus not found (set PINBOT_CORPUS)")
    path, text = draw(st.sampled_from(FILES))
    for _ in range(draw(st.integers(1, 4))):
        if not text:
            break
        where = draw(st.integers(0, len(text)))
        action = draw(st.sampled_from(["insert", "delete", "duplicate-line", "crlf"]))
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
