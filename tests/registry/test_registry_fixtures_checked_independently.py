"""The registry fixtures themselves, checked with independent clients (skopeo, plain httpx)."""

from __future__ import annotations

import hashlib
import json
import ssl
import time

import httpx
import jwt
import pytest

from tests.support.fault_proxy import FaultProxy
from tests.support.registry import (
    ACCEPT_ALL,
    DOCKER_LIST,
    DOCKER_MANIFEST,
    OCI_INDEX,
    OCI_MANIFEST,
    RunningRegistry,
)

FLAVOURS = ["registry_http", "registry_tls", "registry_basic", "registry_token"]


@pytest.fixture(params=FLAVOURS)
def registry(request: pytest.FixtureRequest) -> RunningRegistry:
    reg: RunningRegistry = request.getfixturevalue(request.param)
    return reg


def _head_digest(reg: RunningRegistry, repo: str, ref: str) -> httpx.Response:
    with reg.client() as c:
        return c.head(f"/v2/{repo}/manifests/{ref}", headers={"Accept": ACCEPT_ALL})


def test_a_pushed_docker_image_is_served_as_skopeo_sees_it(registry: RunningRegistry) -> None:
    pushed = registry.push_image(
        "fixtures/docker", "1.0", labels={"org.opencontainers.image.version": "1.0"}
    )
    assert pushed.media_type == DOCKER_MANIFEST
    assert registry.skopeo_raw_digest("fixtures/docker:1.0") == pushed.digest
    assert registry.skopeo_raw_digest(f"fixtures/docker@{pushed.digest}") == pushed.digest
    r = _head_digest(registry, "fixtures/docker", "1.0")
    assert r.status_code == 200
    assert r.headers["Docker-Content-Digest"] == pushed.digest
    assert r.headers["Content-Type"] == DOCKER_MANIFEST
    # The config blob is real and carries the labels.
    with registry.client() as c:
        config = c.get(f"/v2/fixtures/docker/blobs/{pushed.config_digest}").json()
    assert config["config"]["Labels"] == {"org.opencontainers.image.version": "1.0"}
    assert config["architecture"] == "amd64"


def test_a_pushed_oci_image_is_served_as_skopeo_sees_it(registry: RunningRegistry) -> None:
    pushed = registry.push_image(
        "fixtures/oci", "1.0", oci=True, annotations={"org.opencontainers.image.revision": "abc"}
    )
    assert pushed.media_type == OCI_MANIFEST
    assert pushed.manifest["annotations"] == {"org.opencontainers.image.revision": "abc"}
    assert registry.skopeo_raw_digest("fixtures/oci:1.0") == pushed.digest
    r = _head_digest(registry, "fixtures/oci", "1.0")
    assert r.headers["Docker-Content-Digest"] == pushed.digest


def test_a_pushed_oci_index_carries_attestation_entries(registry: RunningRegistry) -> None:
    platforms = [("linux", "amd64", None), ("linux", "arm64", "v8")]
    children = [
        (registry.push_image("fixtures/index", None, oci=True, platform=p), p) for p in platforms
    ]
    index = registry.push_index("fixtures/index", "1.0", children)
    assert index.media_type == OCI_INDEX
    entries = index.manifest["manifests"]
    assert len(entries) == 4
    att = [e for e in entries if e["platform"]["os"] == "unknown"]
    assert [a["annotations"]["vnd.docker.reference.digest"] for a in att] == [
        c.digest for c, _ in children
    ]
    assert all(a["annotations"]["vnd.docker.reference.type"] == "attestation-manifest" for a in att)
    assert registry.skopeo_raw_digest("fixtures/index:1.0") == index.digest
    # Children and attestation manifests are really there.
    for child, _ in children:
        assert registry.skopeo_raw_digest(f"fixtures/index@{child.digest}") == child.digest
    for a in index.attestations:
        raw = registry.skopeo_raw(f"fixtures/index@{a.digest}")
        assert json.loads(raw)["layers"][0]["mediaType"] == "application/vnd.in-toto+json"
    r = _head_digest(registry, "fixtures/index", "1.0")
    assert r.headers["Docker-Content-Digest"] == index.digest


