"""A small registry token server (the Docker token auth protocol) for tests.

The registry is configured with this server's `realm`, `service`, `issuer` and a
`rootcertbundle` holding the signer's self-signed certificate. Tokens are ES256 JWTs with an
`x5c` header (default) or a libtrust `kid`; `iss`/`aud` match the registry's issuer/service.

Rules:
- `GET /token?service=…&scope=…[&scope=…]` with optional Basic credentials; a request without
  scope (the `/v2/` challenge) gets a token with no access.
- Known users get every action they ask for; wrong credentials answer 401.
- Anonymous requests get `pull` on repositories starting with one of `public_prefixes`,
  nothing else (the registry then answers 401 `insufficient_scope`).
- `POST /token` (OAuth2 form: grant_type=password or refresh_token) is answered too.
- Every request is recorded in `requests` (method, scopes asked, user, status, access given).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import secrets
import ssl
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jwt
from cryptography.hazmat.primitives import serialization

from tests.support.certs import self_signed_signer

if TYPE_CHECKING:
    from tests.support.certs import KeyPair, TestCA


@dataclass
class TokenRequest:
    method: str
    path: str
    service: str | None
    scopes: list[str]
    user: str | None  # authenticated user, None for anonymous
    status: int
    access: list[dict[str, Any]] = field(default_factory=list)
    grant_type: str | None = None  # POST only


def libtrust_key_id(signer: KeyPair) -> str:
    """The `kid` distribution derives for a key in `rootcertbundle` (libtrust format)."""
    der = signer.cert.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    b32 = base64.b32encode(hashlib.sha256(der).digest()[:30]).decode().rstrip("=")
    return ":".join(b32[i : i + 4] for i in range(0, len(b32), 4))


def parse_scope(scope: str) -> tuple[str, str, list[str]] | None:
    """`repository:name:pull,push` -> ("repository", "name", ["pull", "push"])."""
    typ, sep, rest = scope.partition(":")
    name, sep2, actions = rest.rpartition(":")
    if not sep or not sep2 or not name:
        return None
    return typ, name, [a for a in actions.split(",") if a]


class LoopbackServer(ThreadingHTTPServer):
    """Threaded HTTP server; with `ssl_context` the TLS handshake runs in the request thread."""

    daemon_threads = True
    # socketserver listens with a backlog of 5: a client opening more connections at once (one
    # token per repository) has the rest dropped and retried by the kernel a second later.
    request_queue_size = 128

    def __init__(
        self,
        address: tuple[str, int],
        handler: type[BaseHTTPRequestHandler],
        *,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.ssl_context = ssl_context
        super().__init__(address, handler)

    def finish_request(self, request: Any, client_address: Any) -> None:
        if self.ssl_context is None:
            super().finish_request(request, client_address)
            return
        try:
            tls = self.ssl_context.wrap_socket(request, server_side=True)
        except (OSError, ssl.SSLError):
            return
        try:
            super().finish_request(tls, client_address)
        finally:
            with contextlib.suppress(OSError):
                tls.close()

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client going away mid-request is not the test's business


class BackgroundServer:
    """A LoopbackServer on a free 127.0.0.1 port, served from a daemon thread until `close`."""

    def __init__(self, handler: type[BaseHTTPRequestHandler]) -> None:
        self.server = LoopbackServer(("127.0.0.1", 0), handler)
        self.port = int(self.server.server_address[1])
        self.host = f"127.0.0.1:{self.port}"
        self.url = f"http://{self.host}"
        self._thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(5)


class TokenServer:
    """Threaded HTTP(S) token server on loopback."""

    def __init__(
        self,
        workdir: Path,
        *,
        users: dict[str, str],
        ca: TestCA | None = None,
        public_prefixes: tuple[str, ...] = ("public/",),
        issuer: str = "pinbot-test-issuer",
        service: str = "pinbot-test-registry",
        expires_in: int = 300,
        key_mode: str = "x5c",
    ) -> None:
        workdir.mkdir(parents=True, exist_ok=True)
        self.workdir = workdir
        self.users = dict(users)
        self.public_prefixes = tuple(public_prefixes)
        self.issuer = issuer
        self.service = service
        self.expires_in = expires_in
        self.key_mode = key_mode  # "x5c" or "kid"
        self.signer = self_signed_signer(workdir)
        self.rootcertbundle = self.signer.cert_file
        self.requests: list[TokenRequest] = []
        self._lock = threading.Lock()
        self._refresh_tokens: dict[str, str] = {}
        self._ca = ca
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.url = ""
        self.realm = ""

    # --- tokens ---------------------------------------------------------------------------

    def grant(self, user: str | None, scopes: list[str]) -> list[dict[str, Any]]:
        """The `access` claim for `user` (None: anonymous) asking for `scopes`."""
        access: list[dict[str, Any]] = []
        for scope in scopes:
            parsed = parse_scope(scope)
            if parsed is None:
                continue
            typ, name, actions = parsed
            if user is not None:
                allowed = actions
            elif typ == "repository" and name.startswith(self.public_prefixes):
                allowed = [a for a in actions if a == "pull"]
            else:
                allowed = []
            if allowed:
                access.append({"type": typ, "name": name, "actions": allowed})
        return access

    def issue(
        self,
        user: str | None,
        access: list[dict[str, Any]],
        *,
        expires_in: int | None = None,
        issuer: str | None = None,
        audience: str | None = None,
        key_mode: str | None = None,
    ) -> str:
        """A signed JWT; the keyword arguments let tests forge wrong ones."""
        now = int(time.time())
        claims = {
            "iss": issuer or self.issuer,
            "sub": user or "",
            "aud": audience or self.service,
            "exp": now + (self.expires_in if expires_in is None else expires_in),
            "nbf": now - 1,
            "iat": now,
            "jti": secrets.token_hex(16),
            "access": access,
        }
        headers: dict[str, Any] = {"typ": "JWT"}
        if (key_mode or self.key_mode) == "kid":
            headers["kid"] = libtrust_key_id(self.signer)
        else:
            der = self.signer.cert.public_bytes(serialization.Encoding.DER)
            headers["x5c"] = [base64.b64encode(der).decode()]
        return jwt.encode(claims, self.signer.key, algorithm="ES256", headers=headers)

    def reset(self) -> None:
        with self._lock:
            self.requests.clear()

    def token_requests(self) -> list[TokenRequest]:
        with self._lock:
            return list(self.requests)

    def _record(self, req: TokenRequest) -> None:
        with self._lock:
            self.requests.append(req)

    # --- server ---------------------------------------------------------------------------

    def start(self) -> TokenServer:
        ctx = None
        if self._ca is not None:
            pair = self._ca.server_cert("token-server")
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(str(pair.cert_file), str(pair.key_file))
        server = LoopbackServer(("127.0.0.1", 0), _make_handler(self), ssl_context=ctx)
        scheme = "https" if ctx else "http"
        self._server = server
        port = server.server_address[1]
        self.url = f"{scheme}://127.0.0.1:{port}"
        self.realm = f"{self.url}/token"
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def close(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None

    def __enter__(self) -> TokenServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _make_handler(ts: TokenServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _send_json(self, status: int, obj: Any, headers: dict[str, str] | None = None) -> None:
            body = json.dumps(obj).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(body)

        def _basic_user(self) -> tuple[bool, str | None]:
            """(credentials acceptable, user): no header is anonymous and acceptable."""
            header = self.headers.get("Authorization")
            if not header:
                return True, None
            scheme, _, value = header.partition(" ")
            if scheme.lower() != "basic":
                return False, None
            try:
                user, _, password = base64.b64decode(value).decode().partition(":")
            except (ValueError, UnicodeDecodeError):
                return False, None
            return self._check(user, password)

        @staticmethod
        def _check(user: str, password: str) -> tuple[bool, str | None]:
            if user in ts.users and secrets.compare_digest(ts.users[user], password):
                return True, user
            return False, None

        def _unauthorized(self, req: TokenRequest) -> None:
            req.status = 401
            ts._record(req)
            self._send_json(
                401,
                {"errors": [{"code": "UNAUTHORIZED", "message": "authentication required"}]},
                {"WWW-Authenticate": 'Basic realm="pinbot-test-token"'},
            )

        def _answer(self, req: TokenRequest, refresh: str | None = None) -> None:
            if req.service is not None and req.service != ts.service:
                req.status = 400
                ts._record(req)
                self._send_json(400, {"errors": [{"code": "DENIED", "message": "unknown service"}]})
                return
            req.access = ts.grant(req.user, req.scopes)
            token = ts.issue(req.user, req.access)
            req.status = 200
            ts._record(req)
            body: dict[str, Any] = {
                "token": token,
                "access_token": token,
                "expires_in": ts.expires_in,
                "issued_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            }
            if refresh:
                body["refresh_token"] = refresh
            self._send_json(200, body)

        def do_GET(self) -> None:
            url = urllib.parse.urlsplit(self.path)
            query = urllib.parse.parse_qs(url.query)
            scopes = [s for value in query.get("scope", []) for s in value.split(" ") if s]
            req = TokenRequest(
                "GET", url.path, (query.get("service") or [None])[0], scopes, None, 0
            )
            if url.path != "/token":
                req.status = 404
                ts._record(req)
                self._send_json(404, {"errors": [{"code": "NOT_FOUND"}]})
                return
            ok, user = self._basic_user()
            req.user = user
            if not ok:
                self._unauthorized(req)
                return
            refresh = None
            if user is not None and query.get("offline_token") == ["true"]:
                refresh = secrets.token_hex(16)
                ts._refresh_tokens[refresh] = user
            self._answer(req, refresh)

        def do_POST(self) -> None:
            url = urllib.parse.urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            form = urllib.parse.parse_qs(self.rfile.read(length).decode())

            def one(key: str) -> str | None:
                return (form.get(key) or [None])[0]

            scopes = [s for value in form.get("scope", []) for s in value.split(" ") if s]
            req = TokenRequest("POST", url.path, one("service"), scopes, None, 0)
            req.grant_type = one("grant_type")
            if url.path != "/token":
                req.status = 404
                ts._record(req)
                self._send_json(404, {"errors": [{"code": "NOT_FOUND"}]})
                return
            refresh = None
            if req.grant_type == "password":
                ok, user = self._check(one("username") or "", one("password") or "")
                if not ok:
                    self._unauthorized(req)
                    return
                if one("access_type") == "offline":
                    refresh = secrets.token_hex(16)
                    ts._refresh_tokens[refresh] = user or ""
            elif req.grant_type == "refresh_token":
                user = ts._refresh_tokens.get(one("refresh_token") or "")
                if user is None:
                    self._unauthorized(req)
                    return
            else:
                req.status = 400
                ts._record(req)
                self._send_json(400, {"error": "unsupported_grant_type"})
                return
            req.user = user
            self._answer(req, refresh)

        def handle_one_request(self) -> None:
            with contextlib.suppress(ConnectionError, ssl.SSLError, TimeoutError):
                super().handle_one_request()

    return Handler
