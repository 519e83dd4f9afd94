"""What the renderers share: `Finding`, one line of `check` output, and the rules it names.

A finding is a policy violation or something pinbot could not check (a `Problem`); every
format (text, json, sarif, github annotations) renders the same findings the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Protocol

from pinbot.errors import Problem, ProblemKind, location
from pinbot.policy import RULE_TEXT, Violation

#: Every rule `check` can name, with its one-line description (SARIF rules, annotation titles).
RULES: dict[str, str] = {
    **{rule.value: text for rule, text in RULE_TEXT.items()},
    ProblemKind.UNREADABLE_FILE.value: "File could not be read, decoded or parsed",
    ProblemKind.LOOKUP_FAILED.value: "Registry lookup failed, so the reference was not checked",
}


@dataclass(frozen=True)
class Finding:
    """One thing `check` reports, with where it is (`file` as the output names it)."""

    rule: str
    message: str
    file: str | None = None
    line: int | None = None
    column: int | None = None
    text: str | None = None  # the reference as written in the file
    reference: str | None = None  # the reference as pinbot understood it

    @classmethod
    def from_violation(cls, violation: Violation) -> Finding:
        o, rule = violation.occurrence, violation.rule.value
        reference = str(o.reference) if o.reference is not None else None
        return cls(rule, violation.message, o.file, o.line, o.column, o.text, reference)

    @classmethod
    def from_problem(cls, problem: Problem) -> Finding:
        p = problem
        return cls(p.kind.value, p.message, p.file, p.line, p.column, reference=p.reference)

    @property
    def title(self) -> str:
        return RULES.get(self.rule, self.rule)

    @property
    def end_column(self) -> int | None:
        if self.column is None or self.text is None:
            return None
        return self.column + len(self.text)

    @property
    def location(self) -> str:
        return location(self.file, self.line, self.column)

    def under(self, prefix: str) -> Finding:
        """The same finding with its file named from a folder `prefix` up (`app/deploy`)."""
        if not prefix or self.file is None:
            return self
        return replace(self, file=f"{prefix.rstrip('/')}/{self.file}")


class CheckRenderer(Protocol):
    """A `check` format: the findings, their files named from `root` (the repository root,
    see `pinbot.report.location`), as one string."""

    def __call__(self, found: Sequence[Finding], root: Path | None = None, /) -> str: ...
