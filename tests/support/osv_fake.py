"""An OSV API fake on loopback: `POST /v1/querybatch` answered from a table, as api.osv.dev
answers (one result per query, each with the ids of the vulnerabilities affecting that
package version). Records every request body; can be slowed down or made to fail."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

#: (ecosystem, name, version) -> vulnerability ids.
Table = dict[tuple[str, str, str], list[str]]


class OsvFake:
    def __init__(self, table: Table | None = None) -> None:
        self.table: Table = dict(table or {})
        self.requests: list[dict[str, Any]] = []
        self.delay = 0.0
        self.status = 200
        self.raw: bytes | None = None  # answer these bytes instead
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = json.loads(self.rfile.read(length))
                fake.requests.append({"path": self.path, "body": body})
                if fake.delay:
                    time.sleep(fake.delay)
                answer = fake.raw if fake.raw is not None else fake.answer(body)
                try:
                    self.send_response(fake.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(answer)))
                    self.end_headers()
                    self.wfile.write(answer)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up waiting

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def answer(self, body: dict[str, Any]) -> bytes:
        results = []
        for query in body["queries"]:
            package = query["package"]
            ids = self.table.get((package["ecosystem"], package["name"], query["version"]), [])
            results.append({"vulns": [{"id": i, "modified": "2026-01-01T00:00:00Z"} for i in ids]}
                           if ids else {})  # fmt: skip
        return json.dumps({"results": results}).encode()

    def queries(self) -> list[tuple[str, str, str]]:
        """Every (ecosystem, name, version) asked, in order."""
        return [
            (q["package"]["ecosystem"], q["package"]["name"], q["version"])
            for request in self.requests
            for q in request["body"]["queries"]
        ]

    def __enter__(self) -> OsvFake:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
