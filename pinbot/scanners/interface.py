"""What a scanner is and what it reports.

A scanner is pure: (path, text) -> findings, character offsets into the text it was given.
The driver (`pinbot.scanners._driver`) turns findings into `Occurrence`s (line, column,
status). A scanner whose files name each other (GitLab CI's included files) is also a
`LinkingScanner`.
"""

from __future__ import annotations

import enum
from abc import ABC, abstractmethod
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from pinbot.errors import PinbotError
from pinbot.reference import ImageReference


class Status(enum.StrEnum):
    PINNED = "pinned"
    UNPINNED = "unpinned"
    TEMPLATED = "templated"
    IGNORED = "ignored"
    INVALID = "invalid"


class ScanError(PinbotError):
    """A file a scanner cannot understand; it is reported and left untouched."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}" if self.line else self.message


@dataclass(frozen=True)
class DigestSlot:
    """Where a structured reference (a Helm image map, a Kustomize `images` entry) keeps its digest.

    `start`/`end` are character offsets of the current digest value; they are equal for an
    insertion point, and then `prefix`/`suffix` are written around the digest
    (e.g. prefix "\\n    digest: ").
    """

    start: int
    end: int
    prefix: str = ""
    suffix: str = ""


@dataclass(frozen=True)
class Finding:
    """One image reference as a scanner sees it.

    `start`/`end` are character offsets of the reference as written (for a structured
    reference: of the part a person would point at, e.g. `repository`). `reference_text` is
    the reference composed from its parts when the span alone is not the whole reference.
    A finding with `digest_slot` is pinned by writing the digest there; one without is
    pinned by replacing the text at the span. `adds_digest_key` marks a slot that inserts a
    `digest:` key the file does not have yet (a Helm chart may not read it): such a finding
    is not rewritable unless the user opts in (`pin.helm-insert-digest`). `invalid` holds the
    reason the file kind's own tool rejects the value (kustomize refusing a number as a tag):
    the reference is then invalid whatever its text, and never pinned. `built_here` marks an
    image the file builds and tags rather than pulls (a Compose service with `build:`): it is
    reported, and the policy does not judge it. `platform` is the platform the file says the
    image runs on, as written (`FROM --platform=linux/arm64`, a Compose service's `platform:`,
    a Pod's `kubernetes.io/arch` node selector; `$BUILDPLATFORM` too), or None when it says none.
    """

    start: int
    end: int
    context: str
    reference_text: str | None = None
    digest_slot: DigestSlot | None = None
    structured: bool = False
    templated: bool = False
    rewritable: bool = True
    note: str | None = None
    adds_digest_key: bool = False
    invalid: str | None = None
    built_here: bool = False
    platform: str | None = None


@dataclass(frozen=True)
class Dismissal:
    """Image-like text a scanner saw and decided not to report, and why.

    A stage name after `FROM`, an image a build pushes, a `status` field, a Quadlet unit
    named by file: each reads like a reference but pinning it would be wrong. `start`/`end`
    are character offsets of the text as written; `reason` says why it is not a reference
    to pin, in words a person asking "why is this one not pinned?" can act on.
    """

    start: int
    end: int
    context: str
    reason: str


class Scanner(Protocol):
    """One file kind. `matches` looks at the path only; `scan` may still find nothing."""

    kind: str

    def matches(self, path: str) -> bool: ...

    def scan(self, path: str, text: str) -> Iterable[Finding]: ...


@runtime_checkable
class ExplainingScanner(Protocol):
    """A scanner that can also say what it saw and did not report (`scan --explain`).

    `dismissals` reads the file as `scan` does and returns the image-like text it passed
    over, with the reason; it is only asked when a person wants the reasons.
    """

    kind: str

    def matches(self, path: str) -> bool: ...

    def scan(self, path: str, text: str) -> Iterable[Finding]: ...

    def dismissals(self, path: str, text: str) -> Iterable[Dismissal]: ...


class SinglePassScanner(ABC):
    """An `ExplainingScanner` whose one reading of a file meets what it reports and what it
    passes over together: `read` yields both, and `scan` and `dismissals` each keep theirs."""

    kind: str

    @abstractmethod
    def matches(self, path: str) -> bool: ...

    @abstractmethod
    def read(self, path: str, text: str) -> Iterator[Finding | Dismissal]:
        """The findings and dismissals of one file, in the order the file is read."""

    def scan(self, path: str, text: str) -> Iterator[Finding]:
        return (seen for seen in self.read(path, text) if isinstance(seen, Finding))

    def dismissals(self, path: str, text: str) -> Iterator[Dismissal]:
        return (seen for seen in self.read(path, text) if isinstance(seen, Dismissal))


@runtime_checkable
class LinkingScanner(Protocol):
    """A scanner that also reads a set of files together.

    `link` gets the texts of every file of the set the scanner matches, by path, and returns
    what no file shows alone, by path (offsets into that path's text), for the files in
    `paths` only: a file re-scanned after an edit asks for its own. The driver drops a
    linked finding whose span the file's own scan already reported.
    """

    kind: str

    def matches(self, path: str) -> bool: ...

    def scan(self, path: str, text: str) -> Iterable[Finding]: ...

    def link(
        self, files: Mapping[str, str], paths: Collection[str]
    ) -> Mapping[str, Sequence[Finding]]: ...


@dataclass(frozen=True)
class LocatedText:
    """Text a scanner (`kind`) saw in a file, and where.

    `start`/`end` are character offsets into the decoded file text and `byte_start`/`byte_end`
    the same span in the file's bytes (UTF-8). `line` and `column` are 1-based; the column
    counts characters.
    """

    file: str
    kind: str
    start: int
    end: int
    byte_start: int
    byte_end: int
    line: int
    column: int
    text: str
    context: str

    @property
    def location(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"

    def _record(
        self, reference: str | None, status: str, rewritable: bool, note: str | None
    ) -> dict[str, object]:
        """The one shape `scan --format json` gives every record, references or not."""
        return {
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "kind": self.kind,
            "text": self.text,
            "reference": reference,
            "status": status,
            "context": self.context,
            "rewritable": rewritable,
            "note": note,
            "span": [self.byte_start, self.byte_end],
        }


@dataclass(frozen=True)
class Occurrence(LocatedText):
    """An image reference found in a file, with everything needed to report and rewrite it."""

    reference: ImageReference | None
    status: Status
    rewritable: bool = True
    note: str | None = None
    digest_slot: DigestSlot | None = None
    structured: bool = False
    reference_text: str = ""
    adds_digest_key: bool = False
    built_here: bool = False  # see `Finding.built_here`
    platform: str | None = None  # see `Finding.platform`

    def to_json(self) -> dict[str, object]:
        reference = str(self.reference) if self.reference is not None else None
        return self._record(reference, self.status.value, self.rewritable, self.note)
