"""Session-wide real registries for tests (see tests/support/registry.py).

Each registry fixture starts its own `docker-registry serve` on a free loopback port with a
temporary storage directory and stops it at the end of the session:

- `registry_http`  — plain HTTP, no auth.
- `registry_tls`   — HTTPS with a certificate from the session's test CA (`test_ca`).
- `registry_basic` — HTTPS + htpasswd Basic auth (`username`/`password` can push and pull).
- `registry_token` — HTTPS + token auth via `registry.token_server`; anonymous pull is allowed
  on repositories starting with `public/`, everything else needs `username`/`password`.
- `fault_proxy`    — per test, a fault-injecting reverse proxy in front of `registry_http`.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator

import pytest
from hypothesis import settings

from tests.support.certs import TestCA
from tests.support.fault_proxy import FaultProxy
from tests.support.registry import RunningRegistry, start_registry
from tests.support.token_server import TokenServer

# In CI property tests explore the same examples on every run, so a result never depends on
# the draw; locally they explore afresh (and keep failures in .hypothesis/).
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")

REGISTRY_USER = "pinbot"
REGISTRY_PASSWORD = "s3cret-pinbot-pass"


def _need_registry() -> None:
    if shutil.which("docker-registry") is None:
        pytest.skip("docker-registry is not installed")


@pytest.fixture(scope="session")
def test_ca(tmp_path_factory: pytest.TempPathFactory) -> TestCA:
    """The session's certificate authority (`.ca_file` PEM, `.cert_dir` for skopeo)."""
    return TestCA(tmp_path_factory.mktemp("ca"))


@pytest.fixture(scope="session")
def registry_http(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningRegistry]:
    """Plain HTTP registry, no auth, deletes enabled."""
    _need_registry()
    reg = start_registry(tmp_path_factory.mktemp("registry-http"))
    try:
        yield reg
    finally:
        reg.close()


@pytest.fixture(scope="session")
def registry_tls(
    tmp_path_factory: pytest.TempPathFactory, test_ca: TestCA
) -> Iterator[RunningRegistry]:
    """HTTPS registry (cert from `test_ca`, SANs 127.0.0.1, ::1, localhost), no auth."""
    _need_registry()
    reg = start_registry(tmp_path_factory.mktemp("registry-tls"), ca=test_ca)
    try:
        yield reg
    finally:
        reg.close()


@pytest.fixture(scope="session")
def registry_basic(
    tmp_path_factory: pytest.TempPathFactory, test_ca: TestCA
) -> Iterator[RunningRegistry]:
    """HTTPS registry with htpasswd (bcrypt) Basic auth."""
    _need_registry()
    reg = start_registry(
        tmp_path_factory.mktemp("registry-basic"),
        ca=test_ca,
        htpasswd_users={REGISTRY_USER: REGISTRY_PASSWORD},
        username=REGISTRY_USER,
        password=REGISTRY_PASSWORD,
    )
    try:
        yield reg
    finally:
        reg.close()


@pytest.fixture(scope="session")
def registry_token(
    tmp_path_factory: pytest.TempPathFactory, test_ca: TestCA
) -> Iterator[RunningRegistry]:
    """HTTPS registry with token auth; `registry_token.token_server` is the token server.

    Anonymous pull works on `public/…` repositories; everything else needs the credentials.
    """
    _need_registry()
    workdir = tmp_path_factory.mktemp("registry-token")
    token_server = TokenServer(
        workdir / "token-server",
        users={REGISTRY_USER: REGISTRY_PASSWORD},
        ca=test_ca,
        public_prefixes=("public/",),
    ).start()
    try:
        reg = start_registry(
            workdir,
            ca=test_ca,
            token_server=token_server,
            username=REGISTRY_USER,
            password=REGISTRY_PASSWORD,
        )
        try:
            yield reg
        finally:
            reg.close()
    finally:
        token_server.close()


@pytest.fixture
def fault_proxy(registry_http: RunningRegistry) -> Iterator[FaultProxy]:
    """A fresh fault-injecting reverse proxy in front of `registry_http` (see fault_proxy.py)."""
    proxy = FaultProxy(registry_http.url)
    try:
        yield proxy
    finally:
        proxy.close()


# Fixtures that start a real server (a registry process, a token server, a proxy, the GitHub
# fake): a test using any of them, directly or through another fixture, is an integration
# test, so `pytest -m "not integration"` runs only what needs no server.
_SERVER_FIXTURE_PREFIXES = ("registry", "fault_proxy", "fake", "github", "token", "hostile")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        names = getattr(item, "fixturenames", ())
        if any(name.startswith(_SERVER_FIXTURE_PREFIXES) for name in names):
            item.add_marker(pytest.mark.integration)
