"""Helpers for supply-chain tests: a registry client on the plain-HTTP test registry."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

from pinbot.config import Config, RegistryConfig
from pinbot.reference import ImageReference, parse_normalized
from pinbot.registry import RegistryClient
from tests.support.registry import RunningRegistry

T = TypeVar("T")
_names = itertools.count()


def unique(prefix: str) -> str:
    return f"supply/{prefix}-{next(_names)}"


def client_for(reg: RunningRegistry, tmp_path: Path) -> RegistryClient:
    config = Config(registries={reg.host: RegistryConfig(host=reg.host, insecure=not reg.tls)})
    return RegistryClient(
        config,
        docker_config_dir=tmp_path / "no-docker-config",
        certs_d=tmp_path / "no-certs.d",
        environ={},
        max_attempts=2,
        max_wait=5.0,
        timeout=10.0,
        backoff=0.05,
    )


def ref_in(reg: RunningRegistry, repo: str) -> ImageReference:
    return parse_normalized(f"{reg.host}/{repo}")


def run_with(
    reg: RunningRegistry, tmp_path: Path, work: Callable[[RegistryClient], Awaitable[T]]
) -> T:
    async def main() -> T:
        async with client_for(reg, tmp_path) as client:
            return await work(client)

    return asyncio.run(main())
