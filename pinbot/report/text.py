"""Plain text: one line per record, for people at a terminal and for `grep`.

`scan` lists occurrences, `check` its findings, `audit` a summary then its violations. Every
string from a repository or a registry goes through `escape.terminal`: a file name holding a
line break stays on its line, and no line can start a workflow command.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from pinbot.report.escape import terminal
from pinbot.scanners import Occurrence

if TYPE_CHECKING:  # `scan` writes text without loading the audit and policy modules
    from pinbot.audit import AuditReport
    from pinbot.report.interface import Finding

#: How many images the audit summary shows before "and N more".
TOP_IMAGES = 10


def occurrences(found: Sequence[Occurrence]) -> str:
    """`scan`: `file:line:column<TAB>kind<TAB>status<TAB>text  (note)`, one per occurrence."""
    lines = []
    for o in found:
        note = f"  ({terminal(o.note)})" if o.note else ""
        fields = (o.location, o.kind, o.status.value, o.text)
        lines.append("\t".join(terminal(field) for field in fields) + f"{note}\n")
    return "".join(lines)


def scan_summary(found: Sequence[Occurrence], files: int) -> str:
    """`scan`'s closing line (stderr): references, files, and how many of each status."""
    return scan_summary_of(Counter(o.status.value for o in found), files)


def scan_summary_of(statuses: Counter[str], files: int) -> str:
    """`scan_summary` from the count of references of each status (a streamed scan keeps
    only those)."""
    summary = ", ".join(f"{n} {status}" for status, n in sorted(statuses.items()))
    total = sum(statuses.values())
    return f"{total} references in {files} files" + (f": {summary}" if summary else "") + "\n"


def findings(found: Sequence[Finding], root: Path | None = None) -> str:
    """`check`: `file:line:column: rule: message`, one per finding (files already named
    from `root`)."""
    return "".join(f"{terminal(f.location)}: {f.rule}: {terminal(f.message)}\n" for f in found)


def audit(report: AuditReport) -> str:
    """The summary, then one line per violation (`owner/name/path:line:column: rule: …`)."""
    lines = _audit_summary(report)
    violations = report.violations
    if violations:
        lines.append("violations:")
        lines.extend(terminal(str(v)) for v in violations)
    return "\n".join(lines) + "\n"


def _audit_summary(report: AuditReport) -> list[str]:
    from pinbot.audit import rules_in_brackets, short_commit, shown_percent

    lines = [f"pinbot audit: {report.headline()}; {report.figures()}"]
    names = {r.repository: terminal(r.repository) for r in report.repositories}
    width = max(map(len, names.values()), default=0)
    for r in report.repositories:
        name = names[r.repository].ljust(width)
        if r.failure is not None:
            lines.append(f"  {name}  could not be read: {terminal(r.failure)}")
            continue
        where = terminal(f"{r.branch}@{short_commit(r.commit)}")
        lines.append(
            f"  {name}  {where}  {len(r.occurrences)} references, "
            f"{shown_percent(r.pinned_percent)} pinned, {len(r.violations)} violations"
            f"{rules_in_brackets(r.by_rule())}"
        )
        lines.extend(f"    warning: {terminal(w)}" for w in r.warnings)
    images = report.images()
    if images:
        lines.append("top images (repositories, references, tags):")
        for u in images[:TOP_IMAGES]:
            tags = terminal(", ".join(u.tags) or "no tag")
            image = terminal(u.image)
            lines.append(f"  {len(u.repositories):>4} {u.references:>5}  {image}  ({tags})")
        if len(images) > TOP_IMAGES:
            lines.append(f"  … and {len(images) - TOP_IMAGES} more images")
    registries = report.registries()
    if registries:
        lines.append("registries (repositories, references):")
        lines.extend(
            f"  {u.repositories:>4} {u.references:>5}  {terminal(u.registry)}" for u in registries
        )
    if report.skipped:
        lines.append(f"left out by the filter: {len(report.skipped)} ({_skip_reasons(report)})")
    lines.extend(f"lookup problem: {terminal(e)}" for e in report.lookup_errors)
    return lines


def _skip_reasons(report: AuditReport) -> str:
    counts = Counter(report.skipped.values())
    return ", ".join(f"{why} {n}" for why, n in sorted(counts.items()))

