"""Fixtures of the registry tests: hostile registries on loopback, one per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.hostile_registry import HostileRegistry


@pytest.fixture
def hostile_registry() -> Iterator[HostileRegistry]:
    """A registry that answers what the test tells it to (floods, stalls, lies)."""
    with HostileRegistry() as hostile:
        yield hostile
