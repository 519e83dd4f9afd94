"""A real distribution 2.8 registry (Debian's `docker-registry`) for tests, with push helpers.

`start_registry()` runs `docker-registry serve CONFIG` on a free loopback port with a temporary
storage directory and every `REGISTRY_*` environment variable removed (the registry reads them as
configuration overrides). Flavours: plain HTTP, TLS with a test CA, TLS + htpasswd Basic auth,
TLS + token auth (see `token_server.py`).

The push helpers build real images: a JSON config blob, gzip layer blobs with matching diff_ids,
and a Docker v2 schema 2 or OCI manifest; blobs are uploaded POST then PUT (a single-request
upload is accepted by the registry but stores nothing). Everything is deterministic: the same
arguments give the same digest; `seed` changes the layer bytes, so pushing the same tag with a
new seed is what a rebuild looks like.
"""

from __future__ import annotations

import base64
import contextlib
import gzip
import hashlib
import io
import itertools
import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import tarfile
import time
import urllib.parse
from collections.abc import Generator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

if TYPE_CHECKING:
    from tests.support.certs import KeyPair, TestCA
    from tests.support.token_server import TokenServer

DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar.gzip"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
IN_TOTO = "application/vnd.in-toto+json"

# Every manifest type a client must accept to see what is really stored (without the list and
# OCI types the registry converts or answers 404; see DESIGN.md).
ACCEPT_ALL = ", ".join([OCI_INDEX, OCI_MANIFEST, DOCKER_LIST, DOCKER_MANIFEST])

DEFAULT_CREATED = "2024-01-01T00:00:00Z"
SLSA_PROVENANCE = "https://slsa.dev/provenance/v0.2"

Platform = tuple[str, str, str | None]


def sha256_digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


@dataclass
class Pushed:
    """One manifest stored in the registry."""

    digest: str  # "sha256:…" of the exact bytes pushed
    media_type: str
    body: bytes
    size: int
    repo: str = ""
    tag: str | None = None
    config_digest: str | None = None  # images only
    layer_digests: list[str] = field(default_factory=list)  # images only
    platform: Platform | None = None  # images only
    attestations: list[Pushed] = field(default_factory=list)  # indexes only

    @property
    def manifest(self) -> Any:
        return json.loads(self.body)


def _tar_layer(files: dict[str, bytes]) -> bytes:
    """An uncompressed, deterministic tar archive."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, data in sorted(files.items()):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = 0
            info.mode = 0o644
            info.uid = info.gid = 0
            info.uname = info.gname = "root"
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def make_layer(content: bytes, name: str = "layer.txt") -> tuple[bytes, str]:
    """(gzip blob, diff_id) for a layer holding one file with `content`."""
    tar = _tar_layer({name: content})
    return gzip.compress(tar, compresslevel=6, mtime=0), sha256_digest(tar)


def _dumps(obj: Any) -> bytes:
    return json.dumps(obj, indent=3).encode()


def _platform_dict(platform: Platform) -> dict[str, str]:
    os_, arch, variant = platform
    out = {"architecture": arch, "os": os_}
    if variant:
        out["variant"] = variant
    return out


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def clean_env() -> dict[str, str]:
    """The environment without `REGISTRY_*` overrides."""
    return {k: v for k, v in os.environ.items() if not k.startswith("REGISTRY_")}


def _die_with_parent() -> None:
    """In the child: get SIGTERM when the test process dies, so no registry is left behind."""
    with contextlib.suppress(Exception):
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


_CHALLENGE_PARAM = re.compile(r'(\w+)="([^"]*)"')


class RegistryAuth(httpx.Auth):
    """Answers the registry's own challenge: Basic, or Bearer via the token realm."""

    requires_response_body = True

    def __init__(self, username: str | None, password: str | None) -> None:
        self.username = username
        self.password = password
        self._headers: dict[str, str] = {}  # repository ("" for /v2/) -> Authorization

    @staticmethod
    def _key(request: httpx.Request) -> str:
        m = re.match(r"^/v2/(.+?)/(manifests|blobs|tags)/", request.url.path)
        return m.group(1) if m else ""

    def _basic(self) -> str:
        raw = f"{self.username}:{self.password}".encode()
        return "Basic " + base64.b64encode(raw).decode()

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        key = self._key(request)
        if key in self._headers:
            request.headers["Authorization"] = self._headers[key]
        response = yield request
        if response.status_code != 401:
            return
        challenge = response.headers.get("WWW-Authenticate", "")
        scheme, _, rest = challenge.partition(" ")
        if scheme.lower() == "basic":
            if self.username is None:
                return
            header = self._basic()
        elif scheme.lower() == "bearer":
            params = dict(_CHALLENGE_PARAM.findall(rest))
            query = {k: params[k] for k in ("service", "scope") if k in params}
            token_request = httpx.Request("GET", httpx.URL(params["realm"], params=query))
            if self.username is not None:
                token_request.headers["Authorization"] = self._basic()
            token_response = yield token_request
            if token_response.status_code != 200:
                return
            data = token_response.json()
            header = "Bearer " + (data.get("token") or data["access_token"])
        else:
            return
        self._headers[key] = header
        request.headers["Authorization"] = header
        yield request


