"""RegistryClient against real distribution 2.8 registries, with skopeo as the digest oracle."""

from __future__ import annotations

import asyncio
import itertools
import json
import shutil
import ssl
import threading
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, TypeVar

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from pinbot.config import Config, RegistryConfig
from pinbot.reference import parse_normalized
from pinbot.registry import (
    ImageMetadata,
    NotARegistry,
    Platform,
    PlatformNotFound,
    RegistryClient,
    RegistryError,
    RegistryTLSError,
    Resolution,
    TagNotFound,
    resolve_many,
)
from pinbot.registry import manifest as mf
from tests.support.certs import KeyPair, TestCA
from tests.support.registry import Pushed, RunningRegistry

T = TypeVar("T")
FLAVOURS = ["registry_http", "registry_tls", "registry_basic", "registry_token"]
_names = itertools.count()

USER_ENV = "PINBOT_TEST_REGISTRY_USER"
PASSWORD_ENV = "PINBOT_TEST_REGISTRY_PASSWORD"


def unique(prefix: str) -> str:
    return f"{prefix}-{next(_names)}"


def config_for(*registries: RunningRegistry, credentials: bool = True) -> Config:
    entries = {}
    for reg in registries:
        entries[reg.host] = RegistryConfig(
            host=reg.host,
            insecure=not reg.tls,
            ca_file=reg.ca_file,
            username_env=USER_ENV if credentials and reg.username else None,
            password_env=PASSWORD_ENV if credentials and reg.username else None,
        )
    return Config(registries=entries)


def environ_for(reg: RunningRegistry) -> dict[str, str]:
    if reg.username and reg.password:
        return {USER_ENV: reg.username, PASSWORD_ENV: reg.password}
    return {}


def client_for(reg: RunningRegistry, tmp_path: Path, **options: Any) -> RegistryClient:
    options.setdefault("max_attempts", 3)
    options.setdefault("max_wait", 10.0)
    options.setdefault("timeout", 10.0)
    options.setdefault("backoff", 0.05)
    return RegistryClient(
        config_for(reg),
        docker_config_dir=tmp_path / "no-docker-config",
        certs_d=tmp_path / "no-certs.d",
        environ=environ_for(reg),
        **options,
    )


def run_with(
    reg: RunningRegistry,
    tmp_path: Path,
    work: Callable[[RegistryClient], Awaitable[T]],
    **options: Any,
) -> T:
    async def main() -> T:
        async with client_for(reg, tmp_path, **options) as client:
            return await work(client)

    return asyncio.run(main())


def resolve(reg: RunningRegistry, tmp_path: Path, ref: str, **kwargs: Any) -> Resolution:
    reference = parse_normalized(f"{reg.host}/{ref}")
    return run_with(reg, tmp_path, lambda c: c.resolve(reference, **kwargs))


def push(reg: RunningRegistry, kind: str, repo: str, tag: str, seed: str = "") -> Pushed:
    if kind == "docker":
        return reg.push_image(repo, tag, seed=seed)
    if kind == "oci":
        return reg.push_image(repo, tag, oci=True, seed=seed)
    if kind == "oci-index":
        return reg.push_multiarch(repo, tag, oci=True, attestations=True, seed=seed)
    if kind == "docker-list":
        return reg.push_multiarch(repo, tag, oci=False, attestations=False, seed=seed)
    raise AssertionError(kind)


@pytest.fixture(params=FLAVOURS)
def registry(request: pytest.FixtureRequest) -> RunningRegistry:
    reg: RunningRegistry = request.getfixturevalue(request.param)
    return reg


# --- resolving tags --------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["docker", "oci", "oci-index", "docker-list"])
def test_resolve_matches_skopeo_on_every_flavour(
    registry: RunningRegistry, kind: str, tmp_path: Path
) -> None:
    repo = unique(f"client/{kind}")
    pushed = push(registry, kind, repo, "1.0")
    resolution = resolve(registry, tmp_path, f"{repo}:1.0")
    assert resolution.digest == pushed.digest
    assert resolution.digest == registry.skopeo_raw_digest(f"{repo}:1.0")
    assert resolution.media_type == pushed.media_type
    assert resolution.verified is False
    assert resolution.platform is None


