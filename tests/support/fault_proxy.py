"""A loopback reverse proxy that forwards faithfully and injects faults on demand.

    proxy = FaultProxy(registry.url)
    proxy.inject(path_contains="/manifests/", status=429, headers={"Retry-After": "1"}, times=2)
    proxy.inject(path_contains="/manifests/", drop=True)      # close without answering
    proxy.inject(path_contains="/blobs/", delay=3.0)          # answer late (then forward)

Requests are forwarded with their method, path, headers (Host, Accept and Authorization
included, so the registry's Location URLs point back at the proxy) and body; the answer comes
back with its status, headers and body. Hop-by-hop headers are not forwarded.

Faults are rules kept in order: each request takes the first rule that matches it and still
has `times` left, and uses it up by one. Every request is recorded in `requests`.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import socket
import ssl
import threading
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

from tests.support.token_server import BackgroundServer

HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    }
)

_ERROR_CODES = {429: "TOOMANYREQUESTS", 401: "UNAUTHORIZED", 403: "DENIED", 404: "NOT_FOUND"}


@dataclass
class Fault:
    path_contains: str = ""
    method: str | None = None  # None: any method
    status: int | None = None  # answer with this status instead of forwarding
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | None = None  # default: a registry-style JSON error
    drop: bool = False  # close the connection without any answer
    delay: float = 0.0  # seconds to wait first (then drop, answer `status`, or forward)
    times: int = 1
    hits: int = 0

    def matches(self, method: str, path: str) -> bool:
        return (
            self.hits < self.times
            and self.path_contains in path
            and (self.method is None or self.method.upper() == method)
        )


@dataclass
class ProxiedRequest:
    method: str
    path: str  # with the query string
    headers: dict[str, str]  # as received; look up with `header()` for any case
    body: bytes = b""
    fault: Fault | None = None
    status: int | None = None  # status sent back; None when dropped

    def header(self, name: str) -> str | None:
        for k, v in self.headers.items():
            if k.lower() == name.lower():
                return v
        return None


class FaultProxy:
    """A threaded reverse proxy on 127.0.0.1 in front of `upstream_url`."""

    def __init__(self, upstream_url: str, *, ssl_context: ssl.SSLContext | None = None) -> None:
        parts = urllib.parse.urlsplit(upstream_url)
        self.upstream_url = upstream_url.rstrip("/")
        self._upstream_https = parts.scheme == "https"
        self._upstream_host = parts.hostname or "127.0.0.1"
        self._upstream_port = parts.port or (443 if self._upstream_https else 80)
        self._ssl_context = ssl_context
        self.requests: list[ProxiedRequest] = []
        self.faults: list[Fault] = []
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self._serving = BackgroundServer(_make_handler(self))
        self.port, self.host, self.url = self._serving.port, self._serving.host, self._serving.url

    def inject(
        self,
        path_contains: str = "",
        *,
        method: str | None = None,
        status: int | None = None,
        headers: dict[str, str] | None = None,
        body: bytes | None = None,
        drop: bool = False,
        delay: float = 0.0,
        times: int = 1,
    ) -> Fault:
        """Add a fault rule (after the existing ones); returns it so tests can read `.hits`."""
        fault = Fault(path_contains, method, status, dict(headers or {}), body, drop, delay, times)
        with self._lock:
            self.faults.append(fault)
        return fault

    def _take_fault(self, method: str, path: str) -> Fault | None:
        with self._lock:
            for fault in self.faults:
                if fault.matches(method, path):
                    fault.hits += 1
                    return fault
        return None

    def _record(self, req: ProxiedRequest) -> None:
        with self._lock:
            self.requests.append(req)

    def pending_faults(self) -> list[Fault]:
        with self._lock:
            return [f for f in self.faults if f.hits < f.times]

    def manifest_requests(self) -> list[tuple[str, str]]:
        """(method, path) of /v2/<name>/manifests/ requests seen (faulted ones included)."""
        with self._lock:
            return [(r.method, r.path) for r in self.requests if "/manifests/" in r.path]

    def clear(self) -> None:
        """Forget recorded requests and remove every fault rule."""
        with self._lock:
            self.requests.clear()
            self.faults.clear()

    def close(self) -> None:
        self._closing.set()
        self._serving.close()

    def __enter__(self) -> FaultProxy:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _upstream(self) -> http.client.HTTPConnection:
        if self._upstream_https:
            return http.client.HTTPSConnection(
                self._upstream_host, self._upstream_port, timeout=60, context=self._ssl_context
            )
        return http.client.HTTPConnection(self._upstream_host, self._upstream_port, timeout=60)


def _read_chunked(rfile: Any) -> bytes:
    out = bytearray()
    while True:
        line = rfile.readline(65537)
        size = int(line.split(b";", 1)[0].strip() or b"0", 16)
        if size == 0:
            while rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                pass  # trailers
            return bytes(out)
        out += rfile.read(size)
        rfile.readline(65537)


def _make_handler(proxy: FaultProxy) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _body(self) -> bytes:
            if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
                return _read_chunked(self.rfile)
            length = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(length) if length else b""

        def _drop(self) -> None:
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)

        def _send(
            self, status: int, headers: list[tuple[str, str]], body: bytes, head: bool
        ) -> None:
            self.send_response_only(status)
            has_length = False
            for k, v in headers:
                if k.lower() in HOP_BY_HOP:
                    continue
                if k.lower() == "content-length":
                    if not head:
                        continue
                    has_length = True
                self.send_header(k, v)
            if not head or not has_length:
                self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if not head:
                self.wfile.write(body)

        def _fault_answer(self, fault: Fault, head: bool) -> None:
            status = fault.status or 500
            body = fault.body
            headers = dict(fault.headers)
            if body is None:
                code = _ERROR_CODES.get(status, "UNAVAILABLE" if status >= 500 else "UNKNOWN")
                err = {"errors": [{"code": code, "message": f"injected {status}", "detail": {}}]}
                body = json.dumps(err).encode()
                headers.setdefault("Content-Type", "application/json; charset=utf-8")
            headers.setdefault("Docker-Distribution-Api-Version", "registry/2.0")
            self._send(status, list(headers.items()), body, head)

        def _handle(self) -> None:
            method = self.command
            body = self._body()
            headers = dict(self.headers.items())
            req = ProxiedRequest(method, self.path, headers, body)
            fault = proxy._take_fault(method, self.path)
            req.fault = fault
            proxy._record(req)
            head = method == "HEAD"
            if fault is not None:
                if fault.delay and proxy._closing.wait(fault.delay):
                    self._drop()
                    return
                if fault.drop:
                    self._drop()
                    return
                if fault.status is not None:
                    req.status = fault.status or 500
                    self._fault_answer(fault, head)
                    return
            conn = proxy._upstream()
            try:
                conn.putrequest(method, self.path, skip_host=True, skip_accept_encoding=True)
                for k, v in self.headers.items():
                    if k.lower() in HOP_BY_HOP or k.lower() == "content-length":
                        continue
                    conn.putheader(k, v)
                if body or method in ("POST", "PUT", "PATCH"):
                    conn.putheader("Content-Length", str(len(body)))
                conn.endheaders(body or None)
                resp = conn.getresponse()
                resp_body = resp.read()
                resp_headers = resp.getheaders()
                status = resp.status
            except OSError:
                req.status = 502
                self._fault_answer(Fault(status=502), head)
                return
            finally:
                conn.close()
            req.status = status
            self._send(status, resp_headers, resp_body, head)

        def handle_one_request(self) -> None:
            with contextlib.suppress(ConnectionError, TimeoutError):
                super().handle_one_request()

        do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = _handle

    return Handler
