"""A registry that floods, stalls and lies: a small HTTP server on loopback for hostile-input tests.

    with HostileRegistry() as hostile:
        hostile.answer("/v2/x/manifests/1", body=b"[" * 100_000, headers=MANIFEST_HEADERS)
        hostile.answer("/v2/x/manifests/2", chunks=endless(), headers=MANIFEST_HEADERS)
        hostile.answer("/v2/x/manifests/3", chunks=trickle(b"{}", every=1.0))
        hostile.answer("/v2/x/blobs/sha256:…", chunks=sized(300 * MiB), length=300 * MiB)

`/v2/` answers 200 like a registry unless told otherwise; any other path answers a
registry-style 404. Bodies given as `chunks` are produced while sending (a 300 MB answer never
sits in the test's memory), with chunked transfer coding unless `length` sets a
`Content-Length`, which may lie. Every request is recorded with the bytes sent back, so a test
can tell that pinbot stopped reading early.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

from tests.support.token_server import BackgroundServer

KiB = 1024
MiB = 1024 * KiB

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
MANIFEST_HEADERS = {"Content-Type": OCI_MANIFEST}

#: Makes a fresh iterator of body chunks for each request; gets a `stop` event to watch.
ChunkSource = Callable[[threading.Event], Iterator[bytes]]


def sha256_digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def endless(chunk: bytes = b" " * (64 * KiB)) -> ChunkSource:
    """A body that never ends."""

    def source(stop: threading.Event) -> Iterator[bytes]:
        while not stop.is_set():
            yield chunk

    return source


def sized(total: int, chunk: bytes = b" " * (64 * KiB)) -> ChunkSource:
    """`total` bytes of filler, made while sending."""

    def source(stop: threading.Event) -> Iterator[bytes]:
        left = total
        while left > 0 and not stop.is_set():
            piece = chunk[:left]
            left -= len(piece)
            yield piece

    return source


def trickle(data: bytes, *, every: float = 1.0, first: bytes = b"") -> ChunkSource:
    """`first` at once, then `data` one byte every `every` seconds."""

    def source(stop: threading.Event) -> Iterator[bytes]:
        if first:
            yield first
        for byte in data:
            if stop.wait(every):
                return
            yield bytes([byte])

    return source


def image_manifest(
    config: bytes = b"{}", *, config_size: int | None = None, config_digest: str | None = None
) -> bytes:
    """An OCI image manifest naming a config blob and no layers.

    The config's digest and size come from `config` unless given (a size may be a lie).
    """
    document = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {
            "mediaType": OCI_CONFIG,
            "digest": config_digest or sha256_digest(config),
            "size": len(config) if config_size is None else config_size,
        },
        "layers": [],
    }
    return json.dumps(document).encode()


def filler_digest(total: int, chunk: bytes = b" " * (64 * KiB)) -> str:
    """The digest of what `sized(total, chunk)` sends, without holding it in memory."""
    hasher = hashlib.sha256()
    left = total
    while left > 0:
        piece = chunk[:left]
        hasher.update(piece)
        left -= len(piece)
    return "sha256:" + hasher.hexdigest()


@dataclass
class Answer:
    """How to answer one path: status, headers and a body given whole or as chunks."""

    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    chunks: ChunkSource | None = None
    #: The `Content-Length` to announce for `chunks` (None: chunked transfer coding).
    length: int | None = None
    method: str | None = None  # None: GET and HEAD alike


@dataclass
class HostileRequest:
    method: str
    path: str
    headers: dict[str, str]
    #: Body bytes written before the client went away or the answer ended.
    sent: int = 0


class HostileRegistry:
    """A threaded HTTP server on 127.0.0.1 answering what the test tells it to."""

    def __init__(self) -> None:
        self.answers: dict[str, list[Answer]] = {}
        self.requests: list[HostileRequest] = []
        #: Connections accepted: a client that reuses its connections opens few.
        self.connections = 0
        self.stop = threading.Event()
        self._lock = threading.Lock()
        self._serving = BackgroundServer(_make_handler(self))
        self.port, self.host, self.url = self._serving.port, self._serving.host, self._serving.url

    def answer(
        self,
        path: str,
        *,
        status: int = 200,
        headers: dict[str, str] | None = None,
        body: bytes = b"",
        chunks: ChunkSource | None = None,
        length: int | None = None,
        method: str | None = None,
    ) -> None:
        """Answer requests for `path` (query ignored) this way from now on."""
        found = Answer(status, dict(headers or {}), body, chunks, length, method)
        with self._lock:
            self.answers.setdefault(path, []).insert(0, found)

    def serve_image(self, repository: str, tag: str, config: bytes) -> str:
        """A well-behaved single-platform image; returns its manifest digest."""
        manifest = image_manifest(config)
        digest = sha256_digest(manifest)
        headers = {"Content-Type": OCI_MANIFEST, "Docker-Content-Digest": digest}
        for name in (tag, digest):
            self.answer(f"/v2/{repository}/manifests/{name}", headers=headers, body=manifest)
        self.answer(f"/v2/{repository}/blobs/{sha256_digest(config)}", body=config)
        return digest

    def answer_for(self, method: str, path: str) -> Answer | None:
        with self._lock:
            for candidate in self.answers.get(path, []):
                if candidate.method is None or candidate.method == method:
                    return candidate
        return None

    def record(self, request: HostileRequest) -> None:
        with self._lock:
            self.requests.append(request)

    def requests_to(self, fragment: str) -> list[HostileRequest]:
        with self._lock:
            return [r for r in self.requests if fragment in r.path]

    def close(self) -> None:
        self.stop.set()
        self._serving.close()

    def __enter__(self) -> HostileRegistry:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


_NOT_FOUND = json.dumps(
    {"errors": [{"code": "MANIFEST_UNKNOWN", "message": "not here", "detail": {}}]}
).encode()


def _make_handler(server: HostileRegistry) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def setup(self) -> None:
            super().setup()
            with server._lock:
                server.connections += 1

        def _answer(self) -> None:
            self.connection.settimeout(60)
            path = self.path.split("?", 1)[0]
            request = HostileRequest(self.command, self.path, dict(self.headers.items()))
            server.record(request)
            found = server.answer_for(self.command, path)
            if found is None and path == "/v2/":
                found = Answer(headers={"Content-Type": "application/json"}, body=b"{}")
            if found is None:
                found = Answer(404, {"Content-Type": "application/json"}, _NOT_FOUND)
            head = self.command == "HEAD"
            self.send_response_only(found.status)
            self.send_header("Docker-Distribution-Api-Version", "registry/2.0")
            for name, value in found.headers.items():
                self.send_header(name, value)
            if found.chunks is None:
                self.send_header("Content-Length", str(len(found.body)))
                self.end_headers()
                if not head:
                    self.wfile.write(found.body)
                    request.sent = len(found.body)
                return
            if found.length is not None:
                self.send_header("Content-Length", str(found.length))
            elif not head:
                self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            if head:
                return
            self.close_connection = True
            for chunk in found.chunks(server.stop):
                if found.length is None:
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                else:
                    self.wfile.write(chunk)
                self.wfile.flush()
                request.sent += len(chunk)
            if found.length is None:
                self.wfile.write(b"0\r\n\r\n")

        def handle_one_request(self) -> None:
            # The client hanging up mid-body is what these tests expect to happen.
            with contextlib.suppress(OSError):
                super().handle_one_request()

        def finish(self) -> None:
            with contextlib.suppress(OSError):
                super().finish()
                self.connection.shutdown(socket.SHUT_RDWR)

        do_GET = do_HEAD = _answer

    return Handler