@pytest.mark.parametrize("kind", ["docker", "oci-index", "docker-list"])
def test_moving_a_tag_to_a_new_build_gives_the_new_digest(
    registry_tls: RunningRegistry, kind: str, tmp_path: Path
) -> None:
    repo = unique(f"moving/{kind}")
    first = push(registry_tls, kind, repo, "stable", seed="build-1")
    assert resolve(registry_tls, tmp_path, f"{repo}:stable").digest == first.digest
    second = push(registry_tls, kind, repo, "stable", seed="build-2")
    assert second.digest != first.digest
    moved = resolve(registry_tls, tmp_path, f"{repo}:stable", verify=True)
    assert moved.digest == second.digest == registry_tls.skopeo_raw_digest(f"{repo}:stable")
    assert moved.verified


def test_verify_fetches_and_hashes_once_after_the_head(
    registry_http: RunningRegistry, tmp_path: Path
) -> None:
    repo = unique("verify/ok")
    pushed = registry_http.push_multiarch(repo, "1")
    ref = parse_normalized(f"{registry_http.host}/{repo}:1")
    registry_http.reset_counts()

    async def work(client: RegistryClient) -> tuple[Resolution, Resolution, Resolution]:
        plain = await client.resolve(ref)
        checked = await client.verify(ref, plain.digest)
        again = await client.resolve(ref, verify=True)
        return plain, checked, again

    plain, checked, again = run_with(registry_http, tmp_path, work)
    assert plain.digest == checked.digest == again.digest == pushed.digest
    assert not plain.verified and checked.verified and again.verified
    seen = registry_http.manifest_requests()
    assert seen == [
        ("HEAD", f"/v2/{repo}/manifests/1"),
        ("GET", f"/v2/{repo}/manifests/{pushed.digest}"),
    ]


def test_missing_tag_says_where(registry_http: RunningRegistry, tmp_path: Path) -> None:
    repo = unique("missing/repo")
    registry_http.push_image(repo, "1.0")
    with pytest.raises(TagNotFound) as caught:
        resolve(registry_http, tmp_path, f"{repo}:nope")
    assert str(caught.value) == f'registry {registry_http.host}: tag "{repo}:nope" not found'
    with pytest.raises(TagNotFound):
        resolve(registry_http, tmp_path, "no/such-repo:1.0")


def test_digest_reference_is_checked_not_guessed(
    registry_http: RunningRegistry, tmp_path: Path
) -> None:
    repo = unique("by-digest/repo")
    pushed = registry_http.push_image(repo, "1.0", oci=True)
    found = resolve(registry_http, tmp_path, f"{repo}@{pushed.digest}")
    assert found.digest == pushed.digest and found.media_type == pushed.media_type
    missing = "sha256:" + "0" * 64
    with pytest.raises(TagNotFound):
        resolve(registry_http, tmp_path, f"{repo}@{missing}")

    async def work(client: RegistryClient) -> tuple[bool, bool]:
        ref = parse_normalized(f"{registry_http.host}/{repo}:1.0")
        return await client.exists(ref, pushed.digest), await client.exists(ref, missing)

    assert run_with(registry_http, tmp_path, work) == (True, False)


def test_tag_and_digest_reference_resolves_the_tag(
    registry_http: RunningRegistry, tmp_path: Path
) -> None:
    repo = unique("tag-and-digest/repo")
    old = registry_http.push_image(repo, "1.0", seed="old")
    new = registry_http.push_image(repo, "1.0", seed="new")
    found = resolve(registry_http, tmp_path, f"{repo}:1.0@{old.digest}")
    assert found.digest == new.digest


# --- platforms -------------------------------------------------------------------------------


