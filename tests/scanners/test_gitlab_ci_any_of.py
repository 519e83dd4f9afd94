"""The expression that finds which files name a variable finds what a substring test finds."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from pinbot.scanners.gitlab_ci import _any_of

# Few letters, so words share beginnings, are prefixes of each other and occur in the texts.
_LETTERS = st.sampled_from("AB_$.*\\[")
_WORDS = st.lists(st.text(_LETTERS, max_size=5), min_size=1, max_size=8)


@settings(max_examples=500, deadline=None)
@given(_WORDS, st.text(_LETTERS, max_size=30))
def test_any_of_finds_a_text_exactly_when_one_of_the_words_is_in_it(
    words: list[str], text: str
) -> None:
    assert bool(_any_of(words).search(text)) == any(word in text for word in words)


def test_long_names_are_found_without_a_deep_expression() -> None:
    long = "V" * 5000
    assert _any_of([long, "X"]).search("a" + long)
    assert not _any_of([long, "X"]).search("V" * 4999)


def test_shared_beginnings_are_written_once() -> None:
    pattern = _any_of(["GIT_DEPTH", "GIT_STRATEGY", "GIT"]).pattern
    assert pattern.count("I") == 1  # GIT is written once for the three names
