"""An organisation's image inventory and policy report, built from scanned repositories.

Pure: repositories already read and scanned go in (with the run's registry lookups, for
drift), an `AuditReport` comes out; each output format (`pinbot.report`) is a function of it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace

from pinbot.config import PolicyConfig
from pinbot.plan import Lookup
from pinbot.policy import Rule, Violation, evaluate
from pinbot.reference import ImageReference
from pinbot.scanners import Occurrence, Status


@dataclass(frozen=True)
class AuditedRepository:
    """One repository's default branch as audited, or why it could not be read."""

    repository: str
    branch: str | None = None
    commit: str | None = None
    url: str | None = None
    files: int = 0
    occurrences: tuple[Occurrence, ...] = ()
    violations: tuple[Violation, ...] = ()
    warnings: tuple[str, ...] = ()
    failure: str | None = None

    @property
    def pinned(self) -> int:
        return sum(o.status is Status.PINNED for o in self.occurrences)

    @property
    def pinnable(self) -> int:
        """References that are or could be pinned (not templated, ignored or invalid)."""
        return sum(o.status in (Status.PINNED, Status.UNPINNED) for o in self.occurrences)

    @property
    def pinned_percent(self) -> float | None:
        return percent(self.pinned, self.pinnable)

    def by_rule(self) -> Counter[Rule]:
        return Counter(v.rule for v in self.violations)


def audit_repository(
    repository: str,
    occurrences: Iterable[Occurrence],
    policy: PolicyConfig,
    lookups: Mapping[str, Lookup] | None = None,
    *,
    branch: str | None = None,
    commit: str | None = None,
    url: str | None = None,
    files: int = 0,
    warnings: Iterable[str] = (),
) -> AuditedRepository:
    """A repository's occurrences with the policy's violations among them."""
    found = tuple(occurrences)
    return AuditedRepository(
        repository,
        branch=branch,
        commit=commit,
        url=url,
        files=files,
        occurrences=found,
        violations=tuple(evaluate(found, policy, lookups)),
        warnings=tuple(warnings),
    )


def percent(part: int, whole: int) -> float | None:
    """`part` of `whole` in percent with one decimal, or None when there is no whole.

    >>> percent(2, 3)
    66.7
    """
    return round(100 * part / whole, 1) if whole else None


def shown_percent(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f}%"


@dataclass(frozen=True)
class ImageUse:
    """An image (canonical name, no tag or digest) and where it is used."""

    image: str
    repositories: tuple[str, ...]
    references: int
    tags: tuple[str, ...]


@dataclass(frozen=True)
class RegistryUse:
    registry: str
    repositories: int
    references: int


