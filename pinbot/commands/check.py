"""`pinbot check`: report image references that break the policy; exit 1 on any.

What could not be checked is a finding too (`lookup-failed`, `unreadable-file`): the gate
fails closed, never green on a reference it did not see or could not ask about. With
`--drift`, a pinned digest that fails the `verify:` entry matching its image is a finding
(`unsigned`, `signature-invalid`, `provenance-mismatch`).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pinbot.commands._common import (
    add_file_arguments,
    load_config_or_exit,
    scan_folder,
    scan_root,
    trust_policies_or_exit,
)
from pinbot.errors import Problem
from pinbot.plan import Lookup
from pinbot.policy import Violation, evaluate, unchecked
from pinbot.report import formats
from pinbot.report.escape import terminal
from pinbot.report.interface import Finding
from pinbot.report.location import locate
from pinbot.scanners import Occurrence

HELP = "Check the image references in the files and folders given against the policy (pinned, tagged, allowed registries)."


SWITCHES = {"--drift": "also ask the registries whether pinned digests still match their tags"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_file_arguments(parser, "check", formats.CHECK, switches=SWITCHES)


def run(args: argparse.Namespace) -> int:
    config = load_config_or_exit(args.config)
    scanned = scan_folder("check", args.path, config, warn=False)
    lookups: dict[str, Lookup] | None = None
    # A file that could not be read, decoded or parsed may hide any reference: a finding.
    problems: list[Problem] = [p for p in scanned.errors if p.fails]
    for warning in (p for p in scanned.errors if not p.fails):
        print(f"warning: {terminal(str(warning))}", file=sys.stderr)
    untrusted: list[Violation] = []
    if args.drift:
        # Imported here: only --drift needs an event loop and an HTTP client, and a plain
        # check (a pre-commit hook) starts faster without them.
        import asyncio

        from pinbot.supplychain.stage import check_drift

        policies = trust_policies_or_exit(config)
        pinned: list[Occurrence] = [
            o
            for o in scanned.occurrences
            if o.reference is not None and o.reference.digest and not o.built_here
        ]
        drift = asyncio.run(check_drift(config, pinned, policies))
        lookups = drift.lookups
        problems += unchecked(pinned, lookups)
        untrusted = [found.violation() for found in drift.held]
    violations = [*evaluate(scanned.occurrences, config.policy, lookups), *untrusted]
    # Every format names files from the repository root, where CI tools look for them.
    where = locate(scan_root(args.path or [Path(".")]))
    findings = sorted(
        [*map(Finding.from_violation, violations), *map(Finding.from_problem, problems)],
        key=_file_order,
    )
    findings = [finding.under(where.prefix) for finding in findings]
    sys.stdout.write(formats.CHECK[args.format](findings, where.root))
    if args.format == "text":
        unchecked_part = f"; {len(problems)} could not be checked" if problems else ""
        print(
            f"{len(violations)} violations in {len(scanned.occurrences)} references{unchecked_part}",
            file=sys.stderr,
        )
    return 1 if findings else 0


def _file_order(finding: Finding) -> tuple[str, int, int]:
    """Findings by file, line and column; a file's own problem (no line) first."""
    return (finding.file or "", finding.line or 0, finding.column or 0)