def test_a_pushed_manifest_list_is_served_whole_only_when_asked(registry: RunningRegistry) -> None:
    lst = registry.push_multiarch("fixtures/list", "1.0", oci=False)
    assert lst.media_type == DOCKER_LIST
    assert [e["mediaType"] for e in lst.manifest["manifests"]] == [DOCKER_MANIFEST] * 2
    assert registry.skopeo_raw_digest("fixtures/list:1.0") == lst.digest
    r = _head_digest(registry, "fixtures/list", "1.0")
    assert r.headers["Docker-Content-Digest"] == lst.digest
    # Without the list type the registry answers with the linux/amd64 child (DESIGN.md).
    with registry.client() as c:
        r = c.head("/v2/fixtures/list/manifests/1.0", headers={"Accept": DOCKER_MANIFEST})
    assert r.headers["Docker-Content-Digest"] == lst.manifest["manifests"][0]["digest"]


def test_a_tag_moves_to_a_new_build_and_a_deleted_digest_is_gone(registry: RunningRegistry) -> None:
    first = registry.push_image("fixtures/moving", "latest", seed="build-1")
    again = registry.push_image("fixtures/moving", "latest", seed="build-1")
    assert again.digest == first.digest  # deterministic
    second = registry.push_image("fixtures/moving", "latest", seed="build-2")
    assert second.digest != first.digest
    assert registry.skopeo_raw_digest("fixtures/moving:latest") == second.digest
    # The old manifest is still there by digest.
    assert registry.skopeo_raw_digest(f"fixtures/moving@{first.digest}") == first.digest
    registry.delete("fixtures/moving", second.digest)
    r = _head_digest(registry, "fixtures/moving", "latest")
    assert r.status_code == 404


def test_manifest_requests_are_counted_from_the_access_log(registry: RunningRegistry) -> None:
    pushed = registry.push_image("fixtures/count", "1")
    with registry.client() as c:  # a client that has answered the auth challenge already
        c.get("/v2/")
        c.head("/v2/fixtures/count/manifests/1", headers={"Accept": ACCEPT_ALL})
        registry.reset_counts()
        assert registry.manifest_requests() == []
        for _ in range(2):
            c.head("/v2/fixtures/count/manifests/1", headers={"Accept": ACCEPT_ALL})
        c.get(f"/v2/fixtures/count/manifests/{pushed.digest}", headers={"Accept": ACCEPT_ALL})
        c.get("/v2/fixtures/count/tags/list")
    assert registry.manifest_requests() == [
        ("HEAD", "/v2/fixtures/count/manifests/1"),
        ("HEAD", "/v2/fixtures/count/manifests/1"),
        ("GET", f"/v2/fixtures/count/manifests/{pushed.digest}"),
    ]
    registry.reset_counts()
    assert registry.manifest_requests() == []


def test_tls_needs_the_test_ca(registry_tls: RunningRegistry) -> None:
    assert registry_tls.url.startswith("https://127.0.0.1:")
    assert registry_tls.ca_file is not None
    registry_tls.push_image("fixtures/tls", "1")
    # Trusting the CA is enough for every SAN the certificate names.
    for host in ("127.0.0.1", "localhost"):
        with httpx.Client(verify=registry_tls.verify) as c:
            assert c.get(f"https://{host}:{registry_tls.port}/v2/").status_code == 200
    # Without the CA the certificate is not trusted.
    with httpx.Client() as c, pytest.raises(httpx.ConnectError):
        c.get(f"{registry_tls.url}/v2/")
    assert registry_tls.cert_dir is not None
    assert [p.name for p in registry_tls.cert_dir.iterdir()] == ["ca.crt"]


