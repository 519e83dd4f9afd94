"""GitHub Actions workflow commands: one `::error` annotation per `check` finding.

File names and messages are escaped as the runner decodes them (`escape.workflow_command`),
so no outside string can end an annotation early or start another command.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from pinbot.report.escape import workflow_command
from pinbot.report.interface import Finding


def annotation(finding: Finding) -> str:
    """`::error file=…,line=…,col=…,title=…::message` for one finding."""
    properties = []
    if finding.file is not None:
        properties.append("file=" + workflow_command(finding.file, property_value=True))
    if finding.line is not None:
        properties.append(f"line={finding.line}")
        if finding.column is not None:
            properties.append(f"col={finding.column}")
    properties.append("title=" + workflow_command(finding.title, property_value=True))
    return f"::error {','.join(properties)}::{workflow_command(finding.message)}"


def findings(found: Sequence[Finding], root: Path | None = None) -> str:
    """One annotation per finding (files already named from `root`, the checkout)."""
    return "".join(annotation(f) + "\n" for f in found)
