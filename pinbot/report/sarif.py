"""SARIF 2.1.0 for code scanning: `check` findings (one tree) and `audit` violations (many
repositories)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from pinbot import __version__
from pinbot.audit import AuditReport
from pinbot.report.interface import RULES, Finding


def result(
    finding: Finding, uri: str | None = None, properties: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """One SARIF result for `finding`, located at `uri` (default: the finding's file)."""
    location: dict[str, Any] = {"artifactLocation": {"uri": uri or finding.file or ""}}
    if finding.line is not None:
        region: dict[str, int] = {"startLine": finding.line}
        if finding.column is not None:
            region["startColumn"] = finding.column
        if finding.end_column is not None:
            region["endColumn"] = finding.end_column
        location["region"] = region
    entry: dict[str, Any] = {
        "ruleId": finding.rule,
        "level": "error",
        "message": {"text": finding.message},
        "locations": [{"physicalLocation": location}],
    }
    if properties:
        entry["properties"] = dict(properties)
    return entry


def document(
    results: Iterable[dict[str, Any]], *, provenance: list[dict[str, Any]] | None = None
) -> str:
    """The whole SARIF log: pinbot as the tool, every rule described, then the results."""
    rules = [{"id": rule, "shortDescription": {"text": text}} for rule, text in RULES.items()]
    run: dict[str, Any] = {
        "tool": {"driver": {"name": "pinbot", "version": __version__, "rules": rules}}
    }
    if provenance is not None:
        run["versionControlProvenance"] = provenance
    run["results"] = list(results)
    log = {
        "version": "2.1.0",
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "runs": [run],
    }
    return json.dumps(log, indent=2) + "\n"


def findings(found: Sequence[Finding]) -> str:
    """`check`: one result per finding."""
    return document(result(f) for f in found)


def audit(report: AuditReport) -> str:
    """`audit`: each result's URI is `owner/name/path`, and each repository's commit is
    recorded under `versionControlProvenance`."""
    results = [
        result(
            Finding.from_violation(v),
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
    return document(results, provenance=provenance)
