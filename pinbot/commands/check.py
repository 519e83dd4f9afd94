"""`pinbot check`: report image references that break the policy; exit 1 on any."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from pinbot import sarif
from pinbot.commands._common import (
    add_config_argument,
    load_config_or_exit,
    scan_folder,
)
from pinbot.plan import Lookup
from pinbot.policy import RULE_TEXT, Violation, evaluate
from pinbot.report.escape import workflow_command
from pinbot.scanners import Occurrence

HELP = "Check image references under PATH against the policy (pinned, tagged, allowed registries)."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", nargs="?", default=".", type=Path, help="folder to check (default .)")
    parser.add_argument("--format", choices=("text", "json", "sarif", "github"), default="text")
    parser.add_argument(
        "--drift",
        action="store_true",
        help="also ask the registries whether pinned digests still match their tags",
    )
    add_config_argument(parser)


def render_github(violations: list[Violation]) -> str:
    """GitHub Actions workflow commands: one `::error` annotation per violation."""
    lines = []
    for v in violations:
        o = v.occurrence
        file = workflow_command(o.file, property_value=True)
        title = workflow_command(RULE_TEXT[v.rule], property_value=True)
        lines.append(
            f"::error file={file},line={o.line},col={o.column},title={title}::"
            + workflow_command(v.message)
        )
    return "\n".join(lines) + ("\n" if lines else "")


def render_sarif(violations: list[Violation]) -> str:
    """SARIF 2.1.0, for code scanning uploads."""
    return sarif.document(sarif.result(v, v.occurrence.file) for v in violations)


def render_json(violations: list[Violation]) -> str:
    return (
        json.dumps(
            [
                {
                    "file": v.occurrence.file,
                    "line": v.occurrence.line,
                    "column": v.occurrence.column,
                    "rule": v.rule.value,
                    "message": v.message,
                    "text": v.occurrence.text,
                    "reference": str(v.occurrence.reference) if v.occurrence.reference else None,
                }
                for v in violations
            ],
            indent=2,
        )
        + "\n"
    )


def render_text(violations: list[Violation]) -> str:
    return "".join(f"{v}\n" for v in violations)


RENDERERS = {"text": render_text, "json": render_json, "sarif": render_sarif, "github": render_github}


def run(args: argparse.Namespace) -> int:
    config = load_config_or_exit(args.config)
    scanned = scan_folder("check", args.path, config)
    lookups: dict[str, Lookup] | None = None
    if args.drift:
        # Imported here: only --drift needs an event loop and an HTTP client, and a plain
        # check (a pre-commit hook) starts faster without them.
        import asyncio

        from pinbot.pipeline import look_up_with_new_client

        pinned: list[Occurrence] = [
            o for o in scanned.occurrences if o.reference is not None and o.reference.digest
        ]
        lookups = asyncio.run(look_up_with_new_client(config, pinned, verify=False))
    violations = evaluate(scanned.occurrences, config.policy, lookups)
    sys.stdout.write(RENDERERS[args.format](violations))
    if args.format == "text":
        print(
            f"{len(violations)} violations in {len(scanned.occurrences)} references",
            file=sys.stderr,
        )
    return 1 if violations else 0
