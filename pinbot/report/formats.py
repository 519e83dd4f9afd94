"""The output formats each command offers, by the name `--format` takes.

Adding a format: a module beside `text.py` with a function per command it serves, then one
entry in the tables below.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from pinbot.audit import AuditReport
from pinbot.report import csv, github, json, markdown, sarif, text
from pinbot.report.interface import CheckRenderer
from pinbot.scanners import Occurrence

SCAN: Mapping[str, Callable[[Sequence[Occurrence]], str]] = {
    "text": text.occurrences,
    "json": json.occurrences,
}

CHECK: Mapping[str, CheckRenderer] = {
    "text": text.findings,
    "json": json.findings,
    "sarif": sarif.findings,
    "github": github.findings,
}

AUDIT: Mapping[str, Callable[[AuditReport], str]] = {
    "text": text.audit,
    "json": json.audit,
    "csv": csv.audit,
    "markdown": markdown.audit,
    "sarif": sarif.audit,
}
