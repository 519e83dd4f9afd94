"""pinbot's one error base, and `Problem`: something pinbot could not check, as data.

Exceptions are for control flow inside a stage; what a stage could not do is handed on as a
`Problem`, so every command can count it, render it and fail closed on it in the same way.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


def location(file: str | None, line: int | None, column: int | None) -> str:
    """`file:line:column`, each part only when known (a column only after a line); "" when
    nothing is."""
    parts = [file or ""]
    if line is not None:
        parts.append(str(line))
        if column is not None:
            parts.append(str(column))
    return ":".join(parts)


class PinbotError(Exception):
    """Base of every error pinbot raises on purpose.

    Anything else escaping a stage is a bug; the stage that contains failures (one reference,
    one file, one repository) still turns it into a `Problem` so the run goes on.
    """


class ProblemKind(enum.StrEnum):
    """What could not be checked. The values are the rule names `check` reports."""

    UNREADABLE_FILE = "unreadable-file"  # not read, not decoded, too big, not parsed
    LOOKUP_FAILED = "lookup-failed"  # the registry did not answer what a reference needs
    WRITE_REFUSED = "write-refused"  # an edit was not written (verification, symlink, race)
    REPOSITORY_FAILED = "repository-failed"  # a whole repository could not be handled
    # A digest the trust gate (`verify:`) held back, by the rule it failed.
    UNSIGNED = "unsigned"
    SIGNATURE_INVALID = "signature-invalid"
    PROVENANCE_MISMATCH = "provenance-mismatch"
    WARNING = "warning"  # worth saying, checked all the same


@dataclass(frozen=True)
class Problem:
    """One thing pinbot could not check or do, with where it is.

    `str()` gives the one-line form `file:line:column: message` used in text output; renderers
    that need the parts (json, sarif, annotations) read the fields.
    """

    kind: ProblemKind
    message: str
    file: str | None = None
    line: int | None = None
    column: int | None = None
    reference: str | None = None

    @property
    def fails(self) -> bool:
        """Whether this problem makes a gate fail (everything but a plain warning)."""
        return self.kind is not ProblemKind.WARNING

    @property
    def location(self) -> str:
        return location(self.file, self.line, self.column)

    def __str__(self) -> str:
        where = self.location
        return f"{where}: {self.message}" if where else self.message

    def to_json(self) -> dict[str, object]:
        return {
            "kind": self.kind.value,
            "message": self.message,
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "reference": self.reference,
        }