def test_basic_auth_registry_refuses_anonymous_and_wrong_passwords(
    registry_basic: RunningRegistry
) -> None:
    pushed = registry_basic.push_image("fixtures/private", "1")
    with registry_basic.client(anonymous=True) as c:
        r = c.head("/v2/fixtures/private/manifests/1", headers={"Accept": ACCEPT_ALL})
    assert r.status_code == 401
    assert r.headers["WWW-Authenticate"].startswith("Basic ")
    with httpx.Client(verify=registry_basic.verify) as c:
        r = c.head(
            f"{registry_basic.url}/v2/fixtures/private/manifests/1",
            headers={"Accept": ACCEPT_ALL},
            auth=(registry_basic.username or "", "wrong"),
        )
        assert r.status_code == 401
        r = c.head(
            f"{registry_basic.url}/v2/fixtures/private/manifests/1",
            headers={"Accept": ACCEPT_ALL},
            auth=(registry_basic.username or "", registry_basic.password or ""),
        )
        assert r.headers["Docker-Content-Digest"] == pushed.digest
    with pytest.raises(Exception, match="skopeo failed"):
        registry_basic.skopeo_raw_digest("fixtures/private:1", anonymous=True)


def _bearer_head(reg: RunningRegistry, path: str, token: str) -> httpx.Response:
    with httpx.Client(verify=reg.verify) as c:
        return c.head(
            reg.url + path, headers={"Accept": ACCEPT_ALL, "Authorization": f"Bearer {token}"}
        )


def test_token_registry_lets_anyone_pull_public_and_only_credentials_pull_private(
    registry_token: RunningRegistry
) -> None:
    ts = registry_token.token_server
    assert ts is not None
    private = registry_token.push_image("team/app", "1")
    public = registry_token.push_image("public/app", "1")
    registry_token.reset_counts()
    with registry_token.client(anonymous=True) as c:
        r = c.head("/v2/team/app/manifests/1", headers={"Accept": ACCEPT_ALL})
        assert r.status_code == 401
        assert 'error="insufficient_scope"' in r.headers["WWW-Authenticate"]
        r = c.head("/v2/public/app/manifests/1", headers={"Accept": ACCEPT_ALL})
        assert r.headers["Docker-Content-Digest"] == public.digest
    asked = [(q.user, q.scopes, q.access) for q in ts.token_requests()]
    assert asked == [
        (None, ["repository:team/app:pull"], []),
        (
            None,
            ["repository:public/app:pull"],
            [{"type": "repository", "name": "public/app", "actions": ["pull"]}],
        ),
    ]
    # Anonymous push to public/ is refused too.
    with registry_token.client(anonymous=True) as c:
        assert c.post("/v2/public/app/blobs/uploads/").status_code == 401
    assert registry_token.skopeo_raw_digest("public/app:1", anonymous=True) == public.digest
    with pytest.raises(Exception, match="skopeo failed"):
        registry_token.skopeo_raw_digest("team/app:1", anonymous=True)
    assert registry_token.skopeo_raw_digest("team/app:1") == private.digest


def test_token_requests_are_recorded_one_per_scope_and_can_be_reset(
    registry_token: RunningRegistry
) -> None:
    ts = registry_token.token_server
    assert ts is not None
    registry_token.push_image("team/reuse", "1")
    registry_token.reset_counts()
    with registry_token.client() as c:
        assert c.get("/v2/").status_code == 200
        for _ in range(3):
            r = c.head("/v2/team/reuse/manifests/1", headers={"Accept": ACCEPT_ALL})
            assert r.status_code == 200
    reqs = ts.token_requests()
    assert [(q.scopes, q.user) for q in reqs] == [
        ([], "pinbot"),  # the /v2/ challenge carries no scope
        (["repository:team/reuse:pull"], "pinbot"),
    ]
    assert reqs[0].access == []
    ts.reset()
    assert ts.token_requests() == []


