"""Markdown (GitHub-flavoured): `audit`'s report for `$GITHUB_STEP_SUMMARY` or an issue.

Every string from a repository or a registry goes through `pinbot.report.escape`: names and
locations as code spans, messages as literal text, so none of it becomes markup.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from pinbot.audit import (
    AuditedRepository,
    AuditReport,
    percent,
    rules_text,
    short_commit,
    shown_percent,
)
from pinbot.report.escape import code, code_cell, text
from pinbot.report.text import TOP_IMAGES

#: How many violations the Markdown report lists before "and N more".
MARKDOWN_VIOLATIONS = 200


def _repository_row(r: AuditedRepository) -> str:
    if r.failure is not None:
        return f"| {code_cell(r.repository)} | | | | | could not be read: {text(r.failure)} |"
    return (
        f"| {code_cell(r.repository)} | {code_cell(short_commit(r.commit))} | "
        f"{len(r.occurrences)} | {shown_percent(r.pinned_percent)} | {len(r.violations)} | "
        f"{rules_text(r.by_rule())} |"
    )


def _table(columns: Sequence[str], rows: Iterable[str]) -> list[str]:
    """A table's header, its alignment row, and `rows` (already written as table rows)."""
    return [f"| {' | '.join(columns)} |", "|" + "---|" * len(columns), *rows]


def _repositories(report: AuditReport) -> list[str]:
    columns = ("Repository", "Commit", "References", "Pinned", "Violations", "By rule")
    total = (
        f"| **Total** | | **{report.references()}** | "
        f"**{shown_percent(percent(report.pinned(), report.pinnable()))}** | "
        f"**{len(report.violations)}** | {rules_text(report.by_rule())} |"
    )
    return _table(columns, [*map(_repository_row, report.repositories), total])


def _images(report: AuditReport) -> list[str]:
    images = report.images()
    if not images:
        return []
    rows = (
        f"| {code_cell(u.image)} | {len(u.repositories)} | {u.references} | "
        f"{', '.join(code_cell(t) for t in u.tags)} |"
        for u in images[:TOP_IMAGES]
    )
    table = _table(("Image", "Repositories", "References", "Tags"), rows)
    lines = ["", "### Top images", "", *table]
    if len(images) > TOP_IMAGES:
        lines += ["", f"… and {len(images) - TOP_IMAGES} more images."]
    return lines


def _registries(report: AuditReport) -> list[str]:
    registries = report.registries()
    if not registries:
        return []
    rows = (f"| {code_cell(u.registry)} | {u.repositories} | {u.references} |" for u in registries)
    return ["", "### Registries", "", *_table(("Registry", "Repositories", "References"), rows)]


def _violations(report: AuditReport) -> list[str]:
    violations = report.violations
    if not violations:
        return []
    lines = ["", f"<details><summary>{len(violations)} violations</summary>", ""]
    for v in violations[:MARKDOWN_VIOLATIONS]:
        lines.append(f"- {code(v.occurrence.location)} {v.rule.value}: {text(v.message)}")
    if len(violations) > MARKDOWN_VIOLATIONS:
        lines.append(f"- … and {len(violations) - MARKDOWN_VIOLATIONS} more")
    return [*lines, "", "</details>"]


def audit(report: AuditReport) -> str:
    """A report for `$GITHUB_STEP_SUMMARY` or an issue: tables, then the violations."""
    lines = ["## pinbot audit", "", text(report.headline() + "."), "", *_repositories(report)]
    lines += _images(report) + _registries(report) + _violations(report)
    if report.lookup_errors:
        lines += ["", "Registry lookups that failed:", ""]
        lines.extend(f"- {text(e)}" for e in report.lookup_errors)
    lines += ["", f"<sub>{text(report.figures())}</sub>"]
    return "\n".join(lines) + "\n"
