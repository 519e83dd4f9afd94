"""An organisation's image inventory and policy report, built from scanned repositories.

Pure: repositories already read and scanned go in (with the run's registry lookups, for
drift), an `AuditReport` comes out, and each output format is a function of that report.
"""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace

from pinbot import sarif
from pinbot.config import PolicyConfig
from pinbot.plan import Lookup
from pinbot.policy import Rule, Violation, evaluate
from pinbot.scanners import Occurrence, Status

#: Columns of `--format csv`, one row per occurrence.
CSV_COLUMNS = (
    "repository",
    "file",
    "line",
    "column",
    "kind",
    "text",
    "reference",
    "status",
    "digest",
    "registry",
    "image",
    "tag",
    "violations",
)

#: How many images and violations the text and Markdown reports show before "and N more".
TOP_IMAGES = 10
MARKDOWN_VIOLATIONS = 200


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


def _shown_percent(value: float | None) -> str:
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
        repositories: dict[str, set[str]] = {}
        references: Counter[str] = Counter()
        tags: dict[str, set[str]] = {}
        for r in self.repositories:
            for o in r.occurrences:
                if o.reference is None:
                    continue
                name = o.reference.name
                repositories.setdefault(name, set()).add(r.repository)
                references[name] += 1
                tags.setdefault(name, set())
                if o.reference.tag is not None:
                    tags[name].add(o.reference.tag)
        uses = [
            ImageUse(name, tuple(sorted(repos)), references[name], tuple(sorted(tags[name])))
            for name, repos in repositories.items()
        ]
        return sorted(uses, key=lambda u: (-len(u.repositories), -u.references, u.image))

    def registries(self) -> list[RegistryUse]:
        """Registries (host[:port] as in the canonical reference) by repositories using them."""
        repositories: dict[str, set[str]] = {}
        references: Counter[str] = Counter()
        for r in self.repositories:
            for o in r.occurrences:
                if o.reference is None:
                    continue
                domain = o.reference.domain
                repositories.setdefault(domain, set()).add(r.repository)
                references[domain] += 1
        uses = [RegistryUse(d, len(repos), references[d]) for d, repos in repositories.items()]
        return sorted(uses, key=lambda u: (-u.repositories, -u.references, u.registry))

    def headline(self) -> str:
        failed = f" ({len(self.failures)} could not be read)" if self.failures else ""
        return (
            f"{len(self.repositories)} repositories{failed}, {self.references()} references, "
            f"{_shown_percent(percent(self.pinned(), self.pinnable()))} pinned, "
            f"{len(self.violations)} violations{_rules_in_brackets(self.by_rule())}"
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


def _rules_text(counts: Counter[Rule]) -> str:
    return ", ".join(f"{rule.value} {counts[rule]}" for rule in Rule if counts[rule])


def _rules_in_brackets(counts: Counter[Rule]) -> str:
    text = _rules_text(counts)
    return f" ({text})" if text else ""


def _rules_json(counts: Counter[Rule]) -> dict[str, int]:
    # Every rule, zero or not, so the keys do not depend on what was found.
    return {rule.value: counts[rule] for rule in Rule}


def _short(commit: str | None) -> str:
    return commit[:7] if commit else "?"


# --- rows ----------------------------------------------------------------------------------


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


def _violation_json(repository: str, v: Violation) -> dict[str, object]:
    o = v.occurrence
    return {
        "repository": repository,
        "file": o.file,
        "line": o.line,
        "column": o.column,
        "rule": v.rule.value,
        "message": v.message,
        "text": o.text,
        "reference": str(o.reference) if o.reference is not None else None,
    }


def _repository_json(r: AuditedRepository) -> dict[str, object]:
    return {
        "repository": r.repository,
        "branch": r.branch,
        "commit": r.commit,
        "url": r.url,
        "files": r.files,
        "references": len(r.occurrences),
        "pinned": r.pinned,
        "pinnable": r.pinnable,
        "pinned_percent": r.pinned_percent,
        "violations": len(r.violations),
        "violations_by_rule": _rules_json(r.by_rule()),
        "warnings": list(r.warnings),
        "error": r.failure,
    }


# --- formats -------------------------------------------------------------------------------


def render_json(report: AuditReport) -> str:
    """Everything, with the same keys whatever was found."""
    registries = report.registries()
    document = {
        "summary": {
            "repositories": len(report.repositories),
            "audited": len(report.audited),
            "failed": len(report.failures),
            "references": report.references(),
            "pinned": report.pinned(),
            "pinnable": report.pinnable(),
            "pinned_percent": percent(report.pinned(), report.pinnable()),
            "violations": len(report.violations),
            "violations_by_rule": _rules_json(report.by_rule()),
            "images": len(report.images()),
            "registries": [u.registry for u in registries],
            "drift": report.drift,
        },
        "repositories": [_repository_json(r) for r in report.repositories],
        "images": [
            {
                "image": u.image,
                "repositories": list(u.repositories),
                "references": u.references,
                "tags": list(u.tags),
            }
            for u in report.images()
        ],
        "registries": [
            {"registry": u.registry, "repositories": u.repositories, "references": u.references}
            for u in registries
        ],
        "inventory": inventory(report),
        "violations": [
            _violation_json(r.repository, v) for r in report.repositories for v in r.violations
        ],
        "skipped": dict(sorted(report.skipped.items())),
        "lookup_errors": list(report.lookup_errors),
        "run": {
            "github_calls": report.github_calls,
            "registry_requests": report.registry_requests,
            "seconds": round(report.seconds, 3),
        },
    }
    return json.dumps(document, indent=2) + "\n"


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _inert(value: object) -> object:
    """Text from repositories, made inert for spreadsheets: a leading `=`, `+`, `-` or `@`
    would otherwise be read as a formula."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def render_csv(report: AuditReport) -> str:
    """The inventory, one row per occurrence; a row's violations are `;`-separated rules."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in inventory(report):
        rules = row["violations"]
        assert isinstance(rules, list)
        writer.writerow({key: _inert(value) for key, value in {**row, "violations": ";".join(rules)}.items()})
    return out.getvalue()


def _text_summary(report: AuditReport) -> list[str]:
    lines = [f"pinbot audit: {report.headline()}; {report.figures()}"]
    width = max((len(r.repository) for r in report.repositories), default=0)
    for r in report.repositories:
        name = r.repository.ljust(width)
        if r.failure is not None:
            lines.append(f"  {name}  could not be read: {r.failure}")
            continue
        lines.append(
            f"  {name}  {r.branch}@{_short(r.commit)}  {len(r.occurrences)} references, "
            f"{_shown_percent(r.pinned_percent)} pinned, {len(r.violations)} violations"
            f"{_rules_in_brackets(r.by_rule())}"
        )
        lines.extend(f"    warning: {w}" for w in r.warnings)
    images = report.images()
    if images:
        lines.append("top images (repositories, references, tags):")
        for u in images[:TOP_IMAGES]:
            tags = ", ".join(u.tags) or "no tag"
            lines.append(f"  {len(u.repositories):>4} {u.references:>5}  {u.image}  ({tags})")
        if len(images) > TOP_IMAGES:
            lines.append(f"  … and {len(images) - TOP_IMAGES} more images")
    registries = report.registries()
    if registries:
        lines.append("registries (repositories, references):")
        lines.extend(f"  {u.repositories:>4} {u.references:>5}  {u.registry}" for u in registries)
    if report.skipped:
        lines.append(f"left out by the filter: {len(report.skipped)} ({_skip_reasons(report)})")
    lines.extend(f"lookup problem: {e}" for e in report.lookup_errors)
    return lines


def _skip_reasons(report: AuditReport) -> str:
    counts = Counter(report.skipped.values())
    return ", ".join(f"{why} {n}" for why, n in sorted(counts.items()))


def render_text(report: AuditReport) -> str:
    """The summary, then one line per violation (`owner/name/path:line:column: rule: …`)."""
    lines = _text_summary(report)
    violations = report.violations
    if violations:
        lines.append("violations:")
        lines.extend(str(v) for v in violations)
    return "\n".join(lines) + "\n"


def _cell(value: object) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


def render_markdown(report: AuditReport) -> str:
    """A report for `$GITHUB_STEP_SUMMARY` or an issue: tables, then the violations."""
    lines = [
        "## pinbot audit",
        "",
        report.headline() + ".",
        "",
        "| Repository | Commit | References | Pinned | Violations | By rule |",
        "|---|---|---|---|---|---|",
    ]
    for r in report.repositories:
        if r.failure is not None:
            lines.append(
                f"| {_cell(r.repository)} | | | | | could not be read: {_cell(r.failure)} |"
            )
            continue
        lines.append(
            f"| {_cell(r.repository)} | `{_short(r.commit)}` | {len(r.occurrences)} | "
            f"{_shown_percent(r.pinned_percent)} | {len(r.violations)} | "
            f"{_cell(_rules_text(r.by_rule()))} |"
        )
    lines.append(
        f"| **Total** | | **{report.references()}** | "
        f"**{_shown_percent(percent(report.pinned(), report.pinnable()))}** | "
        f"**{len(report.violations)}** | {_cell(_rules_text(report.by_rule()))} |"
    )
    images = report.images()
    if images:
        lines += ["", "### Top images", "", "| Image | Repositories | References | Tags |"]
        lines.append("|---|---|---|---|")
        for u in images[:TOP_IMAGES]:
            tags = ", ".join(f"`{t}`" for t in u.tags)
            lines.append(f"| `{u.image}` | {len(u.repositories)} | {u.references} | {tags} |")
        if len(images) > TOP_IMAGES:
            lines += ["", f"… and {len(images) - TOP_IMAGES} more images."]
    registries = report.registries()
    if registries:
        lines += ["", "### Registries", "", "| Registry | Repositories | References |"]
        lines.append("|---|---|---|")
        lines.extend(f"| `{u.registry}` | {u.repositories} | {u.references} |" for u in registries)
    violations = report.violations
    if violations:
        lines += ["", f"<details><summary>{len(violations)} violations</summary>", ""]
        for v in violations[:MARKDOWN_VIOLATIONS]:
            lines.append(f"- `{v.occurrence.location}` {v.rule.value}: {_cell(v.message)}")
        if len(violations) > MARKDOWN_VIOLATIONS:
            lines.append(f"- … and {len(violations) - MARKDOWN_VIOLATIONS} more")
        lines += ["", "</details>"]
    if report.lookup_errors:
        lines += ["", "Registry lookups that failed:", ""]
        lines.extend(f"- {_cell(e)}" for e in report.lookup_errors)
    lines += ["", f"<sub>{report.figures()}</sub>"]
    return "\n".join(lines) + "\n"


def render_sarif(report: AuditReport) -> str:
    """SARIF 2.1.0: each result's URI is `owner/name/path`, and each repository's commit is
    recorded under `versionControlProvenance`."""
    results = [
        sarif.result(
            v,
            f"{r.repository}/{v.occurrence.file}",
            {"repository": r.repository, "path": v.occurrence.file},
        )
        for r in report.repositories
        for v in r.violations
    ]
    provenance = [
        {
            "repositoryUri": r.url or r.repository,
            "revisionId": r.commit,
            "branch": r.branch,
            "properties": {"repository": r.repository},
        }
        for r in report.audited
        if r.commit is not None
    ]
    return sarif.document(results, provenance=provenance)


RENDERERS: Mapping[str, Callable[[AuditReport], str]] = {
    "text": render_text,
    "json": render_json,
    "csv": render_csv,
    "markdown": render_markdown,
    "sarif": render_sarif,
}


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
