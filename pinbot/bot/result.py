"""What one repository's run did, for the run summary."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class RepositoryResult:
    """What one repository's run did, for the run summary."""

    repository: str
    opened: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    closed: list[str] = field(default_factory=list)
    current: list[str] = field(default_factory=list)  # open PRs already right
    declined: list[str] = field(default_factory=list)  # updates a person closed before
    held_back: list[str] = field(default_factory=list)  # new PRs over github.max-open-pulls
    planned: list[str] = field(default_factory=list)  # --dry-run: what would be written
    warnings: list[str] = field(default_factory=list)
    failure: str | None = None
    skipped: str | None = None
    references: int = 0
    files: int = 0
