"""The examples in the registry modules' docstrings hold."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "pinbot.registry.auth",
    "pinbot.registry.challenge",
    "pinbot.registry.errors",
    "pinbot.registry.limits",
    "pinbot.registry.manifest",
    "pinbot.registry.memo",
    "pinbot.registry.quota",
    "pinbot.registry.retry",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_hold(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name))
    assert result.attempted > 0
    assert result.failed == 0
