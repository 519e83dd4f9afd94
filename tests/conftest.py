"""Session-wide real registries for tests (see tests/support/registry.py)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest

from tests.support.registry import RunningRegistry, start_registry


def _need_registry() -> None:
    if shutil.which("docker-registry") is None:
        pytest.skip("docker-registry is not installed")


@pytest.fixture(scope="session")
def registry_http(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningRegistry]:
    """Plain HTTP registry, no auth, deletes enabled."""
    _need_registry()
    reg = start_registry(tmp_path_factory.mktemp("registry-http"))
    try:
        yield reg
    finally:
        reg.close()
