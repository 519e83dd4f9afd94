"""The pull request a reviewer reads: title, summary table, notes, and a hidden state block.

Pure. The hidden block (`<!-- pinbot:state {json} -->`) is pinbot's memory between runs: the
next run parses it back with `parse_state` to tell its own work from a human's answer, and to
tell a reviewer what moved since the pull request was last updated (`moves`, `next_state`).
"""

from __future__ import annotations

import hashlib
import json
import re
import textwrap
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from typing import Any, ClassVar, Self

from pinbot.errors import PinbotError
from pinbot.notes import short_digest, timestamp
from pinbot.reference import InvalidReference, is_valid_digest, is_valid_tag, parse
from pinbot.report.escape import code, code_cell, remove_all, strip_comment_markers, terminal

STATE_MARK = "pinbot:state"
STATE_VERSION = 1
COMPACT_STATE_VERSION = 2
#: GitHub refuses bodies over 65,536 characters; pinbot stays under 60,000 as `body_length`
#: counts them, leaving room for a person's edits.
GITHUB_MAX_BODY = 65_536
MAX_BODY = 60_000
MAX_TITLE_IMAGES = 4
#: Earlier proposals remembered per image tag (the newest ones) while a pull request is open.
MAX_EARLIER = 3

# Anything that opens a state block counts, wherever it is: two openings make a body ambiguous.
_STATE_OPENING = re.compile(r"<!--\s*pinbot:state\b")
# The one block pinbot trusts: at the start of a line, and last in the body.
_ANCHORED_BLOCK = re.compile(r"(?:\A|\n)<!-- pinbot:state (?P<json>\{[^\n]*\}) -->\s*\Z")
# Any whole block, for taking every one out before writing the new one.
_ANY_BLOCK = re.compile(r"<!--\s*pinbot:state\b.*?(?:-->|\Z)", re.DOTALL)


# --- reading a recorded state back: every value checked, nothing trusted -----------------


class UnreadableStateError(PinbotError, ValueError):
    """A recorded state that does not have the shape or types pinbot writes."""


_V1_KEYS = frozenset({"version", "base", "commit", "blobs", "updates"})
_V1_OPTIONAL = frozenset({"proposed", "earlier", "written", "closed"})
_V2_KEYS = frozenset({"version", "base", "commit", "fingerprint", "answers"})
_V2_OPTIONAL = frozenset({"written", "closed"})
_GIT_ID = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")
_COMMIT_TOKEN = re.compile(r"[A-Za-z0-9_.-]{1,64}")
_ANSWER_ID = re.compile(r"[0-9a-f]{16}")
_FINGERPRINT = re.compile(r"sha256:[0-9a-f]{64}")
_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")
_CLOSED_REASON = re.compile(r"[a-z][a-z-]{0,39}")


def _require(ok: bool, what: str) -> None:
    if not ok:
        raise UnreadableStateError(f"{what} in the state is not what pinbot writes")


def _record(
    data: Any, what: str, *, required: frozenset[str], optional: frozenset[str] = frozenset()
) -> dict[str, Any]:
    _require(isinstance(data, dict), what)
    keys = set(data)
    _require(required <= keys <= required | optional, f"the keys of {what}")
    return dict(data)


def _text(value: Any, what: str, pattern: re.Pattern[str] | None = None) -> str:
    _require(isinstance(value, str) and bool(value), what)
    _require(pattern is None or pattern.fullmatch(value) is not None, what)
    return str(value)


def _commit(value: Any, what: str) -> str:
    # A commit id, or "" when the state was written without one. Only the shape is checked
    # here (a plain token); the reconciler compares the value with the branch it reads.
    return "" if value == "" else _text(value, what, _COMMIT_TOKEN)


def _time(value: Any) -> str:
    return "" if value == "" else _text(value, "a time", _TIME)


def _image(value: Any) -> str:
    _require(isinstance(value, str), "an image name")
    try:
        reference = parse(value)
    except InvalidReference:
        reference = None
    _require(reference is not None and reference.tag is reference.digest is None, "an image name")
    return str(value)


def _tag(value: Any) -> str | None:
    _require(value is None or (isinstance(value, str) and is_valid_tag(value)), "a tag")
    return None if value is None else str(value)


def _digest(value: Any) -> str:
    _require(isinstance(value, str) and is_valid_digest(value), "a digest")
    return str(value)


