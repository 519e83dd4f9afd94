"""Changelog notes: what changed between two builds of a tag, from the registry's own metadata.

Pure: takes `ImageMetadata` for the old and new digest, returns Markdown a reviewer can act on
without leaving the pull request (build time, version and revision with a compare link,
platforms, compressed size, base image). `moved_line` and `add_lines` add what a pull request
proposed before for a tag that moved again while it was open.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime

from pinbot.registry.manifest import ImageMetadata
from pinbot.report.escape import code, html_code

#: The most characters of one registry value a note shows: a label cannot fill a description.
MAX_VALUE = 200

# GitHub's own spelling of an owner and a repository name (ASCII only: no look-alikes).
_GITHUB_SOURCE = re.compile(
    r"^(?:https?://|git@|ssh://git@|git://)github\.com[/:]"
    r"(?P<repo>[A-Za-z0-9][A-Za-z0-9-]{0,38}/[A-Za-z0-9_.-]{1,100}?)(?:\.git)?/?$",
    re.ASCII,
)
# A revision is linked only when it is a commit id, so a label cannot shape the link.
_COMMIT_ID = re.compile(r"[0-9a-f]{7,64}", re.ASCII)


def _code(value: str) -> str:
    """A code span for a value from the registry, shortened to `MAX_VALUE` characters."""
    if len(value) > MAX_VALUE:
        value = value[: MAX_VALUE - 1] + "…"
    return code(value)


def short_digest(digest: str | None, length: int = 12) -> str:
    """`sha256:3f1c0e…` shortened for tables; the full digest stays in the hidden block."""
    if not digest:
        return "none"
    algorithm, _, encoded = digest.partition(":")
    return f"{algorithm}:{encoded[:length]}"


def github_repository(source: str | None) -> str | None:
    """`owner/name` when an image's source label points at a GitHub repository."""
    if not source:
        return None
    match = _GITHUB_SOURCE.match(source.strip())
    if match is None or match.group("repo").split("/")[1].strip(".") == "":
        return None
    return match.group("repo")


