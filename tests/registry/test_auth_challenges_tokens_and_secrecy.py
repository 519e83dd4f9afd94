"""Registry authentication: challenge parsing, tokens, credential sources, and secrecy."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import itertools
import json
import logging
import os
import shutil
import ssl
import stat
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from pinbot.config import Config, RegistryConfig
from pinbot.reference import parse_normalized
from pinbot.registry import (
    CredentialFinder,
    RegistryClient,
    RegistryError,
    Resolution,
    Unauthorized,
)
from pinbot.registry.auth import (
    Challenge,
    TokenCache,
    clear_text_refusal,
    parse_www_authenticate,
    pick_challenge,
)
from pinbot.registry.credentials import DOCKER_HUB_KEY, EnvCredentialNames
from tests.support.certs import TestCA
from tests.support.registry import RunningRegistry, start_registry
from tests.support.token_server import TokenServer

_names = itertools.count()


def unique(prefix: str) -> str:
    return f"{prefix}-{next(_names)}"


# --- WWW-Authenticate ------------------------------------------------------------------------

CHALLENGES: list[tuple[str | list[str], list[tuple[str, dict[str, str], str | None]]]] = [
    (
        'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",'
        'scope="repository:library/nginx:pull"',
        [
            (
                "bearer",
                {
                    "realm": "https://auth.docker.io/token",
                    "service": "registry.docker.io",
                    "scope": "repository:library/nginx:pull",
                },
                None,
            )
        ],
    ),
    ('Basic realm="Registry Realm"', [("basic", {"realm": "Registry Realm"}, None)]),
    (
        'Bearer realm="https://r/token", service="reg", scope="repository:a/b:pull,push", '
        'error="insufficient_scope"',
        [
            (
                "bearer",
                {
                    "realm": "https://r/token",
                    "service": "reg",
                    "scope": "repository:a/b:pull,push",
                    "error": "insufficient_scope",
                },
                None,
            )
        ],
    ),
    (
        'Basic realm="a, b", Bearer realm="c",service="d"',
        [("basic", {"realm": "a, b"}, None), ("bearer", {"realm": "c", "service": "d"}, None)],
    ),
    (
        'Newauth realm="apps", type=1, title="Login to \\"apps\\"", Basic realm="simple"',
        [
            ("newauth", {"realm": "apps", "type": "1", "title": 'Login to "apps"'}, None),
            ("basic", {"realm": "simple"}, None),
        ],
    ),
    ("Negotiate YWJjZA==", [("negotiate", {}, "YWJjZA==")]),
    ("Negotiate abc, Basic realm=x", [("negotiate", {}, "abc"), ("basic", {"realm": "x"}, None)]),
    ('BEARER REALM="x"', [("bearer", {"realm": "x"}, None)]),
    ("Bearer", [("bearer", {}, None)]),
    ("", []),
    (" , ,", []),
    (
        'Bearer realm = "spaced" , service=plain',
        [("bearer", {"realm": "spaced", "service": "plain"}, None)],
    ),
    (
        ['Basic realm="one"', 'Bearer realm="two"'],
        [("basic", {"realm": "one"}, None), ("bearer", {"realm": "two"}, None)],
    ),
    ('Bearer realm="unterminated', [("bearer", {"realm": "unterminated"}, None)]),
    # Beyond the cases above, kept when the parser moved to the standard library helpers.
    ('Bearer realm="first",realm="second"', [("bearer", {"realm": "first"}, None)]),
    ('Bearer realm="a\\"b",service="s"', [("bearer", {"realm": 'a"b', "service": "s"}, None)]),
    ('Basic realm=""', [("basic", {"realm": ""}, None)]),
    ("Negotiate YWJj==, Bearer realm=r", [("negotiate", {}, "YWJj=="), ("bearer", {"realm": "r"}, None)]),
    ('"stray", Bearer realm="r"', [("bearer", {"realm": "r"}, None)]),
    ('Bearer realm="https://a/token?x=1,2",scope="repository:a/b:pull"', [
        ("bearer", {"realm": "https://a/token?x=1,2", "scope": "repository:a/b:pull"}, None)
    ]),
]


@pytest.mark.parametrize(("header", "expected"), CHALLENGES)
def test_www_authenticate_is_split_into_challenges_by_scheme(
    header: str | list[str], expected: list[tuple[str, dict[str, str], str | None]]
) -> None:
    parsed = parse_www_authenticate(header)
    assert [(c.scheme, dict(c.params), c.token68) for c in parsed] == expected


@pytest.mark.parametrize(
    ("header", "scheme"),
    [
        ('Basic realm="a", Bearer realm="https://t"', "bearer"),
        ('Bearer service="no-realm", Basic realm="a"', "basic"),
        ("Negotiate abc", None),
        ('Digest realm="x", Basic realm="y"', "basic"),
    ],
)
def test_pick_challenge_prefers_bearer_with_a_realm(header: str, scheme: str | None) -> None:
    chosen = pick_challenge(parse_www_authenticate(header))
    assert (chosen.scheme if chosen else None) == scheme


def test_token_cache_expires_with_leeway() -> None:
    now = [1000.0]
    cache = TokenCache(clock=lambda: now[0], leeway=10.0)
    key = ("reg", "https://t", "svc", "repository:a:pull")
    cache.put(key, "token-value", 300)
    now[0] += 289
    assert cache.get(key) == "token-value"
    now[0] += 1
    assert cache.get(key) is None
    cache.put(key, "short", 4)  # leeway at most half the lifetime
    now[0] += 1.9
    assert cache.get(key) == "short"
    now[0] += 0.2
    assert cache.get(key) is None
    cache.put(key, "token-value", 300)
    assert "token-value" not in repr(cache)


# --- credential sources (pure) ---------------------------------------------------------------


def write_docker_config(directory: Path, document: dict[str, Any]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "config.json"
    path.write_text(json.dumps(document))
    return directory


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def test_docker_hub_credentials_are_filed_under_the_v1_index_key(tmp_path: Path) -> None:
    directory = write_docker_config(
        tmp_path, {"auths": {DOCKER_HUB_KEY: {"auth": b64("hubuser:hubpass")}}}
    )
    finder = CredentialFinder(docker_config_dir=directory, environ={})
    for host in ("docker.io", "index.docker.io", "registry-1.docker.io"):
        found = finder.find(host).credential
        assert found is not None and found.username == "hubuser" and found.password == "hubpass"
    assert finder.find("ghcr.io").credential is None


@pytest.mark.parametrize(
    "key", ["reg.example:5000", "https://reg.example:5000", "http://reg.example:5000/v2/"]
)
def test_docker_config_keys_with_scheme_or_path(tmp_path: Path, key: str) -> None:
    directory = write_docker_config(tmp_path, {"auths": {key: {"username": "u", "password": "p"}}})
    found = CredentialFinder(docker_config_dir=directory, environ={}).find("reg.example:5000")
    assert found.credential is not None and found.credential.password == "p"
    assert (
        CredentialFinder(docker_config_dir=directory, environ={}).find("reg.example").credential
        is None
    )


def test_github_token_only_for_ghcr_and_only_when_nothing_else(tmp_path: Path) -> None:
    environ = {"GITHUB_TOKEN": "ghs_fromactions", "GITHUB_ACTOR": "octocat"}
    finder = CredentialFinder(docker_config_dir=tmp_path, environ=environ)
    found = finder.find("ghcr.io")
    assert found.credential is not None
    assert found.credential.username == "octocat" and found.credential.source == "$GITHUB_TOKEN"
    assert finder.find("quay.io").credential is None
    directory = write_docker_config(tmp_path / "d", {"auths": {"ghcr.io": {"auth": b64("me:pat")}}})
    found = CredentialFinder(docker_config_dir=directory, environ=environ).find("ghcr.io")
    assert found.credential is not None and found.credential.password == "pat"


def test_pinbot_config_comes_first_and_names_its_variables(tmp_path: Path) -> None:
    directory = write_docker_config(tmp_path, {"auths": {"reg.example": {"auth": b64("d:docker")}}})
    names = EnvCredentialNames(token_env="REG_TOKEN")
    finder = CredentialFinder(docker_config_dir=directory, environ={"REG_TOKEN": "tkn-value"})
    found = finder.find("reg.example", names)
    assert found.credential is not None and found.credential.password == "tkn-value"
    assert found.tried == ("pinbot config ($REG_TOKEN)",)
    unset = CredentialFinder(docker_config_dir=directory, environ={}).find("reg.example", names)
    assert unset.credential is not None and unset.credential.password == "docker"
    assert unset.tried[0] == "pinbot config ($REG_TOKEN)"
    assert unset.tried[1].startswith("docker config ")


@pytest.mark.slow
def test_sources_tried_are_listed_without_secrets(tmp_path: Path) -> None:
    directory = write_docker_config(
        tmp_path, {"credsStore": "absent-helper", "auths": {"other.example": {"auth": b64("x:y")}}}
    )
    names = EnvCredentialNames(username_env="U", password_env="P")
    lookup = CredentialFinder(docker_config_dir=directory, environ={"U": "only-user"}).find(
        "reg.example", names
    )
    assert lookup.credential is None
    assert lookup.tried == (
        "pinbot config ($U/$P)",
        "credential helper docker-credential-absent-helper (not on PATH)",
        f"docker config {directory / 'config.json'} (auths)",
    )


# --- against real registries -----------------------------------------------------------------


def client(
    reg: RunningRegistry,
    tmp_path: Path,
    *,
    environ: dict[str, str] | None = None,
    docker_config_dir: Path | None = None,
    names: dict[str, str] | None = None,
) -> RegistryClient:
    config = Config(
        registries={reg.host: RegistryConfig(host=reg.host, ca_file=reg.ca_file, **(names or {}))}
    )
    return RegistryClient(
        config,
        environ=environ or {},
        docker_config_dir=docker_config_dir or tmp_path / "no-docker-config",
        certs_d=tmp_path / "no-certs.d",
        max_attempts=2,
        backoff=0.05,
        timeout=10.0,
    )


def resolve_all(
    reg: RunningRegistry, tmp_path: Path, refs: list[str], **options: Any
) -> list[Resolution]:
    async def main() -> list[Resolution]:
        async with client(reg, tmp_path, **options) as c:
            return list(
                await asyncio.gather(
                    *(c.resolve(parse_normalized(f"{reg.host}/{r}")) for r in refs)
                )
            )

    return asyncio.run(main())


ENV_NAMES = {"username_env": "REG_USER", "password_env": "REG_PASS"}


def env_creds(reg: RunningRegistry, password: str | None = None) -> dict[str, str]:
    assert reg.username and reg.password
    return {"REG_USER": reg.username, "REG_PASS": password or reg.password}


def test_basic_auth_takes_the_credentials_the_pinbot_config_names(
    registry_basic: RunningRegistry, tmp_path: Path
) -> None:
    repo = unique("basic/app")
    pushed = registry_basic.push_image(repo, "1")
    [found] = resolve_all(
        registry_basic, tmp_path, [f"{repo}:1"], names=ENV_NAMES, environ=env_creds(registry_basic)
    )
    assert found.digest == pushed.digest


def test_basic_auth_without_credentials_lists_sources(
    registry_basic: RunningRegistry, tmp_path: Path
) -> None:
    repo = unique("basic/anon")
    registry_basic.push_image(repo, "1")
    with pytest.raises(Unauthorized) as caught:
        resolve_all(registry_basic, tmp_path, [f"{repo}:1"], names=ENV_NAMES)
    message = str(caught.value)
    assert message.startswith(
        f'registry {registry_basic.host}: tag "{repo}:1": authentication required'
    )
    assert "pinbot config ($REG_USER/$REG_PASS)" in message
    assert caught.value.sources_tried[0] == "pinbot config ($REG_USER/$REG_PASS)"


def test_basic_auth_with_a_wrong_password_is_refused_without_showing_it(
    registry_basic: RunningRegistry, tmp_path: Path
) -> None:
    repo = unique("basic/wrong")
    registry_basic.push_image(repo, "1")
    with pytest.raises(Unauthorized, match="credentials were refused") as caught:
        resolve_all(
            registry_basic,
            tmp_path,
            [f"{repo}:1"],
            names=ENV_NAMES,
            environ=env_creds(registry_basic, "not-the-password"),
        )
    assert "not-the-password" not in str(caught.value) + repr(caught.value)


@pytest.mark.parametrize("style", ["auth", "username-password"])
def test_basic_auth_takes_credentials_from_the_docker_config_in_either_spelling(
    registry_basic: RunningRegistry, tmp_path: Path, style: str
) -> None:
    assert registry_basic.username and registry_basic.password
    repo = unique("basic/docker-config")
    pushed = registry_basic.push_image(repo, "1")
    entry: dict[str, str]
    if style == "auth":
        entry = {"auth": b64(f"{registry_basic.username}:{registry_basic.password}")}
    else:
        entry = {"username": registry_basic.username, "password": registry_basic.password}
    directory = write_docker_config(
        tmp_path / "docker", {"auths": {f"https://{registry_basic.host}": entry}}
    )
    [found] = resolve_all(registry_basic, tmp_path, [f"{repo}:1"], docker_config_dir=directory)
    assert found.digest == pushed.digest


def install_helper(bin_dir: Path, name: str, host: str, username: str, secret: str) -> Path:
    """A docker-credential-<name> that knows one server and logs what it was asked."""
    bin_dir.mkdir(parents=True, exist_ok=True)
    log = bin_dir / f"{name}.log"
    answer = json.dumps({"ServerURL": host, "Username": username, "Secret": secret})
    script = bin_dir / f"docker-credential-{name}"
    script.write_text(
        "#!/bin/sh\n"
        f'[ "$1" = get ] || exit 2\n'
        "read -r server\n"
        f'echo "$server" >> "{log}"\n'
        f'if [ "$server" = "{host}" ]; then\n'
        f"  printf '%s\\n' '{answer}'\n"
        "else\n"
        "  echo 'credentials not found in native keychain'; exit 1\n"
        "fi\n"
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return log


@pytest.mark.parametrize("where", ["credHelpers", "credsStore"])
def test_a_docker_credential_helper_on_path_is_asked_for_the_registry_host(
    registry_basic: RunningRegistry, tmp_path: Path, where: str
) -> None:
    assert registry_basic.username and registry_basic.password
    repo = unique("basic/helper")
    pushed = registry_basic.push_image(repo, "1")
    bin_dir = tmp_path / "bin"
    log = install_helper(
        bin_dir, "pinbottest", registry_basic.host, registry_basic.username, registry_basic.password
    )
    if where == "credHelpers":
        document: dict[str, Any] = {"credHelpers": {registry_basic.host: "pinbottest"}}
    else:
        document = {"credsStore": "pinbottest", "auths": {registry_basic.host: {}}}
    directory = write_docker_config(tmp_path / "docker", document)
    environ = {"PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}
    [found] = resolve_all(
        registry_basic, tmp_path, [f"{repo}:1"], docker_config_dir=directory, environ=environ
    )
    assert found.digest == pushed.digest
    assert log.read_text().splitlines() == [registry_basic.host]


def test_public_repository_pulls_anonymously_with_one_token(
    registry_token: RunningRegistry, tmp_path: Path
) -> None:
    repo = unique("public/app")
    pushed = {tag: registry_token.push_image(repo, tag, seed=tag) for tag in ("a", "b", "c")}
    registry_token.reset_counts()
    assert registry_token.token_server is not None
    refs = [f"{repo}:{tag}" for tag in pushed for _ in range(20)]
    results = resolve_all(registry_token, tmp_path, refs)
    assert [r.digest for r in results] == [pushed[r.reference.tag or ""].digest for r in results]
    requests = registry_token.token_server.token_requests()
    assert [(r.scopes, r.user, r.status) for r in requests] == [
        ([f"repository:{repo}:pull"], None, 200)
    ]
    assert len(registry_token.manifest_requests()) == 3


def test_one_token_per_repository_scope_reused_across_tags(
    registry_token: RunningRegistry, tmp_path: Path
) -> None:
    repos = [unique("private/one"), unique("private/two")]
    for repo in repos:
        for tag in ("1", "2", "3", "4"):
            registry_token.push_image(repo, tag, seed=f"{repo}{tag}")
    registry_token.reset_counts()
    assert registry_token.token_server is not None
    refs = [f"{repo}:{tag}" for repo in repos for tag in ("1", "2", "3", "4") for _ in range(20)]

    async def main() -> tuple[list[Resolution], int]:
        async with client(
            registry_token, tmp_path, names=ENV_NAMES, environ=env_creds(registry_token)
        ) as c:
            got = await asyncio.gather(
                *(c.resolve(parse_normalized(f"{registry_token.host}/{r}")) for r in refs)
            )
            return list(got), c.stats.count("token")

    results, token_count = asyncio.run(main())
    assert len(results) == len(refs)
    requests = registry_token.token_server.token_requests()
    assert sorted(r.scopes[0] for r in requests) == sorted(
        f"repository:{repo}:pull" for repo in repos
    )
    assert all(r.user == registry_token.username for r in requests)
    assert token_count == 2
    assert len(registry_token.manifest_requests()) == 8


def test_private_repository_without_credentials_is_insufficient_scope(
    registry_token: RunningRegistry, tmp_path: Path
) -> None:
    repo = unique("private/locked")
    registry_token.push_image(repo, "1")
    with pytest.raises(Unauthorized) as caught:
        resolve_all(registry_token, tmp_path, [f"{repo}:1"])
    message = str(caught.value)
    assert "insufficient_scope" in message and f'tag "{repo}:1"' in message
    assert "(as anonymous)" in message


def test_token_server_refuses_wrong_credentials(
    registry_token: RunningRegistry, tmp_path: Path
) -> None:
    repo = unique("private/wrong")
    registry_token.push_image(repo, "1")
    with pytest.raises(Unauthorized, match="refused the credentials from pinbot config") as caught:
        resolve_all(
            registry_token,
            tmp_path,
            [f"{repo}:1"],
            names=ENV_NAMES,
            environ=env_creds(registry_token, "wrong-token-pass"),
        )
    assert "wrong-token-pass" not in str(caught.value)


def test_identity_token_is_used_as_refresh_token(
    registry_token: RunningRegistry, tmp_path: Path
) -> None:
    assert registry_token.token_server is not None and registry_token.ca_file is not None
    repo = unique("private/identity")
    pushed = registry_token.push_image(repo, "1")
    with httpx.Client(
        verify=ssl.create_default_context(cafile=str(registry_token.ca_file))
    ) as http:
        answer = http.get(
            registry_token.token_server.realm,
            params={"service": registry_token.token_server.service, "offline_token": "true"},
            auth=(registry_token.username or "", registry_token.password or ""),
        ).json()
    refresh = answer["refresh_token"]
    directory = write_docker_config(
        tmp_path / "docker", {"auths": {registry_token.host: {"identitytoken": refresh}}}
    )
    registry_token.reset_counts()
    [found] = resolve_all(registry_token, tmp_path, [f"{repo}:1"], docker_config_dir=directory)
    assert found.digest == pushed.digest
    [request] = registry_token.token_server.token_requests()
    assert (request.method, request.grant_type, request.user) == (
        "POST",
        "refresh_token",
        registry_token.username,
    )


# --- secrets stay secret ---------------------------------------------------------------------


def test_credentials_never_reach_logs_messages_or_reprs(
    registry_basic: RunningRegistry,
    registry_token: RunningRegistry,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    repos = {}
    for reg in (registry_basic, registry_token):
        repos[reg.host] = unique("private/secret")
        reg.push_image(repos[reg.host], "1")
    caplog.set_level(logging.DEBUG)
    secrets_seen: list[str] = []
    errors: list[RegistryError] = []
    for reg in (registry_basic, registry_token):
        assert reg.username and reg.password
        repo = repos[reg.host]
        for password in (reg.password, "wrong-" + reg.password):
            secrets_seen += [password, b64(f"{reg.username}:{password}")]

            async def main(
                reg: RunningRegistry = reg, repo: str = repo, password: str = password
            ) -> str:
                async with client(
                    reg, tmp_path, names=ENV_NAMES, environ=env_creds(reg, password)
                ) as c:
                    ref = parse_normalized(f"{reg.host}/{repo}:1")
                    shown = repr(c)
                    try:
                        await c.resolve(ref, verify=True)
                    except RegistryError as exc:
                        errors.append(exc)
                    registry = c._session.registry(ref)
                    lookup = await c._session.credentials(registry)
                    shown += (
                        repr(lookup)
                        + str(lookup.credential)
                        + repr(registry.auth)
                        + repr(c._session.tokens)
                    )
                    return shown

            text = asyncio.run(main())
            for secret in secrets_seen:
                assert secret not in text
    assert len(errors) == 2
    everything = caplog.text + "".join(str(e) + repr(e) + repr(e.args) for e in errors)
    assert "Bearer ey" not in everything  # no JWT access token either
    for secret in secrets_seen:
        assert secret not in everything


def test_a_challenge_gives_its_realm_and_no_scope_when_none_is_set() -> None:
    challenge = Challenge("bearer", {"realm": "https://t"})
    assert challenge.realm == "https://t" and challenge.scope is None


class _FakeTokenRegistry(BaseHTTPRequestHandler):
    """A registry whose token server knows only the GET flow (POST answers 405)."""

    identity_token = "identity-refresh-value"
    access_token = "access-token-value"
    manifest = b'{"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json"}'
    seen: list[tuple[str, str, str | None]]
    #: Put the token realm on this host name (same port) instead of the registry's own.
    realm_hostname: str | None = None

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _reply(self, status: int, headers: dict[str, str], body: bytes = b"") -> None:
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        path = self.path.split("?")[0]
        authorization = self.headers.get("Authorization")
        self.seen.append((self.command, path, authorization))
        host = self.headers.get("Host") or ""
        if self.realm_hostname is not None:
            host = f"{self.realm_hostname}:{host.rpartition(':')[2]}"
        challenge = {"WWW-Authenticate": f'Bearer realm="http://{host}/token",service="fake"'}
        if path == "/token" and self.command == "POST":
            self._reply(405, {})
        elif path == "/token":
            expected = "Basic " + b64(f"<token>:{self.identity_token}")
            if authorization == expected:
                answer = json.dumps({"access_token": self.access_token, "expires_in": 120})
                self._reply(200, {"Content-Type": "application/json"}, answer.encode())
            else:
                self._reply(401, {})
        elif authorization != f"Bearer {self.access_token}":
            self._reply(401, challenge)
        elif path == "/v2/app/manifests/1":
            digest = "sha256:" + hashlib.sha256(self.manifest).hexdigest()
            headers = {
                "Content-Type": "application/vnd.oci.image.manifest.v1+json",
                "Docker-Content-Digest": digest,
            }
            self._reply(200, headers, self.manifest)
        else:
            self._reply(404, {})

    do_GET = do_HEAD = do_POST = _handle


@contextlib.contextmanager
def identity_token_registry(
    tmp_path: Path, **attributes: object
) -> Iterator[tuple[Callable[[], Resolution], list[tuple[str, str, str | None]]]]:
    """A loopback registry + token service taking `_FakeTokenRegistry.identity_token` from
    Docker's config.json; yields a function resolving `app:1` there, and the requests seen."""
    seen: list[tuple[str, str, str | None]] = []
    handler = type("Handler", (_FakeTokenRegistry,), {"seen": seen, **attributes})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        host = f"127.0.0.1:{server.server_address[1]}"
        directory = write_docker_config(
            tmp_path / "docker",
            {"auths": {host: {"identitytoken": _FakeTokenRegistry.identity_token}}},
        )
        config = Config(registries={host: RegistryConfig(host=host, insecure=True)})

        def resolve() -> Resolution:
            async def main() -> Resolution:
                async with RegistryClient(
                    config, environ={}, docker_config_dir=directory, certs_d=tmp_path, max_attempts=1
                ) as c:
                    return await c.resolve(parse_normalized(f"{host}/app:1"))

            return asyncio.run(main())

        yield resolve, seen
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.mark.integration  # starts its server in the test
def test_identity_token_falls_back_to_get_when_post_is_refused(tmp_path: Path) -> None:
    with identity_token_registry(tmp_path) as (resolve, seen):
        found = resolve()
    digest = "sha256:" + hashlib.sha256(_FakeTokenRegistry.manifest).hexdigest()
    assert found.digest == digest
    assert [(method, path) for method, path, _ in seen] == [
        ("GET", "/v2/"),
        ("POST", "/token"),
        ("GET", "/token"),
        ("HEAD", "/v2/app/manifests/1"),
    ]