def test_the_token_server_grants_and_refuses_like_a_real_one(registry_token: RunningRegistry) -> None:
    ts = registry_token.token_server
    assert ts is not None
    with httpx.Client(verify=registry_token.verify) as c:
        params = {"service": ts.service, "scope": "repository:team/x:pull,push"}
        r = c.get(ts.realm, params=params, auth=("pinbot", "wrong"))
        assert r.status_code == 401
        r = c.get(
            ts.realm,
            params=params,
            auth=(registry_token.username or "", registry_token.password or ""),
        )
        body = r.json()
        assert body["token"] == body["access_token"]
        assert body["expires_in"] == ts.expires_in
        assert body["issued_at"].endswith("Z")
        claims = jwt.decode(body["token"], options={"verify_signature": False})
        assert claims["iss"] == ts.issuer and claims["aud"] == ts.service
        assert claims["access"] == [
            {"type": "repository", "name": "team/x", "actions": ["pull", "push"]}
        ]
        r = c.post(
            ts.realm,
            data={
                "grant_type": "password",
                "username": registry_token.username,
                "password": registry_token.password,
                "service": ts.service,
                "scope": "repository:team/x:pull",
                "client_id": "pinbot-tests",
            },
        )
        assert r.status_code == 200 and "access_token" in r.json()


def test_registry_checks_token_signature_and_claims(registry_token: RunningRegistry) -> None:
    ts = registry_token.token_server
    assert ts is not None
    pushed = registry_token.push_image("team/claims", "1")
    path = "/v2/team/claims/manifests/1"
    access = ts.grant("pinbot", ["repository:team/claims:pull"])
    for mode in ("x5c", "kid"):
        r = _bearer_head(registry_token, path, ts.issue("pinbot", access, key_mode=mode))
        assert r.headers.get("Docker-Content-Digest") == pushed.digest, mode
    for forged in (
        ts.issue("pinbot", access, issuer="someone-else"),
        ts.issue("pinbot", access, audience="another-registry"),
        ts.issue("pinbot", access, expires_in=-120),
    ):
        assert _bearer_head(registry_token, path, forged).status_code == 401


def test_proxy_forwards_faithfully(registry_http: RunningRegistry, fault_proxy: FaultProxy) -> None:
    pushed = registry_http.push_multiarch("fixtures/proxied", "1")
    with httpx.Client(base_url=fault_proxy.url) as c:
        r = c.head("/v2/fixtures/proxied/manifests/1", headers={"Accept": ACCEPT_ALL})
        assert r.status_code == 200
        assert r.headers["Docker-Content-Digest"] == pushed.digest
        assert int(r.headers["Content-Length"]) == pushed.size
        r = c.get(
            "/v2/fixtures/proxied/manifests/1",
            headers={"Accept": ACCEPT_ALL, "Authorization": "Bearer abc"},
        )
        assert r.content == pushed.body
        assert r.headers["Content-Type"] == OCI_INDEX
        # No Accept: the registry itself decides (404 for an OCI index), not the proxy.
        assert (
            c.get("/v2/fixtures/proxied/manifests/1", headers={"Accept": "*/*"}).status_code == 404
        )
        # A blob upload through the proxy: POST then PUT to the Location, which points at the proxy.
        data = b"uploaded through the proxy"
        r = c.post("/v2/fixtures/proxied/blobs/uploads/")
        assert r.status_code == 202
        location = r.headers["Location"]
        assert location.startswith(fault_proxy.url)
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        r = c.put(location + "&digest=" + digest, content=data)
        assert r.status_code == 201
        assert c.get(f"/v2/fixtures/proxied/blobs/{digest}").content == data
    seen = fault_proxy.requests
    assert seen[0].method == "HEAD" and seen[0].header("accept") == ACCEPT_ALL
    assert seen[1].header("Authorization") == "Bearer abc"
    assert seen[-2].method == "PUT" and seen[-2].body == data
    assert fault_proxy.manifest_requests()[:2] == [
        ("HEAD", "/v2/fixtures/proxied/manifests/1"),
        ("GET", "/v2/fixtures/proxied/manifests/1"),
    ]
    fault_proxy.clear()
    assert fault_proxy.requests == []


