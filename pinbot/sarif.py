"""SARIF 2.1.0 for policy violations, shared by `check` (one folder) and `audit` (many
repositories), for code-scanning uploads."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from pinbot import __version__
from pinbot.policy import RULE_TEXT, Rule, Violation


def result(violation: Violation, uri: str, properties: Mapping[str, str] | None = None) -> dict[str, Any]:
    """One SARIF result for `violation`, located at `uri` (a path, or `owner/name/path`)."""
    o = violation.occurrence
    entry: dict[str, Any] = {
        "ruleId": violation.rule.value,
        "level": "error",
        "message": {"text": violation.message},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": {"uri": uri},
                    "region": {
                        "startLine": o.line,
                        "startColumn": o.column,
                        "endColumn": o.column + len(o.text),
                    },
                }
            }
        ],
    }
    if properties:
        entry["properties"] = dict(properties)
    return entry


def document(
    results: Iterable[dict[str, Any]], *, provenance: list[dict[str, Any]] | None = None
) -> str:
    """The whole SARIF log: pinbot as the tool, every rule described, then the results."""
    rules = [{"id": rule.value, "shortDescription": {"text": RULE_TEXT[rule]}} for rule in Rule]
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