def _optional_digest(value: Any) -> str | None:
    return None if value is None else _digest(value)


def _line(value: Any) -> int:
    _require(isinstance(value, int) and not isinstance(value, bool) and value > 0, "a line")
    return int(value)


def _file(value: Any) -> str:
    return _text(value, "a file")


#: A recorded object's keys, in the order of its class's fields, each with the reader that
#: checks its value: the one place a record's shape is written down.
_UPDATE_FIELDS: Mapping[str, Callable[[Any], Any]] = {
    "file": _file,
    "line": _line,
    "image": _image,
    "tag": _tag,
    "old": _optional_digest,
    "new": _digest,
}
_PROPOSAL_FIELDS: Mapping[str, Callable[[Any], Any]] = {
    "image": _image,
    "tag": _tag,
    "digest": _digest,
    "at": _time,
}


def _fields(data: Any, what: str, readers: Mapping[str, Callable[[Any], Any]]) -> list[Any]:
    """The values of a recorded object with exactly `readers`' keys, each read by its reader."""
    record = _record(data, what, required=frozenset(readers))
    return [read(record[key]) for key, read in readers.items()]


class _Recorded:
    """A value the state block records as a JSON object: `_KEYS` maps each key, in the order
    of the class's fields, to the reader that checks its value, so writing and reading it back
    follow one table."""

    _WHAT: ClassVar[str]
    _KEYS: ClassVar[Mapping[str, Callable[[Any], Any]]]

    def to_json(self) -> dict[str, Any]:
        values = (getattr(self, f.name) for f in fields(self))  # type: ignore[arg-type]
        return dict(zip(self._KEYS, values, strict=True))

    @classmethod
    def from_json(cls, data: Any) -> Self:
        """The value as recorded; raises `UnreadableStateError` on any other shape or type."""
        return cls(*_fields(data, cls._WHAT, cls._KEYS))


@dataclass(frozen=True, order=True)
class Update(_Recorded):
    """One reference the pull request changes: where it is, and its digest before and after."""

    file: str
    line: int
    image: str
    tag: str | None
    old: str | None
    new: str

    _WHAT = "an update"
    _KEYS = _UPDATE_FIELDS

    @property
    def is_pin(self) -> bool:
        return self.old is None

    @property
    def answer_id(self) -> str:
        return answer_id(self.image, self.tag, self.new)


@dataclass(frozen=True)
class Proposal(_Recorded):
    """A digest this pull request proposed for an image tag before a newer one replaced it."""

    image: str
    tag: str | None
    digest: str
    proposed: str = ""  # when it was first proposed (see `format_time`); "" when unknown

    _WHAT = "an earlier proposal"
    _KEYS = _PROPOSAL_FIELDS


@dataclass(frozen=True)
class Move:
    """An image tag whose proposed digest changed between two writes of one pull request."""

    image: str
    tag: str | None
    old: str
    new: str

    @property
    def name(self) -> str:
        return f"{self.image}:{self.tag}" if self.tag else self.image


def format_time(when: datetime) -> str:
    """How the state records a time: UTC, to the second.

    >>> format_time(datetime(2026, 11, 25, 9, 30, 5, tzinfo=UTC))
    '2026-11-25T09:30:05Z'
    """
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(text: str) -> datetime | None:
    """A time the state recorded, or None when there is none or it is unreadable."""
    if not text:
        return None
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        return None
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