@pytest.mark.parametrize("oci", [True, False])
def test_platform_selects_the_child_manifest(
    registry_basic: RunningRegistry, oci: bool, tmp_path: Path
) -> None:
    repo = unique("platforms/repo")
    platforms = [("linux", "amd64", None), ("linux", "arm64", "v8"), ("linux", "arm", "v7")]
    index = registry_basic.push_multiarch(repo, "1", platforms, oci=oci, attestations=oci)
    children = {entry["digest"] for entry in index.manifest["manifests"]}

    async def work(client: RegistryClient) -> dict[str, Resolution]:
        ref = parse_normalized(f"{registry_basic.host}/{repo}:1")
        wanted = ["linux/amd64", "linux/arm64", "linux/arm64/v8", "linux/aarch64", "linux/arm/v7"]
        results = await asyncio.gather(
            *(client.resolve(ref, platform=p, verify=True) for p in wanted)
        )
        return dict(zip(wanted, results, strict=True))

    found = run_with(registry_basic, tmp_path, work)
    entries = index.manifest["manifests"]

    def child(arch: str) -> str:
        return next(e["digest"] for e in entries if e["platform"]["architecture"] == arch)

    assert found["linux/amd64"].digest == child("amd64")
    assert found["linux/arm64"].digest == found["linux/arm64/v8"].digest == child("arm64")
    assert found["linux/aarch64"].digest == child("arm64")
    assert found["linux/arm/v7"].digest == child("arm")
    for result in found.values():
        assert result.verified and result.digest in children
        assert result.digest == registry_basic.skopeo_raw_digest(f"{repo}@{result.digest}")
    assert found["linux/arm64"].platform == "linux/arm64"


def test_platform_skips_attestations_and_reports_what_is_offered(
    registry_http: RunningRegistry, tmp_path: Path
) -> None:
    repo = unique("platforms/missing")
    registry_http.push_multiarch(repo, "1", oci=True, attestations=True)
    with pytest.raises(PlatformNotFound) as caught:
        resolve(registry_http, tmp_path, f"{repo}:1", platform="unknown/unknown")
    assert "offers: linux/amd64, linux/arm64" in str(caught.value)
    with pytest.raises(PlatformNotFound):
        resolve(registry_http, tmp_path, f"{repo}:1", platform="linux/s390x")


def test_platform_on_a_single_image_checks_its_config(
    registry_http: RunningRegistry, tmp_path: Path
) -> None:
    repo = unique("platforms/single")
    pushed = registry_http.push_image(repo, "1", platform=("linux", "arm64", "v8"))
    found = resolve(registry_http, tmp_path, f"{repo}:1", platform="linux/arm64")
    assert found.digest == pushed.digest and found.verified
    with pytest.raises(PlatformNotFound, match="single-platform image for linux/arm64"):
        resolve(registry_http, tmp_path, f"{repo}:1", platform="linux/amd64")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("linux/amd64", "linux/amd64"),
        ("linux/x86_64", "linux/amd64"),
        ("linux/amd64/v1", "linux/amd64"),
        ("linux/amd64/v3", "linux/amd64/v3"),
        ("linux/arm64/v8", "linux/arm64"),
        ("linux/aarch64", "linux/arm64"),
        ("linux/arm", "linux/arm/v7"),
        ("linux/arm/7", "linux/arm/v7"),
        ("linux/armel", "linux/arm/v6"),
        ("Windows/AMD64", "windows/amd64"),
    ],
)
def test_platforms_are_normalised_as_containerd_does(text: str, expected: str) -> None:
    assert str(Platform.parse(text)) == expected


@pytest.mark.parametrize("bad", ["linux", "linux/", "/amd64", "a/b/c/d", ""])
def test_platform_parse_rejects_nonsense(bad: str) -> None:
    with pytest.raises(ValueError, match="OS/ARCH"):
        Platform.parse(bad)


# --- metadata --------------------------------------------------------------------------------

LABELS = {
    "org.opencontainers.image.version": "1.27.3",
    "org.opencontainers.image.revision": "e4f5a6b",
    "org.opencontainers.image.source": "https://github.com/acme/api",
    "org.opencontainers.image.base.name": "docker.io/library/debian:bookworm-slim",
    "org.opencontainers.image.base.digest": "sha256:" + "b" * 64,
}


