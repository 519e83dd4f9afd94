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
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

from tests.support.certs import TestCA
from tests.support.fault_proxy import FaultProxy
from tests.support.github_fake import GitHubFake
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


@pytest.fixture
def fake() -> Iterator[GitHubFake]:
    """A GitHub fake on loopback with the organisation `acme` (tests may shadow it)."""
    with GitHubFake() as running:
        running.create_org("acme")
        yield running



# A test that starts a real server is an integration test, so `pytest -m "not integration"`
# runs only what needs none. It is marked here when it uses, directly, through another fixture or
# by parametrizing one, a fixture that starts a server; a test that starts one in its own body
# carries `@pytest.mark.integration`. `_servers_and_processes_only_where_marked` fails any other test
# that starts one, so a new server fixture missing from this list is found on its first run.
# Likewise a test that starts any other process (pinbot, git, pre-commit) carries
# `@pytest.mark.slow`, so `pytest -m "not integration and not slow"` is the quick loop.
SERVER_FIXTURES = frozenset(
    {
        # docker-registry processes, and fixtures parametrized over them by name
        "registry_http", "registry_tls", "registry_basic", "registry_token", "registry",
        "registry_clear_realm", "registry_client_cert",
        # in-process loopback servers: proxies, hostile registries, fakes of GitHub and OSV
        "fault_proxy", "hostile_registry", "hostile_baseline_mib", "recorder",
        "fake", "org", "osv",
    }
)  # fmt: skip

# Commands that start a server in a child process, where no socket of this process listens.
_SERVER_PROGRAMS = ("docker-registry",)
_SERVER_MODULES = ("tests.support.github_fake",)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if SERVER_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.integration)


def _starts_a_server(args: object) -> bool:
    argv = [str(arg) for arg in args] if isinstance(args, list | tuple) else [str(args)]
    return Path(argv[0]).name in _SERVER_PROGRAMS or any(m in argv for m in _SERVER_MODULES)


@pytest.fixture(autouse=True)
def _servers_and_processes_only_where_marked(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    """Fail a test not marked `integration` that listens on a socket or starts a server
    process, and one marked neither `integration` nor `slow` that starts any process."""
    if request.node.get_closest_marker("integration"):
        yield
        return
    slow = request.node.get_closest_marker("slow") is not None
    started: list[str] = []
    processes: list[str] = []
    listen = socket.socket.listen
    popen_init = subprocess.Popen.__init__

    def listening(sock: socket.socket, *args: Any) -> None:
        started.append(f"a socket listening on {sock.getsockname()}")
        listen(sock, *args)

    def popen(process: subprocess.Popen[Any], args: Any, *rest: Any, **options: Any) -> None:
        if _starts_a_server(args):
            started.append(f"the process {args!r}")
        elif not slow:
            processes.append(repr(args))
        popen_init(process, args, *rest, **options)

    monkeypatch.setattr(socket.socket, "listen", listening)
    monkeypatch.setattr(subprocess.Popen, "__init__", popen)
    yield
    if started:
        pytest.fail(
            f"{request.node.nodeid} starts a server ({started[0]}) but is not marked integration:"
            " add its fixture to SERVER_FIXTURES in tests/conftest.py, or mark the test"
            " @pytest.mark.integration",
            pytrace=False,
        )
    if processes:
        pytest.fail(
            f"{request.node.nodeid} starts the process {processes[0]} but is not marked slow:"
            " mark the test @pytest.mark.slow, so `-m 'not integration and not slow'` stays quick",
            pytrace=False,
        )
