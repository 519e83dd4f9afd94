"""`pinbot pin`: resolve every image reference under a folder and pin it in place."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import stat
import sys
from datetime import UTC, datetime

from pinbot.apply import FileChange
from pinbot.commands._common import (
    add_file_arguments,
    add_state_argument,
    load_config_or_exit,
    scan_folder,
    trust_policies_or_exit,
)
from pinbot.config import Config
from pinbot.config._values import format_duration
from pinbot.errors import Problem, ProblemKind
from pinbot.files import Placements, WriteRefused, place, write_if_unchanged
from pinbot.pipeline import Outcome, Settling, look_up, min_age_in_force, plan_and_apply
from pinbot.plan import Action, NoticeKind
from pinbot.registry import RegistryClient
from pinbot.report.escape import terminal, workflow_commands_stopped
from pinbot.scanners import Occurrence
from pinbot.settle import SettleState
from pinbot.settle_store import SettleMemory, StateFileError, default_state_path
from pinbot.supplychain.gate import TrustPolicy
from pinbot.supplychain.reader import SupplyChainReader
from pinbot.supplychain.stage import HeldDigest, TrustGate

HELP = "Resolve each image tag in the files and folders given to its digest and pin the references in place."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_file_arguments(
        parser,
        "pin",
        ("text", "json"),
        format_help="json: one object on stdout listing every edit, note and error "
        "(instead of a diff)",
    )
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--dry-run", action="store_true", help="print a unified diff, write nothing")
    mode.add_argument(
        "--check", action="store_true", help="write nothing; exit 1 when something would change"
    )
    add_state_argument(
        parser,
        default="$XDG_CACHE_HOME/pinbot/settle-state.json",
        note="; read and written only with a min-age",
    )


def _summary(
    changes: list[FileChange],
    unchanged: int,
    notices: int,
    errors: int,
    waiting: int = 0,
    held: int = 0,
) -> str:
    edits = [edit for change in changes for edit in change.edits]
    pins = sum(1 for edit in edits if edit.action is Action.PIN)
    bumps = len(edits) - pins
    held_part = f"; {held} held back by verify" if held else ""
    waits = f"; {waiting} waiting for min-age" if waiting else ""
    return (
        f"{pins} pinned, {bumps} bumped in {len(changes)} files{held_part}; "
        f"{unchanged} already current; {notices} notes; {errors} errors{waits}"
    )


def _resolve(
    config: Config,
    contents: dict[str, bytes],
    occurrences: list[Occurrence],
    policies: tuple[TrustPolicy, ...],
    memory: SettleMemory | None,
    now: datetime,
) -> tuple[Outcome, list[str], SettleState | None]:
    """Look up (with when each tag's digest counts from, under a min-age), plan, hold back
    what fails the trust gate, apply; one line per registry that reported a pull quota; and
    the settle state to keep. One client on one event loop serves lookups and the gate."""
    settling = None
    if memory is not None:
        settling = Settling(memory.state, now, lambda occurrence: config)
    with asyncio.Runner() as runner:
        client = RegistryClient(config)
        runner.run(client.__aenter__())
        try:
            lookups = runner.run(
                look_up(client, occurrences, config.pin, rules=config.rules, settling=settling)
            )
            gate = TrustGate(SupplyChainReader(client), policies)
            outcome = plan_and_apply(
                contents,
                occurrences,
                lookups,
                config,
                now=now,
                screen=lambda edits: runner.run(gate.screen(edits)),
            )
            seen = settling.seen if settling else None
            return outcome, client.stats.quota_report(), seen
        finally:
            runner.run(client.__aexit__(None, None, None))


def _memory(args: argparse.Namespace, config: Config) -> SettleMemory | None:
    """The settle state, when a min-age is in force; exit 2 when it could not be kept."""
    if not min_age_in_force([config]):
        return None
    try:
        memory = SettleMemory.open(args.state or default_state_path())
    except StateFileError as exc:
        print(f"pinbot pin: --state: {terminal(str(exc))}", file=sys.stderr)
        raise SystemExit(2) from exc
    if memory.unusable is not None:
        print(
            f"warning: {terminal(memory.unusable)}; not used: every new digest waits a whole "
            "min-age window again",
            file=sys.stderr,
        )
    return memory


def _keep(memory: SettleMemory | None, seen: SettleState | None) -> list[Problem]:
    if memory is None or seen is None:
        return []
    try:
        memory.keep(seen)
    except StateFileError as exc:
        return [Problem(ProblemKind.WRITE_REFUSED, f"settle state not kept: {exc}")]
    return []


def held_json(held: HeldDigest) -> dict[str, object]:
    """A digest the trust gate held back, as `--format json` lists it."""
    edit = held.edit
    return {
        "file": held.occurrence.file,
        "line": held.occurrence.line,
        "column": held.occurrence.column,
        "rule": held.rule.value,
        "reason": held.reason,
        "image": edit.image if edit else None,
        "tag": edit.tag if edit else None,
        "old_digest": edit.old_digest if edit else None,
        "new_digest": held.digest,
        "text": held.occurrence.text,
    }


def report(
    outcome: Outcome,
    changes: list[FileChange],
    problems: list[Problem],
    *,
    written: bool,
    quota: list[str],
) -> dict[str, object]:
    """What `--format json` prints: every edit (of `changes`), note and error of the run."""
    return {
        "written": written,
        "edits": [
            {
                "file": edit.file,
                "line": edit.occurrence.line,
                "column": edit.occurrence.column,
                "action": edit.action.value,
                "image": edit.image,
                "tag": edit.tag,
                "old_digest": edit.old_digest,
                "new_digest": edit.new_digest,
                "text": edit.occurrence.text,
                "replacement": edit.replacement,
                "platform": edit.platform,
                "notes": list(edit.notes),
            }
            for change in changes
            for edit in change.edits
        ],
        "notes": [
            {
                "file": notice.occurrence.file,
                "line": notice.occurrence.line,
                "column": notice.occurrence.column,
                "kind": notice.kind.value,
                "text": notice.occurrence.text,
                "message": notice.message,
            }
            for notice in outcome.plan.notices
        ],
        "held_back": [held_json(held) for held in outcome.held],
        "errors": [problem.to_json() for problem in problems],
        "unchanged": outcome.plan.unchanged,
        "waiting": [
            {
                "file": waiting.occurrence.file,
                "line": waiting.occurrence.line,
                "column": waiting.occurrence.column,
                "text": waiting.occurrence.text,
                "old_digest": _digest_of(waiting.occurrence),
                "new_digest": waiting.digest,
                "until": waiting.until.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "min_age": format_duration(waiting.min_age),
            }
            for waiting in outcome.plan.waiting
        ],
        "quota": quota,
    }


def _digest_of(occurrence: Occurrence) -> str | None:
    return occurrence.reference.digest if occurrence.reference is not None else None


def write(
    changes: list[FileChange], placements: Placements, scanned: dict[str, bytes]
) -> tuple[list[FileChange], list[Problem]]:
    """Write each change over the file it was scanned from; the written ones, and the refused."""
    written: list[FileChange] = []
    refused: list[Problem] = []
    for change in changes:
        target = placements.targets[change.path]
        try:
            write_if_unchanged(change.path, target, scanned[change.path], change.updated)
        except WriteRefused as exc:
            refused.append(exc.problem())
            continue
        written.append(change)
    return written, refused


def run(args: argparse.Namespace) -> int:
    config = load_config_or_exit(args.config)
    policies = trust_policies_or_exit(config)
    scanned = scan_folder("pin", args.path, config, warn=False)
    root = scanned.root
    # A link is pinned through the file it leads to, once; a link out of the tree is not.
    placements = place(root, scanned.contents, config.scan.ignore_paths)
    occurrences = [o for o in scanned.occurrences if o.file in placements.targets]
    memory, now = _memory(args, config), datetime.now(UTC)
    outcome, quota_lines, seen = _resolve(
        config, scanned.contents, occurrences, policies, memory, now
    )
    # A file that could not be read, decoded or parsed is not pinned, and that is a failure.
    problems = [p for p in scanned.errors if p.fails]
    for warning in (p for p in scanned.errors if not p.fails):
        print(f"warning: {terminal(str(warning))}", file=sys.stderr)
    problems += [*placements.refused, *outcome.problems, *_keep(memory, seen)]
    failed_lookups = [n for n in outcome.plan.notices if n.kind is NoticeKind.LOOKUP_FAILED]

    for notice in outcome.plan.notices:
        print(f"note: {terminal(str(notice))}", file=sys.stderr)
    for waiting in outcome.plan.waiting:  # not a failure: proposed once it has settled
        print(f"waiting: {terminal(str(waiting))}", file=sys.stderr)
    for held in outcome.held:  # a finding: the digest is not written, and the exit says so
        print(f"held back: {held.rule}: {terminal(str(held.problem()))}", file=sys.stderr)

    writing = not (args.dry_run or args.check)
    changes = outcome.changes
    if writing:
        changes, refused = write(changes, placements, scanned.contents)
        problems += refused
    for problem in problems:
        print(f"error: {terminal(str(problem))}", file=sys.stderr)
    if args.format == "json":
        shown = report(outcome, changes, problems, written=writing, quota=quota_lines)
        json.dump(shown, sys.stdout, indent=2)
        sys.stdout.write("\n")
    elif not writing:
        diff = "".join(change.diff() for change in changes)
        # The diff shows the files' own lines, which a workflow log would run as commands.
        sys.stdout.write(workflow_commands_stopped(diff) if diff and _to_workflow_log() else diff)
    counts = (outcome.plan.unchanged, len(outcome.plan.notices), len(problems))
    print(
        _summary(changes, *counts, len(outcome.plan.waiting), len(outcome.held)),
        file=sys.stderr,
    )
    for line in quota_lines:
        print(terminal(line), file=sys.stderr)
    if args.check and changes:
        return 1
    return 1 if problems or failed_lookups or outcome.held else 0


def _to_workflow_log() -> bool:
    """Whether stdout goes to a GitHub Actions log: in a workflow, and not into a file."""
    if os.environ.get("GITHUB_ACTIONS") != "true":
        return False
    try:
        return not stat.S_ISREG(os.fstat(sys.stdout.fileno()).st_mode)
    except (OSError, ValueError):  # not a real file: whatever reads it is no file on disk
        return True