def test_metadata_of_an_index_lists_its_platforms_and_reads_linux_amd64s_size_and_labels(
    registry_token: RunningRegistry, tmp_path: Path
) -> None:
    repo = unique("metadata/index")
    index = registry_token.push_multiarch(
        repo, "1", labels=LABELS, created="2026-11-25T10:20:30.123456789Z"
    )
    amd64 = next(e for e in index.manifest["manifests"] if e["platform"]["architecture"] == "amd64")
    amd64_body = registry_token.skopeo_raw(f"{repo}@{amd64['digest']}")
    layers = json.loads(amd64_body)["layers"]

    async def work(client: RegistryClient) -> ImageMetadata:
        ref = parse_normalized(f"{registry_token.host}/{repo}:1")
        return await client.fetch_metadata(ref, index.digest)

    meta = run_with(registry_token, tmp_path, work)
    assert meta.digest == index.digest and meta.media_type == mf.OCI_INDEX
    assert meta.platforms == ("linux/amd64", "linux/arm64")
    assert meta.platform == "linux/amd64"
    assert meta.size == sum(layer["size"] for layer in layers)
    assert (
        meta.created is not None and meta.created.isoformat() == "2026-11-25T10:20:30.123456+00:00"
    )
    assert meta.version == "1.27.3" and meta.revision == "e4f5a6b"
    assert meta.source == "https://github.com/acme/api"
    assert meta.base_name == "docker.io/library/debian:bookworm-slim"
    assert meta.base_digest == "sha256:" + "b" * 64


def test_metadata_of_a_single_image_prefers_annotations(
    registry_http: RunningRegistry, tmp_path: Path
) -> None:
    repo = unique("metadata/single")
    pushed = registry_http.push_image(
        repo,
        "1",
        oci=True,
        platform=("linux", "arm", "v7"),
        labels={"org.opencontainers.image.version": "from-label"},
        annotations={"org.opencontainers.image.version": "from-annotation"},
    )

    async def work(client: RegistryClient) -> ImageMetadata:
        ref = parse_normalized(f"{registry_http.host}/{repo}:1")
        return await client.fetch_metadata(ref, pushed.digest)

    meta = run_with(registry_http, tmp_path, work)
    assert meta.version == "from-annotation"
    assert meta.labels["org.opencontainers.image.version"] == "from-label"
    assert meta.platforms == ("linux/arm/v7",)
    assert meta.size == sum(layer["size"] for layer in pushed.manifest["layers"])
    assert meta.media_type == mf.OCI_MANIFEST


class _Recorder(BaseHTTPRequestHandler):
    """A loopback server that records request headers and serves fixed answers."""

    routes: dict[str, tuple[int, dict[str, str], bytes]]
    seen: list[tuple[str, str, dict[str, str]]]

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _answer(self) -> None:
        self.seen.append((self.command, self.path, {k.lower(): v for k, v in self.headers.items()}))
        status, headers, body = self.routes.get(self.path.split("?")[0], (404, {}, b"{}"))
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    do_GET = do_HEAD = _answer