# --- credentials never travel in clear text --------------------------------------------------


@pytest.mark.parametrize(
    ("registry_url", "realm", "insecure", "refused"),
    [
        ("https://r.example", "https://r.example/token", False, None),
        # Docker Hub: the realm is on another host, over HTTPS.
        ("https://registry-1.docker.io", "https://auth.docker.io/token", False, None),
        ("https://r.example", "http://r.example/token", False, "reached over HTTPS"),
        ("https://r.example", "http://auth.example/token", False, "reached over HTTPS"),
        ("https://r.example", "HTTP://r.example/token", False, "reached over HTTPS"),
        # Plain HTTP to the registry's own host is what `insecure: true` asked for.
        ("http://r.example:5000", "http://r.example:5001/token", True, None),
        ("http://r.example:5000", "http://auth.example/token", True, "another host"),
        ("http://r.example:5000", "https://auth.example/token", True, None),
    ],
)
def test_credentials_never_go_to_a_clear_text_realm_unless_allowed(
    registry_url: str, realm: str, insecure: bool, refused: str | None
) -> None:
    reason = clear_text_refusal(registry_url, realm, insecure=insecure)
    if refused is None:
        assert reason is None
    else:
        assert reason is not None and refused in reason


@pytest.fixture(scope="module")
def registry_clear_realm(
    tmp_path_factory: pytest.TempPathFactory, test_ca: TestCA
) -> Iterator[RunningRegistry]:
    """An HTTPS registry whose token realm is plain HTTP (`http://127.0.0.1:<port>/token`)."""
    if shutil.which("docker-registry") is None:
        pytest.skip("docker-registry is not installed")
    workdir = tmp_path_factory.mktemp("registry-clear-realm")
    token_server = TokenServer(
        workdir / "token-server",
        users={"pinbot": "clear-text-never"},
        public_prefixes=("public/",),
    ).start()
    try:
        assert token_server.realm.startswith("http://127.0.0.1:")
        reg = start_registry(
            workdir,
            ca=test_ca,
            token_server=token_server,
            username="pinbot",
            password="clear-text-never",
        )
        try:
            yield reg
        finally:
            reg.close()
    finally:
        token_server.close()