def _image_tag(image: str, tag: str | None) -> tuple[str, str]:
    return (image, tag or "")


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

    `written` is when pinbot last wrote the pull request, `proposed` when each update's digest
    was first proposed in it (by `answer_id`; only those older than `written` are kept), and
    `earlier` the digests it proposed before for its image tags, oldest first.

    A compact state, for a pull request too large to record whole, keeps instead only what
    reconciling needs: the `answers` a human declines by closing it (as `answer_id`s) and a
    `fingerprint` of its updates and blobs (and `written`).
    """

    updates: tuple[Update, ...]
    base: str = ""
    commit: str = ""
    blobs: Mapping[str, str] = field(default_factory=dict)
    closed: str | None = None  # why pinbot itself closed the PR, when it did
    answers: frozenset[str] | None = None
    fingerprint: str | None = None
    written: str = ""
    proposed: Mapping[str, str] = field(default_factory=dict)
    earlier: tuple[Proposal, ...] = ()

    @property
    def is_compact(self) -> bool:
        return self.fingerprint is not None

    def proposed_at(self, image: str, tag: str | None, digest: str) -> str:
        """When this pull request first proposed `digest` for `image:tag` ("" when unknown)."""
        return self.proposed.get(answer_id(image, tag, digest), self.written)

    def answer_ids(self) -> frozenset[str]:
        """What a human declines by closing this pull request: each image tag at its digest."""
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
            written=self.written,
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
            if self.proposed:
                data["proposed"] = dict(sorted(self.proposed.items()))
            if self.earlier:
                data["earlier"] = [proposal.to_json() for proposal in self.earlier]
        if self.written:
            data["written"] = self.written
        if self.closed is not None:
            data["closed"] = self.closed
        return data


def state_block(state: PullState) -> str:
    """The hidden comment; `<`, `>` and `&` are escaped so no value can end the comment early."""
    text = json.dumps(state.to_json(), sort_keys=True, separators=(",", ":"))
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return f"<!-- {STATE_MARK} {text} -->"


@dataclass(frozen=True)
class UnreadableState:
    """A pull request body whose hidden block cannot be trusted, and why.

    Not the same as no block: pinbot wrote a state here that is now garbled, doubled, moved
    or of another version, so what the pull request proposes (and whether a human declined
    it) is unknown. A run must neither rewrite the pull request nor open another for it.
    """

    reason: str


def read_state(body: str | None) -> PullState | UnreadableState | None:
    """The state recorded in a PR body; `UnreadableState` when a block is there but cannot be
    trusted; None when the body has no block at all.

    The block is trusted only when it is the one block in the body, at the start of a line,
    last (nothing but white space after it), and its JSON has exactly the recorded schema.

    >>> read_state("no block here") is None
    True
    >>> read_state("<!-- pinbot:state {} -->")
    UnreadableState(reason='the state has no version')
    """
    if not body:
        return None
    openings = len(_STATE_OPENING.findall(body))
    if openings == 0:
        return None
    if openings > 1:
        return UnreadableState(f"{openings} state blocks")
    found = _ANCHORED_BLOCK.search(body)
    if found is None:
        return UnreadableState("the state block is not whole, or not last in the body")
    try:
        data = json.loads(found.group("json"))
    except ValueError:
        return UnreadableState("the state block is not JSON")
    try:
        return _state_from_json(data)
    except UnreadableStateError as exc:
        return UnreadableState(str(exc))


def parse_state(body: str | None) -> PullState | None:
    """The state recorded in a PR body, or None when it is absent *or unreadable*.

    Prefer `read_state`, which tells those two apart.

    >>> parse_state("no block here") is None
    True
    """
    state = read_state(body)
    return state if isinstance(state, PullState) else None


def _state_from_json(data: Any) -> PullState:
    """The state a block records, checked key by key against what `to_json` writes."""
    _require(isinstance(data, dict), "the state")
    version = data.get("version")
    if version is None:
        raise UnreadableStateError("the state has no version")
    if version == COMPACT_STATE_VERSION and not isinstance(version, bool):
        record = _record(data, "the state", required=_V2_KEYS, optional=_V2_OPTIONAL)
        answers = record["answers"]
        _require(isinstance(answers, list), "the answers")
        return PullState(
            updates=(),
            base=_commit(record["base"], "the base commit"),
            commit=_commit(record["commit"], "the commit"),
            closed=_closed(record.get("closed")),
            answers=frozenset(_text(a, "an answer", _ANSWER_ID) for a in answers),
            fingerprint=_text(record["fingerprint"], "the fingerprint", _FINGERPRINT),
            written=_time(record.get("written", "")),
        )
    if version != STATE_VERSION or isinstance(version, bool):
        raise UnreadableStateError(f"the state's version {version!r} is not one pinbot reads")
    record = _record(data, "the state", required=_V1_KEYS, optional=_V1_OPTIONAL)
    blobs, updates = record["blobs"], record["updates"]
    proposed, earlier = record.get("proposed", {}), record.get("earlier", [])
    _require(isinstance(blobs, dict) and isinstance(proposed, dict), "a map")
    _require(isinstance(updates, list) and isinstance(earlier, list), "a list")
    return PullState(
        updates=tuple(Update.from_json(item) for item in updates),
        base=_commit(record["base"], "the base commit"),
        commit=_commit(record["commit"], "the commit"),
        blobs={_text(k, "a file"): _text(v, "a blob id", _GIT_ID) for k, v in blobs.items()},
        closed=_closed(record.get("closed")),
        written=_time(record.get("written", "")),
        proposed={_text(k, "an answer", _ANSWER_ID): _time(v) for k, v in proposed.items()},
        earlier=tuple(Proposal.from_json(item) for item in earlier),
    )


def _closed(value: Any) -> str | None:
    return None if value is None else _text(value, "why it was closed", _CLOSED_REASON)


# --- what moved since the pull request was last written ---------------------------------


def _digests(updates: Iterable[Update]) -> dict[tuple[str, str], Update]:
    return {_image_tag(update.image, update.tag): update for update in sorted(updates)}


def moves(previous: PullState, updates: Iterable[Update]) -> list[Move]:
    """The image tags whose proposed digest differs from what `previous` proposed.

    An image tag only one of them has (a reference added or removed on the base) did not
    move; neither did one whose branch was only rebuilt. A compact state does not remember
    its digests, so nothing is known to have moved.
    """
    before = _digests(previous.updates)
    moved = []
    for key, update in sorted(_digests(updates).items()):
        old = before.get(key)
        if old is not None and old.new != update.new:
            moved.append(Move(update.image, update.tag, old.new, update.new))
    return moved


def next_state(
    previous: PullState | None,
    updates: Sequence[Update],
    *,
    base: str,
    commit: str,
    blobs: Mapping[str, str],
    now: str,
) -> PullState:
    """The state to write now, keeping what `previous` remembered of earlier proposals.

    An update whose digest `previous` proposed already keeps its first proposal time; the
    digest a moved tag proposed before joins `earlier` (the newest `MAX_EARLIER` per tag).
    """
    if previous is None or previous.is_compact:
        return PullState(tuple(updates), base=base, commit=commit, blobs=blobs, written=now)
    held = previous.answer_ids()
    proposed = {}
    for update in updates:
        if update.answer_id in held:
            at = previous.proposed_at(update.image, update.tag, update.new)
            if at and at != now:
                proposed[update.answer_id] = at
    current = _digests(updates)
    earlier = [p for p in previous.earlier if _image_tag(p.image, p.tag) in current]
    for move in moves(previous, updates):
        at = previous.proposed_at(move.image, move.tag, move.old)
        earlier.append(Proposal(move.image, move.tag, move.old, at))
    kept: list[Proposal] = []
    for key in current:
        kept.extend([p for p in earlier if _image_tag(p.image, p.tag) == key][-MAX_EARLIER:])
    return PullState(
        tuple(updates),
        base=base,
        commit=commit,
        blobs=blobs,
        written=now,
        proposed=proposed,
        earlier=tuple(kept),
    )


def history(state: PullState) -> dict[tuple[str, str | None], list[Proposal]]:
    """The earlier proposals of each image tag the state proposes now, oldest first."""
    found: dict[tuple[str, str | None], list[Proposal]] = {}
    for proposal in state.earlier:
        found.setdefault((proposal.image, proposal.tag), []).append(proposal)
    return found


def moved_comment(moved: Sequence[Move], since: str) -> str:
    """The comment on an updated pull request: one line per image tag that moved again.

    >>> print(moved_comment([Move("nginx", "1.27", "sha256:" + "a" * 64, "sha256:" + "b" * 64)],
    ...                     "2026-11-25T09:30:05Z"))
    Updated: `nginx:1.27` moved again since 2026-11-25 09:30 UTC: `sha256:aaaaaaaaaaaa` → `sha256:bbbbbbbbbbbb`
    """
    when = parse_time(since)
    text = timestamp(when) if when is not None else "this pull request was last updated"
    lines = [
        f"Updated: {code(move.name)} moved again since {text}: "
        f"{code(short_digest(move.old))} → {code(short_digest(move.new))}"
        for move in moved
    ]

    def shown(count: int) -> str:
        left = len(lines) - count
        return "\n".join(lines[:count] + ([f"… and {left} more moved."] if left else []))

    return shown(_most_that_fit(len(lines), lambda n: body_length(shown(n)) <= MAX_BODY))


def _images_in_order(updates: Iterable[Update]) -> list[str]:
    seen: dict[str, None] = {}
    for update in updates:
        seen.setdefault(f"{update.image} {update.tag}" if update.tag else update.image, None)
    return list(seen)


def title(updates: Sequence[Update], prefix: str = "", group: str = "") -> str:
    """`Pin image digests: nginx 1.27, ghcr.io/acme/api 2.3` (or `Update …`, `Pin and update …`);
    for a rule's named `group`, `Update image digests in group base: …`.

    A `prefix` (`github.title-prefix`) goes in front, followed by a space unless it ends in
    one; when its first letter is lower case, so is the title's first word, as Conventional
    Commits checks (commitlint's subject-case) expect.

    >>> nginx = Update("Dockerfile", 1, "nginx", "1.27", None, "sha256:" + "0" * 64)
    >>> title([nginx])
    'Pin image digests: nginx 1.27'
    >>> title([nginx], "chore(deps):")
    'chore(deps): pin image digests: nginx 1.27'
    >>> title([nginx], group="base-images")
    'Pin image digests in group base-images: nginx 1.27'
    """
    pins = any(update.is_pin for update in updates)
    bumps = any(not update.is_pin for update in updates)
    verb = "Pin and update" if pins and bumps else "Pin" if pins else "Update"
    images = _images_in_order(updates)
    shown = ", ".join(images[:MAX_TITLE_IMAGES])
    if len(images) > MAX_TITLE_IMAGES:
        shown += f" and {len(images) - MAX_TITLE_IMAGES} more"
    named = f" in group {group}" if group else ""
    return _prefixed(prefix, f"{verb} image digests{named}: {shown}")


def _prefixed(prefix: str, text: str) -> str:
    if not prefix.strip():
        return text
    letter = next((c for c in prefix if c.isalpha()), "")
    if letter.islower():
        text = text[:1].lower() + text[1:]
    return prefix + text if prefix[-1].isspace() else f"{prefix} {text}"


RESOLVED = (
    "pinbot resolved each tag to the digest its registry serves now and verified the "
    "manifest bytes."
)


def commit_message(updates: Sequence[Update], prefix: str = "", group: str = "") -> str:
    """The commit pinbot makes: the title as its subject, then one aligned line per changed
    reference (file:line, image:tag, old → new as short digests) for `git log` readers.

    The full digests are in the diff; the hidden state block is only ever in the PR body.

    >>> nginx = Update("Dockerfile", 2, "nginx", "1.27", None, "sha256:" + "0" * 64)
    >>> print(commit_message([nginx]))
    Pin image digests: nginx 1.27
    <BLANKLINE>
    Dockerfile:2  nginx:1.27  unpinned → sha256:000000000000
    <BLANKLINE>
    pinbot resolved each tag to the digest its registry serves now and
    verified the manifest bytes.
    <BLANKLINE>
    """
    rows = [
        (
            terminal(f"{update.file}:{update.line}"),
            f"{update.image}:{update.tag}" if update.tag else update.image,
            f"{short_digest(update.old) if update.old else 'unpinned'} → "
            f"{short_digest(update.new)}",
        )
        for update in sorted(updates, key=lambda u: (u.file, u.line, u.image))
    ]
    where = max((len(row[0]) for row in rows), default=0)
    what = max((len(row[1]) for row in rows), default=0)
    lines = [title(updates, prefix, group), ""]
    lines += [f"{row[0]:<{where}}  {row[1]:<{what}}  {row[2]}" for row in rows]
    lines += ["", textwrap.fill(RESOLVED, width=72)]
    return "\n".join(lines) + "\n"


def _digest_cell(update: Update) -> str:
    new = code_cell(short_digest(update.new))
    if update.old is None:
        return f"pinned to {new}"
    return f"{code_cell(short_digest(update.old))} → {new}"


def table(updates: Sequence[Update], limit: int | None = None) -> str:
    """The summary table, one row per changed reference, in file and line order."""
    rows = sorted(updates, key=lambda u: (u.file, u.line, u.image))
    lines = ["| File | Image | Tag | Digest |", "|---|---|---|---|"]
    for update in rows[:limit]:
        lines.append(
            f"| {code_cell(f'{update.file}:{update.line}')} | {code_cell(update.image)} | "
            f"{code_cell(update.tag or 'latest')} | {_digest_cell(update)} |"
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


def body_length(text: str) -> int:
    """How long GitHub counts `text` against its body limit, read conservatively.

    GitHub refuses a body "too long (maximum is 65536 characters)". Counted here in UTF-16
    code units: a character outside the Basic Multilingual Plane (most emoji) counts two, so
    the count is never below a count of code points, and 65,536 units are at most 196,608
    UTF-8 bytes, under the byte cap GitHub applies to issue bodies and comments.

    >>> body_length("abc"), body_length("🌈")
    (3, 2)
    """
    return len(text.encode("utf-16-le")) // 2


def _most_that_fit(count: int, fits: Callable[[int], bool]) -> int:
    """The largest `n <= count` with `fits(n)`, given that `fits` holds for 0 and only
    turns from true to false once as `n` grows."""
    if fits(count):
        return count
    good, bad = 0, count  # fits(good) holds, fits(bad) does not
    while bad - good > 1:
        middle = (good + bad) // 2
        good, bad = (middle, bad) if fits(middle) else (good, middle)
    return good


def _intro(updates: Sequence[Update]) -> str:
    pins = sum(1 for update in updates if update.is_pin)
    bumps = len(updates) - pins
    parts = []
    if bumps:
        parts.append(f"{bumps} digest{'s' if bumps != 1 else ''} moved")
    if pins:
        parts.append(f"{pins} reference{'s' if pins != 1 else ''} pinned")
    intro = "pinbot resolved each tag to the digest its registry serves now and verified the manifest bytes: "
    intro += " and ".join(parts) + "."
    return intro + (" " + PIN_WHY if pins else "")


def _notes_section(notes: Sequence[str], shown: int) -> str | None:
    if not notes:
        return None
    blocks = "\n".join(note.rstrip("\n") + "\n" for note in notes[:shown])
    left = len(notes) - shown
    if left:
        blocks += (
            f"\n… and {left} more note{'s' if left != 1 else ''}, left out to keep this "
            "description under GitHub's size limit.\n"
        )
    return "### What changed\n\n" + blocks


def render(
    updates: Sequence[Update],
    state: PullState,
    notes: Sequence[str] = (),
) -> str:
    """The whole PR body: summary, table, per-image notes, footer, then the hidden block.

    `notes` are Markdown blocks (one per image, from `pinbot.notes.describe`). The body stays
    within `MAX_BODY` as `body_length` counts: when it would not, whole notes are left out
    from the last (never cut inside one), then table rows; when even a table without rows
    leaves no room for the whole state, the state is compacted and the table gets the room
    that frees. The block always stays, whole or compact, last.
    """
    intro = _intro(updates)

    def assemble(rows: int, shown_notes: int, hidden: str) -> str:
        sections = [intro, table(updates, rows)]
        if (section := _notes_section(notes, shown_notes)) is not None:
            sections.append(section)
        sections.append(FOOTER)
        # The one comment in the body is the state, last: nothing above can open or close one.
        visible = strip_comment_markers("\n\n".join(sections))
        return f"{visible}\n\n{hidden}\n"

    def fits(body: str) -> bool:
        return body_length(body) <= MAX_BODY

    hidden = state_block(state)
    if not fits(assemble(0, 0, hidden)):
        hidden = state_block(state.compact())
    rows, shown = len(updates), len(notes)
    if not fits(assemble(rows, 0, hidden)):
        shown = 0
        rows = _most_that_fit(rows, lambda n: fits(assemble(n, 0, hidden)))
    else:
        shown = _most_that_fit(shown, lambda n: fits(assemble(rows, n, hidden)))
    return assemble(rows, shown, hidden)


def replace_state(body: str, state: PullState) -> str:
    """`body` with `state` as its one state block, last.

    Every block the body holds (none, one, or several when it is unreadable) is taken out
    and the new one is written at the end. The state is compacted when the whole one would
    take the body past the size limit.
    """
    text = remove_all(_ANY_BLOCK, body).rstrip()

    def with_block(block: str) -> str:
        return f"{text}\n\n{block}\n" if text else f"{block}\n"

    replaced = with_block(state_block(state))
    if body_length(replaced) > MAX_BODY and not state.is_compact:
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