@pytest.fixture
def recorder() -> Iterator[
    Callable[[dict[str, tuple[int, dict[str, str], bytes]]], tuple[str, list[Any]]]
]:
    servers: list[ThreadingHTTPServer] = []

    def start(routes: dict[str, tuple[int, dict[str, str], bytes]]) -> tuple[str, list[Any]]:
        seen: list[Any] = []
        handler = type("Handler", (_Recorder,), {"routes": routes, "seen": seen})
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        servers.append(server)
        return f"127.0.0.1:{server.server_address[1]}", seen

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def test_blob_redirect_to_another_host_gets_no_authorization(
    recorder: Callable[..., tuple[str, list[Any]]], tmp_path: Path
) -> None:
    config_blob = json.dumps(
        {
            "os": "linux",
            "architecture": "amd64",
            "created": "2026-01-02T03:04:05Z",
            "config": {"Labels": {"org.opencontainers.image.version": "9.9"}},
        }
    ).encode()
    config_digest = mf.digest_of(config_blob)
    storage_host, storage_seen = recorder({"/bucket/config": (200, {}, config_blob)})
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": mf.OCI_MANIFEST,
            "config": {
                "mediaType": "application/vnd.oci.image.config.v1+json",
                "digest": config_digest,
                "size": len(config_blob),
            },
            "layers": [
                {
                    "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                    "digest": "sha256:" + "1" * 64,
                    "size": 1234,
                }
            ],
        }
    ).encode()
    manifest_digest = mf.digest_of(manifest)
    challenge = {
        "WWW-Authenticate": 'Basic realm="test"',
        "Docker-Distribution-Api-Version": "registry/2.0",
    }
    routes = {
        "/v2/": (401, challenge, b"{}"),
        f"/v2/app/manifests/{manifest_digest}": (200, {"Content-Type": mf.OCI_MANIFEST}, manifest),
        f"/v2/app/blobs/{config_digest}": (
            307,
            {"Location": f"http://{storage_host}/bucket/config"},
            b"",
        ),
    }
    registry_host, registry_seen = recorder(routes)
    config = Config(
        registries={
            registry_host: RegistryConfig(
                host=registry_host, insecure=True, username_env="U", password_env="P"
            )
        }
    )

    async def main() -> ImageMetadata:
        async with RegistryClient(
            config,
            environ={"U": "user", "P": "blob-secret"},
            docker_config_dir=tmp_path,
            certs_d=tmp_path,
            max_attempts=1,
        ) as client:
            ref = parse_normalized(f"{registry_host}/app:1")
            return await client.fetch_metadata(ref, manifest_digest)

    meta = asyncio.run(main())
    assert meta.version == "9.9" and meta.size == 1234
    authorised = [path for _, path, headers in registry_seen if "authorization" in headers]
    assert f"/v2/app/blobs/{config_digest}" in authorised
    assert storage_seen and all("authorization" not in headers for _, _, headers in storage_seen)


# --- trust and transport ---------------------------------------------------------------------


def test_plain_http_needs_insecure_in_config(
    registry_http: RunningRegistry, tmp_path: Path
) -> None:
    repo = unique("insecure/repo")
    registry_http.push_image(repo, "1")

    async def main() -> Resolution:
        async with RegistryClient(
            Config(), docker_config_dir=tmp_path, certs_d=tmp_path, max_attempts=1
        ) as client:
            return await client.resolve(parse_normalized(f"{registry_http.host}/{repo}:1"))

    with pytest.raises(RegistryTLSError, match="insecure"):
        asyncio.run(main())


def test_localhost_is_not_implicitly_insecure(
    registry_http: RunningRegistry, tmp_path: Path
) -> None:
    port = registry_http.host.rsplit(":", 1)[1]

    async def main() -> Resolution:
        async with RegistryClient(
            docker_config_dir=tmp_path, certs_d=tmp_path, max_attempts=1
        ) as client:
            return await client.resolve(parse_normalized(f"localhost:{port}/x/y:1"))

    with pytest.raises(RegistryTLSError):
        asyncio.run(main())


def _tls_resolve(reg: RunningRegistry, tmp_path: Path, ref: str, **options: Any) -> Resolution:
    async def main() -> Resolution:
        async with RegistryClient(
            options.pop("config", Config()), docker_config_dir=tmp_path, max_attempts=1, **options
        ) as client:
            return await client.resolve(parse_normalized(f"{reg.host}/{ref}"))

    return asyncio.run(main())


def test_tls_trusts_each_ca_source_and_nothing_else(registry_tls: RunningRegistry, tmp_path: Path) -> None:
    assert registry_tls.ca_file is not None
    repo = unique("trust/repo")
    pushed = registry_tls.push_image(repo, "1")
    empty = tmp_path / "empty-certs.d"
    with pytest.raises(RegistryTLSError, match="certificate"):
        _tls_resolve(registry_tls, tmp_path, f"{repo}:1", certs_d=empty, environ={})
    # ca-file in pinbot's config
    config = Config(
        registries={
            registry_tls.host: RegistryConfig(host=registry_tls.host, ca_file=registry_tls.ca_file)
        }
    )
    found = _tls_resolve(
        registry_tls, tmp_path, f"{repo}:1", config=config, certs_d=empty, environ={}
    )
    assert found.digest == pushed.digest
    # SSL_CERT_FILE
    found = _tls_resolve(
        registry_tls,
        tmp_path,
        f"{repo}:1",
        certs_d=empty,
        environ={"SSL_CERT_FILE": str(registry_tls.ca_file)},
    )
    assert found.digest == pushed.digest
    # Docker's certs.d/<host:port>/ca.crt
    certs_d = tmp_path / "certs.d"
    (certs_d / registry_tls.host).mkdir(parents=True)
    (certs_d / registry_tls.host / "ca.crt").write_bytes(registry_tls.ca_file.read_bytes())
    found = _tls_resolve(registry_tls, tmp_path, f"{repo}:1", certs_d=certs_d, environ={})
    assert found.digest == pushed.digest