def test_proxy_forwards_to_tls_upstream_with_credentials(registry_basic: RunningRegistry) -> None:
    pushed = registry_basic.push_image("fixtures/behind-proxy", "1")
    assert isinstance(registry_basic.verify, ssl.SSLContext)
    with (
        FaultProxy(registry_basic.url, ssl_context=registry_basic.verify) as proxy,
        httpx.Client() as c,
    ):
        url = f"{proxy.url}/v2/fixtures/behind-proxy/manifests/1"
        assert c.head(url, headers={"Accept": ACCEPT_ALL}).status_code == 401
        r = c.head(
            url,
            headers={"Accept": ACCEPT_ALL},
            auth=(registry_basic.username or "", registry_basic.password or ""),
        )
        assert r.headers["Docker-Content-Digest"] == pushed.digest


def test_proxy_injects_status_faults(
    registry_http: RunningRegistry, fault_proxy: FaultProxy
) -> None:
    pushed = registry_http.push_image("fixtures/faults", "1")
    rule = fault_proxy.inject(
        path_contains="/manifests/", status=429, headers={"Retry-After": "1"}, times=2
    )
    fault_proxy.inject(path_contains="/manifests/", method="GET", status=503)
    path = "/v2/fixtures/faults/manifests/1"
    with httpx.Client(base_url=fault_proxy.url) as c:
        assert c.get("/v2/").status_code == 200  # not matched
        for _ in range(2):
            r = c.head(path, headers={"Accept": ACCEPT_ALL})
            assert r.status_code == 429
            assert r.headers["Retry-After"] == "1"
        r = c.get(path, headers={"Accept": ACCEPT_ALL})
        assert r.status_code == 503
        assert r.json()["errors"][0]["code"] == "UNAVAILABLE"
        r = c.get(path, headers={"Accept": ACCEPT_ALL})
        assert r.status_code == 200 and r.content == pushed.body
    assert rule.hits == 2
    assert fault_proxy.pending_faults() == []
    assert [r.status for r in fault_proxy.requests] == [200, 429, 429, 503, 200]


def test_proxy_drops_delays_and_times_out_as_injected(
    registry_http: RunningRegistry, fault_proxy: FaultProxy
) -> None:
    pushed = registry_http.push_image("fixtures/slow", "1")
    path = "/v2/fixtures/slow/manifests/1"
    fault_proxy.inject(path_contains="/manifests/", drop=True)
    fault_proxy.inject(path_contains="/manifests/", delay=0.5)
    fault_proxy.inject(path_contains="/manifests/", delay=3.0)
    with httpx.Client(base_url=fault_proxy.url, headers={"Accept": ACCEPT_ALL}) as c:
        with pytest.raises(httpx.RemoteProtocolError):
            c.head(path)
        t0 = time.monotonic()
        r = c.head(path)
        assert time.monotonic() - t0 >= 0.5
        assert r.headers["Docker-Content-Digest"] == pushed.digest
        with pytest.raises(httpx.ReadTimeout):
            c.head(path, timeout=0.5)
        assert c.head(path).status_code == 200
    assert [r.status for r in fault_proxy.requests[:2]] == [None, 200]


def test_auth_retries_show_in_the_access_log(registry_token: RunningRegistry) -> None:
    registry_token.push_image("team/logged", "1")
    registry_token.reset_counts()
    with registry_token.client() as c:
        c.head("/v2/team/logged/manifests/1", headers={"Accept": ACCEPT_ALL})
    assert registry_token.manifest_responses() == [
        ("HEAD", "/v2/team/logged/manifests/1", 401),
        ("HEAD", "/v2/team/logged/manifests/1", 200),
    ]


def test_every_registry_starts_within_ten_seconds_with_deletes_enabled(
    registry_http: RunningRegistry,
    registry_tls: RunningRegistry,
    registry_basic: RunningRegistry,
    registry_token: RunningRegistry,
) -> None:
    for reg in (registry_http, registry_tls, registry_basic, registry_token):
        assert 0 < reg.start_seconds < 10, reg.url
    env_free = registry_http.config_path.read_text()
    assert '"delete"' in env_free and '"enabled": true' in env_free
