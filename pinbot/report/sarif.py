"""SARIF 2.1.0 for code scanning: `check` findings (one tree) and `audit` violations (many
repositories)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

from pinbot import __version__
from pinbot.audit import AuditReport
from pinbot.report.interface import RULES, Finding

#: The base the results' relative URIs resolve against, as code scanning expects.
SRCROOT = "%SRCROOT%"


def _uri(path: str) -> str:
    """A path as a relative URI reference: `%`, spaces, `#`, `?` and the like encoded."""
    return quote(path, safe="/")


def result(
    finding: Finding,
    path: str | None = None,
    properties: Mapping[str, str] | None = None,
    *,
    base: str | None = None,
) -> dict[str, Any]:
    """One SARIF result for `finding`, located at `path` (default: the finding's file),
    relative to the base URI id `base` when given."""
    artifact: dict[str, Any] = {"uri": _uri(path or finding.file or "")}
    if base is not None:
        artifact["uriBaseId"] = base
    location: dict[str, Any] = {"artifactLocation": artifact}
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
    results: Iterable[dict[str, Any]],
    *,
    provenance: list[dict[str, Any]] | None = None,
    root: Path | None = None,
) -> str:
    """The whole SARIF log: pinbot as the tool, every rule described, then the results;
    with `root`, where `%SRCROOT%` is on this machine."""
    rules = [{"id": rule, "shortDescription": {"text": text}} for rule, text in RULES.items()]
    run: dict[str, Any] = {
        "tool": {"driver": {"name": "pinbot", "version": __version__, "rules": rules}}
    }
    if root is not None:
        run["originalUriBaseIds"] = {SRCROOT: {"uri": root.as_uri().rstrip("/") + "/"}}
    if provenance is not None:
        run["versionControlProvenance"] = provenance
    run["results"] = list(results)
    log = {
        "version": "2.1.0",
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "runs": [run],
    }
    return json.dumps(log, indent=2) + "\n"


def findings(found: Sequence[Finding], root: Path | None = None) -> str:
    """`check`: one result per finding, its file relative to `%SRCROOT%` (`root`)."""
    return document((result(f, base=SRCROOT) for f in found), root=root)


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