# --- client certificates from certs.d ---------------------------------------------------------


def client_pair(ca: TestCA, directory: Path, name: str = "pinbot-client") -> KeyPair:
    """A TLS client certificate (extended key usage clientAuth) signed by `ca`."""
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
        .issuer_name(ca.ca.cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(hours=1))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        .sign(ca.ca.key, hashes.SHA256())
    )
    directory.mkdir(parents=True, exist_ok=True)
    pair = KeyPair(cert, key, directory / f"{name}.cert", directory / f"{name}.key")
    pair.cert_file.write_bytes(pair.cert_pem)
    pair.key_file.write_bytes(pair.key_pem)
    return pair


class _ClientCertRegistry(RunningRegistry):
    """A TLS registry that requires a client certificate signed by its CA (`clientcas`)."""

    pair: KeyPair

    def _config(self, port: int) -> str:
        config = json.loads(super()._config(port))
        assert self.ca_file is not None
        config["http"]["tls"]["clientcas"] = [str(self.ca_file)]
        return json.dumps(config, indent=2)

    @property
    def verify(self) -> ssl.SSLContext | bool:
        # The support code's own requests (readiness, pushes) present the pair too.
        context = ssl.create_default_context(cafile=str(self.ca_file))
        context.load_cert_chain(str(self.pair.cert_file), str(self.pair.key_file))
        return context


@pytest.fixture(scope="module")
def registry_client_cert(
    tmp_path_factory: pytest.TempPathFactory, test_ca: TestCA
) -> Iterator[_ClientCertRegistry]:
    if shutil.which("docker-registry") is None:
        pytest.skip("docker-registry is not installed")
    workdir = tmp_path_factory.mktemp("registry-client-cert")
    reg = _ClientCertRegistry(
        workdir, ca=test_ca, server_cert=test_ca.server_cert(f"registry-{workdir.name}")
    )
    reg.pair = client_pair(test_ca, workdir / "client")
    try:
        yield reg.start()
    finally:
        reg.close()


def test_a_client_certificate_pair_in_certs_d_is_presented_and_its_absence_explained(
    registry_client_cert: _ClientCertRegistry, test_ca: TestCA, tmp_path: Path
) -> None:
    reg = registry_client_cert
    repo = unique("mtls/app")
    pushed = reg.push_image(repo, "1")
    certs_d = tmp_path / "certs.d"
    folder = certs_d / reg.host
    folder.mkdir(parents=True)
    (folder / "ca.crt").write_bytes(test_ca.ca.cert_pem)
    with pytest.raises(RegistryTLSError) as caught:
        _tls_resolve(reg, tmp_path, f"{repo}:1", certs_d=certs_d, environ={})
    message = str(caught.value)
    assert message.startswith(f"registry {reg.host}: TLS with {reg.host} failed:")
    assert (
        f"wants a client certificate it trusts: put a NAME.cert and NAME.key pair in {folder}/"
        in (message)
    )
    # Docker's layout: client.cert with client.key beside the CA.
    (folder / "client.cert").write_bytes(reg.pair.cert_pem)
    (folder / "client.key").write_bytes(reg.pair.key_pem)
    found = _tls_resolve(reg, tmp_path, f"{repo}:1", certs_d=certs_d, environ={})
    assert found.digest == pushed.digest


