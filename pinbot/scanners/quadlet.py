"""Image references in Podman Quadlet units, read as Podman's unit file parser reads them.

A Quadlet unit is a systemd unit file (`web.container`, `db.volume`, `base.image`,
`app.build`, `app.pod`, `app.kube`, `model.artifact`, and drop-ins such as
`web.container.d/10-image.conf`) whose own section (`[Container]`, `[Volume]`, ...) Podman's
generator turns into a service. The rules below follow podman-systemd.unit(5) and Podman's
parser (pkg/systemd/parser/unitfile.go) and generator (pkg/systemd/quadlet/quadlet.go):

- Lines are trimmed of surrounding whitespace; an empty line or one starting with `#` or `;`
  is a comment (a comment inside a continuation is dropped); there are no comments at the end
  of a line. A line ending with `\\` continues on the next, which is joined to it trimmed.
- `Key=value`: the key is case-sensitive; the value starts after the spaces that follow `=`.
  Where one value is read (`Image=`), the last line with the key counts; a value wrapped in
  double quotes is unquoted (single quotes are kept, and make the reference invalid).
- Images: `Image=` in `[Container]` of a `.container`, in `[Image]` of a `.image` (what it
  pulls; `docker://` is the registry transport, other transports are local archives), in
  `[Volume]` of a `.volume` when `Driver=image`; `Artifact=` in `[Artifact]`; the `source` of
  a `Mount=type=image` or `type=artifact`. A value ending in `.image` or `.build` (or
  `.artifact` for a mount) names another Quadlet unit, not an image. `ImageTag=` is a name the
  unit gives its result (an output), not a reference to pull.
- `%i` and other systemd specifiers in a value are filled in by systemd: templated.

A file of these names that has no section of its unit type is not a Quadlet unit (a
`Dockerfile.build`, a disk `.image`) and gives nothing.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator
from dataclasses import dataclass

from pinbot.scanners.interface import Dismissal, Finding, ScanError, SinglePassScanner

__all__ = ["SCANNER", "QuadletScanner", "unit_group"]

# Unit file suffix -> the section Podman's generator reads in it.
_GROUPS = {
    "container": "Container",
    "volume": "Volume",
    "image": "Image",
    "build": "Build",
    "pod": "Pod",
    "kube": "Kube",
    "artifact": "Artifact",
}
# `name.container.d/x.conf`, `container.d/x.conf`: drop-ins merged into the unit.
_DROP_IN = re.compile(r"(?:^|/)(?:[^/]*\.)?(" + "|".join(_GROUPS) + r")\.d/[^/]+\.conf$")
# What Go's unicode.IsSpace calls space: Podman trims it from both ends of a line.
_SPACE = "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
# containers/image transports other than the registry (`docker://`): local sources.
_LOCAL_TRANSPORTS = frozenset(
    {"containers-storage", "dir", "docker-archive", "docker-daemon", "oci", "oci-archive", "sif", "tarball", "ostree"}
)  # fmt: skip
_SPECIFIER = re.compile(r"%[A-Za-z]")
_TRUE = frozenset({"1", "yes", "true", "on"})


def unit_group(path: str) -> str | None:
    """The section Podman reads in a Quadlet unit (or drop-in) of this path; None for others."""
    name = posixpath.basename(path)
    if name.lower().startswith(("dockerfile", "containerfile")):
        return None  # `Dockerfile.build` is a Dockerfile
    drop_in = _DROP_IN.search(path)
    if drop_in is not None:
        return _GROUPS[drop_in.group(1)]
    stem, dot, suffix = name.rpartition(".")
    return _GROUPS.get(suffix) if dot and stem else None


@dataclass(frozen=True)
class _Entry:
    """One `Key=value` line (continuations joined): the value and where each char is written."""

    group: str
    key: str
    value: str
    offsets: tuple[int, ...]
    line: int


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start] in _SPACE:
        start += 1
    while end > start and text[end - 1] in _SPACE:
        end -= 1
    return start, end


def _is_group(line: str) -> bool:
    close = line.find("]")
    return line.startswith("[") and close > 0 and not line[close + 1 :].strip(" \t")


def parse_unit(text: str) -> list[_Entry]:
    """Every `Key=value` of a unit file with its section, as Podman's parser reads them.

    Raises `ScanError` with Podman's reason where its parser rejects the file.
    """
    body = text[:-1] if text.endswith("\n") else text
    physical = body.split("\n")
    entries: list[_Entry] = []
    group: str | None = None
    pending = ""  # a continued line so far, and where its characters are written
    pending_offsets: list[int] = []
    pending_line = 0
    position = 0
    for number, raw in enumerate(physical, 1):
        start, end = _trim(text, position, position + len(raw))
        position += len(raw) + 1
        line = text[start:end]
        offsets = list(range(start, end))
        if not line or line[0] in "#;":
            continue  # a comment, also inside a continuation (which goes on after it)
        if line.endswith("\\"):
            line, offsets = line[:-1], offsets[:-1]
            if number != len(physical):
                if not pending:
                    pending_line = number
                pending += line
                pending_offsets += offsets
                continue
        first_line = number
        if pending:
            line, offsets = pending + line, pending_offsets + offsets
            first_line = pending_line
            pending, pending_offsets = "", []
        group = _parse_line(line, offsets, first_line, group, entries)
    return entries


def _parse_line(
    line: str, offsets: list[int], number: int, group: str | None, entries: list[_Entry]
) -> str | None:
    """Read one logical line; returns the section that is current after it."""
    if _is_group(line):
        name = line[1 : line.find("]")]
        if not name or "[" in name or any(ord(char) < 32 or ord(char) == 127 for char in name):
            raise ScanError(f"Podman rejects this unit: invalid group name: {name}", number)
        return name
    equals = line.find("=")
    if equals <= 0:
        raise ScanError(
            f"Podman rejects this unit: line {number} is not a key-value pair, group, or comment",
            number,
        )
    if group is None:
        raise ScanError("Podman rejects this unit: key file does not start with a group", number)
    key = line[:equals].rstrip(_SPACE)
    value_start = equals + 1
    while value_start < len(line) and line[value_start] in _SPACE:
        value_start += 1
    entries.append(_Entry(group, key, line[value_start:], tuple(offsets[value_start:]), number))
    return group


class QuadletScanner(SinglePassScanner):
    """`.container`, `.volume`, `.image`, `.build`, `.pod`, `.kube`, `.artifact` units."""

    kind = "quadlet"

    def matches(self, path: str) -> bool:
        return unit_group(path) is not None

    def read(self, path: str, text: str) -> Iterator[Finding | Dismissal]:
        group = unit_group(path)
        if group is None or not _has_section(text, group):
            return  # not a Quadlet unit of this type: nothing Podman would read
        entries = parse_unit(text)
        own = [entry for entry in entries if entry.group == group]
        for entry in entries:
            if entry.group != group and entry.key in ("Image", "Artifact"):
                yield _dismissal(
                    entry, f"in [{entry.group}]: Podman reads {entry.key}= only in [{group}]"
                )
        if group in ("Container", "Image", "Volume"):
            yield from _image(own, group)
        if group == "Artifact":
            yield from _last_of(own, "Artifact", "Artifact", units=(), unpinnable=_ARTIFACT_NOTE)
        if group == "Container":
            yield from _mounts(own)
        reason = _IMAGE_TAG_REASONS.get(group)
        for entry in own:
            if entry.key == "ImageTag" and reason is not None:
                yield _dismissal(entry, reason)


_IMAGE_TAG_REASONS = {
    "Build": "the name the build gives the image it makes: an output, not pulled",
    "Image": "the name a pulled archive is known by: not a reference Podman pulls",
}
# Podman's artifact store parses with reference.ParseNamed and refuses a tag with a digest.
_ARTIFACT_NOTE = (
    "Podman refuses an artifact reference with both a tag and a digest: pin as name@digest by hand"
)


def _has_section(text: str, group: str) -> bool:
    """Whether a line of the text is the unit type's section header (a byte-order mark may
    precede it: Podman then rejects the file, and that is reported)."""
    header = re.compile(
        r"^\ufeff?[" + _SPACE + r"]*\[" + re.escape(group) + r"\][ \t]*\r?$", re.MULTILINE
    )
    return header.search(text) is not None


def _dismissal(entry: _Entry, reason: str) -> Dismissal:
    if not entry.offsets:
        return Dismissal(0, 0, f"[{entry.group}] {entry.key}", reason)
    return Dismissal(
        entry.offsets[0], entry.offsets[-1] + 1, f"[{entry.group}] {entry.key}", reason
    )


def _image(own: list[_Entry], group: str) -> Iterator[Finding | Dismissal]:
    """`Image=` of a `.container`, `.image` or `.volume` unit."""
    if group == "Volume":
        driver = _lookup(own, "Driver")
        if driver is None or driver[0] != "image":
            for entry in own:
                if entry.key == "Image":
                    yield _dismissal(
                        entry, "Podman reads Image= of a volume only with Driver=image"
                    )
            return
    unpinnable = None
    units: tuple[str, ...] = (".image", ".build")
    if group == "Image":
        units = ()  # a `.image` unit pulls its Image= as written (no unit lookup)
        all_tags = _lookup(own, "AllTags")
        if all_tags is not None and all_tags[0].lower() in _TRUE:
            unpinnable = "AllTags=true pulls every tag of the repository: a digest cannot be pinned"
    yield from _last_of(own, "Image", group, units=units, unpinnable=unpinnable)


def _lookup(own: list[_Entry], key: str) -> tuple[str, tuple[int, ...]] | None:
    """The value Podman's `Lookup` gives for `key` (the last line, trailing space trimmed,
    surrounding double quotes removed) and where its characters are written."""
    last = next((entry for entry in reversed(own) if entry.key == key), None)
    if last is None:
        return None
    value, offsets = last.value, last.offsets
    end = len(value.rstrip(_SPACE))
    value, offsets = value[:end], offsets[:end]
    if len(value) >= 2 and value[0] == value[-1] == '"':
        value, offsets = value[1:-1], offsets[1:-1]
    return value, offsets


def _last_of(
    own: list[_Entry],
    key: str,
    group: str,
    *,
    units: tuple[str, ...],
    unpinnable: str | None = None,
) -> Iterator[Finding | Dismissal]:
    """The reference of the last `key=` line; earlier ones are overridden."""
    lines = [entry for entry in own if entry.key == key]
    for entry in lines[:-1]:
        yield _dismissal(
            entry, f"overridden by the {key}= on line {lines[-1].line}: Podman reads the last one"
        )
    looked_up = _lookup(own, key)
    if looked_up is None or not looked_up[0]:
        return
    value, offsets = looked_up
    context = f"[{group}] {key}"
    unit = next((suffix for suffix in units if value.endswith(suffix)), None)
    if unit is not None:
        yield Dismissal(
            offsets[0],
            offsets[-1] + 1,
            context,
            f"names the Quadlet unit {value}: the image is the one that unit "
            + ("builds" if unit == ".build" else "pulls"),
        )
        return
    yield from _reference(value, offsets, context, unpinnable)


def _reference(
    value: str, offsets: tuple[int, ...], context: str, unpinnable: str | None
) -> Iterator[Finding | Dismissal]:
    """A finding for a reference as Podman reads it; `unpinnable` says why it cannot be
    pinned in place, if it cannot."""
    transport, colon, _ = value.partition(":")
    if colon and transport in _LOCAL_TRANSPORTS:
        yield Dismissal(
            offsets[0],
            offsets[-1] + 1,
            context,
            f"a local image source (the {transport} transport), not a registry reference",
        )
        return
    if value.startswith("docker://"):
        value, offsets = value[len("docker://") :], offsets[len("docker://") :]
        if not value:
            return
        # containers/image refuses `docker://name:tag@digest` (docker_transport.go
        # newReference); only a name without a transport has its tag dropped by Podman.
        unpinnable = unpinnable or (
            "with docker:// Podman cannot pull a tag and a digest together: "
            "pin as name@digest by hand"
        )
    start, end = offsets[0], offsets[-1] + 1
    contiguous = end - start == len(value)
    if not contiguous:
        yield Finding(
            start,
            end,
            context,
            reference_text=value,
            rewritable=False,
            note=unpinnable or "the value is split across continuation lines",
        )
        return
    yield Finding(
        start,
        end,
        context,
        templated=_SPECIFIER.search(value) is not None,
        rewritable=unpinnable is None,
        note=unpinnable,
    )


def _mounts(own: list[_Entry]) -> Iterator[Finding | Dismissal]:
    """The `source` of `Mount=type=image,…` and `type=artifact` mounts of a container.

    Each `Mount=` value holds mounts separated by spaces; an empty `Mount=` clears the ones
    before it (Podman's `LookupAll`). A mount written with quotes or escapes is not read.
    """
    mounts: list[_Entry] = []
    for entry in own:
        if entry.key == "Mount":
            mounts = [] if not entry.value else [*mounts, entry]
    for entry in mounts:
        for word in re.finditer(r"[^ \t]+", entry.value):
            if any(char in word.group() for char in "\"'\\"):
                continue
            yield from _mount(entry, word.start(), word.group())


def _mount(entry: _Entry, start: int, spec: str) -> Iterator[Finding | Dismissal]:
    fields: dict[str, tuple[int, str]] = {}
    position = start
    for field in spec.split(","):
        key, equals, value = field.partition("=")
        if equals:
            fields.setdefault(key, (position + len(key) + 1, value))
        position += len(field) + 1
    mount_type = fields.get("type", (0, ""))[1]
    source = fields.get("source") or fields.get("src")
    if mount_type not in ("image", "artifact") or source is None or not source[1]:
        return
    value_start, value = source
    offsets = entry.offsets[value_start : value_start + len(value)]
    context = f"[Container] Mount type={mount_type} source"
    if value.startswith(("/", ".")):
        return  # a path on the host
    unit = ".image" if mount_type == "image" else ".artifact"
    if value.endswith(unit):
        yield Dismissal(
            offsets[0],
            offsets[-1] + 1,
            context,
            f"names the Quadlet unit {value}: the {mount_type} is the one that unit pulls",
        )
        return
    yield from _reference(value, offsets, context, _ARTIFACT_NOTE if unit == ".artifact" else None)


SCANNER = QuadletScanner()
