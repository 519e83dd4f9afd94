"""CSV: `audit`'s inventory, one row per occurrence, safe to open in a spreadsheet."""

from __future__ import annotations

import csv
import io

from pinbot.audit import AuditReport, inventory

#: Columns of `--format csv`, one row per occurrence.
COLUMNS = (
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

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def inert(value: object) -> object:
    """Text from repositories, made inert for spreadsheets: a leading `=`, `+`, `-` or `@`
    would otherwise be read as a formula."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def audit(report: AuditReport) -> str:
    """The inventory, one row per occurrence; a row's violations are `;`-separated rules."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in inventory(report):
        rules = row["violations"]
        assert isinstance(rules, list)
        cells = {**row, "violations": ";".join(rules)}
        writer.writerow({key: inert(value) for key, value in cells.items()})
    return out.getvalue()
