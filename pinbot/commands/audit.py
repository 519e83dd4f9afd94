"""`pinbot audit`: an organisation's image inventory and policy report, read-only.

Reads each chosen repository's default branch the way `pinbot run` does (one ref, one tree,
candidate blobs), scans it, and with `--drift` asks the registries once per unique tag for
the whole run. Nothing is ever written to GitHub.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from github import GithubException

from pinbot.audit import (
    AuditedRepository,
    AuditReport,
    audit_repository,
    lookup_problems,
)
from pinbot.bot import ScannedRepository, scan_snapshot
from pinbot.commands._common import (
    add_config_argument,
    load_config_or_exit,
    trust_policies_or_exit,
)
from pinbot.commands._github import (
    add_cache_argument,
    add_repository_arguments,
    choose_repositories,
    github_credentials,
    installation_owner,
    response_cache,
)
from pinbot.config import Config
from pinbot.forge.github import Credentials, ForgeError, GitHubForge, Pacing, connect
from pinbot.plan import Lookup
from pinbot.policy import Violation, unchecked
from pinbot.progress import Progress, plural
from pinbot.report.escape import terminal
from pinbot.report.formats import AUDIT as RENDERERS
from pinbot.scanners import Occurrence
from pinbot.supplychain.stage import DriftCheck, HeldDigest, check_drift, trust_policies

if TYPE_CHECKING:
    from github.Repository import Repository

HELP = "Inventory the image references of GitHub repositories and report policy violations."

#: Exit statuses: a violation was found; bad arguments or config; a repository was not read.
VIOLATIONS = 1
USAGE = 2
UNREADABLE = 3

#: What narrows `--org`: each is refused without it.
ORG_FILTERS = ("include", "exclude", "topic", "include_archived", "include_forks")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_repository_arguments(parser, shard_purpose="as `pinbot run` does")
    parser.add_argument(
        "--drift",
        action="store_true",
        help="also ask the registries whether pinned digests still match their tags and exist",
    )
    parser.add_argument(
        "--format",
        choices=tuple(RENDERERS),
        default="text",
        help="text (summary and violations), json (everything), csv (inventory rows), "
        "markdown (for $GITHUB_STEP_SUMMARY or an issue), sarif (violations)",
    )
    add_cache_argument(
        parser,
        help_text="keep GitHub answers here between runs (unchanged reads are answered 304)",
    )
    parser.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        help="no progress on stderr (by default one line per repository as it is read)",
    )
    add_config_argument(parser)


def _check_pinned(config: Config, occurrences: Sequence[Occurrence]) -> DriftCheck:
    """Lookups for the pinned references (tags resolved, nothing fetched to verify), the
    pinned digests that fail their `verify:` entry, and the registry requests it all took."""
    pinned = [o for o in occurrences if o.reference is not None and o.reference.digest]
    return asyncio.run(check_drift(config, pinned, trust_policies(config.verify)))


def _untrusted(
    scanned: Sequence[ScannedRepository], held: Sequence[HeldDigest]
) -> dict[str, list[Violation]]:
    """The pins that failed their `verify:` entry, as violations by repository."""
    owner = {id(o): s.name for s in scanned for o in s.occurrences}
    found: dict[str, list[Violation]] = {}
    for digest in held:
        found.setdefault(owner[id(digest.occurrence)], []).append(digest.violation())
    return found


def _read(
    forge: GitHubForge, name: str, repo: Repository | None, config: Config
) -> ScannedRepository | AuditedRepository:
    """The repository scanned, or its failure: one repository must not stop the audit."""
    try:
        repo = repo or forge.repository(name)
        return scan_snapshot(repo, forge.snapshot(repo, config.scan.ignore_paths), config)
    except ForgeError as exc:
        return AuditedRepository(name, failure=str(exc))
    except GithubException as exc:
        return AuditedRepository(name, failure=f"{name}: HTTP {exc.status}")
    except Exception as exc:
        return AuditedRepository(name, failure=f"{name}: unexpected {type(exc).__name__}: {exc}")


def _read_line(name: str, scanned: ScannedRepository, calls: int) -> str:
    files = len(scanned.snapshot.files)
    return (
        f"{name}: {plural(len(scanned.occurrences), 'reference')} in {plural(files, 'file')}, "
        f"{plural(calls, 'GitHub call')}"
    )


def _failed_line(failed: AuditedRepository) -> str:
    reason = failed.failure or ""
    name = failed.repository
    return f"{name}: not read: {reason.removeprefix(f'{name}: ')}"


def _read_each(
    forge: GitHubForge,
    chosen: Iterable[tuple[str, Repository | None]],
    config: Config,
    progress: Progress,
) -> Iterator[ScannedRepository | AuditedRepository]:
    """Each chosen repository, scanned or with why it could not be read; a progress line as
    each is done."""
    for name, repo in chosen:
        with forge.calls.scoped(name):
            read = _read(forge, name, repo, config)
        if isinstance(read, AuditedRepository):
            progress.finish(_failed_line(read))
        else:
            progress.finish(_read_line(name, read, forge.calls.counted(name)))
        yield read


@dataclass(frozen=True)
class _Drift:
    """What `--drift` learnt from the registries for the whole audit."""

    lookups: dict[str, Lookup]
    requests: int
    errors: list[str]
    untrusted: dict[str, list[Violation]]


def _check_drift(
    config: Config, scanned: Sequence[ScannedRepository], progress: Progress
) -> _Drift:
    occurrences = [o for s in scanned for o in s.occurrences]
    pinned = sum(1 for o in occurrences if o.reference is not None and o.reference.digest)
    progress.note(f"checking {plural(pinned, 'pinned reference')} with the registries")
    drift = _check_pinned(config, occurrences)
    progress.close()
    return _Drift(
        lookups=drift.lookups,
        requests=drift.requests,
        errors=lookup_problems(drift.lookups) + _unanswered_digests(scanned, drift.lookups),
        untrusted=_untrusted(scanned, drift.held),
    )


def _audit(scanned: ScannedRepository, config: Config, drift: _Drift | None) -> AuditedRepository:
    audited = audit_repository(
        scanned.name,
        scanned.occurrences,
        config.policy,
        drift.lookups if drift else None,
        branch=scanned.snapshot.branch,
        commit=scanned.snapshot.commit,
        url=scanned.repo.html_url,
        files=len(scanned.snapshot.files),
        warnings=scanned.errors,
    )
    return _with_untrusted(audited, drift.untrusted.get(scanned.name, []) if drift else [])


def execute(args: argparse.Namespace, config: Config, credentials: Credentials) -> AuditReport:
    """The whole audit; returns the report (also used by tests).

    Raises `ForgeError` when the organisation cannot be listed. A repository that cannot be
    read is in the report with its failure, and the others are still audited.
    """
    started = time.monotonic()
    # Reads only: no pause between requests, and no writes to pace.
    github, calls = connect(
        credentials, pacing=Pacing(), installation_owner=installation_owner(args)
    )
    cache = response_cache(args)
    forge = GitHubForge(github, calls, cache)
    progress = Progress(quiet=getattr(args, "quiet", False))
    try:
        chosen, skipped = choose_repositories(forge, args)
        progress.total = len(chosen)
        read = list(_read_each(forge, chosen, config, progress))
        if cache is not None:
            cache.prune()
    finally:
        github.close()
        progress.close()
    scanned = [r for r in read if isinstance(r, ScannedRepository)]
    failed = [r for r in read if isinstance(r, AuditedRepository)]
    drift = _check_drift(config, scanned, progress) if args.drift else None
    audited = [_audit(s, config, drift) for s in scanned]
    return AuditReport(
        repositories=sorted([*audited, *failed], key=lambda r: r.repository.lower()),
        skipped=skipped,
        drift=args.drift,
        lookup_errors=drift.errors if drift else [],
        unreadable_files=sum(p.fails for s in scanned for p in s.problems),
        github_calls=calls.counted(),
        registry_requests=drift.requests if drift else 0,
        seconds=time.monotonic() - started,
    )


def _with_untrusted(
    audited: AuditedRepository, untrusted: Sequence[Violation]
) -> AuditedRepository:
    """The repository's violations with its pins that failed their `verify:` entry, in file
    order."""
    if not untrusted:
        return audited
    violations = sorted(
        (*audited.violations, *untrusted),
        key=lambda v: (v.occurrence.file, v.occurrence.line, v.occurrence.column),
    )
    return replace(audited, violations=tuple(violations))


def _unanswered_digests(
    scanned: Sequence[ScannedRepository], lookups: Mapping[str, Lookup]
) -> list[str]:
    """Pinned references with no tag whose digest the registry did not answer for, as
    `owner/name/path:line:column: …` (`lookup_problems` already names the tags that failed)."""
    lines: list[str] = []
    for s in scanned:
        untagged = [o for o in s.occurrences if o.reference is not None and o.reference.tag is None]
        lines.extend(f"{s.name}/{problem}" for problem in unchecked(untagged, lookups))
    return lines


def exit_status(report: AuditReport) -> int:
    """3 when a repository was not read (the audit is incomplete), else 1 on any violation,
    on a file that could not be read or parsed, or on a reference the registries did not
    answer for (with --drift): never a pass on what was not checked."""
    if report.failures:
        return UNREADABLE
    unchecked = report.lookup_errors or report.unreadable_files
    return VIOLATIONS if report.violations or unchecked else 0


def run(args: argparse.Namespace) -> int:
    config = load_config_or_exit(args.config)
    trust_policies_or_exit(config)  # a key that is not one: a configuration error, status 2
    credentials = github_credentials(args, "audit", ORG_FILTERS)
    if credentials is None:
        return USAGE
    try:
        report = execute(args, config, credentials)
    except ForgeError as exc:
        print(f"pinbot audit: {terminal(str(exc))}", file=sys.stderr)
        return UNREADABLE
    except ValueError as exc:  # a GitHub App with no installation to use
        print(f"pinbot audit: {terminal(str(exc))}", file=sys.stderr)
        return USAGE
    sys.stdout.write(RENDERERS[args.format](report))
    if args.format != "text":  # the text report already says all this on stdout
        for failed in report.failures:
            print(f"pinbot audit: could not read {terminal(failed.failure or '')}", file=sys.stderr)
        print(f"pinbot audit: {report.headline()}", file=sys.stderr)
    return exit_status(report)