def test_client_certificate_the_registry_does_not_trust(
    registry_client_cert: _ClientCertRegistry, test_ca: TestCA, tmp_path: Path
) -> None:
    reg = registry_client_cert
    repo = unique("mtls/stranger")
    reg.push_image(repo, "1")
    stranger = client_pair(TestCA(tmp_path / "other-ca"), tmp_path / "stranger")
    folder = tmp_path / "certs.d" / reg.host
    folder.mkdir(parents=True)
    (folder / "ca.crt").write_bytes(test_ca.ca.cert_pem)
    (folder / "client.cert").write_bytes(stranger.cert_pem)
    (folder / "client.key").write_bytes(stranger.key_pem)
    with pytest.raises(RegistryTLSError, match="wants a client certificate it trusts"):
        _tls_resolve(reg, tmp_path, f"{repo}:1", certs_d=tmp_path / "certs.d", environ={})


def test_a_client_certificate_without_its_key_is_a_clear_error(
    registry_client_cert: _ClientCertRegistry, tmp_path: Path
) -> None:
    reg = registry_client_cert
    folder = tmp_path / "certs.d" / reg.host
    folder.mkdir(parents=True)
    (folder / "client.cert").write_bytes(reg.pair.cert_pem)
    with pytest.raises(RegistryTLSError, match=r"cannot load client certificate .*client\.cert"):
        _tls_resolve(reg, tmp_path, "mtls/any:1", certs_d=tmp_path / "certs.d", environ={})


def test_a_server_that_is_not_a_registry_is_called_so(recorder: Callable[..., tuple[str, list[Any]]], tmp_path: Path) -> None:
    html = {"Content-Type": "text/html"}
    host, _ = recorder({"/v2/": (200, html, b"<html>hello</html>")})
    config = Config(registries={host: RegistryConfig(host=host, insecure=True)})

    async def main() -> Resolution:
        async with RegistryClient(
            config, docker_config_dir=tmp_path, certs_d=tmp_path, max_attempts=1
        ) as client:
            return await client.resolve(parse_normalized(f"{host}/x/y:1"))

    with pytest.raises(NotARegistry, match=f'registry {host}: tag "x/y:1"'):
        asyncio.run(main())


def test_docker_hub_is_reached_at_registry_1(tmp_path: Path) -> None:
    async def main() -> str:
        async with RegistryClient(docker_config_dir=tmp_path) as client:
            return client._session.registry(parse_normalized("nginx:1.27")).base_url

    assert asyncio.run(main()) == "https://registry-1.docker.io"


# --- one request per question ----------------------------------------------------------------


def test_concurrent_callers_share_one_manifest_request(
    registry_http: RunningRegistry, tmp_path: Path
) -> None:
    repo = unique("concurrency/repo")
    tags = [f"t{i}" for i in range(5)]
    pushed = {tag: registry_http.push_image(repo, tag, seed=tag) for tag in tags}
    registry_http.reset_counts()

    async def work(client: RegistryClient) -> list[Resolution]:
        refs = [parse_normalized(f"{registry_http.host}/{repo}:{tag}") for tag in tags]
        return await asyncio.gather(*(client.resolve(ref) for ref in refs for _ in range(20)))

    results = run_with(registry_http, tmp_path, work, per_registry_concurrency=4)
    assert len(results) == 100
    for result in results:
        assert result.digest == pushed[result.reference.tag or ""].digest
    seen = registry_http.manifest_requests()
    assert sorted(seen) == sorted(("HEAD", f"/v2/{repo}/manifests/{tag}") for tag in tags)


def test_resolve_many_keeps_order_and_returns_errors_in_place(
    registry_http: RunningRegistry, tmp_path: Path
) -> None:
    repo = unique("many/repo")
    a = registry_http.push_image(repo, "a", seed="a")
    b = registry_http.push_image(repo, "b", seed="b")
    refs = [parse_normalized(f"{registry_http.host}/{repo}:{tag}") for tag in ("a", "missing", "b")]
    results = resolve_many(
        refs,
        config=config_for(registry_http),
        docker_config_dir=tmp_path,
        certs_d=tmp_path,
        max_attempts=1,
    )
    assert isinstance(results[0], Resolution) and results[0].digest == a.digest
    assert isinstance(results[1], TagNotFound)
    assert isinstance(results[2], Resolution) and results[2].digest == b.digest
    assert all(isinstance(r, Resolution | RegistryError) for r in results)