@dataclass
class AuditReport:
    """Every audited repository, and how the run went."""

    repositories: list[AuditedRepository]
    skipped: dict[str, str] = field(default_factory=dict)
    drift: bool = False
    lookup_errors: list[str] = field(default_factory=list)
    # Files that could not be read, decoded or parsed (each is also a repository's warning).
    unreadable_files: int = 0
    github_calls: int = 0
    registry_requests: int = 0
    seconds: float = 0.0

    @property
    def audited(self) -> list[AuditedRepository]:
        return [r for r in self.repositories if r.failure is None]

    @property
    def failures(self) -> list[AuditedRepository]:
        return [r for r in self.repositories if r.failure is not None]

    @property
    def violations(self) -> list[Violation]:
        """Every violation, qualified by its repository (`owner/name/path`)."""
        return [qualified(r.repository, v) for r in self.repositories for v in r.violations]

    def references(self) -> int:
        return sum(len(r.occurrences) for r in self.repositories)

    def pinned(self) -> int:
        return sum(r.pinned for r in self.repositories)

    def pinnable(self) -> int:
        return sum(r.pinnable for r in self.repositories)

    def by_rule(self) -> Counter[Rule]:
        total: Counter[Rule] = Counter()
        for r in self.repositories:
            total.update(r.by_rule())
        return total

    def images(self) -> list[ImageUse]:
        """Images by how many repositories use them (most first), then by name."""
        uses = [
            ImageUse(
                name,
                tuple(sorted({repository for repository, _ in found})),
                len(found),
                tuple(sorted({ref.tag for _, ref in found if ref.tag is not None})),
            )
            for name, found in self._references_by(lambda ref: ref.name).items()
        ]
        return sorted(uses, key=lambda u: (-len(u.repositories), -u.references, u.image))

    def registries(self) -> list[RegistryUse]:
        """Registries (host[:port] as in the canonical reference) by repositories using them."""
        uses = [
            RegistryUse(domain, len({repository for repository, _ in found}), len(found))
            for domain, found in self._references_by(lambda ref: ref.domain).items()
        ]
        return sorted(uses, key=lambda u: (-u.repositories, -u.references, u.registry))

    def _references_by(
        self, key: Callable[[ImageReference], str]
    ) -> dict[str, list[tuple[str, ImageReference]]]:
        """Every parsed reference, with its repository, grouped by `key` of the reference."""
        found: dict[str, list[tuple[str, ImageReference]]] = {}
        for r in self.repositories:
            for o in r.occurrences:
                if o.reference is not None:
                    found.setdefault(key(o.reference), []).append((r.repository, o.reference))
        return found

    def headline(self) -> str:
        failed = f" ({len(self.failures)} could not be read)" if self.failures else ""
        return (
            f"{len(self.repositories)} repositories{failed}, {self.references()} references, "
            f"{shown_percent(percent(self.pinned(), self.pinnable()))} pinned, "
            f"{len(self.violations)} violations{rules_in_brackets(self.by_rule())}"
        )

    def figures(self) -> str:
        return (
            f"{self.github_calls} GitHub API calls counted against the rate limit, "
            f"{self.registry_requests} registry requests, {self.seconds:.1f} s"
        )


def qualified(repository: str, violation: Violation) -> Violation:
    """The violation with its file named `owner/name/path`, for reports over many repositories."""
    occurrence = replace(violation.occurrence, file=f"{repository}/{violation.occurrence.file}")
    return replace(violation, occurrence=occurrence)


def rules_text(counts: Counter[Rule]) -> str:
    return ", ".join(f"{rule.value} {counts[rule]}" for rule in Rule if counts[rule])


def rules_in_brackets(counts: Counter[Rule]) -> str:
    text = rules_text(counts)
    return f" ({text})" if text else ""


def short_commit(commit: str | None) -> str:
    return commit[:7] if commit else "?"


def inventory(report: AuditReport) -> list[dict[str, object]]:
    """One row per occurrence, repository by repository in file order."""
    rows: list[dict[str, object]] = []
    for r in report.repositories:
        rules: dict[Occurrence, list[str]] = {}
        for v in r.violations:
            rules.setdefault(v.occurrence, []).append(v.rule.value)
        for o in r.occurrences:
            reference = o.reference
            rows.append(
                {
                    "repository": r.repository,
                    "file": o.file,
                    "line": o.line,
                    "column": o.column,
                    "kind": o.kind,
                    "text": o.text,
                    "reference": str(reference) if reference is not None else None,
                    "status": o.status.value,
                    "digest": reference.digest if reference is not None else None,
                    "registry": reference.domain if reference is not None else None,
                    "image": reference.name if reference is not None else None,
                    "tag": reference.tag if reference is not None else None,
                    "violations": rules.get(o, []),
                }
            )
    return rows


def lookup_problems(lookups: Mapping[str, Lookup]) -> list[str]:
    """Tag lookups that failed (`name:tag: error`), sorted.

    A pinned digest found missing is already a `digest-missing` violation; these are the tags
    the registry could not answer for, which leave drift unchecked.
    """
    return sorted(
        f"{key}: {lookup.error}"
        for key, lookup in lookups.items()
        if lookup.error and "@" not in key
    )
