"""The pull request a reviewer reads: title, summary table, notes, and a hidden state block.

Pure. The hidden block (`<!-- pinbot:state {json} -->`) is pinbot's memory between runs: the
next run parses it back with `parse_state` to tell its own work from a human's answer.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pinbot.notes import short_digest

STATE_MARK = "pinbot:state"
STATE_VERSION = 1
COMPACT_STATE_VERSION = 2
# GitHub refuses bodies over 65536 characters; stay under it with room for a human's edits.
MAX_BODY = 60_000
MAX_TITLE_IMAGES = 4

_STATE_BLOCK = re.compile(r"<!--\s*pinbot:state\s+(?P<json>\{.*?\})\s*-->", re.DOTALL)


@dataclass(frozen=True, order=True)
class Update:
    """One reference the pull request changes: where it is, and its digest before and after."""

    file: str
    line: int
    image: str
    tag: str | None
    old: str | None
    new: str

    @property
    def is_pin(self) -> bool:
        return self.old is None

    @property
    def answer_key(self) -> tuple[str, str | None, str]:
        """What a human declines by closing the PR: this image tag at this digest."""
        return (self.image, self.tag, self.new)

    @property
    def answer_id(self) -> str:
        return answer_id(self.image, self.tag, self.new)

    def to_json(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "line": self.line,
            "image": self.image,
            "tag": self.tag,
            "old": self.old,
            "new": self.new,
        }

    @classmethod
    def from_json(cls, data: Any) -> Update:
        if not isinstance(data, dict):
            raise ValueError("an update is not an object")
        file, line, image, new = (
            data.get("file"),
            data.get("line"),
            data.get("image"),
            data.get("new"),
        )
        tag, old = data.get("tag"), data.get("old")
        if not (isinstance(file, str) and isinstance(image, str) and isinstance(new, str)):
            raise ValueError("an update lacks file, image or new digest")
        if not isinstance(line, int) or isinstance(line, bool):
            raise ValueError("an update's line is not a number")
        if tag is not None and not isinstance(tag, str):
            raise ValueError("an update's tag is not text")
        if old is not None and not isinstance(old, str):
            raise ValueError("an update's old digest is not text")
        return cls(file, line, image, tag, old, new)


def answer_id(image: str, tag: str | None, digest: str) -> str:
    """A short stable id of an answer key (image, tag, digest), as compact states keep it.

    >>> answer_id("nginx", "1.27", "sha256:" + "0" * 64)
    '3ab59fa48c934877'
    """
    text = json.dumps([image, tag, digest], separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def fingerprint(updates: Iterable[Update], blobs: Mapping[str, str]) -> str:
    """One hash of everything a pull request proposes: its updates and the blobs under them."""
    record = {
        "blobs": dict(sorted(blobs.items())),
        "updates": [update.to_json() for update in sorted(updates)],
    }
    text = json.dumps(record, sort_keys=True, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class PullState:
    """What pinbot wrote into a pull request, as recorded in its hidden block.

    `base` is the base-branch commit the branch was built on, `commit` the commit pinbot put
    at the branch head, and `blobs` the git blob ids of the files it edited as they were on
    `base` (so a later run can tell whether the base changed under those files).

    A compact state, for a pull request too large to record whole, keeps instead only what
    reconciling needs: the `answers` a human declines by closing it (as `answer_id`s) and a
    `fingerprint` of its updates and blobs.
    """

    updates: tuple[Update, ...]
    base: str = ""
    commit: str = ""
    blobs: Mapping[str, str] = field(default_factory=dict)
    closed: str | None = None  # why pinbot itself closed the PR, when it did
    answers: frozenset[str] | None = None
    fingerprint: str | None = None

    @property
    def is_compact(self) -> bool:
        return self.fingerprint is not None

    def answer_ids(self) -> frozenset[str]:
        """What a human declines by closing this pull request (see `Update.answer_key`)."""
        if self.answers is not None:
            return self.answers
        return frozenset(update.answer_id for update in self.updates)

    def proposes(self, updates: Iterable[Update], blobs: Mapping[str, str]) -> bool:
        """Whether this state records exactly these updates over these base blobs."""
        if self.fingerprint is not None:
            return self.fingerprint == fingerprint(updates, blobs)
        return sorted(self.updates) == sorted(updates) and dict(self.blobs) == dict(blobs)

    def compact(self) -> PullState:
        """The same state keeping only what reconciling needs (see the class docstring)."""
        if self.is_compact:
            return self
        return PullState(
            updates=(),
            base=self.base,
            commit=self.commit,
            closed=self.closed,
            answers=self.answer_ids(),
            fingerprint=fingerprint(self.updates, self.blobs),
        )

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any]
        if self.fingerprint is not None:
            data = {
                "version": COMPACT_STATE_VERSION,
                "base": self.base,
                "commit": self.commit,
                "fingerprint": self.fingerprint,
                "answers": sorted(self.answer_ids()),
            }
        else:
            data = {
                "version": STATE_VERSION,
                "base": self.base,
                "commit": self.commit,
                "blobs": dict(sorted(self.blobs.items())),
                "updates": [update.to_json() for update in self.updates],
            }
        if self.closed is not None:
            data["closed"] = self.closed
        return data


def state_block(state: PullState) -> str:
    """The hidden comment; `<`, `>` and `&` are escaped so no value can end the comment early."""
    text = json.dumps(state.to_json(), sort_keys=True, separators=(",", ":"))
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return f"<!-- {STATE_MARK} {text} -->"


def parse_state(body: str | None) -> PullState | None:
    """The state recorded in a PR body, or None when the block is absent or unreadable.

    >>> parse_state("no block here") is None
    True
    """
    if not body:
        return None
    # The last block wins: a human quoting an old body above it changes nothing.
    blocks = list(_STATE_BLOCK.finditer(body))
    if not blocks:
        return None
    found = blocks[-1]
    try:
        data = json.loads(found.group("json"))
        if not isinstance(data, dict):
            return None
        base, commit, closed = data.get("base", ""), data.get("commit", ""), data.get("closed")
        base = base if isinstance(base, str) else ""
        commit = commit if isinstance(commit, str) else ""
        closed = closed if isinstance(closed, str) else None
        if "fingerprint" in data:
            digest, answers = data["fingerprint"], data.get("answers")
            if not isinstance(digest, str) or not isinstance(answers, list):
                return None
            if not all(isinstance(answer, str) for answer in answers):
                return None
            return PullState(
                updates=(),
                base=base,
                commit=commit,
                closed=closed,
                answers=frozenset(answers),
                fingerprint=digest,
            )
        updates = tuple(Update.from_json(item) for item in data.get("updates", []))
        blobs = data.get("blobs", {})
        if not isinstance(blobs, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in blobs.items()
        ):
            blobs = {}
        return PullState(updates=updates, base=base, commit=commit, blobs=blobs, closed=closed)
    except (ValueError, TypeError):
        return None


def _images_in_order(updates: Iterable[Update]) -> list[str]:
    seen: dict[str, None] = {}
    for update in updates:
        seen.setdefault(f"{update.image} {update.tag}" if update.tag else update.image, None)
    return list(seen)


def title(updates: Sequence[Update]) -> str:
    """`Pin image digests: nginx 1.27, ghcr.io/acme/api 2.3` (or `Update …`, `Pin and update …`).

    >>> title([Update("Dockerfile", 1, "nginx", "1.27", None, "sha256:" + "0" * 64)])
    'Pin image digests: nginx 1.27'
    """
    pins = any(update.is_pin for update in updates)
    bumps = any(not update.is_pin for update in updates)
    verb = "Pin and update" if pins and bumps else "Pin" if pins else "Update"
    images = _images_in_order(updates)
    shown = ", ".join(images[:MAX_TITLE_IMAGES])
    if len(images) > MAX_TITLE_IMAGES:
        shown += f" and {len(images) - MAX_TITLE_IMAGES} more"
    return f"{verb} image digests: {shown}"


def _cell(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def _digest_cell(update: Update) -> str:
    new = f"`{short_digest(update.new)}`"
    if update.old is None:
        return f"pinned to {new}"
    return f"`{short_digest(update.old)}` → {new}"


def table(updates: Sequence[Update], limit: int | None = None) -> str:
    """The summary table, one row per changed reference, in file and line order."""
    rows = sorted(updates, key=lambda u: (u.file, u.line, u.image))
    lines = ["| File | Image | Tag | Digest |", "|---|---|---|---|"]
    for update in rows[:limit]:
        lines.append(
            f"| {_cell(update.file)}:{update.line} | {_cell(update.image)} | "
            f"{_cell(update.tag or 'latest')} | {_digest_cell(update)} |"
        )
    if limit is not None and len(rows) > limit:
        lines.append(f"| … and {len(rows) - limit} more | | | |")
    return "\n".join(lines)


PIN_WHY = (
    "Pinning by digest means the image that was tested is the image that runs: a tag can be "
    "moved to other content at any time, a digest cannot."
)
FOOTER = (
    "Approve and merge to take these digests. Close this pull request to skip them; pinbot "
    "will propose the next new digest of each tag, never these again. pinbot keeps this pull "
    "request up to date while it is open: it rebuilds the branch when the base changes under "
    "these files, and closes it when the base already has these digests."
)


def render(
    updates: Sequence[Update],
    state: PullState,
    notes: Sequence[str] = (),
) -> str:
    """The whole PR body: summary, table, per-image notes, footer, then the hidden block.

    `notes` are Markdown blocks (one per image, from `pinbot.notes.describe`). When the body
    would pass GitHub's size limit, notes go first, then table rows; when even a table
    without rows leaves no room for the whole state, the state is compacted and the table
    gets the room that frees. The block always stays, whole or compact.
    """
    pins = sum(1 for update in updates if update.is_pin)
    bumps = len(updates) - pins
    parts = []
    if bumps:
        parts.append(f"{bumps} digest{'s' if bumps != 1 else ''} moved")
    if pins:
        parts.append(f"{pins} reference{'s' if pins != 1 else ''} pinned")
    intro = "pinbot resolved each tag to the digest its registry serves now and verified the manifest bytes: "
    intro += " and ".join(parts) + "."
    if pins:
        intro += " " + PIN_WHY
    def assemble(limit: int | None, with_notes: bool, hidden: str) -> str:
        sections = [intro, table(updates, limit)]
        if with_notes and notes:
            sections.append(
                "### What changed\n\n" + "\n".join(note.rstrip("\n") + "\n" for note in notes)
            )
        sections.append(FOOTER)
        sections.append(hidden)
        return "\n\n".join(sections) + "\n"

    hidden = state_block(state)
    body = assemble(None, True, hidden)
    if len(body) <= MAX_BODY:
        return body
    if len(assemble(0, False, hidden)) > MAX_BODY:
        hidden = state_block(state.compact())
    body = assemble(None, False, hidden)
    if len(body) <= MAX_BODY:
        return body
    # The most rows that fit: `fits` always fits (or is 0), `fails` never does.
    fits, fails = 0, len(updates)
    while fails - fits > 1:
        middle = (fits + fails) // 2
        if len(assemble(middle, False, hidden)) <= MAX_BODY:
            fits = middle
        else:
            fails = middle
    return assemble(fits, False, hidden)


def replace_state(body: str, state: PullState) -> str:
    """`body` with its last state block replaced by `state` (added when there is none).

    The state is compacted when the whole one would take the body past the size limit.
    """
    blocks = list(_STATE_BLOCK.finditer(body))

    def with_block(block: str) -> str:
        if blocks:
            last = blocks[-1]
            return body[: last.start()] + block + body[last.end() :]
        return body.rstrip("\n") + "\n\n" + block + "\n"

    replaced = with_block(state_block(state))
    if len(replaced) > MAX_BODY and not state.is_compact:
        replaced = with_block(state_block(state.compact()))
    return replaced


CLOSED_ON_BASE = (
    "The base branch already has these digests, so this pull request is no longer needed. "
    "pinbot closed it and deleted its branch."
)
CLOSED_NOTHING_LEFT = (
    "Nothing in this pull request is still needed: the references it changed were edited or "
    "removed on the base branch. pinbot closed it and deleted its branch."
)
