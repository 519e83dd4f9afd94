"""A small in-memory git object store: blobs, trees and commits with real git SHA-1s.

Object ids are computed exactly as git computes them (``<type> <len>\\0<payload>``), so
content written here can be cross-checked with ``git hash-object`` and ``git mktree``.
"""

from __future__ import annotations

import hashlib
from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import cast

MODE_FILE = "100644"
MODE_EXEC = "100755"
MODE_LINK = "120000"
MODE_TREE = "040000"
MODE_COMMIT = "160000"

FILE_MODES = (MODE_FILE, MODE_EXEC, MODE_LINK)


class GitObjectError(ValueError):
    """Raised for references to missing objects or malformed input."""


def object_sha(kind: str, payload: bytes) -> str:
    header = f"{kind} {len(payload)}\0".encode()
    return hashlib.sha1(header + payload, usedforsecurity=False).hexdigest()


def blob_sha(data: bytes) -> str:
    """The id ``git hash-object`` prints for ``data``."""
    return object_sha("blob", data)


@dataclass(frozen=True)
class Signature:
    name: str
    email: str
    timestamp: int  # seconds since the epoch, UTC

    def encode(self) -> str:
        return f"{self.name} <{self.email}> {self.timestamp} +0000"


@dataclass(frozen=True)
class TreeEntry:
    mode: str  # as shown by the API: 100644, 100755, 120000, 040000, 160000
    name: str
    sha: str

    @property
    def kind(self) -> str:
        if self.mode == MODE_TREE:
            return "tree"
        if self.mode == MODE_COMMIT:
            return "commit"
        return "blob"


@dataclass(frozen=True)
class Blob:
    sha: str
    data: bytes


@dataclass(frozen=True)
class Tree:
    sha: str
    entries: tuple[TreeEntry, ...]


@dataclass(frozen=True)
class Commit:
    sha: str
    tree: str
    parents: tuple[str, ...]
    message: str
    author: Signature
    committer: Signature


def _tree_sort_key(entry: TreeEntry) -> bytes:
    # git orders entries by name, comparing a tree's name as if it ended in "/"
    name = entry.name.encode()
    return name + b"/" if entry.mode == MODE_TREE else name


def encode_tree(entries: Iterable[TreeEntry]) -> bytes:
    out = bytearray()
    for e in sorted(entries, key=_tree_sort_key):
        mode = "40000" if e.mode == MODE_TREE else e.mode
        out += f"{mode} {e.name}\0".encode() + bytes.fromhex(e.sha)
    return bytes(out)


def encode_commit(
    tree: str, parents: Iterable[str], author: Signature, committer: Signature, message: str
) -> bytes:
    lines = [f"tree {tree}"]
    lines += [f"parent {p}" for p in parents]
    lines.append(f"author {author.encode()}")
    lines.append(f"committer {committer.encode()}")
    return ("\n".join(lines) + "\n\n" + message).encode()


# A flat view of a tree: path -> (mode, blob sha)
FlatTree = dict[str, tuple[str, str]]


