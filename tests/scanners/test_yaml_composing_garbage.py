"""Composing a YAML text leaves no garbage only the collector can free: the libyaml loader,
which holds the text and its encoded copy, goes as soon as the nodes are made."""

from __future__ import annotations

import gc

import pytest

from pinbot.scanners import _yaml

TEXT = "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n    - image: nginx:1.27\n" * 40


@pytest.mark.skipif(_yaml._FastLoader is None, reason="libyaml's composer is not installed")
def test_composing_leaves_no_cycles_behind() -> None:
    _yaml._composed.cache_clear()  # what other tests left there goes now, not in the count
    gc.collect()
    gc.disable()
    try:
        for number in range(20):
            _yaml.compose_documents(f"# {number}\n{TEXT}")  # a new text: composed each time
        assert gc.collect() == 0
    finally:
        gc.enable()
