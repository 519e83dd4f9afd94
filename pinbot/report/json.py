"""JSON: the machine-readable form of every command's output, with stable keys.

Keys are the same whatever was found, so a consumer never has to guess which exist.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from pinbot.scanners import Occurrence

_encode_string = json.encoder.encode_basestring_ascii

if TYPE_CHECKING:  # `scan` writes JSON without loading the audit and policy modules
    from pinbot.audit import AuditedRepository, AuditReport
    from pinbot.policy import Rule, Violation
    from pinbot.report.interface import Finding


def _dump(document: object) -> str:
    return json.dumps(document, indent=2) + "\n"


def streamed(records: Iterable[object]) -> Iterator[str]:
    """The text `_dump(list(records))` gives, in pieces, a record at a time: a list as long as
    a tree has references is written as they are found, never held whole."""
    opening = "[\n  "
    for record in records:
        yield opening + _indented(record, "\n  ")
        opening = ",\n  "
    yield "[]\n" if opening == "[\n  " else "\n]\n"


# What `json.dumps(..., indent=2)` writes for these, as its encoder writes them.
_CONSTANTS: dict[object, str] = {True: "true", False: "false", None: "null"}


def _indented(value: object, newline: str) -> str:
    """`json.dumps(value, indent=2)` with every line break followed by the indentation in
    `newline`: the text the standard encoder gives, without its pure-Python indenting pass,
    a tenth of a scan's output time. Strings and ints are encoded by the same functions it
    uses; any other value (a float, a key that is not a string) goes to it."""
    if isinstance(value, str):
        return _encode_string(value)
    if value is None or isinstance(value, bool):
        return _CONSTANTS[value]
    if type(value) is int:
        return int.__repr__(value)
    inner = newline + "  "
    if isinstance(value, dict) and all(type(key) is str for key in value):
        if not value:
            return "{}"
        items = [f"{_encode_string(k)}: {_indented(v, inner)}" for k, v in value.items()]
        return "{" + inner + ("," + inner).join(items) + newline + "}"
    if isinstance(value, list | tuple):
        if not value:
            return "[]"
        return "[" + inner + ("," + inner).join(_indented(v, inner) for v in value) + newline + "]"
    # json.dumps escapes line breaks inside strings: each one here is the layout's.
    return json.dumps(value, indent=2).replace("\n", newline)


def occurrences(found: Sequence[Occurrence]) -> str:
    """`scan`: every occurrence with its span, status and parsed reference."""
    return _dump([o.to_json() for o in found])


def findings(found: Sequence[Finding], root: Path | None = None) -> str:
    """`check`: one object per finding (files already named from `root`)."""
    return _dump(
        [
            {
                "file": f.file,
                "line": f.line,
                "column": f.column,
                "rule": f.rule,
                "message": f.message,
                "text": f.text,
                "reference": f.reference,
            }
            for f in found
        ]
    )


def _rules(counts: Counter[Rule]) -> dict[str, int]:
    from pinbot.policy import Rule

    # Every rule, zero or not, so the keys do not depend on what was found.
    return {rule.value: counts[rule] for rule in Rule}


def _violation(repository: str, v: Violation) -> dict[str, object]:
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


def _repository(r: AuditedRepository) -> dict[str, object]:
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
        "violations_by_rule": _rules(r.by_rule()),
        "warnings": list(r.warnings),
        "error": r.failure,
    }


def _audit_summary(report: AuditReport) -> dict[str, object]:
    from pinbot.audit import percent

    return {
        "repositories": len(report.repositories),
        "audited": len(report.audited),
        "failed": len(report.failures),
        "references": report.references(),
        "pinned": report.pinned(),
        "pinnable": report.pinnable(),
        "pinned_percent": percent(report.pinned(), report.pinnable()),
        "violations": len(report.violations),
        "violations_by_rule": _rules(report.by_rule()),
        "images": len(report.images()),
        "registries": [u.registry for u in report.registries()],
        "drift": report.drift,
    }


def audit(report: AuditReport) -> str:
    """`audit`: everything, with the same keys whatever was found."""
    from pinbot.audit import inventory

    return _dump(
        {
            "summary": _audit_summary(report),
            "repositories": [_repository(r) for r in report.repositories],
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
                for u in report.registries()
            ],
            "inventory": inventory(report),
            "violations": [
                _violation(r.repository, v) for r in report.repositories for v in r.violations
            ],
            "skipped": dict(sorted(report.skipped.items())),
            "lookup_errors": list(report.lookup_errors),
            "run": {
                "github_calls": report.github_calls,
                "registry_requests": report.registry_requests,
                "seconds": round(report.seconds, 3),
            },
        }
    )
