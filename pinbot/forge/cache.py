"""An on-disk cache of GitHub GET answers, so an unchanged repository costs almost nothing.

Each entry keeps one URL's validators (ETag, Last-Modified), its Link header and its body.
Answers that GitHub addresses by content (trees and blobs by sha) never change, so the
forge serves them from here without asking; everything else is asked again with
`If-None-Match`, and a 304 answer (free against the primary rate limit) serves the body kept.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

#: Entries not read or written for this long are removed when a run ends.
DEFAULT_MAX_AGE_DAYS = 30.0
_SUFFIX = ".json"


@dataclass(frozen=True)
class CachedAnswer:
    """One GET answer as it was last received: validators, pagination link and JSON text."""

    url: str
    text: str
    etag: str | None = None
    last_modified: str | None = None
    link: str | None = None

    def conditional_headers(self) -> dict[str, str]:
        """The headers that ask GitHub to answer 304 when nothing changed."""
        headers = {}
        if self.etag:
            headers["If-None-Match"] = self.etag
        if self.last_modified:
            headers["If-Modified-Since"] = self.last_modified
        return headers


class ResponseCache:
    """A folder of cached answers, one file per URL (named by the URL's sha256).

    Only bodies and validators are written: never a request header, so never a credential.
    A file that cannot be read is a miss, and writes are atomic, so a cache restored from an
    interrupted job is still safe to use.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self.root.mkdir(parents=True, exist_ok=True)

    def _path(self, url: str) -> Path:
        name = hashlib.sha256(url.encode("utf-8")).hexdigest()
        return self.root / name[:2] / (name + _SUFFIX)

    def get(self, url: str) -> CachedAnswer | None:
        path = self._path(url)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(data, dict) or data.get("url") != url:
            return None
        text = data.get("text")
        if not isinstance(text, str):
            return None
        with contextlib.suppress(OSError):
            os.utime(path)  # recently used: kept by `prune`

        def optional(key: str) -> str | None:
            value = data.get(key)
            return value if isinstance(value, str) else None

        return CachedAnswer(url, text, optional("etag"), optional("last_modified"), optional("link"))

    def put(self, answer: CachedAnswer) -> None:
        path = self._path(answer.url)
        record = {
            "url": answer.url,
            "text": answer.text,
            "etag": answer.etag,
            "last_modified": answer.last_modified,
            "link": answer.link,
        }
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
            with os.fdopen(handle, "w", encoding="utf-8") as stream:
                json.dump(record, stream, separators=(",", ":"))
            os.replace(temporary, path)
        except OSError:
            pass  # a cache that cannot be written only costs requests next time

    def prune(self, max_age_days: float = DEFAULT_MAX_AGE_DAYS) -> int:
        """Remove entries unused for `max_age_days` (and stray temporary files); how many."""
        now = time.time()
        cutoff = now - max_age_days * 86_400
        removed = 0
        for path in self.root.glob("*/*"):
            try:
                mtime = path.stat().st_mtime
                # A temporary file an hour old was left by a job that stopped mid-write.
                if mtime < cutoff or (path.suffix == ".tmp" and mtime < now - 3600):
                    path.unlink()
                    removed += 1
            except OSError:
                continue
        return removed