def human_size(size: int) -> str:
    """Decimal units, as registries and the Docker CLI show image sizes."""
    value = float(size)
    for unit in ("B", "kB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    raise AssertionError("unreachable")


def timestamp(when: datetime | None) -> str:
    """`2026-11-25 09:30 UTC`, as the notes and comments show a time."""
    return when.strftime("%Y-%m-%d %H:%M UTC") if when else "unknown time"


_day = timestamp


def _revision_text(revision: str, repository: str | None) -> str:
    if not _COMMIT_ID.fullmatch(revision):
        return _code(revision)
    if repository:
        return f"[{_code(revision[:7])}](https://github.com/{repository}/commit/{revision})"
    return _code(revision[:7])


def _change_line(label: str, old: str | None, new: str | None) -> str | None:
    if old is None and new is None:
        return None
    if old == new:
        return f"{label}: {_code(new or '')} (unchanged)"
    return f"{label}: {_code(old or 'none')} → {_code(new or 'none')}"


def _revision_line(old: ImageMetadata, new: ImageMetadata) -> str | None:
    if old.revision is None and new.revision is None:
        return None
    repository = github_repository(new.source or old.source)
    if old.revision == new.revision:
        return f"revision {_revision_text(new.revision or '', repository)} (unchanged)"
    line = "revision " + (
        f"{_revision_text(old.revision, repository) if old.revision else '`none`'} → "
        f"{_revision_text(new.revision, repository) if new.revision else '`none`'}"
    )
    if (
        repository
        and old.revision
        and new.revision
        and _COMMIT_ID.fullmatch(old.revision)
        and _COMMIT_ID.fullmatch(new.revision)
    ):
        line += (
            f" ([compare](https://github.com/{repository}/compare/{old.revision}...{new.revision}))"
        )
    return line


def _platform_line(old: ImageMetadata, new: ImageMetadata) -> str | None:
    if not old.platforms and not new.platforms:
        return None
    added = [p for p in new.platforms if p not in old.platforms]
    removed = [p for p in old.platforms if p not in new.platforms]
    if not added and not removed:
        return f"platforms: {_platforms(new.platforms)} (unchanged)"
    parts = []
    if added:
        parts.append("added " + _platforms(added))
    if removed:
        parts.append("**removed** " + _platforms(removed))
    return "platforms: " + "; ".join(parts)


#: The most platforms a note lists (an index may name any number).
MAX_PLATFORMS = 20


def _platforms(platforms: Sequence[str]) -> str:
    """Platform strings come from the registry's index: each is shown as code."""
    shown = ", ".join(_code(platform) for platform in platforms[:MAX_PLATFORMS])
    left = len(platforms) - MAX_PLATFORMS
    return f"{shown} and {left} more" if left > 0 else shown


def _where(platform: str | None) -> str:
    return f" ({_code(platform)})" if platform else ""


def _size_line(old: ImageMetadata, new: ImageMetadata) -> str | None:
    if old.size is None or new.size is None:
        return None
    where = _where(new.platform)
    if old.size == new.size:
        return f"compressed size{where}: {human_size(new.size)} (unchanged)"
    change = (new.size - old.size) / old.size * 100 if old.size else 0.0
    return (
        f"compressed size{where}: {human_size(old.size)} → {human_size(new.size)} "
        f"({change:+.1f}%)"
    )


def _base_line(old: ImageMetadata, new: ImageMetadata) -> str | None:
    if not (old.base_name or new.base_name or old.base_digest or new.base_digest):
        return None
    name = _code(new.base_name or old.base_name or "base image")
    if old.base_name and new.base_name and old.base_name != new.base_name:
        return f"base image: {_code(old.base_name)} → {_code(new.base_name)}"
    if old.base_digest != new.base_digest:
        return (
            f"base image {name} digest changed: "
            f"{_code(short_digest(old.base_digest))} → {_code(short_digest(new.base_digest))}"
        )
    return f"base image {name} unchanged"


def _facts(new: ImageMetadata) -> list[str]:
    """What one build is: time, version, revision, platforms, size, base."""
    lines = [f"built {_day(new.created)}"]
    if new.version:
        lines.append(f"version {_code(new.version)}")
    if new.revision:
        lines.append("revision " + _revision_text(new.revision, github_repository(new.source)))
    if new.platforms:
        lines.append("platforms: " + _platforms(new.platforms))
    if new.size is not None:
        lines.append(f"compressed size{_where(new.platform)}: {human_size(new.size)}")
    if new.base_name:
        lines.append(f"base image {_code(new.base_name)}")
    return lines


def _details(summary: str, lines: list[str]) -> str:
    body = "\n".join(f"- {line}" for line in lines)
    return f"<details><summary>{summary}</summary>\n\n{body}\n\n</details>\n"


def _title(image: str, tag: str | None) -> str:
    return html_code(f"{image}:{tag}" if tag else image)


def describe(
    image: str,
    tag: str | None,
    old: ImageMetadata | None,
    new: ImageMetadata | None,
    *,
    old_digest: str | None = None,
    extra: Sequence[str] = (),
) -> str:
    """Markdown `<details>` block saying what changed in `image:tag` between two builds.

    `old` is None for a first pin; for a bump whose old digest the registry no longer
    describes, pass `old_digest` so the note says so instead of reading like a first pin.
    `extra` lines (already Markdown, e.g. `pinbot.supplychain.review.Reviewer.bump_lines`)
    close the block.
    """
    return _with_extra(_describe(image, tag, old, new, old_digest=old_digest), extra)


def _with_extra(block: str, extra: Sequence[str]) -> str:
    if not extra:
        return block
    head, _, tail = block.rpartition("\n\n</details>")
    return head + "".join(f"\n- {line}" for line in extra) + "\n\n</details>" + tail


def _describe(
    image: str,
    tag: str | None,
    old: ImageMetadata | None,
    new: ImageMetadata | None,
    *,
    old_digest: str | None,
) -> str:
    title = _title(image, tag)
    if new is None:
        return _details(title, ["the registry gave no metadata for the new digest"])
    if old is None and old_digest is not None:
        lines = [
            f"the registry no longer describes the old digest {_code(short_digest(old_digest))}",
            *_facts(new),
        ]
        return _details(f"{title} — new digest, built {_day(new.created)}", lines)
    if old is None:
        return _details(f"{title} — pinned to the build of {_day(new.created)}", _facts(new))
    if old.created and new.created and old.created != new.created:
        summary = f"{title} — rebuilt {_day(old.created)} → {_day(new.created)}"
    else:
        summary = f"{title} — new digest"
    candidates = [
        _change_line("version", old.version, new.version),
        _revision_line(old, new),
        _platform_line(old, new),
        _size_line(old, new),
        _base_line(old, new),
    ]
    lines = [line for line in candidates if line is not None]
    if not lines:
        lines = ["the registry gives no version, revision, platform or size metadata for these builds"]
    return _details(summary, lines)


def moved_line(earlier: Sequence[tuple[str, datetime | None]], new_digest: str) -> str:
    """The note for a tag that moved while its pull request was open.

    `earlier` is each digest the pull request proposed before for the tag, oldest first, with
    when it was proposed; `new_digest` is the one it proposes now.
    """
    chain = [
        f"{_code(short_digest(digest))} (was proposed {timestamp(when)})" for digest, when in earlier
    ]
    chain.append(_code(short_digest(new_digest)))
    return "the tag moved while this pull request was open: " + " → ".join(chain)


def add_lines(
    blocks: Sequence[str], image: str, tag: str | None, lines: Sequence[str]
) -> list[str]:
    """`blocks` (from `describe`) with `lines` first in every block about `image:tag`.

    A line a block already has is not added again. When no block is about `image:tag` (no
    notes were made, or the registry gave none), one block is added with just these lines.
    """
    head = f"<details><summary>{_title(image, tag)}"
    out: list[str] = []
    matched = False
    for block in blocks:
        start = block.find("</summary>\n\n")
        if not block.startswith(head) or start < 0:
            out.append(block)
            continue
        matched = True
        start += len("</summary>\n\n")
        new = "".join(f"- {line}\n" for line in lines if f"- {line}\n" not in block)
        out.append(block[:start] + new + block[start:])
    if not matched and lines:
        summary = f"{_title(image, tag)} — moved while this pull request was open"
        out.append(_details(summary, list(lines)))
    return out