class RegistryError(RuntimeError):
    pass


class RunningRegistry:
    """A `docker-registry serve` process and the means to fill and inspect it."""

    def __init__(
        self,
        workdir: Path,
        *,
        ca: TestCA | None = None,
        server_cert: KeyPair | None = None,
        htpasswd: Path | None = None,
        token_server: TokenServer | None = None,
        username: str | None = None,
        password: str | None = None,
    ) -> None:
        self.workdir = workdir
        self.ca = ca
        self.ca_file: Path | None = ca.ca_file if ca else None
        self.cert_dir: Path | None = ca.cert_dir if ca else None
        self._server_cert = server_cert
        self._htpasswd = htpasswd
        self.token_server = token_server
        self.username = username
        self.password = password
        self.auth = "token" if token_server else "basic" if htpasswd else "none"
        self.storage = workdir / "storage"
        self.log_path = workdir / "registry.log"
        self.config_path = workdir / "config.yml"
        self.host = ""
        self.url = ""
        self.port = 0
        self._proc: subprocess.Popen[bytes] | None = None
        self._log_file: io.BufferedWriter | None = None
        self._log_offset = 0
        self._sync = itertools.count()
        self._client: httpx.Client | None = None
        self.start_seconds = 0.0

    # --- process ------------------------------------------------------------------------

    @property
    def tls(self) -> bool:
        return self._server_cert is not None

    @property
    def verify(self) -> ssl.SSLContext | bool:
        """The `verify=` argument for httpx: an SSL context trusting only the test CA."""
        if self.ca_file is None:
            return True
        return ssl.create_default_context(cafile=str(self.ca_file))

    def _config(self, port: int) -> str:
        http: dict[str, Any] = {"addr": f"127.0.0.1:{port}", "secret": "pinbot-test-secret"}
        if self._server_cert:
            http["tls"] = {
                "certificate": str(self._server_cert.cert_file),
                "key": str(self._server_cert.key_file),
            }
        config: dict[str, Any] = {
            "version": 0.1,
            "log": {"level": "info", "formatter": "text", "accesslog": {"disabled": False}},
            "storage": {
                "filesystem": {"rootdirectory": str(self.storage)},
                "delete": {"enabled": True},
                "maintenance": {"uploadpurging": {"enabled": False}},
            },
            "http": http,
            "health": {"storagedriver": {"enabled": False}},
        }
        if self._htpasswd:
            config["auth"] = {"htpasswd": {"realm": "pinbot-test", "path": str(self._htpasswd)}}
        elif self.token_server:
            ts = self.token_server
            config["auth"] = {
                "token": {
                    "realm": ts.realm,
                    "service": ts.service,
                    "issuer": ts.issuer,
                    "rootcertbundle": str(ts.rootcertbundle),
                }
            }
        # JSON is YAML.
        return json.dumps(config, indent=2)

    def start(self, timeout: float = 15.0) -> RunningRegistry:
        exe = shutil.which("docker-registry")
        if exe is None:
            raise RegistryError("docker-registry is not installed")
        t0 = time.monotonic()
        self.storage.mkdir(parents=True, exist_ok=True)
        for _attempt in range(5):
            port = _free_port()
            self.config_path.write_text(self._config(port))
            self._log_file = open(self.log_path, "ab")  # noqa: SIM115
            self._proc = subprocess.Popen(
                [exe, "serve", str(self.config_path)],
                stdin=subprocess.DEVNULL,
                stdout=self._log_file,
                stderr=subprocess.STDOUT,
                env=clean_env(),
                cwd=self.workdir,
                preexec_fn=_die_with_parent,
            )
            scheme = "https" if self.tls else "http"
            self.port = port
            self.host = f"127.0.0.1:{port}"
            self.url = f"{scheme}://{self.host}"
            if self._wait_ready(timeout):
                break
            self._stop_process()
        else:
            raise RegistryError(f"registry did not start; log:\n{self.log_text()[-4000:]}")
        self.start_seconds = time.monotonic() - t0
        self.reset_counts()
        return self

    def _wait_ready(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        verify = self.verify
        with httpx.Client(verify=verify, timeout=2.0) as client:
            while time.monotonic() < deadline:
                assert self._proc is not None
                if self._proc.poll() is not None:
                    return False
                try:
                    r = client.get(f"{self.url}/v2/")
                except httpx.TransportError:
                    time.sleep(0.02)
                    continue
                if r.status_code in (200, 401):
                    return True
                time.sleep(0.02)
        return False

    def _stop_process(self) -> None:
        if self._proc is not None:
            if self._proc.poll() is None:
                self._proc.terminate()
                try:
                    self._proc.wait(5)
                except subprocess.TimeoutExpired:
                    self._proc.kill()
                    self._proc.wait(5)
            self._proc = None
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None
        self._stop_process()

    def __enter__(self) -> RunningRegistry:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    # --- HTTP ---------------------------------------------------------------------------

    def client(self, *, anonymous: bool = False, **kwargs: Any) -> httpx.Client:
        """A new httpx client that trusts the CA and answers auth challenges.

        The caller closes it. `anonymous=True` still fetches (anonymous) tokens.
        """
        verify = self.verify
        auth = RegistryAuth(
            None if anonymous else self.username, None if anonymous else self.password
        )
        kwargs.setdefault("timeout", 30.0)
        return httpx.Client(base_url=self.url, verify=verify, auth=auth, **kwargs)

    @property
    def _http(self) -> httpx.Client:
        if self._client is None:
            self._client = self.client()
        return self._client

    def ref(self, repo: str, tag_or_digest: str) -> str:
        """ "HOST/repo:tag" or "HOST/repo@sha256:…"."""
        sep = "@" if tag_or_digest.startswith("sha256:") else ":"
        return f"{self.host}/{repo}{sep}{tag_or_digest}"

    def _check(self, r: httpx.Response, *expected: int) -> httpx.Response:
        if r.status_code not in expected:
            raise RegistryError(
                f"{r.request.method} {r.request.url} -> {r.status_code}: {r.text[:500]}"
            )
        return r

    def upload_blob(self, repo: str, data: bytes) -> str:
        digest = sha256_digest(data)
        c = self._http
        if c.head(f"/v2/{repo}/blobs/{digest}").status_code == 200:
            return digest
        r = self._check(c.post(f"/v2/{repo}/blobs/uploads/"), 202)
        location = urllib.parse.urljoin(self.url + "/", r.headers["Location"])
        # Keep the upload state the registry put in the query; add the digest to it.
        sep = "&" if "?" in location else "?"
        location += sep + urllib.parse.urlencode({"digest": digest})
        r = self._check(
            c.put(
                location,
                content=data,
                headers={"Content-Type": "application/octet-stream"},
            ),
            201,
        )
        if r.headers.get("Docker-Content-Digest", digest) != digest:
            raise RegistryError(f"blob digest mismatch: {r.headers['Docker-Content-Digest']}")
        return digest

    def put_manifest(self, repo: str, reference: str | None, body: bytes, media_type: str) -> str:
        """PUT raw manifest bytes by tag (or by digest when `reference` is None)."""
        digest = sha256_digest(body)
        r = self._check(
            self._http.put(
                f"/v2/{repo}/manifests/{reference or digest}",
                content=body,
                headers={"Content-Type": media_type},
            ),
            201,
        )
        served = r.headers.get("Docker-Content-Digest")
        if served != digest:
            raise RegistryError(f"registry stored {served}, pushed {digest}")
        return digest

    # --- push ---------------------------------------------------------------------------

    def push_image(
        self,
        repo: str,
        tag: str | None,
        *,
        oci: bool = False,
        platform: Platform = ("linux", "amd64", None),
        labels: dict[str, str] | None = None,
        created: str | None = None,
        layers: list[bytes] | None = None,
        annotations: dict[str, str] | None = None,
        seed: str = "",
    ) -> Pushed:
        """Push a single-platform image.

        `layers` are file contents, one layer each (wrapped in a deterministic tar, then
        gzip'd); a value already starting with the gzip magic is taken as the layer blob
        itself. By default one layer depends on the platform and `seed`. `annotations` go into
        OCI manifests only (Docker schema 2 has none).
        """
        os_, arch, variant = platform
        if layers is None:
            layers = [f"pinbot test layer {os_}/{arch}/{variant or ''} seed={seed}\n".encode()]
        blobs: list[tuple[bytes, str]] = []
        for i, content in enumerate(layers):
            if content[:2] == b"\x1f\x8b":
                blobs.append((content, sha256_digest(gzip.decompress(content))))
            else:
                blobs.append(make_layer(content, name=f"layer{i}.txt"))
        config: dict[str, Any] = {
            "architecture": arch,
            "os": os_,
            "created": created or DEFAULT_CREATED,
            "config": {
                "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
                "Cmd": ["/bin/sh"],
                "Labels": dict(labels or {}),
            },
            "rootfs": {"type": "layers", "diff_ids": [diff_id for _, diff_id in blobs]},
            "history": [
                {"created": created or DEFAULT_CREATED, "created_by": f"pinbot test layer {i}"}
                for i in range(len(blobs))
            ],
        }
        if variant:
            config["variant"] = variant
        config_bytes = _dumps(config)
        config_digest = self.upload_blob(repo, config_bytes)
        layer_digests = [self.upload_blob(repo, blob) for blob, _ in blobs]
        manifest: dict[str, Any] = {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST if oci else DOCKER_MANIFEST,
            "config": {
                "mediaType": OCI_CONFIG if oci else DOCKER_CONFIG,
                "size": len(config_bytes),
                "digest": config_digest,
            },
            "layers": [
                {"mediaType": OCI_LAYER if oci else DOCKER_LAYER, "size": len(blob), "digest": d}
                for (blob, _), d in zip(blobs, layer_digests, strict=True)
            ],
        }
        if oci and annotations:
            manifest["annotations"] = dict(annotations)
        body = _dumps(manifest)
        media_type = manifest["mediaType"]
        digest = self.put_manifest(repo, tag, body, media_type)
        return Pushed(
            digest=digest,
            media_type=media_type,
            body=body,
            size=len(body),
            repo=repo,
            tag=tag,
            config_digest=config_digest,
            layer_digests=layer_digests,
            platform=platform,
        )

    def _push_attestation(self, repo: str, child: Pushed) -> Pushed:
        """An attestation manifest shaped like buildkit's (SLSA provenance, in-toto layer)."""
        statement = {
            "_type": "https://in-toto.io/Statement/v0.1",
            "predicateType": SLSA_PROVENANCE,
            "subject": [
                {"name": f"pkg:docker/{repo}", "digest": {"sha256": child.digest.split(":", 1)[1]}}
            ],
            "predicate": {"builder": {"id": "pinbot-tests"}, "buildType": "pinbot-test"},
        }
        layer = _dumps(statement)
        layer_digest = self.upload_blob(repo, layer)
        config = _dumps(
            {
                "architecture": "unknown",
                "os": "unknown",
                "config": {},
                "rootfs": {"type": "layers", "diff_ids": [layer_digest]},
            }
        )
        config_digest = self.upload_blob(repo, config)
        manifest = {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {"mediaType": OCI_CONFIG, "digest": config_digest, "size": len(config)},
            "layers": [
                {
                    "mediaType": IN_TOTO,
                    "digest": layer_digest,
                    "size": len(layer),
                    "annotations": {"in-toto.io/predicate-type": SLSA_PROVENANCE},
                }
            ],
        }
        body = _dumps(manifest)
        digest = self.put_manifest(repo, None, body, OCI_MANIFEST)
        return Pushed(
            digest=digest,
            media_type=OCI_MANIFEST,
            body=body,
            size=len(body),
            repo=repo,
            config_digest=config_digest,
            layer_digests=[layer_digest],
            platform=("unknown", "unknown", None),
        )

    def push_index(
        self,
        repo: str,
        tag: str | None,
        children: list[tuple[Pushed, Platform]],
        *,
        oci: bool = True,
        attestations: bool = True,
        annotations: dict[str, str] | None = None,
    ) -> Pushed:
        """Push an OCI image index (or a Docker manifest list when `oci=False`).

        The children must already be in `repo`. With `attestations` (OCI only, as buildkit
        does) an `unknown/unknown` attestation manifest entry follows the children.
        `annotations` go into OCI indexes only.
        """
        entries: list[dict[str, Any]] = []
        for child, platform in children:
            entries.append(
                {
                    "mediaType": child.media_type,
                    "digest": child.digest,
                    "size": child.size,
                    "platform": _platform_dict(platform),
                }
            )
        pushed_attestations: list[Pushed] = []
        if oci and attestations:
            for child, _ in children:
                att = self._push_attestation(repo, child)
                pushed_attestations.append(att)
                entries.append(
                    {
                        "mediaType": att.media_type,
                        "digest": att.digest,
                        "size": att.size,
                        "annotations": {
                            "vnd.docker.reference.digest": child.digest,
                            "vnd.docker.reference.type": "attestation-manifest",
                        },
                        "platform": {"architecture": "unknown", "os": "unknown"},
                    }
                )
        media_type = OCI_INDEX if oci else DOCKER_LIST
        index: dict[str, Any] = {"schemaVersion": 2, "mediaType": media_type, "manifests": entries}
        if oci and annotations:
            index["annotations"] = dict(annotations)
        body = _dumps(index)
        digest = self.put_manifest(repo, tag, body, media_type)
        return Pushed(
            digest=digest,
            media_type=media_type,
            body=body,
            size=len(body),
            repo=repo,
            tag=tag,
            attestations=pushed_attestations,
        )

    def push_multiarch(
        self,
        repo: str,
        tag: str | None,
        platforms: list[Platform] | None = None,
        *,
        oci: bool = True,
        attestations: bool = True,
        seed: str = "",
        labels: dict[str, str] | None = None,
        created: str | None = None,
    ) -> Pushed:
        """Children pushed by digest, then the index by `tag`: a typical multi-arch build."""
        platforms = platforms or [("linux", "amd64", None), ("linux", "arm64", "v8")]
        children = [
            (
                self.push_image(
                    repo, None, oci=oci, platform=p, seed=seed, labels=labels, created=created
                ),
                p,
            )
            for p in platforms
        ]
        return self.push_index(repo, tag, children, oci=oci, attestations=attestations)

    def delete(self, repo: str, digest: str) -> None:
        """Delete a manifest by digest (removes every tag pointing at it)."""
        self._check(self._http.delete(f"/v2/{repo}/manifests/{digest}"), 202)

    # --- oracle -------------------------------------------------------------------------

    def skopeo_args(self, *, anonymous: bool = False) -> list[str]:
        args: list[str] = []
        if self.tls:
            assert self.cert_dir is not None
            args.append(f"--cert-dir={self.cert_dir}")
        else:
            args.append("--tls-verify=false")
        if self.username and not anonymous:
            args.append(f"--creds={self.username}:{self.password}")
        else:
            args.append("--no-creds")
        return args

    def skopeo_raw(self, ref: str, *, anonymous: bool = False) -> bytes:
        """`skopeo inspect --raw docker://HOST/REF` stdout bytes."""
        empty_conf = self.workdir / "registries.conf"
        if not empty_conf.exists():
            empty_conf.write_text("")
        env = clean_env()
        env.pop("REGISTRY_AUTH_FILE", None)
        env["CONTAINERS_REGISTRIES_CONF"] = str(empty_conf)
        cmd = [
            "skopeo",
            "--command-timeout=60s",
            "inspect",
            "--raw",
            *self.skopeo_args(anonymous=anonymous),
            f"docker://{self.host}/{ref}",
        ]
        proc = subprocess.run(cmd, capture_output=True, env=env, timeout=90, check=False)
        if proc.returncode != 0:
            raise RegistryError(
                f"skopeo failed ({proc.returncode}): {proc.stderr.decode(errors='replace')}"
            )
        return proc.stdout

    def skopeo_raw_digest(self, ref: str, *, anonymous: bool = False) -> str:
        """sha256 of `skopeo inspect --raw` output: the independent digest oracle."""
        return sha256_digest(self.skopeo_raw(ref, anonymous=anonymous))

    # --- access log ---------------------------------------------------------------------

    _ACCESS = re.compile(r'"([A-Z]+) (\S+) HTTP/[0-9.]+" (\d{3})')

    def _sync_log(self) -> None:
        """Wait until the access log has caught up with our requests so far.

        The registry writes an access log line after the handler returns, so a request whose
        answer the test has seen may not be logged yet; a marker request, answered after it,
        makes the log complete up to this point.
        """
        marker = f"/pinbot-log-sync-{next(self._sync)}-{time.monotonic_ns()}"
        verify = self.verify
        with contextlib.suppress(httpx.HTTPError), httpx.Client(verify=verify, timeout=5) as c:
            c.get(self.url + marker)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            if marker in self._log_since_reset():
                return
            time.sleep(0.01)

    def _log_since_reset(self) -> str:
        with open(self.log_path, "rb") as f:
            f.seek(self._log_offset)
            return f.read().decode(errors="replace")

    def responses_seen(self) -> list[tuple[str, str, int]]:
        """(method, path, status) of every request in the access log since `reset_counts()`.

        Paths include the query string. With auth, the unauthenticated first try that the
        registry answered 401 is a request too.
        """
        self._sync_log()
        out: list[tuple[str, str, int]] = []
        for line in self._log_since_reset().splitlines():
            m = self._ACCESS.search(line)
            if m and not m.group(2).startswith("/pinbot-log-sync-"):
                out.append((m.group(1), m.group(2), int(m.group(3))))
        return out

    def requests_seen(self) -> list[tuple[str, str]]:
        """(method, path) of every request in the access log since `reset_counts()`."""
        return [(method, path) for method, path, _ in self.responses_seen()]

    def manifest_responses(self) -> list[tuple[str, str, int]]:
        """(method, path, status) of /v2/<name>/manifests/ requests since `reset_counts()`."""
        return [r for r in self.responses_seen() if re.match(r"^/v2/.+/manifests/", r[1])]

    def manifest_requests(self) -> list[tuple[str, str]]:
        """(method, path) of /v2/<name>/manifests/ requests since `reset_counts()`.

        From the registry's own access log; 401 answers to unauthenticated tries count too
        (see `manifest_responses()` for the status).
        """
        return [(method, path) for method, path, _ in self.manifest_responses()]

    def reset_counts(self) -> None:
        """Forget requests seen so far (and the token server's, if any)."""
        if self._proc is not None and self.log_path.exists():
            self._sync_log()
            self._log_offset = self.log_path.stat().st_size
        if self.token_server is not None:
            self.token_server.reset()


def start_registry(
    workdir: Path,
    *,
    ca: TestCA | None = None,
    htpasswd_users: dict[str, str] | None = None,
    token_server: TokenServer | None = None,
    username: str | None = None,
    password: str | None = None,
) -> RunningRegistry:
    """Start a registry under `workdir`: plain HTTP without `ca`, else TLS with a cert from `ca`.

    `htpasswd_users` turns on Basic auth; `token_server` turns on token auth.
    """
    workdir.mkdir(parents=True, exist_ok=True)
    server_cert = ca.server_cert(f"registry-{workdir.name}") if ca else None
    htpasswd = None
    if htpasswd_users:
        htpasswd = workdir / "htpasswd"
        htpasswd.write_text(
            "".join(bcrypt_htpasswd_line(u, p) + "\n" for u, p in htpasswd_users.items())
        )
    reg = RunningRegistry(
        workdir,
        ca=ca,
        server_cert=server_cert,
        htpasswd=htpasswd,
        token_server=token_server,
        username=username,
        password=password,
    )
    return reg.start()


def bcrypt_htpasswd_line(user: str, password: str) -> str:
    """`user:$2y$…` — the registry accepts bcrypt only.

    Uses the `bcrypt` module when importable, else `htpasswd -Bbn` (apache2-utils).
    """
    try:
        import bcrypt  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        exe = shutil.which("htpasswd")
        if exe is None:
            raise RegistryError("need python bcrypt or htpasswd (apache2-utils)") from None
        out = subprocess.run(
            [exe, "-Bbn", "-C", "5", user, password],
            capture_output=True,
            check=True,
            text=True,
        ).stdout
        return out.strip()
    hashed = bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=5)).decode()
    return f"{user}:{hashed}"