def test_no_credentials_to_a_plain_http_realm_of_an_https_registry(
    registry_clear_realm: RunningRegistry, tmp_path: Path
) -> None:
    reg = registry_clear_realm
    assert reg.token_server is not None and reg.tls
    repo = unique("private/clear")
    reg.push_image(repo, "1")
    reg.token_server.reset()
    with pytest.raises(Unauthorized) as caught:
        resolve_all(reg, tmp_path, [f"{repo}:1"], names=ENV_NAMES, environ=env_creds(reg))
    message = str(caught.value)
    assert "not sending the credentials from pinbot config ($REG_USER/$REG_PASS)" in message
    assert f"token realm {reg.token_server.realm} is plain HTTP" in message
    assert "clear text" in message and "clear-text-never" not in message
    # Not even an anonymous try: nothing reached the token server.
    assert reg.token_server.token_requests() == []


def test_anonymous_tokens_from_a_plain_http_realm_are_fine(
    registry_clear_realm: RunningRegistry, tmp_path: Path
) -> None:
    reg = registry_clear_realm
    assert reg.token_server is not None
    repo = unique("public/clear")
    pushed = reg.push_image(repo, "1")
    reg.token_server.reset()
    [found] = resolve_all(reg, tmp_path, [f"{repo}:1"])
    assert found.digest == pushed.digest
    requests = reg.token_server.token_requests()
    assert [(r.scopes, r.user, r.status) for r in requests] == [
        ([f"repository:{repo}:pull"], None, 200)
    ]


@pytest.mark.integration  # starts its server in the test
def test_no_credentials_to_a_plain_http_realm_on_another_host(tmp_path: Path) -> None:
    with (
        identity_token_registry(tmp_path, realm_hostname="localhost") as (resolve, seen),
        pytest.raises(Unauthorized, match="plain HTTP on another host") as caught,
    ):
        resolve()
    assert _FakeTokenRegistry.identity_token not in str(caught.value)
    assert [(method, path) for method, path, _ in seen] == [("GET", "/v2/")]
