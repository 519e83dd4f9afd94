"""An on-disk cache of GitHub GET answers, so an unchanged repository costs almost nothing.

Each entry keeps one URL's validators (ETag, Last-Modified), its Link header and its body.
Answers that GitHub addresses by content (trees and blobs by sha) never change, so the
forge serves them from here without asking; everything else is asked again with
`If-None-Match`, and a 304 answer (free against the primary rate limit) serves the body kept.

The folder may come from anywhere (the organisation workflow restores it with
`actions/cache`), so no git object is served from it unchecked: a blob must hash to its id
and a tree to its id (git's sha1 over `<type> <size>\0<bytes>`), a recursive listing level by
level to the root it names. An entry that fails, or cannot be read, is dropped and fetched
again; entries are written to a temporary file and renamed into place.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import json
import os
import re
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

#: Entries not read or written for this long are removed when a run ends.
DEFAULT_MAX_AGE_DAYS = 30.0
_SUFFIX = ".json"
_GIT_OBJECT_URL = re.compile(r"/git/(blobs|trees)/([0-9a-f]{40}|[0-9a-f]{64})")
_OBJECT_ID = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")
_MODE = re.compile(r"[0-7]{5,6}")
_TREE_MODE = "40000"


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
        """The answer kept for `url`; None (and the entry dropped) when it is missing,
        unreadable, or a git object that does not hash to its id."""
        path = self._path(url)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError, RecursionError):
            self._drop(path)
            return None
        text = data.get("text") if isinstance(data, dict) else None
        if not isinstance(data, dict) or data.get("url") != url or not isinstance(text, str):
            self._drop(path)
            return None
        if not verified(url, text):
            self._drop(path)
            return None
        with contextlib.suppress(OSError):
            os.utime(path)  # recently used: kept by `prune`

        def optional(key: str) -> str | None:
            value = data.get(key)
            return value if isinstance(value, str) else None

        return CachedAnswer(url, text, optional("etag"), optional("last_modified"), optional("link"))

    def put(self, answer: CachedAnswer) -> None:
        """Keep `answer` (atomically); a git object that does not hash to its id is not kept."""
        path = self._path(answer.url)
        if not verified(answer.url, answer.text):
            self._drop(path)
            return
        record = {
            "url": answer.url,
            "text": answer.text,
            "etag": answer.etag,
            "last_modified": answer.last_modified,
            "link": answer.link,
        }
        temporary: str | None = None
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
            with os.fdopen(handle, "w", encoding="utf-8") as stream:
                json.dump(record, stream, separators=(",", ":"))
            os.replace(temporary, path)
        except OSError:
            # A cache that cannot be written only costs requests next time.
            if temporary is not None:
                with contextlib.suppress(OSError):
                    os.unlink(temporary)

    @staticmethod
    def _drop(path: Path) -> None:
        with contextlib.suppress(OSError):
            path.unlink()

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


# --- git objects checked against their ids -------------------------------------------------


def verified(url: str, text: str) -> bool:
    """Whether an answer for `url` may be used: True for anything but a git object, and for
    a git object only when its content hashes to its id.

    >>> verified("https://api.github.com/repos/o/r/git/blobs/b45ef6fec89518d314f546fd6c3025367b721684",
    ...          '{"content": "SGVsbG8sIFdvcmxkIQ==", "encoding": "base64"}')
    True
    >>> verified("https://api.github.com/repos/o/r/git/blobs/b45ef6fec89518d314f546fd6c3025367b721684",
    ...          '{"content": "SGVsbG8sIFdvcmxkPw==", "encoding": "base64"}')
    False
    """
    parts = urlsplit(url)
    found = _GIT_OBJECT_URL.search(parts.path)
    if found is None or found.end() != len(parts.path):
        return True
    kind, object_id = found.groups()
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return False
    if not isinstance(data, dict):
        return False
    if kind == "blobs":
        return _blob_verified(data, object_id)
    recursive = parse_qs(parts.query).get("recursive", [""])[-1] not in ("", "0", "false")
    return _tree_verified(data, object_id, recursive=recursive)


def _object_id(kind: str, payload: bytes, like: str) -> str:
    """git's id of an object: sha1 (or sha256 in a sha256 repository) over header and bytes."""
    algorithm = hashlib.sha1 if len(like) == 40 else hashlib.sha256
    return algorithm(f"{kind} {len(payload)}\0".encode() + payload, usedforsecurity=False).hexdigest()


def _blob_verified(data: dict[str, Any], object_id: str) -> bool:
    content, encoding = data.get("content"), data.get("encoding", "base64")
    if not isinstance(content, str) or data.get("sha", object_id) != object_id:
        return False
    if encoding == "base64":
        try:
            payload = base64.b64decode("".join(content.split()), validate=True)
        except (binascii.Error, ValueError):
            return False
    elif encoding in ("utf-8", "utf8"):
        payload = content.encode("utf-8")
    else:
        return False
    return _object_id("blob", payload, object_id) == object_id


def _tree_verified(data: dict[str, Any], object_id: str, *, recursive: bool) -> bool:
    """A tree listing hashes to its root; a recursive one level by level.

    A recursive tree asked by commit sha names its root tree itself (only the commit, which
    the API does not give byte for byte, binds the two); a truncated listing cannot be
    checked and is not used.
    """
    entries, root = data.get("tree"), data.get("sha")
    if not isinstance(entries, list) or not isinstance(root, str) or data.get("truncated"):
        return False
    if not recursive and root != object_id:
        return False
    folders = _folders(entries, recursive=recursive)
    if folders is None:
        return False
    listed, children = folders
    listed[""] = root
    for folder, items in children.items():
        if folder not in listed:
            return False  # a path whose folder the listing does not name
        payload = b"".join(
            f"{mode} {name}".encode() + b"\0" + bytes.fromhex(sha)
            for mode, name, sha in sorted(items, key=_git_order)
        )
        if _object_id("tree", payload, listed[folder]) != listed[folder]:
            return False
    return True


def _folders(
    entries: list[Any], *, recursive: bool
) -> tuple[dict[str, str], dict[str, list[tuple[str, str, str]]]] | None:
    """(id listed for each folder, (mode, name, id) of each folder's entries); None if malformed."""
    listed: dict[str, str] = {}
    children: dict[str, list[tuple[str, str, str]]] = {"": []}
    for item in entries:
        if not isinstance(item, dict):
            return None
        path, mode, sha = item.get("path"), item.get("mode"), item.get("sha")
        if not (isinstance(path, str) and isinstance(mode, str) and isinstance(sha, str)):
            return None
        if not _OBJECT_ID.fullmatch(sha) or not _MODE.fullmatch(mode):
            return None
        parent, _, name = path.rpartition("/")
        if not name or (parent and not recursive):
            return None
        mode = mode.lstrip("0")
        children.setdefault(parent, []).append((mode, name, sha))
        if mode == _TREE_MODE and recursive:
            listed[path] = sha
            children.setdefault(path, [])
    return listed, children


def _git_order(entry: tuple[str, str, str]) -> bytes:
    """git sorts tree entries by name, a folder's name as if it ended with a slash."""
    mode, name, _ = entry
    return name.encode("utf-8") + (b"/" if mode == _TREE_MODE else b"")