@dataclass
class ObjectStore:
    blobs: dict[str, Blob] = field(default_factory=dict)
    trees: dict[str, Tree] = field(default_factory=dict)
    commits: dict[str, Commit] = field(default_factory=dict)

    # -- writing -------------------------------------------------------------
    def put_blob(self, data: bytes) -> str:
        sha = blob_sha(data)
        self.blobs.setdefault(sha, Blob(sha, bytes(data)))
        return sha

    def put_tree(self, entries: Iterable[TreeEntry]) -> str:
        ordered = tuple(sorted(entries, key=_tree_sort_key))
        names = [e.name for e in ordered]
        if len(set(names)) != len(names):
            raise GitObjectError("duplicate entry in tree")
        for e in ordered:
            if not e.name or "/" in e.name or e.name in (".", ".."):
                raise GitObjectError(f"invalid tree entry name {e.name!r}")
            if e.mode == MODE_TREE and e.sha not in self.trees:
                raise GitObjectError(f"tree {e.sha} does not exist")
            if e.mode in FILE_MODES and e.sha not in self.blobs:
                raise GitObjectError(f"blob {e.sha} does not exist")
        sha = object_sha("tree", encode_tree(ordered))
        self.trees.setdefault(sha, Tree(sha, ordered))
        return sha

    def put_commit(
        self,
        tree: str,
        parents: Iterable[str],
        message: str,
        author: Signature,
        committer: Signature | None = None,
    ) -> str:
        parents = tuple(parents)
        committer = committer or author
        if tree not in self.trees:
            raise GitObjectError(f"tree {tree} does not exist")
        for p in parents:
            if p not in self.commits:
                raise GitObjectError(f"parent {p} does not exist")
        sha = object_sha("commit", encode_commit(tree, parents, author, committer, message))
        self.commits.setdefault(sha, Commit(sha, tree, parents, message, author, committer))
        return sha

    def write_flat(self, flat: Mapping[str, tuple[str, str]]) -> str:
        """Build nested trees from ``path -> (mode, sha)`` and return the root tree id."""
        root: dict[str, object] = {}
        for path, (mode, sha) in flat.items():
            parts = [p for p in path.split("/") if p]
            if not parts:
                raise GitObjectError(f"invalid path {path!r}")
            node = root
            for part in parts[:-1]:
                child = node.setdefault(part, {})
                if not isinstance(child, dict):
                    raise GitObjectError(f"path {path!r} runs through a file")
                node = child
            if isinstance(node.get(parts[-1]), dict):
                raise GitObjectError(f"path {path!r} is a directory")
            node[parts[-1]] = (mode, sha)
        return self._write_node(root)

    def _write_node(self, node: dict[str, object]) -> str:
        entries = []
        for name, value in node.items():
            if isinstance(value, dict):
                if not value:
                    continue
                entries.append(TreeEntry(MODE_TREE, name, self._write_node(value)))
            else:
                mode, sha = cast(tuple[str, str], value)
                entries.append(TreeEntry(mode, name, sha))
        return self.put_tree(entries)

    def write_files(self, files: Mapping[str, bytes]) -> str:
        return self.write_flat({p: (MODE_FILE, self.put_blob(d)) for p, d in files.items()})

    # -- reading -------------------------------------------------------------
    def kind_of(self, sha: str) -> str | None:
        if sha in self.blobs:
            return "blob"
        if sha in self.trees:
            return "tree"
        if sha in self.commits:
            return "commit"
        return None

    def walk(self, tree_sha: str, prefix: str = "") -> Iterator[tuple[str, TreeEntry]]:
        """Every entry below ``tree_sha`` in git's order (a tree before its contents)."""
        for e in self.trees[tree_sha].entries:
            path = f"{prefix}{e.name}"
            yield path, e
            if e.mode == MODE_TREE:
                yield from self.walk(e.sha, path + "/")

    def flatten(self, tree_sha: str) -> FlatTree:
        return {p: (e.mode, e.sha) for p, e in self.walk(tree_sha) if e.mode != MODE_TREE}

    def lookup(self, tree_sha: str, path: str) -> TreeEntry | None:
        parts = [p for p in path.split("/") if p]
        if not parts:
            return TreeEntry(MODE_TREE, "", tree_sha)
        current = tree_sha
        entry: TreeEntry | None = None
        for i, part in enumerate(parts):
            tree = self.trees.get(current)
            if tree is None:
                return None
            entry = next((e for e in tree.entries if e.name == part), None)
            if entry is None:
                return None
            if i < len(parts) - 1:
                if entry.mode != MODE_TREE:
                    return None
                current = entry.sha
        return entry

    def ancestors(self, sha: str) -> list[str]:
        """``sha`` and every commit reachable from it, breadth first."""
        seen = {sha}
        order = [sha]
        queue = deque([sha])
        while queue:
            for p in self.commits[queue.popleft()].parents:
                if p not in seen:
                    seen.add(p)
                    order.append(p)
                    queue.append(p)
        return order

    def is_ancestor(self, ancestor: str, descendant: str) -> bool:
        return ancestor in set(self.ancestors(descendant))

    def merge_base(self, a: str, b: str) -> str | None:
        in_b = set(self.ancestors(b))
        common = [c for c in self.ancestors(a) if c in in_b]
        if not common:
            return None
        # drop common ancestors that are ancestors of another common ancestor
        best = [
            c for c in common if not any(o != c and self.is_ancestor(c, o) for o in common[:20])
        ]
        return (best or common)[0]

    def only_in(self, head: str, base: str) -> list[str]:
        """Commits reachable from ``head`` but not from ``base``, oldest first."""
        exclude = set(self.ancestors(base))
        found = [c for c in self.ancestors(head) if c not in exclude]
        found.reverse()
        found.sort(key=lambda c: self.commits[c].committer.timestamp)
        return found


def diff_flat(old: FlatTree, new: FlatTree) -> dict[str, tuple[str, str] | None]:
    """Paths whose entry differs: path -> new (mode, sha), or None when removed."""
    changes: dict[str, tuple[str, str] | None] = {}
    for path in old.keys() | new.keys():
        if old.get(path) != new.get(path):
            changes[path] = new.get(path)
    return changes
